//! Pivots are aggregated in two phases (by keys and pivot value, then per
//! pivot column); with a `macro` metric they take the one-pass plan. Both
//! plans must give the same cells, including empty ones (`n` = 0).

use crate::common::{query, rt};
use medql::render::Format;
use medql::{LoadSpec, Session};

#[test]
fn two_phase_pivots_equal_the_one_pass_plan() {
    let rt = rt();
    let mut s = rt.block_on(Session::load(&LoadSpec::default())).unwrap();
    for (keys, pivot) in [
        ("department, granularity", "granularity"),
        ("model, task", "task"),
        ("model, policy", "policy"),
    ] {
        let metrics = "n, hits, acc, ci, fail, missing, random, shift, flips";
        let two = query(
            &rt,
            &mut s,
            &format!("where not #box by {keys} score {metrics} pivot {pivot} with overall"),
        );
        let one = query(
            &rt,
            &mut s,
            &format!(
                "where not #box by {keys} score {metrics}, macro(modality) pivot {pivot} with overall"
            ),
        );
        let two_names: Vec<String> = two
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let one_names: Vec<String> = one
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let two_rows = two.rows();
        let one_rows = one.rows();
        assert_eq!(two_rows.len(), one_rows.len(), "{keys}");
        assert!(two_rows.len() > 1, "{keys}");
        let mut empty_cells = 0;
        for (c, name) in two_names.iter().enumerate() {
            let oc = one_names.iter().position(|n| n == name).expect(name);
            for (r, row) in two_rows.iter().enumerate() {
                let (a, b) = (&row[c], &one_rows[r][oc]);
                match (a, b) {
                    (medql::render::Cell::Float(x), medql::render::Cell::Float(y)) => {
                        assert!((x - y).abs() < 1e-9, "{keys} {name} row {r}: {x} vs {y}")
                    }
                    _ => assert_eq!(a, b, "{keys} {name} row {r}"),
                }
                if name.ends_with("_n") && *a == medql::render::Cell::Int(0) {
                    empty_cells += 1;
                }
            }
        }
        if keys.starts_with("department") {
            assert!(
                empty_cells > 0,
                "some department has no items of some granularity"
            );
            // And they render as 0, not as an empty cell.
            assert!(two.render(Format::Csv).unwrap().contains(",0,"));
        }
    }
}
