#!/usr/bin/env bash
# The Python package's tests: build `python/` with the dev profile into the
# same target/ as `cargo test` (so DataFusion is compiled once, not again in
# release), install it into a virtual environment with what the tests use,
# and run pytest. Users' `pip install ./python` still builds in release.
#
#   MEDQL_PY_VENV  the virtual environment (default target/python-venv)
#   PYTHON         the interpreter that creates it (default python3)
#   extra arguments go to pytest (for example -k tree)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MEDQL_PY_VENV:-target/python-venv}
if [ ! -x "$VENV/bin/python" ]; then
  echo "== creating $VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
fi
VENV=$(cd "$VENV" && pwd)
echo "== installing maturin, pytest, pyarrow, pandas, polars, duckdb, matplotlib into $VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  "maturin>=1.9,<2" pytest "pyarrow>=15" pandas polars duckdb matplotlib
echo "== pip install ./python (dev profile)"
PATH="$VENV/bin:$PATH" MATURIN_PEP517_ARGS="--profile dev --locked" "$VENV/bin/pip" install --quiet \
  --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall ./python
echo "== pytest python/tests"
# The command line the results are compared with: built by `cargo test`,
# or here when it is not there.
[ -x target/debug/medql ] || cargo build --locked
status=0
PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" -m pytest -p no:cacheprovider -q python/tests "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
