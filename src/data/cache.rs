//! The persistent cache of loaded and scored data, as Arrow IPC files in a
//! directory (`--cache DIR`; by default the user's cache directory).
//!
//! - Every source file is known by its path, size and modification time.
//!   Only when size or time change is its content hashed, and an unchanged
//!   hash keeps its entries (a copy or a `touch` costs one read, not a
//!   reload). A start never reads a big file just to check a key.
//! - Items are kept per set of items files, with where each item's image
//!   cell lies in its file (offsets that hold for the content hashed into
//!   the key, and are read only while the file's size and time are still
//!   those found when the entry was taken up).
//! - Predictions are kept per model: its aligned predictions and every rule
//!   set's choices, keyed by the model, the identity (path and content hash)
//!   of every file it came from, the items, and the columns kept. A changed
//!   file invalidates the models it holds and no others.
//! - Every key includes the build of medql, so a new build starts afresh;
//!   a model's key includes the names of the columns kept too, so two
//!   builds with other rule sets never share an entry even under one build
//!   name, and an entry whose columns differ is a miss.
//!
//! Writes go to a temporary name and are renamed into place; a damaged or
//! unreadable entry is a miss, never an error.

use crate::data::items::Items;
use crate::data::predictions::Coverage;
use crate::error::{Error, Result};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// A cache directory, for one build of medql.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    build: String,
    /// The columns a model's entry keeps, in order, aligned with the items,
    /// with their types (the scorer says which: [`Cache::keeping`]).
    columns: Vec<(String, DataType)>,
}

/// A source file as the cache knows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub mtime_ns: u128,
    pub hash: String,
    /// Prediction files: the models the file holds, each with the dataset
    /// of its rows (given `datasets`), and what reading it had to say.
    #[serde(default)]
    pub models: Option<Vec<(String, String)>>,
    #[serde(default)]
    pub datasets: Vec<String>,
    /// The items the models and warnings were worked out against.
    #[serde(default)]
    pub items_key: String,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// What a model's entry says besides its columns.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelMeta {
    pub model: String,
    /// The dataset the set answers.
    #[serde(default)]
    pub dataset: String,
    pub files: Vec<String>,
    pub coverage: Coverage,
    pub warnings: Vec<String>,
    pub has_hit: bool,
    /// The model's file had a `thinking` column.
    #[serde(default)]
    pub has_thinking: bool,
    #[serde(default)]
    pub notes: Vec<String>,
    /// The model's result file had a `log` column.
    #[serde(default)]
    pub has_log: bool,
    /// The provenance counts of its rows (see `Counts`), counted when the
    /// set was scored.
    #[serde(default)]
    pub counts: Option<super::provenance::Counts>,
}

/// A model scored in this load, to be kept: its entry's key and description.
pub type Pending = (String, ModelMeta);

/// The layout of an items entry: an entry of another layout is a miss.
/// 2: with the image cells' places.
const ITEMS_FORMAT: u32 = 2;

/// The columns of an items entry that hold the image cells' places; a `.`
/// is in no items column's name.
const IMAGE_OFFSET: &str = "medql.image_offset";
const IMAGE_LEN: &str = "medql.image_len";
const IMAGE_FILE: &str = "medql.image_file";
const IMAGE_QUOTED: &str = "medql.image_quoted";

#[derive(Serialize, Deserialize)]
struct ItemsMeta {
    #[serde(default)]
    format: u32,
    files: Vec<String>,
    has_answers: bool,
    /// Each column's header as first written, in the items' order.
    headers: Vec<String>,
}

/// A key from texts: XXH3 (64 bits) of the texts, each ended by a NUL,
/// as 16 hex digits.
fn key_of(parts: &[&str]) -> String {
    let mut bytes = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for p in parts {
        bytes.extend_from_slice(p.as_bytes());
        bytes.push(0);
    }
    format!("{:016x}", twox_hash::XxHash3_64::oneshot(&bytes))
}

