//! Loading items and predictions from every supported format, on files the
//! tests write: round trips, TEST splits, concatenated parts, image columns,
//! and the counts and errors of imperfect files.

use crate::common::*;
use medql::render::{self, Format};
use medql::{Error, LoadSpec, Session};
use std::path::Path;

fn load(items: &[&Path], preds: &[&Path]) -> medql::Result<Session> {
    let spec = LoadSpec {
        items: items.iter().map(|p| p.display().to_string()).collect(),
        predictions: preds.iter().map(|p| p.display().to_string()).collect(),
        ..Default::default()
    };
    rt().block_on(Session::load(&spec))
}

fn acc_by_model(s: &mut Session) -> Vec<(String, Option<f64>, f64)> {
    let rt = rt();
    rows(&query(&rt, s, "by model score acc, n"))
        .iter()
        .map(|r| (text(&r[0]).unwrap(), float(&r[1]), float(&r[2]).unwrap()))
        .collect()
}

#[test]
fn every_prediction_format_round_trips_to_the_same_scores() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let mut demo = rt.block_on(Session::load(&LoadSpec::default())).unwrap();
    // The demo items, written as a VLMEvalKit TSV by medql itself.
    let items = query(&rt, &mut demo, "from items show *");
    let items_path = dir.path().join("GMAI-MMBench_DEMO.tsv");
    std::fs::write(&items_path, items.render(Format::Tsv).unwrap()).unwrap();
    let model = "demo-verbose-7b";
    let expected: Vec<_> = acc_by_model(&mut demo)
        .into_iter()
        .filter(|r| r.0 == model)
        .collect();
    let preds = query(
        &rt,
        &mut demo,
        &format!("where model = '{model}' and answered show index, prediction"),
    );
    for (ext, fmt) in [
        ("csv", Some(Format::Csv)),
        ("tsv", Some(Format::Tsv)),
        ("json", Some(Format::Json)),
        ("jsonl", Some(Format::Ndjson)),
        ("parquet", None),
    ] {
        let p = dir.path().join(format!("{model}_GMAI-MMBench_DEMO.{ext}"));
        match fmt {
            Some(f) => std::fs::write(&p, preds.render(f).unwrap()).unwrap(),
            None => render::write_parquet(
                p.to_str().unwrap(),
                &preds.batches,
                preds.schema.clone(),
                &[],
            )
            .unwrap(),
        }
        let mut s = load(&[&items_path], &[&p]).unwrap_or_else(|e| panic!("{ext}: {e}"));
        assert_eq!(s.info().models, vec![model.to_string()], "{ext}");
        assert_eq!(acc_by_model(&mut s), expected, "{ext}");
        std::fs::remove_file(&p).unwrap();
    }
}

#[test]
fn image_column_is_streamed_past_and_column_order_does_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("bench.tsv");
    let image = "iVBORw0KGgo".repeat(200_000); // ~2 MB per row
    let mut text = String::from("answer\timage\tB\tindex\tA\tquestion\n");
    for i in 0..20 {
        text.push_str(&format!("A\t{image}\tno\t{i}\tyes\tIs it {i}?\n"));
    }
    std::fs::write(&items, text).unwrap();
    let preds = dir.path().join("m_bench.csv");
    std::fs::write(&preds, "index,prediction\n0,A\n1,B\n2,yes\n").unwrap();
    let mut s = load(&[&items], &[&preds]).unwrap();
    assert_eq!(s.info().items, 20);
    let rt = rt();
    let r = rows(&query(&rt, &mut s, "by model score hits, n, missing"));
    assert_eq!(
        r[0][1..],
        [
            medql::render::Cell::Int(2),
            medql::render::Cell::Int(20),
            medql::render::Cell::Int(17)
        ]
    );
}

