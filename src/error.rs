//! Errors of the library. Data errors name the file, row and column; query
//! errors carry the span of the offending text and render it underlined.

use crate::text::Span;
use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Data(DataError),
    #[error("{0}")]
    Query(Box<QueryError>),
    #[error("{0}")]
    Usage(String),
    #[error("{context}: {message}")]
    Engine { context: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn data(file: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Data(DataError {
            file: file.into(),
            row: None,
            column: None,
            message: message.into(),
        })
    }
    pub fn data_at(
        file: impl Into<String>,
        row: Option<u64>,
        column: Option<&str>,
        message: impl Into<String>,
    ) -> Error {
        Error::Data(DataError {
            file: file.into(),
            row,
            column: column.map(str::to_string),
            message: message.into(),
        })
    }
    pub fn io(path: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
    /// A DataFusion or Arrow failure, with what medql was doing at the time.
    pub fn engine(context: impl Into<String>, err: impl fmt::Display) -> Error {
        Error::Engine {
            context: context.into(),
            message: err.to_string(),
        }
    }
    pub fn query(err: QueryError) -> Error {
        Error::Query(Box::new(err))
    }
}

impl From<QueryError> for Error {
    fn from(e: QueryError) -> Error {
        Error::query(e)
    }
}

/// A problem with an input file.
#[derive(Debug, Clone, PartialEq)]
pub struct DataError {
    pub file: String,
    /// As a person finds it: the spreadsheet row (header = 1), the line of a
    /// text file, or the 1-based record of JSON and Parquet.
    pub row: Option<u64>,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(row) = self.row {
            write!(f, ", {} {row}", row_unit(&self.file))?;
        }
        if let Some(col) = &self.column {
            write!(f, ", column `{col}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// How a person finds a row of a file: the line of a text file (TSV, CSV,
/// JSONL), the record of JSON and Parquet, the row of a spreadsheet.
pub fn row_unit(file: &str) -> &'static str {
    let ext = std::path::Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "tsv" | "csv" | "jsonl" | "ndjson" | "txt" | "mql" => "line",
        "json" | "parquet" => "record",
        _ => "row",
    }
}

/// A syntax or name error in a query, pointing at its text.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    pub message: String,
    pub span: Span,
    /// A hint: what was expected, what exists, the nearest names.
    pub help: Option<String>,
    /// Where the text came from: `query`, a file path, `<repl>`.
    pub origin: String,
    /// The whole source text the span points into.
    pub source: String,
}

impl QueryError {
    pub fn new(message: impl Into<String>, span: Span) -> QueryError {
        QueryError {
            message: message.into(),
            span,
            help: None,
            origin: String::new(),
            source: String::new(),
        }
    }
    pub fn with_help(mut self, help: impl Into<String>) -> QueryError {
        self.help = Some(help.into());
        self
    }
    pub fn in_source(mut self, origin: &str, source: &str) -> QueryError {
        self.origin = origin.to_string();
        self.source = source.to_string();
        self
    }
    /// 1-based line and column (in characters) of the span's start.
    pub fn line_col(&self) -> (usize, usize) {
        line_col(&self.source, self.span.start)
    }
    /// `file:line:col: message`, the form of `medql check`.
    pub fn short(&self) -> String {
        let (l, c) = self.line_col();
        let mut s = format!("{}:{l}:{c}: {}", self.origin, self.message);
        if let Some(h) = &self.help {
            s.push_str(" (");
            s.push_str(h);
            s.push(')');
        }
        s
    }
}

pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, col) = self.line_col();
        writeln!(f, "error: {}", self.message)?;
        let origin = if self.origin.is_empty() {
            "query"
        } else {
            &self.origin
        };
        writeln!(f, "  --> {origin}:{line}:{col}")?;
        if let Some(text) = self.source.lines().nth(line - 1) {
            let gutter = line.to_string();
            let pad = " ".repeat(gutter.len());
            let shown = crate::text::neutralize(text);
            writeln!(f, "{pad} |")?;
            writeln!(f, "{gutter} | {shown}")?;
            // Underline the span on this line (at least one caret).
            let start = floor_char_boundary(&self.source, self.span.start.min(self.source.len()));
            let end = floor_char_boundary(&self.source, self.span.end.min(self.source.len()));
            let line_end = self.source[start..]
                .find('\n')
                .map(|i| start + i)
                .unwrap_or(self.source.len());
            let width = self.source[start..end.clamp(start, line_end)]
                .chars()
                .count()
                .max(1);
            write!(f, "{pad} | {}{}", " ".repeat(col - 1), "^".repeat(width))?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

/// A DataFusion failure; running out of the memory pool is said plainly.
pub fn engine_error(context: &str, e: datafusion::error::DataFusionError) -> Error {
    match e.find_root() {
        datafusion::error::DataFusionError::ResourcesExhausted(m) => {
            let detail = m
                .lines()
                .find_map(|l| l.trim().strip_prefix("Error: "))
                .unwrap_or_else(|| m.lines().next().unwrap_or_default());
            Error::Engine {
                context: context.to_string(),
                message: format!(
                    "the query needs more memory than --memory-limit allows ({}); raise the limit, or narrow the query with where or limit",
                    detail.trim()
                ),
            }
        }
        _ => Error::engine(context, e),
    }
}