/// A hash of a file's whole content (XXH3, 128 bits) and its length, read
/// in large blocks (change detection, not security).
pub fn content_hash(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut h = twox_hash::XxHash3_128::new();
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        h.write(&buf[..n]);
    }
    Ok(format!("{:032x}{total:x}", h.finish_128()))
}

fn stat(path: &Path) -> Option<(String, u64, u128)> {
    let canonical = std::fs::canonicalize(path).ok()?;
    let meta = std::fs::metadata(&canonical).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some((canonical.display().to_string(), meta.len(), mtime))
}

/// A build of medql, for cache keys: the version and the size and
/// modification time of the program or module file that holds it, so that
/// a rebuilt binary never reads entries written by another.
pub fn build_id(file: &Path) -> String {
    let stamp = std::fs::metadata(file)
        .map(|m| {
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            format!("{}-{t}", m.len())
        })
        .unwrap_or_default();
    format!("{}-{stamp}", env!("CARGO_PKG_VERSION"))
}

impl Cache {
    /// The cache in `dir` for this `build` (version and binary identity).
    pub fn open(dir: impl Into<PathBuf>, build: impl Into<String>) -> Result<Cache> {
        let dir = dir.into();
        for sub in ["files", "items", "models"] {
            std::fs::create_dir_all(dir.join(sub))
                .map_err(|e| Error::io(dir.join(sub).display().to_string(), e))?;
        }
        Ok(Cache {
            dir,
            build: build.into(),
            columns: vec![],
        })
    }

    /// The cache keeping these columns per model (the scorer's list; the
    /// session sets it). Until it is set no model entry is read or written.
    pub fn keeping(mut self, columns: &[(&str, DataType)]) -> Cache {
        self.columns = columns
            .iter()
            .map(|(c, t)| (c.to_string(), t.clone()))
            .collect();
        self
    }

