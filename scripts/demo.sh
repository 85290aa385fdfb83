#!/usr/bin/env bash
# `npm run demo`, `bun run demo` (package.json "demo") and `deno task demo`
# (deno.json "demo"). Arguments pass through: npm run demo -- --tls.
# For JSON alone on stdout with npm: npm run -s demo -- --json (npm prints
# its "> demo" banner on stdout unless -s; deno task and bun run print
# theirs on stderr).
#
# The runtime is the one that runs this script: the nearest ancestor
# process that is deno (deno task), bun (bun run) or npm/node (npm run,
# pnpm, yarn). Not npm_config_user_agent: `npx deno task demo` and
# `npx bun run demo` inherit npx's "npm/…" agent, and read that way both
# ran on Node.
# - deno: that deno's own binary when it can be told (/proc/PID/exe),
#   else the pinned node_modules/.bin/deno, else `deno` from PATH. (The
#   task cannot say `deno run demo.ts` itself: with node_modules/.bin/deno
#   present, deno task resolves `deno` to that file and tries to run the
#   binary as JavaScript.)
# - bun: likewise that bun's binary, node_modules/.bin/bun, or `bun`.
# - anything else (npm, pnpm, yarn, by hand): the pinned Node 24 in
#   node_modules/.bin, never the system `node`, which may be too old to run
#   .ts files. On a fresh clone it is installed first (npm install).
# NETTRACE_DEMO_RUNTIME=deno|bun|node overrides the choice.
set -euo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT"

# The program a process runs: its executable's name (Linux), else the first
# word of its command line. Not `ps -o comm`: Node names its main thread
# "MainThread".
program() {
  local pid=$1 exe args
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
  if [[ -n "$exe" ]]; then
    basename "$exe"
    return
  fi
  args="$(ps -o args= -p "$pid" 2>/dev/null || true)"
  basename "${args%% *}" 2>/dev/null || true
}

# Prints "RUNTIME PID" for the nearest deno, bun or node/npm ancestor.
launcher() {
  local pid=$PPID name
  for _ in 1 2 3 4 5 6 7 8; do
    [[ -n "$pid" && "$pid" != 0 && "$pid" != 1 ]] || break
    name="$(program "$pid")"
    case "$name" in
      deno*) echo "deno $pid" && return ;;
      bun*) echo "bun $pid" && return ;;
      node* | npm* | npx* | pnpm* | yarn*) echo "node $pid" && return ;;
    esac
    pid="$(ps -o ppid= -p "$pid" 2>/dev/null | tr -d ' ' || true)"
  done
  # No ps, or no such ancestor: what the package manager says, if anything.
  case "${npm_config_user_agent:-}" in
    bun/*) echo "bun" ;;
    deno/*) echo "deno" ;;
    *) echo "node" ;;
  esac
}

# The binary of RUNTIME: the launching process's own, the pinned one, PATH's.
binary() {
  local runtime=$1 pid=${2:-} exe
  if [[ -n "$pid" ]]; then
    exe="$(readlink "/proc/$pid/exe" 2>/dev/null || true)"
    if [[ -x "$exe" && "$(basename "$exe")" == "$runtime"* ]]; then
      echo "$exe"
      return
    fi
  fi
  if [[ -x "$BIN/$runtime" ]]; then echo "$BIN/$runtime"; else echo "$runtime"; fi
}

read -r runtime pid <<<"$(launcher)"
runtime="${NETTRACE_DEMO_RUNTIME:-$runtime}"
case "$runtime" in
  bun)
    exec "$(binary bun "$pid")" demo.ts "$@"
    ;;
  deno)
    exec "$(binary deno "$pid")" run -A demo.ts "$@"
    ;;
esac

case "$("$BIN/node" --version 2>/dev/null || true)" in
  v24.*) ;;
  *) ensure_deps ;;
esac
exec "$BIN/node" demo.ts "$@"
