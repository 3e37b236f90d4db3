//! `.item [DATASET/]INDEX`: one item as a reader sees it: the question, the
//! options with the key marked, every model's choice (under the session's
//! policy) and raw prediction, then the item's pictures, inline on a
//! terminal that speaks the kitty or iTerm2 image protocol, else written to
//! temporary files whose paths are printed. Everything from the data is
//! shown with control characters escaped.

use super::Repl;
use crate::data::images::{Image, ImageFormat};
use crate::render::{neutralize, Cell};
use crate::Outcome;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// The longest prediction shown whole; a longer one is cut with its length.
const PREDICTION_SHOWN: usize = 400;

/// How pictures reach the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// kitty's graphics protocol (PNG only).
    Kitty,
    /// iTerm2's inline images (also WezTerm's).
    Iterm,
    /// A temporary file, its path printed.
    File,
}

impl Protocol {
    /// What the terminal on standard output understands, from the
    /// environment: kitty (`TERM` naming it, or `KITTY_WINDOW_ID`), iTerm2
    /// or WezTerm (`TERM_PROGRAM`); anything else, or output that is not a
    /// terminal, gets files.
    pub fn detect() -> Protocol {
        use std::io::IsTerminal;
        if !std::io::stdout().is_terminal() {
            return Protocol::File;
        }
        let var = |k: &str| std::env::var(k).unwrap_or_default();
        Protocol::from_env(
            &var("TERM"),
            std::env::var_os("KITTY_WINDOW_ID").is_some(),
            &var("TERM_PROGRAM"),
        )
    }

    pub fn from_env(term: &str, kitty_window: bool, term_program: &str) -> Protocol {
        if term.contains("kitty") || kitty_window {
            Protocol::Kitty
        } else if term_program == "iTerm.app" || term_program == "WezTerm" {
            Protocol::Iterm
        } else {
            Protocol::File
        }
    }
}

/// The kitty graphics protocol's escape sequences for a PNG: transmitted
/// and shown at the cursor, in chunks of 4096 base64 characters.
pub fn kitty_sequence(image: &Image) -> String {
    let b64 = image.base64();
    let chunks: Vec<&[u8]> = b64.as_bytes().chunks(4096).collect();
    let mut out = String::with_capacity(b64.len() + chunks.len() * 16);
    for (i, c) in chunks.iter().enumerate() {
        let more = u8::from(i + 1 < chunks.len());
        let chunk = String::from_utf8_lossy(c);
        if i == 0 {
            out.push_str(&format!("\x1b_Ga=T,f=100,m={more};{chunk}\x1b\\"));
        } else {
            out.push_str(&format!("\x1b_Gm={more};{chunk}\x1b\\"));
        }
    }
    out
}

/// iTerm2's inline image escape sequence.
pub fn iterm_sequence(image: &Image) -> String {
    format!(
        "\x1b]1337;File=inline=1;size={};preserveAspectRatio=1:{}\x07",
        image.bytes.len(),
        image.base64()
    )
}

/// The temporary file an item's `k`th picture is written to:
/// `medql-item-<dataset>-<index>-<k>.<png|jpg>` in the temporary
/// directory, the dataset's name kept to letters, digits, `-`, `_`, `.`.
pub fn image_path(dataset: &str, index: i64, k: usize, format: ImageFormat) -> PathBuf {
    let safe: String = dataset
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    std::env::temp_dir().join(format!(
        "medql-item-{safe}-{index}-{k}.{}",
        format.extension()
    ))
}

/// Write a picture to its temporary file: whatever was at that name (a
/// file of an earlier `.item`, or a link) is removed first, and the file
/// is made anew, never followed through a link.
fn write_image(path: &std::path::Path, image: &Image) -> std::io::Result<()> {
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(&image.bytes)?;
    f.flush()
}

/// A string literal of the query language.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Text from the data, safe to print, its lines kept (each escaped).
fn lines(s: &str, indent: &str) -> String {
    s.lines()
        .map(neutralize)
        .collect::<Vec<_>>()
        .join(&format!("\n{indent}"))
}