    /// The default place: `$XDG_CACHE_HOME/medql`, else `~/.cache/medql`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("medql"))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry_path(&self, canonical: &str) -> PathBuf {
        self.dir
            .join("files")
            .join(format!("{}.json", key_of(&[&self.build, canonical])))
    }

    /// The entry of a file when it still describes the file: same size and
    /// time, or (when those changed) the same content. None when the file
    /// is new or changed.
    pub fn lookup(&self, path: &Path) -> Option<FileEntry> {
        let (canonical, size, mtime) = stat(path)?;
        let text = std::fs::read_to_string(self.entry_path(&canonical)).ok()?;
        let mut e: FileEntry = serde_json::from_str(&text).ok()?;
        if e.path != canonical {
            return None;
        }
        if e.size == size && e.mtime_ns == mtime {
            return Some(e);
        }
        if e.size != size {
            return None;
        }
        let hash = content_hash(path).ok()?;
        if hash != e.hash {
            return None;
        }
        e.mtime_ns = mtime;
        self.store_entry(&e);
        Some(e)
    }

    /// A fresh entry for a file just read (its content hashed now).
    pub fn identify(&self, path: &Path) -> Option<FileEntry> {
        let (canonical, size, mtime) = stat(path)?;
        Some(FileEntry {
            path: canonical,
            size,
            mtime_ns: mtime,
            hash: content_hash(path).ok()?,
            models: None,
            datasets: vec![],
            items_key: String::new(),
            warnings: vec![],
        })
    }

    /// Remember a file entry (best effort: a cache that cannot be written
    /// only makes the next start slower).
    pub fn store_entry(&self, e: &FileEntry) {
        if let Ok(text) = serde_json::to_string(e) {
            let _ = write_atomic(&self.entry_path(&e.path), text.as_bytes());
        }
    }

    /// The key of a set of items files.
    pub fn items_key(&self, files: &[FileEntry]) -> String {
        let mut parts = vec![self.build.as_str(), "items"];
        for f in files {
            parts.push(&f.path);
            parts.push(&f.hash);
        }
        key_of(&parts)
    }

    /// The key of one model's entry.
    pub fn model_key(&self, items_key: &str, model: &str, files: &[&FileEntry]) -> String {
        let mut ids: Vec<(&str, &str)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.hash.as_str()))
            .collect();
        ids.sort();
        let mut parts = vec![self.build.as_str(), "model", items_key, model];
        parts.extend(self.columns.iter().map(|(c, _)| c.as_str()));
        parts.push("files");
        for (p, h) in &ids {
            parts.push(p);
            parts.push(h);
        }
        key_of(&parts)
    }

    fn items_path(&self, key: &str) -> PathBuf {
        self.dir.join("items").join(format!("{key}.arrow"))
    }

    fn model_path(&self, key: &str) -> PathBuf {
        self.dir.join("models").join(format!("{key}.arrow"))
    }

    pub fn get_items(&self, key: &str) -> Option<Items> {
        let (batch, meta) = read_entry(&self.items_path(key))?;
        let meta: ItemsMeta = serde_json::from_str(&meta).ok()?;
        if meta.format != ITEMS_FORMAT {
            return None;
        }
        let mut items = Items::new();
        items.files = meta.files;
        items.has_answers = meta.has_answers;
        let dataset = batch.column_by_name("dataset")?.as_string_opt::<i32>()?;
        let index = batch
            .column_by_name("index")?
            .as_primitive_opt::<Int64Type>()?;
        // Every column, made again from its header, in the items' order.
        let mut text = vec![];
        for header in &meta.headers {
            let c = items.column_id(header);
            let name = &items.columns[c].name;
            text.push((c, batch.column_by_name(name)?.as_string_opt::<i32>()?));
        }
        if text.iter().enumerate().any(|(i, (c, _))| i != *c) {
            return None;
        }
        for r in 0..batch.num_rows() {
            let cells = text
                .iter()
                .map(|(_, c)| c.is_valid(r).then(|| c.value(r).to_string()))
                .collect();
            items
                .push(dataset.value(r), index.value(r), cells, "<cache>", r as u64)
                .ok()?;
        }
        // Where the image cells lie.
        use datafusion::arrow::datatypes::{UInt32Type, UInt64Type};
        let offset = batch
            .column_by_name(IMAGE_OFFSET)?
            .as_primitive_opt::<UInt64Type>()?;
        let len = batch
            .column_by_name(IMAGE_LEN)?
            .as_primitive_opt::<UInt32Type>()?;
        let file = batch
            .column_by_name(IMAGE_FILE)?
            .as_primitive_opt::<UInt32Type>()?;
        let quoted = batch.column_by_name(IMAGE_QUOTED)?.as_boolean_opt()?;
        for r in 0..batch.num_rows() {
            if len.value(r) > 0 && (file.value(r) as usize) < items.files.len() {
                items.set_image_cell(
                    r,
                    crate::data::images::ImageCell {
                        offset: offset.value(r),
                        len: len.value(r),
                        file: file.value(r),
                        quoted: quoted.value(r),
                    },
                );
            }
        }
        Some(items)
    }

    pub fn put_items(&self, key: &str, items: &Items) {
        use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
        use datafusion::arrow::datatypes::Field;
        // Every column as the text it was read as.
        let mut fields = vec![
            Field::new("dataset", DataType::Utf8, false),
            Field::new("index", DataType::Int64, false),
        ];
        let mut arrays: Vec<ArrayRef> = vec![
            std::sync::Arc::new(StringArray::from_iter_values(items.dataset.iter())),
            std::sync::Arc::new(Int64Array::from(items.index.clone())),
        ];
        for c in &items.columns {
            fields.push(Field::new(&c.name, DataType::Utf8, true));
            arrays.push(std::sync::Arc::new(StringArray::from_iter(c.values.iter())));
        }
        {
            use datafusion::arrow::array::{BooleanArray, UInt32Array, UInt64Array};
            let cells: Vec<_> = (0..items.len()).map(|r| items.image_cell(r)).collect();
            fields.push(Field::new(IMAGE_OFFSET, DataType::UInt64, false));
            arrays.push(std::sync::Arc::new(UInt64Array::from_iter_values(
                cells.iter().map(|c| c.offset),
            )));
            fields.push(Field::new(IMAGE_LEN, DataType::UInt32, false));
            arrays.push(std::sync::Arc::new(UInt32Array::from_iter_values(
                cells.iter().map(|c| c.len),
            )));
            fields.push(Field::new(IMAGE_FILE, DataType::UInt32, false));
            arrays.push(std::sync::Arc::new(UInt32Array::from_iter_values(
                cells.iter().map(|c| c.file),
            )));
            fields.push(Field::new(IMAGE_QUOTED, DataType::Boolean, false));
            arrays.push(std::sync::Arc::new(BooleanArray::from_iter(
                cells.iter().map(|c| Some(c.quoted)),
            )));
        }
        let schema = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(fields));
        let meta = ItemsMeta {
            format: ITEMS_FORMAT,
            files: items.files.clone(),
            has_answers: items.has_answers,
            headers: items.columns.iter().map(|c| c.header.clone()).collect(),
        };
        if let (Ok(batch), Ok(meta)) = (
            RecordBatch::try_new(schema, arrays),
            serde_json::to_string(&meta),
        ) {
            write_entry(&self.items_path(key), &batch, meta);
        }
    }

    /// Whether a model's batch has exactly the columns kept, with their types.
    fn fits(&self, batch: &RecordBatch) -> bool {
        let fields = batch.schema_ref().fields();
        !self.columns.is_empty()
            && fields.len() == self.columns.len()
            && fields
                .iter()
                .zip(&self.columns)
                .all(|(f, (c, t))| f.name() == c && f.data_type() == t)
    }

    /// A model's entry: its columns (see [`Cache::keeping`]) and what was said.
    pub fn get_model(&self, key: &str, rows: usize) -> Option<(RecordBatch, ModelMeta)> {
        if self.columns.is_empty() {
            return None;
        }
        let (batch, meta) = read_entry(&self.model_path(key))?;
        let meta: ModelMeta = serde_json::from_str(&meta).ok()?;
        (batch.num_rows() == rows && self.fits(&batch)).then_some((batch, meta))
    }

    pub fn put_model(&self, key: &str, batch: &RecordBatch, meta: &ModelMeta) {
        if !self.fits(batch) {
            return;
        }
        if let Ok(meta) = serde_json::to_string(meta) {
            write_entry(&self.model_path(key), batch, meta);
        }
    }
}

