#!/usr/bin/env bash
# Benchmarks: medql against DuckDB, pandas and VLMEvalKit-style Python on the
# same synthetic data, ending with every figure beside its target.
#   scripts/bench.sh [N_MODELS] [N_ITEMS]      (default 100 x 25831 = 2.58M predictions)
# Builds medql in release mode, generates the data, times medql's five
# representative queries warm (in-process, median), exports the scored
# relation to Parquet, times the same queries in DuckDB in memory (in a
# Python virtual environment this script creates), the extraction rules in
# Python per row, pandas.read_excel (calamine) on 10 xlsx files, medql's
# cold start beside DuckDB reading the same Parquet files, medql -e from a
# warm cache, an items TSV with a 2 GB image column, the peak memory of
# printing a 1M-row result as a table with every row (--max-rows 0), and
# 1,000 models (BIG_MODELS): first run, warm start, the five queries
# against DuckDB.
set -euo pipefail
cd "$(dirname "$0")/.."
N_MODELS=${1:-100}
N_ITEMS=${2:-25831}
OUT=target/bench-data/${N_MODELS}x${N_ITEMS}
RUNS=${RUNS:-10}
IMAGE_BYTES=${IMAGE_BYTES:-80000}   # x 25,831 items: about 2.07 GB of base64
mkdir -p "$OUT"
FIG=$OUT/figures.tsv
: > "$FIG"

echo "== building (release)"
cargo build --release --locked --quiet
cargo bench --locked --bench queries --no-run --quiet 2>/dev/null || cargo bench --locked --bench queries --no-run
MEDQL=target/release/medql

if [[ ! -f $OUT/GMAI-MMBench_SYNTH.tsv ]]; then
  echo "== generating $N_MODELS models x $N_ITEMS items (parquet)"
  $MEDQL gen --n-models "$N_MODELS" --n-items "$N_ITEMS" --out "$OUT" --file-format parquet
fi
XLSX=target/bench-data/10x${N_ITEMS}-xlsx
if [[ ! -d $XLSX ]]; then
  echo "== generating 10 models x $N_ITEMS items (xlsx)"
  $MEDQL gen --n-models 10 --n-items "$N_ITEMS" --out "$XLSX" --file-format xlsx
fi
if [[ ! -d $OUT-images ]]; then
  echo "== generating $N_ITEMS items with ${IMAGE_BYTES}-byte images"
  $MEDQL gen --n-models 1 --n-items "$N_ITEMS" --out "$OUT-images" --file-format csv --image-bytes "$IMAGE_BYTES"
fi
ITEMS=$OUT/GMAI-MMBench_SYNTH.tsv
PREDS=$OUT/predictions

echo "== medql: load, scoring, extraction, five queries (in-process)"
cargo bench --locked --quiet --bench queries -- --items "$ITEMS" \
  --predictions "$PREDS" --export "$OUT/scored.parquet" --runs "$RUNS" | tee "$OUT/medql.tsv"

# Wall seconds and peak kB of one command, appended to $FIG under a name.
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/time.txt" "$@" > /dev/null 2> "$OUT/stderr.txt"
  read -r wall peak < "$OUT/time.txt"
  printf '%s\t%s\t%s\n' "$name" "$wall" "$peak" >> "$FIG"
  echo "$name: ${wall} s, peak ${peak} kB"
}

echo "== medql -e, start to printed result"
CACHE=$OUT/cache
rm -rf "$CACHE"
for i in 1 2 3; do
  measure "medql -e cold (no cache)" $MEDQL --no-cache --items "$ITEMS" --predictions "$PREDS" -e "by model score acc"
done
measure "medql -e first run (fills the cache)" $MEDQL --cache "$CACHE" --items "$ITEMS" --predictions "$PREDS" -e "by model score acc"
for i in 1 2 3 4 5; do
  measure "medql -e warm cache" $MEDQL --cache "$CACHE" --items "$ITEMS" --predictions "$PREDS" -e "by model score acc"
done
rm -rf "$CACHE"

