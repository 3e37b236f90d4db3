//! `medql report`: run saved query files against the loaded data and write
//! one self-contained document (HTML, or Markdown with SVG charts beside
//! it): a header saying what was loaded, then a section per query with its
//! title, description, chart and table; optionally the published
//! leaderboard. Templates are rendered by minijinja with HTML autoescaping;
//! every piece of text from the data reaches the page escaped.

pub mod chart;
pub mod leaderboard;

use crate::error::{Error, Result};
use crate::render::{cell, human, Cell};
use crate::style::Style;
use crate::syntax::ast::{Output, Statement};
use crate::{Outcome, QueryResult, Session};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The standard report set, shipped in `queries/` and built in.
pub const STANDARD: &[(&str, &str)] = &[
    (
        "01_leaderboard.mql",
        include_str!("../../queries/01_leaderboard.mql"),
    ),
    (
        "02_by_task.mql",
        include_str!("../../queries/02_by_task.mql"),
    ),
    (
        "03_by_department.mql",
        include_str!("../../queries/03_by_department.mql"),
    ),
    (
        "04_by_granularity.mql",
        include_str!("../../queries/04_by_granularity.mql"),
    ),
    (
        "05_by_modality.mql",
        include_str!("../../queries/05_by_modality.mql"),
    ),
    (
        "06_policy_sensitivity.mql",
        include_str!("../../queries/06_policy_sensitivity.mql"),
    ),
    (
        "07_versus_best.mql",
        include_str!("../../queries/07_versus_best.mql"),
    ),
    (
        "08_small_slices.mql",
        include_str!("../../queries/08_small_slices.mql"),
    ),
    (
        "09_failure_gallery.mql",
        include_str!("../../queries/09_failure_gallery.mql"),
    ),
    (
        "10_suspect_items.mql",
        include_str!("../../queries/10_suspect_items.mql"),
    ),
];

const HTML_TEMPLATE: &str = include_str!("../../templates/report.html.j2");
const MD_TEMPLATE: &str = include_str!("../../templates/report.md.j2");

/// Slices with fewer items than this are flagged.
pub const SMALL_SLICE: i64 = 30;
/// Comparisons with `p_holm` below this are marked significant.
pub const ALPHA: f64 = 0.05;

pub struct ReportOptions {
    /// Query files or directories of them; empty: the standard set.
    pub inputs: Vec<String>,
    /// `.html` or `.md`.
    pub output: PathBuf,
    pub leaderboard: bool,
    /// (this run's model, published model)
    pub aliases: Vec<(String, String)>,
}