#[test]
fn test_split_without_answers_and_concatenated_parts() {
    let dir = tempfile::tempdir().unwrap();
    let header = "index\tquestion\tA\tB\tcategory\n";
    std::fs::write(
        dir.path().join("Bench_TEST_part_1.tsv"),
        format!("{header}1\tq1\tx\ty\tc\n2\tq2\tx\ty\tc\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("Bench_TEST_part_2.tsv"),
        format!("{header}3\tq3\tx\ty\tc\n"),
    )
    .unwrap();
    let preds = dir.path().join("m_Bench_TEST.jsonl");
    std::fs::write(
        &preds,
        "{\"index\": 1, \"prediction\": \"A\"}\n{\"index\": 3, \"prediction\": \"B\"}\n",
    )
    .unwrap();
    let glob = dir.path().join("Bench_TEST_part_*.tsv");
    let spec = LoadSpec {
        items: vec![glob.display().to_string()],
        predictions: vec![preds.display().to_string()],
        ..Default::default()
    };
    let rt = rt();
    let mut s = rt.block_on(Session::load(&spec)).unwrap();
    assert_eq!(s.info().items, 3);
    assert_eq!(s.info().datasets, vec!["Bench_TEST".to_string()]);
    assert_eq!(s.info().models, vec!["m".to_string()]);
    let r = rows(&query(&rt, &mut s, "by model score acc, n, missing"));
    assert_eq!(
        r[0][1],
        medql::render::Cell::Null,
        "no answers: acc is null"
    );
    assert_eq!(r[0][2], medql::render::Cell::Int(3));
    assert_eq!(r[0][3], medql::render::Cell::Int(1));
    let r = rows(&query(&rt, &mut s, "where correct is null score n"));
    assert_eq!(r[0][0], medql::render::Cell::Int(3));
    let r = rows(&query(&rt, &mut s, "show index, choice"));
    let choices: Vec<_> = r.iter().map(|x| text(&x[1]).unwrap()).collect();
    assert_eq!(choices, vec!["A", "Z", "B"]);
}

#[test]
fn quoted_tabs_newlines_crlf_and_bom() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("b.tsv");
    std::fs::write(
        &items,
        "\u{feff}index\tquestion\tA\tB\tanswer\r\n1\t\"two\nlines\"\t\"tab\there\"\tno\tA\r\n2\tq\tx\ty\tB\r\n",
    )
    .unwrap();
    let preds = dir.path().join("m_b.csv");
    std::fs::write(&preds, "index,prediction\r\n1,tab\there\r\n2,B\r\n").unwrap();
    let mut s = load(&[&items], &[&preds]).unwrap();
    let rt = rt();
    let r = rows(&query(&rt, &mut s, "show index, question, A, choice, rule"));
    assert_eq!(text(&r[0][1]).unwrap(), "two\nlines");
    assert_eq!(text(&r[0][2]).unwrap(), "tab\there");
    assert_eq!(text(&r[0][3]).unwrap(), "A");
    assert_eq!(text(&r[0][4]).unwrap(), "option-text");
    assert_eq!(text(&r[1][3]).unwrap(), "B");
}

