# shellcheck shell=bash
# Sourced by scripts/test.sh, scripts/check.sh and .ci/run (not run directly).
#
# Sets ROOT (the repository root) and BIN (node_modules/.bin), and defines
# ensure_deps: runs `npm install` when a pinned tool is missing or the
# installed tree does not match package.json. The runtimes come from npm
# (packages `deno`, `bun`, `node` 24) so a machine with only Node 20 + npm
# can run everything; the system `node` is never used for tests.
# `npm install`, not `npm ci`: the lockfile omits other platforms' optional
# binaries (see shared/TESTING.md).

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/node_modules/.bin"

ensure_deps() {
  local missing=""
  local tool
  for tool in deno bun node tsc; do
    [[ -x "$BIN/$tool" ]] || missing+=" $tool"
  done
  if [[ -z "$missing" ]]; then
    case "$("$BIN/node" --version 2>/dev/null)" in
      v24.*) ;;
      *) missing+=" node(24)" ;;
    esac
  fi
  if [[ -z "$missing" ]] && ! (cd "$ROOT" && npm ls --depth=0 >/dev/null 2>&1); then
    missing+=" (node_modules out of date with package.json)"
  fi
  if [[ -n "$missing" ]]; then
    echo "deps: missing${missing}; running npm install --no-audit --no-fund" >&2
    (cd "$ROOT" && npm install --no-audit --no-fund </dev/null >&2) || {
      echo "deps: npm install failed" >&2
      return 1
    }
  fi
}