#[derive(Serialize, Clone, Debug)]
pub struct CellView {
    pub text: String,
    pub class: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct TableView {
    pub headers: Vec<String>,
    pub numeric: Vec<bool>,
    pub rows: Vec<RowView>,
    pub markdown: String,
    /// Whether some row has thumbnails (the HTML table gets an `image`
    /// column).
    pub images: bool,
}

#[derive(Serialize, Clone, Debug, Default)]
pub struct RowView {
    pub class: String,
    pub cells: Vec<CellView>,
    /// The item's pictures as `<img>` elements ([`thumbnail_html`]),
    /// already escaped.
    pub images: Vec<String>,
    /// The item a row of an item listing shows: its dataset when the
    /// table has a `dataset` column, and its index.
    #[serde(skip)]
    pub item: Option<(Option<String>, i64)>,
}

/// The widest a thumbnail is shown, in CSS pixels.
pub const THUMBNAIL_WIDTH: u32 = 160;
/// A picture over this many bytes is not embedded (thumbnails are the
/// pictures themselves, scaled by the browser).
pub const THUMBNAIL_MAX_BYTES: usize = 2 << 20;
/// Embedded pictures stop at this many bytes in one report.
pub const THUMBNAILS_MAX_TOTAL: usize = 32 << 20;

pub use crate::text::html_escape;

/// An `<img>` element showing a picture as a thumbnail: a `data:` URI of
/// its bytes, at most [`THUMBNAIL_WIDTH`] pixels wide, the alt text
/// escaped (and its control characters too).
pub fn thumbnail_html(image: &crate::data::images::Image, alt: &str) -> String {
    format!(
        "<img class=\"thumb\" src=\"data:{};base64,{}\" alt=\"{}\" style=\"max-width:{THUMBNAIL_WIDTH}px;height:auto\" loading=\"lazy\">",
        image.format.mime(),
        image.base64(),
        html_escape(&crate::render::neutralize(alt))
    )
}

/// Thumbnails for the rows of a section's item listings (a table with
/// `index` and `question` columns, as the failure gallery): each row's
/// item's pictures, read by offset from its items file now. The item's
/// dataset is the row's `dataset` cell, else `dataset`. An item without
/// a picture, or whose picture cannot be read, gets none; pictures over
/// the size limits are left out, and a note says how many.
fn add_thumbnails(session: &Session, sec: &mut Section, dataset: Option<&str>, budget: &mut usize) {
    if !session.has_item_images() {
        return;
    }
    for p in &mut sec.parts {
        let mut left_out = 0;
        let mut unreadable = 0;
        for r in &mut p.table.rows {
            let Some((d, index)) = &r.item else { continue };
            let Some(d) = d.as_deref().or(dataset) else {
                continue;
            };
            let images = match session.item_images(d, *index) {
                Ok(i) => i,
                Err(_) => {
                    unreadable += 1;
                    continue;
                }
            };
            for (k, image) in images.iter().enumerate() {
                if image.bytes.len() > THUMBNAIL_MAX_BYTES || image.bytes.len() > *budget {
                    left_out += 1;
                    continue;
                }
                *budget -= image.bytes.len();
                let alt = if images.len() > 1 {
                    format!("{d} item {index}, image {}", k + 1)
                } else {
                    format!("{d} item {index}")
                };
                r.images.push(thumbnail_html(image, &alt));
            }
        }
        p.table.images = p.table.rows.iter().any(|r| !r.images.is_empty());
        if left_out > 0 {
            p.notes.push(format!(
                "{left_out} picture{} not shown: over {} MiB each or {} MiB in all.",
                if left_out == 1 { "" } else { "s" },
                THUMBNAIL_MAX_BYTES >> 20,
                THUMBNAILS_MAX_TOTAL >> 20
            ));
        }
        if unreadable > 0 {
            p.notes.push(format!(
                "{unreadable} item{}' pictures could not be read (`.item` in the prompt says why).",
                if unreadable == 1 { "" } else { "s" }
            ));
        }
    }
}

/// A section: one query file (or a leaderboard view) with its title, and
/// one part per result it gives.
#[derive(Serialize, Clone, Debug)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub description: String,
    pub source: String,
    pub parts: Vec<Part>,
}

/// One result of a section: its query, table, chart and notes.
#[derive(Serialize, Clone, Debug)]
pub struct Part {
    pub id: String,
    pub query: String,
    pub table: TableView,
    pub chart: Option<String>,
    pub chart_file: Option<String>,
    pub notes: Vec<String>,
}

impl Part {
    /// A part with a table alone (no query text, chart or notes).
    pub fn table(id: String, table: TableView) -> Part {
        Part {
            id,
            query: String::new(),
            table,
            chart: None,
            chart_file: None,
            notes: vec![],
        }
    }
}

#[derive(Serialize, Clone, Debug)]
pub struct FileView {
    pub role: String,
    pub path: String,
    pub size: String,
    pub modified: String,
    pub fingerprint: String,
}

#[derive(Serialize, Clone, Debug)]
pub struct Header {
    pub title: String,
    pub version: String,
    pub date: String,
    pub policy: String,
    pub items: usize,
    pub datasets: String,
    pub models: Vec<String>,
    pub demo: bool,
    pub files: Vec<FileView>,
    /// Where each model's numbers came from, a line per model and dataset.
    pub scoring: Vec<String>,
    pub warnings: Vec<String>,
    /// What a reader must know before reading any number (a split without
    /// answers, say).
    pub notices: Vec<String>,
}

