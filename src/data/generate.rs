//! `medql gen`: deterministic synthetic data at scale, shaped like
//! GMAI-MMBench (the demo generator, at any size), MMBench or MedXpertQA-MM
//! (`--shape`): an items TSV, optionally with a base64 image column (random
//! base64 text of a given average size, or real PNG pictures with
//! `--images png`), and one prediction file per model in VLMEvalKit's
//! layout.

use crate::data::demo::{generate, DemoData};
use crate::data::shapes::{self, ShapeData};
use crate::error::{Error, Result};
use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const DATASET: &str = "GMAI-MMBench_SYNTH";

/// Which benchmark the synthetic data is shaped like.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Shape {
    /// GMAI-MMBench: the demo generator's items (dataset `GMAI-MMBench_SYNTH`).
    #[default]
    Gmai,
    /// MMBench: `category` nested in `l2-category`, a `hint`, 2 to 4
    /// options, the `dev` split (dataset `MMBench_SYNTH`).
    Mmbench,
    /// MedXpertQA-MM: five options, `medical_task`, `body_system` and
    /// `question_type` (dataset `MedXpertQA_SYNTH`).
    Medxpertqa,
}

impl std::str::FromStr for Shape {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Shape, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "gmai" => Shape::Gmai,
            "mmbench" => Shape::Mmbench,
            "medxpertqa" => Shape::Medxpertqa,
            other => {
                return Err(format!(
                    "unknown shape `{other}`; shapes: gmai, mmbench, medxpertqa"
                ))
            }
        })
    }
}

impl Shape {
    /// The dataset name: the items file's stem, and the end of every
    /// prediction file's (`{model}_{dataset}`).
    pub fn dataset(self) -> &'static str {
        match self {
            Shape::Gmai => DATASET,
            Shape::Mmbench => "MMBench_SYNTH",
            Shape::Medxpertqa => "MedXpertQA_SYNTH",
        }
    }
}

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

/// What the image column holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ImageKind {
    /// Random base64 text of about `image_bytes` a cell (no picture: the
    /// column is there for its size); no column when `image_bytes` is 0.
    #[default]
    Text,
    /// A real PNG picture per item (about `image_bytes` of base64 when
    /// given), with VLMEvalKit's short references (every 17th item shows
    /// the item before's picture) and list cells (items 5, 22, 39, ...
    /// hold two pictures).
    Png,
}

impl std::str::FromStr for ImageKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<ImageKind, String> {
        match s.to_ascii_lowercase().as_str() {
            "text" => Ok(ImageKind::Text),
            "png" => Ok(ImageKind::Png),
            other => Err(format!("unknown image kind `{other}`; kinds: text, png")),
        }
    }
}

pub struct GenOptions {
    pub n_models: usize,
    pub n_items: usize,
    pub out: PathBuf,
    pub format: FileFormat,
    /// Average bytes of base64 image per item; 0: no image column (with
    /// [`ImageKind::Text`]).
    pub image_bytes: usize,
    /// What the image column holds.
    pub images: ImageKind,
    pub seed: u64,
    /// Which benchmark the data imitates (and so its dataset name).
    pub shape: Shape,
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
    std::fs::create_dir_all(opts.out.join("predictions"))
        .map_err(|e| Error::io(opts.out.display().to_string(), e))?;
    match opts.shape {
        Shape::Gmai => write_gmai(opts),
        Shape::Mmbench => write_shape(
            opts,
            shapes::mmbench(opts.n_items, opts.n_models, opts.seed),
        ),
        Shape::Medxpertqa => write_shape(
            opts,
            shapes::medxpertqa(opts.n_items, opts.n_models, opts.seed),
        ),
    }
}

