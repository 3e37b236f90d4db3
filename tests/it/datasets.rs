//! Several benchmarks in one session: GMAI-MMBench VAL (real) beside two
//! generated ones of other shapes (MMBench-style, MedXpertQA-style), each
//! with columns of its own and a tree of its own.

use crate::common::{float, medql, query, rows, rt, shared_data, text, MODELS};
use medql::{LoadSpec, Session};
use std::collections::BTreeMap;
use std::path::Path;

/// Generate a dataset of `shape` into `dir`: (items file, predictions folder).
fn generate(shape: &str, dir: &Path, n_items: usize) -> (String, String) {
    let (code, _, err) = medql(&[
        "gen",
        "--shape",
        shape,
        "--n-models",
        "3",
        "--n-items",
        &n_items.to_string(),
        "--out",
        dir.to_str().unwrap(),
        "--file-format",
        "csv",
        "--seed",
        "11",
    ]);
    assert_eq!(code, 0, "{err}");
    let items = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "tsv"))
        .expect("an items file");
    (
        items.display().to_string(),
        dir.join("predictions").display().to_string(),
    )
}

/// `(model, dataset) -> (acc, n)` of `by model, dataset score <acc>, n`.
fn accuracies(
    rt: &tokio::runtime::Runtime,
    s: &mut Session,
    acc: &str,
) -> BTreeMap<(String, String), (f64, f64)> {
    let t = query(rt, s, &format!("by model, dataset score {acc}, n"));
    rows(&t)
        .iter()
        .map(|r| {
            (
                (text(&r[0]).unwrap(), text(&r[1]).unwrap()),
                (float(&r[2]).unwrap(), float(&r[3]).unwrap()),
            )
        })
        .collect()
}

/// The single number a query gives.
fn one(rt: &tokio::runtime::Runtime, s: &mut Session, q: &str) -> f64 {
    let t = query(rt, s, q);
    float(&rows(&t)[0][0]).unwrap_or_else(|| panic!("{q}: not a number"))
}

