//! Item images: where each item's image cell lies is recorded while the
//! items file streams and kept in the cache; a picture is read back by
//! offset (PNG, JPEG, short references, list cells; text is no picture);
//! `.item` in the prompt writes it to a file on a plain terminal; the
//! report's item listings get thumbnails.

use crate::common;
use crate::common::{medql, rt};
use base64::Engine;
use medql::data::cache::Cache;
use medql::data::images::{encode_png, ImageFormat};
use medql::data::items::{load_items_file, Items};
use medql::{LoadSpec, Options, Session};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn png(seed: u8) -> Vec<u8> {
    let rgb: Vec<u8> = (0..5 * 4 * 3)
        .map(|i| (i as u8).wrapping_mul(seed))
        .collect();
    encode_png(5, 4, &rgb)
}

/// The start of a JPEG file (the magic and a JFIF header): enough to be
/// told a JPEG.
fn jpeg() -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    j.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    j.extend_from_slice(&[0x42; 80]);
    j
}

/// An items file whose image column is last, after quoted fields holding
/// tabs, line breaks and quotes, with CRLF and LF line ends: each kind of
/// image cell once. Returns the path and each item's pictures.
fn hand_written(dir: &Path, name: &str) -> (PathBuf, HashMap<i64, Vec<Vec<u8>>>) {
    let (p1, p2, j) = (png(3), png(7), jpeg());
    let text_cell = b64(&[b'x'; 120]); // base64 of text: no picture
    let rows: Vec<(i64, String, String, Vec<Vec<u8>>)> = vec![
        (1, "plain".into(), b64(&p1), vec![p1.clone()]),
        (
            2,
            "\"quoted\twith a tab\nand a line break and \"\"quotes\"\"\"".into(),
            b64(&j),
            vec![j.clone()],
        ),
        (3, "a reference".into(), "1".into(), vec![p1.clone()]),
        (
            4,
            "a list".into(),
            format!("['{}', '{}']", b64(&p2), b64(&j)),
            vec![p2.clone(), j.clone()],
        ),
        (5, "text".into(), text_cell, vec![]),
        (6, "empty".into(), String::new(), vec![]),
        (
            7,
            "\"a quoted image\"".into(),
            format!("\"{}\"", b64(&p2)),
            vec![p2.clone()],
        ),
    ];
    let mut text = String::from("index\tquestion\tA\tB\tanswer\timage\r\n");
    let mut want = HashMap::new();
    for (i, (index, q, cell, images)) in rows.into_iter().enumerate() {
        let end = if i % 2 == 0 { "\r\n" } else { "\n" };
        text.push_str(&format!("{index}\t{q}\tyes\tno\tA\t{cell}{end}"));
        want.insert(index, images);
    }
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    (path, want)
}

fn check_all(items: &Items, dataset: &str, want: &HashMap<i64, Vec<Vec<u8>>>) {
    for (index, expected) in want {
        let got = items.item_images(dataset, *index).unwrap();
        let bytes: Vec<Vec<u8>> = got.iter().map(|i| i.bytes.clone()).collect();
        assert_eq!(&bytes, expected, "item {index}");
        for i in &got {
            assert_eq!(Some(i.format), ImageFormat::of(&i.bytes));
        }
    }
}

#[test]
fn offsets_are_recorded_while_streaming_and_every_kind_of_cell_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let (path, want) = hand_written(dir.path(), "Bench.tsv");
    let mut items = Items::new();
    load_items_file(&path, &mut items).unwrap();
    assert_eq!(items.len(), 7);
    // Each recorded cell is exactly the image field as written.
    let raw = std::fs::read(&path).unwrap();
    let c = items.image_cell(0);
    let cell = &raw[c.offset as usize..(c.offset + c.len as u64) as usize];
    assert_eq!(cell, b64(&png(3)).as_bytes());
    assert!(!c.quoted && items.image_cell(6).quoted);
    assert!(items.image_cell(5).is_none(), "an empty cell has none");
    // The quoted question kept its text.
    assert_eq!(
        items.value("question", 1),
        Some("quoted\twith a tab\nand a line break and \"quotes\"")
    );
    check_all(&items, "Bench", &want);
    // Unknown items and datasets have no picture.
    assert!(items.item_images("Bench", 99).unwrap().is_empty());
    assert!(items.item_images("Other", 1).unwrap().is_empty());
}

