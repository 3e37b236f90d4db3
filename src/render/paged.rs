//! Tables and Markdown for people, written while a result streams in. At
//! most `max_rows` rows are shown (0: all of them); the rows after those are
//! only counted, so the total is exact without holding them. Rows are
//! rendered in blocks of [`CHUNK_ROWS`]: a table of any length needs the
//! memory of one block. The first block sets the column widths; later blocks
//! are laid out with the same widths (longer cells wrap) and joined without
//! borders in between, so the blocks read as one table.

use super::{render, Format, RenderOptions};
use crate::error::{Error, Result};
use crate::style::Style;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::Schema;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Rows rendered at a time.
pub const CHUNK_ROWS: usize = 1000;

/// Rows shown against rows in the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown {
    pub shown: u64,
    pub total: u64,
}

impl Shown {
    /// True when some rows were left out.
    pub fn truncated(&self) -> bool {
        self.shown < self.total
    }
}

/// Writes a result as a table or Markdown, block by block.
pub struct TextWriter<W: Write> {
    out: W,
    schema: Arc<Schema>,
    styles: HashMap<String, Style>,
    format: Format,
    opts: RenderOptions,
    max_rows: usize,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    kept: u64,
    shown: u64,
    total: u64,
    /// The column widths (with padding) of the first table block.
    widths: Option<Vec<u16>>,
    blocks: usize,
    stop: Option<Arc<AtomicBool>>,
    stopped: bool,
}

fn write_err(e: std::io::Error) -> Error {
    Error::io("output", e)
}

impl<W: Write> TextWriter<W> {
    /// A writer of `format` (table or markdown); `max_rows` 0 shows every row.
    pub fn new(
        out: W,
        schema: Arc<Schema>,
        styles: HashMap<String, Style>,
        format: Format,
        opts: RenderOptions,
        max_rows: usize,
    ) -> Result<TextWriter<W>> {
        if !matches!(format, Format::Table | Format::Markdown) {
            return Err(Error::Usage(format!(
                "the {} format is not written in blocks",
                format.name()
            )));
        }
        Ok(TextWriter {
            out,
            schema,
            styles,
            format,
            opts,
            max_rows,
            pending: vec![],
            pending_rows: 0,
            kept: 0,
            shown: 0,
            total: 0,
            widths: None,
            blocks: 0,
            stop: None,
            stopped: false,
        })
    }

    /// Stop rendering as soon as `flag` is set (checked before each block).
    pub fn with_stop(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    fn should_stop(&mut self) -> bool {
        if self.stop.as_ref().is_some_and(|f| f.load(Ordering::SeqCst)) {
            self.stopped = true;
            self.pending.clear();
            self.pending_rows = 0;
        }
        self.stopped
    }

    /// Take a batch: its rows are kept for showing while there is room,
    /// counted in any case.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        self.total += n as u64;
        if self.stopped {
            return Ok(());
        }
        let room = if self.max_rows == 0 {
            n
        } else {
            (self.max_rows as u64)
                .saturating_sub(self.kept)
                .min(n as u64) as usize
        };
        let mut off = 0;
        while off < room {
            if self.pending_rows == CHUNK_ROWS {
                // More rows follow: this block is not the last.
                self.flush(false)?;
                if self.stopped {
                    return Ok(());
                }
            }
            let take = (CHUNK_ROWS - self.pending_rows).min(room - off);
            self.pending.push(batch.slice(off, take));
            self.pending_rows += take;
            self.kept += take as u64;
            off += take;
        }
        Ok(())
    }

    fn flush(&mut self, last: bool) -> Result<()> {
        if self.should_stop() {
            return Ok(());
        }
        let batches = std::mem::take(&mut self.pending);
        let rows = self.pending_rows as u64;
        self.pending_rows = 0;
        let text = match self.format {
            Format::Table => self.table_block(&batches, last)?,
            _ => {
                let s = render(
                    &batches,
                    &self.schema,
                    &self.styles,
                    Format::Markdown,
                    &self.opts,
                )?;
                if self.blocks == 0 {
                    s
                } else {
                    // Header and separator were written with the first block.
                    s.splitn(3, '\n').nth(2).unwrap_or_default().to_string()
                }
            }
        };
        self.out.write_all(text.as_bytes()).map_err(write_err)?;
        self.out.flush().map_err(write_err)?;
        self.blocks += 1;
        self.shown += rows;
        Ok(())
    }

    fn table_block(&mut self, batches: &[RecordBatch], last: bool) -> Result<String> {
        let text = match &self.widths {
            None => {
                let s = render(
                    batches,
                    &self.schema,
                    &self.styles,
                    Format::Table,
                    &self.opts,
                )?;
                if !last {
                    self.widths = Some(border_widths(s.lines().next().unwrap_or_default()));
                }
                s
            }
            Some(w) => {
                let s =
                    super::table_with_widths(batches, &self.schema, &self.styles, &self.opts, w);
                // The header was written with the first block.
                let mut lines = s.lines();
                let mut body = String::with_capacity(s.len());
                for l in lines.by_ref() {
                    if l.starts_with('╞') {
                        break;
                    }
                }
                for l in lines {
                    body.push_str(l);
                    body.push('\n');
                }
                body
            }
        };
        if last {
            return Ok(text);
        }
        // The bottom border closes the last block only.
        let trimmed = text.trim_end_matches('\n');
        Ok(match trimmed.rfind('\n') {
            Some(i) if trimmed[i + 1..].starts_with('└') => trimmed[..=i].to_string(),
            _ => text,
        })
    }

