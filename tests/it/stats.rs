//! The statistics (`se`, `se_clustered`, `mde`, `acc_adj`) against their
//! definitions computed row by row here, on the real shared data (the 3
//! models, VLMEvalKit's 2024 rules) and on hand-made cases.

use crate::common::{float, query, rows, rt, text};
use medql::render::Cell;
use medql::{LoadSpec, Session};
use std::collections::BTreeMap;

const Z95: f64 = 1.959963984540054;
const Z80: f64 = 0.8416212335729143;

/// The definitions over one group's rows: (correct, cluster, n_options).
fn by_definition(rows: &[(bool, Option<String>, i64)]) -> [Option<f64>; 4] {
    let n = rows.len() as f64;
    let x: Vec<f64> = rows.iter().map(|r| r.0 as u8 as f64).collect();
    let p = x.iter().sum::<f64>() / n;
    let var = if n > 1.0 {
        x.iter().map(|v| (v - p).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        f64::NAN
    };
    let se = (n >= 2.0).then(|| 100.0 * (var / n).sqrt());
    // Clusters: a null key is a cluster of its own.
    let mut cross = 0.0;
    let mut by: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        let key = r.1.clone().unwrap_or_else(|| format!("\u{0}{i}"));
        by.entry(key).or_default().push(x[i] - p);
    }
    for d in by.values() {
        let s: f64 = d.iter().sum();
        let sq: f64 = d.iter().map(|v| v * v).sum();
        cross += s * s - sq;
    }
    let clustered = (n >= 2.0).then(|| 100.0 * (var / n + cross / (n * n)).sqrt());
    let mde = (n > 0.0).then(|| 100.0 * (Z95 + Z80) * (2.0 * p * (1.0 - p) * 0.5 / n).sqrt());
    let random = 100.0 * rows.iter().map(|r| 1.0 / r.2 as f64).sum::<f64>() / n;
    let adj = Some(100.0 * (100.0 * p - random) / (100.0 - random));
    [se, clustered, mde, adj]
}

fn close(a: Option<f64>, b: Option<f64>, what: &str) {
    match (a, b) {
        (Some(x), Some(y)) => assert!((x - y).abs() < 1e-9, "{what}: {x} against {y}"),
        (None, None) => {}
        _ => panic!("{what}: {a:?} against {b:?}"),
    }
}

#[test]
fn standard_errors_power_and_chance_on_the_real_data() {
    let Some((rt, mut s)) = crate::common::real_legacy_session() else {
        return;
    };
    for key in ["category", "modality", "department"] {
        let t = query(
            &rt,
            &mut s,
            &format!("show model, {key}, correct, n_options"),
        );
        let mut groups: BTreeMap<String, Vec<(bool, Option<String>, i64)>> = BTreeMap::new();
        for r in rows(&t) {
            let correct = matches!(r[2], Cell::Bool(true));
            let n_opt = float(&r[3]).unwrap() as i64;
            groups
                .entry(text(&r[0]).unwrap())
                .or_default()
                .push((correct, text(&r[1]), n_opt));
        }
        let t = query(
            &rt,
            &mut s,
            &format!("by model score se, se_clustered({key}), mde, acc_adj"),
        );
        assert_eq!(t.num_rows(), 3);
        for r in rows(&t) {
            let m = text(&r[0]).unwrap();
            let want = by_definition(&groups[&m]);
            for (k, name) in ["se", "se_clustered", "mde", "acc_adj"].iter().enumerate() {
                close(float(&r[k + 1]), want[k], &format!("{m} {name} by {key}"));
            }
        }
    }
}