#[test]
fn broken_references_are_errors_that_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let p = b64(&png(5));
    let text = format!("index\timage\tquestion\n1\t{p}\tq\n2\t99\tq\n3\t2\tq\n4\t1\tq\n");
    let path = dir.path().join("Refs.tsv");
    std::fs::write(&path, text).unwrap();
    let mut items = Items::new();
    load_items_file(&path, &mut items).unwrap();
    assert_eq!(items.item_images("Refs", 4).unwrap()[0].bytes, png(5));
    let missing = items.item_images("Refs", 2).unwrap_err().to_string();
    assert!(missing.contains("reference to item 99"), "{missing}");
    let chained = items.item_images("Refs", 3).unwrap_err().to_string();
    assert!(chained.contains("is a reference too"), "{chained}");
}

fn load(spec: &LoadSpec, cache: Option<&Path>) -> Session {
    let opts = Options {
        cache: cache.map(|d| Cache::open(d, "test-build").unwrap()),
        ..Default::default()
    };
    rt().block_on(Session::load_with(spec, &opts)).unwrap()
}

fn images_of(s: &Session, dataset: &str, index: i64) -> Vec<Vec<u8>> {
    s.item_images(dataset, index)
        .unwrap()
        .into_iter()
        .map(|i| i.bytes)
        .collect()
}

#[test]
fn offsets_survive_the_cache_and_a_changed_file_never_gets_stale_ones() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let (path, want) = hand_written(dir.path(), "Bench.tsv");
    let spec = LoadSpec {
        items: vec![path.display().to_string()],
        ..Default::default()
    };
    let fresh = load(&spec, Some(cache_dir.path()));
    assert!(fresh.has_item_images());
    // The entry itself holds the offsets.
    let c = Cache::open(cache_dir.path(), "test-build").unwrap();
    let key = c.items_key(&[c.lookup(&path).expect("a file entry")]);
    let cached = c.get_items(&key).expect("an items entry");
    for r in 0..cached.len() {
        assert_eq!(
            cached.image_cell(r),
            fresh_cells(&path)[r],
            "row {r} from the cache"
        );
    }
    // A start from the cache reads the same pictures.
    let warm = load(&spec, Some(cache_dir.path()));
    for (index, expected) in &want {
        assert_eq!(&images_of(&warm, "Bench", *index), expected, "item {index}");
    }
    // The file changes under a running session: its offsets are not used.
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replacen("plain", "plain, now longer", 1);
    std::fs::write(&path, &text).unwrap();
    let err = warm.item_images("Bench", 2).unwrap_err().to_string();
    assert!(err.contains("changed"), "{err}");
    // A new start reads the changed file anew (its hash differs), and its
    // offsets fit it.
    let again = load(&spec, Some(cache_dir.path()));
    for (index, expected) in &want {
        assert_eq!(
            &images_of(&again, "Bench", *index),
            expected,
            "item {index}"
        );
    }
    // A touched file (same content, new time) keeps its entry, and the
    // pictures are still read.
    let f = std::fs::File::options().append(true).open(&path).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    drop(f);
    let touched = load(&spec, Some(cache_dir.path()));
    assert_eq!(images_of(&touched, "Bench", 4), want[&4]);
}

/// The image cells of a file as a load without the cache records them.
fn fresh_cells(path: &Path) -> Vec<medql::data::images::ImageCell> {
    let mut items = Items::new();
    load_items_file(path, &mut items).unwrap();
    (0..items.len()).map(|r| items.image_cell(r)).collect()
}

/// `medql gen --images png` into `dir`: the items file and each item's
/// pictures as written (a reference resolved, a list split).
fn gen_png(dir: &Path, n_items: usize) -> (PathBuf, HashMap<i64, Vec<Vec<u8>>>) {
    let (code, _, err) = medql(&[
        "gen",
        "--n-models",
        "3",
        "--n-items",
        &n_items.to_string(),
        "--out",
        dir.to_str().unwrap(),
        "--images",
        "png",
    ]);
    assert_eq!(code, 0, "{err}");
    let path = dir.join("GMAI-MMBench_SYNTH.tsv");
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(&path)
        .unwrap();
    let cells: Vec<(i64, String)> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].parse().unwrap(), rec[1].to_string())
        })
        .collect();
    let by_index: HashMap<i64, String> = cells.iter().cloned().collect();
    let decode = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s.trim_matches(|c| c == '\'' || c == ' '))
            .unwrap()
    };
    let mut want = HashMap::new();
    let (mut refs, mut lists) = (0, 0);
    for (index, cell) in &cells {
        let pictures: Vec<Vec<u8>> = if cell.len() <= 64 {
            refs += 1;
            vec![decode(&by_index[&cell.parse::<i64>().unwrap()])]
        } else if cell.starts_with('[') {
            lists += 1;
            cell.trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(decode)
                .collect()
        } else {
            vec![decode(cell)]
        };
        want.insert(*index, pictures);
    }
    assert!(refs > 0 && lists > 0, "{refs} references, {lists} lists");
    (path, want)
}

