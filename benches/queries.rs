//! The benchmark harness: load and score a benchmark, then time the five
//! representative queries warm (median of repeated runs), the extraction
//! rules alone, and write the scored relation to Parquet so that
//! `scripts/bench.sh` can time the same queries in DuckDB on identical data.
//!
//! cargo bench --bench queries -- --items FILE --predictions DIR [--cache DIR [--cache-build BINARY]] [--no-extraction] [--export scored.parquet [--export-columns a,b,...]] [--runs N] [--only TEXT]
//!
//! With `--cache`, the session starts from (and fills) that cache, as the
//! command line does; without it, every file is read and scored.

use medql::render::Cell;
use medql::scoring::rules::RULE_SETS;
use medql::{LoadSpec, Outcome, Session};
use std::time::{Duration, Instant};

pub const QUERIES: [(&str, &str); 5] = [
    ("overall by model", "by model score acc"),
    ("model x department on #DD and #CT", "where #DD and #CT by model, department score acc"),
    ("pivot by task", "by model, task score acc pivot task"),
    ("paired comparison by task", "by task compare each vs best"),
    ("20 failures of one model", "where model = $model and not correct show index, question, answer, choice, prediction limit 20"),
];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let (Some(items), Some(preds)) = (get("--items"), get("--predictions")) else {
        eprintln!("usage: cargo bench --bench queries -- --items FILE --predictions DIR [--cache DIR] [--export FILE] [--runs N] [--only TEXT]");
        return;
    };
    let runs: usize = get("--runs").and_then(|r| r.parse().ok()).unwrap_or(10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let t0 = Instant::now();
    // Cache entries are keyed by the build that wrote them: with
    // `--cache-build BINARY` (the medql command that filled the cache), the
    // harness reads that build's entries.
    let cache = get("--cache").map(|dir| {
        let exe = get("--cache-build")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::current_exe().ok())
            .unwrap_or_default();
        let build = medql::data::cache::build_id(&exe);
        medql::data::cache::Cache::open(dir, build).expect("cache")
    });
    let mut s = rt
        .block_on(Session::load_with(
            &LoadSpec {
                items: vec![items.clone()],
                predictions: vec![preds.clone()],
                ..Default::default()
            },
            &medql::Options {
                cache,
                ..Default::default()
            },
        ))
        .expect("load");
    let load = t0.elapsed();
    let rows = s.info().items * s.info().models.len();
    println!(
        "load+score\t{:.3}\ts\t{} items x {} models = {rows} predictions",
        load.as_secs_f64(),
        s.info().items,
        s.info().models.len()
    );
    println!(
        "scoring (every rule set, in parallel)\t{:.3}\ts\t{:.0} predictions/s",
        s.info().score_time.as_secs_f64(),
        rows as f64 / s.info().score_time.as_secs_f64()
    );
    let model = s
        .info()
        .models
        .get(1)
        .or(s.info().models.first())
        .cloned()
        .unwrap_or_default();
    s.set_param("model", &model);

    // `--only TEXT`: only the queries whose name contains TEXT (to profile one).
    let only = get("--only");
    for (name, q) in QUERIES {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let _ = rt.block_on(s.run(q, "bench")).expect(q); // warm-up
        let times: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let out = rt.block_on(s.run(q, "bench")).expect(q);
                std::hint::black_box(out);
                t.elapsed()
            })
            .collect();
        println!(
            "query\t{name}\t{:.3}\tms median of {runs}",
            median(times).as_secs_f64() * 1e3
        );
    }
    // Peak resident memory of the session (load, scoring, the five
    // queries), as the kernel counts it, before the harness's own copies of
    // the predictions (extraction alone, export) add to it.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        if let Some(kb) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            println!("peak memory (VmHWM)\t{kb}\tkB");
        }
    }
    // The extraction rules alone, one core, over every loaded prediction
    // (`--no-extraction` skips it: at 1,000 models the copies of every
    // prediction it makes are larger than the session).
    if !args.iter().any(|a| a == "--no-extraction") {
        extraction_alone(&rt, &mut s);
    }

    if let Some(path) = get("--export") {
        // `--export-columns a,b,...`: only these (what a peer loads).
        let q = match get("--export-columns") {
            Some(c) => format!("show {}", c.replace(',', ", ")),
            None => "show *".to_string(),
        };
        let outs = rt.block_on(s.run(&q, "bench")).expect("export");
        if let Some(Outcome::Table(t)) = outs.into_iter().last() {
            medql::render::write_parquet(&path, &t.batches, t.schema.clone(), &[])
                .expect("write parquet");
            println!("exported\t{path}\t{} rows", t.num_rows());
        }
    }
}

/// The extraction rules alone, one core, over every loaded prediction.
fn extraction_alone(rt: &tokio::runtime::Runtime, s: &mut Session) {
    let preds_and_opts = rt
        .block_on(s.run("show prediction, A, B, C, D, E", "bench"))
        .expect("rows");
    let mut cells: Vec<(Option<String>, Vec<Option<String>>)> = vec![];
    for o in preds_and_opts {
        if let Outcome::Table(t) = o {
            for b in &t.batches {
                for r in 0..b.num_rows() {
                    let text = |c: usize| match medql::render::cell(b.column(c), r) {
                        Cell::Text(x) => Some(x),
                        _ => None,
                    };
                    cells.push((text(0), (1..6).map(text).collect()));
                }
            }
        }
    }
    for rules in RULE_SETS {
        let name = rules.name;
        let t = Instant::now();
        let mut z = 0usize;
        for (p, opts) in &cells {
            let o: Vec<Option<&str>> = opts.iter().map(|x| x.as_deref()).collect();
            z += usize::from(rules.extract(p.as_deref(), &o).choice == b'Z');
        }
        let e = t.elapsed();
        println!(
            "extraction {name} (one core)\t{:.3}\ts\t{:.0} predictions/s ({z} Z)",
            e.as_secs_f64(),
            cells.len() as f64 / e.as_secs_f64()
        );
    }
}
