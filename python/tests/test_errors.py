"""Errors are exceptions with their places; warnings go through `warnings`."""

import json
import os
import pathlib
import re
import signal
import threading
import time
import warnings

import pytest

import medql

CORPUS = pathlib.Path(__file__).resolve().parents[2] / "tests" / "corpus" / "fatal.json"
ITEM_HEADER = (
    "index\tquestion\tA\tB\tC\tD\tE\tanswer\tcategory\tclinical VQA task\tdepartment\t"
    "perceptual granularity\tmodality\timage\n"
)


def items_text(n):
    """A VLMEvalKit-shaped items TSV of n items (as the Rust corpus writes it)."""
    rows = [ITEM_HEADER]
    for i in range(1, n + 1):
        answer = "ABC"[(i - 1) % 3]
        rows.append(
            f"{i}\tWhat does image {i} show?\tpneumonia\tfracture\tnormal\t\t\t{answer}\tchest\t"
            "Disease Diagnosis\tPulmonary Medicine\tImage level\tX-ray\tiVBORw0KGgo=\n"
        )
    return "".join(rows)


def case_bytes(text):
    r"""A corpus file's text as bytes: `\xHH` is a byte, `\\` a backslash."""
    if text.startswith("@items "):
        return items_text(int(text[len("@items "):])).encode()
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if text[i + 1] == "x":
                out.append(int(text[i + 2 : i + 4], 16))
                i += 4
                continue
            if text[i + 1] == "\\":
                out.append(ord("\\"))
                i += 2
                continue
            raise ValueError(f"unknown escape in {text!r}")
        out.extend(c.encode())
        i += 1
    return bytes(out)


def test_query_error_span_is_in_characters():
    s = medql.Session()
    text = "where question = 'é ü 肺' and modle = 'x' score acc"
    with pytest.raises(medql.QueryError) as e:
        s.query(text)
    err = e.value
    start, end = err.span
    assert text[start:end] == "modle"
    assert err.line == 1 and err.col == start + 1
    assert "model" in (err.help or "")
    # The message shows the line and underlines the span.
    lines = str(err).splitlines()
    assert any(text in line for line in lines)
    caret = next(line for line in lines if "^" in line)
    assert caret.count("^") == len("modle")
    assert isinstance(err, medql.Error) and isinstance(err, Exception)


def test_syntax_error_on_a_later_line():
    s = medql.Session()
    text = "by model score acc;\nby model scor acc"
    with pytest.raises(medql.QueryError) as e:
        s.query(text)
    assert e.value.line == 2
    start, _ = e.value.span
    assert text[start:].startswith("scor")


def test_check_returns_errors_without_raising():
    s = medql.Session()
    assert s.check("by model score acc; where #DD by task score n") == []
    errors = s.check("by model score acc;\nby modle score acc;\nby model score acx")
    assert [type(e) for e in errors] == [medql.QueryError, medql.QueryError]
    assert [e.line for e in errors] == [2, 3]
    # check changes nothing
    assert s.policy == "v2026"


def test_explain_gives_the_plans():
    s = medql.Session()
    text = s.explain("by model score acc")
    assert "logical plan:" in text and "physical plan:" in text
    assert s.explain("let x = #DD; where x by model score acc").count("logical plan:") == 1
    with pytest.raises(medql.QueryError):
        s.explain("set policy = v2024")
    with pytest.raises(medql.QueryError):
        s.explain("by nothing score acc")


@pytest.mark.parametrize(
    "case",
    json.loads(CORPUS.read_text()),
    ids=lambda c: c["case"],
)
def test_bad_input_is_a_data_error_naming_file_place_column(tmp_path, case):
    paths = {}
    for name, text in case["files"].items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(case_bytes(text))
        paths[name] = str(p)
    fatal = case["fatal"]
    with pytest.raises(medql.DataError) as e:
        s = medql.Session(
            items=[paths[n] for n in case["items"]],
            predictions=[paths[n] for n in case["predictions"]],
            cache=False,
        )
        s.query(case.get("query") or "score n")
    err = e.value
    assert err.file == paths[fatal["file"]]
    assert err.place == fatal["place"]
    assert err.column == fatal["column"]
    if err.place is None:
        assert err.row is None
    else:
        assert err.place.endswith(f" {err.row}")
    for fragment in fatal["says"]:
        assert fragment in str(err)
    assert str(err).startswith(err.file)


def test_warnings_go_through_the_warnings_module(tmp_path):
    items = tmp_path / "Bench_VAL.tsv"
    items.write_text(items_text(3))
    preds = tmp_path / "m_Bench_VAL.csv"
    preds.write_text("index,question,prediction\n1,What does image 9 show?,A\n2,x,B\n3,y,C\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = medql.Session(items=items, predictions=preds, cache=False)
    ours = [w for w in caught if issubclass(w.category, medql.DataWarning)]
    assert len(ours) == 1
    assert "differs from the items file" in str(ours[0].message)
    assert s.warnings == [str(ours[0].message)]
    # strict: the warning is an error naming the file.
    with pytest.raises(medql.DataError) as e:
        medql.Session(items=items, predictions=preds, cache=False, strict=True)
    assert e.value.file == str(preds)
    # Warnings made errors by the filter raise too.
    with warnings.catch_warnings():
        warnings.simplefilter("error", medql.DataWarning)
        with pytest.raises(medql.DataWarning):
            medql.Session(items=items, predictions=preds, cache=False)


def test_bad_arguments():
    with pytest.raises(medql.Error, match="unknown policy"):
        medql.Session(policy="v1999")
    with pytest.raises(medql.Error, match="predictions need items"):
        medql.Session(predictions="x.xlsx")
    with pytest.raises(TypeError):
        medql.Session(items=42)
    with pytest.raises(ValueError):
        medql.Session(memory_limit="lots")
    s = medql.Session(memory_limit="512M")
    with pytest.raises(medql.Error, match="unknown policy"):
        s.policy = "nope"
    with pytest.raises(medql.Error, match="load items first"):
        s.load_predictions("x.xlsx")


def test_ctrl_c_cancels_a_running_query(monkeypatch):
    s = medql.Session()
    monkeypatch.setenv("MEDQL_TEST_QUERY_DELAY_MS", "20000")
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        s.query("by model score acc")
    took = time.monotonic() - start
    timer.cancel()
    assert took < 10, f"the query ran on for {took:.1f} s"
    monkeypatch.delenv("MEDQL_TEST_QUERY_DELAY_MS")
    # The session still answers.
    assert len(s.query("by model score acc")) == len(s.models)


def test_a_running_query_releases_the_gil(monkeypatch):
    s = medql.Session()
    monkeypatch.setenv("MEDQL_TEST_QUERY_DELAY_MS", "1000")
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    t = threading.Thread(target=tick)
    t.start()
    try:
        s.query("by model score acc")
    finally:
        stop.set()
        t.join()
    # About 100 ticks in the second the query slept; with the GIL held, ~0.
    assert len(ticks) > 30


def test_policy_names_are_canonical():
    s = medql.Session(policy="legacy")
    assert s.policy == "v2024"
    s.policy = "current"
    assert s.policy == "v2026"
    assert {"v2024", "v2025", "v2026"} <= set(s.policies)
    assert re.match(r"medql\.Session\(\d+ items in .*, \d+ models, policy v2026, demo data\)", repr(s))