/// What the report run produced, for messages and tests.
pub struct ReportSummary {
    pub sections: usize,
    pub charts: usize,
    pub bytes: u64,
}

/// Title and description from a query file's leading `--` comments.
pub fn header_comments(text: &str, fallback: &str) -> (String, String) {
    let mut lines = vec![];
    for l in text.lines() {
        let t = l.trim();
        if let Some(c) = t.strip_prefix("--") {
            lines.push(c.trim().to_string());
        } else if t.is_empty() && lines.is_empty() {
            continue;
        } else {
            break;
        }
    }
    if lines.is_empty() {
        return (fallback.to_string(), String::new());
    }
    let title = lines.remove(0);
    (title, lines.join(" ").trim().to_string())
}

/// The query files to run: the standard set, or the files and `.mql` files
/// of the directories given, in order.
pub fn inputs(specs: &[String]) -> Result<Vec<(String, String)>> {
    if specs.is_empty() {
        return Ok(STANDARD
            .iter()
            .map(|(n, t)| (format!("queries/{n}"), t.to_string()))
            .collect());
    }
    let mut out = vec![];
    for s in specs {
        let p = Path::new(s);
        let mut files = vec![];
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::io(s, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "mql"))
                .collect();
            v.sort();
            if v.is_empty() {
                return Err(Error::Usage(format!("no .mql files in {s}")));
            }
            files.extend(v);
        } else if p.exists() {
            files.push(p.to_path_buf());
        } else {
            return Err(Error::Usage(format!("query file not found: {s}")));
        }
        for f in files {
            let text =
                std::fs::read_to_string(&f).map_err(|e| Error::io(f.display().to_string(), e))?;
            out.push((f.display().to_string(), text));
        }
    }
    Ok(out)
}

fn table_view(t: &QueryResult) -> TableView {
    let headers: Vec<String> = t.schema.fields().iter().map(|f| f.name().clone()).collect();
    let numeric: Vec<bool> = t
        .schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let n_col = headers.iter().position(|h| h == "n");
    let p_col = headers.iter().position(|h| h == "p_holm");
    // An item listing: its rows name items.
    let index_col = headers
        .iter()
        .position(|h| h == "index")
        .filter(|_| headers.iter().any(|h| h == "question"));
    let dataset_col = headers.iter().position(|h| h == "dataset");
    let mut rows = vec![];
    for b in &t.batches {
        for r in 0..b.num_rows() {
            let cells: Vec<Cell> = b.columns().iter().map(|a| cell(a, r)).collect();
            let small = n_col.is_some_and(|i| matches!(cells[i], Cell::Int(n) if n < SMALL_SLICE));
            let sig = p_col.is_some_and(|i| matches!(cells[i], Cell::Float(p) if p < ALPHA));
            let mut class = vec![];
            if small {
                class.push("small");
            }
            if sig {
                class.push("sig");
            }
            let views = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut text = human(c, t.styles.get(&headers[i]).copied());
                    if text.chars().count() > 600 {
                        text = text.chars().take(599).collect::<String>() + "…";
                    }
                    if Some(i) == n_col && small {
                        text.push_str(" ⚑");
                    }
                    if Some(i) == p_col && sig {
                        text.push_str(" ✱");
                    }
                    CellView {
                        text,
                        class: if numeric[i] {
                            "num".into()
                        } else {
                            String::new()
                        },
                    }
                })
                .collect();
            let item = index_col.and_then(|i| match &cells[i] {
                Cell::Int(index) => {
                    let d = dataset_col.and_then(|j| match &cells[j] {
                        Cell::Text(d) => Some(d.clone()),
                        _ => None,
                    });
                    Some((d, *index))
                }
                _ => None,
            });
            rows.push(RowView {
                class: class.join(" "),
                cells: views,
                images: vec![],
                item,
            });
        }
    }
    let markdown = markdown_table(&headers, &numeric, &rows);
    TableView {
        headers,
        numeric,
        rows,
        markdown,
        images: false,
    }
}

