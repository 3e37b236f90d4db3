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

/// Run the `medql` binary: exit code, stdout, stderr.
pub fn medql(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_medql"))
        .args(args)
        .env_remove("NO_COLOR")
        .env("XDG_CACHE_HOME", env!("CARGO_TARGET_TMPDIR"))
        .output()
        .expect("run medql");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
        ..Default::default()
    }
}

/// The real data's 3 models under VLMEvalKit's 2024 rules, with a
/// runtime; None (the test returns) where the data is absent.
pub fn real_legacy_session() -> Option<(tokio::runtime::Runtime, Session)> {
    let dir = shared_data()?;
    let rt = rt();
    let mut s = rt
        .block_on(Session::load(&real_spec(&dir, &["predictions"])))
        .expect("the real data loads");
    rt.block_on(s.run("set policy = v2024", "t"))
        .expect("the policy is set");
    Some((rt, s))
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
    t.rows()
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

use calamine::{Data, Reader};
use std::collections::HashMap;
use std::path::Path;

/// `index -> hit` from a VLMEvalKit `*_openai_result.xlsx`.
pub fn reference_hits(path: &Path) -> HashMap<i64, bool> {
    let mut wb = calamine::open_workbook_auto(path).expect("reference workbook");
    let range = wb
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    let mut rows = range.rows();
    let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
    let ic = header.iter().position(|h| h == "index").unwrap();
    let hc = header.iter().position(|h| h == "hit").unwrap();
    let num = |c: &Data| match c {
        Data::Float(f) => *f as i64,
        Data::Int(i) => *i,
        other => panic!("not a number: {other:?}"),
    };
    rows.map(|r| (num(&r[ic]), num(&r[hc]) == 1)).collect()
}

/// `index -> opt_new` from `*_current_policy.csv`.
pub fn reference_current(path: &Path) -> HashMap<i64, String> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].parse().unwrap(), r[1].to_string())
        })
        .collect()
}

/// `group -> fraction` from a VLMEvalKit `*_acc.csv` (empty cells skipped).
pub fn reference_acc(path: &Path) -> Vec<(String, f64)> {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let rec = rdr.records().next().unwrap().unwrap();
    header
        .iter()
        .zip(rec.iter())
        .skip(1) // "split"
        .filter(|(_, v)| !v.is_empty())
        .map(|(h, v)| (h.clone(), v.parse().unwrap()))
        .collect()
}

/// The real items as the test reads them itself: index -> column -> text.
pub fn items_tsv(dir: &Path) -> Vec<HashMap<String, String>> {
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(dir.join("GMAI-MMBench_VAL.tsv"))
        .unwrap();
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .filter(|(h, _)| h.as_str() != "image")
                .map(|(h, v)| (h.clone(), v.to_string()))
                .collect()
        })
        .collect()
}

/// `medql gen` into `dir` with CSV predictions: (items TSV, predictions dir).
pub fn gen_csv(dir: &std::path::Path, n_models: usize, n_items: usize) -> (String, PathBuf) {
    let (code, _, err) = medql(&[
        "gen",
        "--n-models",
        &n_models.to_string(),
        "--n-items",
        &n_items.to_string(),
        "--out",
        dir.to_str().unwrap(),
        "--file-format",
        "csv",
    ]);
    assert_eq!(code, 0, "{err}");
    (
        dir.join("GMAI-MMBench_SYNTH.tsv").display().to_string(),
        dir.join("predictions"),
    )
}
