//! `medql gen`: deterministic synthetic data at scale, shaped like
//! GMAI-MMBench (the demo generator, at any size): an items TSV, optionally
//! with a base64 image column of a given average size, and one prediction
//! file per model in VLMEvalKit's layout.

use crate::data::demo::{generate, DemoData};
use crate::error::{Error, Result};
use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const DATASET: &str = "GMAI-MMBench_SYNTH";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Xlsx,
    Csv,
    Tsv,
    Jsonl,
    Parquet,
}

impl std::str::FromStr for FileFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<FileFormat, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "xlsx" => FileFormat::Xlsx,
            "csv" => FileFormat::Csv,
            "tsv" => FileFormat::Tsv,
            "jsonl" => FileFormat::Jsonl,
            "parquet" => FileFormat::Parquet,
            other => {
                return Err(format!(
                    "unknown file format `{other}`; formats: xlsx, csv, tsv, jsonl, parquet"
                ))
            }
        })
    }
}

impl FileFormat {
    fn ext(self) -> &'static str {
        match self {
            FileFormat::Xlsx => "xlsx",
            FileFormat::Csv => "csv",
            FileFormat::Tsv => "tsv",
            FileFormat::Jsonl => "jsonl",
            FileFormat::Parquet => "parquet",
        }
    }
}

pub struct GenOptions {
    pub n_models: usize,
    pub n_items: usize,
    pub out: PathBuf,
    pub format: FileFormat,
    /// Average bytes of base64 image per item; 0: no image column.
    pub image_bytes: usize,
    pub seed: u64,
}

/// What was written.
pub struct Generated {
    pub items_file: PathBuf,
    pub prediction_files: Vec<PathBuf>,
    pub bytes: u64,
}

const PRED_HEADERS: [&str; 11] = [
    "index",
    "question",
    "A",
    "B",
    "C",
    "D",
    "E",
    "answer",
    "category",
    "clinical VQA task",
    "prediction",
];

pub fn write(opts: &GenOptions) -> Result<Generated> {
    let d = generate(opts.n_items, opts.n_models, opts.seed);
    std::fs::create_dir_all(opts.out.join("predictions"))
        .map_err(|e| Error::io(opts.out.display().to_string(), e))?;
    let items_file = opts.out.join(format!("{DATASET}.tsv"));
    let mut bytes = write_items(&d, &items_file, opts.image_bytes, opts.seed)?;
    let mut prediction_files = vec![];
    for m in &d.models {
        let path = opts.out.join("predictions").join(format!(
            "{}_{DATASET}.{}",
            m.name,
            opts.format.ext()
        ));
        let rows: Vec<[String; 11]> = m
            .predictions
            .iter()
            .map(|(idx, p)| {
                let it = &d.items[*idx as usize];
                let opt = |l: usize| it.options.get(l).cloned().unwrap_or_default();
                [
                    idx.to_string(),
                    it.question.clone(),
                    opt(0),
                    opt(1),
                    opt(2),
                    opt(3),
                    opt(4),
                    it.answer.to_string(),
                    it.category.clone(),
                    it.task.clone(),
                    p.clone().unwrap_or_default(),
                ]
            })
            .collect();
        write_predictions(&path, opts.format, &rows)?;
        bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        prediction_files.push(path);
    }
    Ok(Generated {
        items_file,
        prediction_files,
        bytes,
    })
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path.display().to_string(), e)
}

fn write_items(d: &DemoData, path: &Path, image_bytes: usize, seed: u64) -> Result<u64> {
    let f = std::fs::File::create(path).map_err(io(path))?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .from_writer(std::io::BufWriter::with_capacity(1 << 20, f));
    let err = |e: csv::Error| Error::engine(format!("writing {}", path.display()), e);
    let mut header = vec!["index"];
    if image_bytes > 0 {
        header.push("image");
    }
    header.extend([
        "question",
        "A",
        "B",
        "C",
        "D",
        "E",
        "answer",
        "category",
        "clinical VQA task",
        "department",
        "perceptual granularity",
        "modality",
        "original task",
    ]);
    w.write_record(&header).map_err(err)?;
    // One block of base64 text, sliced per item: sizes vary around the mean.
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = seed | 1;
    let block: Vec<u8> = (0..image_bytes.saturating_mul(2).max(1))
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            B64[(state % 64) as usize]
        })
        .collect();
    for (i, it) in d.items.iter().enumerate() {
        let opt = |l: usize| it.options.get(l).map(String::as_str).unwrap_or("");
        let idx = it.index.to_string();
        let answer = it.answer.to_string();
        let mut rec: Vec<&[u8]> = vec![idx.as_bytes()];
        if image_bytes > 0 {
            let len = image_bytes / 2 + (i * 7919) % image_bytes.max(1);
            rec.push(&block[..len.min(block.len())]);
        }
        rec.extend([
            it.question.as_bytes(),
            opt(0).as_bytes(),
            opt(1).as_bytes(),
            opt(2).as_bytes(),
            opt(3).as_bytes(),
            opt(4).as_bytes(),
            answer.as_bytes(),
            it.category.as_bytes(),
            it.task.as_bytes(),
            it.department.as_deref().unwrap_or("").as_bytes(),
            it.granularity.as_bytes(),
            it.modality.as_bytes(),
            it.original_task.as_bytes(),
        ]);
        w.write_record(&rec).map_err(err)?;
    }
    w.flush().map_err(io(path))?;
    Ok(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
}

