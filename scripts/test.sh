#!/usr/bin/env bash
# Runs the test suite on Deno, Bun and Node (the npm-pinned binaries in
# node_modules/.bin, never the system node) and prints one summary.
#
#   bash scripts/test.sh                     # everything (npm test, deno task test)
#   bash scripts/test.sh tests/foo_test.ts   # only these files
#   NETTRACE_RUNTIMES="deno node" bash scripts/test.sh
#
# Which files run where:
#   tests/*_test.ts            every runtime, except files ending in
#   tests/*_deno_test.ts       Deno only
#   tests/*_bun_test.ts        Bun only
#   tests/*_node_test.ts       Node only
#   tests/recipes/*_test.ts    the same suffix rules (real npm clients against
#                              real servers; each skips with its reason when
#                              a server or a package is absent)
#   tests/netns/               not run here; see the netns phase below
# With file arguments, the same suffix rules pick the runtimes per file and a
# runtime left with no file is skipped.
#
# Commands (stdin is /dev/null, NO_COLOR=1, output also stripped of ANSI):
#   deno: node_modules/.bin/deno test -A <files>      (sanitizers on: tests register through tests/_test.ts)
#   bun:  node_modules/.bin/bun test --timeout 60000 <./files>
#   node: node_modules/.bin/node --test --test-reporter=spec <files>
# Each phase is bounded by NETTRACE_TEST_TIMEOUT seconds (default 900).
#
# Counting (from each runtime's own closing summary):
#   deno: last "ok | N passed | N failed | N ignored" line ("(N steps)" is
#         ignored: tests are flat); ignored -> skipped.
#   bun:  " N pass", " N fail", " N skip" + " N todo" -> skipped.
#   node: "ℹ pass N", "ℹ fail N" + "ℹ cancelled N" -> failed,
#         "ℹ skipped N" + "ℹ todo N" -> skipped.
#   A phase that prints no summary, times out, or exits non-zero while
#   reporting 0 failures counts as (at least) 1 failed — never as 0/0.
#
# Namespace phase (optional): when scripts/netns.sh exists and is executable,
# and no file arguments were given, it runs after the runtimes. Contract:
#   - run from the repository root as `scripts/netns.sh`, stdin /dev/null,
#     with env NETTRACE_BIN (node_modules/.bin), NETTRACE_RUNTIMES and
#     NO_COLOR=1; it must clean up every namespace it creates;
#   - it prints its own output plus exactly one line, anywhere, of the form
#       netns: N passed, N failed, N skipped
#     (", N skipped" optional); when it cannot run (not root, no `ip`) it
#     prints e.g. "netns: 0 passed, 0 failed, 12 skipped" and exits 0;
#   - exit status 0 unless something failed. No such line, or a non-zero exit
#     with 0 failed, counts as 1 failed.
#
# NETTRACE_NETNS_SCRIPT overrides the script's path (for testing this script).
#
# More script phases, same contract (their own "<phase>: N passed, N failed,
# N skipped" line), run after netns when no file arguments were given:
#   pack      scripts/pack_test.sh: npm run build, npm pack, the tarball
#             installed into fresh projects on Node, Bun and Deno (a loopback
#             dial and a type-check of a consumer file in each)
#   examples  scripts/examples.sh: every file in examples/ on the runtimes
#             it names, its output checked
# They see NETTRACE_RUNTIMES too (the runtimes among its words; none means
# all three). A missing script is skipped silently (like netns).
#
# Selecting phases: NETTRACE_RUNTIMES (default "deno bun node netns pack
# examples"); any subset, e.g. "deno node". Logs: one file per phase under NETTRACE_LOG_DIR
# (default a fresh /tmp/nettrace-test.XXXXXX, removed again when nothing
# failed).
#
# Output: one line per phase "deno: N passed, N failed, N skipped", then the
# final line exactly "N passed, N failed" (", N skipped" appended when
# non-zero), summed over all phases. Exit status 1 when anything failed.
# When NETTRACE_SUMMARY_FILE is set, "PASSED FAILED SKIPPED" is also written
# there (used by .ci/run).

set -uo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT" || exit 1
export NO_COLOR=1

total_passed=0
total_failed=0
total_skipped=0
summary_lines=()

