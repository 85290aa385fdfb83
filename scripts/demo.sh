#!/usr/bin/env bash
# `npm run demo`, `bun run demo` (package.json "demo") and `deno task demo`
# (deno.json "demo"). Arguments pass through: npm run demo -- --json.
#
# The runtime is picked by who invoked this, from npm_config_user_agent:
# - "bun/…": Bun runs package.json scripts too; npm_execpath is that Bun's
#   own binary, so demo.ts runs under it.
# - "deno/…": deno task. The task cannot say `deno run demo.ts` itself: with
#   node_modules/.bin/deno present (the pinned npm package), deno task
#   resolves `deno` to that file and tries to run the binary as JavaScript.
#   So the pinned node_modules/.bin/deno is used when present, else `deno`
#   from PATH (a fresh clone with a global Deno).
# - anything else (npm, pnpm, yarn, by hand): the pinned Node 24 in
#   node_modules/.bin, never the system `node`, which may be too old to run
#   .ts files. On a fresh clone it is installed first (npm install).
set -euo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT"

case "${npm_config_user_agent:-}" in
  bun/*)
    exec "${npm_execpath:-bun}" demo.ts "$@"
    ;;
  deno/*)
    if [[ -x "$BIN/deno" ]]; then exec "$BIN/deno" run -A demo.ts "$@"; fi
    exec deno run -A demo.ts "$@"
    ;;
esac

case "$("$BIN/node" --version 2>/dev/null || true)" in
  v24.*) ;;
  *) ensure_deps ;;
esac
exec "$BIN/node" demo.ts "$@"
