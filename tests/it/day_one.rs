//! What a researcher meets on the first day with VLMEvalKit's real outputs:
//! a folder where only some models have result files, several results with
//! `-o`, a report file of several queries, reproducible full-precision
//! output, a misspelt model, aliases, a TEST split with no answers, and
//! `check` without reading data.

use crate::common;
use crate::common::medql;
use std::path::Path;

/// A VLMEvalKit output folder with three raw prediction files and one
/// judge result file (qwen_chat's), as linked by `run.py`.
fn mixed_folder(dir: &Path, data: &Path) {
    for m in common::MODELS {
        let name = format!("{m}_GMAI-MMBench_VAL.xlsx");
        std::os::unix::fs::symlink(data.join("predictions").join(&name), dir.join(&name)).unwrap();
    }
    let result = "qwen_chat_GMAI-MMBench_VAL_openai_result.xlsx";
    std::os::unix::fs::symlink(data.join("reference").join(result), dir.join(result)).unwrap();
}

fn csv_rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn recorded_is_null_for_models_without_a_result_file() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    mixed_folder(dir.path(), &data);
    let items = data.join("GMAI-MMBench_VAL.tsv");
    let args = |q: &'static str| -> Vec<String> {
        [
            "--no-cache",
            "--items",
            items.to_str().unwrap(),
            "--predictions",
            dir.path().to_str().unwrap(),
            "--policy",
            "recorded",
            "--format",
            "csv",
            "-e",
            q,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |q: &'static str| {
        let a = args(q);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        medql(&refs)
    };
    let (code, out, err) = run("by model score acc, hits, ci, n sort acc desc");
    assert_eq!(code, 0, "{err}");
    // One warning naming both models without verdicts.
    let warning: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("no recorded score"))
        .collect();
    assert_eq!(warning.len(), 1, "{err}");
    assert!(
        warning[0].contains("HuatuoGPT_Vision_7B, Qwen2-VL-7B-Instruct"),
        "{err}"
    );
    assert!(!warning[0].contains("qwen_chat"), "{err}");
    let rows = csv_rows(&out);
    assert_eq!(rows[0], ["model", "acc", "hits", "ci_low", "ci_high", "n"]);
    // qwen_chat: VLMEvalKit's own verdicts; ranked first, the others null
    // (not 0.00, and not ranked below it).
    let hits = common::reference_hits(
        &data.join("reference/qwen_chat_GMAI-MMBench_VAL_openai_result.xlsx"),
    );
    let expected_hits = hits.values().filter(|h| **h).count();
    assert_eq!(rows[1][0], "qwen_chat");
    assert_eq!(rows[1][2], expected_hits.to_string());
    let acc: f64 = rows[1][1].parse().unwrap();
    assert!(
        (acc - 100.0 * expected_hits as f64 / 4550.0).abs() < 1e-9,
        "{acc}"
    );
    for r in &rows[2..] {
        assert!(r[0] != "qwen_chat");
        assert_eq!(&r[1..5], ["", "", "", ""], "{r:?}");
        assert_eq!(r[5], "4550");
    }

    // `by policy`: no `recorded` row for the models without verdicts.
    let (code, out, err) = run("by model, policy score acc");
    assert_eq!(code, 0, "{err}");
    let recorded: Vec<Vec<String>> = csv_rows(&out)
        .into_iter()
        .filter(|r| r[1] == "recorded")
        .collect();
    assert_eq!(recorded.len(), 1, "{out}");
    assert_eq!(recorded[0][0], "qwen_chat");
    // Without a model key, the recorded group holds qwen_chat's rows only.
    let (code, out, err) = run("by policy score acc, n");
    assert_eq!(code, 0, "{err}");
    let rec = csv_rows(&out)
        .into_iter()
        .find(|r| r[0] == "recorded")
        .unwrap();
    assert_eq!(rec[2], "4550", "{out}");
    let acc: f64 = rec[1].parse().unwrap();
    assert!((acc - 100.0 * expected_hits as f64 / 4550.0).abs() < 1e-9);
    // No paired comparison against a model without verdicts: no item in
    // common (n = 0), no accuracies, no McNemar test with its missing
    // verdicts counted as wrong.
    let (code, out, err) = run("compare each vs 'qwen_chat'");
    assert_eq!(code, 0, "{err}");
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 3, "{out}");
    for r in &rows[1..] {
        assert_eq!(r[2], "0", "{out}");
        assert!(
            r[3..8].iter().chain([&r[10]]).all(|c| c.is_empty()),
            "{out}"
        );
    }
    // The two rule sets still score every model.
    let (code, out, _) = run("set policy = legacy; by model score acc");
    assert_eq!(code, 0);
    assert!(
        csv_rows(&out)[1..].iter().all(|r| !r[1].is_empty()),
        "{out}"
    );

    // --strict makes the warning an error.
    let mut a = args("by model score acc");
    a.insert(0, "--strict".into());
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, err) = medql(&refs);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("error (--strict)") && err.contains("no recorded score"),
        "{err}"
    );
}

