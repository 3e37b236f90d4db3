"""Time medql's five benchmark queries in DuckDB on the same scored data,
in memory, warm, and print medql/DuckDB ratios; time pandas.read_excel on
the xlsx prediction files that medql loaded.

usage: bench_duckdb.py SCORED.parquet MEDQL.tsv XLSX_DIR RUNS [FIGURES.tsv [PREDICTIONS_DIR]]

With BIG_SCORED and BIG_MEDQL set (the scored relation and the harness's
output at BIG_MODELS models), it also times the five queries there, DuckDB
loading only the columns they use.

With FIGURES.tsv (written by scripts/bench.sh: name, wall seconds, peak kB
per measured command), it ends with every figure of the benchmark beside
its target. With PREDICTIONS_DIR (the Parquet prediction files medql
loaded cold), it also times DuckDB reading them into memory, the peer of
medql's cold start.
"""
import glob
import os
import statistics
import sys
import time

import duckdb
import pandas as pd

scored, medql_tsv, xlsx_dir, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

# The columns the five queries read: what DuckDB loads of 1,000 models.
QUERY_COLUMNS = ["model", "dataset", "index", "task", "department", "modality", "answered",
                 "question", "answer", "choice_v2026", "correct_v2026", "prediction"]


def connect(parquet, columns=None):
    con = duckdb.connect()
    cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    con.execute(f"CREATE TABLE results AS SELECT {cols} FROM read_parquet('{parquet}')")
    model = con.execute("SELECT DISTINCT model FROM results ORDER BY model").fetchall()
    model = model[1][0] if len(model) > 1 else model[0][0]
    return con, model


def queries(model):
    """The same questions as medql's QUERIES, under the current policy (v2026)."""
    return [
    ("overall by model",
     "SELECT model, 100.0 * sum(CASE WHEN correct_v2026 THEN 1 ELSE 0 END) / count(*) AS acc "
     "FROM results GROUP BY model ORDER BY model"),
    ("model x department on #DD and #CT",
     "SELECT model, department, 100.0 * sum(CASE WHEN correct_v2026 THEN 1 ELSE 0 END) / count(*) AS acc "
     "FROM results WHERE task = 'Disease Diagnosis' AND modality = 'CT' "
     "GROUP BY model, department ORDER BY model, department NULLS LAST"),
    ("pivot by task",
     "PIVOT (SELECT model, task, correct_v2026::INT AS c FROM results) ON task USING avg(c) * 100 "
     "GROUP BY model ORDER BY model"),
    ("paired comparison by task",
     "WITH best AS (SELECT model FROM results GROUP BY model "
     "  ORDER BY avg(correct_v2026::INT) DESC, model LIMIT 1), "
     "a AS (SELECT * FROM results WHERE model <> (SELECT model FROM best)), "
     "b AS (SELECT * FROM results WHERE model = (SELECT model FROM best)) "
     "SELECT a.task, a.model AS model_a, b.model AS model_b, count(*) AS n, "
     "100.0 * avg(a.correct_v2026::INT) AS acc_a, 100.0 * avg(b.correct_v2026::INT) AS acc_b, "
     "sum(CASE WHEN a.correct_v2026 AND NOT b.correct_v2026 THEN 1 ELSE 0 END) AS only_a, "
     "sum(CASE WHEN b.correct_v2026 AND NOT a.correct_v2026 THEN 1 ELSE 0 END) AS only_b "
     "FROM a JOIN b ON a.dataset = b.dataset AND a.\"index\" = b.\"index\" "
     "WHERE a.answered AND b.answered GROUP BY a.task, a.model, b.model ORDER BY a.task, model_a"),
    ("20 failures of one model",
     f"SELECT \"index\", question, answer, choice_v2026, prediction FROM results "
     f"WHERE model = '{model}' AND NOT correct_v2026 ORDER BY \"index\" LIMIT 20"),
    ]


def read_harness(path):
    """medql's query times and the harness's other lines."""
    medql, harness = {}, {}
    for line in open(path):
        parts = line.rstrip("\n").split("\t")
        if parts[0] == "query":
            medql[parts[1]] = float(parts[2])
        elif len(parts) >= 2:
            harness[parts[0]] = parts[1:]
    return medql, harness


