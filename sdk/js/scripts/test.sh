#!/usr/bin/env bash
# Every check of the browser SDK, from a fresh clone:
#   npm deps -> typecheck -> unit tests -> size budget -> dist/ up to date -> end-to-end in Chromium.
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

# npm ci only when node_modules is missing or package-lock.json changed since the last install.
stamp=node_modules/.px-lock-sha256
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -d node_modules || ! -f $stamp || "$(cat "$stamp")" != "$lock_sum" ]]; then
  npm ci --no-audit --no-fund
  echo "$lock_sum" > "$stamp"
fi

if [[ ! -x /usr/bin/chromium ]]; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

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