fn write_predictions(path: &Path, format: FileFormat, rows: &[[String; 11]]) -> Result<()> {
    match format {
        FileFormat::Csv | FileFormat::Tsv => {
            let mut w = csv::WriterBuilder::new()
                .delimiter(if format == FileFormat::Csv {
                    b','
                } else {
                    b'\t'
                })
                .from_path(path)
                .map_err(|e| Error::engine(format!("writing {}", path.display()), e))?;
            let err = |e: csv::Error| Error::engine(format!("writing {}", path.display()), e);
            w.write_record(PRED_HEADERS).map_err(err)?;
            for r in rows {
                w.write_record(r).map_err(err)?;
            }
            w.flush().map_err(io(path))?;
        }
        FileFormat::Jsonl => {
            let f = std::fs::File::create(path).map_err(io(path))?;
            let mut w = std::io::BufWriter::new(f);
            for r in rows {
                let mut obj = serde_json::Map::new();
                for (k, v) in PRED_HEADERS.iter().zip(r.iter()) {
                    let val = if *k == "index" {
                        serde_json::Value::from(v.parse::<i64>().unwrap_or(0))
                    } else if v.is_empty() {
                        serde_json::Value::Null
                    } else {
                        serde_json::Value::from(v.as_str())
                    };
                    obj.insert(k.to_string(), val);
                }
                writeln!(w, "{}", serde_json::Value::Object(obj)).map_err(io(path))?;
            }
            w.flush().map_err(io(path))?;
        }
        FileFormat::Parquet => {
            let mut fields = vec![Field::new("index", DataType::Int64, false)];
            fields.extend(
                PRED_HEADERS[1..]
                    .iter()
                    .map(|h| Field::new(*h, DataType::Utf8, true)),
            );
            let schema = Arc::new(Schema::new(fields));
            let mut cols: Vec<ArrayRef> = vec![Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r[0].parse::<i64>().unwrap_or(0)),
            ))];
            for c in 1..PRED_HEADERS.len() {
                cols.push(Arc::new(StringArray::from_iter(
                    rows.iter()
                        .map(|r| (!r[c].is_empty()).then_some(r[c].as_str())),
                )));
            }
            let batch = RecordBatch::try_new(schema.clone(), cols)
                .map_err(|e| Error::engine(format!("writing {}", path.display()), e))?;
            crate::render::write_parquet(&path.display().to_string(), &[batch], schema, &[])?;
        }
        #[cfg(not(feature = "cli"))]
        FileFormat::Xlsx => {
            return Err(Error::Usage(
                "writing xlsx needs medql built with its `cli` feature".into(),
            ))
        }
        #[cfg(feature = "cli")]
        FileFormat::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            let err = |e: rust_xlsxwriter::XlsxError| {
                Error::engine(format!("writing {}", path.display()), e)
            };
            for (c, h) in PRED_HEADERS.iter().enumerate() {
                ws.write_string(0, c as u16, *h).map_err(err)?;
            }
            for (r, row) in rows.iter().enumerate() {
                let r = r as u32 + 1;
                ws.write_number(r, 0, row[0].parse::<f64>().unwrap_or(0.0))
                    .map_err(err)?;
                for (c, v) in row.iter().enumerate().skip(1) {
                    if !v.is_empty() {
                        ws.write_string(r, c as u16, v).map_err(err)?;
                    }
                }
            }
            wb.save(path).map_err(err)?;
        }
    }
    Ok(())
}
