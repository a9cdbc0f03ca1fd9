#!/usr/bin/env bash
# Starts PX with the embedded store and a demo project holding 14 days of
# generated traffic. First run: a release build (~25 minutes, DuckDB's C++).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
exec cargo run --release -- serve --demo "$@"
