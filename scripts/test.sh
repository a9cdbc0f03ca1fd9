#!/usr/bin/env bash
# Runs every PX test: installs what the tests need (idempotently), checks
# formatting and lints, then runs the whole workspace's tests against real
# DuckDB and SQLite files in temp dirs and real `px serve` processes.
#
# A first run compiles DuckDB's C++ from source (about 16 minutes on a
# 2-core machine); later runs reuse the build in CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

echo "== format"
cargo fmt --all -- --check
echo "== lints"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
cargo test --workspace --locked
