"""medql in a notebook: load GMAI-MMBench results, compare models per
clinical VQA task, and draw a bar chart.

Each `# %%` block is a cell in Jupyter (through jupytext), VS Code or
PyCharm; the file also runs as a script:

    python examples/notebook.py [DATA_DIR]

DATA_DIR holds GMAI-MMBench_VAL.tsv and a predictions/ folder of VLMEvalKit
files; by default ../shared/data/gmai-mmbench beside the checkout, and the
built-in demo data when that is absent. The chart needs matplotlib and
pandas (`pip install matplotlib pandas pyarrow`); it is shown in a notebook
and written to tasks.png (in $MEDQL_EXAMPLE_OUT when set) by the script.
"""

# %%
import os
import pathlib
import sys

import medql

here = pathlib.Path(__file__).resolve().parent
data = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here.parent.parent / "shared" / "data" / "gmai-mmbench"
if (data / "GMAI-MMBench_VAL.tsv").exists():
    s = medql.Session(items=data / "GMAI-MMBench_VAL.tsv", predictions=data / "predictions")
else:
    print(f"no data at {data}: using the demo data")
    s = medql.Session()
print(s)

# %% [markdown]
# Accuracy per model with a 95% Wilson interval, under the current rules
# and under VLMEvalKit's 2024 rules.

# %%
print(s.query("by model score acc, ci, n sort acc desc"))
print(s.query("by model, policy score acc pivot policy"))

# %% [markdown]
# Tasks as rows, one column per model.

# %%
per_task = s.query("by task, model score acc pivot model")
print(per_task)

# %% [markdown]
# Which differences are real: McNemar per task, Holm-adjusted.

# %%
if len(s.models) >= 2:
    a, b = (m.replace("'", "''") for m in s.models[:2])
    print(s.query(f"by task compare '{a}' vs '{b}' sort p_holm limit 5"))

# %%
try:
    import matplotlib
    import pandas  # noqa: F401
except ImportError:
    print("matplotlib is not installed (or pandas): no chart; pip install matplotlib pandas pyarrow")
else:
    if "ipykernel" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = per_task.to_pandas().set_index("task").sort_index(ascending=False)
    ax = df.plot.barh(figsize=(9, 10), width=0.8)
    ax.set_xlabel("accuracy (%)")
    ax.set_ylabel("")
    ax.set_title(f"Accuracy per clinical VQA task ({s.policy} rules)")
    plt.tight_layout()
    out = pathlib.Path(os.environ.get("MEDQL_EXAMPLE_OUT", ".")) / "tasks.png"
    plt.savefig(out, dpi=100)
    print(f"wrote {out}")
    if "ipykernel" in sys.modules:
        plt.show()