/// The GMAI-MMBench shape: the demo generator's items and models.
fn write_gmai(opts: &GenOptions) -> Result<Generated> {
    let d = generate(opts.n_items, opts.n_models, opts.seed);
    let items_file = opts.out.join(format!("{DATASET}.tsv"));
    let mut bytes = write_items(&d, &items_file, &ImageColumn::new(opts))?;
    let mut prediction_files = vec![];
    for m in &d.models {
        let path = opts.out.join("predictions").join(format!(
            "{}_{DATASET}.{}",
            m.name,
            opts.format.ext()
        ));
        let rows: Vec<Vec<String>> = m
            .predictions
            .iter()
            .map(|(idx, p)| {
                let it = &d.items[*idx as usize];
                let opt = |l: usize| it.options.get(l).cloned().unwrap_or_default();
                vec![
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
        write_predictions(&path, opts.format, &PRED_HEADERS, &rows)?;
        bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        prediction_files.push(path);
    }
    Ok(Generated {
        items_file,
        prediction_files,
        bytes,
    })
}

/// Any other shape: its items TSV (with the image column, if any, last)
/// and per model every item column but the image, then `prediction`, for
/// the items the model answered.
fn write_shape(opts: &GenOptions, d: ShapeData) -> Result<Generated> {
    let dataset = opts.shape.dataset();
    let items_file = opts.out.join(format!("{dataset}.tsv"));
    let mut bytes = write_shape_items(&d, &items_file, &ImageColumn::new(opts))?;
    let mut headers = d.headers.to_vec();
    headers.push("prediction");
    let mut prediction_files = vec![];
    for m in &d.models {
        let path = opts.out.join("predictions").join(format!(
            "{}_{dataset}.{}",
            m.name,
            opts.format.ext()
        ));
        let rows: Vec<Vec<String>> = m
            .predictions
            .iter()
            .map(|(idx, p)| {
                let mut row = d.rows[*idx as usize].clone();
                row.push(p.clone().unwrap_or_default());
                row
            })
            .collect();
        write_predictions(&path, opts.format, &headers, &rows)?;
        bytes += std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        prediction_files.push(path);
    }
    Ok(Generated {
        items_file,
        prediction_files,
        bytes,
    })
}

fn write_shape_items(d: &ShapeData, path: &Path, images: &ImageColumn) -> Result<u64> {
    let f = std::fs::File::create(path).map_err(io(path))?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .from_writer(std::io::BufWriter::with_capacity(1 << 20, f));
    let err = |e: csv::Error| Error::engine(format!("writing {}", path.display()), e);
    let mut header = d.headers.to_vec();
    if images.present() {
        header.push("image");
    }
    w.write_record(&header).map_err(err)?;
    // Items' indexes, for references: the first column of a shape's rows.
    let index_of = |i: usize| d.rows[i].first().cloned().unwrap_or_default();
    for (i, row) in d.rows.iter().enumerate() {
        let mut rec: Vec<&[u8]> = row.iter().map(|c| c.as_bytes()).collect();
        let cell = images.cell(i, &index_of);
        if images.present() {
            rec.push(&cell);
        }
        w.write_record(&rec).map_err(err)?;
    }
    w.flush().map_err(io(path))?;
    Ok(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0))
}

/// One block of base64 text for the image column, sliced per item by
/// [`image`] (sizes vary around the mean `image_bytes`).
fn image_block(image_bytes: usize, seed: u64) -> Vec<u8> {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = seed | 1;
    (0..image_bytes.saturating_mul(2).max(1))
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            B64[(state % 64) as usize]
        })
        .collect()
}

/// Item `i`'s image: a slice of `block`.
fn image(block: &[u8], i: usize, image_bytes: usize) -> &[u8] {
    let len = image_bytes / 2 + (i * 7919) % image_bytes.max(1);
    &block[..len.min(block.len())]
}

/// How the image column's cells are made.
struct ImageColumn {
    kind: ImageKind,
    image_bytes: usize,
    seed: u64,
    /// The random text cells are sliced from.
    block: Vec<u8>,
}

impl ImageColumn {
    fn new(opts: &GenOptions) -> ImageColumn {
        ImageColumn {
            kind: opts.images,
            image_bytes: opts.image_bytes,
            seed: opts.seed,
            block: match opts.images {
                ImageKind::Text => image_block(opts.image_bytes, opts.seed),
                ImageKind::Png => vec![],
            },
        }
    }

