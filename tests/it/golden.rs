//! Golden query tests: every `tests/golden/<data>/*.mql` file is run and its
//! output compared with the `.out` file beside it. `demo` cases run on the
//! built-in demo data; `real` cases on the real GMAI-MMBench VAL data with 3
//! models (aggregates, indexes and labels only). Run with `UPDATE_GOLDEN=1`
//! to write the expected files after checking a change by eye:
//! `UPDATE_GOLDEN=1 cargo test --locked --test it golden::`.

use crate::common;
use medql::render::Format;
use medql::{Error, LoadSpec, Outcome, Session};
use std::path::{Path, PathBuf};

fn run_case(rt: &tokio::runtime::Runtime, session: &mut Session, path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let mut out = String::new();
    for result in rt.block_on(session.run_each(&text, &name, true)) {
        match result {
            Ok(Some(Outcome::Table(t))) => {
                out.push_str(&t.render(Format::Table).unwrap());
                out.push_str(&format!("({} rows)\n", t.num_rows()));
            }
            Ok(Some(Outcome::Message(m))) => {
                out.push_str(&m);
                out.push('\n');
            }
            Ok(None) => {}
            Err(Error::Query(q)) => out.push_str(&format!("{q}\n")),
            Err(e) => out.push_str(&format!("error: {e}\n")),
        }
    }
    out
}

fn cases(dir: &str) -> Vec<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(dir);
    let mut v: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mql"))
        .collect();
    v.sort();
    v
}

fn check_all(dir: &str, spec: LoadSpec) {
    let rt = common::rt();
    let update = std::env::var("UPDATE_GOLDEN").is_ok();
    let mut failures = vec![];
    let files = cases(dir);
    assert!(!files.is_empty(), "no golden cases in {dir}");
    for path in files {
        // A fresh session per case: `set` and `let` do not leak between files.
        let mut session = rt.block_on(Session::load(&spec)).expect("load");
        let got = run_case(&rt, &mut session, &path);
        let expected_path = path.with_extension("out");
        if update {
            std::fs::write(&expected_path, &got).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if got != expected {
            failures.push(format!(
                "--- {}\n=== expected:\n{expected}\n=== got:\n{got}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn golden_demo() {
    check_all("demo", LoadSpec::default());
}

#[test]
fn golden_real() {
    let Some(dir) = common::shared_data() else {
        return;
    };
    check_all("real", common::real_spec(&dir, &["predictions"]));
}
