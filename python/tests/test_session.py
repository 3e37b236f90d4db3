"""Sessions: loading (demo, paths, lists, the cache), the tree, reports,
and the example script."""

import os
import pathlib
import subprocess
import sys

import pyarrow as pa
import pytest

import medql

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_no_data_is_the_demo_data():
    s = medql.Session()
    assert s.demo
    assert s.items > 0 and len(s.models) >= 3
    r = s.query("by model score acc")
    assert r.columns == ["model", "acc"]
    assert len(r) == len(s.models)


def test_real_data_loads_from_paths_lists_and_the_cache(shared, cache_dir):
    preds = sorted((shared / "predictions").glob("*.xlsx"))
    first = medql.Session(items=str(shared / "GMAI-MMBench_VAL.tsv"), predictions=preds, cache=cache_dir)
    assert first.items == 4550
    assert first.datasets == ["GMAI-MMBench_VAL"]
    assert len(first.models) == 3
    assert any(cache_dir.rglob("*")), "the cache directory was written"
    again = medql.Session(
        items=pathlib.Path(shared / "GMAI-MMBench_VAL.tsv"),
        predictions=[str(p) for p in preds],
        cache=str(cache_dir),
    )
    q = "by model score acc, n sort model"
    assert pa.table(first.query(q)).equals(pa.table(again.query(q)))
    off = medql.Session(items=shared / "GMAI-MMBench_VAL.tsv", predictions=preds[:1], cache=False)
    assert len(off.models) == 1


def test_load_items_then_predictions(shared, cache_dir):
    s = medql.Session(cache=cache_dir)
    assert s.demo
    s.load_items(shared / "GMAI-MMBench_VAL.tsv")
    assert not s.demo and s.items == 4550 and s.models == []
    s.policy = "v2024"
    s.load_predictions(shared / "predictions" / "qwen_chat_GMAI-MMBench_VAL.xlsx")
    assert s.models == ["qwen_chat"]
    assert s.policy == "v2024", "a load keeps the policy"
    acc = pa.table(s.query("score acc")).column("acc")[0].as_py()
    assert round(acc, 2) == 33.63


def test_tree_of_the_real_data(real):
    t = real.tree()
    assert set(t) == {"task", "department", "granularity"}
    assert t["task"]["n"] == 4550
    tasks = t["task"]["children"]
    assert len(tasks) == 18
    assert sum(v["n"] for v in tasks.values()) == 4550
    dd = real.tree(path="DD")
    assert list(dd) == ["Disease Diagnosis"]
    node = dd["Disease Diagnosis"]
    assert node["n"] == tasks["Disease Diagnosis"]["n"]
    assert sum(m["n"] for m in node["children"].values()) == node["n"]
    n_dd = pa.table(real.query("from items where #DD score n")).column("n")[0].as_py()
    assert node["n"] == n_dd
    ct = real.tree(dataset="gmai-mmbench_val", path="task/DD/CT")
    (name,) = ct
    n_ct = pa.table(real.query("from items where #DD and #CT score n")).column("n")[0].as_py()
    assert ct[name]["n"] == n_ct
    with pytest.raises(medql.Error, match="did you mean"):
        real.tree(path="Disease Diagnosys")
    with pytest.raises(medql.Error, match="no dataset"):
        real.tree(dataset="nope")


def test_tree_of_another_benchmark(tmp_path):
    items = tmp_path / "Bench.tsv"
    items.write_text(
        "index\tquestion\tA\tB\tanswer\tcategory\tl2-category\n"
        "1\tq\ty\tn\tA\tvision\tcolor\n2\tq\ty\tn\tB\tvision\tshape\n3\tq\ty\tn\tA\treasoning\tlogic\n"
    )
    s = medql.Session(items=items, cache=False)
    t = s.tree()
    (root,) = t
    assert t[root]["n"] == 3
    kids = t[root]["children"]
    assert kids["vision"]["n"] == 2 and kids["reasoning"]["n"] == 1


def test_report_writes_html(real, tmp_path):
    out = real.report(tmp_path / "report.html")
    page = pathlib.Path(out).read_text()
    assert out == str(tmp_path / "report.html")
    assert "<html" in page and "qwen_chat" in page
    md = real.report(tmp_path / "report.md", leaderboard=True)
    assert "| model" in pathlib.Path(md).read_text()


def test_example_script_runs(shared, tmp_path):
    env = dict(os.environ, MPLBACKEND="Agg", MEDQL_EXAMPLE_OUT=str(tmp_path))
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "notebook.py"), str(shared)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "Disease Diagnosis" in done.stdout or "DD" in done.stdout
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in done.stdout
    else:
        png = tmp_path / "tasks.png"
        assert png.exists() and png.stat().st_size > 1000


def test_a_load_releases_the_gil_and_ctrl_c_stops_waiting_for_it(shared, tmp_path):
    import shutil
    import signal
    import threading
    import time

    # The real predictions copied under 20 model names each: a load long
    # enough to interrupt (the three files alone load in well under 0.2 s).
    preds = tmp_path / "predictions"
    preds.mkdir()
    for f in (shared / "predictions").glob("*.xlsx"):
        for k in range(20):
            shutil.copy(f, preds / f"copy{k}-{f.name}")
    args = dict(items=shared / "GMAI-MMBench_VAL.tsv", predictions=preds, cache=False)
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.01)

    t = threading.Thread(target=tick)
    start = time.monotonic()
    t.start()
    try:
        s = medql.Session(**args)
    finally:
        stop.set()
        t.join()
    took = time.monotonic() - start
    assert len(s.models) == 60
    # The other thread ran all along (one tick per 10 ms at most).
    assert len(ticks) > 0.3 * took / 0.01, (len(ticks), took)
    assert took >= 0.2, f"a load of {took:.2f} s is too quick to interrupt: copy more files"

    timer = threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.monotonic()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        medql.Session(**args)
    timer.cancel()
    assert time.monotonic() - start < took / 2, "the interrupt waited for the load"