    /// End the output; hand back the writer and what was shown.
    pub fn finish(mut self) -> Result<(W, Shown)> {
        if !self.stopped && (self.pending_rows > 0 || self.blocks == 0) {
            self.flush(true)?;
        }
        let shown = Shown {
            shown: self.shown,
            total: self.total,
        };
        Ok((self.out, shown))
    }

    /// True once the stop flag ended the rendering.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    /// Rows counted so far.
    pub fn total(&self) -> u64 {
        self.total
    }
}

/// The widths of the columns (padding included) from a table's top border.
fn border_widths(top: &str) -> Vec<u16> {
    let inner: String = top.chars().skip(1).collect();
    let inner = inner.trim_end_matches('┐');
    inner
        .split('┬')
        .map(|seg| seg.chars().count() as u16)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field};

    fn batch(from: i64, n: i64) -> (Arc<Schema>, RecordBatch) {
        let schema = Arc::new(Schema::new(vec![
            Field::new("index", DataType::Int64, false),
            Field::new("model", DataType::Utf8, false),
        ]));
        let ids: Vec<i64> = (from..from + n).collect();
        let names: Vec<String> = ids
            .iter()
            .map(|i| {
                if i % 7 == 0 {
                    "m".repeat(30)
                } else {
                    format!("m{i}")
                }
            })
            .collect();
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(ids)),
                Arc::new(StringArray::from(names)),
            ],
        )
        .unwrap();
        (schema, b)
    }

    fn write_all(max_rows: usize, batches: &[(i64, i64)], format: Format) -> (String, Shown) {
        let schema = batch(0, 1).0;
        let mut w = TextWriter::new(
            Vec::new(),
            schema,
            HashMap::new(),
            format,
            RenderOptions::default(),
            max_rows,
        )
        .unwrap();
        for (from, n) in batches {
            w.write(&batch(*from, *n).1).unwrap();
        }
        let (out, shown) = w.finish().unwrap();
        (String::from_utf8(out).unwrap(), shown)
    }

    #[test]
    fn a_limit_keeps_the_first_rows_and_counts_all() {
        let (text, shown) = write_all(5, &[(0, 3), (3, 4000), (4003, 10)], Format::Table);
        assert_eq!(
            shown,
            Shown {
                shown: 5,
                total: 4013
            }
        );
        assert!(text.contains("┆ m4 "), "{text}");
        assert!(!text.contains("┆ m5 "), "{text}");
        assert_eq!(text.matches('┌').count(), 1);
        assert_eq!(text.matches('└').count(), 1);
    }

    #[test]
    fn a_small_result_is_the_plain_table() {
        let (schema, b) = batch(0, 12);
        let plain = render(
            std::slice::from_ref(&b),
            &schema,
            &HashMap::new(),
            Format::Table,
            &RenderOptions::default(),
        )
        .unwrap();
        let (text, shown) = write_all(0, &[(0, 12)], Format::Table);
        assert_eq!(text, plain);
        assert!(!shown.truncated());
    }

    #[test]
    fn all_rows_in_blocks_read_as_one_table() {
        let (text, shown) = write_all(0, &[(0, 2500), (2500, 1234)], Format::Table);
        assert_eq!(shown.shown, 3734);
        assert_eq!(shown.total, 3734);
        // One header, one top and one bottom border, every row once.
        assert_eq!(text.matches("│ index").count(), 1, "{}", &text[..400]);
        assert_eq!(text.matches('┌').count(), 1);
        assert_eq!(text.matches('└').count(), 1);
        assert_eq!(text.matches('╞').count(), 1);
        let rows = text.lines().filter(|l| l.starts_with("│ ")).count();
        assert_eq!(rows, 3734 + 1);
        // Every line has the width of the first.
        let width = text.lines().next().unwrap().chars().count();
        assert!(
            text.lines().all(|l| l.chars().count() == width),
            "ragged lines"
        );
    }

    #[test]
    fn markdown_blocks_share_one_header() {
        let (text, shown) = write_all(0, &[(0, 2100)], Format::Markdown);
        assert_eq!(shown.total, 2100);
        assert_eq!(text.matches("| index | model |").count(), 1);
        assert_eq!(text.lines().count(), 2102);
        let (text, _) = write_all(3, &[(0, 2100)], Format::Markdown);
        assert_eq!(text.lines().count(), 5);
    }

    #[test]
    fn a_stop_flag_ends_rendering_at_a_block() {
        let schema = batch(0, 1).0;
        let flag = Arc::new(AtomicBool::new(false));
        let mut w = TextWriter::new(
            Vec::new(),
            schema,
            HashMap::new(),
            Format::Table,
            RenderOptions::default(),
            0,
        )
        .unwrap()
        .with_stop(flag.clone());
        w.write(&batch(0, 1500).1).unwrap();
        flag.store(true, Ordering::SeqCst);
        w.write(&batch(1500, 5000).1).unwrap();
        assert!(w.stopped());
        let (out, shown) = w.finish().unwrap();
        assert_eq!(shown.shown, 1000);
        assert_eq!(shown.total, 6500);
        assert_eq!(
            String::from_utf8(out)
                .unwrap()
                .lines()
                .filter(|l| l.starts_with("│ "))
                .count(),
            1001
        );
    }

    #[test]
    fn border_widths_read_the_top_line() {
        assert_eq!(border_widths("┌───┬─────┐"), vec![3, 5]);
    }
}
