//! The bad-input corpus: every file here is written by the test itself (no
//! committed blobs), the real `medql` binary is run on it, and the outcome is
//! checked against the contract of docs/reliability.md:
//!
//! * bad input is fatal (exit 1) with one `medql: error:` line naming the file,
//!   the place as a person finds it (`row N` of a spreadsheet, header = row 1;
//!   `line N` of a TSV, CSV or JSONL file; `record N` of JSON and Parquet), the
//!   column, and what was expected;
//! * a recoverable problem is a `warning:` line with counts, and the run goes on;
//! * never a panic, never a silent drop: every prediction row read is scored or
//!   counted in the `coverage` relation (`read = scored + duplicated + unknown +
//!   invalid`).
//!
//! A case that needs only text files and ends in one fatal error is a row of
//! `tests/corpus/fatal.json` (run by `fatal_cases_from_the_table`); cases that
//! build workbooks or Parquet files, or check several outcomes, are functions.

use crate::common;
use std::path::{Path, PathBuf};

// ----------------------------------------------------------------- helpers --

/// One run of the binary.
struct Run {
    code: i32,
    out: String,
    err: String,
}

/// Run `medql`; whatever the case, it must not panic.
fn run(args: &[&str]) -> Run {
    let (code, out, err) = common::medql(args);
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "medql panicked (exit {code}) on {args:?}:\n{err}"
    );
    Run { code, out, err }
}

/// Load items and predictions and run one query, CSV output.
fn query(items: &[&str], preds: &[&str], q: &str) -> Run {
    let mut args = vec!["--format", "csv"];
    if !items.is_empty() {
        args.push("--items");
        args.extend_from_slice(items);
    }
    if !preds.is_empty() {
        args.push("--predictions");
        args.extend_from_slice(preds);
    }
    args.extend_from_slice(&["-e", q]);
    run(&args)
}