const META_KEY: &str = "medql.cache";

/// One Arrow IPC file as one batch, with medql's metadata; None on any
/// trouble. (IPC, not Parquet: a warm start maps the file and decodes no
/// pages; the arrays point into the mapping, so text no query reads, such
/// as most of `prediction`, is read from disk only if it is validated or
/// shown.)
fn read_entry(path: &Path) -> Option<(RecordBatch, String)> {
    use datafusion::arrow::ipc::convert::fb_to_schema;
    use datafusion::arrow::ipc::reader::{read_footer_length, FileDecoder};
    use datafusion::arrow::ipc::root_as_footer;
    let file = std::fs::File::open(path).ok()?;
    let buffer = match mapped::map(&file) {
        Some(b) => b,
        None => datafusion::arrow::buffer::Buffer::from_vec(std::fs::read(path).ok()?),
    };
    let len = buffer.len();
    let trailer = len.checked_sub(10)?;
    let footer_len = read_footer_length(buffer[trailer..].try_into().ok()?).ok()?;
    let footer = root_as_footer(&buffer[trailer.checked_sub(footer_len)?..trailer]).ok()?;
    let schema = fb_to_schema(footer.schema()?);
    let meta = schema.metadata().get(META_KEY)?.clone();
    // The batch keeps the schema without medql's metadata.
    let plain = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(
        schema.fields().clone(),
    ));
    // Arrow's own check of each text value is per-offset and slow (about
    // a third of a warm start at 1,000 models); the decoder skips it and
    // `check_decoded` checks the same invariants faster before any array
    // is used.
    // SAFETY: every decoded batch goes through `check_decoded`, which checks
    // what the decoder's validation would (buffer sizes, null counts, offsets
    // and UTF-8 of text, every value of other types) before it is used.
    let mut decoder =
        unsafe { FileDecoder::new(plain.clone(), footer.version()).with_skip_validation(true) };
    let block_data = |offset: i64, meta_len: i32, body_len: i64| {
        let start = usize::try_from(offset).ok()?;
        let n = usize::try_from(meta_len).ok()? + usize::try_from(body_len).ok()?;
        (start.checked_add(n)? <= len).then(|| buffer.slice_with_length(start, n))
    };
    for block in footer.dictionaries().iter().flatten() {
        let data = block_data(block.offset(), block.metaDataLength(), block.bodyLength())?;
        decoder.read_dictionary(block, &data).ok()?;
    }
    let mut batches = vec![];
    for block in footer.recordBatches()? {
        let data = block_data(block.offset(), block.metaDataLength(), block.bodyLength())?;
        let batch = decoder.read_record_batch(block, &data).ok()??;
        check_decoded(&batch)?;
        batches.push(batch);
    }
    let batch = if batches.len() == 1 {
        batches.pop()?
    } else {
        datafusion::arrow::compute::concat_batches(&plain, &batches).ok()?
    };
    Some((batch, meta))
}

