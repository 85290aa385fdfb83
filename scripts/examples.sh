#!/usr/bin/env bash
# The examples phase of scripts/test.sh: runs every examples/*.ts (not the
# _helpers) on each runtime its header names and checks its output.
#
# An example's first line names the runtimes it is run on:
#   // Runs on: node, deno, bun
# and examples/_expect.txt holds what its output must contain: lines
# "FILE REGEX", an extended regular expression (grep -E) that some line of
# the output must match; every one of a file's lines must match, on every
# runtime. The example files themselves hold nothing but the example (so the
# README can show them verbatim).
# Commands (from the clone's root, stdin /dev/null, NO_COLOR=1):
#   node: node_modules/.bin/node examples/x.ts
#   bun:  node_modules/.bin/bun examples/x.ts
#   deno: node_modules/.bin/deno run -A examples/x.ts
# Imports resolve on all three from a clone: `@nettrace/nettrace/...` through
# deno.json "imports" on Deno and the package's own name + "exports" in
# package.json (a self-reference) on Node and Bun.
#
#   bash scripts/examples.sh [examples/x.ts ...]
#   NETTRACE_RUNTIMES="node" bash scripts/examples.sh
#
# Output: "examples ok: x.ts on node" / "examples FAILED: ..." (with the
# output), then exactly one line "examples: N passed, N failed, N skipped"
# (one per file and runtime; skipped = a runtime it names that
# NETTRACE_RUNTIMES leaves out). Exit status 1 when anything failed.

set -uo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT" || exit 1
export NO_COLOR=1
BIN="${NETTRACE_BIN:-$BIN}"
TIMEOUT="${NETTRACE_EXAMPLE_TIMEOUT:-60}"

selected=()
for word in ${NETTRACE_RUNTIMES:-deno bun node}; do
  case "$word" in deno | bun | node) selected+=("$word") ;; esac
done
if ((${#selected[@]} == 0)); then selected=(deno bun node); fi

files=("$@")
if ((${#files[@]} == 0)); then
  shopt -s nullglob
  for f in examples/*.ts; do
    [[ "$(basename "$f")" == _* ]] || files+=("$f")
  done
  shopt -u nullglob
fi

passed=0
failed=0
skipped=0
out="$(mktemp /tmp/nettrace-example.XXXXXX)"
trap 'rm -f "$out"' EXIT

for f in "${files[@]}"; do
  runs_on="$(sed -nE 's|^// Runs on: *(.*)$|\1|p' "$f" | head -n 1 | tr -d ',')"
  name="$(basename "$f")"
  mapfile -t expects < <(grep -v '^#' examples/_expect.txt |
    sed -nE "s|^${name//./\\.}[[:space:]]+(.*)\$|\\1|p")
  if [[ -z "$runs_on" || ${#expects[@]} == 0 ]]; then
    echo "examples FAILED: $f has no '// Runs on:' line or no line in examples/_expect.txt"
    failed=$((failed + 1))
    continue
  fi
  for rt in $runs_on; do
    if [[ " ${selected[*]} " != *" $rt "* ]]; then
      skipped=$((skipped + 1))
      continue
    fi
    case "$rt" in
      deno) cmd=("$BIN/deno" run -A "$f") ;;
      node | bun) cmd=("$BIN/$rt" "$f") ;;
      *)
        echo "examples FAILED: $f names an unknown runtime '$rt'"
        failed=$((failed + 1))
        continue
        ;;
    esac
    rc=0
    timeout --kill-after=5 "$TIMEOUT" "${cmd[@]}" </dev/null >"$out" 2>&1 || rc=$?
    missing=()
    for re in "${expects[@]}"; do
      grep -Eq -- "$re" "$out" || missing+=("$re")
    done
    if ((rc == 0 && ${#missing[@]} == 0)); then
      echo "examples ok: $f on $rt"
      passed=$((passed + 1))
    else
      echo "examples FAILED: $f on $rt (exit status $rc${missing:+; no line matches: ${missing[*]}})"
      sed 's/^/  | /' "$out" | tail -n 30
      failed=$((failed + 1))
    fi
  done
done

echo "examples: $passed passed, $failed failed, $skipped skipped"
((failed == 0))
