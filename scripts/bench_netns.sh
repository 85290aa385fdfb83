#!/usr/bin/env bash
# The namespace part of `npm run bench:compare` (scripts/bench_compare.sh):
# runs bench/compare.ts on each runtime inside a network namespace of its
# own for the scenarios that need one:
#   b-hosts        a name from the namespace's own /etc/hosts
#   d              IPv6 dropped, IPv4 fine
#   e-getaddrinfo  AAAA answered 2 s late, through getaddrinfo
#   f              the first SYN of every connection dropped, 4 addresses
# Needs root, `ip` (iproute2) and `nft` (nftables); without them it prints
# why, writes nothing and exits 0. Set-up mirrors scripts/netns.sh (the test
# phase), with its own addresses and faults.
#
#   bash scripts/bench_netns.sh OUT_DIR     # writes OUT_DIR/<runtime>-netns.json
#
# Environment: NETTRACE_BIN (default node_modules/.bin), NETTRACE_RUNTIMES
# (default "deno bun node"), NETTRACE_BENCH_QUICK=1 (fewer rounds).
#
# The network rule (shared/TESTING.md): every packet stays inside the
# namespace. It has only `lo` (no default route, no other link), so a client
# aiming anywhere else gets ENETUNREACH; its addresses come from the
# documentation/benchmark prefixes 2001:db8::/32 and 198.18.0.0/15; the only
# DNS server is the benchmark's fixture on the namespace's 127.0.0.1:53, with
# no upstream; /etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf are the
# namespace's own (`ip netns exec` bind-mounts /etc/netns/NAME/*), so
# getaddrinfo asks nobody else.
#
#   address             on lo  fault (initial SYNs only)
#   2001:db8:1::1       yes    none
#   198.18.0.1          yes    none
#   2001:db8:1::2       yes    every SYN dropped (a connect hangs; with
#                              tcp_syn_retries=1 it fails after ~3 s)
#   2001:db8:1::3, ::4  yes    first SYN of each (address, source port)
#   198.18.0.3, .4      yes    dropped; the retransmission ~1 s later passes
#
#   hosts file: hosts.bench.test   ::1, 127.0.0.1
#               v6drop.bench.test  2001:db8:1::2, 198.18.0.1
#               slow.bench.test    2001:db8:1::3, 2001:db8:1::4,
#                                  198.18.0.3, 198.18.0.4
#   DNS fixture: e.bench.test      AAAA 2001:db8:1::1 (2 s late), A 198.18.0.1
#
# Everything it creates (namespace, /etc/netns/NAME) is removed on exit,
# also on failure or interrupt.

set -uo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT" || exit 1
export NO_COLOR=1

OUT="${1:?usage: bench_netns.sh OUT_DIR}"
mkdir -p "$OUT"
BIN="${NETTRACE_BIN:-$BIN}"
NS="nettrace-bench-$$"
SCENARIOS="${NETTRACE_BENCH_NETNS_SCENARIOS:-b-hosts,d,e-getaddrinfo,f}"
HOSTS="127.0.0.1,::1,198.18.0.1,2001:db8:1::1,198.18.0.3,198.18.0.4,2001:db8:1::3,2001:db8:1::4"

runtimes=()
for word in ${NETTRACE_RUNTIMES:-deno bun node}; do
  case "$word" in deno | bun | node) runtimes+=("$word") ;; esac
done

skip() {
  echo "bench netns: skipped: $1"
  echo "$1" >"$OUT/netns-skipped.txt"
  exit 0
}
fail() {
  echo "bench netns: set-up failed: $1" >&2
  echo "set-up failed: $1" >"$OUT/netns-skipped.txt"
  exit 1
}

if [[ "$(id -u)" != 0 ]]; then
  skip "needs root for a network namespace (scenarios b-hosts, d, e-getaddrinfo, f)"
fi
if declare -F ensure_netns_tools >/dev/null; then ensure_netns_tools; fi
for tool in ip nft timeout; do
  command -v "$tool" >/dev/null 2>&1 || skip "'$tool' not found (iproute2, nftables)"
done