    /// Whether the items file has an image column.
    fn present(&self) -> bool {
        self.kind == ImageKind::Png || self.image_bytes > 0
    }

    /// Row `i`'s cell; `index_of` gives a row's item index (for a
    /// reference).
    fn cell(&self, i: usize, index_of: &dyn Fn(usize) -> String) -> Vec<u8> {
        match self.kind {
            ImageKind::Text if self.image_bytes > 0 => {
                image(&self.block, i, self.image_bytes).to_vec()
            }
            ImageKind::Text => vec![],
            // VLMEvalKit's short reference: the previous item's index.
            ImageKind::Png if i % 17 == 16 => index_of(i - 1).into_bytes(),
            ImageKind::Png if i % 17 == 5 => {
                format!("['{}', '{}']", self.png_base64(i, 0), self.png_base64(i, 1)).into_bytes()
            }
            ImageKind::Png => self.png_base64(i, 0).into_bytes(),
        }
    }

    /// Row `i`'s `k`th picture as base64.
    fn png_base64(&self, i: usize, k: usize) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(synthetic_png(
            i,
            k,
            self.image_bytes,
            self.seed,
        ))
    }
}

/// A small picture for row `i` (`k`th of its cell): a colour of its own
/// with a gradient and a diagonal band, about `image_bytes` of base64 when
/// that is given (16 x 16 pixels when 0).
pub fn synthetic_png(i: usize, k: usize, image_bytes: usize, seed: u64) -> Vec<u8> {
    // Base64 is 4/3 of the bytes; a pixel is 3 bytes.
    let side = if image_bytes == 0 {
        16
    } else {
        (((image_bytes * 3 / 4) / 3) as f64)
            .sqrt()
            .clamp(4.0, 2048.0) as u32
    };
    let mut h = (i as u64 * 2 + k as u64 + 1)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(seed);
    h ^= h >> 31;
    let base = [
        (h & 0xFF) as u8,
        ((h >> 8) & 0xFF) as u8,
        ((h >> 16) & 0xFF) as u8,
    ];
    let n = side as usize;
    let mut rgb = Vec::with_capacity(n * n * 3);
    for y in 0..n {
        for x in 0..n {
            let band = (x + y + i) % 8 < 2;
            for (c, b) in base.iter().enumerate() {
                let grad = ((x * 3 + y * (c + 1)) * 255 / (n * 4).max(1)) as u8;
                rgb.push(if band { 255 - b } else { b.wrapping_add(grad) });
            }
        }
    }
    crate::data::images::encode_png(side, side, &rgb)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path.display().to_string(), e)
}