#[test]
fn unknown_duplicate_and_missing_rows_are_counted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("b.tsv");
    let mut t = String::from("index\tquestion\tA\tB\tanswer\n");
    for i in 0..10 {
        t.push_str(&format!("{i}\tq\tx\ty\tA\n"));
    }
    std::fs::write(&items, t).unwrap();
    let preds = dir.path().join("m_b.csv");
    std::fs::write(
        &preds,
        "index,prediction\n0,A\n1,A\n1,B\n2,A\n3,A\n4,A\n5,A\n6,A\n100,A\n101,A\nabc,A\n",
    )
    .unwrap();
    let mut s = load(&[&items], &[&preds]).unwrap();
    let c = &s.info().coverage[0].2;
    assert_eq!(
        (
            c.read,
            c.scored,
            c.duplicated,
            c.unknown,
            c.invalid,
            c.missing
        ),
        (11, 7, 1, 2, 1, 3)
    );
    assert_eq!(c.read, c.scored + c.duplicated + c.unknown + c.invalid);
    let w = s.info().warnings.join("\n");
    assert!(
        w.contains("m: 2 predictions for unknown items ignored"),
        "{w}"
    );
    assert!(w.contains("1 duplicate predictions ignored"), "{w}");
    assert!(w.contains("line 12: index `abc` is not an integer"), "{w}");
    assert!(w.contains("3 items unanswered, scored wrong"), "{w}");
    let rt = rt();
    let r = rows(&query(&rt, &mut s, "by model score hits, n, missing; "));
    assert_eq!(
        r[0][1..],
        [
            medql::render::Cell::Int(7),
            medql::render::Cell::Int(10),
            medql::render::Cell::Int(3)
        ]
    );
    let r = rows(&query(&rt, &mut s, "where answered by model score n"));
    assert_eq!(r[0][1], medql::render::Cell::Int(7));
    // The same counts as a relation.
    let r = rows(&query(
        &rt,
        &mut s,
        "from coverage show read, scored, duplicated, unknown, invalid, missing",
    ));
    let ints: Vec<i64> = r[0]
        .iter()
        .map(|c| match c {
            medql::render::Cell::Int(i) => *i,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ints, vec![11, 7, 1, 2, 1, 3]);
}

#[test]
fn item_columns_in_prediction_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("b.tsv");
    std::fs::write(
        &items,
        "index\tquestion\tA\tB\tanswer\n1\tq\tx\ty\tA\n2\tq\tx\ty\tB\n",
    )
    .unwrap();
    let preds = dir.path().join("m_b.csv");
    std::fs::write(
        &preds,
        "index,A,answer,prediction\n1,x,A,A\n2,changed,C,B\n",
    )
    .unwrap();
    let s = load(&[&items], &[&preds]).unwrap();
    let w = s.info().warnings.join("\n");
    assert!(
        w.contains("m_b.csv, line 3, column `A`: item 2 differs"),
        "{w}"
    );
    assert!(w.contains("column `answer`"), "{w}");
}

#[test]
fn model_names_two_sets_for_one_model_and_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("b.tsv");
    std::fs::write(&items, "index\tquestion\tA\tB\tanswer\n1\tq\tx\ty\tA\n").unwrap();
    // A model column names models; several models in one file.
    let multi = dir.path().join("runs.csv");
    std::fs::write(&multi, "model,index,prediction\nalpha,1,A\nbeta,1,B\n").unwrap();
    let s = load(&[&items], &[&multi]).unwrap();
    assert_eq!(
        s.info().models,
        vec!["alpha".to_string(), "beta".to_string()]
    );
    // No dataset name in the file name: the whole stem, with a warning.
    let plain = dir.path().join("mymodel.csv");
    std::fs::write(&plain, "index,prediction\n1,A\n").unwrap();
    let s = load(&[&items], &[&plain]).unwrap();
    assert_eq!(s.info().models, vec!["mymodel".to_string()]);
    assert!(s.info().warnings[0].contains("the model is named `mymodel`"));
    // Two runs of one model.
    let sub = dir.path().join("run2");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(dir.path().join("m_b.csv"), "index,prediction\n1,A\n").unwrap();
    std::fs::write(sub.join("m_b.xlsx.csv"), "index,prediction\n1,A\n").unwrap();
    std::fs::write(
        sub.join("m_b.json"),
        "[{\"index\": 1, \"prediction\": \"B\"}]",
    )
    .unwrap();
    let err = load(
        &[&items],
        &[&dir.path().join("m_b.csv"), &sub.join("m_b.json")],
    )
    .err()
    .unwrap();
    let msg = err.to_string();
    assert!(
        msg.contains("m_b.csv")
            && msg.contains("m_b.json")
            && msg.contains("second prediction set"),
        "{msg}"
    );
    // Missing required column.
    let bad = dir.path().join("x_b.csv");
    std::fs::write(&bad, "index,answer_text\n1,A\n").unwrap();
    match load(&[&items], &[&bad]) {
        Err(Error::Data(d)) => {
            assert_eq!(d.column.as_deref(), Some("prediction"));
            assert_eq!(d.row, Some(1));
        }
        other => panic!("{:?}", other.err()),
    }
    // A ragged TSV row names the line.
    let ragged = dir.path().join("r.tsv");
    std::fs::write(&ragged, "index\tquestion\tA\n1\tq\tx\n2\tq\n").unwrap();
    match load(&[&ragged], &[&plain]) {
        Err(Error::Data(d)) => assert_eq!(d.row, Some(3), "{d}"),
        other => panic!("{:?}", other.err()),
    }
    // An .xlsx that is not a zip.
    let fake = dir.path().join("f_b.xlsx");
    std::fs::write(&fake, "not a workbook").unwrap();
    match load(&[&items], &[&fake]) {
        Err(Error::Data(d)) => assert!(d.file.ends_with("f_b.xlsx"), "{d}"),
        other => panic!("{:?}", other.err()),
    }
}