/// A successful run's CSV output as rows (header first).
fn csv_rows(r: &Run) -> Vec<Vec<String>> {
    assert_eq!(r.code, 0, "expected success, stderr:\n{}", r.err);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(r.out.as_bytes())
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// A query's result rows without the header.
fn table(items: &[&str], preds: &[&str], q: &str) -> Vec<Vec<String>> {
    let r = query(items, preds, q);
    let mut rows = csv_rows(&r);
    assert!(!rows.is_empty(), "no header in output of {q}");
    rows.remove(0);
    rows
}

/// `[read, scored, duplicated, unknown, invalid, missing]` per model, from the
/// `coverage` relation; checks `read = scored + duplicated + unknown + invalid`.
fn coverage(items: &[&str], preds: &[&str]) -> Vec<(String, [i64; 6])> {
    table(
        items,
        preds,
        "from coverage show model, read, scored, duplicated, unknown, invalid, missing",
    )
    .into_iter()
    .map(|r| {
        let mut n = [0i64; 6];
        for (k, v) in r[1..7].iter().enumerate() {
            n[k] = v.parse().unwrap_or_else(|_| panic!("not a count: {r:?}"));
        }
        assert_eq!(
            n[0],
            n[1] + n[2] + n[3] + n[4],
            "read != scored + duplicated + unknown + invalid for {}",
            r[0]
        );
        (r[0].clone(), n)
    })
    .collect()
}

/// `(model, acc, n, missing)` per model; acc is "" when null.
fn scores(items: &[&str], preds: &[&str]) -> Vec<(String, String, i64, i64)> {
    table(items, preds, "by model score acc, n, missing")
        .into_iter()
        .map(|r| {
            (
                r[0].clone(),
                r[1].clone(),
                r[2].parse().unwrap(),
                r[3].parse().unwrap(),
            )
        })
        .collect()
}

fn line(n: u64) -> String {
    format!("line {n}")
}
fn row(n: u64) -> String {
    format!("row {n}")
}
fn record(n: u64) -> String {
    format!("record {n}")
}

/// A fatal data error: exit 1, nothing on stdout, and a stderr line
/// `medql: error: FILE[, PLACE][, column `COL`]: MESSAGE` with every fragment
/// in it. All mismatches are reported together.
fn assert_fatal(
    r: &Run,
    file: &str,
    place: Option<&str>,
    column: Option<&str>,
    fragments: &[&str],
) {
    let mut head = format!("medql: error: {file}");
    if let Some(p) = place {
        head.push_str(&format!(", {p}"));
    }
    if let Some(c) = column {
        head.push_str(&format!(", column `{c}`"));
    }
    head.push_str(": ");
    let mut problems = vec![];
    if r.code != 1 {
        problems.push(format!("exit code {} (expected 1)", r.code));
    }
    if !r.out.is_empty() {
        problems.push(format!("stdout not empty: {:?}", r.out));
    }
    let msg = r.err.lines().find(|l| l.starts_with("medql: error:"));
    match msg {
        None => problems.push("no `medql: error:` line".into()),
        Some(m) => {
            if !m.starts_with(&head) {
                problems.push(format!("expected the line to start with {head:?}"));
            }
            for f in fragments {
                if !m.contains(f) {
                    problems.push(format!("missing {f:?}"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "contract not met:\n  - {}\nstderr was:\n{}",
        problems.join("\n  - "),
        r.err
    );
}

/// A warning line containing every fragment.
fn assert_warning(r: &Run, fragments: &[&str]) {
    assert_eq!(r.code, 0, "stderr:\n{}", r.err);
    assert!(
        r.err
            .lines()
            .any(|l| l.starts_with("warning: ") && fragments.iter().all(|f| l.contains(f))),
        "no warning line with {fragments:?}; stderr:\n{}",
        r.err
    );
}

/// A temporary directory of generated inputs.
struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        Dir(tempfile::tempdir().expect("temp dir"))
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
    /// Write `bytes` to `name` (creating sub-directories), return the path.
    fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    }
    /// A good items file `Bench_VAL.tsv` with `n` items (indexes 1..=n).
    fn items(&self, n: usize) -> String {
        self.write("Bench_VAL.tsv", items_text(n))
    }
}

const ITEM_HEADER: &str = "index\tquestion\tA\tB\tC\tD\tE\tanswer\tcategory\tclinical VQA task\tdepartment\tperceptual granularity\tmodality\timage\n";

/// A VLMEvalKit-shaped items TSV: three options, answers A, B, C in turn.
fn items_text(n: usize) -> String {
    let mut t = String::from(ITEM_HEADER);
    for i in 1..=n {
        let answer = ["A", "B", "C"][(i - 1) % 3];
        t.push_str(&format!(
            "{i}\tWhat does image {i} show?\tpneumonia\tfracture\tnormal\t\t\t{answer}\tchest\tDisease Diagnosis\tPulmonary Medicine\tImage level\tX-ray\tiVBORw0KGgo=\n"
        ));
    }
    t
}

/// A cell of a generated workbook.
enum X<'a> {
    S(&'a str),
    N(f64),
    Empty,
}

/// An .xlsx workbook with one sheet: a header row and data rows.
fn xlsx_bytes(header: &[&str], rows: &[Vec<X>]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (r, cells) in rows.iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let (r, c) = (r as u32 + 1, c as u16);
            match cell {
                X::S(s) => {
                    ws.write_string(r, c, *s).unwrap();
                }
                X::N(f) => {
                    ws.write_number(r, c, *f).unwrap();
                }
                X::Empty => {}
            }
        }
    }
    wb.save_to_buffer().unwrap()
}

/// A Parquet file with text columns `index` and `prediction`.
fn write_parquet(path: &Path, rows: &[(Option<&str>, Option<&str>)]) {
    use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;
    use std::sync::Arc;
    let schema = Arc::new(Schema::new(vec![
        Field::new("index", DataType::Utf8, true),
        Field::new("prediction", DataType::Utf8, true),
    ]));
    let index: ArrayRef = Arc::new(rows.iter().map(|r| r.0).collect::<StringArray>());
    let pred: ArrayRef = Arc::new(rows.iter().map(|r| r.1).collect::<StringArray>());
    let batch = RecordBatch::try_new(schema.clone(), vec![index, pred]).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(f, schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

// ------------------------------------------------------ 1-3: empty, not a zip --

#[test]
fn empty_prediction_file_is_fatal_in_every_format() {
    let d = Dir::new();
    let items = d.items(3);
    for ext in ["csv", "tsv", "json", "jsonl", "parquet", "xlsx"] {
        let preds = d.write(&format!("m_Bench_VAL.{ext}"), "");
        let r = query(&[&items], &[&preds], "score n");
        assert_fatal(&r, &preds, None, None, &["the file is empty"]);
    }
}

#[test]
fn truncated_xlsx_is_fatal() {
    let d = Dir::new();
    let items = d.items(3);
    let whole = xlsx_bytes(
        &["index", "prediction"],
        &[
            vec![X::N(1.0), X::S("A")],
            vec![X::N(2.0), X::S("B")],
            vec![X::N(3.0), X::S("C")],
        ],
    );
    // The whole workbook loads and scores ...
    let good = d.write("m_Bench_VAL.xlsx", &whole);
    assert_eq!(
        coverage(&[&items], &[&good]),
        vec![("m".to_string(), [3, 3, 0, 0, 0, 0])]
    );
    // ... half of it does not.
    let half = d.write("cut/m_Bench_VAL.xlsx", &whole[..whole.len() / 2]);
    let r = query(&[&items], &[&half], "score n");
    assert_fatal(
        &r,
        &half,
        None,
        None,
        &["cannot read as an .xlsx workbook", "is the file complete?"],
    );
}

// ------------------------------------------------------------ 4: ragged rows --

#[test]
fn ragged_prediction_csv_rows_are_fatal() {
    let d = Dir::new();
    let items = d.items(3);
    let more = d.write("m_Bench_VAL.csv", "index,prediction\n1,A\n2,B,stray\n3,C\n");
    let r = query(&[&items], &[&more], "score n");
    assert_fatal(
        &r,
        &more,
        Some(&line(3)),
        None,
        &["3 fields where the header has 2"],
    );
    let fewer = d.write("short/m_Bench_VAL.csv", "index,prediction\n1,A\n2,B\n3\n");
    let r = query(&[&items], &[&fewer], "score n");
    assert_fatal(
        &r,
        &fewer,
        Some(&line(4)),
        None,
        &["1 fields where the header has 2"],
    );
}

// ------------------------------------------ 5-6: quoting, CRLF and the BOM --

#[test]
fn quoted_tabs_and_newlines_survive_in_items_and_predictions() {
    let d = Dir::new();
    let items = d.write(
        "Bench_VAL.tsv",
        "index\tquestion\tA\tB\tanswer\n\
         1\t\"Two\nlines, a\ttab and \"\"quotes\"\"\"\t\"tab\there\"\tno\tA\n\
         2\tq\tx\ty\tB\n",
    );
    let preds = d.write(
        "m_Bench_VAL.csv",
        "index,prediction\n1,\"\ntab\there\"\n2,\"B,\nsurely\"\n",
    );
    let rows = table(
        &[&items],
        &[&preds],
        "show index, question, A, prediction, choice_legacy, rule_legacy, choice_current, rule_current",
    );
    assert_eq!(
        rows,
        vec![
            vec![
                "1",
                "Two\nlines, a\ttab and \"quotes\"",
                "tab\there",
                "\ntab\there",
                "A",
                "option-text",
                "A",
                "option-text"
            ],
            vec!["2", "q", "x", "B,\nsurely", "B", "letter", "B", "letter"],
        ]
    );
    assert_eq!(
        coverage(&[&items], &[&preds]),
        vec![("m".to_string(), [2, 2, 0, 0, 0, 0])]
    );
}

#[test]
fn crlf_and_bom_load_fine_in_tsv_csv_and_jsonl() {
    let d = Dir::new();
    let items = d.write(
        "Bench_VAL.tsv",
        "\u{feff}index\tquestion\tA\tB\tanswer\r\n1\tq1\tx\ty\tA\r\n2\tq2\tx\ty\tB\r\n",
    );
    let files = [
        d.write(
            "csv/m_Bench_VAL.csv",
            "\u{feff}index,prediction\r\n1,A\r\n2,y\r\n",
        ),
        d.write(
            "tsv/m_Bench_VAL.tsv",
            "\u{feff}index\tprediction\r\n1\tA\r\n2\ty\r\n",
        ),
        d.write(
            "jsonl/m_Bench_VAL.jsonl",
            "\u{feff}{\"index\": 1, \"prediction\": \"A\"}\r\n{\"index\": 2, \"prediction\": \"y\"}\r\n",
        ),
    ];
    for preds in &files {
        let r = query(&[&items], &[preds], "score n");
        assert!(r.err.is_empty(), "{preds}: no warning expected:\n{}", r.err);
        // The BOM is not part of the first header; `\r` is not part of the
        // last cell (the answer `B`, not `B\r`).
        let rows = table(
            &[&items],
            &[preds],
            "show index, answer, prediction, choice, rule, correct",
        );
        assert_eq!(
            rows,
            vec![
                vec!["1", "A", "A", "A", "letter", "true"],
                vec!["2", "B", "y", "B", "option-text", "true"],
            ],
            "{preds}"
        );
        assert_eq!(
            scores(&[&items], &[preds]),
            vec![("m".to_string(), "100".to_string(), 2, 0)],
            "{preds}"
        );
    }
}

#[test]
fn bom_before_a_json_array_loads_fine() {
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write(
        "m_Bench_VAL.json",
        "\u{feff}[{\"index\": 1, \"prediction\": \"A\"},\r\n {\"index\": 2, \"prediction\": \"B\"},\r\n {\"index\": 3, \"prediction\": \"C\"}]\r\n",
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_eq!(r.code, 0, "{}", r.err);
    assert_eq!(
        coverage(&[&items], &[&preds]),
        vec![("m".to_string(), [3, 3, 0, 0, 0, 0])]
    );
}

// -------------------------------------------------------- 7: non-UTF-8 bytes --

#[test]
fn latin1_byte_in_a_jsonl_value_is_fatal_naming_the_key() {
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write(
        "m_Bench_VAL.jsonl",
        b"{\"index\": 1, \"prediction\": \"A\"}\n{\"index\": 2, \"prediction\": \"caf\xe9 B\"}\n"
            .as_slice(),
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_fatal(
        &r,
        &preds,
        Some(&line(2)),
        Some("prediction"),
        &["invalid UTF-8", "save the file as UTF-8"],
    );
}

// --------------------------------------------- 8: required and optional columns --

#[test]
fn items_without_answer_load_as_a_test_split_with_null_correctness() {
    let d = Dir::new();
    let items = d.write(
        "Bench_TEST.tsv",
        "index\tquestion\tA\tB\tdepartment\n1\tq\tx\ty\td\n2\tq\tx\ty\td\n3\tq\tx\ty\td\n",
    );
    let preds = d.write("m_Bench_TEST.csv", "index,prediction\n1,A\n2,y\n");
    let r = query(&[&items], &[&preds], "score n");
    assert_warning(&r, &["m: 1 items unanswered, scored wrong"]);
    assert_eq!(
        scores(&[&items], &[&preds]),
        vec![("m".to_string(), String::new(), 3, 1)],
        "acc is null without answers"
    );
    assert_eq!(
        table(&[&items], &[&preds], "show index, answer, choice, correct"),
        vec![
            vec!["1", "", "A", ""],
            vec!["2", "", "B", ""],
            vec!["3", "", "Z", ""]
        ]
    );
}

#[test]
fn items_without_question_department_or_labels_load() {
    let d = Dir::new();
    let items = d.write(
        "Bench_VAL.tsv",
        "index\tA\tB\tanswer\n1\tx\ty\tA\n2\tx\ty\tB\n",
    );
    let preds = d.write("m_Bench_VAL.csv", "index,prediction\n1,A\n2,A\n");
    let r = query(&[&items], &[&preds], "score n");
    assert!(r.code == 0 && r.err.is_empty(), "{}", r.err);
    assert_eq!(
        table(&[&items], &[&preds], "by department score acc, n"),
        vec![vec!["", "50", "2"]],
        "one null department group"
    );
    assert_eq!(
        table(
            &[&items],
            &[&preds],
            "show index, question, choice, correct"
        ),
        vec![vec!["1", "", "A", "true"], vec!["2", "", "A", "false"]]
    );
}

#[test]
fn xlsx_without_prediction_column_is_fatal_at_row_1() {
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write(
        "m_Bench_VAL.xlsx",
        xlsx_bytes(&["index", "answer_text"], &[vec![X::N(1.0), X::S("A")]]),
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_fatal(
        &r,
        &preds,
        Some(&row(1)),
        Some("prediction"),
        &["missing required column `prediction`", "answer_text"],
    );
}

#[test]
fn json_records_without_index_key_are_fatal() {
    // JSON has no header row: the file and the key are what matter.
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write(
        "m_Bench_VAL.json",
        "[{\"idx\": 1, \"prediction\": \"A\"}, {\"idx\": 2, \"prediction\": \"B\"}]",
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_eq!(r.code, 1, "{}", r.err);
    let m = r
        .err
        .lines()
        .find(|l| l.starts_with("medql: error:"))
        .unwrap_or_else(|| panic!("no error line:\n{}", r.err));
    assert!(m.starts_with(&format!("medql: error: {preds}")), "{m}");
    assert!(m.contains("column `index`"), "{m}");
    assert!(m.contains("missing required column `index`"), "{m}");
}

// ------------------------------------------------------ 9: duplicate item index --

#[test]
fn duplicate_item_index_across_parts_names_the_other_file() {
    let d = Dir::new();
    let header = "index\tquestion\tA\tB\n";
    let part1 = d.write(
        "Bench_TEST_part_1.tsv",
        format!("{header}1\tq\tx\ty\n2\tq\tx\ty\n"),
    );
    let part2 = d.write(
        "Bench_TEST_part_2.tsv",
        format!("{header}3\tq\tx\ty\n2\tq\tx\ty\n"),
    );
    let preds = d.write("m_Bench_TEST.csv", "index,prediction\n1,A\n");
    let r = query(&[&part1, &part2], &[&preds], "score n");
    assert_fatal(
        &r,
        &part2,
        Some(&line(3)),
        Some("index"),
        &["duplicate item index 2", "Bench_TEST_part_1.tsv", "line 3"],
    );
}

// ------------------------------------------ 10-11: duplicated and unknown rows --

#[test]
fn duplicate_predictions_are_counted_and_the_first_kept() {
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write(
        "m_Bench_VAL.csv",
        "index,prediction\n1,A\n2,B\n1,B\n2,A\n3,C\n",
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_warning(
        &r,
        &[
            "m: 2 duplicate predictions ignored, the first kept",
            "index 1 again at line 4",
        ],
    );
    assert_eq!(
        coverage(&[&items], &[&preds]),
        vec![("m".to_string(), [5, 3, 2, 0, 0, 0])]
    );
    assert_eq!(
        table(&[&items], &[&preds], "show index, prediction"),
        vec![vec!["1", "A"], vec!["2", "B"], vec!["3", "C"]]
    );
    assert_eq!(
        scores(&[&items], &[&preds]),
        vec![("m".to_string(), "100".to_string(), 3, 0)]
    );
}

#[test]
fn duplicate_predictions_in_xlsx_name_the_sheet_row() {
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write(
        "m_Bench_VAL.xlsx",
        xlsx_bytes(
            &["index", "prediction"],
            &[
                vec![X::N(1.0), X::S("A")],
                vec![X::N(2.0), X::S("B")],
                vec![X::N(2.0), X::S("C")],
            ],
        ),
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_warning(
        &r,
        &[
            "m: 1 duplicate predictions ignored, the first kept",
            "index 2 again at row 4",
            "1 items unanswered, scored wrong",
        ],
    );
    assert_eq!(
        coverage(&[&items], &[&preds]),
        vec![("m".to_string(), [3, 2, 1, 0, 0, 1])]
    );
}

#[test]
fn predictions_for_unknown_items_are_counted() {
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write("m_Bench_VAL.csv", "index,prediction\n1,A\n7,B\n8,B\n2,B\n");
    let r = query(&[&items], &[&preds], "score n");
    assert_warning(
        &r,
        &[
            "m: 2 predictions for unknown items ignored (first: index 7)",
            "1 items unanswered, scored wrong",
        ],
    );
    assert_eq!(
        coverage(&[&items], &[&preds]),
        vec![("m".to_string(), [4, 2, 0, 2, 0, 1])]
    );
    // Two hits out of three items: the unknown rows do not count, the
    // unanswered item counts as wrong.
    let s = scores(&[&items], &[&preds]);
    assert_eq!((s.len(), s[0].2, s[0].3), (1, 3, 1), "{s:?}");
    let acc: f64 = s[0].1.parse().unwrap();
    assert!((acc - 200.0 / 3.0).abs() < 1e-9, "{s:?}");
}

// --------------------------------------------------------- 12: a 10 MB cell --

/// 10 MiB of text ending in a clear answer.
fn big_prediction() -> String {
    let mut s = "The lesion is described at length. ".repeat(10 * 1024 * 1024 / 35);
    s.push_str("So the answer is B");
    s
}

fn check_big(items: &str, preds: &str, big: &str) {
    let r = query(&[items], &[preds], "score n");
    assert!(r.err.is_empty(), "{}", r.err);
    let rows = table(
        &[items],
        &[preds],
        "show index, prediction, choice_legacy, rule_legacy, choice_current, rule_current",
    );
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][0], "2");
    assert_eq!(rows[1][1].len(), big.len(), "the cell is not truncated");
    assert!(rows[1][1] == big, "the cell comes back unchanged");
    assert_eq!(rows[1][2..], ["B", "letter", "B", "letter"]);
    assert_eq!(
        coverage(&[items], &[preds]),
        vec![("m".to_string(), [3, 3, 0, 0, 0, 0])]
    );
    assert_eq!(
        scores(&[items], &[preds]),
        vec![("m".to_string(), "100".to_string(), 3, 0)]
    );
}

#[test]
fn ten_megabyte_prediction_cell_in_csv_loads_and_scores() {
    let d = Dir::new();
    let items = d.items(3);
    let big = big_prediction();
    assert!(big.len() >= 10 * 1024 * 1024 - 64);
    let preds = d.write(
        "m_Bench_VAL.csv",
        format!("index,prediction\n1,A\n2,\"{big}\"\n3,C\n"),
    );
    check_big(&items, &preds, &big);
}

#[test]
fn ten_megabyte_prediction_cell_in_jsonl_loads_and_scores() {
    let d = Dir::new();
    let items = d.items(3);
    let big = big_prediction();
    let mut text = String::from("{\"index\": 1, \"prediction\": \"A\"}\n");
    text.push_str(&serde_json::json!({"index": 2, "prediction": big}).to_string());
    text.push_str("\n{\"index\": 3, \"prediction\": \"C\"}\n");
    let preds = d.write("m_Bench_VAL.jsonl", text);
    check_big(&items, &preds, &big);
}

// ------------------------------------------------------ 13: numeric cells --

/// Items whose options are numbers; other rows keep the columns textual, so
/// pandas reads them as text too (17 stays "17", 1.5 stays "1.5").
fn numeric_items(d: &Dir) -> String {
    d.write(
        "Bench_VAL.tsv",
        "index\tquestion\tA\tB\tC\tanswer\n\
         1\tHow many mm?\t17\t1.5\t3\tB\n\
         2\tHow many mm?\t17\t1.5\t3\tA\n\
         3\tWhich?\tnodule\tmass\tcyst\tC\n",
    )
}

#[test]
fn numeric_options_and_predictions_in_csv_match_as_text() {
    let d = Dir::new();
    let items = numeric_items(&d);
    let preds = d.write("m_Bench_VAL.csv", "index,prediction\n1,1.5\n2,17\n3,cyst\n");
    assert_eq!(
        table(
            &[&items],
            &[&preds],
            "show index, A, B, prediction, choice_legacy, rule_legacy, choice_current, rule_current, correct"
        ),
        vec![
            vec!["1", "17", "1.5", "1.5", "B", "option-text", "B", "option-text", "true"],
            vec!["2", "17", "1.5", "17", "A", "option-text", "A", "option-text", "true"],
            vec!["3", "nodule", "mass", "cyst", "C", "option-text", "C", "option-text", "true"],
        ]
    );
}

#[test]
fn numeric_xlsx_cells_read_as_python_prints_them() {
    // Number cells (not text cells) for the index and the prediction: 17 reads
    // as "17" and 1.5 as "1.5", as pandas' str() gives them.
    let d = Dir::new();
    let items = numeric_items(&d);
    let preds = d.write(
        "m_Bench_VAL.xlsx",
        xlsx_bytes(
            &["index", "prediction"],
            &[
                vec![X::N(1.0), X::N(1.5)],
                vec![X::N(2.0), X::N(17.0)],
                vec![X::N(3.0), X::S("cyst")],
            ],
        ),
    );
    assert_eq!(
        table(
            &[&items],
            &[&preds],
            "show index, prediction, choice, rule, correct"
        ),
        vec![
            vec!["1", "1.5", "B", "option-text", "true"],
            vec!["2", "17", "A", "option-text", "true"],
            vec!["3", "cyst", "C", "option-text", "true"],
        ]
    );
}

#[test]
fn numeric_json_values_read_as_python_prints_them() {
    let d = Dir::new();
    let items = numeric_items(&d);
    let preds = d.write(
        "m_Bench_VAL.json",
        "[{\"index\": 1, \"prediction\": 1.5}, {\"index\": 2.0, \"prediction\": 17}, {\"index\": 3, \"prediction\": \"cyst\"}]",
    );
    assert_eq!(
        table(&[&items], &[&preds], "show index, prediction, choice, rule"),
        vec![
            vec!["1", "1.5", "B", "option-text"],
            vec!["2", "17", "A", "option-text"],
            vec!["3", "cyst", "C", "option-text"],
        ]
    );
}

// --------------------------------------------------- 14: NaN and empty cells --

#[test]
fn nan_and_empty_predictions_are_answered_and_scored_wrong() {
    let d = Dir::new();
    let items = d.items(7);
    let preds = d.write(
        "m_Bench_VAL.csv",
        "index,prediction\n1,\n2,nan\n3,NaN\n4,None\n5,\"\"\n6,  \n",
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_warning(&r, &["m: 1 items unanswered, scored wrong"]);
    let rows = table(
        &[&items],
        &[&preds],
        "show index, answered, choice_legacy, rule_legacy, choice_current, rule_current, correct",
    );
    for (i, r) in rows.iter().enumerate() {
        let answered = if i < 6 { "true" } else { "false" };
        assert_eq!(
            r[1..],
            [answered, "Z", "none", "Z", "none", "false"],
            "item {}",
            r[0]
        );
    }
    // An empty cell is a null prediction (what pandas reads as NaN).
    assert_eq!(
        table(
            &[&items],
            &[&preds],
            "where answered and prediction is null show index"
        ),
        vec![vec!["1"], vec!["5"]]
    );
    assert_eq!(
        coverage(&[&items], &[&preds]),
        vec![("m".to_string(), [6, 6, 0, 0, 0, 1])]
    );
    assert_eq!(
        table(&[&items], &[&preds], "by model score acc, n, missing, fail"),
        vec![vec!["m", "0", "7", "1", "100"]]
    );
    assert_eq!(
        table(&[&items], &[&preds], "where answered by model score n"),
        vec![vec!["m", "6"]]
    );
}

#[test]
fn empty_xlsx_cells_and_json_nulls_are_null_predictions() {
    let d = Dir::new();
    let items = d.items(3);
    // xlsx: an empty prediction cell; json: a null and a missing key.
    let xlsx = d.write(
        "x/m_Bench_VAL.xlsx",
        xlsx_bytes(
            &["index", "prediction"],
            &[
                vec![X::N(1.0), X::Empty],
                vec![X::N(2.0), X::S("B")],
                vec![X::N(3.0), X::S("nan")],
            ],
        ),
    );
    let json = d.write(
        "j/m_Bench_VAL.json",
        "[{\"index\": 1, \"prediction\": null}, {\"index\": 2, \"prediction\": \"B\"}, {\"index\": 3}]",
    );
    for (preds, nulls) in [
        (&xlsx, vec![vec!["1"]]),
        (&json, vec![vec!["1"], vec!["3"]]),
    ] {
        assert_eq!(
            table(
                &[&items],
                &[preds],
                "show index, answered, choice, rule, correct"
            ),
            vec![
                vec!["1", "true", "Z", "none", "false"],
                vec!["2", "true", "B", "letter", "true"],
                vec!["3", "true", "Z", "none", "false"],
            ],
            "{preds}"
        );
        assert_eq!(
            table(
                &[&items],
                &[preds],
                "where answered and prediction is null show index"
            ),
            nulls,
            "{preds}"
        );
        assert_eq!(
            coverage(&[&items], &[preds]),
            vec![("m".to_string(), [3, 3, 0, 0, 0, 0])],
            "{preds}"
        );
    }
}

// ----------------------------------------- 15: two prediction sets, one model --

#[test]
fn two_files_with_the_same_model_stem_are_fatal_naming_both() {
    let d = Dir::new();
    let items = d.items(3);
    let first = d.write("runs/1/m_Bench_VAL.csv", "index,prediction\n1,A\n");
    let second = d.write(
        "runs/2/m_Bench_VAL.xlsx",
        xlsx_bytes(&["index", "prediction"], &[vec![X::N(1.0), X::S("B")]]),
    );
    let r = query(&[&items], &[&first, &second], "score n");
    assert_fatal(
        &r,
        &second,
        None,
        None,
        &[
            "a second prediction set for model `m`",
            &format!("the first is {first}"),
        ],
    );
    // A directory holding both runs is the same conflict.
    let r = query(
        &[&items],
        &[&d.path("runs").display().to_string()],
        "score n",
    );
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(
        r.err.contains("second prediction set for model `m`")
            && r.err.contains("m_Bench_VAL.csv")
            && r.err.contains("m_Bench_VAL.xlsx"),
        "{}",
        r.err
    );
}

#[test]
fn two_files_naming_the_same_model_in_a_model_column_are_fatal() {
    let d = Dir::new();
    let items = d.items(3);
    let first = d.write("runs1.csv", "model,index,prediction\nalpha,1,A\nbeta,1,B\n");
    let second = d.write("runs2.csv", "model,index,prediction\nalpha,2,B\n");
    let r = query(&[&items], &[&first, &second], "score n");
    assert_fatal(
        &r,
        &second,
        None,
        None,
        &[
            "a second prediction set for model `alpha`",
            &format!("the first is {first}"),
        ],
    );
    // A model column against a file stem.
    let stem = d.write("alpha_Bench_VAL.csv", "index,prediction\n3,C\n");
    let r = query(&[&items], &[&first, &stem], "score n");
    assert_fatal(
        &r,
        &stem,
        None,
        None,
        &[
            "a second prediction set for model `alpha`",
            &format!("the first is {first}"),
        ],
    );
}

// ------------------------------------- 16: item columns in prediction files --

#[test]
fn item_columns_that_disagree_are_a_warning_and_the_items_win() {
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write(
        "m_Bench_VAL.csv",
        "index,question,answer,prediction\n\
         1,What does image 1 show?,A,A\n\
         2,What does image 2 show? (edited),B,B\n\
         3,Something else,A,C\n",
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_warning(
        &r,
        &[
            &format!("{preds}, line 3, column `question`: item 2 differs from the items file"),
            "(\"What does image 2 show?\" there, \"What does image 2 show? (edited)\" here)",
            "2 rows differ in this column; the items file is used",
        ],
    );
    assert_warning(
        &r,
        &[
            &format!("{preds}, line 4, column `answer`: item 3 differs from the items file"),
            "(\"C\" there, \"A\" here)",
            "1 rows differ in this column",
        ],
    );
    assert_items_used(&items, &preds, 3);
}

/// The items' own question and answer for items 1..=n (answers A, B, C in
/// turn), each judged correct: what a query shows when the items win.
fn assert_items_used(items: &str, preds: &str, n: usize) {
    let expected: Vec<Vec<String>> = (1..=n)
        .map(|i| {
            vec![
                i.to_string(),
                format!("What does image {i} show?"),
                ["A", "B", "C"][(i - 1) % 3].to_string(),
                "true".to_string(),
            ]
        })
        .collect();
    assert_eq!(
        table(&[items], &[preds], "show index, question, answer, correct"),
        expected,
        "{preds}"
    );
}

#[test]
fn item_columns_of_parquet_files_are_checked_the_same_way() {
    // Parquet keeps repeated texts coded; the check must see every row
    // whatever the writer did: dictionaries, plain pages, several row groups.
    use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::file::properties::WriterProperties;
    use std::sync::Arc;
    let d = Dir::new();
    let items = d.items(4);
    let columns: [(&str, [Option<&str>; 4]); 5] = [
        ("index", [Some("1"), Some("2"), Some("3"), Some("4")]),
        (
            "question",
            [
                Some("What does image 1 show?"),
                Some("What does image 2 show? (edited)"),
                Some("Something else"),
                Some("What does image 4 show?"),
            ],
        ),
        // Empty in the items: a missing cell and an empty one agree.
        ("D", [None, Some(""), None, Some("")]),
        ("answer", [Some("A"), Some("B"), Some("A"), Some("A")]),
        ("prediction", [Some("A"), Some("B"), Some("C"), Some("A")]),
    ];
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|(n, _)| Field::new(*n, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|(_, v)| Arc::new(v.iter().copied().collect::<StringArray>()) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays).unwrap();
    let writers = [
        ("coded", WriterProperties::builder().build()),
        (
            "plain",
            WriterProperties::builder()
                .set_dictionary_enabled(false)
                .build(),
        ),
        (
            "groups",
            WriterProperties::builder()
                .set_max_row_group_row_count(Some(1))
                .build(),
        ),
    ];
    for (what, props) in writers {
        let preds = d.path(&format!("{what}/m_Bench_VAL.parquet"));
        std::fs::create_dir_all(preds.parent().unwrap()).unwrap();
        let f = std::fs::File::create(&preds).unwrap();
        let mut w = ArrowWriter::try_new(f, schema.clone(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let preds = preds.display().to_string();
        let r = query(&[&items], &[&preds], "score n");
        assert_warning(
            &r,
            &[
                &format!(
                    "{preds}, record 2, column `question`: item 2 differs from the items file"
                ),
                "(\"What does image 2 show?\" there, \"What does image 2 show? (edited)\" here)",
                "2 rows differ in this column; the items file is used",
            ],
        );
        assert_warning(
            &r,
            &[
                &format!("{preds}, record 3, column `answer`: item 3 differs from the items file"),
                "(\"C\" there, \"A\" here)",
                "1 rows differ in this column",
            ],
        );
        assert!(!r.err.contains("column `D`"), "{what}: {}", r.err);
        assert_eq!(
            r.err.matches("differs from the items file").count(),
            2,
            "{what}: {}",
            r.err
        );
        assert_items_used(&items, &preds, 4);
    }
}

// ------------------------------------------------ 17: non-integer indexes --

#[test]
fn non_integer_prediction_indexes_are_counted_invalid() {
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write(
        "m_Bench_VAL.csv",
        "index,prediction\n1,A\nabc,B\n1.5,B\n,C\n2.0,B\n",
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_warning(
        &r,
        &[
            "m: 3 rows with an invalid index ignored",
            "line 3: index `abc` is not an integer",
            "1 items unanswered, scored wrong",
        ],
    );
    // `2.0` is item 2 (pandas writes integer columns with NaN as floats).
    assert_eq!(
        coverage(&[&items], &[&preds]),
        vec![("m".to_string(), [5, 2, 0, 0, 3, 1])]
    );
}

#[test]
fn non_integer_indexes_in_xlsx_json_and_parquet_name_row_and_record() {
    let d = Dir::new();
    let items = d.items(3);
    let xlsx = d.write(
        "x/m_Bench_VAL.xlsx",
        xlsx_bytes(
            &["index", "prediction"],
            &[
                vec![X::N(1.0), X::S("A")],
                vec![X::S("abc"), X::S("B")],
                vec![X::N(1.5), X::S("B")],
            ],
        ),
    );
    let json = d.write(
        "j/m_Bench_VAL.json",
        "[{\"index\": 1, \"prediction\": \"A\"}, {\"index\": \"abc\", \"prediction\": \"B\"}, {\"index\": 1.5, \"prediction\": \"B\"}]",
    );
    let parquet = d.path("p/m_Bench_VAL.parquet");
    std::fs::create_dir_all(parquet.parent().unwrap()).unwrap();
    write_parquet(
        &parquet,
        &[
            (Some("1"), Some("A")),
            (Some("abc"), Some("B")),
            (Some("1.5"), Some("B")),
        ],
    );
    let parquet = parquet.display().to_string();
    for (preds, place) in [(&xlsx, row(3)), (&json, record(2)), (&parquet, record(2))] {
        let r = query(&[&items], &[preds], "score n");
        assert_warning(
            &r,
            &[
                "m: 2 rows with an invalid index ignored",
                &format!("{place}: index `abc` is not an integer"),
                "2 items unanswered, scored wrong",
            ],
        );
        assert_eq!(
            coverage(&[&items], &[preds]),
            vec![("m".to_string(), [3, 1, 0, 0, 2, 2])],
            "{preds}"
        );
    }
}

#[test]
fn non_integer_item_indexes_are_fatal() {
    let d = Dir::new();
    let preds = d.write("m_Bench_VAL.csv", "index,prediction\n1,A\n");
    for bad in ["abc", "1.5", ""] {
        let items = d.write(
            "Bench_VAL.tsv",
            format!("index\tquestion\tA\tB\tanswer\n1\tq\tx\ty\tA\n{bad}\tq\tx\ty\tB\n"),
        );
        let r = query(&[&items], &[&preds], "score n");
        assert_fatal(
            &r,
            &items,
            Some(&line(3)),
            Some("index"),
            &[&format!("expected an integer item index, found `{bad}`")],
        );
    }
}

// --------------------------------------------------- JSON and JSONL records --

// ------------------------------------ 18: VLMEvalKit's own outputs, as written --

/// A cell of a record as Python holds it before `json.dump`.
enum Py<'a> {
    S(&'a str),
    I(i64),
    /// A float NaN: pandas' missing cell.
    NaN,
    Inf(bool),
}

/// Records as VLMEvalKit writes them: `json.dump(df.to_dict('records'), f,
/// indent=4, ensure_ascii=False)`. Python writes a NaN as a bare `NaN` and
/// infinities as `Infinity` and `-Infinity`.
fn python_json_dump(records: &[Vec<(&str, Py)>]) -> String {
    let value = |v: &Py| match v {
        Py::S(s) => serde_json::to_string(s).unwrap(),
        Py::I(i) => i.to_string(),
        Py::NaN => "NaN".to_string(),
        Py::Inf(positive) => if *positive { "Infinity" } else { "-Infinity" }.to_string(),
    };
    let recs: Vec<String> = records
        .iter()
        .map(|r| {
            let fields: Vec<String> = r
                .iter()
                .map(|(k, v)| {
                    format!(
                        "        {}: {}",
                        serde_json::to_string(k).unwrap(),
                        value(v)
                    )
                })
                .collect();
            format!("    {{\n{}\n    }}", fields.join(",\n"))
        })
        .collect();
    format!("[\n{}\n]", recs.join(",\n"))
}

/// The same records one per line (`.jsonl`), as `json.dumps` writes them.
fn python_jsonl(records: &[Vec<(&str, Py)>]) -> String {
    let value = |v: &Py| match v {
        Py::S(s) => serde_json::to_string(s).unwrap(),
        Py::I(i) => i.to_string(),
        Py::NaN => "NaN".to_string(),
        Py::Inf(positive) => if *positive { "Infinity" } else { "-Infinity" }.to_string(),
    };
    records
        .iter()
        .map(|r| {
            let fields: Vec<String> = r
                .iter()
                .map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), value(v)))
                .collect();
            format!("{{{}}}\n", fields.join(", "))
        })
        .collect()
}

/// The records of a VLMEvalKit prediction file for `d.items(3)`: every item
/// column, `E` missing (NaN) as in every GMAI item with fewer than five
/// options, and the given predictions.
fn gmai_records<'a>(predictions: [Py<'a>; 3]) -> Vec<Vec<(&'a str, Py<'a>)>> {
    const QUESTIONS: [&str; 3] = [
        "What does image 1 show?",
        "What does image 2 show?",
        "What does image 3 show?",
    ];
    predictions
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            vec![
                ("index", Py::I(i as i64 + 1)),
                ("question", Py::S(QUESTIONS[i])),
                ("A", Py::S("pneumonia")),
                ("B", Py::S("fracture")),
                ("C", Py::S("normal")),
                ("D", Py::NaN),
                ("E", Py::NaN),
                ("answer", Py::S(["A", "B", "C"][i])),
                ("category", Py::S("chest")),
                ("prediction", p),
            ]
        })
        .collect()
}

#[test]
fn python_json_with_nan_and_infinity_reads_them_as_missing() {
    let d = Dir::new();
    let items = d.items(3);
    let records = gmai_records([Py::S("A"), Py::NaN, Py::S("NaN")]);
    let json = python_json_dump(&records);
    assert!(json.contains("        \"E\": NaN,\n"), "{json}");
    for (name, text) in [
        ("m_Bench_VAL.json", json),
        ("jsonl/m_Bench_VAL.jsonl", python_jsonl(&records)),
    ] {
        let preds = d.write(name, text);
        let r = query(&[&items], &[&preds], "score n");
        assert_eq!(r.code, 0, "{name}: {}", r.err);
        // `E` is missing on both sides: no item column differs.
        assert!(!r.err.contains("warning"), "{name}: {}", r.err);
        assert_eq!(
            coverage(&[&items], &[&preds]),
            vec![("m".to_string(), [3, 3, 0, 0, 0, 0])],
            "{name}"
        );
        // A NaN prediction is a missing one (answered, nothing to extract);
        // the text "NaN" inside a string stays text.
        assert_eq!(
            table(
                &[&items],
                &[&preds],
                "show index, prediction, choice_legacy, correct"
            ),
            vec![
                vec!["1", "A", "A", "true"],
                vec!["2", "", "Z", "false"],
                vec!["3", "NaN", "Z", "false"],
            ],
            "{name}"
        );
        assert_eq!(
            table(&[&items], &[&preds], "where prediction is null show index"),
            vec![vec!["2"]],
            "{name}"
        );
    }
    // Infinities are missing too, wherever Python wrote them.
    let records = vec![
        vec![("index", Py::I(1)), ("prediction", Py::Inf(true))],
        vec![("index", Py::I(2)), ("prediction", Py::Inf(false))],
        vec![("index", Py::I(3)), ("prediction", Py::S("C"))],
    ];
    let preds = d.write("inf/m_Bench_VAL.json", python_json_dump(&records));
    assert_eq!(
        table(&[&items], &[&preds], "where prediction is null show index"),
        vec![vec!["1"], vec!["2"]]
    );
}

#[test]
fn json_error_after_a_nan_names_the_column_of_the_file() {
    // Line 3 has a NaN before a missing comma: the column is the file's own.
    let d = Dir::new();
    let items = d.items(3);
    let bad_line = " {\"index\": 2, \"E\": NaN, \"prediction\": \"B\" \"x\": 1}";
    let text = format!("[\n {{\"index\": 1, \"prediction\": \"A\"}},\n{bad_line}\n]\n");
    let preds = d.write("m_Bench_VAL.json", &text);
    let r = query(&[&items], &[&preds], "score n");
    // serde's column for the same text with `null` (one byte longer) in place of NaN.
    let strict = text.replace("NaN", "null");
    let e = serde_json::from_str::<serde_json::Value>(&strict).unwrap_err();
    assert_eq!(e.line(), 3);
    let column = e.column() - 1;
    assert_fatal(
        &r,
        &preds,
        Some(&record(2)),
        None,
        &["invalid JSON", &format!("at line 3 column {column}")],
    );
    // The same in JSONL, within the line.
    let preds = d.write(
        "m_Bench_VAL.jsonl",
        format!(
            "{{\"index\": 1, \"prediction\": \"A\"}}\n{}\n",
            bad_line.trim()
        ),
    );
    let r = query(&[&items], &[&preds], "score n");
    assert_fatal(
        &r,
        &preds,
        Some(&line(2)),
        None,
        &[&format!("invalid JSON at character {}", column - 1)],
    );
}

#[test]
fn xlsx_control_character_escapes_read_as_vlmevalkit_reads_them() {
    // rust_xlsxwriter stores strings as Python's xlsxwriter does: `\r` and
    // other C0 controls as `_x000D_`-style escapes, a literal `_x000D_` as
    // `_x005F_x000D_`. VLMEvalKit reads them back with openpyxl, which keeps
    // the escapes as text and deletes `x005F_`.
    let d = Dir::new();
    let items = d.items(6);
    let written = ["B\r\n", "_x000D_", "C\x1c", "_x005F_", "A\x1f", "B"];
    let mut rows = vec![];
    for (i, p) in written.iter().enumerate() {
        rows.push(vec![X::N(i as f64 + 1.0), X::S(p)]);
    }
    let preds = d.write(
        "m_Bench_VAL.xlsx",
        xlsx_bytes(&["index", "prediction"], &rows),
    );
    // What openpyxl gives for each cell.
    let seen = ["B_x000D_\n", "_x000D_", "C_x001C_", "_", "A_x001F_", "B"];
    let got = table(&[&items], &[&preds], "show index, prediction");
    let got: Vec<&str> = got.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(got, seen);
    // Scored as that text is scored from a CSV: VLMEvalKit's verdicts.
    let mut csv = String::from("index,prediction\n");
    for (i, s) in seen.iter().enumerate() {
        csv.push_str(&format!("{},\"{}\"\n", i + 1, s));
    }
    let as_text = d.write("text/m_Bench_VAL.csv", csv);
    let q = "show index, choice_legacy, choice_current, correct_legacy, correct_current";
    let from_xlsx = table(&[&items], &[&preds], q);
    assert_eq!(from_xlsx, table(&[&items], &[&as_text], q));
    // `B\r\n` is no letter to VLMEvalKit; a plain `B` is.
    assert_eq!(from_xlsx[0][1], "Z");
    assert_eq!(from_xlsx[5][1], "B");
}

/// A VLMEvalKit judged result file for `d.items(3)`: lower-cased item
/// columns, `prediction`, `hit` and `log`.
fn result_xlsx(predictions: [&str; 3], hits: [f64; 3]) -> Vec<u8> {
    let logs = predictions.map(|p| format!("Match Log: {p}"));
    let mut rows = vec![];
    for i in 0..3 {
        rows.push(vec![
            X::N(i as f64 + 1.0),
            X::S(
                [
                    "What does image 1 show?",
                    "What does image 2 show?",
                    "What does image 3 show?",
                ][i],
            ),
            X::S("pneumonia"),
            X::S("fracture"),
            X::S("normal"),
            X::S(["A", "B", "C"][i]),
            X::S("Disease Diagnosis"),
            X::S(predictions[i]),
            X::N(hits[i]),
            X::S(&logs[i]),
        ]);
    }
    xlsx_bytes(
        &[
            "index",
            "question",
            "A",
            "B",
            "C",
            "answer",
            "clinical vqa task",
            "prediction",
            "hit",
            "log",
        ],
        &rows,
    )
}

#[test]
fn result_files_of_judges_with_underscores_are_paired_with_their_model() {
    let d = Dir::new();
    let items = d.items(3);
    let predictions = ["A", "the answer is C", "C"];
    let raw = d.write(
        "qwen_chat_Bench_VAL.xlsx",
        xlsx_bytes(
            &["index", "prediction"],
            &(0..3)
                .map(|i| vec![X::N(i as f64 + 1.0), X::S(predictions[i])])
                .collect::<Vec<_>>(),
        ),
    );
    for judge in [
        "exact_matching",
        "gpt-4o-mini",
        "openai",
        "gpt4",
        "qwen-72b",
    ] {
        let result = d.write(
            &format!("{judge}/qwen_chat_Bench_VAL_{judge}_result.xlsx"),
            result_xlsx(predictions, [1.0, 0.0, 1.0]),
        );
        let r = run(&[
            "--format",
            "csv",
            "--policy",
            "recorded",
            "--items",
            &items,
            "--predictions",
            &raw,
            &result,
            "-e",
            "by model score hits, n",
        ]);
        assert_eq!(r.code, 0, "{judge}: {}", r.err);
        assert!(!r.err.contains("no dataset name"), "{judge}: {}", r.err);
        assert_eq!(
            csv_rows(&r),
            vec![vec!["model", "hits", "n"], vec!["qwen_chat", "2", "3"]],
            "{judge}"
        );
        // Alone, the result file is the model's predictions with its verdicts.
        assert_eq!(
            coverage(&[&items], &[&result]),
            vec![("qwen_chat".to_string(), [3, 3, 0, 0, 0, 0])],
            "{judge}"
        );
    }
}

/// A localised VLMEvalKit items file: every field quoted, `image_path`
/// instead of `image`.
fn localised_tsv(rows: &[[&str; 6]]) -> String {
    let quote = |f: &str| format!("\"{}\"", f.replace('"', "\"\""));
    let mut t = ["index", "question", "A", "B", "category", "image_path"]
        .map(quote)
        .join("\t");
    t.push('\n');
    for r in rows {
        t.push_str(&r.map(quote).join("\t"));
        t.push('\n');
    }
    t
}

#[test]
fn localised_test_parts_are_one_dataset_named_as_vlmevalkit_names_it() {
    let d = Dir::new();
    let mut parts = vec![];
    for n in 1..=11usize {
        let rows: Vec<[String; 6]> = (0..2)
            .map(|k| {
                let i = (n * 10 + k).to_string();
                [
                    i.clone(),
                    format!("Question {i}?"),
                    "yes".into(),
                    "no".into(),
                    "chest".into(),
                    format!("images/GMAI-MMBench_TEST/{i}.jpg"),
                ]
            })
            .collect();
        let rows: Vec<[&str; 6]> = rows
            .iter()
            .map(|r| r.each_ref().map(String::as_str))
            .collect();
        parts.push(d.write(
            &format!("GMAI_mm_bench_TEST_part_{n}_local.tsv"),
            localised_tsv(&rows),
        ));
    }
    let preds = d.write(
        "m_GMAI-MMBench_TEST.csv",
        "index,prediction\n10,A\n11,B\n110,A\n",
    );
    let glob = d
        .path("GMAI_mm_bench_TEST_part_*_local.tsv")
        .display()
        .to_string();
    let r = query(&[&glob], &[&preds], "by dataset score n, missing");
    assert!(!r.err.contains("no dataset name"), "{}", r.err);
    assert_eq!(
        csv_rows(&r),
        vec![
            vec!["dataset", "n", "missing"],
            vec!["GMAI-MMBench_TEST", "22", "19"],
        ]
    );
    assert_eq!(
        coverage(&[&glob], &[&preds]),
        vec![("m".to_string(), [3, 3, 0, 0, 0, 19])]
    );
    // The localised VAL file keeps the VAL name.
    let val = d.write(
        "val/GMAI-MMBench_VAL_local.tsv",
        localised_tsv(&[["1", "q?", "yes", "no", "chest", "images/1.jpg"]]),
    );
    let preds = d.write("val/m_GMAI-MMBench_VAL.csv", "index,prediction\n1,A\n");
    assert_eq!(
        table(&[&val], &[&preds], "by dataset, model score n"),
        vec![vec!["GMAI-MMBench_VAL", "m", "1"]]
    );
}

#[test]
fn existing_paths_with_brackets_are_paths_not_patterns() {
    let d = Dir::new();
    let items = d.write("items[1]/Bench_VAL.tsv", items_text(3));
    d.write(
        "run[1]/m_Bench_VAL.csv",
        "index,prediction\n1,A\n2,B\n3,A\n",
    );
    let run1 = d.path("run[1]").display().to_string();
    assert_eq!(
        coverage(&[&items], &[&run1]),
        vec![("m".to_string(), [3, 3, 0, 0, 0, 0])]
    );
    // A file named with brackets, given directly.
    let file = d.write("n[2]_Bench_VAL.csv", "index,prediction\n1,A\n");
    assert_eq!(
        coverage(&[&items], &[&file]),
        vec![("n[2]".to_string(), [1, 1, 0, 0, 0, 2])]
    );
    // A pattern is still a pattern when no such path exists.
    let pattern = d.path("run*").display().to_string();
    assert_eq!(
        coverage(&[&items], &[&pattern]),
        vec![("m".to_string(), [3, 3, 0, 0, 0, 0])]
    );
    let missing = d.path("run[3]").display().to_string();
    let r = query(&[&items], &[&missing], "score n");
    assert_eq!(r.code, 2, "{}", r.err);
    assert!(r.err.contains("no prediction file matches"), "{}", r.err);
}

#[test]
fn one_run_in_two_formats_is_read_once_with_a_note() {
    // PRED_FORMAT=xlsx, then PRED_FORMAT=tsv: the same rows in two files.
    let d = Dir::new();
    let items = d.items(3);
    let preds = ["A", "the answer is B", "C"];
    let xlsx_rows: Vec<Vec<X>> = (0..3)
        .map(|i| vec![X::N(i as f64 + 1.0), X::S("chest"), X::S(preds[i])])
        .collect();
    let xlsx = d.write(
        "run/m_Bench_VAL.xlsx",
        xlsx_bytes(&["index", "category", "prediction"], &xlsx_rows),
    );
    let mut tsv = String::from("index\tcategory\tprediction\n");
    for (i, p) in preds.iter().enumerate() {
        tsv.push_str(&format!("{}\tchest\t{p}\n", i + 1));
    }
    let tsv = d.write("run/m_Bench_VAL.tsv", tsv);
    let dir = d.path("run").display().to_string();
    let r = run(&[
        "--strict",
        "--items",
        &items,
        "--predictions",
        &dir,
        "-e",
        "score n",
    ]);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.err.lines().any(|l| l.starts_with("note: m: ")
            && l.contains(&xlsx)
            && l.contains(&tsv)
            && l.contains("holds the same 3 rows")),
        "{}",
        r.err
    );
    assert_eq!(
        coverage(&[&items], &[&dir]),
        vec![("m".to_string(), [3, 3, 0, 0, 0, 0])]
    );
    // Rows that differ are two runs: still fatal, naming where.
    let other = d.write(
        "run/m_Bench_VAL.csv",
        "index,category,prediction\n1,chest,A\n2,chest,B\n3,chest,C\n",
    );
    let r = query(&[&items], &[&tsv, &other], "score n");
    assert_fatal(
        &r,
        &other,
        None,
        None,
        &[
            "a second prediction set for model `m`",
            &format!("the first is {tsv}"),
            "differ at index 2",
        ],
    );
}

#[test]
fn a_vlmevalkit_work_folder_loads_with_its_pickles_and_links_noted() {
    // {work_dir}/{model}/{eval_id}/ holds a run; run.py links its files and
    // status.json into {work_dir}/{model}/. Pickles lie beside them.
    let d = Dir::new();
    let items = d.items(3);
    let run_dir = "work/m/T20260409-153012";
    let preds = d.write(
        &format!("{run_dir}/m_Bench_VAL.xlsx"),
        xlsx_bytes(
            &["index", "prediction"],
            &[
                vec![X::N(1.0), X::S("A")],
                vec![X::N(2.0), X::S("B")],
                vec![X::N(3.0), X::S("A")],
            ],
        ),
    );
    let status = d.write(
        &format!("{run_dir}/status.json"),
        r#"{"schema": "1.0", "eval_id": "T20260409-153012", "datasets": {}}"#,
    );
    for pkl in [
        "m_Bench_VAL_checkpoint.pkl",
        "m_Bench_VAL_PREV.pkl",
        "m_Bench_VAL_openai_result.pkl",
    ] {
        d.write(&format!("{run_dir}/{pkl}"), b"\x80\x04N.");
    }
    d.write(
        &format!("{run_dir}/m_Bench_VAL_acc.json"),
        r#"[{"split": "none", "Overall": 0.667}]"#,
    );
    // Score and rating files, in any extension, are not predictions.
    d.write(
        &format!("{run_dir}/m_Bench_VAL_score.csv"),
        "split,Overall\nnone,0.667\n",
    );
    d.write(
        &format!("{run_dir}/m_Bench_VAL_rating.json"),
        r#"{"Overall": 0.667}"#,
    );
    d.write(
        &format!("{run_dir}/m_Bench_VAL_rating.tsv"),
        "Overall\n0.667\n",
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&preds, d.path("work/m/m_Bench_VAL.xlsx")).unwrap();
        std::os::unix::fs::symlink(&status, d.path("work/m/status.json")).unwrap();
    }
    let work = d.path("work").display().to_string();
    let r = query(&[&items], &[&work], "score n");
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.err
            .contains("note: skipped 3 .pkl files (VLMEvalKit's pickles")
            && r.err
                .contains("medql reads xlsx, csv, tsv, json, jsonl, parquet)"),
        "{}",
        r.err
    );
    assert!(
        r.err
            .contains("note: read 1 status.json file as VLMEvalKit's run record"),
        "{}",
        r.err
    );
    assert_eq!(
        coverage(&[&items], &[&work]),
        vec![("m".to_string(), [3, 3, 0, 0, 0, 0])]
    );
}

#[test]
fn a_thinking_column_is_queryable_and_null_where_absent() {
    let d = Dir::new();
    let items = d.items(3);
    let think = d.write(
        "m_Bench_VAL.csv",
        "index,prediction,thinking\n1,A,\"Consolidation, so pneumonia.\"\n2,B,\n3,C,Normal lungs.\n",
    );
    let plain = d.write("n_Bench_VAL.csv", "index,prediction\n1,B\n2,B\n3,C\n");
    let q = "show model, index, thinking";
    let expected = vec![
        vec!["m", "1", "Consolidation, so pneumonia."],
        vec!["m", "2", ""],
        vec!["m", "3", "Normal lungs."],
        vec!["n", "1", ""],
        vec!["n", "2", ""],
        vec!["n", "3", ""],
    ];
    let nulls = vec![
        vec!["m", "2"],
        vec!["n", "1"],
        vec!["n", "2"],
        vec!["n", "3"],
    ];
    // Twice: scored, then read back from the cache.
    for _ in 0..2 {
        assert_eq!(table(&[&items], &[&think, &plain], q), expected);
        assert_eq!(
            table(
                &[&items],
                &[&think, &plain],
                "where thinking is null show model, index"
            ),
            nulls
        );
    }
    let r = run(&[
        "--timing",
        "--items",
        &items,
        "--predictions",
        &think,
        &plain,
        "-e",
        "score n",
    ]);
    assert!(r.err.contains("2 from the cache"), "{}", r.err);
    // Without any such column, the name is explained.
    let r = query(&[&items], &[&plain], "show thinking");
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(r.err.contains("SPLIT_THINK=1"), "{}", r.err);
}

#[test]
fn an_items_file_named_twice_is_read_once() {
    let d = Dir::new();
    let items = d.items(3);
    let preds = d.write("m_Bench_VAL.csv", "index,prediction\n1,A\n2,B\n3,C\n");
    let glob = d.path("Bench_*.tsv").display().to_string();
    let dotted = d.path("./Bench_VAL.tsv").display().to_string();
    for twice in [[&items, &items], [&items, &glob], [&glob, &dotted]] {
        assert_eq!(
            table(&twice.map(String::as_str), &[&preds], "score n"),
            vec![vec!["3"]],
            "{twice:?}"
        );
    }
}

/// Text as Windows saves "Unicode" text: UTF-16 with a byte order mark.
fn utf16(text: &str, little: bool) -> Vec<u8> {
    let mut out = if little {
        vec![0xFF, 0xFE]
    } else {
        vec![0xFE, 0xFF]
    };
    for u in text.encode_utf16() {
        out.extend(if little {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        });
    }
    out
}

#[test]
fn utf16_files_are_named_as_such() {
    let d = Dir::new();
    let good_items = d.items(3);
    let preds = d.write("m_Bench_VAL.csv", "index,prediction\n1,A\n");
    for (little, mark) in [(true, "FF FE"), (false, "FE FF")] {
        let items = d.write("u16/Bench_VAL.tsv", utf16(&items_text(3), little));
        let r = query(&[&items], &[&preds], "score n");
        assert_fatal(
            &r,
            &items,
            None,
            None,
            &["is UTF-16", mark, "save it as UTF-8"],
        );
        for (ext, text) in [
            ("csv", "index,prediction\n1,A\n"),
            ("tsv", "index\tprediction\n1\tA\n"),
            ("json", "[{\"index\": 1, \"prediction\": \"A\"}]"),
            ("jsonl", "{\"index\": 1, \"prediction\": \"A\"}\n"),
        ] {
            let p = d.write(&format!("u16/m_Bench_VAL.{ext}"), utf16(text, little));
            let r = query(&[&good_items], &[&p], "score n");
            assert_fatal(&r, &p, None, None, &["is UTF-16", mark, "save it as UTF-8"]);
        }
    }
}

#[test]
fn a_long_item_text_that_differs_is_shown_where_it_differs() {
    let d = Dir::new();
    let long = "Which of the following findings is most consistent with the appearance of the lesion in the upper lobe";
    let mut t = String::from("index\tquestion\tA\tB\tanswer\n");
    t.push_str(&format!("1\t{long} of the left lung?\tx\ty\tA\n"));
    let items = d.write("Bench_VAL.tsv", t);
    let preds = d.write(
        "m_Bench_VAL.csv",
        format!("index,question,prediction\n1,{long} of the right lung?,A\n"),
    );
    let at = long.chars().count() + " of the ".len() + 1;
    let r = query(&[&items], &[&preds], "score n");
    assert_warning(
        &r,
        &[
            &format!("column `question`: item 1 differs from the items file at character {at}"),
            "upper lobe of the left lung?\" there",
            "upper lobe of the right lung?\" here",
        ],
    );
}

// ------------------------------------------------------ the table of cases --

/// One case of `tests/corpus/fatal.json`: files to write, what to load,
/// and the fatal error expected. A file's text may hold `\xHH` for a raw
/// byte (`\\` is a backslash); `@items N` stands for a good items file of
/// N items.
#[derive(serde::Deserialize)]
struct FatalCase {
    case: String,
    files: std::collections::BTreeMap<String, String>,
    items: Vec<String>,
    predictions: Vec<String>,
    #[serde(default)]
    query: Option<String>,
    fatal: Fatal,
}

#[derive(serde::Deserialize)]
struct Fatal {
    file: String,
    place: Option<String>,
    column: Option<String>,
    says: Vec<String>,
}

/// A case file's text as bytes: `\xHH` is a byte, `\\` a backslash.
fn case_bytes(text: &str) -> Vec<u8> {
    if let Some(n) = text.strip_prefix("@items ") {
        return items_text(n.parse().expect("@items N")).into_bytes();
    }
    let mut out = vec![];
    let mut rest = text;
    while let Some(i) = rest.find('\\') {
        out.extend_from_slice(&rest.as_bytes()[..i]);
        let after = &rest[i + 1..];
        if let Some(hex) = after.strip_prefix('x') {
            out.push(u8::from_str_radix(&hex[..2], 16).expect("\\xHH"));
            rest = &hex[2..];
        } else if let Some(r) = after.strip_prefix('\\') {
            out.push(b'\\');
            rest = r;
        } else {
            panic!("unknown escape in {text:?}");
        }
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

#[test]
fn fatal_cases_from_the_table() {
    let cases: Vec<FatalCase> =
        serde_json::from_str(include_str!("../corpus/fatal.json")).expect("fatal.json");
    assert!(cases.len() >= 20, "{} cases", cases.len());
    for c in cases {
        eprintln!("case: {}", c.case);
        let d = Dir::new();
        let path: std::collections::BTreeMap<&str, String> = c
            .files
            .iter()
            .map(|(name, text)| (name.as_str(), d.write(name, case_bytes(text))))
            .collect();
        let paths = |names: &[String]| -> Vec<&str> {
            names.iter().map(|n| path[n.as_str()].as_str()).collect()
        };
        let r = query(
            &paths(&c.items),
            &paths(&c.predictions),
            c.query.as_deref().unwrap_or("score n"),
        );
        let says: Vec<&str> = c.fatal.says.iter().map(String::as_str).collect();
        assert_fatal(
            &r,
            &path[c.fatal.file.as_str()],
            c.fatal.place.as_deref(),
            c.fatal.column.as_deref(),
            &says,
        );
    }
}

#[test]
fn two_runs_of_one_model_are_two_models_named_by_run() {
    // VLMEvalKit's work folder with two runs of model m; run.py links the
    // newer run's files into {work_dir}/m/.
    let d = Dir::new();
    let items = d.items(3);
    let first = d.write(
        "work/m/T20260409-153012/m_Bench_VAL.csv",
        "index,prediction\n1,A\n2,B\n3,A\n",
    );
    let second = d.write(
        "work/m/T20260410-101500/m_Bench_VAL.csv",
        "index,prediction\n1,B\n2,C\n3,C\n",
    );
    let _ = first;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&second, d.path("work/m/m_Bench_VAL.csv")).unwrap();
    let work = d.path("work").display().to_string();
    let q = "by model score hits, n";
    let want = vec![
        vec!["m@T20260409-153012".to_string(), "2".into(), "3".into()],
        vec!["m@T20260410-101500".to_string(), "1".into(), "3".into()],
    ];
    // Scored, then again from the cache: the same models.
    for _ in 0..2 {
        assert_eq!(table(&[&items], &[&work], q), want);
    }
    // The runs compare like any two models.
    let rows = table(
        &[&items],
        &[&work],
        "compare 'm@T20260409-153012' vs 'm@T20260410-101500'",
    );
    assert_eq!(
        rows[0][..3],
        ["m@T20260409-153012", "m@T20260410-101500", "3"]
    );
    // One run alone keeps the plain name.
    let one = d.path("work/m/T20260409-153012").display().to_string();
    assert_eq!(table(&[&items], &[&one], q)[0][0], "m");

    // Runs named on the command line: LABEL=PATH.
    let a = d.write("a/m_Bench_VAL.csv", "index,prediction\n1,A\n2,B\n3,C\n");
    let b = d.write("b/m_Bench_VAL.csv", "index,prediction\n1,B\n2,B\n3,C\n");
    let (a, b) = (format!("base={a}"), format!("tuned={b}"));
    let rows = table(&[&items], &[&a, &b], q);
    assert_eq!(rows[0][..1], ["m@base"]);
    assert_eq!(rows[1][..1], ["m@tuned"]);
    // Two sets for one model with nothing to tell them apart stay an error.
    let plain_a = d.path("a/m_Bench_VAL.csv").display().to_string();
    let plain_b = d.path("b/m_Bench_VAL.csv").display().to_string();
    let r = query(&[&items], &[&plain_a, &plain_b], q);
    assert_eq!(r.code, 1, "{}", r.err);
    assert!(
        r.err.contains("a second prediction set for model `m`"),
        "{}",
        r.err
    );
}

/// A VLMEvalKit run record for model `m` on `Bench_VAL`.
fn status_json(eval_id: &str, commit: &str, judge: Option<&str>) -> String {
    let judge = judge.map_or("null".to_string(), |j| format!("\"{j}\""));
    format!(
        r#"{{"schema_version": "1.0", "eval_id": "{eval_id}", "created_at": "2026-04-09T15:41:07",
 "commit": "{commit}", "argv": ["run.py", "--data", "Bench_VAL", "--model", "m"],
 "pred_format": "xlsx", "eval_format": "csv", "model_name": "m",
 "datasets": {{"Bench_VAL": {{"status": "done", "prediction_file": "m_Bench_VAL.xlsx",
   "judge_model": {judge}, "metrics": {{"Overall": 0.6667}}, "primary_metric": "Overall",
   "skip_reason": null, "error_message": null, "updated_at": "2026-04-09T15:41:07"}}}}}}"#
    )
}

/// VLMEvalKit's judged result file as written since its judge became
/// `gpt-4o-mini`: lower-cased column names, a `log` per row.
fn judged_xlsx(predictions: [&str; 3], hits: [f64; 3], logs: [&str; 3]) -> Vec<u8> {
    let rows: Vec<Vec<X>> = (0..3)
        .map(|i| {
            vec![
                X::N(i as f64 + 1.0),
                X::S(["pneumonia", "fracture", "normal"][0]),
                X::S(predictions[i]),
                X::S(["A", "B", "C"][i]),
                X::N(hits[i]),
                X::S(logs[i]),
            ]
        })
        .collect();
    xlsx_bytes(&["index", "a", "prediction", "answer", "hit", "log"], &rows)
}

const PROVENANCE: &str = "from provenance show model, dataset, judge, eval_id, commit, created_at, prefetch_failed, random_fallback, rules_detected, agreement";

#[test]
fn a_work_folder_run_has_its_judge_run_and_log_counts_in_provenance() {
    let d = Dir::new();
    let items = d.items(3);
    let run_dir = "work/m/T20260409-153012";
    let predictions = ["A", "B", "I cannot tell."];
    let preds = d.write(
        &format!("{run_dir}/m_Bench_VAL.xlsx"),
        xlsx_bytes(
            &["index", "prediction"],
            &predictions
                .iter()
                .enumerate()
                .map(|(i, p)| vec![X::N(i as f64 + 1.0), X::S(p)])
                .collect::<Vec<_>>(),
        ),
    );
    let result = d.write(
        &format!("{run_dir}/m_Bench_VAL_gpt-4o-mini_result.xlsx"),
        judged_xlsx(
            predictions,
            [1.0, 1.0, 0.0],
            [
                "Match Log: A. pneumonia",
                "Match Log: Failed in Prefetch, no GPT-based answer matching under `exact_matching` policy.",
                "Failed to predict, thus randomly generate one. ",
            ],
        ),
    );
    let status = d.write(
        &format!("{run_dir}/status.json"),
        status_json("T20260409-153012", "5f2c1e0", Some("gpt-4o-mini")),
    );
    #[cfg(unix)]
    for (target, name) in [
        (&preds, "m_Bench_VAL.xlsx"),
        (&result, "m_Bench_VAL_gpt-4o-mini_result.xlsx"),
        (&status, "status.json"),
    ] {
        std::os::unix::fs::symlink(target, d.path(&format!("work/m/{name}"))).unwrap();
    }
    let work = d.path("work").display().to_string();
    // Scored, then read back from the cache: the same provenance.
    for _ in 0..2 {
        let rows = table(&[&items], &[&work], PROVENANCE);
        assert_eq!(
            rows,
            vec![vec![
                "m",
                "Bench_VAL",
                "gpt-4o-mini",
                "T20260409-153012",
                "5f2c1e0",
                "2026-04-09T15:41:07",
                "1",
                "1",
                // Every rule set finds A, B and nothing: all agree.
                "v2024|v2025|v2026",
                "100",
            ]],
        );
        // The log rows can be listed.
        let rows = table(
            &[&items],
            &[&work],
            "where log like '%Failed in Prefetch%' or log like '%randomly generate%' show index, hit",
        );
        assert_eq!(rows, vec![vec!["2", "true"], vec!["3", "false"]]);
    }
    let files = table(&[&items], &[&work], "from provenance show files");
    assert!(
        files[0][0].contains("m_Bench_VAL.xlsx")
            && files[0][0].contains("m_Bench_VAL_gpt-4o-mini_result.xlsx"),
        "{files:?}"
    );
    // Without the run record, the judge is read from the file name and the
    // eval_id from the run folder; commit and date are unknown.
    std::fs::remove_file(&status).unwrap();
    std::fs::remove_file(d.path("work/m/status.json")).unwrap();
    let rows = table(&[&items], &[&work], PROVENANCE);
    assert_eq!(
        rows[0][..6],
        ["m", "Bench_VAL", "gpt-4o-mini", "T20260409-153012", "", ""]
    );
    // A run record that cannot be read is a warning naming it.
    d.write(&format!("{run_dir}/status.json"), "{\"eval_id\": ");
    let r = query(&[&items], &[&work], PROVENANCE);
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.err
            .contains("status.json: not read as VLMEvalKit's run record: not JSON"),
        "{}",
        r.err
    );
}

#[test]
fn two_runs_keep_their_own_run_records_and_a_label_names_none() {
    let d = Dir::new();
    let items = d.items(3);
    for (run, commit, preds) in [
        ("T20260409-153012", "5f2c1e0", "1,A\n2,B\n3,A\n"),
        ("T20260410-101500", "9a0b1c2", "1,B\n2,C\n3,C\n"),
    ] {
        d.write(
            &format!("work/m/{run}/m_Bench_VAL.csv"),
            format!("index,prediction\n{preds}"),
        );
        d.write(
            &format!("work/m/{run}/status.json"),
            status_json(run, commit, None),
        );
    }
    let work = d.path("work").display().to_string();
    let rows = table(
        &[&items],
        &[&work],
        "from provenance show model, judge, eval_id, commit, rules_detected",
    );
    assert_eq!(
        rows,
        vec![
            vec!["m@T20260409-153012", "", "T20260409-153012", "5f2c1e0", ""],
            vec!["m@T20260410-101500", "", "T20260410-101500", "9a0b1c2", ""],
        ]
    );
    // Runs named on the command line, with the judge in the file name.
    let a = d.write("a/m_Bench_VAL.csv", "index,prediction\n1,A\n2,B\n3,C\n");
    let a_result = d.write(
        "a/m_Bench_VAL_openai_result.csv",
        "index,prediction,hit\n1,A,1\n2,B,1\n3,C,1\n",
    );
    let b = d.write("b/m_Bench_VAL.csv", "index,prediction\n1,B\n2,B\n3,C\n");
    let _ = a_result;
    let (a, b) = (
        format!("base={}", Path::new(&a).parent().unwrap().display()),
        format!("tuned={b}"),
    );
    let rows = table(
        &[&items],
        &[&a, &b],
        "from provenance show model, judge, eval_id, prefetch_failed, rules_detected, agreement",
    );
    assert_eq!(
        rows,
        vec![
            // No `log` column: no counts; a `hit` column: an era.
            vec!["m@base", "openai", "", "", "v2024|v2025|v2026", "100"],
            vec!["m@tuned", "", "", "", "", ""],
        ]
    );
}

#[test]
fn files_of_datasets_not_loaded_are_skipped_with_one_note() {
    // A flat folder of VAL and TEST predictions with only VAL loaded (it
    // was "a second prediction set for model `m`").
    let d = Dir::new();
    let items = d.items(3);
    d.write("flat/m_Bench_VAL.csv", "index,prediction\n1,A\n2,B\n3,A\n");
    d.write("flat/m_GMAI-MMBench_TEST.csv", "index,prediction\n1,C\n");
    d.write(
        "flat/m_MMBench_DEV_EN_openai_result.csv",
        "index,prediction,hit\n1,C,0\n",
    );
    d.write(
        "flat/n_MMBench_DEV_EN.xlsx",
        xlsx_bytes(&["index", "prediction"], &[vec![X::N(1.0), X::S("A")]]),
    );
    // VLMEvalKit's layout names datasets it does not register too.
    d.write("flat/m/m_MyOwnBench.csv", "index,prediction\n1,C\n");
    let flat = d.path("flat").display().to_string();
    let r = query(&[&items], &[&flat], "by model, dataset score hits, n");
    assert_eq!(csv_rows(&r)[1..], [vec!["m", "Bench_VAL", "2", "3"]]);
    assert!(
        r.err.contains(
            "note: skipped 4 prediction files of 3 datasets not loaded: MMBench_DEV_EN (2), GMAI-MMBench_TEST (1), MyOwnBench (1)"
        ),
        "{}",
        r.err
    );
    assert!(!r.err.contains("warning"), "{}", r.err);
}

#[test]
fn two_datasets_in_one_session_with_indexes_repeated() {
    let d = Dir::new();
    let val = d.items(3);
    // A second dataset, its indexes 1..=4 repeating the first's.
    let other = d.write(
        "Other_Bench.tsv",
        "index\tquestion\tA\tB\tanswer\n1\tq\tyes\tno\tA\n2\tq\tyes\tno\tB\n3\tq\tyes\tno\tB\n4\tq\tyes\tno\tA\n",
    );
    let a = d.write("p/m_Bench_VAL.csv", "index,prediction\n1,A\n2,B\n3,A\n");
    let b = d.write("p/m_Other_Bench.csv", "index,prediction\n1,A\n2,A\n3,B\n");
    // Another model answered one dataset only: it has no rows in the other.
    let c = d.write(
        "p/n_Other_Bench.csv",
        "index,prediction\n1,B\n2,B\n3,B\n4,A\n",
    );
    for _ in 0..2 {
        // Scored, then from the cache.
        assert_eq!(
            table(
                &[&val, &other],
                &[&a, &b, &c],
                "by model, dataset score hits, n, missing"
            ),
            [
                vec!["m", "Bench_VAL", "2", "3", "0"],
                vec!["m", "Other_Bench", "2", "4", "1"],
                vec!["n", "Other_Bench", "3", "4", "0"],
            ]
        );
    }
    assert_eq!(
        table(&[&val, &other], &[&a, &b, &c], "by model score acc"),
        [vec!["m", "57.14285714285714"], vec!["n", "75"]]
    );
    assert_eq!(
        table(
            &[&val, &other],
            &[&a, &b, &c],
            "from coverage show model, dataset, read, missing"
        ),
        [
            vec!["m", "Bench_VAL", "3", "0"],
            vec!["m", "Other_Bench", "3", "1"],
            vec!["n", "Other_Bench", "4", "0"],
        ]
    );
    // An index repeated within one dataset is still an error.
    let dup = d.write(
        "Dup_Bench.tsv",
        "index\tquestion\tA\tB\tanswer\n1\tq\ty\tn\tA\n1\tq\ty\tn\tB\n",
    );
    let r = query(&[&val, &dup], &[&a], "score n");
    assert_fatal(
        &r,
        &dup,
        Some("line 3"),
        Some("index"),
        &["duplicate item index 1 in dataset `Dup_Bench`"],
    );
    // With two datasets loaded, a file whose name names neither cannot be placed.
    let anon = d.write("p/predictions.csv", "index,prediction\n1,A\n");
    let r = query(&[&val, &other], &[&anon], "score n");
    assert_fatal(
        &r,
        &anon,
        None,
        None,
        &[
            "which loaded dataset this file answers cannot be told",
            "Bench_VAL, Other_Bench",
        ],
    );
    // ... unless it has a `dataset` column.
    let with_column = d.write(
        "p/all.csv",
        "model,dataset,index,prediction\nk,Bench_VAL,1,A\nk,Other_Bench,1,A\nk,Other_Bench,4,B\nk,Elsewhere,1,A\n",
    );
    let r = query(
        &[&val, &other],
        &[&with_column],
        "by model, dataset score hits, n",
    );
    assert_eq!(
        csv_rows(&r)[1..],
        [
            vec!["k", "Bench_VAL", "1", "3"],
            vec!["k", "Other_Bench", "1", "4"]
        ]
    );
    assert!(
        r.err
            .contains("1 rows of datasets not loaded ignored (first: line 5: `Elsewhere`)"),
        "{}",
        r.err
    );
}

#[test]
fn every_items_column_is_a_column_by_either_spelling() {
    let d = Dir::new();
    let picture = "iVBORw0K".repeat(200);
    let items = d.write(
        "MM_Bench.tsv",
        format!(
            "index\tquestion\thint\tA\tB\tC\tD\tF\tanswer\tcategory\tL2-Category\tsplit\tscore\tweight\tphoto\timage_path\timage\n\
             1\tq1\t\tyes\tno\tmaybe\t\t\tA\timage_scene\tPerception\tdev\t3\t0.5\t{picture}\tp/1.jpg\t{picture}\n\
             2\tq2\tsome hint\tyes\tno\t\t\tsix\tF\tphysical_relation\tReasoning\tdev\t4\t1\t\tp/2.jpg\t\n\
             3\tq3\t\tyes\tno\tmaybe\tnever\t\tB\timage_scene\tPerception\tdev\t5\t2\t\tp/3.jpg\t\n"
        ),
    );
    let preds = d.write(
        "m_MM_Bench.csv",
        "index,prediction\n1,A\n2,The answer is F.\n3,C\n",
    );
    for _ in 0..2 {
        // Read, then from the cache.
        let r = query(&[&items], &[&preds], "from items show *");
        assert_eq!(
            csv_rows(&r)[0],
            [
                "dataset",
                "index",
                "question",
                "A",
                "B",
                "C",
                "D",
                "E",
                "F",
                "answer",
                "category",
                "task",
                "department",
                "granularity",
                "modality",
                "original_task",
                "hint",
                "l2_category",
                "split",
                "score_item",
                "weight",
                "image_path",
                "n_options"
            ],
            "image columns and base64 pictures are dropped; the rest in header order"
        );
        // Options beyond E are options: for extraction and n_options.
        assert_eq!(
            table(
                &[&items],
                &[&preds],
                "show index, n_options, choice, correct"
            ),
            [
                vec!["1", "3", "A", "true"],
                vec!["2", "3", "F", "true"],
                vec!["3", "4", "C", "false"],
            ]
        );
    }
    // Both spellings, case-insensitive; types from the values.
    assert_eq!(
        table(
            &[&items],
            &[&preds],
            "where `l2-category` = 'Perception' and score_item > 3 and weight < 3 show index, L2_Category, score_item"
        )
        .len(),
        1
    );
    assert_eq!(
        table(&[&items], &[&preds], "by l2_category score acc, n"),
        [vec!["Perception", "50", "2"], vec!["Reasoning", "100", "1"]]
    );
    // Two headers that are one column after normalising are fatal.
    let both = d.write(
        "Two_Bench.tsv",
        "index\tquestion\tA\tB\tanswer\tBody System\tbody-system\n1\tq\ty\tn\tA\tx\ty\n",
    );
    let r = query(&[&both], &[], "score n");
    assert_fatal(
        &r,
        &both,
        Some("line 1"),
        Some("body-system"),
        &["the columns `Body System` and `body-system` are both the column `body_system`"],
    );
}

#[test]
fn a_test_split_beside_val_does_not_pull_accuracy_down() {
    let d = Dir::new();
    let val = d.items(3);
    // TEST items have no answers.
    let test = d.write(
        "Bench_TEST.tsv",
        "index\tquestion\tA\tB\n1\tq\tyes\tno\n2\tq\tyes\tno\n",
    );
    let a = d.write("p/m_Bench_VAL.csv", "index,prediction\n1,A\n2,B\n3,A\n");
    let b = d.write("p/m_Bench_TEST.csv", "index,prediction\n1,A\n2,A\n");
    assert_eq!(
        table(
            &[&val, &test],
            &[&a, &b],
            "by model score acc, acc(v2024), macro(dataset), hits, n"
        ),
        [vec![
            "m",
            "66.66666666666666",
            "66.66666666666666",
            "66.66666666666666",
            "2",
            "5"
        ]]
    );
    assert_eq!(
        table(&[&val, &test], &[&a, &b], "by dataset score acc, n"),
        [
            vec!["Bench_TEST", "", "2"],
            vec!["Bench_VAL", "66.66666666666666", "3"]
        ]
    );
}
