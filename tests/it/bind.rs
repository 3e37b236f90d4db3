//! The bind stage: queries are resolved against the session's catalog
//! without running anything; `check` executes no plan, `explain` shows the
//! steps a query needs first and the plans that then run.

use crate::common::{medql, rt};
use medql::bind::{self, Output, Relation, Side};
use medql::{Error, LoadSpec, Outcome, Session};
use std::collections::HashMap;

fn demo() -> (tokio::runtime::Runtime, Session) {
    let rt = rt();
    let s = rt.block_on(Session::load(&LoadSpec::default())).unwrap();
    (rt, s)
}

/// Queries whose plans need data before they can be built: a pivot (its
/// columns are the key's values), `vs best`, and Holm's adjustment.
const NEEDS_DATA: &str = "
    by model, task score acc pivot task with overall sort model;
    by model, task score acc having DD > 0 pivot task abbreviated sort DD desc;
    where #CT compare each vs best;
    by task compare each vs best having p_holm < 0.5 sort delta desc limit 2 per task;
    let ct = #CT;
    explain where ct by model, granularity score acc pivot granularity;
    explain compare each vs best;
";

#[test]
fn check_executes_no_plan() {
    let (rt, mut s) = demo();
    assert_eq!(s.plans_executed(), 0, "loading runs no query plan");
    let errors = rt.block_on(s.check(NEEDS_DATA, "q.mql"));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(s.plans_executed(), 0, "check ran a plan");
    // The same statements, run: the counter counts the steps and queries.
    let out = rt.block_on(s.run(NEEDS_DATA, "q.mql")).unwrap();
    assert_eq!(out.len(), 7);
    // pivot values + query, pivot values + query, best + comparison + the
    // rest, the same, and the two explains' steps (pivot values, best).
    assert_eq!(s.plans_executed(), 2 + 2 + 3 + 3 + 2);
}

#[test]
fn check_finds_every_error_without_running() {
    let (rt, mut s) = demo();
    let models = s.info().models.clone();
    let cases: Vec<(String, &str)> = vec![
        (
            "compare 'nobody' vs best".into(),
            "no model `nobody` is loaded",
        ),
        (
            format!("compare '{}' vs '{}'", models[0], models[0]),
            "compared with itself",
        ),
        (
            "by model compare each vs best".into(),
            "`model` cannot be a key",
        ),
        (
            "by model score acc pivot task".into(),
            "needs `task` among the `by` keys",
        ),
        ("by model, task score macro(task)".into(), "is plain `acc`"),
        (
            "by model score acc having nope > 1".into(),
            "unknown column `nope`",
        ),
        (
            "by model score acc sort nope".into(),
            "unknown column `nope`",
        ),
        (
            "by model, task score acc having XX > 1 pivot task abbreviated".into(),
            "unknown column `XX`",
        ),
        (
            "by model score acc having acc > 'high'".into(),
            "is not a number",
        ),
        ("where model = 'nobody' score acc".into(), "no such model"),
        ("where #nonsense score acc".into(), "nonsense"),
        (
            "compare each vs best having p_holm > 'x'".into(),
            "is not a number",
        ),
    ];
    let source: String = cases.iter().map(|(q, _)| format!("{q};\n")).collect();
    let errors = rt.block_on(s.check(&source, "bad.mql"));
    assert_eq!(s.plans_executed(), 0);
    assert_eq!(errors.len(), cases.len(), "{errors:#?}");
    for (i, (e, (q, want))) in errors.iter().zip(&cases).enumerate() {
        let Error::Query(qe) = e else {
            panic!("{q}: not a query error: {e}")
        };
        let text = qe.to_string();
        assert!(text.contains(want), "{q}: {text}");
        // Each error points into its own statement (line i + 1).
        assert!(text.contains(&format!("bad.mql:{}:", i + 1)), "{q}: {text}");
    }
}

#[test]
fn binding_resolves_names_without_a_query_engine() {
    let (_rt, s) = demo();
    let models = s.info().models.clone();
    let (lets, params) = (
        HashMap::new(),
        HashMap::from([("m".to_string(), models[1].clone())]),
    );
    let env = bind::Env {
        catalog: s.catalog(),
        policy: "legacy".parse().unwrap(),
        lets: &lets,
        params: &params,
        bootstrap: Default::default(),
    };
    let q = |text: &str| {
        let p = medql::syntax::parse_statement(text, 0, text.len()).unwrap();
        match p.statement {
            medql::syntax::ast::Statement::Query(q) => q,
            other => panic!("{other:?}"),
        }
    };
    let b = bind::bind(
        &q("where model = $m and #CT by Dept, policy score acc, ci"),
        &env,
    )
    .unwrap();
    assert_eq!(b.relation, Relation::Results);
    assert_eq!(b.keys, ["department", "policy"]);
    assert!(b.by_policy);
    assert_eq!(b.pinned, Some(1));
    let Output::Score { metrics, pivot, .. } = &b.output else {
        panic!("not a score")
    };
    assert!(pivot.is_none());
    let names: Vec<&String> = metrics.iter().flat_map(|m| &m.names).collect();
    assert_eq!(names, ["acc", "ci_low", "ci_high"]);

    let b = bind::bind(&q("by task compare each vs best"), &env).unwrap();
    assert!(matches!(
        b.output,
        Output::Compare {
            left: Side::Each,
            right: Side::Best,
            ..
        }
    ));
    let lower = models[2].to_uppercase();
    let b = bind::bind(&q(&format!("compare '{}' vs '{lower}'", models[0])), &env).unwrap();
    assert!(matches!(
        b.output,
        Output::Compare {
            left: Side::Model(0),
            right: Side::Model(2),
            ..
        }
    ));
    let b = bind::bind(&q("from items by task score n"), &env).unwrap();
    assert_eq!(b.relation, Relation::Items);
    assert!(bind::bind(&q("from items by task score acc"), &env).is_err());
    assert_eq!(s.plans_executed(), 0);

    // The catalog knows the relations' columns and the tree's values.
    let c = s.catalog();
    let cols: Vec<String> = c
        .columns(Relation::Coverage)
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(cols[..4], ["model", "dataset", "read", "scored"]);
    assert!(c
        .columns(Relation::Results)
        .iter()
        .any(|c| c.name == "correct" && c.doc.is_some()));
    assert!(c
        .known_values("task")
        .unwrap()
        .contains(&"Disease Diagnosis".to_string()));
    assert_eq!(c.known_values("model").unwrap(), models);
    assert!(c.known_values("question").is_none());
}

