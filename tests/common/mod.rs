//! Shared helpers of the integration tests.
#![allow(dead_code)]

use medql::{LoadSpec, Outcome, QueryResult, Session};
use std::path::PathBuf;

/// The real GMAI-MMBench data beside the project, or None (with a message)
/// when it is absent. Under CI it must be there.
pub fn shared_data() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/gmai-mmbench");
    if p.join("GMAI-MMBench_VAL.tsv").exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true but the real data is missing at {}", p.display());
    }
    eprintln!("skipping: real data not found at {}", p.display());
    None
}

pub const MODELS: [&str; 3] = ["HuatuoGPT_Vision_7B", "Qwen2-VL-7B-Instruct", "qwen_chat"];

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn real_spec(dir: &std::path::Path, predictions: &[&str]) -> LoadSpec {
    LoadSpec {
        items: vec![dir.join("GMAI-MMBench_VAL.tsv").display().to_string()],
        predictions: predictions
            .iter()
            .map(|p| dir.join(p).display().to_string())
            .collect(),
    }
}

/// Run statements and return the last table.
pub fn query(rt: &tokio::runtime::Runtime, s: &mut Session, q: &str) -> QueryResult {
    let outs = rt
        .block_on(s.run(q, "test"))
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    outs.into_iter()
        .rev()
        .find_map(|o| match o {
            Outcome::Table(t) => Some(t),
            _ => None,
        })
        .expect("a table")
}

/// A result as rows of cells.
pub fn rows(t: &QueryResult) -> Vec<Vec<medql::render::Cell>> {
    let mut out = vec![];
    for b in &t.batches {
        for r in 0..b.num_rows() {
            out.push(
                b.columns()
                    .iter()
                    .map(|a| medql::render::cell(a, r))
                    .collect(),
            );
        }
    }
    out
}

pub fn text(c: &medql::render::Cell) -> Option<String> {
    match c {
        medql::render::Cell::Text(s) => Some(s.clone()),
        medql::render::Cell::Null => None,
        other => Some(format!("{other:?}")),
    }
}

pub fn float(c: &medql::render::Cell) -> Option<f64> {
    match c {
        medql::render::Cell::Float(f) => Some(*f),
        medql::render::Cell::Int(i) => Some(*i as f64),
        _ => None,
    }
}