impl Repl<'_> {
    /// Run a query of this command's own and give its rows by column name.
    async fn item_rows(&mut self, q: &str) -> crate::Result<Vec<BTreeMap<String, Cell>>> {
        let mut out = vec![];
        for o in self.session.run(q, "<item>").await? {
            if let Outcome::Table(t) = o {
                let names: Vec<String> =
                    t.schema.fields().iter().map(|f| f.name().clone()).collect();
                for row in t.rows() {
                    out.push(names.iter().cloned().zip(row).collect());
                }
            }
        }
        Ok(out)
    }

    /// `.item [DATASET/]INDEX`.
    pub(super) async fn item(&mut self, rest: &str) {
        let usage = "usage: .item INDEX  |  .item DATASET/INDEX";
        let rest = rest.trim();
        let (named, idx) = match rest.rsplit_once('/') {
            Some((d, i)) => (Some(d.trim()), i.trim()),
            None => (None, rest),
        };
        let Some(index) = crate::data::items::parse_index(idx) else {
            eprintln!("{usage}");
            return;
        };
        let datasets = self.session.info().datasets.clone();
        let dataset = match named {
            Some(d) => match datasets.iter().find(|x| x.eq_ignore_ascii_case(d)) {
                Some(x) => Some(x.clone()),
                None => {
                    eprintln!(
                        "no dataset `{}` is loaded; datasets: {}",
                        neutralize(d),
                        datasets.join(", ")
                    );
                    return;
                }
            },
            None => None,
        };
        let mut cond = format!("index = {index}");
        if let Some(d) = &dataset {
            cond.push_str(&format!(" and dataset = {}", quote(d)));
        }
        let rows = match self
            .item_rows(&format!("from items where {cond} show *"))
            .await
        {
            Ok(r) => r,
            Err(e) => {
                self.print_error(&e);
                return;
            }
        };
        let item = match &rows[..] {
            [] => {
                self.no_such_item(dataset.as_deref(), index).await;
                return;
            }
            [one] => one.clone(),
            several => {
                let names: Vec<String> = several
                    .iter()
                    .filter_map(|r| match r.get("dataset") {
                        Some(Cell::Text(d)) => Some(d.clone()),
                        _ => None,
                    })
                    .collect();
                eprintln!(
                    "item {index} is in {} datasets: {}; say which: .item {}/{index}",
                    names.len(),
                    names.join(", "),
                    names.first().map(String::as_str).unwrap_or("DATASET")
                );
                return;
            }
        };
        let text = |k: &str| match item.get(k) {
            Some(Cell::Text(s)) if !s.is_empty() => Some(s.clone()),
            Some(Cell::Int(i)) => Some(i.to_string()),
            _ => None,
        };
        let dataset = text("dataset").unwrap_or_default();
        let answer = text("answer");
        let mut out = String::new();
        out.push_str(&format!("{}/{index}\n", neutralize(&dataset)));
        if let Some(h) = text("hint") {
            out.push_str(&format!("hint: {}\n", lines(&h, "      ")));
        }
        out.push_str(&format!(
            "{}\n",
            lines(text("question").as_deref().unwrap_or(""), "")
        ));
        let letters: Vec<&String> = item
            .keys()
            .filter(|k| crate::data::items::is_option(k))
            .collect();
        for l in letters {
            let Some(o) = text(l) else { continue };
            let key = answer.as_deref() == Some(l.as_str());
            out.push_str(&format!(
                "{} {l}. {}{}\n",
                if key { "*" } else { " " },
                lines(&o, "     "),
                if key { "   (answer)" } else { "" }
            ));
        }
        if answer.is_none() {
            out.push_str("  (no answer key)\n");
        }
        print!("{out}");
        self.item_models(&dataset, index).await;
        self.item_images(&dataset, index);
    }

    /// Every model's choice and raw prediction on one item.
    async fn item_models(&mut self, dataset: &str, index: i64) {
        let q = format!(
            "where dataset = {} and index = {index} show model, choice, correct, prediction",
            quote(dataset)
        );
        let rows = match self.item_rows(&q).await {
            Ok(r) => r,
            Err(e) => {
                self.print_error(&e);
                return;
            }
        };
        if rows.is_empty() {
            println!("(no models loaded)");
            return;
        }
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        crate::render::fit_to_terminal(&mut t);
        t.set_header(["model", "choice", "correct", "prediction"]);
        let show = |c: Option<&Cell>| match c {
            Some(Cell::Text(s)) => neutralize(s),
            Some(Cell::Bool(b)) => if *b { "yes" } else { "no" }.to_string(),
            Some(Cell::Int(i)) => i.to_string(),
            _ => String::new(),
        };
        for r in &rows {
            let mut p = show(r.get("prediction"));
            if p.chars().count() > PREDICTION_SHOWN {
                let n = p.chars().count();
                p = p.chars().take(PREDICTION_SHOWN).collect::<String>()
                    + &format!("… ({n} characters)");
            }
            if matches!(r.get("prediction"), None | Some(Cell::Null)) {
                p = "(no prediction)".into();
            }
            t.add_row([
                show(r.get("model")),
                show(r.get("choice")),
                show(r.get("correct")),
                p,
            ]);
        }
        println!("{t}");
        println!(
            "{}",
            self.dim(&format!("choices under policy {}", self.session.policy()))
        );
    }

    /// The item's pictures, shown or written out.
    fn item_images(&self, dataset: &str, index: i64) {
        let images = match self.session.item_images(dataset, index) {
            Ok(i) => i,
            Err(e) => {
                self.print_error(&e);
                return;
            }
        };
        if images.is_empty() {
            println!(
                "{}",
                if self.session.has_item_images() {
                    "no image: the items file holds no PNG or JPEG picture for this item"
                } else {
                    "no image: no items file has an image column"
                }
            );
            return;
        }
        let protocol = Protocol::detect();
        let n = images.len();
        for (k, image) in images.iter().enumerate() {
            let what = format!(
                "image {} of {n} ({}, {} bytes)",
                k + 1,
                image.format.extension().to_uppercase(),
                image.bytes.len()
            );
            let inline = match (protocol, image.format) {
                (Protocol::Kitty, ImageFormat::Png) => Some(kitty_sequence(image)),
                (Protocol::Iterm, _) => Some(iterm_sequence(image)),
                _ => None,
            };
            match inline {
                Some(seq) => {
                    println!("{what}:");
                    let mut so = std::io::stdout().lock();
                    let _ = so.write_all(seq.as_bytes());
                    let _ = so.write_all(b"\n");
                    let _ = so.flush();
                }
                None => {
                    let path = image_path(dataset, index, k + 1, image.format);
                    match write_image(&path, image) {
                        Ok(()) => println!("{what}: {}", path.display()),
                        Err(e) => eprintln!("error: {}: {e}", path.display()),
                    }
                }
            }
        }
    }

    /// An index no loaded item has: the range of the indexes and the
    /// nearest ones.
    async fn no_such_item(&mut self, dataset: Option<&str>, index: i64) {
        let q = match dataset {
            Some(d) => format!(
                "from items where dataset = {} show dataset, index",
                quote(d)
            ),
            None => "from items show dataset, index".to_string(),
        };
        let rows = self.item_rows(&q).await.unwrap_or_default();
        let mut all: Vec<i64> = rows
            .iter()
            .filter_map(|r| match r.get("index") {
                Some(Cell::Int(i)) => Some(*i),
                _ => None,
            })
            .collect();
        let place = match dataset {
            Some(d) => neutralize(d),
            None => "any loaded dataset".into(),
        };
        if all.is_empty() {
            eprintln!("no item {index} in {place}: no items are loaded");
            return;
        }
        all.sort_unstable();
        all.dedup();
        let (lo, hi) = (all[0], all[all.len() - 1]);
        let mut near = all.clone();
        near.sort_by_key(|i| (i.abs_diff(index), *i));
        near.truncate(3);
        near.sort_unstable();
        let near: Vec<String> = near.iter().map(i64::to_string).collect();
        eprintln!(
            "no item {index} in {place} (indexes {lo}..{hi}, {} items); nearest: {}",
            all.len(),
            near.join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_from_the_environment() {
        assert_eq!(
            Protocol::from_env("xterm-kitty", false, ""),
            Protocol::Kitty
        );
        assert_eq!(Protocol::from_env("xterm", true, ""), Protocol::Kitty);
        assert_eq!(
            Protocol::from_env("xterm-256color", false, "iTerm.app"),
            Protocol::Iterm
        );
        assert_eq!(
            Protocol::from_env("xterm", false, "WezTerm"),
            Protocol::Iterm
        );
        assert_eq!(
            Protocol::from_env("xterm", false, "Apple_Terminal"),
            Protocol::File
        );
        assert_eq!(Protocol::from_env("dumb", false, ""), Protocol::File);
    }

    #[test]
    fn escape_sequences() {
        let image = Image {
            format: ImageFormat::Png,
            bytes: vec![7u8; 5000],
        };
        let k = kitty_sequence(&image);
        // 5000 bytes are 6668 base64 characters: two chunks.
        assert!(k.starts_with("\x1b_Ga=T,f=100,m=1;"));
        assert!(k.contains("\x1b\\\x1b_Gm=0;"));
        assert!(k.ends_with("\x1b\\"));
        assert_eq!(k.matches("\x1b_G").count(), 2);
        let i = iterm_sequence(&image);
        assert!(i.starts_with("\x1b]1337;File=inline=1;size=5000;"));
        assert!(i.ends_with('\x07'));
    }

    #[test]
    fn temporary_names_keep_to_safe_characters() {
        let p = image_path("a/b c", 7, 2, ImageFormat::Jpeg);
        let name = p.file_name().unwrap().to_str().unwrap();
        assert_eq!(name, "medql-item-a_b_c-7-2.jpg");
    }
}
