#!/usr/bin/env bash
# `npm run bench` / `deno task bench`: `deno bench` over bench/*_bench.ts
# (nettrace's dial against Deno.connect on loopback, the scheduler, the
# singleflight), with the pinned Deno from node_modules/.bin (installed
# first on a fresh clone), else `deno` from PATH. Arguments pass through:
#   npm run bench -- --filter scheduler
# The cross-runtime comparison is `npm run bench:compare`.
#
# A task cannot call `deno bench` itself: with node_modules/.bin/deno present
# (the pinned npm package), `deno task` resolves `deno` to that file and
# tries to run the binary as JavaScript (see scripts/demo.sh).
set -euo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT"

if [[ ! -x "$BIN/deno" ]] && ! command -v deno >/dev/null 2>&1; then
  ensure_deps
fi
DENO="$BIN/deno"
[[ -x "$DENO" ]] || DENO="$(command -v deno)"
exec "$DENO" bench -A "$@" bench/
