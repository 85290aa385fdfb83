#!/usr/bin/env bash
# The namespace phase of scripts/test.sh: runs tests/netns/netns_test.ts,
# tests/netns/fault_matrix_test.ts and tests/netns/fetch_netns_test.ts (one
# invocation) on each runtime inside a
# network namespace of its own, with a DNS zone served by dnsmasq and
# connect faults made by nftables and routes; then the Go differential check
# tests/netns/go_diff_test.ts (one more invocation per runtime), which runs
# Go's own net.Dialer (tests/netns/go/trace.go, built here with Debian's
# golang-go) beside the runtime's dial and compares hooks and error texts.
# Without `go` the Go check is skipped with its reason (one skipped test per
# runtime); `go` is installed by ensure_go_tool (scripts/_deps.sh) only as
# root with CI=true or NETTRACE_APT=1. Needs root, `ip` (iproute2),
# `nft` (nftables) and `dnsmasq` (dnsmasq-base); without them it prints why
# and "netns: 0 passed, 0 failed, N skipped" and exits 0.
#
#   bash scripts/netns.sh                       # deno, bun and node
#   NETTRACE_RUNTIMES="node" bash scripts/netns.sh
#
# Environment: NETTRACE_BIN (default node_modules/.bin), NETTRACE_RUNTIMES
# (the runtimes among its words; words other than deno/bun/node, such as
# test.sh's "netns", are ignored; none at all means all three, so
# `NETTRACE_RUNTIMES=netns npm test` runs only this phase, on every runtime),
# NETTRACE_NETNS_TIMEOUT (seconds per runtime, default 120; the same again
# for the Go check), NETTRACE_GO (the go command, default `go`).
#
# The network rule (shared/TESTING.md): every packet stays inside the
# namespace. It has only `lo` (no default route, no other link), so a client
# that aims anywhere else gets ENETUNREACH; the test addresses come from the
# documentation/benchmark prefixes 2001:db8::/32 and 198.18.0.0/15; dnsmasq
# has no upstream (--no-resolv) and answers only the `.test` zone; inside the
# namespace /etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf are replaced
# (`ip netns exec` bind-mounts /etc/netns/NAME/*), so getaddrinfo asks only
# that dnsmasq and never an NSS module that talks to the host (nss-resolve).
#
# The zone (tests/netns/netns_test.ts has the same table; its first test
# checks that the two agree):
#   address             on lo  fault (initial SYN only, by destination)
#   2001:db8:1::1       yes    none            198.18.0.1
#   2001:db8:1::2,5,6,7 yes    drop (hangs)    198.18.0.2,5,6,7
#   2001:db8:1::3       yes    first SYN of each source port dropped (~1 s)
#                                              198.18.0.3
#   2001:db8:1::4       yes    tcp reset       198.18.0.4
#   2001:db8:1::8       yes    none            198.18.0.8 (hosts file only)
#   2001:db8:ff::1      no     route unreachable  198.18.255.1
#   2001:db8:ff::2      no     route prohibit     198.18.255.2
#   2001:db8:ff::3      no     route blackhole    198.18.255.3
#   2001:db8:ff::9      no     no route at all    198.18.255.9
#                                              198.18.0.9 (on lo): UDP to
#                                              port 53 dropped, a DNS server
#                                              that never answers
# history.test (IPv6 dropped, IPv4 fine, as v6drop.test) is for the
# connection-history tests only; svc.test (as dual.test) also has an HTTPS
# record with alpn, port and both hints, for the resolvers' lookupService. The fault matrix
# (tests/netns/fault_matrix_test.ts, run with it) has m-<v6>-<v4>.test for
# every pair of the faults ok, refused, hang, unreachable, prohibited and
# slow (the addresses above), and m-empty6.test / m-empty4.test (one family
# only); nx.test does not exist. For the Go check: nodata.test exists with a
# TXT record only (NODATA for A and AAAA), and dnsmasq forwards
# slowdns.test to 198.18.0.9, which never answers (a lookup that hangs).
# tcp_syn_retries=1 in the namespace: a dropped connect fails after ~3 s.
#
# Output: the runtimes' own output, one line per runtime
# "netns <runtime>: N passed, N failed, N skipped (Ts)", and last
# "netns: N passed, N failed, N skipped". Exit status 1 when anything failed.
# Everything it creates (namespace, /etc/netns/NAME, dnsmasq, temp dir) is
# removed on exit, also on failure or interrupt.