ETC_NETNS_CREATED=0
[[ -d /etc/netns ]] || ETC_NETNS_CREATED=1
NS_CREATED=0
cleanup() {
  local pid
  if ((NS_CREATED)); then
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    wait 2>/dev/null
    ip netns delete "$NS" 2>/dev/null || echo "bench netns: could not delete $NS" >&2
  fi
  rm -rf "/etc/netns/$NS"
  if ((ETC_NETNS_CREATED)); then rmdir /etc/netns 2>/dev/null; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Namespaces left by a run that was killed outright (its PID is gone).
while read -r old _; do
  if [[ "$old" =~ ^nettrace-bench-([0-9]+)$ ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
    for pid in $(ip netns pids "$old" 2>/dev/null); do kill "$pid" 2>/dev/null; done
    ip netns delete "$old" 2>/dev/null && echo "bench netns: removed stale namespace $old"
    rm -rf "/etc/netns/$old"
  fi
done < <(ip netns list 2>/dev/null)

err="$(ip netns add "$NS" 2>&1)" || skip "cannot create a network namespace: $err"
NS_CREATED=1
in_ns() { ip netns exec "$NS" "$@"; }
if ! err="$(in_ns nft add table inet nettrace_probe 2>&1)"; then
  skip "nftables does not work in a namespace here: $err"
fi
in_ns nft delete table inet nettrace_probe

ip -n "$NS" link set lo up || fail "lo up"
for a in 2001:db8:1::1 2001:db8:1::2 2001:db8:1::3 2001:db8:1::4; do
  ip -n "$NS" -6 addr add "$a/128" dev lo nodad || fail "address $a"
done
for a in 198.18.0.1 198.18.0.3 198.18.0.4; do
  ip -n "$NS" -4 addr add "$a/32" dev lo || fail "address $a"
done
in_ns sysctl -qw net.ipv4.tcp_syn_retries=1 || fail "sysctl tcp_syn_retries"

# Only initial SYNs (SYN without ACK) are matched. The "seen" sets remember
# (address, source port) for 5 s: the first SYN is dropped, the
# retransmission from the same port ~1 s later passes.
in_ns nft -f - <<'EOF' || fail "loading the nftables ruleset"
table inet nettrace_bench {
  set slow4 {
    type ipv4_addr
    elements = { 198.18.0.3, 198.18.0.4 }
  }
  set slow6 {
    type ipv6_addr
    elements = { 2001:db8:1::3, 2001:db8:1::4 }
  }
  set seen4 {
    type ipv4_addr . inet_service . inet_service
    flags dynamic, timeout
    timeout 5s
  }
  set seen6 {
    type ipv6_addr . inet_service . inet_service
    flags dynamic, timeout
    timeout 5s
  }
  chain output {
    type filter hook output priority filter; policy accept;
    tcp flags & (syn | ack) == syn jump faults
  }
  chain faults {
    ip6 daddr 2001:db8:1::2 drop
    ip daddr @slow4 ip daddr . tcp dport . tcp sport @seen4 accept
    ip daddr @slow4 add @seen4 { ip daddr . tcp dport . tcp sport } drop
    ip6 daddr @slow6 ip6 daddr . tcp dport . tcp sport @seen6 accept
    ip6 daddr @slow6 add @seen6 { ip6 daddr . tcp dport . tcp sport } drop
  }
}
EOF

links="$(ip -n "$NS" -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
[[ "$links" == "lo " ]] || fail "the namespace has links other than lo: $links"
if [[ -n "$(ip -n "$NS" -4 route show default)$(ip -n "$NS" -6 route show default)" ]]; then
  fail "the namespace has a default route"
fi

mkdir -p "/etc/netns/$NS" || fail "mkdir /etc/netns/$NS"
cat >"/etc/netns/$NS/resolv.conf" <<'EOF'
# nettrace benchmark namespace: only the benchmark's DNS fixture
nameserver 127.0.0.1
options timeout:5 attempts:1
EOF
cat >"/etc/netns/$NS/hosts" <<'EOF'
127.0.0.1 localhost
::1 localhost
::1 hosts.bench.test
127.0.0.1 hosts.bench.test
2001:db8:1::2 v6drop.bench.test
198.18.0.1 v6drop.bench.test
2001:db8:1::3 slow.bench.test
2001:db8:1::4 slow.bench.test
198.18.0.3 slow.bench.test
198.18.0.4 slow.bench.test
EOF
cat >"/etc/netns/$NS/nsswitch.conf" <<'EOF'
passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
EOF

echo "bench netns: namespace $NS ready (lo only, no default route)"
status=0
for rt in "${runtimes[@]}"; do
  case "$rt" in
    deno) cmd=("$BIN/deno" run -A --v8-flags=--expose-gc bench/compare.ts) ;;
    bun) cmd=("$BIN/bun" bench/compare.ts) ;;
    node) cmd=("$BIN/node" --expose-gc bench/compare.ts) ;;
  esac
  echo "── bench netns $rt: ${cmd[*]} --scenarios $SCENARIOS"
  # In the background, so a signal to this script is handled at once.
  in_ns env NETTRACE_BENCH_HOSTS="$HOSTS" NO_COLOR=1 \
    timeout --kill-after=10 300 "${cmd[@]}" --scenarios "$SCENARIOS" \
    --out "$OUT/$rt-netns.json" </dev/null &
  wait "$!" || {
    echo "bench netns: $rt failed" >&2
    status=1
  }
done
exit "$status"
