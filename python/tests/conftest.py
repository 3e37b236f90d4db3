"""Shared fixtures: the real GMAI-MMBench data beside the checkout, the
command-line binary the results are compared with, and a session on each."""

import os
import pathlib
import subprocess

import pytest

import medql

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data" / "gmai-mmbench"
IN_CI = os.environ.get("CI") == "true"


def need(condition, why):
    """Skip when `condition` is false, except under CI=true where it fails."""
    if condition:
        return
    if IN_CI:
        pytest.fail(why + " (CI=true: required)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def shared():
    need((SHARED / "GMAI-MMBench_VAL.tsv").exists(), f"no real data at {SHARED}")
    return SHARED


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def real(shared, cache_dir):
    """The real items and the three models' prediction files."""
    return medql.Session(
        items=shared / "GMAI-MMBench_VAL.tsv",
        predictions=shared / "predictions",
        cache=cache_dir,
    )


@pytest.fixture(scope="session")
def cli():
    """The medql binary `cargo test` builds (MEDQL_BIN overrides)."""
    path = pathlib.Path(os.environ.get("MEDQL_BIN", ROOT / "target" / "debug" / "medql"))
    need(path.exists(), f"no medql binary at {path}: run `cargo build` first")

    def run(*args, check=True):
        done = subprocess.run(
            [str(path), "--no-cache", *map(str, args)],
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"medql {args} failed: {done.stderr}")
        return done

    return run