/// Whether a batch decoded without validation is valid: every column as
/// long as the batch, without nulls where its field has none, and valid as
/// Arrow's full validation has it. Text (`Utf8`) columns are checked here
/// in bulk (offsets non-decreasing and within the values, the values UTF-8
/// and every offset on a character boundary: at once when the values are
/// ASCII); other types by Arrow's full validation.
fn check_decoded(batch: &RecordBatch) -> Option<()> {
    for (f, column) in batch.schema_ref().fields().iter().zip(batch.columns()) {
        if column.len() != batch.num_rows() || (!f.is_nullable() && column.null_count() > 0) {
            return None;
        }
        let data = column.to_data();
        if data.data_type() == &DataType::Utf8 {
            data.validate().ok()?;
            data.validate_nulls().ok()?;
            text_is_valid(&data).then_some(())?;
        } else {
            data.validate_full().ok()?;
        }
    }
    Some(())
}

/// A `Utf8` array's offsets and values, checked as [`check_decoded`] says
/// (its buffers' sizes are checked before).
fn text_is_valid(data: &datafusion::arrow::array::ArrayData) -> bool {
    let (Some(offsets), Some(values)) = (data.buffers().first(), data.buffers().get(1)) else {
        return false;
    };
    let Some(offsets) = offsets
        .typed_data::<i32>()
        .get(data.offset()..data.offset() + data.len() + 1)
    else {
        return false;
    };
    let values = values.as_slice();
    let mut ordered = offsets.first().is_some_and(|o| *o >= 0);
    for w in offsets.windows(2) {
        ordered &= w[0] <= w[1];
    }
    let end = offsets.last().map_or(0, |o| *o as usize);
    if !ordered || end > values.len() {
        return false;
    }
    let used = &values[offsets[0] as usize..end];
    if used.is_ascii() {
        return true;
    }
    if std::str::from_utf8(used).is_err() {
        return false;
    }
    // Every offset on a character boundary (not a continuation byte).
    offsets
        .iter()
        .all(|o| (*o as usize) == end || (values[*o as usize] as i8) >= -0x40)
}