def time_queries(con, model, medql, label=""):
    """Each query's medql and DuckDB medians (ms), printed as a table."""
    ratios = {}
    print(f"{'query' + label:38} {'medql ms':>10} {'duckdb ms':>10} {'ratio':>7}")
    for name, sql in queries(model):
        con.execute(sql).fetchall()  # warm-up
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            con.execute(sql).fetchall()
            times.append((time.perf_counter() - t) * 1e3)
        d = statistics.median(times)
        m = medql.get(name, float("nan"))
        ratios[name] = (m, d)
        print(f"{name:38} {m:10.2f} {d:10.2f} {m / d:7.2f}")
    return ratios


con, model = connect(scored)
medql, harness = read_harness(medql_tsv)
ratios = time_queries(con, model, medql)
con.close()

# 1,000 models: DuckDB loads only the columns the five queries use.
big_ratios, big_harness = {}, {}
if os.environ.get("BIG_SCORED"):
    big_con, big_model = connect(os.environ["BIG_SCORED"], QUERY_COLUMNS)
    big_medql, big_harness = read_harness(os.environ["BIG_MEDQL"])
    big_ratios = time_queries(big_con, big_model, big_medql, f" ({os.environ.get('BIG_MODELS')} models)")
    big_con.close()

# pandas reading the xlsx files medql loads, with its fastest engine.
try:
    import python_calamine  # noqa: F401
    engine = "calamine"
except ImportError:
    engine = "openpyxl"
files = sorted(glob.glob(f"{xlsx_dir}/*.xlsx"))
pandas_secs = []
for _ in range(3):
    t = time.perf_counter()
    rows = sum(len(pd.read_excel(f, engine=engine)) for f in files)
    pandas_secs.append(time.perf_counter() - t)
pandas_s = statistics.median(pandas_secs)
print(f"pandas.read_excel (engine={engine}): {len(files)} files, {rows} rows in {pandas_s:.2f} s (median of 3)")


# --- Python extraction timing (scripts/extract_rules.py) --------------------
# VLMEvalKit's extraction rules applied per row in Python, both policies, on a
# sample of the scored Parquet. PY_EXTRACT_SAMPLE sets the sample size
# (default 200000); 0 skips the step.
def python_extraction_timing(parquet):
    import os
    n = int(os.environ.get("PY_EXTRACT_SAMPLE", "200000"))
    if n <= 0:
        return
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from extract_rules import time_policies
    import io
    buf = io.StringIO()
    time_policies(parquet, n, out=buf)
    print(buf.getvalue(), end="")
    rates = {}
    for line in buf.getvalue().splitlines():
        parts = line.split("\t")
        if parts[0].startswith("python extraction "):
            rates[parts[0].split()[-1]] = float(parts[1])
    return rates


python_rates = python_extraction_timing(scored) or {}


# --- DuckDB reading the prediction files, the peer of medql's cold start ----
def duckdb_parquet_load(pred_dir):
    files = sorted(glob.glob(f"{pred_dir}/*.parquet"))
    if not files:
        return None
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    secs = []
    for _ in range(3):
        c = duckdb.connect()
        t = time.perf_counter()
        c.execute(f"CREATE TABLE p AS SELECT * FROM read_parquet([{listed}])")
        secs.append(time.perf_counter() - t)
        c.close()
    d = statistics.median(secs)
    print(f"duckdb read_parquet: {len(files)} files in {d:.2f} s (median of 3)")
    return d, len(files)


parquet_load = duckdb_parquet_load(sys.argv[6]) if len(sys.argv) > 6 else None