finish() {
  local line
  echo
  if [[ -n "${LOG_DIR:-}" ]]; then
    if ((total_failed == 0)) && [[ -z "${NETTRACE_LOG_DIR:-}" ]]; then
      rm -rf "$LOG_DIR" # nothing to read; keep /tmp clean
    else
      echo "logs: $LOG_DIR"
    fi
  fi
  for line in "${summary_lines[@]}"; do echo "$line"; done
  if [[ -n "${NETTRACE_SUMMARY_FILE:-}" ]]; then
    echo "$total_passed $total_failed $total_skipped" >"$NETTRACE_SUMMARY_FILE"
  fi
  line="$total_passed passed, $total_failed failed"
  if ((total_skipped > 0)); then line+=", $total_skipped skipped"; fi
  echo "$line"
  if ((total_failed > 0)); then exit 1; fi
  exit 0
}

if ! ensure_deps; then
  summary_lines+=("deps: npm install failed")
  total_failed=$((total_failed + 1))
  finish
fi

LOG_DIR="${NETTRACE_LOG_DIR:-$(mktemp -d /tmp/nettrace-test.XXXXXX)}"
mkdir -p "$LOG_DIR"
TIMEOUT="${NETTRACE_TEST_TIMEOUT:-900}"
PHASES="${NETTRACE_RUNTIMES:-deno bun node netns pack examples}"
NETNS_SCRIPT="${NETTRACE_NETNS_SCRIPT:-scripts/netns.sh}"

# ── pick the files ─────────────────────────────────────────────────────────
declare -A files_for=([deno]="" [bun]="" [node]="")
add_file() { # add_file FILE: route a test file to its runtime(s)
  local f="$1" rt
  case "$f" in
    *_deno_test.ts) files_for[deno]+="$f"$'\n' ;;
    *_bun_test.ts) files_for[bun]+="$f"$'\n' ;;
    *_node_test.ts) files_for[node]+="$f"$'\n' ;;
    *) for rt in deno bun node; do files_for[$rt]+="$f"$'\n'; done ;;
  esac
}
explicit=0
if (($# > 0)); then
  explicit=1
  for f in "$@"; do
    if [[ ! -f "$f" ]]; then
      echo "test.sh: no such test file: $f" >&2
      summary_lines+=("args: no such test file: $f")
      total_failed=$((total_failed + 1))
      continue
    fi
    add_file "$f"
  done
else
  shopt -s nullglob
  for f in tests/*_test.ts tests/recipes/*_test.ts; do add_file "$f"; done
  shopt -u nullglob
fi

# The recipe tests need database servers (installed in CI only; see
# ensure_db_servers in scripts/_deps.sh).
if [[ "${files_for[node]}${files_for[deno]}${files_for[bun]}" == *tests/recipes/* ]] &&
  declare -F ensure_db_servers >/dev/null; then
  ensure_db_servers
fi

strip_ansi() { sed -E $'s/\x1b\\[[0-9;?]*[A-Za-z]//g; s/\r//g'; }

# last_num REGEX FILE: the number captured by the first group of REGEX on the
# last matching line of FILE (empty when none).
last_num() {
  sed -nE "s/$1/\\1/p" "$2" | tail -n 1
}

# record PHASE RC PASSED FAILED SKIPPED HAVE_SUMMARY
record() {
  local phase="$1" rc="$2" p="${3:-0}" f="${4:-0}" s="${5:-0}" have="$6" note=""
  if ((rc == 124 || rc == 137)); then
    note=" (timed out after ${TIMEOUT}s)"
    ((f < 1)) && f=1
  elif [[ "$have" != 1 ]]; then
    note=" (no summary printed; exit status $rc)"
    ((f < 1)) && f=1
  elif ((rc != 0 && f == 0)); then
    note=" (exit status $rc with no failed test reported)"
    f=1
  fi
  total_passed=$((total_passed + p))
  total_failed=$((total_failed + f))
  total_skipped=$((total_skipped + s))
  summary_lines+=("$phase: $p passed, $f failed, $s skipped$note")
}

# run_phase PHASE LOG CMD...: run CMD with output to the terminal and LOG.
run_phase() {
  local phase="$1" log="$2"
  shift 2
  echo
  echo "══════ $phase: $* ══════"
  timeout --kill-after=15 "$TIMEOUT" "$@" </dev/null 2>&1 | tee "$log.raw"
  local rc=${PIPESTATUS[0]}
  strip_ansi <"$log.raw" >"$log"
  rm -f "$log.raw"
  return "$rc"
}

run_deno() {
  local log="$LOG_DIR/deno.log" rc p f s have=0
  run_phase deno "$log" "$BIN/deno" test -A "$@"
  rc=$?
  local line
  line="$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$log" | tail -n 1)"
  if [[ -n "$line" ]]; then
    have=1
    p="$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$line")"
    f="$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$line")"
    s="$(sed -nE 's/.*\| ([0-9]+) ignored.*/\1/p' <<<"$line")"
  fi
  record deno "$rc" "${p:-0}" "${f:-0}" "${s:-0}" "$have"
}

run_bun() {
  local log="$LOG_DIR/bun.log" rc p f s t have=0 args=() x
  for x in "$@"; do
    case "$x" in /* | ./*) args+=("$x") ;; *) args+=("./$x") ;; esac
  done
  # Bun alone stops a test after 5 s; Deno and Node have no per-test limit.
  # Some real-socket tests wait for the kernel (a SYN-SENT socket Bun cannot
  # cancel goes when its listener does): give them what the others get.
  run_phase bun "$log" "$BIN/bun" test --timeout 60000 "${args[@]}"
  rc=$?
  p="$(last_num '^ *([0-9]+) pass$' "$log")"
  f="$(last_num '^ *([0-9]+) fail$' "$log")"
  s="$(last_num '^ *([0-9]+) skip$' "$log")"
  t="$(last_num '^ *([0-9]+) todo$' "$log")"
  if [[ -n "$p" || -n "$f" ]]; then have=1; fi
  record bun "$rc" "${p:-0}" "${f:-0}" "$((${s:-0} + ${t:-0}))" "$have"
}

run_node() {
  local log="$LOG_DIR/node.log" rc p f c s t have=0
  run_phase node "$log" "$BIN/node" --test --test-reporter=spec "$@"
  rc=$?
  p="$(last_num '^ℹ pass ([0-9]+)$' "$log")"
  f="$(last_num '^ℹ fail ([0-9]+)$' "$log")"
  c="$(last_num '^ℹ cancelled ([0-9]+)$' "$log")"
  s="$(last_num '^ℹ skipped ([0-9]+)$' "$log")"
  t="$(last_num '^ℹ todo ([0-9]+)$' "$log")"
  if [[ -n "$p" && -n "$f" ]]; then have=1; fi
  record node "$rc" "${p:-0}" "$((${f:-0} + ${c:-0}))" "$((${s:-0} + ${t:-0}))" "$have"
}

# run_script PHASE SCRIPT: a script phase (netns, pack, examples) and its
# "PHASE: N passed, N failed, N skipped" line.
run_script() {
  local phase="$1" script="$2" log="$LOG_DIR/$1.log" rc line p f s have=0
  NETTRACE_BIN="$BIN" NETTRACE_RUNTIMES="$PHASES" \
    run_phase "$phase" "$log" "$script"
  rc=$?
  line="$(grep -E "^$phase: [0-9]+ passed, [0-9]+ failed" "$log" | tail -n 1)"
  if [[ -n "$line" ]]; then
    have=1
    p="$(sed -nE "s/^$phase: ([0-9]+) passed.*/\\1/p" <<<"$line")"
    f="$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")"
    s="$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")"
  fi
  record "$phase" "$rc" "${p:-0}" "${f:-0}" "${s:-0}" "$have"
}

