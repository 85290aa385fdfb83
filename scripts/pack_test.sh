#!/usr/bin/env bash
# The pack phase of scripts/test.sh: builds the npm package (scripts/build.sh
# into a temporary directory), packs it with `npm pack`, installs the tarball
# into fresh temporary projects and, in each, runs a loopback dial and
# type-checks the consumer file:
#   node  npm i --offline ./nettrace-nettrace-*.tgz; node main.ts (the pinned
#         Node 24, plain: type stripping); tsc --noEmit (@types/node: the
#         clone's, through typeRoots)
#   bun   bun add --offline ./nettrace-nettrace-*.tgz; bun main.ts; tsc --noEmit
#   deno  a package.json dependency on the tarball (npm i --offline writes
#         it; `deno install` links a file: tarball as a directory, so npm
#         installs it), node_modules used as is (Deno's "manual" mode);
#         deno run --allow-net main.ts (--allow-net is all it needs);
#         deno check main.ts
# The consumer files are scripts/pack/{node,bun,deno}.ts (copied as main.ts;
# in the clone, deno.json's imports map them to the sources, so deno check
# type-checks them there too). Nothing is fetched from a registry: npm and
# bun run with --offline on empty caches of their own in the temp dir, which
# works because the tarball has no dependencies (only an optional peer,
# @opentelemetry/api, for ./otel).
#
#   bash scripts/pack_test.sh
#   NETTRACE_RUNTIMES="node" bash scripts/pack_test.sh
#
# Output: one line per step ("pack ok: ...", "pack FAILED: ..."), then
# exactly one line "pack: N passed, N failed, N skipped" (the contract of
# scripts/test.sh's script phases). Exit status 1 when anything failed. The
# temporary directory is removed on exit unless something failed (its path
# is printed then).

set -uo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT" || exit 1
export NO_COLOR=1
BIN="${NETTRACE_BIN:-$BIN}"

runtimes=()
for word in ${NETTRACE_RUNTIMES:-deno bun node}; do
  case "$word" in deno | bun | node) runtimes+=("$word") ;; esac
done
if ((${#runtimes[@]} == 0)); then runtimes=(deno bun node); fi

passed=0
failed=0
skipped=0
TMP="$(mktemp -d /tmp/nettrace-pack.XXXXXX)"
finish() {
  echo "pack: $passed passed, $failed failed, $skipped skipped"
  if ((failed > 0)); then
    echo "pack: files kept in $TMP"
    exit 1
  fi
  rm -rf "$TMP"
  exit 0
}
trap 'rm -rf "$TMP"' INT TERM
# npm's and bun's caches for this phase live in the temp dir too, so the
# phase writes nothing outside the clone and /tmp (the tarball is all the
# consumers install).
export npm_config_cache="$TMP/npm-cache"
export BUN_INSTALL_CACHE_DIR="$TMP/bun-cache"

# check NAME CMD...: one counted step; its output goes to the log and is
# shown when it fails.
check() {
  local name="$1" log
  shift
  log="$TMP/$(tr -c 'a-zA-Z0-9' _ <<<"$name").log"
  if timeout 180 "$@" </dev/null >"$log" 2>&1; then
    echo "pack ok: $name"
    passed=$((passed + 1))
    return 0
  fi
  echo "pack FAILED: $name"
  sed 's/^/  | /' "$log" | tail -n 40
  failed=$((failed + 1))
  return 1
}

# expect_output NAME PATTERN CMD...: like check, and the output must match
# the extended regex PATTERN.
expect_output() {
  local name="$1" pattern="$2"
  shift 2
  if check "$name" "$@"; then
    local log
    log="$TMP/$(tr -c 'a-zA-Z0-9' _ <<<"$name").log"
    if ! grep -Eq "$pattern" "$log"; then
      echo "pack FAILED: $name printed no line matching /$pattern/:"
      sed 's/^/  | /' "$log" | tail -n 20
      passed=$((passed - 1))
      failed=$((failed + 1))
      return 1
    fi
  else
    return 1
  fi
}

# ── build and pack ─────────────────────────────────────────────────────────
if ! check "build (npm run build into a temp dir)" \
  "$BIN/node" scripts/build_npm.ts "$TMP/dist"; then
  skipped=$((${#runtimes[@]} * 3))
  finish
fi
if ! check "npm pack" npm pack --pack-destination "$TMP" "$TMP/dist"; then
  skipped=$((${#runtimes[@]} * 3))
  finish
fi
TARBALL="$(ls "$TMP"/nettrace-nettrace-*.tgz 2>/dev/null | head -n 1)"
echo "pack: $(basename "$TARBALL"), $(tar -tzf "$TARBALL" | wc -l) files"

# A tsconfig for checking a consumer with tsc (Node and Bun): @types/node is
# the clone's own (typeRoots), so the consumer needs nothing but the tarball.
tsconfig() {
  cat <<EOF
{
  "compilerOptions": {
    "target": "ES2022",
    "module": "NodeNext",
    "moduleResolution": "NodeNext",
    "types": ["node"],
    "typeRoots": ["$ROOT/node_modules/@types"],
    "strict": true,
    "noEmit": true,
    "allowImportingTsExtensions": true,
    "skipLibCheck": false
  },
  "files": ["main.ts"]
}
EOF
}

new_project() { # new_project DIR RUNTIME
  mkdir -p "$1"
  echo '{ "name": "consumer", "private": true, "type": "module" }' >"$1/package.json"
  cp "scripts/pack/$2.ts" "$1/main.ts"
}

npm_offline=(npm install --offline --no-audit --no-fund --loglevel=error)
connected='connected to 127\.0\.0\.1:[0-9]+'

for rt in "${runtimes[@]}"; do
  dir="$TMP/$rt"
  new_project "$dir" "$rt"
  case "$rt" in
    node)
      if check "node: npm i ./$(basename "$TARBALL")" \
        bash -c 'cd "$1" && shift && "$@"' _ "$dir" "${npm_offline[@]}" "$TARBALL"; then
        expect_output "node: loopback dial (node main.ts)" "$connected" \
          bash -c 'cd "$1" && "$2" main.ts' _ "$dir" "$BIN/node"
        tsconfig >"$dir/tsconfig.json"
        check "node: tsc type-check of the consumer" "$BIN/tsc" -p "$dir/tsconfig.json"
      else
        skipped=$((skipped + 2))
      fi
      ;;
    bun)
      if check "bun: bun add ./$(basename "$TARBALL")" \
        bash -c 'cd "$1" && "$2" add --offline "$3"' _ "$dir" "$BIN/bun" "$TARBALL"; then
        expect_output "bun: loopback dial (bun main.ts)" "$connected" \
          bash -c 'cd "$1" && "$2" main.ts' _ "$dir" "$BIN/bun"
        tsconfig >"$dir/tsconfig.json"
        check "bun: tsc type-check of the consumer" "$BIN/tsc" -p "$dir/tsconfig.json"
      else
        skipped=$((skipped + 2))
      fi
      ;;
    deno)
      if check "deno: package.json dependency on the tarball" \
        bash -c 'cd "$1" && shift && "$@"' _ "$dir" "${npm_offline[@]}" "$TARBALL"; then
        expect_output "deno: loopback dial (deno run --allow-net main.ts)" "$connected" \
          bash -c 'cd "$1" && "$2" run --no-prompt --allow-net main.ts' _ "$dir" "$BIN/deno"
        check "deno: deno check of the consumer" \
          bash -c 'cd "$1" && "$2" check main.ts' _ "$dir" "$BIN/deno"
      else
        skipped=$((skipped + 2))
      fi
      ;;
  esac
done

finish