/// Read-only memory maps of cache files. A cache file is never changed
/// in place (it is written beside and renamed over), so a mapping stays
/// valid while a session holds arrays that point into it.
mod mapped {
    use datafusion::arrow::buffer::Buffer;
    use std::ptr::NonNull;
    use std::sync::Arc;

    /// A mapping of a whole file, unmapped when the last buffer over it
    /// is dropped.
    struct Mapping {
        ptr: NonNull<u8>,
        len: usize,
    }

    // The mapping is read-only and owned by this value alone.
    unsafe impl Send for Mapping {}
    unsafe impl Sync for Mapping {}

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: ptr and len are those mmap returned, unmapped once.
            unsafe {
                libc::munmap(self.ptr.as_ptr().cast(), self.len);
            }
        }
    }

    /// The file's bytes as a buffer over a mapping; None when it cannot be
    /// mapped (the caller reads it instead).
    #[cfg(unix)]
    pub fn map(file: &std::fs::File) -> Option<Buffer> {
        use std::os::unix::io::AsRawFd;
        let len = usize::try_from(file.metadata().ok()?.len()).ok()?;
        if len == 0 {
            return None;
        }
        // SAFETY: a private read-only mapping of an open file; the pointer
        // is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        let ptr = NonNull::new(ptr.cast::<u8>())?;
        let owner = Arc::new(Mapping { ptr, len });
        // SAFETY: `len` bytes from `ptr` are mapped and stay mapped while
        // `owner` lives, which the buffer keeps.
        Some(unsafe { Buffer::from_custom_allocation(ptr, len, owner) })
    }

    #[cfg(not(unix))]
    pub fn map(_file: &std::fs::File) -> Option<Buffer> {
        None
    }
}

