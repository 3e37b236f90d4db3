#!/usr/bin/env bash
# Benchmarks: medql against DuckDB (and pandas) on the same synthetic data.
#   scripts/bench.sh [N_MODELS] [N_ITEMS]      (default 100 x 25831 = 2.58M predictions)
# Builds medql in release mode, generates the data, times medql's five
# representative queries warm (in-process, median), exports the scored
# relation to Parquet, times the same queries in DuckDB in memory (in a
# Python virtual environment this script creates), and prints the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
N_MODELS=${1:-100}
N_ITEMS=${2:-25831}
OUT=target/bench-data/${N_MODELS}x${N_ITEMS}
RUNS=${RUNS:-10}

echo "== building (release)"
cargo build --release --locked --quiet
cargo bench --locked --bench queries --no-run --quiet 2>/dev/null || cargo bench --locked --bench queries --no-run
MEDQL=target/release/medql

if [[ ! -f $OUT/GMAI-MMBench_SYNTH.tsv ]]; then
  echo "== generating $N_MODELS models x $N_ITEMS items"
  $MEDQL gen --n-models "$N_MODELS" --n-items "$N_ITEMS" --out "$OUT" --file-format parquet
fi
if [[ ! -d $OUT-xlsx ]]; then
  $MEDQL gen --n-models 3 --n-items "$N_ITEMS" --out "$OUT-xlsx" --file-format xlsx
fi

echo "== medql"
cargo bench --locked --quiet --bench queries -- --items "$OUT/GMAI-MMBench_SYNTH.tsv" \
  --predictions "$OUT/predictions" --export "$OUT/scored.parquet" --runs "$RUNS" | tee "$OUT/medql.tsv"

echo "== medql -e, start to printed result"
/usr/bin/time -f "medql -e wall %e s, peak %M kB" $MEDQL --items "$OUT/GMAI-MMBench_SYNTH.tsv" \
  --predictions "$OUT/predictions" -e "by model score acc" > /dev/null

echo "== xlsx load: medql (3 files)"
/usr/bin/time -f "medql xlsx load+score wall %e s, peak %M kB" $MEDQL --items "$OUT-xlsx/GMAI-MMBench_SYNTH.tsv" \
  --predictions "$OUT-xlsx/predictions" -e "score n" > /dev/null

VENV=target/bench-venv
if [[ ! -x $VENV/bin/python ]]; then
  echo "== creating $VENV (duckdb, pandas, openpyxl, pyarrow)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet duckdb pandas openpyxl pyarrow
fi
echo "== duckdb and pandas"
"$VENV/bin/python" scripts/bench_duckdb.py "$OUT/scored.parquet" "$OUT/medql.tsv" "$OUT-xlsx/predictions" "$RUNS"