#[test]
fn generated_pngs_come_back_as_written_and_random_text_is_no_picture() {
    let dir = tempfile::tempdir().unwrap();
    let (path, want) = gen_png(dir.path(), 60);
    let spec = LoadSpec {
        items: vec![path.display().to_string()],
        predictions: vec![dir.path().join("predictions").display().to_string()],
        ..Default::default()
    };
    let s = load(&spec, None);
    for (index, expected) in &want {
        let got = s.item_images("GMAI-MMBench_SYNTH", *index).unwrap();
        assert!(got.iter().all(|i| i.format == ImageFormat::Png));
        let bytes: Vec<Vec<u8>> = got.into_iter().map(|i| i.bytes).collect();
        assert_eq!(&bytes, expected, "item {index}");
    }
    // `--image-bytes` alone writes random base64 text: an image column,
    // no pictures, no errors.
    let text_dir = dir.path().join("text");
    let (code, _, err) = medql(&[
        "gen",
        "--n-models",
        "1",
        "--n-items",
        "30",
        "--out",
        text_dir.to_str().unwrap(),
        "--image-bytes",
        "300",
    ]);
    assert_eq!(code, 0, "{err}");
    let s = load(
        &LoadSpec {
            items: vec![text_dir
                .join("GMAI-MMBench_SYNTH.tsv")
                .display()
                .to_string()],
            ..Default::default()
        },
        None,
    );
    assert!(s.has_item_images());
    for index in 0..30 {
        assert!(s
            .item_images("GMAI-MMBench_SYNTH", index)
            .unwrap()
            .is_empty());
    }
}

#[test]
fn the_real_items_pictures_are_read_by_offset() {
    let Some(data) = common::shared_data() else {
        return;
    };
    let path = data.join("GMAI-MMBench_VAL.tsv");
    let mut items = Items::new();
    load_items_file(&path, &mut items).unwrap();
    let mut r = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .from_path(&path)
        .unwrap();
    let header = r.headers().unwrap().clone();
    let col = header.iter().position(|h| h == "image").unwrap();
    let mut checked = 0;
    for (k, rec) in r.records().enumerate() {
        // Every 97th item, and the last.
        if k % 97 != 0 && k != 4549 {
            continue;
        }
        let rec = rec.unwrap();
        let index: i64 = rec[0].parse().unwrap();
        let got = items.item_images("GMAI-MMBench_VAL", index).unwrap();
        // The README says: an 8x8 placeholder PNG per item.
        assert_eq!(got.len(), 1, "item {index}");
        assert_eq!(got[0].format, ImageFormat::Png);
        let expected = base64::engine::general_purpose::STANDARD
            .decode(&rec[col])
            .unwrap();
        assert_eq!(got[0].bytes, expected, "item {index}");
        checked += 1;
    }
    assert!(checked > 40);
}