set -uo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT" || exit 1
export NO_COLOR=1

BIN="${NETTRACE_BIN:-$BIN}"
TEST_FILE="tests/netns/netns_test.ts"
# Run with it, in the same invocation: the fault matrix.
MATRIX_FILE="tests/netns/fault_matrix_test.ts"
# And createFetch() with IPv6 blackholed, beside the runtime's own fetch.
FETCH_FILE="tests/netns/fetch_netns_test.ts"
# The Go differential check, in an invocation of its own, and its reference.
GO_DIFF_FILE="tests/netns/go_diff_test.ts"
GO_TRACE_SRC="tests/netns/go/trace.go"
PER_RUNTIME_TIMEOUT="${NETTRACE_NETNS_TIMEOUT:-120}"
NS="nettrace-$$"
DNS_ADDR="127.0.0.1"
DNS_PORT=53

runtimes=()
for word in ${NETTRACE_RUNTIMES:-deno bun node}; do
  case "$word" in deno | bun | node) runtimes+=("$word") ;; esac
done
# Only "netns" (NETTRACE_RUNTIMES=netns npm test): the phase on all three.
if ((${#runtimes[@]} == 0)); then runtimes=(deno bun node); fi

# skip REASON: the phase cannot run here (one skipped test per runtime and
# file, like each test file registers when it is run outside a namespace).
skip() {
  echo "netns: skipped: $1"
  # Per runtime: the suite's two files and the Go check.
  echo "netns: 0 passed, 0 failed, $((${#runtimes[@]} * 3)) skipped"
  exit 0
}

# fail REASON: the set-up broke although the tools are there.
fail() {
  echo "netns: set-up failed: $1" >&2
  echo "netns: 0 passed, 1 failed"
  exit 1
}

# ── can it run here? ────────────────────────────────────────────────────────
if [[ "$(id -u)" != 0 ]]; then
  skip "needs root for network namespaces (CI runs as root)"
fi
if declare -F ensure_netns_tools >/dev/null; then
  ensure_netns_tools # installs nftables/dnsmasq-base when missing (root only)
fi
for tool in ip nft dnsmasq timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    case "$tool" in
      ip) pkg=iproute2 ;;
      nft) pkg=nftables ;;
      dnsmasq) pkg=dnsmasq-base ;;
      *) pkg=coreutils ;;
    esac
    skip "'$tool' not found (apt-get install $pkg)"
  fi
done
for rt in "${runtimes[@]}"; do
  [[ -x "$BIN/$rt" ]] || fail "$BIN/$rt missing (run npm install)"
done
[[ -f "$TEST_FILE" ]] || fail "$TEST_FILE missing"
[[ -f "$MATRIX_FILE" ]] || fail "$MATRIX_FILE missing"
[[ -f "$FETCH_FILE" ]] || fail "$FETCH_FILE missing"
[[ -f "$GO_DIFF_FILE" ]] || fail "$GO_DIFF_FILE missing"
[[ -f "$GO_TRACE_SRC" ]] || fail "$GO_TRACE_SRC missing"

# ── teardown (always) ───────────────────────────────────────────────────────
TMP="$(mktemp -d /tmp/nettrace-netns.XXXXXX)"
DNSMASQ_PID=""
NS_CREATED=0
ETC_NETNS_CREATED=0
[[ -d /etc/netns ]] || ETC_NETNS_CREATED=1

