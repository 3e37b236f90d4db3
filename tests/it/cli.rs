//! The `medql` binary: the README's commands, output formats, files and exit codes.

use crate::common;
use crate::common::medql;

#[test]
fn demo_run_prints_a_table_per_model_and_says_it_is_demo_data() {
    let (code, out, err) = medql(&["-e", "by model score acc, n"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("built-in synthetic demo data"), "{err}");
    for m in [
        "demo-generalist-7b",
        "demo-medical-13b",
        "demo-small-2b",
        "demo-verbose-7b",
    ] {
        assert!(out.contains(m), "{out}");
    }
    assert!(out.contains("acc"), "{out}");
}

#[test]
fn csv_json_and_markdown_formats() {
    let (code, out, _) = medql(&[
        "--format",
        "csv",
        "-e",
        "by model score n, acc sort acc desc limit 2",
    ]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "model,n,acc");
    assert_eq!(lines.len(), 3);
    let (_, out, _) = medql(&["--format", "json", "-e", "by model score n limit 1"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid json");
    assert_eq!(v[0]["n"], 4550);
    let (_, out, _) = medql(&["--format", "ndjson", "-e", "by model score n"]);
    assert_eq!(out.lines().count(), 4);
    for l in out.lines() {
        serde_json::from_str::<serde_json::Value>(l).expect("each line is json");
    }
    let (_, out, _) = medql(&["--format", "markdown", "-e", "by model score acc limit 1"]);
    assert!(out.starts_with("| model | acc |\n|---|---:|\n"), "{out}");
}

#[test]
fn syntax_error_exits_1_and_points_at_the_word() {
    let (code, _, err) = medql(&["-e", "by model scor acc"]);
    assert_eq!(code, 1);
    assert!(err.contains("query:1:10"), "{err}");
    assert!(err.contains("^^^^"), "{err}");
    assert!(err.contains("expected"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let (code, _, _) = medql(&["--no-such-flag"]);
    assert_eq!(code, 2);
    let (code, _, err) = medql(&["--policy", "strict", "-e", "score n"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = medql(&[
        "--items",
        "/nonexistent/x.tsv",
        "--predictions",
        "/nonexistent",
        "-e",
        "score n",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/x.tsv"), "{err}");
}

#[test]
fn bad_data_exits_1_naming_file_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("bench.tsv");
    std::fs::write(
        &items,
        "index\tquestion\tA\tB\tanswer\n1\tq\tx\ty\tA\nfoo\tq\tx\ty\tB\n",
    )
    .unwrap();
    let preds = dir.path().join("m_bench.csv");
    std::fs::write(&preds, "index,prediction\n1,A\n").unwrap();
    let (code, _, err) = medql(&[
        "--items",
        items.to_str().unwrap(),
        "--predictions",
        preds.to_str().unwrap(),
        "-e",
        "score n",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("bench.tsv, line 3, column `index`"), "{err}");
}

#[test]
fn run_file_with_params_and_parquet_output() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.mql");
    std::fs::write(
        &q,
        "-- accuracy of one model\nwhere model = $m by task score acc, n;\n",
    )
    .unwrap();
    let out = dir.path().join("out.parquet");
    let (code, _, err) = medql(&[
        "--param",
        "m=demo-medical-13b",
        "-o",
        out.to_str().unwrap(),
        "run",
        q.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let f = std::fs::File::open(&out).unwrap();
    let reader =
        medql::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            f,
        )
        .unwrap();
    let kv = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    assert!(kv
        .iter()
        .any(|k| k.key == "medql.policy" && k.value.as_deref() == Some("v2026")));
    let rows: usize = reader.build().unwrap().map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 18, "one row per clinical VQA task");
    // Options may also follow the command.
    let (code, out, err) = medql(&[
        "run",
        q.to_str().unwrap(),
        "--param",
        "m=demo-small-2b",
        "--format",
        "csv",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("task,acc,n\n"), "{out}");
    // A missing parameter names it.
    let (code, _, err) = medql(&["run", q.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("$m"), "{err}");
}

#[test]
fn real_data_command_of_the_issue_prints_vlmevalkit_numbers() {
    let Some(dir) = common::shared_data() else {
        return;
    };
    let items = dir.join("GMAI-MMBench_VAL.tsv");
    let preds = dir.join("predictions");
    let (code, out, err) = medql(&[
        "--items",
        items.to_str().unwrap(),
        "--predictions",
        preds.to_str().unwrap(),
        "--policy",
        "legacy",
        "--format",
        "csv",
        "-e",
        "by model score acc, n",
    ]);
    assert_eq!(code, 0, "{err}");
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let mut seen = 0;
    for r in rdr.records() {
        let r = r.unwrap();
        let model = &r[0];
        let acc: f64 = r[1].parse().unwrap();
        let reference = dir.join(format!(
            "reference/{model}_GMAI-MMBench_VAL_clinical vqa task_acc.csv"
        ));
        let mut ref_rdr = csv::Reader::from_path(reference).unwrap();
        let rec = ref_rdr.records().next().unwrap().unwrap();
        let overall: f64 = rec[1].parse().unwrap();
        assert!(
            (acc - overall * 100.0).abs() < 1e-9,
            "{model}: {acc} vs {overall}"
        );
        assert_eq!(&r[2], "4550");
        seen += 1;
    }
    assert_eq!(seen, 3);
}

#[test]
fn check_lists_every_error_as_file_line_col_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.mql");
    std::fs::write(
        &q,
        "-- three mistakes\nby model score acc;\nby modle score acc;\nwhere #Dermatolgy score n;\nby model scor n;\n",
    )
    .unwrap();
    let qs = q.to_str().unwrap();
    let (code, out, err) = medql(&["check", qs]);
    assert_eq!(code, 1, "{out}{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with(qs)).collect();
    assert_eq!(lines.len(), 3, "{err}");
    assert!(
        lines[0].starts_with(&format!("{qs}:3:4: unknown column `modle`")),
        "{err}"
    );
    assert!(
        lines[1].starts_with(&format!("{qs}:4:7: unknown lexical-tree name")),
        "{err}"
    );
    assert!(
        lines[2].starts_with(&format!("{qs}:5:10: syntax error")),
        "{err}"
    );
    std::fs::write(
        &q,
        "by model score acc;\nlet s = #DD;\nwhere s by task score n;\n",
    )
    .unwrap();
    let (code, out, _) = medql(&["check", qs]);
    assert_eq!(code, 0);
    assert!(out.starts_with("ok"), "{out}");
}

#[test]
fn explain_prints_logical_and_physical_plans() {
    let (code, out, err) = medql(&["explain", "where #CT by model score acc"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("logical plan:"), "{out}");
    assert!(out.contains("Aggregate: groupBy=[[__model_id]]"), "{out}");
    assert!(out.contains("Filter: modality = Utf8(\"CT\")"), "{out}");
    assert!(out.contains("physical plan:"), "{out}");
    assert!(out.contains("AggregateExec"), "{out}");
}

#[test]
fn max_rows_limits_tables_and_markdown_and_states_the_total() {
    // Piped, a table shows every row unless --max-rows says otherwise.
    let (code, out, err) = medql(&["-e", "show index, model"]);
    assert_eq!(code, 0, "{err}");
    // Table lines after the one-line header.
    let data = |out: &str| {
        out.lines()
            .filter(|l| l.starts_with("│ "))
            .count()
            .saturating_sub(1)
    };
    assert_eq!(data(&out), 18200);
    // Rendered in blocks, it still reads as one table.
    assert_eq!(out.matches('┌').count(), 1);
    assert_eq!(out.matches('└').count(), 1);
    assert_eq!(out.matches("│ index").count(), 1);
    assert!(!out.contains("rows shown"), "{}", &out[out.len() - 300..]);

    let (code, out, err) = medql(&["--max-rows", "3", "-e", "show index, model"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(data(&out), 3, "{out}");
    assert!(out.ends_with(
        "(3 of 18200 rows shown; all of them: --max-rows 0, --format csv or -o FILE)\n"
    ));
    let (_, out, _) = medql(&[
        "--max-rows",
        "2",
        "--format",
        "markdown",
        "-e",
        "show index limit 5",
    ]);
    assert_eq!(
        out.lines().filter(|l| l.starts_with('|')).count(),
        4,
        "{out}"
    );
    assert!(out.contains("(2 of 5 rows shown"), "{out}");
    // --max-rows 0 and a limit above the rows: every row, no note.
    for n in ["0", "100"] {
        let (_, out, _) = medql(&["--max-rows", n, "-e", "by model score n"]);
        assert_eq!(data(&out), 4, "{out}");
        assert!(!out.contains("shown"), "{out}");
    }
    // Formats for programs always carry every row.
    let (_, out, _) = medql(&["--max-rows", "3", "--format", "csv", "-e", "show index"]);
    assert_eq!(out.lines().count(), 18201);
    // Each statement gets its own limit and note.
    let (_, out, _) = medql(&[
        "--max-rows",
        "1",
        "-e",
        "by model score n; show index limit 2",
    ]);
    assert!(out.contains("(1 of 4 rows shown"), "{out}");
    assert!(out.contains("(1 of 2 rows shown"), "{out}");
    let (code, _, err) = medql(&["--max-rows", "many", "-e", "score n"]);
    assert_eq!(code, 2, "{err}");
}
