"""Results: the same numbers as the command line, Arrow export without
copies, the table text and the HTML view."""

import csv
import html.parser
import io
import math

import pyarrow as pa
import pytest

import medql

REAL_QUERIES = [
    "by model score acc, ci, n, fail sort acc desc",
    "set policy = v2024; by model, task score acc, n sort model, task",
    "by model score acc pivot model with overall",
    "where #DD and #CT by model score acc, se, n",
    "by granularity compare 'Qwen2-VL-7B-Instruct' vs 'qwen_chat'",
    "from results where model = 'qwen_chat' and not correct show dataset, index, choice, answer sort index limit 40",
    "from item_stats sort discrimination limit 25",
]


def csv_value(text, arrow_type):
    """A CSV cell of the command line's output, as the Python value the
    Arrow column holds."""
    if text == "":
        return None if not pa.types.is_string(arrow_type) else text
    if pa.types.is_integer(arrow_type):
        return int(text)
    if pa.types.is_floating(arrow_type):
        return float(text)
    if pa.types.is_boolean(arrow_type):
        return text == "true"
    return text


def same(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b


@pytest.mark.parametrize("q", REAL_QUERIES)
def test_results_equal_the_command_lines_csv(real, shared, cli, q):
    real.policy = "current"
    r = real.query(q)
    table = pa.table(r)
    out = cli(
        "--items", shared / "GMAI-MMBench_VAL.tsv",
        "--predictions", shared / "predictions",
        "--format", "csv", "-e", q,
    ).stdout
    rows = list(csv.reader(io.StringIO(out)))
    header, body = rows[0], rows[1:]
    assert header == table.column_names == r.columns
    assert len(body) == table.num_rows == len(r)
    assert len(body) > 0
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    for i, line in enumerate(body):
        for j, text in enumerate(line):
            want = csv_value(text, table.schema.field(j).type)
            got = columns[j][i]
            if text == "" and got in (None, ""):
                continue  # CSV writes null and empty text alike
            assert same(got, want), f"row {i}, column {header[j]}: {got!r} != {want!r}"


def test_the_session_keeps_what_statements_set(real):
    def acc():
        r = real.query("where model = 'HuatuoGPT_Vision_7B' score acc")
        return round(pa.table(r).column("acc")[0].as_py(), 2)

    try:
        real.query("set policy = v2024")
        assert real.policy == "v2024"
        # VLMEvalKit's 2024 rules give HuatuoGPT-Vision 48.90 on VAL, its
        # 2025 rules 44.77.
        assert acc() == 48.90
        real.policy = "v2025"
        assert acc() == 44.77
    finally:
        real.policy = "current"


def test_export_shares_the_buffers():
    s = medql.Session()
    r = s.query("from results show model, index, choice, correct limit 500")
    first = pa.table(r)
    second = pa.table(r)
    assert first.num_rows == 500
    # Two exports of one result read the same memory: nothing was copied.
    for name in ["model", "index", "choice"]:
        a = first.column(name).chunks
        b = second.column(name).chunks
        assert len(a) == len(b) > 0
        for x, y in zip(a, b):
            bx = [buf.address for buf in x.buffers() if buf is not None]
            by = [buf.address for buf in y.buffers() if buf is not None]
            assert bx == by
    # Text columns are plain UTF-8, which every Arrow reader knows.
    assert first.schema.field("model").type == pa.string()
    assert r.to_arrow().equals(first)


def test_pandas_polars_and_duckdb_read_the_result():
    s = medql.Session()
    r = s.query("by model score acc, n sort model")
    df = r.to_pandas()
    assert list(df.columns) == ["model", "acc", "n"]
    assert len(df) == len(r) == len(s.models)
    assert list(df["model"]) == sorted(s.models)
    polars = pytest.importorskip("polars")
    p = r.to_polars()
    assert isinstance(p, polars.DataFrame)
    assert p["model"].to_list() == list(df["model"])
    duckdb = pytest.importorskip("duckdb")
    rows = duckdb.arrow(r).fetchall()
    assert [row[0] for row in rows] == list(df["model"])


def test_repr_is_the_command_lines_table(cli):
    r = medql.Session().query("by model score acc, ci, n sort acc desc")
    out = cli("-e", "by model score acc, ci, n sort acc desc").stdout
    text = repr(r)
    assert text.startswith(out.rstrip("\n"))
    assert text.endswith(f"({len(r)} rows)")
    assert str(r) == text


def test_repr_of_a_long_result_says_how_many_rows():
    r = medql.Session().query("from results show model, index")
    assert len(r) > 50
    assert repr(r).endswith(f"({len(r)} rows; the first 50 shown)")


class Tags(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


HOSTILE = "<script>alert('x')</script>"
IMG = "<img src=x onerror=alert(1)>"


def test_repr_html_escapes_hostile_text(tmp_path):
    items = tmp_path / "Bench.tsv"
    items.write_text(
        "index\tquestion\tA\tB\tanswer\tclinical VQA task\n"
        "1\tq one\tyes\tno\tA\tDiagnosis\n2\tq two\tyes\tno\tB\tDiagnosis\n"
    )
    preds = tmp_path / "m_Bench.csv"
    with open(preds, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["model", "index", "prediction"])
        w.writerows([[HOSTILE, 1, IMG], [HOSTILE, 2, "B"], ["plain", 1, HOSTILE], ["plain", 2, "A"]])
    s = medql.Session(items=items, predictions=preds, cache=False)
    assert HOSTILE in s.models
    for q in ["by model score acc, n", "from results show model, prediction"]:
        page = s.query(q)._repr_html_()
        p = Tags()
        p.feed(page)
        assert set(p.tags) <= {"table", "thead", "tbody", "tr", "th", "td", "p"}, p.tags
        assert "<script" not in page and "<img" not in page
        assert HOSTILE in "".join(p.text)
    # Numbers as the command line shows them: percentages with two decimals.
    page = s.query("by model score acc sort model")._repr_html_()
    assert ">50.00<" in page and ">0.00<" in page


def test_query_parameters():
    s = medql.Session()
    model = s.models[0]
    r = s.query("where model = $m by model score n", m=model)
    assert pa.table(r).column("model").to_pylist() == [model]
    few = s.query("from results where model = $m and index >= $lo and index < $hi show index", m=model, lo=1, hi=4.0)
    assert sorted(pa.table(few).column("index").to_pylist()) == [1, 2, 3]
    # Parameters hold for the one call.
    with pytest.raises(medql.QueryError) as e:
        s.query("where model = $m score n")
    assert "no value for parameter `$m`" in str(e.value)
    with pytest.raises(TypeError):
        s.query("where model = $m score n", m=True)


def test_run_a_query_file(tmp_path):
    f = tmp_path / "q.mql"
    f.write_text("-- two queries\nby model score n;\nby model score acc sort acc desc limit 2;\n")
    s = medql.Session()
    last = s.run(f)
    assert last.columns == ["model", "acc"] and len(last) == 2
    both = s.run(str(f), all=True)
    assert [x.columns for x in both] == [["model", "n"], ["model", "acc"]]
    assert s.query("set policy = v2024") is None
    with pytest.raises(medql.DataError) as e:
        s.run(tmp_path / "missing.mql")
    assert e.value.file.endswith("missing.mql")