#[test]
fn three_benchmarks_in_one_session() {
    let Some(real) = shared_data() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (mm_items, mm_preds) = generate("mmbench", &tmp.path().join("mm"), 700);
    let (mx_items, mx_preds) = generate("medxpertqa", &tmp.path().join("mx"), 500);
    let val = real.join("GMAI-MMBench_VAL.tsv").display().to_string();
    let val_preds = real.join("predictions").display().to_string();
    let spec = LoadSpec {
        items: vec![val.clone(), mm_items.clone(), mx_items.clone()],
        predictions: vec![val_preds.clone(), mm_preds.clone(), mx_preds.clone()],
        ..Default::default()
    };
    let rt = rt();
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    assert_eq!(
        s.info().datasets,
        ["GMAI-MMBench_VAL", "MMBench_SYNTH", "MedXpertQA_SYNTH"]
    );
    // Indexes repeat across datasets: each names one item of its dataset.
    let t = query(&rt, &mut s, "from items where index = 1 show dataset");
    assert_eq!(t.num_rows(), 3);

    // Per-dataset accuracies: VLMEvalKit's own figures for GMAI-MMBench
    // VAL (its 2024 rules), and each generated dataset as it scores alone.
    let all = accuracies(&rt, &mut s, "acc(v2024)");
    for (model, want) in MODELS.iter().zip([48.90, 46.46, 33.63]) {
        let (acc, n) = all[&(model.to_string(), "GMAI-MMBench_VAL".to_string())];
        assert!((acc - want).abs() < 0.005, "{model}: {acc}");
        assert_eq!(n, 4550.0);
    }
    for (items, preds, dataset) in [
        (&mm_items, &mm_preds, "MMBench_SYNTH"),
        (&mx_items, &mx_preds, "MedXpertQA_SYNTH"),
    ] {
        let alone = LoadSpec {
            items: vec![items.clone()],
            predictions: vec![preds.clone()],
            ..Default::default()
        };
        let mut a = rt.block_on(Session::load(&alone)).unwrap();
        let by_itself = accuracies(&rt, &mut a, "acc(v2024)");
        assert_eq!(by_itself.len(), 3);
        for ((m, d), v) in by_itself {
            assert_eq!(d, dataset);
            assert_eq!(all[&(m.clone(), d.clone())], v, "{m} on {d}");
        }
    }
    // The generated models have no rows in GMAI-MMBench VAL, and the real
    // ones none in the generated datasets.
    assert_eq!(all.len(), 3 + 3 + 3);

    // macro(dataset): the mean of a model's per-dataset accuracies.
    let t = query(&rt, &mut s, "by model score acc, macro(dataset)");
    for r in rows(&t) {
        let m = text(&r[0]).unwrap();
        let mine: Vec<f64> = accuracies(&rt, &mut s.clone(), "acc")
            .into_iter()
            .filter(|((x, _), _)| *x == m)
            .map(|(_, (a, _))| a)
            .collect();
        let mean = mine.iter().sum::<f64>() / mine.len() as f64;
        assert!((float(&r[2]).unwrap() - mean).abs() < 1e-9, "{m}");
    }

    // The other datasets' columns, by name and by header as written.
    let by_name = one(
        &rt,
        &mut s,
        "from items where l2_category is not null score n",
    );
    assert_eq!(by_name, 700.0);
    let by_header = query(&rt, &mut s, "from items by `L2-Category` score n");
    let by_norm = query(&rt, &mut s, "from items by l2_category score n");
    assert_eq!(rows(&by_header), rows(&by_norm));
    assert!(by_norm.num_rows() >= 3, "null and at least two groups");
    let split = one(&rt, &mut s, "from items where split = 'dev' score n");
    assert_eq!(split, 700.0);

    // Terms resolve in each dataset's own tree, as the columns say.
    let t = query(
        &rt,
        &mut s,
        "from items where dataset = 'MMBench_SYNTH' show l2_category, category limit 1",
    );
    let (l2, cat) = (
        text(&rows(&t)[0][0]).unwrap(),
        text(&rows(&t)[0][1]).unwrap(),
    );
    let cond = format!("l2_category = '{l2}'");
    assert_eq!(
        one(&rt, &mut s, &format!("from items where #{l2} score n")),
        one(&rt, &mut s, &format!("from items where {cond} score n"))
    );
    // Inferred: category under l2-category, so the path works.
    assert_eq!(
        one(
            &rt,
            &mut s,
            &format!("from items where #{l2}/{cat} score n")
        ),
        one(
            &rt,
            &mut s,
            &format!("from items where {cond} and category = '{cat}' score n")
        )
    );
    assert_eq!(
        one(
            &rt,
            &mut s,
            "from items where #body_system:Respiratory score n"
        ),
        one(
            &rt,
            &mut s,
            "from items where body_system = 'Respiratory' score n"
        )
    );
    // GMAI-MMBench's terms still mean its items only.
    assert_eq!(
        one(&rt, &mut s, "from items where #CT score n"),
        one(
            &rt,
            &mut s,
            "from items where dataset = 'GMAI-MMBench_VAL' and modality = 'CT' score n"
        )
    );
}