fn write_items(d: &DemoData, path: &Path, images: &ImageColumn) -> Result<u64> {
    let f = std::fs::File::create(path).map_err(io(path))?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(b'\t')
        .from_writer(std::io::BufWriter::with_capacity(1 << 20, f));
    let err = |e: csv::Error| Error::engine(format!("writing {}", path.display()), e);
    let mut header = vec!["index"];
    if images.present() {
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
    let index_of = |i: usize| d.items[i].index.to_string();
    for (i, it) in d.items.iter().enumerate() {
        let opt = |l: usize| it.options.get(l).map(String::as_str).unwrap_or("");
        let idx = it.index.to_string();
        let answer = it.answer.to_string();
        let mut rec: Vec<&[u8]> = vec![idx.as_bytes()];
        let cell = images.cell(i, &index_of);
        if images.present() {
            rec.push(&cell);
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

/// One prediction file: `headers` and `rows` (an `index` first, written as
/// a number where the format has numbers; empty cells are missing).
fn write_predictions(
    path: &Path,
    format: FileFormat,
    headers: &[&str],
    rows: &[Vec<String>],
) -> Result<()> {
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
            w.write_record(headers).map_err(err)?;
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
                for (k, v) in headers.iter().zip(r.iter()) {
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
                headers[1..]
                    .iter()
                    .map(|h| Field::new(*h, DataType::Utf8, true)),
            );
            let schema = Arc::new(Schema::new(fields));
            let mut cols: Vec<ArrayRef> = vec![Arc::new(Int64Array::from_iter_values(
                rows.iter().map(|r| r[0].parse::<i64>().unwrap_or(0)),
            ))];
            for c in 1..headers.len() {
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
            for (c, h) in headers.iter().enumerate() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn gen(
        out: &Path,
        shape: Shape,
        format: FileFormat,
        image_bytes: usize,
        seed: u64,
    ) -> Generated {
        write(&GenOptions {
            n_models: 3,
            n_items: 600,
            out: out.to_path_buf(),
            format,
            image_bytes,
            images: ImageKind::Text,
            seed,
            shape,
        })
        .unwrap()
    }

    /// A TSV or CSV file's header and rows.
    fn read_table(path: &Path, delimiter: u8) -> (Vec<String>, Vec<Vec<String>>) {
        let mut r = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_path(path)
            .unwrap();
        let header = r.headers().unwrap().iter().map(str::to_string).collect();
        let rows = r
            .records()
            .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
            .collect();
        (header, rows)
    }

    /// Every row's cell under `name`.
    fn column<'a>(header: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
        let c = header.iter().position(|h| h == name).unwrap();
        rows.iter().map(|r| r[c].as_str()).collect()
    }

    /// Every file under `dir`, by path relative to it, with its bytes.
    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                } else {
                    let rel = p.strip_prefix(dir).unwrap().display().to_string();
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn gmai_is_the_default_and_its_files_are_unchanged() {
        assert_eq!(Shape::default(), Shape::Gmai);
        assert_eq!("GMAI".parse::<Shape>(), Ok(Shape::Gmai));
        assert!("mmbench_dev".parse::<Shape>().is_err());
        // The files `medql gen` wrote before it had `--shape`:
        // `--n-models 5 --n-items 300 --seed 7` in csv, jsonl and tsv, and
        // `--n-models 2 --n-items 50 --seed 3 --image-bytes 64`.
        let expected = [
            ("csv/GMAI-MMBench_SYNTH.tsv", 0x61d26e74c071044e_u64),
            (
                "csv/predictions/demo-generalist-7b_GMAI-MMBench_SYNTH.csv",
                0x47d9f47ca6b21470,
            ),
            (
                "csv/predictions/demo-medical-13b_GMAI-MMBench_SYNTH.csv",
                0xcea468c25a87fc62,
            ),
            (
                "csv/predictions/demo-verbose-7b_GMAI-MMBench_SYNTH.csv",
                0x7711a5b8a9161a1b,
            ),
            (
                "csv/predictions/demo-small-2b_GMAI-MMBench_SYNTH.csv",
                0x9f79a53dc626bedc,
            ),
            (
                "csv/predictions/demo-model-05_GMAI-MMBench_SYNTH.csv",
                0x6c2d6cfc691d708e,
            ),
            (
                "jsonl/predictions/demo-small-2b_GMAI-MMBench_SYNTH.jsonl",
                0xb2bb3ffd26dc234a,
            ),
            (
                "tsv/predictions/demo-model-05_GMAI-MMBench_SYNTH.tsv",
                0xe4a89b1e3e810e95,
            ),
            ("img/GMAI-MMBench_SYNTH.tsv", 0x245ab56af61c1bda),
            (
                "img/predictions/demo-medical-13b_GMAI-MMBench_SYNTH.csv",
                0xcff0f66e469ae732,
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        for (sub, format, n_models, n_items, image_bytes, seed) in [
            ("csv", FileFormat::Csv, 5, 300, 0, 7),
            ("jsonl", FileFormat::Jsonl, 5, 300, 0, 7),
            ("tsv", FileFormat::Tsv, 5, 300, 0, 7),
            ("img", FileFormat::Csv, 2, 50, 64, 3),
        ] {
            write(&GenOptions {
                n_models,
                n_items,
                out: dir.path().join(sub),
                format,
                image_bytes,
                images: ImageKind::Text,
                seed,
                shape: Shape::Gmai,
            })
            .unwrap();
        }
        for (f, hash) in expected {
            let bytes = std::fs::read(dir.path().join(f)).unwrap();
            assert_eq!(twox_hash::XxHash3_64::oneshot(&bytes), hash, "{f}");
        }
    }

    #[test]
    fn each_shape_has_its_columns_and_file_names() {
        let dir = tempfile::tempdir().unwrap();
        for (shape, name, items_header) in [
            (
                Shape::Gmai,
                "GMAI-MMBench_SYNTH",
                "index question A B C D E answer category clinical VQA task department \
                 perceptual granularity modality original task",
            ),
            (
                Shape::Mmbench,
                "MMBench_SYNTH",
                "index question hint A B C D answer category l2-category split",
            ),
            (
                Shape::Medxpertqa,
                "MedXpertQA_SYNTH",
                "index question A B C D E answer medical_task body_system question_type",
            ),
        ] {
            assert_eq!(shape.dataset(), name);
            for image_bytes in [0, 100] {
                let out = dir.path().join(format!("{name}-{image_bytes}"));
                let g = gen(&out, shape, FileFormat::Csv, image_bytes, 1);
                assert_eq!(g.items_file, out.join(format!("{name}.tsv")));
                let (header, rows) = read_table(&g.items_file, b'\t');
                assert_eq!(rows.len(), 600);
                let indexes: Vec<String> = (0..600).map(|i| i.to_string()).collect();
                assert_eq!(column(&header, &rows, "index"), indexes);
                let mut shown: Vec<&str> = header.iter().map(String::as_str).collect();
                if image_bytes > 0 {
                    let images = column(&header, &rows, "image");
                    assert!(images.iter().all(|c| (50..150).contains(&c.len())));
                    // The GMAI-MMBench image column follows the index, as
                    // it always has; the other shapes end with it.
                    let at = if shape == Shape::Gmai {
                        1
                    } else {
                        shown.len() - 1
                    };
                    assert_eq!(shown.remove(at), "image");
                }
                assert_eq!(shown.join(" "), items_header, "{name}");
                let mut models = vec![];
                for p in &g.prediction_files {
                    let file = p.file_name().unwrap().to_str().unwrap();
                    let model = file.strip_suffix(&format!("_{name}.csv")).unwrap();
                    models.push(model.to_string());
                    let (pred_header, pred_rows) = read_table(p, b',');
                    assert_eq!(pred_header.last().unwrap(), "prediction");
                    assert!(!pred_header.contains(&"image".to_string()));
                    assert!(pred_rows.len() >= 590 && pred_rows.len() <= 600);
                    if shape != Shape::Gmai {
                        // Every item column, the cells as in the items file.
                        assert_eq!(pred_header[..pred_header.len() - 1].join(" "), items_header);
                        for r in &pred_rows {
                            let i: usize = r[0].parse().unwrap();
                            assert_eq!(r[..r.len() - 1], rows[i][..r.len() - 1]);
                        }
                    }
                }
                assert_eq!(
                    models,
                    ["demo-generalist-7b", "demo-medical-13b", "demo-verbose-7b"]
                );
            }
        }
    }

    #[test]
    fn mmbench_categories_nest_in_l2_categories() {
        let dir = tempfile::tempdir().unwrap();
        let g = gen(dir.path(), Shape::Mmbench, FileFormat::Csv, 0, 5);
        let (header, rows) = read_table(&g.items_file, b'\t');
        let mut l2_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (c, l2) in column(&header, &rows, "category").into_iter().zip(column(
            &header,
            &rows,
            "l2-category",
        )) {
            l2_of.entry(c).or_default().insert(l2);
        }
        for (c, l2s) in &l2_of {
            assert_eq!(l2s.len(), 1, "{c} is in {l2s:?}");
        }
        let l2s: BTreeSet<&str> = l2_of.values().flatten().copied().collect();
        assert!((2..=6).contains(&l2s.len()), "{l2s:?}");
        assert!((6..=20).contains(&l2_of.len()), "{l2_of:?}");
        assert!(l2_of["image_scene"].contains("coarse_perception"));
        assert!(column(&header, &rows, "split").iter().all(|s| *s == "dev"));
        let hints = column(&header, &rows, "hint");
        assert!(hints.iter().any(|h| h.is_empty()) && hints.iter().any(|h| !h.is_empty()));
        // 2, 3 and 4 options; the answer is one of them.
        let mut counts = [0; 5];
        for r in &rows {
            let options: Vec<&str> = ["A", "B", "C", "D"]
                .iter()
                .map(|l| r[header.iter().position(|h| h == l).unwrap()].as_str())
                .collect();
            let k = options.iter().take_while(|o| !o.is_empty()).count();
            assert!(options[k..].iter().all(|o| o.is_empty()), "{r:?}");
            counts[k] += 1;
            let answer = &r[header.iter().position(|h| h == "answer").unwrap()];
            assert!(
                ["A", "B", "C", "D"][..k].contains(&answer.as_str()),
                "{r:?}"
            );
        }
        assert!(
            counts[2] > 10 && counts[3] > 10 && counts[4] > 300,
            "{counts:?}"
        );
    }

    #[test]
    fn medxpertqa_has_its_groups_and_five_options() {
        let dir = tempfile::tempdir().unwrap();
        let g = gen(dir.path(), Shape::Medxpertqa, FileFormat::Csv, 0, 5);
        let (header, rows) = read_table(&g.items_file, b'\t');
        let values =
            |name: &str| -> BTreeSet<&str> { column(&header, &rows, name).into_iter().collect() };
        assert_eq!(
            values("medical_task"),
            BTreeSet::from(["Diagnosis", "Treatment", "Basic Science"])
        );
        assert_eq!(
            values("body_system"),
            BTreeSet::from([
                "Cardiovascular",
                "Respiratory",
                "Nervous",
                "Skeletal",
                "Digestive",
                "Integumentary",
                "Reproductive",
                "Lymphatic"
            ])
        );
        assert_eq!(
            values("question_type"),
            BTreeSet::from(["Reasoning", "Understanding"])
        );
        assert_eq!(values("answer"), BTreeSet::from(["A", "B", "C", "D", "E"]));
        for l in ["A", "B", "C", "D", "E"] {
            assert!(column(&header, &rows, l).iter().all(|o| !o.is_empty()));
        }
    }

    #[test]
    fn the_same_seed_writes_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        for shape in [Shape::Gmai, Shape::Mmbench, Shape::Medxpertqa] {
            for format in [FileFormat::Csv, FileFormat::Jsonl, FileFormat::Parquet] {
                let run = |name: &str, seed: u64| {
                    let out = dir
                        .path()
                        .join(format!("{shape:?}-{}-{name}", format.ext()));
                    gen(&out, shape, format, 40, seed);
                    files(&out)
                };
                let (a, b, other) = (run("a", 9), run("b", 9), run("c", 10));
                assert_eq!(a.len(), 4, "{shape:?}");
                assert_eq!(a, b, "{shape:?} {format:?}");
                assert_eq!(
                    a.keys().collect::<Vec<_>>(),
                    other.keys().collect::<Vec<_>>()
                );
                for (f, bytes) in &a {
                    assert_ne!(bytes, &other[f], "{shape:?} {f}: the seed changes nothing");
                }
            }
        }
    }

    #[test]
    fn shapes_side_by_side_have_distinct_file_names() {
        let dir = tempfile::tempdir().unwrap();
        let mut names = BTreeSet::new();
        for shape in [Shape::Gmai, Shape::Mmbench, Shape::Medxpertqa] {
            let out = dir.path().join(shape.dataset());
            let g = gen(&out, shape, FileFormat::Csv, 0, 1);
            for p in std::iter::once(&g.items_file).chain(&g.prediction_files) {
                assert!(names.insert(p.file_name().unwrap().to_owned()), "{p:?}");
            }
        }
        assert_eq!(names.len(), 12);
    }
}