fn write_entry(path: &Path, batch: &RecordBatch, meta: String) {
    use datafusion::arrow::ipc::writer::FileWriter;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let ok = (|| -> Option<()> {
        let schema = batch
            .schema()
            .as_ref()
            .clone()
            .with_metadata([(META_KEY.to_string(), meta)].into_iter().collect());
        let file = std::fs::File::create(&tmp).ok()?;
        let mut w = FileWriter::try_new(std::io::BufWriter::new(file), &schema).ok()?;
        let b = batch
            .clone()
            .with_schema(std::sync::Arc::new(schema))
            .ok()?;
        w.write(&b).ok()?;
        w.finish().ok()
    })();
    if ok.is_some() {
        let _ = std::fs::rename(&tmp, path);
    } else {
        let _ = std::fs::remove_file(&tmp);
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{ArrayRef, BooleanArray, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    /// Columns with their types: `answered` and `hit` booleans, others text.
    fn typed(columns: &[&'static str]) -> Vec<(&'static str, DataType)> {
        columns
            .iter()
            .map(|c| match *c {
                "answered" | "hit" => (*c, DataType::Boolean),
                _ => (*c, DataType::Utf8),
            })
            .collect()
    }

    fn batch(columns: &[&str]) -> RecordBatch {
        let mut fields = vec![];
        let mut arrays: Vec<ArrayRef> = vec![];
        for c in columns {
            if ["answered", "hit"].contains(c) {
                fields.push(Field::new(*c, DataType::Boolean, true));
                arrays.push(Arc::new(BooleanArray::from(vec![true, false])));
            } else {
                fields.push(Field::new(*c, DataType::Utf8, true));
                arrays.push(Arc::new(StringArray::from(vec!["A", "Z"])));
            }
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
    }

    fn meta() -> ModelMeta {
        ModelMeta {
            model: "m".into(),
            dataset: "Bench".into(),
            files: vec![],
            coverage: Default::default(),
            warnings: vec![],
            has_hit: true,
            has_thinking: false,
            notes: vec![],
            has_log: false,
            counts: None,
        }
    }

    #[test]
    fn entries_are_read_only_by_a_cache_keeping_the_same_columns() {
        let dir = tempfile::tempdir().unwrap();
        let two = [
            "answered",
            "prediction",
            "hit",
            "choice_a",
            "rule_a",
            "choice_b",
            "rule_b",
        ];
        let one = ["answered", "prediction", "hit", "choice_a", "rule_a"];
        let open = || Cache::open(dir.path(), "one-build").unwrap();
        let (c2, c1) = (open().keeping(&typed(&two)), open().keeping(&typed(&one)));
        // The columns kept are part of a model's key.
        let k2 = c2.model_key("items", "m", &[]);
        let k1 = c1.model_key("items", "m", &[]);
        assert_ne!(k1, k2);
        c2.put_model(&k2, &batch(&two), &meta());
        assert!(c2.get_model(&k2, 2).is_some());
        assert!(c2.get_model(&k2, 3).is_none());
        assert!(c1.get_model(&k1, 2).is_none());
        // Even under one key, other columns are a miss.
        assert!(c1.get_model(&k2, 2).is_none());
        // A batch without the columns kept is not written.
        c1.put_model(&k1, &batch(&two), &meta());
        assert!(c1.get_model(&k1, 2).is_none());
        // A cache not told its columns neither reads nor writes models.
        let bare = open();
        assert!(bare.get_model(&k2, 2).is_none());
        let k0 = bare.model_key("items", "m", &[]);
        bare.put_model(&k0, &batch(&one), &meta());
        assert!(!bare.model_path(&k0).exists());
    }

    /// An entry with the given prediction texts, and its key and cache.
    fn written(dir: &Path, texts: &[&str]) -> (Cache, String) {
        let columns = ["answered", "prediction"];
        let cache = Cache::open(dir, "one-build")
            .unwrap()
            .keeping(&typed(&columns));
        let schema = Schema::new(vec![
            Field::new("answered", DataType::Boolean, true),
            Field::new("prediction", DataType::Utf8, true),
        ]);
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(BooleanArray::from(vec![true; texts.len()])),
            Arc::new(StringArray::from(texts.to_vec())),
        ];
        let b = RecordBatch::try_new(Arc::new(schema), arrays).unwrap();
        let key = cache.model_key("items", "m", &[]);
        cache.put_model(&key, &b, &meta());
        (cache, key)
    }

    #[test]
    fn text_is_read_back_as_written_and_a_damaged_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let texts = ["The answer is B.", "Réponse : C — 肺结节", "", "D"];
        let (cache, key) = written(dir.path(), &texts);
        let (b, _) = cache.get_model(&key, texts.len()).expect("entry");
        let got: Vec<&str> = b.column(1).as_string::<i32>().iter().flatten().collect();
        assert_eq!(got, texts);
        // A byte inside a character replaced (invalid UTF-8), and an
        // offset cut inside a character: both entries are misses.
        let path = cache.model_path(&key);
        let bytes = std::fs::read(&path).unwrap();
        let at = bytes
            .windows("肺".len())
            .position(|w| w == "肺".as_bytes())
            .unwrap();
        let mut bad = bytes.clone();
        bad[at + 1] = 0xFF;
        std::fs::write(&path, &bad).unwrap();
        assert!(cache.get_model(&key, texts.len()).is_none());
        let (cache, key) = written(dir.path(), &["é", "x"]);
        let path = cache.model_path(&key);
        let mut bytes = std::fs::read(&path).unwrap();
        // The offsets 0, 2, 3 (little-endian i32): make the middle one 1.
        let offsets: Vec<u8> = [0i32, 2, 3].iter().flat_map(|o| o.to_le_bytes()).collect();
        let at = bytes
            .windows(offsets.len())
            .position(|w| w == offsets.as_slice())
            .unwrap();
        bytes[at + 4] = 1;
        std::fs::write(&path, &bytes).unwrap();
        assert!(cache.get_model(&key, 2).is_none());
    }
}
