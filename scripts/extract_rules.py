"""VLMEvalKit's multiple-choice answer extraction, in plain Python, per row.

The three rule sets of ../../shared/design/extraction.md (`legacy`, v2024:
VLMEvalKit until PR #1175, 2025-08-04; `v2025`: until PR #1552, 2026-06-17;
`current`, v2026: VLMEvalKit today), written the way VLMEvalKit
applies them: a function of one row (the prediction and the option cells),
called row by row over a pandas DataFrame. VLMEvalKit is not on PyPI, so the
rules are carried here and checked against VLMEvalKit's own result files.

usage:
  extract_rules.py check DATA_DIR
      apply the three rule sets to the 3 models' predictions in DATA_DIR
      (../shared/data/gmai-mmbench) and compare with VLMEvalKit's `hit`
      (legacy) and `opt_new` (current), and v2025's accuracies with the
      figures of the design notes; exit 1 on any mismatch.
  extract_rules.py time PARQUET_OR_DIR [--sample N]
      time the rule sets per row on a sample of N rows (default 200000) of
      (prediction, A..E) from a Parquet file (medql's scored export) or from
      the prediction files of a data directory, and print
      `python extraction <policy>\\t<rows/s>\\tpredictions/s\\t<N> rows in <secs> s`.
"""
import glob
import os
import re
import string
import sys
import time

import pandas as pd

POLICIES = ("legacy", "v2025", "current")

# medql's scored columns (in its Parquet export) of each rule set here.
MEDQL_CHOICES = {"choice_v2024": "legacy", "choice_v2025": "v2025", "choice_v2026": "current"}

# v2025 has no VLMEvalKit file here to compare with, row by row; its
# accuracies on these files are the design notes' figures.
V2025_ACCURACY = {"HuatuoGPT_Vision_7B": "44.77", "Qwen2-VL-7B-Instruct": "46.11", "qwen_chat": "29.58"}

# ---------------------------------------------------------------- the rules

API_FAILURE = "Failed to obtain answer via API"

REFUSALS = [
    "Sorry, I can't help with images of people yet.",
    "I can't process this file.",
    "I'm sorry, but without the image provided",
    "Cannot determine the answer",
]

# Replaced by a space before the prediction is split into tokens.
PUNCTUATION = ".()[],:;!*#{}"

# The current policy's `answer is X` search (Python's re: \s and IGNORECASE
# are Python's, as in VLMEvalKit).
ANSWER_IS = re.compile(r"(?:correct\s+)?answer\s+is\s+\**([ABCD])\**", re.IGNORECASE)


def build_choices(item):
    """The option letters of a row whose cell is present and non-empty, in
    letter order, each with its option text. Cells are read the pandas way
    (an empty cell is NaN) and str()-ed, as VLMEvalKit does."""
    choices = {}
    for letter in string.ascii_uppercase:
        if letter in item:
            value = item[letter]
            if pd.isna(value):
                continue
            text = str(value)
            if text == "":
                continue
            choices[letter] = text
    return choices


def can_infer_option(answer, choices, policy):
    """The letter pass (and, under `current`, the `answer is X` search).

    Returns a letter (`Z` included) or False when it fails."""
    if API_FAILURE in answer:
        # Step 1.1: the letter pass fails; under `current` the `answer is`
        # search is skipped too.
        return False

    for phrase in REFUSALS:
        if phrase in answer:
            return "Z"

    answer_mod = answer
    for ch in PUNCTUATION:
        answer_mod = answer_mod.replace(ch, " ")
    tokens = answer_mod.split()

    found = [c for c in choices if c in tokens]
    if len(found) == 1:
        letter = found[0]
        if policy == "legacy":
            return letter
        # v2025 and current: its first occurrence must be among the last
        # four tokens.
        if tokens.index(letter) > len(tokens) - 5:
            return letter
    elif len(found) == 0 and "Z" in tokens:
        return "Z"

    if policy == "current":
        m = ANSWER_IS.search(answer)
        if m:
            letter = m.group(1).upper()
            if letter in choices:
                return letter
    return False


def can_infer_text(answer, choices, policy):
    """The option-text pass: exactly one option text (lower-cased) occurs in
    the lower-cased prediction. Returns the letter or False."""
    answer = answer.lower()
    if policy != "legacy":
        # Lengths in code points; the prediction lower-cased, the option
        # texts as given.
        if len(answer) > 2 * sum(len(text) for text in choices.values()):
            return False
    cands = []
    for letter, text in choices.items():
        if text.lower() in answer:
            cands.append(letter)
    if len(cands) == 1:
        return cands[0]
    return False


def can_infer(answer, choices, policy):
    answer = str(answer)  # NaN -> 'nan'
    letter = can_infer_option(answer, choices, policy)
    if letter:
        return letter
    return can_infer_text(answer, choices, policy)


def extract_answer_from_item(item, policy):
    """The option letter for one row (prediction and options); `Z` = none."""
    choices = build_choices(item)
    letter = can_infer(item["prediction"], choices, policy)
    return letter if letter else "Z"


def extract_frame(df, policy):
    """Apply one rule set row by row, as VLMEvalKit does."""
    return df.apply(lambda item: extract_answer_from_item(item, policy), axis=1)


# -------------------------------------------------------- reading the files

MODELS = ["qwen_chat", "Qwen2-VL-7B-Instruct", "HuatuoGPT_Vision_7B"]
OPTION_COLUMNS = list("ABCDE")


def prediction_files(data_dir):
    files = sorted(glob.glob(os.path.join(data_dir, "predictions", "*_GMAI-MMBench_VAL.xlsx")))
    return {os.path.basename(f).split("_GMAI-MMBench_VAL")[0]: f for f in files}