#[test]
fn hand_made_groups() {
    // Items with answers A, B, C in turn; model m answers as given.
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("Bench_VAL.tsv");
    let mut t = String::from("index\tquestion\tA\tB\tC\tanswer\tcategory\n");
    let cats = ["x", "x", "y", "", "y", "z"];
    for i in 1..=6 {
        let answer = ["A", "B", "C"][(i - 1) % 3];
        t.push_str(&format!("{i}\tq\ta\tb\tc\t{answer}\t{}\n", cats[i - 1]));
    }
    std::fs::write(&items, t).unwrap();
    let preds = dir.path().join("m_Bench_VAL.csv");
    // Right on 1, 2, 3 and 5; wrong on 4; 6 unanswered (wrong).
    std::fs::write(&preds, "index,prediction\n1,A\n2,B\n3,C\n4,C\n5,B\n").unwrap();
    let all_right = dir.path().join("r_Bench_VAL.csv");
    std::fs::write(
        &all_right,
        "index,prediction\n1,A\n2,B\n3,C\n4,A\n5,B\n6,C\n",
    )
    .unwrap();
    // Answers items 1 to 3 only.
    let partial = dir.path().join("p_Bench_VAL.csv");
    std::fs::write(&partial, "index,prediction\n1,A\n2,B\n3,A\n").unwrap();
    let spec = LoadSpec {
        items: vec![items.display().to_string()],
        predictions: vec![
            preds.display().to_string(),
            all_right.display().to_string(),
            partial.display().to_string(),
        ],
        ..Default::default()
    };
    let rt = rt();
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    // A group where a model answered nothing: its rows are missing and
    // scored wrong (acc 0, se 0); a comparison with it has no common item.
    let t = query(
        &rt,
        &mut s,
        "where index >= 4 and model = 'p' by model score acc, se, n",
    );
    let r = &rows(&t)[0];
    assert_eq!(
        (float(&r[1]), float(&r[2]), float(&r[3])),
        (Some(0.0), Some(0.0), Some(3.0))
    );
    let t = query(&rt, &mut s, "where index >= 4 compare 'p' vs 'r'");
    let col = |name: &str| t.schema.index_of(name).unwrap();
    let r = &rows(&t)[0];
    assert_eq!(float(&r[col("n")]), Some(0.0));
    assert_eq!(float(&r[col("delta_low")]), None);
    assert_eq!(float(&r[col("delta_high")]), None);
    let t = query(
        &rt,
        &mut s,
        "where model != 'p' by model score acc, se, se_clustered(category), mde, acc_adj",
    );
    let got = rows(&t);
    let rows_m: Vec<(bool, Option<String>, i64)> = [true, true, true, false, true, false]
        .iter()
        .zip(cats)
        .map(|(c, k)| (*c, (!k.is_empty()).then(|| k.to_string()), 3))
        .collect();
    let want = by_definition(&rows_m);
    for (k, w) in want.iter().enumerate() {
        close(float(&got[0][k + 2]), *w, &format!("m column {}", k + 2));
    }
    // All correct: se 0, mde 0, acc_adj 100.
    assert_eq!(float(&got[1][2]), Some(0.0));
    assert_eq!(float(&got[1][3]), Some(0.0));
    assert_eq!(float(&got[1][4]), Some(0.0));
    assert!((float(&got[1][5]).unwrap() - 100.0).abs() < 1e-9);
    // One item: no standard error; one cluster.
    let t = query(&rt, &mut s, "where index = 1 by model score se, mde, n");
    assert_eq!(float(&rows(&t)[0][1]), None);
    let t = query(
        &rt,
        &mut s,
        "where category = 'y' by model score se, se_clustered(category)",
    );
    let r = &rows(&t)[0];
    let one = by_definition(&[(true, Some("y".into()), 3), (true, Some("y".into()), 3)]);
    close(float(&r[1]), one[0], "se of one cluster");
    close(float(&r[2]), one[1], "se_clustered of one cluster");
}

#[test]
fn rank_shares_ties_and_needs_model() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("Bench_VAL.tsv");
    let mut t = String::from("index\tquestion\tA\tB\tanswer\n");
    for i in 1..=4 {
        t.push_str(&format!("{i}\tq\ta\tb\tA\n"));
    }
    std::fs::write(&items, t).unwrap();
    // Accuracies 100, 50, 50 and 25: ranks 1, 2, 2, 4.
    let mut preds = vec![];
    for (m, right) in [("a", 4), ("b", 2), ("c", 2), ("d", 1)] {
        let p = dir.path().join(format!("{m}_Bench_VAL.csv"));
        let mut body = String::from("index,prediction\n");
        for i in 1..=4 {
            body.push_str(&format!("{i},{}\n", if i <= right { "A" } else { "B" }));
        }
        std::fs::write(&p, body).unwrap();
        preds.push(p.display().to_string());
    }
    let spec = LoadSpec {
        items: vec![items.display().to_string()],
        predictions: preds,
        ..Default::default()
    };
    let rt = rt();
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    let t = query(&rt, &mut s, "by model score acc, rank");
    let ranks: Vec<Option<f64>> = rows(&t).iter().map(|r| float(&r[2])).collect();
    assert_eq!(ranks, [Some(1.0), Some(2.0), Some(2.0), Some(4.0)]);
    // Within each group of the other keys.
    let t = query(&rt, &mut s, "by index, model score rank sort index, model");
    let first: Vec<Option<f64>> = rows(&t)[..4].iter().map(|r| float(&r[2])).collect();
    assert_eq!(
        first,
        [Some(1.0), Some(1.0), Some(1.0), Some(1.0)],
        "all right on item 1"
    );
    let e = rt
        .block_on(s.run("by index score rank", "q"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("needs `model` among the `by` keys"), "{e}");
}

/// `by model[, key] score rank, rank_ci` as (group, model) -> (rank, low, high).
type Ranked = BTreeMap<(String, String), (Option<f64>, Option<f64>, Option<f64>)>;

