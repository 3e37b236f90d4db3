//! Lexical-tree terms on a benchmark with other names, where one name is a
//! value in two dimensions: the tree is built from whatever is loaded.

use crate::common::*;
use medql::{LoadSpec, Session};

fn session() -> (tokio::runtime::Runtime, Session, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("Other.tsv");
    std::fs::write(
        &items,
        "index\tquestion\tA\tB\tanswer\tcategory\tclinical VQA task\tdepartment\tperceptual granularity\tmodality\n\
         1\tq\tx\ty\tA\tmole\tDiagnosis\tDermatology\tImage level\tDermatology\n\
         2\tq\tx\ty\tB\tscar\tDiagnosis\tSurgery\tImage level\tPhoto\n\
         3\tq\tx\ty\tA\tmole\tGrading\tDermatology\tBox level\tPhoto\n",
    )
    .unwrap();
    let preds = dir.path().join("m_Other.csv");
    std::fs::write(&preds, "index,prediction\n1,A\n2,A\n3,A\n").unwrap();
    let rt = rt();
    let s = rt
        .block_on(Session::load(&LoadSpec {
            items: vec![items.display().to_string()],
            predictions: vec![preds.display().to_string()],
            ..Default::default()
        }))
        .unwrap();
    (rt, s, dir)
}

#[test]
fn a_name_in_two_dimensions_is_ambiguous_and_qualifiers_resolve_it() {
    let (rt, mut s, _d) = session();
    let err = rt
        .block_on(s.run("where #dermatology score n", "q"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("`dermatology` is ambiguous"), "{err}");
    assert!(err.contains("#department:Dermatology"), "{err}");
    assert!(err.contains("#modality:Dermatology"), "{err}");
    let n = |s: &mut Session, q: &str| float(&rows(&query(&rt, s, q))[0][0]).unwrap();
    assert_eq!(n(&mut s, "where #department:Dermatology score n"), 2.0);
    assert_eq!(n(&mut s, "where #modality:dermatology score n"), 1.0);
    assert_eq!(n(&mut s, "where #dept:Dermatology and #Photo score n"), 1.0);
    assert_eq!(n(&mut s, "where #Diagnosis/Photo/scar score n"), 1.0);
    assert_eq!(n(&mut s, "where #box score n"), 1.0);
    assert_eq!(n(&mut s, "where #\"*ing\" score n"), 1.0);
}

#[test]
fn path_errors_name_the_missing_step_and_what_exists() {
    let (rt, mut s, _d) = session();
    let err = rt
        .block_on(s.run("where #Diagnosis/CT score n", "q"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no modality `CT` under Diagnosis"), "{err}");
    assert!(err.contains("#Dermatology, #Photo"), "{err}");
    let err = rt
        .block_on(s.run("where #Diagnosis/Photo/mole score n", "q"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no category `mole` under Diagnosis / Photo"),
        "{err}"
    );
    assert!(err.contains("#scar"), "{err}");
    let err = rt
        .block_on(s.run("where #Gradin score n", "q"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown lexical-tree name `Gradin`"), "{err}");
    assert!(err.contains("#Grading"), "{err}");
    let err = rt
        .block_on(s.run("where #colour:red score n", "q"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown qualifier `colour`"), "{err}");
}
