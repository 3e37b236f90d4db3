//! `medql report`: the real VAL report's numbers against VLMEvalKit's
//! tables, its structure, the published leaderboard ranking, the demo
//! report, and hostile text staying text in a real browser.

use crate::common;
use crate::common::medql;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The rows of the Markdown table that follows the `## title` heading.
fn md_table(md: &str, title: &str) -> Vec<Vec<String>> {
    let start = md
        .find(&format!("## {title}\n"))
        .unwrap_or_else(|| panic!("no section {title}"));
    md[start..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| !l.starts_with("|---") && !l.starts_with("|-"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn real_report_numbers_structure_and_leaderboard() {
    let Some(dir) = common::shared_data() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let md = out.path().join("report.md");
    let html = out.path().join("report.html");
    let items = dir.join("GMAI-MMBench_VAL.tsv");
    let preds = dir.join("predictions");
    for target in [&md, &html] {
        let (code, _, err) = medql(&[
            "--items",
            items.to_str().unwrap(),
            "--predictions",
            preds.to_str().unwrap(),
            "--policy",
            "legacy",
            "report",
            "--leaderboard",
            "--alias",
            "qwen_chat=Qwen-VL-Chat",
            "-o",
            target.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let text = std::fs::read_to_string(&md).unwrap();
    // The paper's three tables equal VLMEvalKit's, to the printed precision.
    for (title, file, abbreviated) in [
        ("Accuracy by clinical VQA task", "clinical vqa task", true),
        ("Accuracy by department", "department", true),
        (
            "Accuracy by perceptual granularity",
            "perceptual granularity",
            false,
        ),
    ] {
        let table = md_table(&text, title);
        let headers = &table[0];
        assert_eq!(table.len(), 4, "{title}: 3 models");
        for row in &table[1..] {
            let model = &row[0];
            let reference = common::reference_acc(
                &dir.join(format!("reference/{model}_GMAI-MMBench_VAL_{file}_acc.csv")),
            );
            for (group, frac) in reference {
                let col = if abbreviated && group != "Overall" {
                    let dim = if file == "department" {
                        "department"
                    } else {
                        "task"
                    };
                    medql::tree::abbreviation(dim, &group)
                        .unwrap_or(&group)
                        .to_string()
                } else {
                    group.clone()
                };
                let i = headers
                    .iter()
                    .position(|h| md_unescape(h) == col)
                    .unwrap_or_else(|| panic!("{title}: no column {col}"));
                assert_eq!(
                    row[i],
                    format!("{:.2}", frac * 100.0),
                    "{title} {model} {group}"
                );
            }
        }
    }
    // The leaderboard: this run's models ranked among the published rows on VAL.
    let board = md_table(&text, "Against the published leaderboard");
    let mut published: Vec<f64> = vec![];
    let mut rdr = csv::Reader::from_path(dir.join("leaderboard/by_clinical_vqa_task.csv")).unwrap();
    for r in rdr.records() {
        published.push(r.unwrap()[2].parse().unwrap());
    }
    assert_eq!(board.len(), 1 + published.len() + 3);
    let huatuo = board
        .iter()
        .find(|r| r[1].starts_with("HuatuoGPT_Vision_7B (this run"))
        .expect("ours in the ranking");
    let ahead = published.iter().filter(|v| **v > 48.90).count();
    let ours_ahead = 0; // Huatuo is this run's best model
    assert_eq!(huatuo[0], (ahead + ours_ahead + 1).to_string());
    assert_eq!(huatuo[3], "48.90");
    // Its rank among the published models (random not counted), with the
    // interval its Wilson interval gives: 2225 of 4550 right.
    let mut models: Vec<f64> = vec![];
    let mut rdr = csv::Reader::from_path(dir.join("leaderboard/by_clinical_vqa_task.csv")).unwrap();
    for r in rdr.records() {
        let r = r.unwrap();
        if !r[0].eq_ignore_ascii_case("random") {
            models.push(r[2].parse().unwrap());
        }
    }
    let (n, p, z) = (4550.0f64, 2225.0 / 4550.0, 1.959963984540054f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    let (lo, hi) = (100.0 * (centre - half), 100.0 * (centre + half));
    let above = |x: f64| 1 + models.iter().filter(|v| **v > x).count();
    assert_eq!(
        huatuo[5],
        format!("{} ({}–{})", above(100.0 * p), above(hi), above(lo))
    );
    assert!(text.contains("qwen_chat (this run; published as Qwen-VL-Chat)"));
    let side = md_table(&text, "qwen_chat beside the published Qwen-VL-Chat");
    assert_eq!(side[0][3], "this run (VAL)");
    assert_eq!(side[0][4], "published (TEST)");
    assert_eq!(side.len(), 1 + 36);
    // Structure of the HTML: every section, charts, the statistics named.
    let page = std::fs::read_to_string(&html).unwrap();
    // The standard ten, the leaderboard's two, and how it was scored.
    assert_eq!(page.matches("<section id=").count(), 13);
    // Three models: no item can be suspect, and the section says why.
    assert!(page.contains("No item is suspect."));
    assert!(page.contains("<section id=\"scoring\">"));
    assert!(page.matches("<svg").count() >= 5, "charts inline");
    assert!(page.contains("Holm"));
    assert!(page.contains("McNemar"));
    assert!(!page.contains("<script"), "no JavaScript");
    let without_ns = page.replace("http://www.w3.org/2000/svg", "");
    assert!(
        !without_ns.contains("http://") && !without_ns.contains("https://"),
        "no network"
    );
    // Markdown links its charts, written beside it.
    assert!(text.contains("](report_files/"));
    assert!(out.path().join("report_files").read_dir().unwrap().count() >= 5);
}

fn md_unescape(s: &str) -> String {
    s.replace("\\|", "|")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn demo_report_without_data_flags() {
    let out = tempfile::tempdir().unwrap();
    let html = out.path().join("demo.html");
    let (code, _, err) = medql(&["report", "-o", html.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("built-in demo data"));
    // How it was scored, and the standard ten.
    assert_eq!(page.matches("<section id=").count(), 11);
    assert!(page.contains("demo-medical-13b"));
    // Own query files and directories work too; a bad extension is a usage error.
    let q = out.path().join("one.mql");
    std::fs::write(
        &q,
        "-- Just one\n-- A single section.\nby model score acc, ci\n",
    )
    .unwrap();
    let (code, _, err) = medql(&["report", q.to_str().unwrap(), "-o", html.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    // Every report says how its numbers were scored, then the file's section.
    assert_eq!(page.matches("<section id=").count(), 2);
    assert!(page.contains("Just one"));
    let (code, _, _) = medql(&["report", "-o", out.path().join("x.pdf").to_str().unwrap()]);
    assert_eq!(code, 2);
}

const SCRIPT: &str = "<script>document.body.dataset.pwned=1</script>";
const IMG: &str = "\"><img src=x onerror=\"document.body.dataset.pwned=1\">";

fn chromium() -> Option<PathBuf> {
    for c in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(c).exists() {
            return Some(PathBuf::from(c));
        }
    }
    None
}

#[test]
fn hostile_text_stays_text_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let items = dir.path().join("Bench.tsv");
    std::fs::write(
        &items,
        "index\tquestion\tA\tB\tanswer\tclinical VQA task\n1\tq one\tyes\tno\tA\tDiagnosis\n2\tq two\tyes\tno\tB\tDiagnosis\n",
    )
    .unwrap();
    // Hostile text in a model name, a prediction and a file name.
    let preds = dir
        .path()
        .join(format!("{}_Bench.csv", IMG.replace('/', "_")));
    let mut w = csv::Writer::from_path(&preds).unwrap();
    w.write_record(["model", "index", "prediction"]).unwrap();
    for (m, i, p) in [
        (SCRIPT, "1", IMG),
        (SCRIPT, "2", "B"),
        ("plain", "1", SCRIPT),
        ("plain", "2", "A"),
    ] {
        w.write_record([m, i, p]).unwrap();
    }
    w.flush().unwrap();
    // And in a run record's judge, commit and date.
    let status = dir.path().join("status.json");
    let hostile = serde_json::json!({
        "model_name": "plain", "eval_id": IMG, "commit": SCRIPT, "created_at": IMG,
        "datasets": {"Bench": {"judge_model": SCRIPT}}
    });
    std::fs::write(&status, hostile.to_string()).unwrap();
    let html = dir.path().join("report.html");
    let (code, _, err) = medql(&[
        "--items",
        items.to_str().unwrap(),
        "--predictions",
        preds.to_str().unwrap(),
        status.to_str().unwrap(),
        "report",
        "-o",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(!page.contains("<script"), "raw script tag in the page");
    assert!(!page.contains("<img"), "raw img tag in the page");
    assert!(
        page.contains("&lt;script&gt;document.body.dataset.pwned=1"),
        "shown as text"
    );
    assert!(
        page.contains("judge &lt;script&gt;"),
        "the run record is read and its judge shown as text"
    );
    let md = dir.path().join("report.md");
    let (code, _, err) = medql(&[
        "--items",
        items.to_str().unwrap(),
        "--predictions",
        preds.to_str().unwrap(),
        "report",
        "-o",
        md.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        !text.contains("<script") && !text.contains("<img"),
        "markdown escapes HTML"
    );

    let Some(browser) = chromium() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("CI=true but no chromium: .ci/run installs it");
        }
        eprintln!("skipping the browser check: chromium is not installed");
        return;
    };
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            &format!("--user-data-dir={}", profile.path().display()),
            "--virtual-time-budget=2000",
            "--dump-dom",
            &format!("file://{}", html.display()),
        ])
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<body"),
        "chromium rendered the page: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dom.contains("data-pwned"), "an injected script ran");
    assert!(
        dom.contains("document.body.dataset.pwned=1"),
        "the hostile text is shown as text"
    );
}

/// Every Markdown table of the `## title` section, in order.
fn md_tables(md: &str, title: &str) -> Vec<Vec<Vec<String>>> {
    let start = md
        .find(&format!("## {title}\n"))
        .unwrap_or_else(|| panic!("no section {title}"));
    let body = &md[start + 3..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    let mut tables: Vec<Vec<Vec<String>>> = vec![];
    let mut in_table = false;
    for l in body.lines() {
        if !l.starts_with('|') {
            in_table = false;
            continue;
        }
        if !in_table {
            tables.push(vec![]);
            in_table = true;
        }
        if !l.starts_with("|-") {
            let cells = l
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect();
            tables.last_mut().unwrap().push(cells);
        }
    }
    tables
}

#[test]
fn a_report_says_how_its_numbers_were_scored() {
    let Some(dir) = common::shared_data() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let md = out.path().join("report.md");
    let reference = dir.join("reference/*_GMAI-MMBench_VAL_openai_result.xlsx");
    let (code, _, err) = medql(&[
        "--items",
        dir.join("GMAI-MMBench_VAL.tsv").to_str().unwrap(),
        "--predictions",
        dir.join("predictions").to_str().unwrap(),
        reference.to_str().unwrap(),
        "report",
        "-o",
        md.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&md).unwrap();
    // The header names each model's judge and the era its verdicts follow.
    assert!(
        text.contains(
            "- qwen_chat on GMAI-MMBench_VAL · judge openai · recorded verdicts follow v2024 (100.00%)"
        ),
        "{}",
        &text[..text.len().min(3000)]
    );
    let tables = md_tables(&text, "How these numbers were scored");
    assert_eq!(tables.len(), 2, "provenance, then accuracy by era");
    let (prov, accs) = (&tables[0], &tables[1]);
    let col = |t: &Vec<Vec<String>>, name: &str| {
        t[0].iter()
            .position(|h| md_unescape(h) == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", t[0]))
    };
    assert_eq!(prov.len(), 4);
    for r in &prov[1..] {
        assert_eq!(r[col(prov, "judge")], "openai");
        assert_eq!(r[col(prov, "rules_detected")], "v2024");
        assert_eq!(r[col(prov, "agreement")], "100.00");
    }
    // Each model under every era, and VLMEvalKit's own verdicts.
    let want = [
        ("HuatuoGPT_Vision_7B", ["48.90", "44.77", "45.25", "48.90"]),
        ("Qwen2-VL-7B-Instruct", ["46.46", "46.11", "46.11", "46.46"]),
        ("qwen_chat", ["33.63", "29.58", "29.89", "33.63"]),
    ];
    for (model, figures) in want {
        let r = accs
            .iter()
            .find(|r| md_unescape(&r[0]) == model)
            .unwrap_or_else(|| panic!("no row {model}"));
        for (name, v) in ["acc_v2024", "acc_v2025", "acc_v2026", "acc_recorded"]
            .iter()
            .zip(figures)
        {
            assert_eq!(r[col(accs, name)], v, "{model} {name}");
        }
    }
}
