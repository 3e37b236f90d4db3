//! Resource limits and strictness: results streamed to csv/json output are
//! the same as collected ones, `--memory-limit` fails clearly, `--strict`
//! turns loading warnings into errors.

use crate::common::{medql, query, rt};
use medql::render::Format;
use medql::{LoadSpec, Session};

const QUERY: &str = "show model, index, prediction, choice, correct sort model, index";

#[test]
fn streamed_output_equals_the_collected_result_in_every_format() {
    let rt = rt();
    let mut s = rt.block_on(Session::load(&LoadSpec::default())).unwrap();
    let t = query(&rt, &mut s, QUERY);
    assert_eq!(t.num_rows(), 4 * 4550);
    for f in [Format::Csv, Format::Tsv, Format::Json, Format::Ndjson] {
        let (code, out, err) = medql(&["-e", QUERY, "--format", f.name()]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, t.render(f).unwrap(), "format {}", f.name());
        // And through -o, to a file.
        let dir = tempfile::tempdir().unwrap();
        let ext = if f == Format::Ndjson {
            "ndjson"
        } else {
            f.name()
        };
        let path = dir.path().join(format!("out.{ext}"));
        let (code, _, err) = medql(&["-e", QUERY, "-o", path.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains(&format!("wrote {} rows", 4 * 4550)), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), out);
    }
    // Markdown, written in blocks as it streams, is the collected text.
    let (code, out, err) = medql(&["-e", QUERY, "--format", "markdown"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, t.render(Format::Markdown).unwrap());
    // Empty results are still well-formed.
    let (_, out, _) = medql(&["-e", "where index < 0 show index", "--format", "json"]);
    assert_eq!(out, "[]\n");
    let (_, out, _) = medql(&["-e", "where index < 0 show index", "--format", "csv"]);
    assert_eq!(out, "index\n");
    let (_, out, _) = medql(&["-e", "where index < 0 show index"]);
    assert_eq!(out, "┌───────┐\n│ index │\n╞═══════╡\n└───────┘\n");
}

#[test]
fn streamed_parquet_holds_every_row_and_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("all.parquet");
    let (code, _, err) = medql(&[
        "--policy",
        "legacy",
        "-e",
        "by model score acc",
        "-e",
        QUERY,
    ]);
    // -e given twice is a usage error, not a silent choice.
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = medql(&[
        "--policy",
        "legacy",
        "-e",
        &format!("by model score acc; {QUERY}"),
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let rt = rt();
    let ctx = medql::datafusion::prelude::SessionContext::new();
    let batches = rt
        .block_on(async {
            ctx.read_parquet(
                path.to_str().unwrap(),
                medql::datafusion::prelude::ParquetReadOptions::default(),
            )
            .await?
            .collect()
            .await
        })
        .unwrap();
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 4 * 4550, "the last statement's result is written");
    let file = std::fs::File::open(&path).unwrap();
    let reader = medql::datafusion::parquet::file::reader::SerializedFileReader::new(file).unwrap();
    use medql::datafusion::parquet::file::reader::FileReader;
    let kv = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .cloned()
        .unwrap_or_default();
    assert!(kv
        .iter()
        .any(|k| k.key == "medql.policy" && k.value.as_deref() == Some("v2024")));
}

#[test]
fn memory_limit_bounds_sorts_with_a_clear_error() {
    let q = "show * sort prediction";
    let (code, _, err) = medql(&["--memory-limit", "1M", "--format", "csv", "-e", q]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("needs more memory than --memory-limit allows"),
        "{err}"
    );
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{err}"
    );
    // A generous limit lets the same query through.
    let (code, out, err) = medql(&["--memory-limit", "1G", "--format", "csv", "-e", q]);
    assert_eq!(code, 0, "{err}");
    let records = csv::Reader::from_reader(out.as_bytes()).records().count();
    assert_eq!(records, 4 * 4550);
    // Sizes are checked before anything runs.
    let (code, _, err) = medql(&["--memory-limit", "12Q", "-e", "score n"]);
    assert_eq!(code, 2);
    assert!(err.contains("like 512M"), "{err}");
}

#[test]
fn strict_turns_loading_warnings_into_errors() {
    // The demo data has one model with unanswered items.
    let (code, _, err) = medql(&["-e", "score n"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: demo-small-2b: 30 items unanswered"),
        "{err}"
    );
    let (code, out, err) = medql(&["--strict", "-e", "score n"]);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "nothing is computed: {out}");
    assert!(
        err.contains("error (--strict): demo-small-2b: 30 items unanswered, scored wrong"),
        "{err}"
    );
}