def load_predictions(path):
    """A VLMEvalKit prediction file, read and prepared as VLMEvalKit does."""
    data = pd.read_excel(path)
    data = data.sort_values(by="index")
    data["prediction"] = [str(x) for x in data["prediction"]]
    return data


def load_items(data_dir):
    tsv = os.path.join(data_dir, "GMAI-MMBench_VAL.tsv")
    return pd.read_csv(tsv, sep="\t", usecols=lambda c: c != "image")


# ------------------------------------------------------------------- check

def check(data_dir):
    items = load_items(data_dir)
    answer_map = {i: a for i, a in zip(items["index"], items["answer"])}
    files = prediction_files(data_dir)
    total_bad = 0
    for model in MODELS:
        if model not in files:
            print(f"{model}: no prediction file in {data_dir}/predictions")
            total_bad += 1
            continue
        data = load_predictions(files[model])
        # VLMEvalKit scores only predictions whose index is in the benchmark,
        # against the benchmark's answers.
        data = data[data["index"].isin(answer_map)].reset_index(drop=True)
        data["GT"] = [answer_map[i] for i in data["index"]]

        ref = pd.read_excel(
            os.path.join(data_dir, "reference", f"{model}_GMAI-MMBench_VAL_openai_result.xlsx"))
        hit = {i: int(h) for i, h in zip(ref["index"], ref["hit"])}
        cur = pd.read_csv(os.path.join(data_dir, "reference", f"{model}_current_policy.csv"))
        opt_new = {i: str(o) for i, o in zip(cur["index"], cur["opt_new"])}

        for policy in POLICIES:
            choice = extract_frame(data, policy)
            bad = []
            acc = 100.0 * (choice == data["GT"]).mean()
            for i, (idx, gt, c) in enumerate(zip(data["index"], data["GT"], choice)):
                if policy == "v2025":
                    break
                if policy == "legacy":
                    mine = int(c == gt)
                    expected = hit.get(idx)
                    ok = mine == expected
                    what = f"choice {c}, answer {gt}, hit {mine}, VLMEvalKit hit {expected}"
                else:
                    expected = opt_new.get(idx)
                    ok = c == expected
                    what = f"choice {c}, VLMEvalKit opt_new {expected}"
                if not ok:
                    bad.append((idx, what, data["prediction"].iloc[i]))
            # Items VLMEvalKit scored that this run did not.
            scored = set(data["index"])
            ref_idx = {"legacy": hit, "current": opt_new}.get(policy, {})
            unseen = [k for k in ref_idx if k not in scored]
            n_bad = len(bad) + len(unseen)
            if policy == "v2025" and f"{acc:.2f}" != V2025_ACCURACY[model]:
                print(f"    v2025 accuracy {acc:.2f}%, expected {V2025_ACCURACY[model]}%")
                n_bad += 1
            print(f"{model:22} {policy:8} {len(data)} rows, {n_bad} mismatches, "
                  f"accuracy {acc:.2f}%")
            for idx, what, pred in bad[:5]:
                print(f"    index {idx}: {what}; prediction {pred[:300]!r}")
            if unseen:
                print(f"    {len(unseen)} reference items without a prediction row, e.g. {unseen[:5]}")
            total_bad += n_bad
    print(f"total mismatches: {total_bad}")
    return 1 if total_bad else 0


# -------------------------------------------------------------------- time

def load_sample(source, n):
    """(prediction, A..E) rows: from a Parquet file (or a directory of them),
    or from the prediction xlsx files of a data directory. At most n rows, a
    seeded random sample when the source has more."""
    columns = ["prediction"] + OPTION_COLUMNS
    extra = []
    if os.path.isdir(source) and prediction_files(source):
        frames = [load_predictions(f)[columns] for f in prediction_files(source).values()]
        df = pd.concat(frames, ignore_index=True)
    else:
        paths = [source] if not os.path.isdir(source) else sorted(
            glob.glob(os.path.join(source, "**", "*.parquet"), recursive=True))
        import pyarrow.parquet as pq
        names = pq.read_schema(paths[0]).names
        extra = [c for c in MEDQL_CHOICES if c in names]
        df = pd.concat([pd.read_parquet(p, columns=columns + extra) for p in paths],
                       ignore_index=True)
    if len(df) > n:
        df = df.sample(n=n, random_state=0).reset_index(drop=True)
    # VLMEvalKit str()s the prediction column before scoring.
    df["prediction"] = [str(x) for x in df["prediction"]]
    # Option cells as pandas gives them for a file (NaN for no option).
    for c in OPTION_COLUMNS:
        df[c] = df[c].astype(object).where(df[c].notna(), float("nan"))
    return df, extra


def time_policies(source, n=200000, out=sys.stdout):
    df, extra = load_sample(source, n)
    rows = len(df)
    frame = df[["prediction"] + OPTION_COLUMNS]
    results = {}
    for policy in POLICIES:
        t = time.perf_counter()
        choice = extract_frame(frame, policy)
        secs = time.perf_counter() - t
        results[policy] = choice
        print(f"python extraction {policy}\t{rows / secs:.0f}\tpredictions/s\t"
              f"{rows} rows in {secs:.2f} s", file=out)
    # When the sample carries medql's own choices, say how far they agree.
    for col in extra:
        policy = MEDQL_CHOICES[col]
        agree = int((results[policy].to_numpy() == df[col].astype(str).to_numpy()).sum())
        print(f"# python vs medql {col}: {agree}/{rows} rows agree", file=out)
    return results


def main(argv):
    if len(argv) >= 2 and argv[0] == "check":
        return check(argv[1])
    if len(argv) >= 2 and argv[0] == "time":
        n = 200000
        if "--sample" in argv:
            n = int(argv[argv.index("--sample") + 1])
        time_policies(argv[1], n)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
