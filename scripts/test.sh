#!/usr/bin/env bash
# Runs every PX test: installs what the tests need (idempotently), checks
# formatting and lints, then runs the whole workspace's tests against real
# DuckDB and SQLite files in temp dirs and real `px serve` processes (the
# compatibility tests drive them with PostHog's and Segment's npm
# packages), then the browser SDK's suite, whose end-to-end test runs the
# SDK in Chromium against the px binary the Rust tests built.
#
# A first run compiles DuckDB's C++ from source (about 16 minutes on a
# 2-core machine); later runs reuse the build in CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

# Formatting and lints run where the toolchain has them (rustup's default
# profile does); a toolchain without them says so loudly and goes on.
if cargo fmt --version >/dev/null 2>&1; then
  echo "== format"
  cargo fmt --all -- --check
else
  echo "!! rustfmt is not installed: formatting NOT checked (rustup component add rustfmt)" >&2
fi
if cargo clippy --version >/dev/null 2>&1; then
  echo "== lints"
  cargo clippy --workspace --all-targets --locked -- -D warnings
else
  echo "!! clippy is not installed: lints NOT checked (rustup component add clippy)" >&2
fi
echo "== tests"
cargo test --workspace --locked

echo "== browser SDK"
target_dir="${CARGO_TARGET_DIR:-target}"
[[ $target_dir == /* ]] || target_dir="$PWD/$target_dir"
PX_BIN="$target_dir/debug/px" sdk/js/scripts/test.sh
