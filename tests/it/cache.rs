//! The persistent cache: a second start reads scored models back and
//! answers exactly as a fresh load does; a touched file keeps its entries;
//! a changed file invalidates only the models it holds; a damaged entry is
//! a miss, not an error.

use crate::common;
use crate::common::{medql, query, rt};
use medql::data::cache::Cache;
use medql::render::Format;
use medql::{LoadSpec, Options, Session};
use std::path::Path;

/// Every column of every row, for both rule sets and `recorded`.
const ALL: &str = "show * sort model, index";

fn everything(rt: &tokio::runtime::Runtime, s: &mut Session) -> String {
    let mut out = String::new();
    for p in s.policies() {
        s.set_policy(p).unwrap();
        out.push_str(&query(rt, s, ALL).render(Format::Csv).unwrap());
    }
    out.push_str(
        &query(rt, s, "from coverage show * sort model")
            .render(Format::Csv)
            .unwrap(),
    );
    out
}

fn load(rt: &tokio::runtime::Runtime, spec: &LoadSpec, cache: Option<&Path>) -> Session {
    let opts = Options {
        cache: cache.map(|d| Cache::open(d, "test-build").unwrap()),
        ..Default::default()
    };
    rt.block_on(Session::load_with(spec, &opts)).unwrap()
}

#[test]
fn a_cached_start_answers_exactly_as_a_fresh_load_on_the_real_files() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    // Raw prediction files and VLMEvalKit's result files, paired.
    let mut spec = common::real_spec(&data, &["predictions"]);
    for m in ["HuatuoGPT_Vision_7B", "qwen_chat"] {
        spec.predictions.push(
            data.join(format!("reference/{m}_GMAI-MMBench_VAL_openai_result.xlsx"))
                .display()
                .to_string(),
        );
    }
    let mut fresh = load(&rt, &spec, None);
    let expected = everything(&rt, &mut fresh);
    let mut first = load(&rt, &spec, Some(dir.path()));
    assert_eq!((first.info().cache_hits, first.info().cache_misses), (0, 3));
    assert_eq!(everything(&rt, &mut first), expected);
    let mut second = load(&rt, &spec, Some(dir.path()));
    assert_eq!(
        (second.info().cache_hits, second.info().cache_misses),
        (3, 0)
    );
    assert_eq!(second.info().warnings, fresh.info().warnings);
    assert_eq!(second.info().recorded_models, fresh.info().recorded_models);
    assert_eq!(everything(&rt, &mut second), expected);
    // Another build never reads these entries.
    let other = Options {
        cache: Some(Cache::open(dir.path(), "another-build").unwrap()),
        ..Default::default()
    };
    let s = rt.block_on(Session::load_with(&spec, &other)).unwrap();
    assert_eq!((s.info().cache_hits, s.info().cache_misses), (0, 3));
}

#[test]
fn a_changed_file_invalidates_only_its_own_model() {
    let rt = rt();
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (items, preds) = common::gen_csv(data.path(), 4, 600);
    let spec = LoadSpec {
        items: vec![items],
        predictions: vec![preds.display().to_string()],
        ..Default::default()
    };
    let s = load(&rt, &spec, Some(cache.path()));
    assert_eq!((s.info().cache_hits, s.info().cache_misses), (0, 4));

    // Touched, same content: still from the cache (the content is hashed
    // because the time changed).
    let mut files: Vec<_> = std::fs::read_dir(&preds)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let f = std::fs::File::options()
        .append(true)
        .open(&files[0])
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    drop(f);
    let s = load(&rt, &spec, Some(cache.path()));
    assert_eq!((s.info().cache_hits, s.info().cache_misses), (4, 0));

    // One file changed: every prediction of its model now reads `A`.
    let text = std::fs::read_to_string(&files[1]).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let pc = headers.iter().position(|h| h == "prediction").unwrap();
    let mut w = csv::Writer::from_path(&files[1]).unwrap();
    w.write_record(&headers).unwrap();
    for r in rdr.records() {
        let r = r.unwrap();
        let row: Vec<&str> = r
            .iter()
            .enumerate()
            .map(|(i, c)| if i == pc { "A" } else { c })
            .collect();
        w.write_record(&row).unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let mut cached = load(&rt, &spec, Some(cache.path()));
    assert_eq!(
        (cached.info().cache_hits, cached.info().cache_misses),
        (3, 1)
    );
    let mut fresh = load(&rt, &spec, None);
    let expected = everything(&rt, &mut fresh);
    assert_eq!(everything(&rt, &mut cached), expected);
    let changed = query(
        &rt,
        &mut cached,
        "where choice <> 'A' by model score n having n > 0",
    );
    assert_eq!(
        changed.num_rows(),
        3,
        "the changed model answers A everywhere"
    );

    // A damaged entry is a miss, never an error.
    for e in std::fs::read_dir(cache.path().join("models")).unwrap() {
        std::fs::write(e.unwrap().path(), b"not parquet").unwrap();
    }
    let mut damaged = load(&rt, &spec, Some(cache.path()));
    assert_eq!(
        (damaged.info().cache_hits, damaged.info().cache_misses),
        (0, 4)
    );
    assert_eq!(everything(&rt, &mut damaged), expected);

    // Changed items invalidate every model.
    let text = std::fs::read_to_string(&spec.items[0]).unwrap();
    std::fs::write(&spec.items[0], text + "\n").unwrap();
    let s = load(&rt, &spec, Some(cache.path()));
    assert_eq!((s.info().cache_hits, s.info().cache_misses), (0, 4));
}

#[test]
fn the_command_line_uses_the_cache_and_says_so() {
    let data = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let (items, preds) = common::gen_csv(data.path(), 4, 600);
    let args = |extra: &[&str]| -> (i32, String, String) {
        let mut a = vec![
            "--items",
            items.as_str(),
            "--predictions",
            preds.to_str().unwrap(),
            "--timing",
            "--format",
            "csv",
            "-e",
            "by model score acc, n",
        ];
        a.extend_from_slice(extra);
        medql(&a)
    };
    let c = cache.path().to_str().unwrap();
    let (code, first, err) = args(&["--cache", c]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("0 from the cache, 4 scored"), "{err}");
    let (_, second, err) = args(&["--cache", c]);
    assert!(err.contains("4 from the cache, 0 scored"), "{err}");
    assert_eq!(first, second);
    let (_, third, err) = args(&["--no-cache"]);
    assert!(err.contains("0 from the cache, 4 scored"), "{err}");
    assert_eq!(first, third);
    let (code, _, err) = args(&["--no-cache", "--cache", c]);
    assert_eq!(code, 2, "{err}");
}