/// A table view from rows built by hand (the leaderboard sections).
pub fn table_view_rows(headers: Vec<String>, numeric: Vec<bool>, rows: Vec<RowView>) -> TableView {
    let markdown = markdown_table(&headers, &numeric, &rows);
    TableView {
        headers,
        numeric,
        rows,
        markdown,
        images: false,
    }
}

/// Markdown text: `|`, HTML and line breaks escaped.
pub fn md_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('\n', " ")
}

fn markdown_table(headers: &[String], numeric: &[bool], rows: &[RowView]) -> String {
    let mut s = format!(
        "| {} |\n",
        headers
            .iter()
            .map(|h| md_escape(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    s.push_str(&format!(
        "|{}|\n",
        numeric
            .iter()
            .map(|n| if *n { "---:" } else { "---" })
            .collect::<Vec<_>>()
            .join("|")
    ));
    for r in rows {
        s.push_str(&format!(
            "| {} |\n",
            r.cells
                .iter()
                .map(|c| md_escape(&c.text))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    s
}

/// The chart a result calls for, if any: a heatmap for a pivot, bars with
/// interval whiskers for a one-key score with `acc`.
fn chart_for(statement: Option<&Statement>, t: &QueryResult) -> Option<String> {
    let Some(Statement::Query(q)) = statement else {
        return None;
    };
    if !matches!(q.output, Output::Score(_)) {
        return None;
    }
    let headers: Vec<String> = t.schema.fields().iter().map(|f| f.name().clone()).collect();
    let rows = t.rows();
    if rows.is_empty() || rows.len() > 80 {
        return None;
    }
    let num = |c: &Cell| match c {
        Cell::Float(f) => Some(*f),
        Cell::Int(i) => Some(*i as f64),
        _ => None,
    };
    let label = |r: &[Cell], keys: usize| {
        r[..keys]
            .iter()
            .map(|c| human(c, None))
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let percent: Vec<usize> = (0..headers.len())
        .filter(|i| t.styles.get(&headers[*i]) == Some(&Style::Percent))
        .collect();
    // The leading key columns: up to the first metric (roles travel as
    // field metadata from planning).
    let keys = t
        .schema
        .fields()
        .iter()
        .position(|f| crate::style::role_of(f) == Some(crate::style::Role::Metric))
        .unwrap_or(headers.len());
    if q.pivot.is_some() {
        if percent.is_empty() || keys == 0 || percent.len() > 40 {
            return None;
        }
        let labels: Vec<String> = rows.iter().map(|r| label(r, keys)).collect();
        let cols: Vec<String> = percent.iter().map(|i| headers[*i].clone()).collect();
        let values: Vec<Vec<Option<f64>>> = rows
            .iter()
            .map(|r| percent.iter().map(|i| num(&r[*i])).collect())
            .collect();
        return chart::heatmap(&labels, &cols, &values).ok();
    }
    let acc = headers.iter().position(|h| h == "acc")?;
    if q.by.len() != 1 || keys != 1 {
        return None;
    }
    let lo = headers.iter().position(|h| h == "ci_low");
    let hi = headers.iter().position(|h| h == "ci_high");
    let labels: Vec<String> = rows.iter().map(|r| label(r, 1)).collect();
    let values: Vec<Option<f64>> = rows.iter().map(|r| num(&r[acc])).collect();
    let intervals: Vec<Option<(f64, f64)>> = rows
        .iter()
        .map(|r| match (lo, hi) {
            (Some(l), Some(h)) => num(&r[l]).zip(num(&r[h])),
            _ => None,
        })
        .collect();
    chart::bars(&labels, &values, &intervals).ok()
}

/// XXH3 (64 bits) over the file's size and its first and last MiB: a
/// cheap fingerprint that does not read a 9 GB file.
pub fn fingerprint(path: &Path) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let size = f.metadata().ok()?.len();
    use std::hash::Hasher as _;
    let mut h = twox_hash::XxHash3_64::new();
    h.write(&size.to_le_bytes());
    let mut buf = vec![0u8; 1 << 20];
    let n = f.read(&mut buf).ok()?;
    h.write(&buf[..n]);
    if size > 2 << 20 {
        f.seek(SeekFrom::End(-(1 << 20))).ok()?;
        let n = f.read(&mut buf).ok()?;
        h.write(&buf[..n]);
    }
    Some(format!("{:016x}", h.finish()))
}

/// `YYYY-MM-DD HH:MM UTC` for seconds since the epoch.
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

fn file_view(role: &str, path: &str) -> FileView {
    let p = Path::new(path);
    let meta = std::fs::metadata(p).ok();
    let size = meta
        .as_ref()
        .map(|m| {
            let b = m.len() as f64;
            if b >= 1e9 {
                format!("{:.2} GB", b / 1e9)
            } else if b >= 1e6 {
                format!("{:.1} MB", b / 1e6)
            } else {
                format!("{:.1} kB", b / 1e3)
            }
        })
        .unwrap_or_default();
    let modified = meta
        .and_then(|m| m.modified().ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| utc(d.as_secs()))
        .unwrap_or_default();
    FileView {
        role: role.into(),
        path: path.into(),
        size,
        modified,
        fingerprint: fingerprint(p).unwrap_or_default(),
    }
}

fn header(session: &Session) -> Header {
    let i = &session.info();
    let mut files: Vec<FileView> = i
        .item_files
        .iter()
        .filter(|f| !f.starts_with('<'))
        .map(|f| file_view("items", f))
        .collect();
    files.extend(
        i.prediction_files
            .iter()
            .map(|f| file_view("predictions", f)),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Header {
        title: if i.demo {
            "medql report: built-in demo data".into()
        } else {
            format!("medql report: {}", i.datasets.join(", "))
        },
        version: env!("CARGO_PKG_VERSION").into(),
        date: utc(now),
        policy: session.policy().name().into(),
        items: i.items,
        datasets: i.datasets.join(", "),
        models: i.models.clone(),
        demo: i.demo,
        files,
        scoring: i.provenance.iter().map(provenance_line).collect(),
        warnings: i.warnings.clone(),
        notices: if i.demo || i.has_answers {
            vec![]
        } else {
            vec![no_answers_notice(session)]
        },
    }
}

/// A provenance row as a line of the report's header.
fn provenance_line(p: &crate::scoring::provenance::Row) -> String {
    let s = &p.source;
    let mut parts = vec![format!("{} on {}", p.model, s.dataset)];
    parts.push(match &s.judge {
        Some(j) => format!("judge {j}"),
        None => "no judge named".into(),
    });
    parts.push(match (p.rules_detected(), p.agreement()) {
        (Some(r), Some(a)) => format!("recorded verdicts follow {r} ({a:.2}%)"),
        _ => "no recorded verdicts".into(),
    });
    if let Some(e) = &s.eval_id {
        parts.push(format!("run {e}"));
    }
    if let Some(c) = &s.commit {
        parts.push(format!("VLMEvalKit commit {c}"));
    }
    if let Some(c) = &s.created_at {
        parts.push(format!("created {c}"));
    }
    parts.join(" · ")
}

/// The split name of the loaded items for labels: `TEST` or `VAL` when
/// every dataset is of that split, else `loaded items`.
pub fn split_label(session: &Session) -> String {
    let ds = &session.info().datasets;
    for split in ["TEST", "VAL"] {
        if !ds.is_empty() && ds.iter().all(|d| d.to_ascii_uppercase().ends_with(split)) {
            return split.to_string();
        }
    }
    "loaded items".into()
}

/// What a report says when no loaded item has an answer.
pub fn no_answers_notice(session: &Session) -> String {
    format!(
        "The loaded items ({}) have no answers: a {} split is scored by the benchmark's own server, so accuracies here are empty (counts, choices and extraction rules are still shown).",
        session.info().datasets.join(", "),
        split_label(session)
    )
}

/// Query text without its comment lines.
fn without_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The queries of "How these numbers were scored": every model's
/// provenance, then its accuracy under every rule set (and VLMEvalKit's
/// recorded verdicts, where loaded) side by side.
fn scoring_queries(session: &Session) -> String {
    let mut accs: Vec<String> = crate::scoring::rules::RULE_SETS
        .iter()
        .map(|r| format!("acc({})", r.name))
        .collect();
    if !session.info().recorded_models.is_empty() {
        accs.push(format!("acc({})", crate::scoring::Policy::RECORDED));
    }
    format!(
        "-- How these numbers were scored\n\
         -- Per model and dataset: the judge VLMEvalKit named, its run, the rule set its recorded verdicts follow (rules_detected) and on how many of them (agreement, percent), and how often its judge failed (prefetch_failed: exact matching decided; random_fallback: a letter drawn at random). Then each model's accuracy under every era of VLMEvalKit's rules, side by side.\n\
         from provenance show model, dataset, judge, eval_id, commit, created_at, rules_detected, agreement, prefetch_failed, random_fallback;\n\
         by model score {}, n\n",
        accs.join(", ")
    )
}

/// The overview of a report over several datasets.
fn overview_queries() -> String {
    "-- Every dataset\n\
     -- Each model's accuracy on each loaded dataset, with its Wilson 95% interval and its items; then the mean of its per-dataset accuracies (macro over datasets), best first.\n\
     by model, dataset score acc, ci, n;\n\
     by model score macro(dataset), acc, n sort macro_dataset desc\n"
        .to_string()
}

/// A session of one of `session`'s datasets: its items files and the
/// prediction files (and run records) its models' numbers on it come from,
/// runs named as they are here; the same policy and parameters.
async fn dataset_session(session: &Session, dataset: &str) -> Result<Session> {
    let info = session.info();
    let mut spec = info.spec.clone();
    spec.items = info
        .item_files
        .iter()
        .filter(|f| crate::data::items::dataset_name(Path::new(f)) == dataset)
        .cloned()
        .collect();
    spec.predictions = vec![];
    for p in info
        .provenance
        .iter()
        .filter(|p| p.source.dataset == dataset)
    {
        // A run named on the command line keeps its label.
        let label = p
            .model
            .rsplit_once('@')
            .map(|(_, l)| l)
            .filter(|l| p.source.eval_id.as_deref() != Some(*l));
        for f in p.source.files.iter().chain(&p.source.record) {
            let f = match label {
                Some(l) => format!("{l}={f}"),
                None => f.clone(),
            };
            if !spec.predictions.contains(&f) {
                spec.predictions.push(f);
            }
        }
    }
    let mut sub = Session::load_with(&spec, session.options()).await?;
    sub.set_policy(session.policy())?;
    sub.set_params(session.params().clone());
    Ok(sub)
}

/// The sections of a dataset without GMAI-MMBench's shape: its leaderboard,
/// then its accuracy by each root of its tree.
fn root_queries(session: &Session) -> Vec<(String, String)> {
    let mut out = vec![(
        "built in".to_string(),
        "-- Leaderboard\n-- Each model's accuracy with its Wilson 95% interval, best first.\nby model score acc, ci, n sort acc desc\n".to_string(),
    )];
    for g in &session.tree().generic {
        let mut roots: Vec<&String> = g.paths.iter().filter_map(|p| p.first()).collect();
        roots.dedup();
        for r in roots {
            out.push((
                "built in".to_string(),
                format!(
                    "-- Accuracy by {r}\n-- Each model's accuracy per {r}, a root of the dataset's tree ({}), with the overall.\nby model, {r} score acc pivot {r} with overall\n",
                    g.written()
                ),
            ));
        }
    }
    out
}

/// The report's first section: how its numbers were scored.
async fn scoring_section(session: &mut Session) -> Result<Section> {
    let text = scoring_queries(session);
    section(session, "scoring".into(), "built in".into(), &text).await
}

/// The section of one query file: a part per result, each with its
/// query, table, chart and notes.
async fn section(session: &mut Session, id: String, source: String, text: &str) -> Result<Section> {
    let stem = Path::new(&source)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let (title, description) = header_comments(text, &stem);
    let saved = session.policy();
    let results = session.run_each(text, &source, false).await;
    session.set_policy(saved)?;
    let mut tables: Vec<QueryResult> = vec![];
    for r in results {
        if let Some(Outcome::Table(t)) = r? {
            tables.push(t);
        }
    }
    if tables.is_empty() {
        return Err(Error::Usage(format!(
            "{source}: no statement gives a result to report"
        )));
    }
    // The query statements, in order, beside the results they gave.
    let statements: Vec<(Statement, String)> = crate::syntax::parse_source(text)
        .into_iter()
        .filter_map(|p| p.ok())
        .filter(|p| matches!(p.statement, Statement::Query(_)))
        .map(|p| {
            let query = without_comments(&text[p.span.start..p.span.end]);
            (p.statement, query)
        })
        .collect();
    let lone = tables.len() == 1;
    let mut parts = vec![];
    for (j, t) in tables.iter().enumerate() {
        let (statement, query) = match statements.get(j) {
            Some((st, q)) => (Some(st), q.clone()),
            None => (None, String::new()),
        };
        let table = table_view(t);
        let mut notes = vec![];
        if table.rows.iter().any(|r| r.class.contains("small")) {
            notes.push(format!(
                "⚑ marks slices with fewer than {SMALL_SLICE} items, where a percentage means little."
            ));
        }
        if table.headers.iter().any(|h| h == "p_holm") {
            notes.push(format!(
                "delta_low, delta_high: the paired difference's 95% interval; p_value: exact two-sided McNemar test on the items both models answered; p_holm: Holm's step-down correction over the {} comparisons of this table (p_bh: Benjamini-Hochberg's); ✱ marks p_holm < {ALPHA}.",
                table.rows.len()
            ));
        }
        if table.headers.iter().any(|h| h == "top_wrong_share") && table.rows.is_empty() {
            notes.push(format!(
                "No item is suspect. An item needs at least {} models that answered it before its key can be doubted.",
                crate::bind::columns::SUSPECT_MODELS
            ));
        }
        let chart = chart_for(statement, t);
        parts.push(Part {
            id: if lone {
                id.clone()
            } else {
                format!("{id}-{}", j + 1)
            },
            query: if lone { without_comments(text) } else { query },
            table,
            chart,
            chart_file: None,
            notes,
        });
    }
    Ok(Section {
        id,
        title,
        description,
        source,
        parts,
    })
}

/// Run the report's queries and write the document.
pub async fn write_report(session: &mut Session, opts: &ReportOptions) -> Result<ReportSummary> {
    let out = &opts.output;
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let html = match ext.as_str() {
        "html" | "htm" => true,
        "md" | "markdown" => false,
        _ => {
            return Err(Error::Usage(format!(
                "{}: a report is .html or .md",
                out.display()
            )))
        }
    };
    let mut sections = vec![scoring_section(session).await?];
    let datasets = session.info().datasets.clone();
    // Thumbnails (HTML only) share one size budget.
    let mut budget = THUMBNAILS_MAX_TOTAL;
    if datasets.len() > 1 {
        // An overview of every dataset, then each dataset's own sections.
        sections.push(
            section(
                session,
                "overview".into(),
                "built in".into(),
                &overview_queries(),
            )
            .await?,
        );
        for (i, d) in datasets.iter().enumerate() {
            let mut sub = dataset_session(session, d).await?;
            let texts = if sub.tree().gmai || !opts.inputs.is_empty() {
                inputs(&opts.inputs)?
            } else {
                root_queries(&sub)
            };
            for (k, (source, text)) in texts.into_iter().enumerate() {
                let id = format!("d{}s{}", i + 1, k + 1);
                let mut sec = section(&mut sub, id, source, &text).await?;
                sec.title = format!("{d}: {}", sec.title);
                if html {
                    add_thumbnails(session, &mut sec, Some(d), &mut budget);
                }
                sections.push(sec);
            }
        }
    } else {
        let only = datasets.first().cloned();
        for (k, (source, text)) in inputs(&opts.inputs)?.into_iter().enumerate() {
            let mut sec = section(session, format!("s{}", k + 1), source, &text).await?;
            if html {
                add_thumbnails(session, &mut sec, only.as_deref(), &mut budget);
            }
            sections.push(sec);
        }
    }
    if opts.leaderboard {
        sections.extend(leaderboard::sections(session, &opts.aliases).await?);
    }
    let head = header(session);
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", HTML_TEMPLATE)
        .map_err(|e| Error::engine("report template", e))?;
    env.add_template("report.md", MD_TEMPLATE)
        .map_err(|e| Error::engine("report template", e))?;
    let charts = sections
        .iter()
        .flat_map(|s| &s.parts)
        .filter(|p| p.chart.is_some())
        .count();
    let text = if html {
        env.get_template("report.html")
            .and_then(|t| t.render(minijinja::context! { head => head, sections => sections }))
            .map_err(|e| Error::engine("rendering the report", e))?
    } else {
        // Charts go beside the Markdown file, in `<stem>_files/`.
        let stem = out
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_else(|| "report".into());
        let dir_name = format!("{stem}_files");
        let dir = out.parent().unwrap_or(Path::new(".")).join(&dir_name);
        if charts > 0 {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display().to_string(), e))?;
        }
        for p in sections.iter_mut().flat_map(|s| s.parts.iter_mut()) {
            if let Some(svg) = p.chart.take() {
                let name = format!("{}.svg", p.id);
                let path = dir.join(&name);
                std::fs::write(&path, svg).map_err(|e| Error::io(path.display().to_string(), e))?;
                p.chart_file = Some(format!("{dir_name}/{name}"));
            }
        }
        let md_head = Header {
            title: md_escape(&head.title),
            models: head.models.iter().map(|m| md_escape(m)).collect(),
            warnings: head.warnings.iter().map(|m| md_escape(m)).collect(),
            scoring: head.scoring.iter().map(|m| md_escape(m)).collect(),
            notices: head.notices.iter().map(|m| md_escape(m)).collect(),
            files: head
                .files
                .iter()
                .map(|f| FileView {
                    path: md_escape(&f.path),
                    ..f.clone()
                })
                .collect(),
            ..head.clone()
        };
        let md_sections: Vec<Section> = sections
            .iter()
            .map(|s| Section {
                title: md_escape(&s.title),
                description: md_escape(&s.description),
                source: md_escape(&s.source),
                ..s.clone()
            })
            .collect();
        env.get_template("report.md")
            .and_then(|t| {
                t.render(minijinja::context! { head => md_head, sections => md_sections })
            })
            .map_err(|e| Error::engine("rendering the report", e))?
    };
    std::fs::write(out, &text).map_err(|e| Error::io(out.display().to_string(), e))?;
    Ok(ReportSummary {
        sections: sections.len(),
        charts,
        bytes: text.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_descriptions_from_comments() {
        let (t, d) = header_comments(
            "-- Title here\n-- first line\n-- second\nby model score acc",
            "x",
        );
        assert_eq!(t, "Title here");
        assert_eq!(d, "first line second");
        assert_eq!(header_comments("by model", "stem").0, "stem");
    }

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_795_000_000), "2026-11-18 11:06 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
    }

    #[test]
    fn markdown_escapes() {
        assert_eq!(md_escape("a|b<script>"), "a\\|b&lt;script&gt;");
    }
}