#[test]
fn with_o_earlier_results_still_print() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.csv");
    for format in ["table", "csv"] {
        let (code, out, err) = medql(&[
            "--format",
            format,
            "-e",
            "by model score n; by model score acc",
            "-o",
            file.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        // The first result on stdout, the last in the file.
        assert!(out.contains("4550"), "{format}: {out}");
        assert!(!out.contains("acc"), "{format}: {out}");
        let written = std::fs::read_to_string(&file).unwrap();
        assert!(written.starts_with("model,acc\n"), "{written}");
        assert_eq!(written.lines().count(), 5);
        assert!(err.contains("wrote 4 rows"), "{err}");
    }
}

#[test]
fn a_report_file_with_two_queries_gives_two_tables() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("two.mql");
    std::fs::write(
        &q,
        "-- Counts and accuracy\n-- Both, one after the other.\nby model score n;\nby task score acc, n sort task;\n",
    )
    .unwrap();
    let md = dir.path().join("r.md");
    let html = dir.path().join("r.html");
    for out in [&md, &html] {
        let (code, _, err) = medql(&["report", q.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
    }
    let text = std::fs::read_to_string(&md).unwrap();
    // One section with its title once, and both tables in order.
    assert_eq!(text.matches("## Counts and accuracy").count(), 1, "{text}");
    let first = text.find("| model | n |").expect("first table");
    let second = text.find("| task | acc | n |").expect("second table");
    assert!(first < second, "{text}");
    assert!(text.contains("4 rows"), "{text}");
    assert!(text.contains("18 rows"), "{text}");
    // Each table has its own query under it.
    assert!(text.contains("```\nby model score n\n```"), "{text}");
    assert!(
        text.contains("```\nby task score acc, n sort task\n```"),
        "{text}"
    );
    let page = std::fs::read_to_string(&html).unwrap();
    // How the numbers were scored (two tables), then the file's section.
    assert_eq!(page.matches("<h2>").count(), 2);
    assert_eq!(page.matches("<div class=\"part\"").count(), 4, "two tables");
    assert!(page.contains("id=\"s1-1\"") && page.contains("id=\"s1-2\""));
}

/// `medql gen` data large enough that the engine splits every aggregate
/// among threads.
fn generated(dir: &Path) -> (String, String) {
    let (items, preds) = common::gen_csv(dir, 6, 20_000);
    (items, preds.display().to_string())
}

#[test]
fn full_precision_output_is_the_same_bytes_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let (items, preds) = generated(dir.path());
    let q = "by model score random, macro(task), macro(department), acc; \
             by granularity score random, macro(modality), macro(category); \
             by model, task score random, macro(category) pivot task with overall; \
             from items by task score random";
    let run = || {
        let (code, out, err) = medql(&[
            "--no-cache",
            "--items",
            &items,
            "--predictions",
            &preds,
            "--format",
            "csv",
            "-e",
            q,
        ]);
        assert_eq!(code, 0, "{err}");
        out
    };
    let first = run();
    for _ in 0..4 {
        assert_eq!(run(), first, "a second run printed other bytes");
    }
    // `random` is the exact mean of 1 / n_options, computed here
    // independently from the items file.
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(&items)
        .unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let opts: Vec<usize> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|l| headers.iter().position(|h| h == l).unwrap())
        .collect();
    let (mut num, mut n) = (0.0f64, 0usize);
    for r in rdr.records() {
        let r = r.unwrap();
        let k = opts.iter().filter(|&&c| !r[c].is_empty()).count();
        num += 1.0 / k as f64;
        n += 1;
    }
    let expected = 100.0 * num / n as f64;
    let line = first.lines().nth(1).unwrap();
    let random: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
    assert!((random - expected).abs() < 1e-9, "{random} vs {expected}");
}