#[test]
fn a_declared_tree_gives_its_paths() {
    let tmp = tempfile::tempdir().unwrap();
    let (items, preds) = generate("medxpertqa", &tmp.path().join("mx"), 400);
    let run = |tree: Option<&str>, q: &str| {
        let mut args = vec![
            "--format",
            "csv",
            "--items",
            &items,
            "--predictions",
            &preds,
        ];
        if let Some(t) = tree {
            args.extend(["--tree", t]);
        }
        args.extend(["-e", q]);
        medql(&args)
    };
    let q = "from items where #Respiratory/Reasoning score n";
    // Inferred, the columns are roots side by side: no such path.
    let (code, _, err) = run(None, q);
    assert_eq!(code, 1, "{err}");
    // Declared, body_system > question_type; headers in any case work.
    let (code, out, err) = run(Some("medxpertqa_synth=Body_System>question_type"), q);
    assert_eq!(code, 0, "{err}");
    let (_, want, _) = run(
        None,
        "from items where body_system = 'Respiratory' and question_type = 'Reasoning' score n",
    );
    assert_eq!(out, want);
    // A file of declarations, with comments.
    let file = tmp.path().join("trees.txt");
    std::fs::write(
        &file,
        "# MedXpertQA by body system\nMedXpertQA_SYNTH=body_system>question_type\n",
    )
    .unwrap();
    let (_, from_file, _) = run(Some(file.to_str().unwrap()), q);
    assert_eq!(from_file, want);
    // Unknown datasets and columns are named.
    let (code, _, err) = run(Some("Nope=a>b"), q);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no dataset `Nope` is loaded"), "{err}");
    let (code, _, err) = run(Some("MedXpertQA_SYNTH=organ>question_type"), q);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no column `organ`"), "{err}");
}

#[test]
fn a_work_folder_of_several_datasets_loads_the_ones_loaded() {
    let tmp = tempfile::tempdir().unwrap();
    let (mm_items, mm_preds) = generate("mmbench", &tmp.path().join("mm"), 300);
    // VLMEvalKit's output folder: each model's files of every dataset it
    // ran, in its own folder.
    let work = tmp.path().join("outputs");
    for e in std::fs::read_dir(&mm_preds).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        let model = name.trim_end_matches("_MMBench_SYNTH.csv").to_string();
        let dir = work.join(&model);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&p, dir.join(&name)).unwrap();
        for other in ["OmniMedVQA", "MMBench_DEV_EN", "MyBench"] {
            std::fs::copy(&p, dir.join(format!("{model}_{other}.csv"))).unwrap();
        }
    }
    let (code, out, err) = medql(&[
        "--format",
        "csv",
        "--items",
        &mm_items,
        "--predictions",
        work.to_str().unwrap(),
        "-e",
        "by model score n",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1 + 3, "{out}");
    assert!(
        err.contains(
            "note: skipped 9 prediction files of 3 datasets not loaded: MMBench_DEV_EN (3), MyBench (3), OmniMedVQA (3)"
        ),
        "{err}"
    );
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn a_report_of_several_datasets_gives_an_overview_then_each_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (gm_items, gm_preds) = generate("gmai", &tmp.path().join("gm"), 300);
    let (mm_items, mm_preds) = generate("mmbench", &tmp.path().join("mm"), 300);
    let md = tmp.path().join("r.md");
    let (code, _, err) = medql(&[
        "--items",
        &gm_items,
        &mm_items,
        "--predictions",
        &gm_preds,
        &mm_preds,
        "report",
        "-o",
        md.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&md).unwrap();
    let titles: Vec<&str> = text.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        titles[..3],
        [
            "## How these numbers were scored",
            "## Every dataset",
            "## GMAI-MMBench_SYNTH: Overall leaderboard"
        ]
    );
    // GMAI-MMBench's own sections for it, its tree's roots for the other.
    assert!(titles.contains(&"## GMAI-MMBench_SYNTH: Accuracy by clinical VQA task"));
    assert!(titles.contains(&"## MMBench_SYNTH: Leaderboard"));
    assert!(titles.contains(&"## MMBench_SYNTH: Accuracy by l2_category"));
    // `split` has one value: not a tree column.
    assert!(!titles.contains(&"## MMBench_SYNTH: Accuracy by split"));
    // The overview: every model on every dataset, then the macro.
    assert!(text.contains("by model, dataset score acc, ci, n"));
    assert!(text.contains("by model score macro(dataset), acc, n sort macro_dataset desc"));
    // Each dataset's sections hold its models only, with their accuracy there.
    let at = text.find("## MMBench_SYNTH: Leaderboard").unwrap();
    let rows: Vec<&str> = text[at..]
        .lines()
        .skip_while(|l| !l.starts_with("| model"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
}
