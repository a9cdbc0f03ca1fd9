#!/usr/bin/env bash
# Installs what PX's build and tests need on a fresh Debian machine: the C++
# toolchain DuckDB builds with; Node.js, npm and Chromium for the browser
# SDK's tests and for the compatibility tests that drive PostHog's and
# Segment's npm packages; and the npm packages of sdk/js and compat.
# Idempotent: installs only what is missing, runs `npm ci` only where
# node_modules is missing or older than its package-lock.json. Anything it
# cannot provide stops it with the reason.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

need_apt=()
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[[ -x /usr/bin/chromium ]] || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  echo "installing: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust from https://rustup.rs (PX needs Rust 1.88 or newer)" >&2
  exit 1
fi

# vitest, happy-dom and posthog-node need Node.js 20 or newer; Debian 12's
# own nodejs package is 18.
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if ((node_major < 20)); then
  echo "Node.js $(node --version) is too old: the SDK and compatibility tests need Node.js 20 or newer" >&2
  exit 1
fi

for dir in sdk/js compat; do
  stamp="$root/$dir/node_modules/.px-lock-sha256"
  lock_sum="$(sha256sum "$root/$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ ! -f $stamp || "$(cat "$stamp")" != "$lock_sum" ]]; then
    echo "installing the npm packages of $dir"
    (cd "$root/$dir" && npm ci --no-audit --no-fund)
    echo "$lock_sum" > "$stamp"
  fi
done