fn ranked(rt: &tokio::runtime::Runtime, s: &mut Session, q: &str, keyed: bool) -> Ranked {
    let t = query(rt, s, q);
    let k = keyed as usize;
    rows(&t)
        .iter()
        .map(|r| {
            let group = if keyed {
                text(&r[0]).unwrap_or_default()
            } else {
                String::new()
            };
            (
                (group, text(&r[k]).unwrap()),
                (float(&r[k + 1]), float(&r[k + 2]), float(&r[k + 3])),
            )
        })
        .collect()
}

#[test]
fn rank_intervals_contain_the_rank_and_repeat_for_a_seed() {
    let Some((rt, mut s)) = crate::common::real_legacy_session() else {
        return;
    };
    let q = "by model score rank, rank_ci";
    let first = ranked(&rt, &mut s, q, false);
    assert_eq!(first.len(), 3);
    for ((_, m), (rank, lo, hi)) in &first {
        let (rank, lo, hi) = (rank.unwrap(), lo.unwrap(), hi.unwrap());
        assert!(lo <= rank && rank <= hi, "{m}: {lo} {rank} {hi}");
    }
    // qwen_chat is 13 points behind the others: last in every draw.
    let qc = first
        .iter()
        .find(|((_, m), _)| m == "qwen_chat")
        .map(|(_, v)| *v)
        .unwrap();
    assert_eq!(qc, (Some(3.0), Some(3.0), Some(3.0)));
    assert_eq!(
        first,
        ranked(&rt, &mut s, q, false),
        "same seed, same intervals"
    );

    // Per group: seeded by the group's values, so one group's intervals do
    // not depend on the other groups in the query.
    let q = "by department, model score rank, rank_ci";
    let all = ranked(&rt, &mut s, q, true);
    let t = query(&rt, &mut s, "by department score n sort n desc limit 3");
    for r in rows(&t) {
        let d = text(&r[0]).unwrap();
        let one = ranked(
            &rt,
            &mut s,
            &format!("where department = '{d}' by department, model score rank, rank_ci"),
            true,
        );
        for (k, v) in &one {
            assert_eq!(all.get(k), Some(v), "{k:?}");
        }
    }
    for ((d, m), (rank, lo, hi)) in &all {
        match rank {
            Some(r) => assert!(
                lo.unwrap() <= *r && *r <= hi.unwrap(),
                "{d} {m}: {lo:?} {r} {hi:?}"
            ),
            None => assert!(lo.is_none() && hi.is_none()),
        }
    }

    // Another seed and fewer resamples still contain the rank.
    rt.block_on(s.run("set seed = 7; set bootstrap = 50", "t"))
        .unwrap();
    assert_eq!(
        s.bootstrap(),
        medql::bind::Bootstrap {
            resamples: 50,
            seed: 7
        }
    );
    for ((_, m), (rank, lo, hi)) in ranked(&rt, &mut s, "by model score rank, rank_ci", false) {
        let (rank, lo, hi) = (rank.unwrap(), lo.unwrap(), hi.unwrap());
        assert!(lo <= rank && rank <= hi, "{m}: {lo} {rank} {hi}");
    }
}

#[test]
fn rank_interval_settings_and_bound() {
    let dir = tempfile::tempdir().unwrap();
    let (items, preds) = crate::common::gen_csv(dir.path(), 12, 5000);
    let spec = LoadSpec {
        items: vec![items],
        predictions: vec![preds.display().to_string()],
        ..Default::default()
    };
    let rt = rt();
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    for (stmt, want) in [
        ("set bootstrap = 0", "1 to 100000"),
        ("set bootstrap = many", "takes a whole number"),
        ("set seed = 1.5", "takes a whole number"),
        ("set bootstraps = 3", "settings: policy, bootstrap, seed"),
    ] {
        let e = rt.block_on(s.run(stmt, "q")).unwrap_err().to_string();
        assert!(e.contains(want), "{stmt}: {e}");
    }
    // 12 models x 5000 items x 100000 draws is past the bound: refused,
    // with the resamples that fit.
    rt.block_on(s.run("set bootstrap = 100000", "q")).unwrap();
    let e = rt
        .block_on(s.run("by model score rank_ci", "q"))
        .unwrap_err()
        .to_string();
    let fits = medql::metrics::bootstrap::BOUND / (12 * 5000);
    assert!(e.contains(&format!("`set bootstrap = {fits}`")), "{e}");
    // Not pivoted, and only with models.
    for (q, want) in [
        (
            "by model, task score rank_ci pivot task",
            "cannot be pivoted",
        ),
        ("by task score rank_ci", "needs `model` among the `by` keys"),
    ] {
        let e = rt.block_on(s.run(q, "q")).unwrap_err().to_string();
        assert!(e.contains(want), "{q}: {e}");
    }
}
