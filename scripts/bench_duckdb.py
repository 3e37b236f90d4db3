"""Time medql's five benchmark queries in DuckDB on the same scored data,
in memory, warm, and print medql/DuckDB ratios; time pandas.read_excel on
the xlsx prediction files that medql loaded.

usage: bench_duckdb.py SCORED.parquet MEDQL.tsv XLSX_DIR RUNS
"""
import glob
import statistics
import sys
import time

import duckdb
import pandas as pd

scored, medql_tsv, xlsx_dir, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

con = duckdb.connect()
con.execute(f"CREATE TABLE results AS SELECT * FROM read_parquet('{scored}')")
model = con.execute("SELECT DISTINCT model FROM results ORDER BY model").fetchall()
model = model[1][0] if len(model) > 1 else model[0][0]

# The same questions as medql's QUERIES, under the current policy.
QUERIES = [
    ("overall by model",
     "SELECT model, 100.0 * sum(CASE WHEN correct_current THEN 1 ELSE 0 END) / count(*) AS acc "
     "FROM results GROUP BY model ORDER BY model"),
    ("model x department on #DD and #CT",
     "SELECT model, department, 100.0 * sum(CASE WHEN correct_current THEN 1 ELSE 0 END) / count(*) AS acc "
     "FROM results WHERE task = 'Disease Diagnosis' AND modality = 'CT' "
     "GROUP BY model, department ORDER BY model, department NULLS LAST"),
    ("pivot by task",
     "PIVOT (SELECT model, task, correct_current::INT AS c FROM results) ON task USING avg(c) * 100 "
     "GROUP BY model ORDER BY model"),
    ("paired comparison by task",
     "WITH best AS (SELECT model FROM results GROUP BY model "
     "  ORDER BY avg(correct_current::INT) DESC, model LIMIT 1), "
     "a AS (SELECT * FROM results WHERE model <> (SELECT model FROM best)), "
     "b AS (SELECT * FROM results WHERE model = (SELECT model FROM best)) "
     "SELECT a.task, a.model AS model_a, b.model AS model_b, count(*) AS n, "
     "100.0 * avg(a.correct_current::INT) AS acc_a, 100.0 * avg(b.correct_current::INT) AS acc_b, "
     "sum(CASE WHEN a.correct_current AND NOT b.correct_current THEN 1 ELSE 0 END) AS only_a, "
     "sum(CASE WHEN b.correct_current AND NOT a.correct_current THEN 1 ELSE 0 END) AS only_b "
     "FROM a JOIN b ON a.dataset = b.dataset AND a.\"index\" = b.\"index\" "
     "WHERE a.answered AND b.answered GROUP BY a.task, a.model, b.model ORDER BY a.task, model_a"),
    ("20 failures of one model",
     f"SELECT \"index\", question, answer, choice_current, prediction FROM results "
     f"WHERE model = '{model}' AND NOT correct_current ORDER BY \"index\" LIMIT 20"),
]

medql = {}
for line in open(medql_tsv):
    parts = line.rstrip("\n").split("\t")
    if parts[0] == "query":
        medql[parts[1]] = float(parts[2])

print(f"{'query':38} {'medql ms':>10} {'duckdb ms':>10} {'ratio':>7}")
for name, sql in QUERIES:
    con.execute(sql).fetchall()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        con.execute(sql).fetchall()
        times.append((time.perf_counter() - t) * 1e3)
    d = statistics.median(times)
    m = medql.get(name, float("nan"))
    print(f"{name:38} {m:10.2f} {d:10.2f} {m / d:7.2f}")

files = sorted(glob.glob(f"{xlsx_dir}/*.xlsx"))
t = time.perf_counter()
rows = sum(len(pd.read_excel(f)) for f in files)
print(f"pandas.read_excel: {len(files)} files, {rows} rows in {time.perf_counter() - t:.2f} s")


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
    time_policies(parquet, n)


python_extraction_timing(scored)
