#!/usr/bin/env bash
# Every check of the browser SDK, from a fresh clone:
#   deps (scripts/install-deps.sh) -> typecheck -> unit tests -> size budget -> dist/ up to date
#   -> end-to-end in Chromium.
# The end-to-end test needs a built px binary: PX_BIN (default /work/cargo-target/debug/px).
# A missing binary is an error, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

PX_BIN="${PX_BIN:-/work/cargo-target/debug/px}"
if [[ ! -x "$PX_BIN" ]]; then
  echo "error: no px binary at PX_BIN=$PX_BIN; build it (cargo build) or point PX_BIN at one" >&2
  exit 1
fi
export PX_BIN

# npm packages (when missing or stale) and Chromium, as for the whole project.
../../scripts/install-deps.sh

echo "== typecheck"
npm run --silent typecheck
echo "== unit tests"
npx vitest run
echo "== size"
npm run --silent size
echo "== check-dist"
npm run --silent check-dist
echo "== end-to-end"
node --test test/e2e/run.mjs
