#!/usr/bin/env bash
# npm run build: the npm package in dist/ (ESM JavaScript + .d.ts, a
# package.json whose exports follow deno.json). See scripts/build_npm.ts.
#
#   bash scripts/build.sh [OUT_DIR]    (default dist)
set -euo pipefail
# shellcheck source=scripts/_deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/_deps.sh"
cd "$ROOT"
ensure_deps
"$BIN/node" scripts/build_npm.ts "$@"