#[test]
fn explain_shows_the_steps_and_the_plans_that_run() {
    let (rt, mut s) = demo();
    let explain = |s: &mut Session, q: &str| -> String {
        match rt
            .block_on(s.run(&format!("explain {q}"), "q"))
            .unwrap()
            .pop()
        {
            Some(Outcome::Message(m)) => m,
            other => panic!("{other:?}"),
        }
    };
    let plain = explain(&mut s, "where #CT by model score acc");
    assert!(plain.starts_with("logical plan:"), "{plain}");
    assert!(plain.contains("physical plan:") && !plain.contains("step 1"));

    let best = explain(&mut s, "compare each vs best");
    assert!(best.starts_with("step 1: the best model"), "{best}");
    // The comparison's own plan: the pairs are a hash join on the item.
    assert!(best.contains("Inner Join: __item_id = __i"), "{best}");
    assert!(best.contains("HashJoinExec"), "{best}");
    assert!(best.contains("Holm's adjustment"), "{best}");

    let pivot = explain(&mut s, "by model, task score acc pivot task");
    assert!(pivot.starts_with("step 1: the values of `task`"), "{pivot}");
    // The final plan has one aggregate column per task (18 in the demo).
    assert!(pivot.contains("Disease Diagnosis"), "{pivot}");
}

#[test]
fn check_without_data_names_any_model() {
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().join("q.mql");
    std::fs::write(
        &q,
        "compare 'my-model' vs 'other-model';\nwhere model = 'my-model' score acc;\nby task compare each vs best;\n",
    )
    .unwrap();
    let (code, out, err) = medql(&["check", q.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("ok: "), "{out}");
}

#[test]
fn results_carry_roles_and_styles_as_field_metadata() {
    let (rt, mut s) = demo();
    let table = |s: &mut Session, q: &str| match rt.block_on(s.run(q, "q")).unwrap().pop() {
        Some(Outcome::Table(t)) => t,
        other => panic!("{other:?}"),
    };
    let meta = |t: &medql::QueryResult, c: &str, k: &str| -> Option<String> {
        t.schema
            .field_with_name(c)
            .unwrap()
            .metadata()
            .get(k)
            .cloned()
    };
    // Through having, sort and limit.
    let t = table(
        &mut s,
        "by model score acc, n, ci having n > 0 sort acc desc limit 3",
    );
    assert_eq!(meta(&t, "model", "medql.role").as_deref(), Some("key"));
    assert_eq!(meta(&t, "acc", "medql.role").as_deref(), Some("metric"));
    assert_eq!(meta(&t, "acc", "medql.style").as_deref(), Some("percent"));
    assert_eq!(
        meta(&t, "ci_low", "medql.style").as_deref(),
        Some("percent")
    );
    assert_eq!(meta(&t, "n", "medql.style"), None);
    assert_eq!(t.styles.len(), 3, "{:?}", t.styles);
    // Through Holm's in-memory step and `limit per`.
    let t = table(
        &mut s,
        "by task compare each vs best sort delta limit 1 per task",
    );
    assert_eq!(meta(&t, "model_b", "medql.role").as_deref(), Some("key"));
    assert_eq!(
        meta(&t, "p_holm", "medql.style").as_deref(),
        Some("p_value")
    );
    assert_eq!(meta(&t, "delta", "medql.style").as_deref(), Some("percent"));
    // Pivot columns are metrics named after values.
    let t = table(&mut s, "by model, task score acc pivot task abbreviated");
    assert_eq!(meta(&t, "DD", "medql.style").as_deref(), Some("percent"));
    // Case rows have none.
    let t = table(&mut s, "show model, index, correct limit 2");
    assert!(t.schema.fields().iter().all(|f| f.metadata().is_empty()));

    // A Parquet file keeps them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("acc.parquet");
    let (code, _, err) = medql(&["-o", path.to_str().unwrap(), "-e", "by model score acc, n"]);
    assert_eq!(code, 0, "{err}");
    let file = std::fs::File::open(&path).unwrap();
    let reader =
        medql::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            file,
        )
        .unwrap();
    let schema = reader.schema();
    let field = schema.field_with_name("acc").unwrap();
    assert_eq!(
        field.metadata().get("medql.style").map(String::as_str),
        Some("percent")
    );
    assert_eq!(
        schema
            .field_with_name("model")
            .unwrap()
            .metadata()
            .get("medql.role")
            .map(String::as_str),
        Some("key")
    );
}
