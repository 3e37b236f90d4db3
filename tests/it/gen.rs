//! `medql gen`: the same synthetic benchmark in every file format scores the
//! same, and an image column does not change anything but the file size.

use crate::common::medql;

#[test]
fn every_format_scores_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = vec![];
    for (fmt, image) in [
        ("csv", "0"),
        ("xlsx", "0"),
        ("parquet", "0"),
        ("jsonl", "0"),
        ("tsv", "3000"),
    ] {
        let out = dir.path().join(fmt);
        let (code, _, err) = medql(&[
            "gen",
            "--n-models",
            "5",
            "--n-items",
            "800",
            "--out",
            out.to_str().unwrap(),
            "--file-format",
            fmt,
            "--image-bytes",
            image,
            "--seed",
            "7",
        ]);
        assert_eq!(code, 0, "{err}");
        let files = std::fs::read_dir(out.join("predictions")).unwrap().count();
        assert_eq!(files, 5, "{fmt}");
        let (code, csv, err) = medql(&[
            "--items",
            out.join("GMAI-MMBench_SYNTH.tsv").to_str().unwrap(),
            "--predictions",
            out.join("predictions").to_str().unwrap(),
            "--format",
            "csv",
            "-e",
            "by model score acc, n, missing, fail",
        ]);
        assert_eq!(code, 0, "{fmt}: {err}");
        assert_eq!(csv.lines().count(), 6, "{csv}");
        outputs.push((fmt, csv));
    }
    for (fmt, csv) in &outputs[1..] {
        assert_eq!(csv, &outputs[0].1, "{fmt} differs from csv");
    }
    // The image column made the items file larger, and was read past.
    let plain = std::fs::metadata(dir.path().join("csv/GMAI-MMBench_SYNTH.tsv"))
        .unwrap()
        .len();
    let with_images = std::fs::metadata(dir.path().join("tsv/GMAI-MMBench_SYNTH.tsv"))
        .unwrap()
        .len();
    assert!(with_images > plain + 800 * 1000, "{plain} vs {with_images}");
}

#[test]
fn shape_names_the_files_and_a_wrong_one_is_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    for (shape, dataset, header) in [
        (
            "mmbench",
            "MMBench_SYNTH",
            "index\tquestion\thint\tA\tB\tC\tD\tanswer\tcategory\tl2-category\tsplit",
        ),
        (
            "medxpertqa",
            "MedXpertQA_SYNTH",
            "index\tquestion\tA\tB\tC\tD\tE\tanswer\tmedical_task\tbody_system\tquestion_type",
        ),
    ] {
        let out = dir.path().join(shape);
        let (code, _, err) = medql(&[
            "gen",
            "--shape",
            shape,
            "--n-models",
            "2",
            "--n-items",
            "50",
            "--out",
            out.to_str().unwrap(),
            "--file-format",
            "jsonl",
        ]);
        assert_eq!(code, 0, "{err}");
        let items = std::fs::read_to_string(out.join(format!("{dataset}.tsv"))).unwrap();
        assert_eq!(items.lines().next(), Some(header));
        assert_eq!(items.lines().count(), 51);
        let mut files: Vec<String> = std::fs::read_dir(out.join("predictions"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        files.sort();
        assert_eq!(
            files,
            [
                format!("demo-generalist-7b_{dataset}.jsonl"),
                format!("demo-medical-13b_{dataset}.jsonl")
            ]
        );
    }
    let (code, _, err) = medql(&["gen", "--shape", "vqa", "--out", "unused"]);
    assert_eq!(code, 2);
    assert!(err.contains("shapes: gmai, mmbench, medxpertqa"), "{err}");
}
