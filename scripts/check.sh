#!/usr/bin/env bash
# Static checks (npm run check, deno task check). Every step runs even after a
# failure; each is reported as "check <name>: ok" or "check <name>: FAILED",
# and the last line is "checks: N passed, N failed". Exit status 1 when any
# step failed. When NETTRACE_CHECK_SUMMARY_FILE is set, "PASSED FAILED" is
# also written there (used by .ci/run).
#
# Steps:
#   exports  every file named in deno.json "exports" exists, and package.json
#            has the same "exports" and name (the self-reference examples/
#            use on Node and Bun)
#   fmt      deno fmt --check
#   lint     deno lint   (recommended + jsr rules, incl. no-unused-vars and
#                         no-slow-types)
#   doc      deno doc --lint mod.ts runtimes/{deno,bun,node}.ts
#            integrations/undici.ts integrations/fetch.ts integrations/http_agent.ts (those present); not integrations/otel.ts,
#            whose public types are @opentelemetry/api's own (Tracer,
#            Context), which doc lint reports as private types it cannot see
#   types    deno check   (the whole workspace: mod.ts, src, runtimes, tests,
#                          bench, demo.ts)
#   examples deno check --doc-only mod.ts src/ runtimes/ integrations/ README.md
#            docs/*.md (type-checks ```ts blocks in JSDoc, README and docs/;
#            "```ts ignore" blocks are skipped)
#   shown    scripts/check_readme_examples.ts: every block in README.md and
#            docs/*.md marked <!-- example: examples/x.ts --> is that file's
#            text, verbatim (the examples phase of npm test runs the files)
#   core     tsc -p tsconfig.core.json: mod.ts + src/ against lib ESNext+DOM
#            with no @types at all, so Deno.*, Bun.*, node:*, process, Buffer
#            in the core fail; also rejects `/// <reference types|lib|path>`
#            directives in src/ that would pull runtime types back in
#   publish  deno publish --dry-run --allow-dirty (slow types, package contents)

set -uo pipefail

# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT" || exit 1
export NO_COLOR=1

passed=0
failed=0
results=()

finish() {
  local line
  echo
  for line in "${results[@]}"; do echo "$line"; done
  if [[ -n "${NETTRACE_CHECK_SUMMARY_FILE:-}" ]]; then
    echo "$passed $failed" >"$NETTRACE_CHECK_SUMMARY_FILE"
  fi
  echo "checks: $passed passed, $failed failed"
  if ((failed > 0)); then exit 1; fi
  exit 0
}

# step NAME CMD...: run one check, show its output, record the outcome.
step() {
  local name="$1"
  shift
  echo
  echo "────── check $name: $* ──────"
  if "$@" </dev/null 2>&1; then
    results+=("check $name: ok")
    passed=$((passed + 1))
  else
    results+=("check $name: FAILED")
    failed=$((failed + 1))
  fi
}

if ! ensure_deps; then
  results+=("check deps: FAILED (npm install)")
  failed=$((failed + 1))
  finish
fi

DENO="$BIN/deno"

check_exports() {
  local missing
  missing="$("$BIN/node" -e '
    const fs = require("node:fs");
    const cfg = JSON.parse(fs.readFileSync("deno.json", "utf8"));
    const out = [];
    for (const [key, file] of Object.entries(cfg.exports ?? {})) {
      if (!fs.existsSync(file)) out.push(`${key} -> ${file}`);
    }
    if (Object.keys(cfg.exports ?? {}).length === 0) out.push("(no exports)");
    // package.json repeats them so `@nettrace/nettrace/...` resolves on Node
    // and Bun from a clone (a self-reference; examples/ relies on it).
    const pkg = JSON.parse(fs.readFileSync("package.json", "utf8"));
    if (JSON.stringify(pkg.exports) !== JSON.stringify(cfg.exports)) {
      out.push("package.json \"exports\" differs from deno.json \"exports\" (copy them)");
    }
    if (pkg.name !== cfg.name) {
      out.push(`package.json name ${pkg.name} differs from the name in deno.json (${cfg.name})`);
    }
    process.stdout.write(out.join("\n"));
  ')" || return 1
  if [[ -n "$missing" ]]; then
    echo "deno.json / package.json exports:"
    sed 's/^/  /' <<<"$missing"
    return 1
  fi
  echo "all deno.json exports exist; package.json has the same"
}

existing() { # existing FILE...: print the arguments that exist
  local f
  for f in "$@"; do [[ -e "$f" ]] && printf '%s\n' "$f"; done
  return 0
}

check_doc_lint() {
  local files
  mapfile -t files < <(existing mod.ts runtimes/deno.ts runtimes/bun.ts runtimes/node.ts integrations/undici.ts integrations/fetch.ts integrations/http_agent.ts)
  "$DENO" doc --lint "${files[@]}"
}

check_examples() {
  local files
  mapfile -t files < <(existing mod.ts src runtimes integrations README.md docs/*.md)
  "$DENO" check --doc-only "${files[@]}"
}

check_core() {
  local ok=0 refs
  "$BIN/tsc" -p tsconfig.core.json || ok=1
  refs="$(grep -rnE '^[[:space:]]*///[[:space:]]*<reference[[:space:]]' mod.ts src || true)"
  if [[ -n "$refs" ]]; then
    echo "triple-slash reference directives are not allowed in the core:"
    echo "$refs"
    ok=1
  fi
  [[ $ok == 0 ]] && echo "core type-checks with lib ESNext + DOM only"
  return "$ok"
}

step exports check_exports
step fmt "$DENO" fmt --check
step lint "$DENO" lint
step doc check_doc_lint
step types "$DENO" check
step examples check_examples
step shown "$BIN/node" scripts/check_readme_examples.ts
step core check_core
step publish "$DENO" publish --dry-run --allow-dirty

finish