#[test]
fn case_rows_come_in_model_then_index_order_whatever_the_file_order() {
    // A model's rows follow the items file: in index order, `show` can read
    // a model's first rows; an items file in another order must still give
    // rows by model, then index. Prediction files in either order.
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let mut demo = rt.block_on(Session::load(&LoadSpec::default())).unwrap();
    for items_order in ["asc", "desc"] {
        let items = query(
            &rt,
            &mut demo,
            &format!("from items show * sort index {items_order}"),
        );
        let items_path = dir
            .path()
            .join(format!("{items_order}/GMAI-MMBench_DEMO.tsv"));
        std::fs::create_dir_all(items_path.parent().unwrap()).unwrap();
        std::fs::write(&items_path, items.render(Format::Tsv).unwrap()).unwrap();
        let mut paths = Vec::new();
        for (model, order) in [("a-forward", "asc"), ("b-reversed", "desc")] {
            let t = query(
                &rt,
                &mut demo,
                &format!(
                    "where model = 'demo-verbose-7b' and answered show index, prediction sort index {order}"
                ),
            );
            let p = dir
                .path()
                .join(format!("{items_order}/{model}_GMAI-MMBench_DEMO.parquet"));
            render::write_parquet(p.to_str().unwrap(), &t.batches, t.schema.clone(), &[]).unwrap();
            paths.push(p);
        }
        let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
        let mut s = load(&[&items_path], &refs).unwrap();
        check_case_row_order(&rt, &mut s, items_order);
    }
}

fn check_case_row_order(rt: &tokio::runtime::Runtime, s: &mut Session, what: &str) {
    let index_of = |r: &Vec<medql::render::Cell>, i: usize| match &r[i] {
        medql::render::Cell::Int(v) => *v,
        other => panic!("index cell {other:?}"),
    };
    let indexes = |s: &mut Session, q: &str| -> Vec<i64> {
        rows(&query(rt, s, q))
            .iter()
            .map(|r| index_of(r, 0))
            .collect()
    };
    for model in ["a-forward", "b-reversed"] {
        let all = indexes(s, &format!("where model = '{model}' show index"));
        assert!(all.len() > 10, "{what} {model}: {} rows", all.len());
        assert!(
            all.windows(2).all(|w| w[0] < w[1]),
            "{what} {model}: {all:?}"
        );
        let wrong = indexes(
            s,
            &format!("where model = '{model}' and not correct show index"),
        );
        let first = indexes(
            s,
            &format!("where model = '{model}' and not correct show index, prediction limit 5"),
        );
        assert_eq!(first, wrong[..5.min(wrong.len())], "{what} {model}");
    }
    let keys: Vec<(String, i64)> = rows(&query(rt, s, "show model, index"))
        .iter()
        .map(|r| (text(&r[0]).unwrap(), index_of(r, 1)))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "{what}");
    assert_eq!(keys.first().unwrap().0, "a-forward");
    assert_eq!(keys.last().unwrap().0, "b-reversed");
}