echo "== xlsx: medql reads, checks and scores 10 files"
for i in 1 2 3; do
  measure "medql xlsx load+score (10 files)" $MEDQL --no-cache --items "$XLSX/GMAI-MMBench_SYNTH.tsv" \
    --predictions "$XLSX/predictions" -e "score n"
done

echo "== items TSV with a large image column"
IMG_TSV=$OUT-images/GMAI-MMBench_SYNTH.tsv
printf 'image tsv bytes\t%s\t0\n' "$(stat -c %s "$IMG_TSV")" >> "$FIG"
cat "$IMG_TSV" > /dev/null   # the page cache holds it, as for every other figure
for i in 1 2 3; do
  measure "medql items tsv with images" $MEDQL --no-cache --items "$IMG_TSV" -e "from items show index limit 1"
done

echo "== a 1M-row result printed as a table with every row (40 models x 25,831 items)"
TABLE=target/bench-data/40x25831-csv
if [[ ! -f $TABLE/GMAI-MMBench_SYNTH.tsv ]]; then
  $MEDQL gen --n-models 40 --n-items 25831 --out "$TABLE" --file-format csv
fi
measure "medql 1M-row table, all rows" $MEDQL --no-cache --items "$TABLE/GMAI-MMBench_SYNTH.tsv" \
  --predictions "$TABLE/predictions" --max-rows 0 -e "show *"
measure "medql 1M-row csv" $MEDQL --no-cache --items "$TABLE/GMAI-MMBench_SYNTH.tsv" \
  --predictions "$TABLE/predictions" --format csv -e "show *"

# 1,000 models (25.8M predictions): the first run that fills the cache,
# the warm start, and the five queries in-process (BIG_MODELS=0 skips).
BIG_MODELS=${BIG_MODELS:-1000}
BIG=target/bench-data/${BIG_MODELS}x${N_ITEMS}
if [[ $BIG_MODELS -gt 0 ]]; then
  if [[ ! -f $BIG/GMAI-MMBench_SYNTH.tsv ]]; then
    echo "== generating $BIG_MODELS models x $N_ITEMS items (parquet)"
    $MEDQL gen --n-models "$BIG_MODELS" --n-items "$N_ITEMS" --out "$BIG" --file-format parquet
  fi
  echo "== $BIG_MODELS models: first run, warm start, five queries"
  rm -rf "$BIG/cache"
  measure "big: first run (fills the cache)" $MEDQL --cache "$BIG/cache" --items "$BIG/GMAI-MMBench_SYNTH.tsv" \
    --predictions "$BIG/predictions" -e "by model score acc"
  printf 'big cache bytes\t%s\t0\n' "$(du -sb "$BIG/cache" | cut -f1)" >> "$FIG"
  for i in 1 2 3; do
    measure "big: warm start" $MEDQL --cache "$BIG/cache" --items "$BIG/GMAI-MMBench_SYNTH.tsv" \
      --predictions "$BIG/predictions" -e "by model score acc"
  done
  cargo bench --locked --quiet --bench queries -- --items "$BIG/GMAI-MMBench_SYNTH.tsv" \
    --predictions "$BIG/predictions" --cache "$BIG/cache" --cache-build "$MEDQL" --no-extraction --export "$BIG/scored.parquet" \
    --export-columns model,dataset,index,task,department,modality,answered,question,answer,choice_v2026,correct_v2026,prediction --runs "$RUNS" | tee "$BIG/medql.tsv"
fi

VENV=target/bench-venv
if [[ ! -x $VENV/bin/python ]]; then
  echo "== creating $VENV (duckdb, pandas, python-calamine, openpyxl, pyarrow)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet duckdb pandas python-calamine openpyxl pyarrow
fi
echo "== duckdb, pandas, Python extraction; summary"
if [[ $BIG_MODELS -gt 0 ]]; then
  export BIG_SCORED=$BIG/scored.parquet BIG_MEDQL=$BIG/medql.tsv BIG_MODELS
fi
"$VENV/bin/python" scripts/bench_duckdb.py "$OUT/scored.parquet" "$OUT/medql.tsv" "$XLSX/predictions" "$RUNS" "$FIG" "$PREDS"