# --- Summary: every figure beside its target -------------------------------
def summary(figures_path):
    figs = {}
    for line in open(figures_path):
        name, wall, peak = line.rstrip("\n").split("\t")
        figs.setdefault(name, []).append((float(wall), int(peak)))

    def med(name, i):
        v = [x[i] for x in figs.get(name, [])]
        return statistics.median(v) if v else float("nan")

    rows = []
    for name, (m, d) in ratios.items():
        rows.append((f"query: {name}", f"{m:.2f} ms vs DuckDB {d:.2f} ms = {m / d:.2f}",
                     "ratio <= 1.0", m / d <= 1.0))
    cur = harness.get("extraction v2026 (one core)")
    leg = harness.get("extraction v2024 (one core)")
    if cur:
        rate = float(cur[2].split()[0]) if len(cur) > 2 else float("nan")
        py = python_rates.get("current")
        extra = f"; Python per row {py:,.0f}/s (x{rate / py:,.0f})" if py else ""
        rows.append(("extraction, current policy (one core)", f"{rate:,.0f} predictions/s{extra}",
                     ">= 1,000,000/s", rate >= 1e6))
    if leg:
        rate = float(leg[2].split()[0]) if len(leg) > 2 else float("nan")
        py = python_rates.get("legacy")
        extra = f"; Python per row {py:,.0f}/s" if py else ""
        rows.append(("extraction, legacy policy (one core)", f"{rate:,.0f} predictions/s{extra}",
                     "(no target)", True))
    sc = harness.get("scoring (every rule set, in parallel)")
    if sc:
        rows.append(("scoring, every rule set, all cores", f"{sc[0]} s ({sc[2]})", "(no target)", True))
    x = med("medql xlsx load+score (10 files)", 0)
    rows.append((f"xlsx cold start ({len(files)} files)",
                 f"medql {x:.2f} s (load, check, score, whole process) vs pandas.read_excel({engine}) {pandas_s:.2f} s = {pandas_s / x:.1f}x",
                 ">= 3x faster", pandas_s / x >= 3))
    size = med("image tsv bytes", 0)
    w, p = med("medql items tsv with images", 0), med("medql items tsv with images", 1)
    rows.append(("items TSV with images", f"{size / 1e9:.2f} GB in {w:.2f} s = {size / 1e6 / w:.0f} MB/s, peak {p / 1024:.0f} MB",
                 ">= 500 MB/s, peak < 300 MB", size / 1e6 / w >= 500 and p / 1024 < 300))
    cold, cold_peak = med("medql -e cold (no cache)", 0), med("medql -e cold (no cache)", 1)
    if parquet_load:
        d, n = parquet_load
        rows.append((f"cold start, {n} Parquet files",
                     f"medql {cold:.2f} s (load, check, score every rule set, first query), peak {cold_peak / 1024:.0f} MB "
                     f"vs DuckDB read_parquet {d:.2f} s = {cold / d:.2f}",
                     "ratio <= 1.0, peak < 800 MB", cold / d <= 1.0 and cold_peak / 1024 < 800))
    w, p = med("medql -e warm cache", 0), med("medql -e warm cache", 1)
    rows.append(("medql -e, warm cache", f"{w:.2f} s (cold, no cache: {cold:.2f} s), peak {p / 1024:.0f} MB",
                 "< 0.5 s", w < 0.5))
    w, p = med("medql 1M-row table, all rows", 0), med("medql 1M-row table, all rows", 1)
    pc = med("medql 1M-row csv", 1)
    rows.append(("1M-row table, every row (--max-rows 0)", f"{w:.2f} s, peak {p / 1024:.0f} MB (csv: peak {pc / 1024:.0f} MB)",
                 "peak < 1 GB", p < 1024 * 1024))
    hwm = harness.get("peak memory (VmHWM)")
    if hwm:
        kb = float(hwm[0])
        rows.append(("peak memory, whole benchmark session", f"{kb / 1024:.0f} MB", "< 2 GB", kb < 2 * 1024 * 1024))
    if big_ratios:
        n = os.environ.get("BIG_MODELS")
        first, first_peak = med("big: first run (fills the cache)", 0), med("big: first run (fills the cache)", 1)
        size = med("big cache bytes", 0)
        w, p = med("big: warm start", 0), med("big: warm start", 1)
        rows.append((f"{n} models: first run", f"{first:.1f} s, peak {first_peak / 1024:.0f} MB, cache {size / 1e9:.2f} GB",
                     "(no target)", True))
        rows.append((f"{n} models: warm start", f"{w:.2f} s to the first printed result", "< 1.5 s", w < 1.5))
        rows.append((f"{n} models: peak memory, warm", f"{p / 1024:.0f} MB", "< 4 GB", p < 4 * 1024 * 1024))
        for name, (m, d) in big_ratios.items():
            rows.append((f"{n} models: {name}", f"{m:.2f} ms vs DuckDB {d:.2f} ms = {m / d:.2f}",
                         "ratio <= 1.0", m / d <= 1.0))
    print()
    print(f"{'figure':40} {'measured':90} {'target':28} met")
    for name, value, target, ok in rows:
        print(f"{name:40} {value:90} {target:28} {'yes' if ok else 'NO'}")


if len(sys.argv) > 5:
    summary(sys.argv[5])
