#!/usr/bin/env bash
# `npm run bench:compare`: the cross-runtime comparison. Runs bench/compare.ts
# on Deno, Bun and Node (the pinned binaries in node_modules/.bin; installed
# first on a fresh clone), then writes bench/results.json and
# bench/results.md and puts the tables into docs/benchmarks.md (between the
# "bench:results" markers).
#
#   bash scripts/bench_compare.sh
#   NETTRACE_RUNTIMES="deno node" bash scripts/bench_compare.sh
#   NETTRACE_BENCH_QUICK=1 bash scripts/bench_compare.sh   # a quick check of
#                                 the driver; writes to a temp dir only
#
# Per runtime, each in its own process:
#   scenarios a, cycle, b-localhost, c, e-fixture, tls, undici, undici-https,
#             hev3-hints, hev3-overhead,
#             scheduler, singleflight
#   --mem native, --mem nettrace    10,000 dials in flight at once (5 each)
#   --leak native, --leak nettrace  100,000 sequential dials, then GC
# and, as root, scripts/bench_netns.sh inside a network namespace
# (b-hosts, d, e-getaddrinfo, f); otherwise those are listed as skipped.
# About 5 minutes in all. Not part of CI (benchmarks are not tests).

set -uo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT" || exit 1
export NO_COLOR=1

case "$("$BIN/node" --version 2>/dev/null || true)" in
  v24.*) ;;
  *) ensure_deps || exit 1 ;;
esac
for tool in deno bun node; do
  [[ -x "$BIN/$tool" ]] || { ensure_deps || exit 1; }
done

runtimes=()
for word in ${NETTRACE_RUNTIMES:-deno bun node}; do
  case "$word" in deno | bun | node) runtimes+=("$word") ;; esac
done
((${#runtimes[@]} > 0)) || runtimes=(deno bun node)

# 10,000 connections at once need as many descriptors (the listener is
# another process).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 10100)); then
  echo "bench: ulimit -n is $(ulimit -n); the 10,000-dial run needs ~10,100" >&2
fi

OUT="$(mktemp -d /tmp/nettrace-bench.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT
started=$SECONDS
failed=0

run() { # run RUNTIME OUT_FILE ARGS...
  local rt="$1" out="$2"
  shift 2
  local cmd
  case "$rt" in
    deno) cmd=("$BIN/deno" run -A --v8-flags=--expose-gc bench/compare.ts) ;;
    bun) cmd=("$BIN/bun" bench/compare.ts) ;;
    node) cmd=("$BIN/node" --expose-gc bench/compare.ts) ;;
  esac
  echo "── $rt: ${cmd[*]} $*"
  if ! timeout --kill-after=10 600 "${cmd[@]}" "$@" --out "$OUT/$out" </dev/null; then
    echo "bench: FAILED: $rt $*" >&2
    failed=$((failed + 1))
  fi
}

for rt in "${runtimes[@]}"; do
  run "$rt" "$rt-scenarios.json" --scenarios a,cycle,b-localhost,c,e-fixture,tls,undici,undici-https,hev3-hints,hev3-overhead,scheduler,singleflight
  # RSS growth is noisy (page granularity, allocator, GC heuristics): five
  # runs of each, alternating, and the report takes the median.
  for i in 1 2 3 4 5; do
    for variant in native nettrace; do
      run "$rt" "$rt-mem-$variant-$i.json" --mem "$variant"
    done
  done
  for variant in native nettrace; do
    run "$rt" "$rt-leak-$variant.json" --leak "$variant"
  done
done

NETTRACE_RUNTIMES="${runtimes[*]}" bash scripts/bench_netns.sh "$OUT" || failed=$((failed + 1))

echo "── report ($((SECONDS - started)) s so far)"
if [[ "${NETTRACE_BENCH_QUICK:-}" == 1 ]]; then
  dest="$OUT/report"
  mkdir -p "$dest"
  echo "bench: quick run: results go to $dest, not bench/ (and are then removed)"
else
  dest="bench"
fi
"$BIN/node" bench/_report.ts "$OUT" "$dest" || failed=$((failed + 1))
if [[ "$dest" == bench ]]; then
  "$BIN/deno" fmt --quiet bench/results.md bench/results.json docs/benchmarks.md || failed=$((failed + 1))
else
  cat "$dest/results.md"
fi
echo "bench: done in $((SECONDS - started)) s$( ((failed)) && echo ", $failed step(s) FAILED")"
((failed == 0))