cleanup() {
  local pid
  if ((NS_CREATED)); then
    # Whatever still runs inside our namespace is ours: dnsmasq, and a
    # runtime when a signal cut the run short.
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  fi
  if [[ -n "$DNSMASQ_PID" ]]; then
    kill "$DNSMASQ_PID" 2>/dev/null
    wait "$DNSMASQ_PID" 2>/dev/null
  fi
  wait 2>/dev/null # the runtime's pipeline, if it was cut short
  if ((NS_CREATED)); then
    ip netns delete "$NS" 2>/dev/null || echo "netns: could not delete namespace $NS" >&2
  fi
  rm -rf "/etc/netns/$NS"
  if ((ETC_NETNS_CREATED)); then rmdir /etc/netns 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ── the namespace ───────────────────────────────────────────────────────────
# What a run killed outright (SIGKILL) left behind — its namespace
# nettrace-PID with PID gone, and the dnsmasq still running inside it — is
# removed first; nothing else is touched.
while read -r old _; do
  if [[ "$old" =~ ^nettrace-([0-9]+)$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
    for pid in $(ip netns pids "$old" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    ip netns delete "$old" 2>/dev/null && echo "netns: removed stale namespace $old"
    rm -rf "/etc/netns/$old"
  fi
done < <(ip netns list 2>/dev/null)

if ! err="$(ip netns add "$NS" 2>&1)"; then
  skip "cannot create a network namespace: $err"
fi
NS_CREATED=1

in_ns() { ip netns exec "$NS" "$@"; }

# A trivial table first: a kernel without nf_tables is a reason to skip, a
# ruleset of ours that fails to load is a bug.
if ! err="$(ip netns exec "$NS" nft add table inet nettrace_probe 2>&1)"; then
  skip "nftables does not work in a namespace here: $err"
fi
in_ns nft delete table inet nettrace_probe

ip -n "$NS" link set lo up || fail "lo up"

V6_ON_LO=(2001:db8:1::1 2001:db8:1::2 2001:db8:1::3 2001:db8:1::4
  2001:db8:1::5 2001:db8:1::6 2001:db8:1::7 2001:db8:1::8)
V4_ON_LO=(198.18.0.1 198.18.0.2 198.18.0.3 198.18.0.4
  198.18.0.5 198.18.0.6 198.18.0.7 198.18.0.8 198.18.0.9)
for a in "${V6_ON_LO[@]}"; do
  ip -n "$NS" -6 addr add "$a/128" dev lo nodad || fail "address $a"
done
for a in "${V4_ON_LO[@]}"; do
  ip -n "$NS" -4 addr add "$a/32" dev lo || fail "address $a"
done
for kind in unreachable:1 prohibit:2 blackhole:3; do
  ip -n "$NS" -6 route add "${kind%%:*}" "2001:db8:ff::${kind##*:}/128" ||
    fail "route ${kind%%:*} v6"
  ip -n "$NS" -4 route add "${kind%%:*}" "198.18.255.${kind##*:}/32" ||
    fail "route ${kind%%:*} v4"
done
# 2001:db8:ff::9 and 198.18.255.9 have no route at all.

in_ns sysctl -qw net.ipv4.tcp_syn_retries=1 || fail "sysctl tcp_syn_retries"

# Only the initial SYN (SYN without ACK) of a connect is matched, so
# listeners' SYN-ACKs and established traffic pass. The "slow" sets remember
# (destination, destination port, source port) for 10 s: the first SYN is
# dropped, the retransmission ~1 s later (same ports) passes. The
# destination port is part of the key because Linux reuses a source port
# for another destination port, which must count as a new connection.
in_ns nft -f - <<'EOF' || fail "loading the nftables ruleset"
table inet nettrace {
  set drop4 {
    type ipv4_addr
    elements = { 198.18.0.2, 198.18.0.5, 198.18.0.6, 198.18.0.7 }
  }
  set drop6 {
    type ipv6_addr
    elements = { 2001:db8:1::2, 2001:db8:1::5, 2001:db8:1::6, 2001:db8:1::7 }
  }
  set seen4 {
    type ipv4_addr . inet_service . inet_service
    flags dynamic, timeout
    timeout 10s
  }
  set seen6 {
    type ipv6_addr . inet_service . inet_service
    flags dynamic, timeout
    timeout 10s
  }
  chain output {
    type filter hook output priority filter; policy accept;
    tcp flags & (syn | ack) == syn jump faults
  }
  # A DNS server that never answers: dropped on input, so the sender's
  # sendto() succeeds (a drop on output fails it with EPERM, and dnsmasq
  # answers REFUSED at once).
  chain input {
    type filter hook input priority filter; policy accept;
    ip daddr 198.18.0.9 udp dport 53 drop
  }
  chain faults {
    ip daddr @drop4 drop
    ip6 daddr @drop6 drop
    ip daddr 198.18.0.4 reject with tcp reset
    ip6 daddr 2001:db8:1::4 reject with tcp reset
    ip daddr 198.18.0.3 ip daddr . tcp dport . tcp sport @seen4 accept
    ip daddr 198.18.0.3 add @seen4 { ip daddr . tcp dport . tcp sport } drop
    ip6 daddr 2001:db8:1::3 ip6 daddr . tcp dport . tcp sport @seen6 accept
    ip6 daddr 2001:db8:1::3 add @seen6 { ip6 daddr . tcp dport . tcp sport } drop
  }
}
EOF

# Nothing may leave: only lo, and no default route in either family.
links="$(ip -n "$NS" -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
[[ "$links" == "lo " ]] || fail "the namespace has links other than lo: $links"
if [[ -n "$(ip -n "$NS" -4 route show default)$(ip -n "$NS" -6 route show default)" ]]; then
  fail "the namespace has a default route"
fi

# ── files seen inside the namespace, and the DNS zone ───────────────────────
mkdir -p "/etc/netns/$NS" || fail "mkdir /etc/netns/$NS"
cat >"/etc/netns/$NS/resolv.conf" <<EOF
# nettrace netns test: only the namespace's own dnsmasq
nameserver $DNS_ADDR
options timeout:1 attempts:2
EOF
cat >"/etc/netns/$NS/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost
2001:db8:1::8 hosts.test
198.18.0.8 hosts.test
EOF
cat >"/etc/netns/$NS/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
ethers: files
rpc: files
EOF

zone=(
  dual.test 2001:db8:1::1 198.18.0.1
  v6only.test 2001:db8:1::1
  v4only.test 198.18.0.1
  v6drop.test 2001:db8:1::2 198.18.0.1
  slow.test 2001:db8:1::3 198.18.0.3
  v6reset.test 2001:db8:1::4 198.18.0.1
  unreachable.test 2001:db8:ff::1 198.18.0.1
  prohibit.test 2001:db8:ff::2 198.18.0.1
  allfail.test 2001:db8:1::4 2001:db8:ff::1 2001:db8:ff::2 2001:db8:ff::3
  allfail.test 2001:db8:ff::9 198.18.0.4 198.18.255.1 198.18.255.2
  allfail.test 198.18.255.3 198.18.255.9
  many.test 2001:db8:1::2 2001:db8:1::5 2001:db8:1::6 2001:db8:1::7
  many.test 198.18.0.2 198.18.0.5 198.18.0.6 198.18.0.7
  history.test 2001:db8:1::2 198.18.0.1
  svc.test 2001:db8:1::1 198.18.0.1
)
# The fault matrix (tests/netns/fault_matrix_test.ts has the same table):
# m-<v6 fault>-<v4 fault>.test for every pair, and one family empty.
faults=(
  ok:2001:db8:1::1:198.18.0.1
  refused:2001:db8:1::4:198.18.0.4
  hang:2001:db8:1::2:198.18.0.2
  unreachable:2001:db8:ff::1:198.18.255.1
  prohibited:2001:db8:ff::2:198.18.255.2
  slow:2001:db8:1::3:198.18.0.3
)
for f6 in "${faults[@]}"; do
  for f4 in "${faults[@]}"; do
    rest6="${f6#*:}"
    zone+=("m-${f6%%:*}-${f4%%:*}.test" "${rest6%:*}" "${f4##*:}")
  done
done
zone+=(m-empty6.test 198.18.0.1 m-empty4.test 2001:db8:1::1)
records=()
name=""
for word in "${zone[@]}"; do
  if [[ "$word" == *.test ]]; then name="$word"; else records+=("--host-record=$name,$word"); fi
done
# svc.test also has an HTTPS record (RFC 9460 wire form), for the service
# lookups of the resolvers: HTTPS 1 . alpn=h2 port=8443
# ipv4hint=198.18.0.1 ipv6hint=2001:db8:1::1
records+=("--dns-rr=svc.test,65,0001 00 0001 0003 02 6832 0003 0002 20fb 0004 0004 c6120001 0006 0010 20010db8000100000000000000000001")

DNSMASQ_LOG="$TMP/dnsmasq.log"
ip netns exec "$NS" dnsmasq --keep-in-foreground --conf-file=/dev/null \
  --no-resolv --no-hosts --no-poll --local=/test/ --local-ttl=30 \
  --listen-address="$DNS_ADDR" --bind-interfaces --port="$DNS_PORT" \
  --pid-file= --log-queries --log-facility=- "${records[@]}" \
  --txt-record=nodata.test,nodata --server=/slowdns.test/198.18.0.9 \
  </dev/null >"$DNSMASQ_LOG" 2>&1 &
DNSMASQ_PID=$!
ready=0
for _ in $(seq 100); do
  if ! kill -0 "$DNSMASQ_PID" 2>/dev/null; then break; fi
  if [[ -n "$(in_ns ss -Hlun "sport = :$DNS_PORT" 2>/dev/null)" ]]; then
    ready=1
    break
  fi
  sleep 0.05
done
if ((!ready)); then
  cat "$DNSMASQ_LOG" >&2
  fail "dnsmasq did not start"
fi

echo "netns: namespace $NS ready (lo only, no default route; dnsmasq on $DNS_ADDR:$DNS_PORT)"

# ── run the suite on each runtime ───────────────────────────────────────────
strip_ansi() { sed -E $'s/\x1b\\[[0-9;?]*[A-Za-z]//g; s/\r//g'; }
# last_num REGEX FILE: the first group of REGEX on its last matching line, or 0.
last_num() {
  local n
  n="$(sed -nE "s/$1/\\1/p" "$2" | tail -n 1)"
  echo "${n:-0}"
}

total_p=0
total_f=0
total_s=0
lines=()

# run_suite RUNTIME LABEL ENV... -- FILES...: one invocation of RUNTIME's test
# runner on FILES inside the namespace (ENV: extra VAR=value words), its
# counts added to the totals and a line "LABEL: N passed, …" kept.
run_suite() {
  local rt="$1" label="$2"
  shift 2
  local envs=()
  while [[ "$1" != "--" ]]; do
    envs+=("$1")
    shift
  done
  shift
  local files=("$@") cmd=() f
  case "$rt" in
    deno) cmd=("$BIN/deno" test -A "${files[@]}") ;;
    bun)
      cmd=("$BIN/bun" test)
      for f in "${files[@]}"; do cmd+=("./$f"); done
      ;;
    node) cmd=("$BIN/node" --test --test-concurrency=1 --test-reporter=spec
      "${files[@]}") ;;
  esac
  local log
  log="$TMP/$rt.$((++RUN_COUNT)).log"
  echo
  echo "────── $label: ip netns exec $NS ${cmd[*]} ──────"
  local start=$SECONDS rc
  # In the background, so that a signal to this script is handled at once
  # (bash runs traps only between foreground commands); the subshell's
  # status is the runtime's (pipefail; tee succeeds).
  (
    ip netns exec "$NS" env NETTRACE_NETNS="$NS" \
      NETTRACE_NETNS_DNS="$DNS_ADDR:$DNS_PORT" NO_COLOR=1 "${envs[@]}" \
      timeout --kill-after=10 "$PER_RUNTIME_TIMEOUT" "${cmd[@]}" \
      </dev/null 2>&1 | tee "$log.raw"
  ) &
  wait "$!"
  rc=$?
  strip_ansi <"$log.raw" >"$log"
  local p="" f="" s="" have=0 line
  case "$rt" in
    deno)
      line="$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)"
      if [[ -n "$line" ]]; then
        have=1
        p="$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$line")"
        f="$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$line")"
        s="$(sed -nE 's/.*\| ([0-9]+) ignored.*/\1/p' <<<"$line")"
      fi
      ;;
    bun)
      p="$(last_num '^ *([0-9]+) pass$' "$log")"
      f="$(last_num '^ *([0-9]+) fail$' "$log")"
      s=$(($(last_num '^ *([0-9]+) skip$' "$log") + $(last_num '^ *([0-9]+) todo$' "$log")))
      grep -qE "^ *[0-9]+ (pass|fail)\$" "$log" && have=1
      ;;
    node)
      p="$(last_num '^ℹ pass ([0-9]+)$' "$log")"
      f=$(($(last_num '^ℹ fail ([0-9]+)$' "$log") + $(last_num '^ℹ cancelled ([0-9]+)$' "$log")))
      s=$(($(last_num '^ℹ skipped ([0-9]+)$' "$log") + $(last_num '^ℹ todo ([0-9]+)$' "$log")))
      grep -qE "^ℹ pass [0-9]+\$" "$log" && have=1
      ;;
  esac
  p="${p:-0}" f="${f:-0}" s="${s:-0}"
  local note=""
  if ((rc == 124 || rc == 137)); then
    note=" (timed out after ${PER_RUNTIME_TIMEOUT}s)"
    ((f < 1)) && f=1
  elif ((!have)); then
    note=" (no summary printed; exit status $rc)"
    ((f < 1)) && f=1
  elif ((rc != 0 && f == 0)); then
    note=" (exit status $rc with no failed test reported)"
    f=1
  fi
  total_p=$((total_p + p))
  total_f=$((total_f + f))
  total_s=$((total_s + s))
  lines+=("$label: $p passed, $f failed, $s skipped ($((SECONDS - start))s)$note")
}
RUN_COUNT=0