#[test]
fn a_misspelt_model_is_an_error_with_the_nearest_name() {
    let (code, out, err) = medql(&["-e", "where model = 'demo-smal-2b' score n"]);
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("no such model `demo-smal-2b`"), "{err}");
    assert!(err.contains("did you mean `demo-small-2b`?"), "{err}");
    // The query is underlined at the name.
    assert!(err.contains("^^^^^^^^^^^^^^"), "{err}");
    // `!=` too: a typo there would keep every row silently.
    let (code, _, err) = medql(&["-e", "where model != 'demo-medical-31b' by model score n"]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `demo-medical-13b`?"), "{err}");
    // Through a parameter.
    let (code, _, err) = medql(&[
        "--param",
        "who=demo-verbose7b",
        "-e",
        "where model = $who score n",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("did you mean `demo-verbose-7b`?"), "{err}");
    let Some(data) = common::shared_data() else {
        return;
    };
    let items = data.join("GMAI-MMBench_VAL.tsv");
    let preds = data.join("predictions");
    let (code, _, err) = medql(&[
        "--items",
        items.to_str().unwrap(),
        "--predictions",
        preds.to_str().unwrap(),
        "-e",
        "where model = 'qwen-chat' score n",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("no such model `qwen-chat`"), "{err}");
    assert!(err.contains("did you mean `qwen_chat`?"), "{err}");
}

#[test]
fn check_reads_no_data() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.mql");
    std::fs::write(
        &q,
        "set policy = recorded;\nwhere model = 'some_model' and #\"a category of another benchmark\" by task score acc;\n",
    )
    .unwrap();
    // The data named does not exist: it is never opened.
    let missing = dir.path().join("no-such-items.tsv");
    let (code, out, err) = medql(&[
        "--items",
        missing.to_str().unwrap(),
        "--predictions",
        dir.path().join("no-such-dir").to_str().unwrap(),
        "check",
        q.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("ok"), "{out}");
    // Rules that hold for any data are still checked.
    std::fs::write(&q, "by modle score acc;\nby model score acc pivot task;\n").unwrap();
    let (code, _, err) = medql(&[
        "--items",
        missing.to_str().unwrap(),
        "check",
        q.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains(":1:4: unknown column `modle`"), "{err}");
    assert!(err.contains(":2:"), "{err}");
    // Without data named, terms are checked against the built-in vocabulary,
    // model names not at all.
    std::fs::write(&q, "where model = 'qwen_chat' and #Dermatolgy score n;\n").unwrap();
    let (code, _, err) = medql(&["check", q.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown lexical-tree name"), "{err}");
    assert!(!err.contains("no such model"), "{err}");
}

/// A copy of a delimited file without its `answer` column.
fn drop_answer(from: &Path, to: &Path, delimiter: u8) {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .from_path(from)
        .unwrap();
    let headers = rdr.headers().unwrap().clone();
    let a = headers.iter().position(|h| h == "answer").unwrap();
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_path(to)
        .unwrap();
    let keep = |r: &csv::StringRecord| -> Vec<String> {
        r.iter()
            .enumerate()
            .filter(|(i, _)| *i != a)
            .map(|(_, c)| c.to_string())
            .collect()
    };
    w.write_record(keep(&headers)).unwrap();
    for r in rdr.records() {
        w.write_record(keep(&r.unwrap())).unwrap();
    }
    w.flush().unwrap();
}

/// A TEST split as VLMEvalKit keeps it: items and predictions without
/// `answer`, the files named for `GMAI-MMBench_TEST`.
fn test_split(dir: &Path) -> (String, String) {
    let (items, preds) = common::gen_csv(dir, 2, 300);
    let test_items = dir.join("GMAI-MMBench_TEST.tsv");
    drop_answer(Path::new(&items), &test_items, b'\t');
    let test_preds = dir.join("test_predictions");
    std::fs::create_dir(&test_preds).unwrap();
    for f in std::fs::read_dir(&preds).unwrap() {
        let f = f.unwrap().path();
        let name = f
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace("_SYNTH", "_TEST");
        drop_answer(&f, &test_preds.join(name), b',');
    }
    (
        test_items.display().to_string(),
        test_preds.display().to_string(),
    )
}

#[test]
fn a_test_split_report_says_it_has_no_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (items, preds) = test_split(dir.path());
    let md = dir.path().join("r.md");
    let (code, _, err) = medql(&[
        "--no-cache",
        "--items",
        &items,
        "--predictions",
        &preds,
        "report",
        "--leaderboard",
        "-o",
        md.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        text.contains("(GMAI-MMBench_TEST) have no answers: a TEST split is scored by the benchmark's own server"),
        "{text}"
    );
    assert!(!text.contains("this run (VAL)"), "{text}");
    // The leaderboard is shown without this run's (empty) rows.
    let section = &text[text.find("## Against the published leaderboard").unwrap()..];
    assert!(!section.contains("(this run)"), "{section}");
    assert!(section.contains("no accuracy to rank"), "{section}");
}

#[test]
fn aliases_split_at_the_last_equals_sign() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("aliases.txt");
    std::fs::write(&f, "# run = published\nrun=a=Qwen-VL-Chat\nbroken\n").unwrap();
    let (code, _, err) = medql(&[
        "report",
        "--leaderboard",
        "--alias-file",
        f.to_str().unwrap(),
        "-o",
        dir.path().join("r.md").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("aliases.txt, line 3"), "{err}");
    // The run's model is `run=a`: the demo has no such model.
    let (code, _, err) = medql(&[
        "report",
        "--leaderboard",
        "--alias",
        "run=a=Qwen-VL-Chat",
        "-o",
        dir.path().join("r.md").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--alias run=a=Qwen-VL-Chat"), "{err}");
    assert!(err.contains("`run=a`"), "{err}");
}
