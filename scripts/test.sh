#!/usr/bin/env bash
# Every test: the Rust suite (`cargo test --locked`), then the Python
# package's (scripts/pytest.sh). `.ci/run` runs this. Each part's time is
# printed at its end.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
echo "== cargo test --locked"
cargo test --locked
echo "== cargo test took $((SECONDS - start)) s"
start=$SECONDS
scripts/pytest.sh
echo "== the Python package's build and tests took $((SECONDS - start)) s"
