#!/usr/bin/env bash
# Every test: the Rust suite (`cargo test --locked`), then the Python
# package's (scripts/pytest.sh). `.ci/run` runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo test --locked"
cargo test --locked
scripts/pytest.sh