#[test]
fn item_in_a_pseudo_terminal_writes_the_picture_to_a_file() {
    use rexpect::session::spawn_command;
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (path, want) = gen_png(dir.path(), 40);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_medql"));
    cmd.arg("--no-color")
        .args(["--items", path.to_str().unwrap()])
        .args([
            "--predictions",
            dir.path().join("predictions").to_str().unwrap(),
        ])
        .env("TERM", "xterm")
        .env_remove("KITTY_WINDOW_ID")
        .env_remove("TERM_PROGRAM")
        .env("TMPDIR", tmp.path())
        .env("XDG_DATA_HOME", tmp.path())
        .env("XDG_CACHE_HOME", tmp.path().join("cache"));
    let mut p = spawn_command(cmd, Some(30_000)).expect("spawn medql");
    p.exp_string("medql> ").unwrap();
    let enter = |p: &mut rexpect::session::PtySession, t: &str| {
        p.send(t).unwrap();
        p.send("\r").unwrap();
        p.flush().unwrap();
    };
    // Item 5 holds a list of two pictures; item 16 refers to item 15's.
    for (index, n) in [(5i64, 2usize), (16, 1), (2, 1)] {
        enter(&mut p, &format!(".item {index}"));
        p.exp_string(&format!("GMAI-MMBench_SYNTH/{index}"))
            .unwrap();
        p.exp_string("(answer)").unwrap();
        p.exp_string("demo-").unwrap();
        p.exp_string("choices under policy").unwrap();
        for k in 1..=n {
            let (_, line) = p
                .exp_regex(&format!(
                    r"image {k} of {n} \(PNG, \d+ bytes\): [^\r\n]+\.png"
                ))
                .unwrap();
            let shown = line.rsplit_once(": ").unwrap().1.trim();
            let file = PathBuf::from(shown);
            assert!(file.starts_with(tmp.path()), "{shown}");
            let bytes = std::fs::read(&file).unwrap();
            assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
            assert_eq!(bytes, want[&index][k - 1], "item {index}, image {k}");
        }
        p.exp_string("medql> ").unwrap();
    }
    enter(&mut p, ".item 4000");
    p.exp_string("no item 4000 in any loaded dataset (indexes 0..39")
        .unwrap();
    p.exp_string("nearest: 37, 38, 39").unwrap();
    enter(&mut p, ".item Nope/3");
    p.exp_string("no dataset `Nope` is loaded; datasets: GMAI-MMBench_SYNTH")
        .unwrap();
    // A second dataset with the same indexes: an index alone is ambiguous.
    let other = dir.path().join("mm");
    let (code, _, err) = medql(&[
        "gen",
        "--shape",
        "mmbench",
        "--n-models",
        "1",
        "--n-items",
        "20",
        "--out",
        other.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    enter(
        &mut p,
        &format!(".load items {}", other.join("MMBench_SYNTH.tsv").display()),
    );
    p.exp_string("MMBench_SYNTH").unwrap();
    p.exp_string("medql> ").unwrap();
    enter(&mut p, ".item 3");
    p.exp_string("item 3 is in 2 datasets: GMAI-MMBench_SYNTH, MMBench_SYNTH")
        .unwrap();
    enter(&mut p, ".item mmbench_synth/3");
    p.exp_string("MMBench_SYNTH/3").unwrap();
    p.exp_string("no image: ").unwrap();
    enter(&mut p, ".quit");
    p.exp_eof().unwrap();
}

#[test]
fn the_report_shows_thumbnails_where_items_have_pictures() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = gen_png(dir.path(), 80);
    let html = dir.path().join("report.html");
    let (code, _, err) = medql(&[
        "--items",
        path.to_str().unwrap(),
        "--predictions",
        dir.path().join("predictions").to_str().unwrap(),
        "report",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&html).unwrap();
    // The failure gallery: three wrong answers per model, each with its
    // item's picture.
    let gallery = &text[text.find("<h2>Failure gallery</h2>").expect("gallery")..];
    let gallery = &gallery[..gallery.find("</section>").unwrap()];
    assert!(gallery.contains("<th>image</th>"));
    let thumbs = gallery
        .matches("<img class=\"thumb\" src=\"data:image/png;base64,")
        .count();
    assert!(thumbs >= 9, "{thumbs} thumbnails");
    assert!(gallery.contains("alt=\"GMAI-MMBench_SYNTH item "));
    assert!(gallery.contains("max-width:160px"));
    // No other section lists items.
    assert_eq!(text.matches("<img").count(), thumbs);

    // Without pictures (no image column, or random text): no thumbnails,
    // no error.
    for extra in [&[][..], &["--image-bytes", "200"][..]] {
        let plain = dir.path().join(format!("plain{}", extra.len()));
        let mut args = vec![
            "gen",
            "--n-models",
            "2",
            "--n-items",
            "60",
            "--out",
            plain.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = medql(&args);
        assert_eq!(code, 0, "{err}");
        let out = plain.join("report.html");
        let (code, _, err) = medql(&[
            "--items",
            plain.join("GMAI-MMBench_SYNTH.tsv").to_str().unwrap(),
            "--predictions",
            plain.join("predictions").to_str().unwrap(),
            "report",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("Failure gallery"));
        assert!(!text.contains("<img"), "{extra:?}");
        assert!(!text.contains("<th>image</th>"));
    }
}