for phase in $PHASES; do
  case "$phase" in
    deno | bun | node)
      mapfile -t list < <(printf '%s' "${files_for[$phase]}" | sed '/^$/d')
      if ((${#list[@]} == 0)); then
        if ((explicit)); then
          echo "$phase: no test file for this runtime in the arguments; skipped"
        else
          echo "$phase: no test files found under tests/" >&2
          summary_lines+=("$phase: 0 passed, 1 failed, 0 skipped (no test files found)")
          total_failed=$((total_failed + 1))
        fi
        continue
      fi
      "run_$phase" "${list[@]}"
      ;;
    netns | pack | examples)
      if ((explicit)); then continue; fi
      case "$phase" in
        netns) script="$NETNS_SCRIPT" ;;
        pack) script=scripts/pack_test.sh ;;
        examples) script=scripts/examples.sh ;;
      esac
      if [[ -x "$script" ]]; then
        run_script "$phase" "$script"
      elif [[ -e "$script" ]]; then
        echo "$phase: $script exists but is not executable" >&2
        summary_lines+=("$phase: 0 passed, 1 failed, 0 skipped ($script not executable)")
        total_failed=$((total_failed + 1))
      fi
      ;;
    *)
      echo "test.sh: unknown phase '$phase' in NETTRACE_RUNTIMES" >&2
      summary_lines+=("$phase: unknown phase")
      total_failed=$((total_failed + 1))
      ;;
  esac
done

finish
