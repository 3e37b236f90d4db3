//! Every example of docs/language.md runs: `mql` blocks must succeed on the
//! real data with three models, `mql-error` blocks must fail with the error
//! their first comment names.

use crate::common;
use medql::Session;

fn blocks(kind: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md")).unwrap();
    let mut out = vec![];
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match &mut cur {
            None if line.trim() == format!("```{kind}") => cur = Some(String::new()),
            Some(b) if line.trim() == "```" => {
                out.push(std::mem::take(b));
                cur = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_example_runs() {
    let Some(dir) = common::shared_data() else {
        return;
    };
    let rt = common::rt();
    let examples = blocks("mql");
    assert!(examples.len() >= 12, "{} examples", examples.len());
    for ex in examples {
        let mut s = rt
            .block_on(Session::load(&common::real_spec(&dir, &["predictions"])))
            .unwrap();
        let results = rt.block_on(s.run_each(&ex, "docs", false));
        assert!(!results.is_empty(), "{ex}");
        for r in results {
            if let Err(e) = r {
                panic!("example failed:\n{ex}\n{e}");
            }
        }
    }
}

#[test]
fn every_error_example_fails_as_documented() {
    let Some(dir) = common::shared_data() else {
        return;
    };
    let rt = common::rt();
    let examples = blocks("mql-error");
    assert!(examples.len() >= 5);
    let mut s = rt
        .block_on(Session::load(&common::real_spec(&dir, &["predictions"])))
        .unwrap();
    for ex in examples {
        let first = ex.lines().next().unwrap();
        let expected = first
            .trim_start_matches("--")
            .trim()
            .split(" (")
            .next()
            .unwrap()
            .to_string();
        let err = rt
            .block_on(s.run(&ex, "docs"))
            .err()
            .unwrap_or_else(|| panic!("should fail:\n{ex}"));
        let shown = err.to_string();
        assert!(
            shown.contains(&expected),
            "{ex}\nexpected `{expected}` in:\n{shown}"
        );
    }
}