for rt in "${runtimes[@]}"; do
  run_suite "$rt" "netns $rt" -- "$TEST_FILE" "$MATRIX_FILE" "$FETCH_FILE"
done

# ── the Go differential check ───────────────────────────────────────────────
# Go's reference program, built once (standard library only, nothing
# fetched: GOPROXY=off, caches in the temp dir; CGO_ENABLED=0, so Go uses
# its own resolver, the one the check compares with).
go_skip=""
if declare -F ensure_go_tool >/dev/null; then
  ensure_go_tool # installs golang-go as root when CI=true or NETTRACE_APT=1
fi
GO="${NETTRACE_GO:-go}"
if ! command -v "$GO" >/dev/null 2>&1; then
  go_skip="'$GO' not found (apt-get install golang-go; as root, CI=true or NETTRACE_APT=1 installs it)"
else
  mkdir -p "$TMP/go"
  if ! env GOCACHE="$TMP/go/cache" GOPATH="$TMP/go/path" GOPROXY=off \
    GOFLAGS= GO111MODULE=on CGO_ENABLED=0 GOTOOLCHAIN=local \
    "$GO" build -o "$TMP/go/trace" "$GO_TRACE_SRC" </dev/null >"$TMP/go/build.log" 2>&1; then
    cat "$TMP/go/build.log" >&2
    fail "go build $GO_TRACE_SRC"
  fi
fi
if [[ -n "$go_skip" ]]; then
  echo
  echo "netns go-diff: skipped: $go_skip"
  total_s=$((total_s + ${#runtimes[@]}))
  lines+=("netns go-diff: 0 passed, 0 failed, ${#runtimes[@]} skipped ($go_skip)")
else
  echo
  echo "netns go-diff: $("$GO" version)"
  for rt in "${runtimes[@]}"; do
    run_suite "$rt" "netns go-diff $rt" NETTRACE_GO_TRACE="$TMP/go/trace" \
      GODEBUG=netdns=go -- "$GO_DIFF_FILE"
  done
fi

if ((total_f > 0)); then
  echo
  echo "── dnsmasq log ──"
  tail -n 40 "$DNSMASQ_LOG"
fi
echo
for line in "${lines[@]}"; do echo "$line"; done
summary="netns: $total_p passed, $total_f failed"
((total_s > 0)) && summary+=", $total_s skipped"
echo "$summary"
((total_f > 0)) && exit 1
exit 0
