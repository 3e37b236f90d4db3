//! Item images: where each item's image cell lies in its items TSV, and
//! reading it back from there when asked.
//!
//! The items loader never keeps an image (a published items file holds
//! gigabytes of them). While it streams a file, a [`CellTap`] under the CSV
//! reader follows the raw bytes and records where each record's fields
//! begin and end; the loader keeps, per item, the byte offset and length of
//! its image cell ([`ImageCell`], a few bytes an item), and the cache keeps
//! them beside the items. An image is read when it is asked for: one cell,
//! by seek, decoded then and dropped after use.
//!
//! A cell means what VLMEvalKit's `ImageBaseDataset` makes of it: a cell of
//! at most 64 characters is the index of another item of the same dataset,
//! whose cell holds the picture (one step: that cell may not be a reference
//! itself); a cell written `[...]` is a list of pictures (Python's list
//! repr, or JSON); any other cell is one base64 picture. Only PNG and JPEG,
//! told by their first bytes, are images: other content (text, another
//! format, bad base64) is no image and no error.

use crate::error::{Error, Result};
use std::collections::{HashMap, VecDeque};
use std::io::{Read, Seek, SeekFrom};
use std::time::SystemTime;

/// A cell of at most this many bytes is a reference to another item.
pub const REFERENCE_MAX: usize = 64;

/// An image format medql shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Png,
    Jpeg,
}

impl ImageFormat {
    /// The format of decoded bytes, by their magic: `\x89PNG\r\n\x1a\n`
    /// or `\xFF\xD8\xFF`.
    pub fn of(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else {
            None
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
        }
    }

    /// The file extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Png => "png",
            ImageFormat::Jpeg => "jpg",
        }
    }
}

/// One decoded picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub format: ImageFormat,
    pub bytes: Vec<u8>,
}

impl Image {
    /// The bytes as base64 (standard alphabet, padded), for a `data:` URI
    /// or a terminal's image protocol.
    pub fn base64(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.bytes)
    }
}

/// Where an item's image cell lies: `len` bytes from `offset` in the
/// items file numbered `file` (its place in [`crate::data::Items::files`]),
/// as written, with its surrounding quotes when `quoted`. `len == 0`: the
/// item has no image cell.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImageCell {
    pub offset: u64,
    pub len: u32,
    pub file: u32,
    pub quoted: bool,
}

impl ImageCell {
    pub fn is_none(&self) -> bool {
        self.len == 0
    }
}

/// An items file's size and modification time when its offsets were
/// taken: a file that differs now is not read by them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileState {
    pub size: u64,
    pub modified: Option<SystemTime>,
}

impl FileState {
    pub fn of(meta: &std::fs::Metadata) -> FileState {
        FileState {
            size: meta.len(),
            modified: meta.modified().ok(),
        }
    }

    pub fn now(path: &str) -> Option<FileState> {
        std::fs::metadata(path).ok().map(|m| FileState::of(&m))
    }
}

/// The items files image cells point into: each file's path and its state
/// when read (None: not known, so never read by offset).
#[derive(Clone, Copy)]
pub(crate) struct Files<'a> {
    pub paths: &'a [String],
    pub states: &'a [Option<FileState>],
}

/// Every item's image cell, by dataset and index, with the files they lie
/// in: what a session keeps to show images (a few bytes an item, never an
/// image).
#[derive(Clone, Debug, Default)]
pub struct ImageIndex {
    paths: Vec<String>,
    states: Vec<Option<FileState>>,
    datasets: Vec<String>,
    cells: HashMap<(u32, i64), ImageCell>,
}

impl ImageIndex {
    pub(crate) fn new(
        paths: Vec<String>,
        states: Vec<Option<FileState>>,
        datasets: Vec<String>,
        cells: HashMap<(u32, i64), ImageCell>,
    ) -> ImageIndex {
        ImageIndex {
            paths,
            states,
            datasets,
            cells,
        }
    }

    /// Whether no item has an image cell (no image column was read).
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Where an item's image cell lies, if it has one.
    pub fn cell(&self, dataset: &str, index: i64) -> Option<ImageCell> {
        let d = self.datasets.iter().position(|x| x == dataset)? as u32;
        self.cells.get(&(d, index)).copied()
    }

    /// The images of an item of a dataset, read from its items file now:
    /// none for an item without an image cell or whose cell holds no PNG
    /// or JPEG; an error when the file cannot be read or changed since it
    /// was loaded, or when a reference leads nowhere.
    pub fn item_images(&self, dataset: &str, index: i64) -> Result<Vec<Image>> {
        let files = Files {
            paths: &self.paths,
            states: &self.states,
        };
        item_images_with(files, dataset, index, |i| self.cell(dataset, i))
    }
}

/// An item's images, with `cell_of` giving the image cell of an index of
/// the item's dataset.
pub(crate) fn item_images_with(
    files: Files<'_>,
    dataset: &str,
    index: i64,
    cell_of: impl Fn(i64) -> Option<ImageCell>,
) -> Result<Vec<Image>> {
    let Some(cell) = cell_of(index).filter(|c| !c.is_none()) else {
        return Ok(vec![]);
    };
    let text = read_cell(files, cell)?;
    let text = if text.len() <= REFERENCE_MAX {
        let Some(target) = reference(&text) else {
            return Ok(vec![]);
        };
        let place = files
            .paths
            .get(cell.file as usize)
            .map(String::as_str)
            .unwrap_or("the items file");
        let Some(tc) = cell_of(target).filter(|c| !c.is_none()) else {
            return Err(Error::data(
                place,
                format!(
                    "the image of item {index} of {dataset} is a reference to item {target}, which has no image cell in {dataset}"
                ),
            ));
        };
        let t = read_cell(files, tc)?;
        if t.len() <= REFERENCE_MAX {
            return Err(Error::data(
                place,
                format!(
                    "the image of item {index} of {dataset} is a reference to item {target}, whose image cell is a reference too (a reference is followed once)"
                ),
            ));
        }
        t
    } else {
        text
    };
    Ok(decode_cell(&text))
}

/// The index a short cell refers to, when it is one.
fn reference(text: &[u8]) -> Option<i64> {
    let t = std::str::from_utf8(text).ok()?.trim();
    crate::data::items::parse_index(t)
}

/// Read one cell's bytes (its quotes undone) from its file.
fn read_cell(files: Files<'_>, cell: ImageCell) -> Result<Vec<u8>> {
    let path = files
        .paths
        .get(cell.file as usize)
        .ok_or_else(|| Error::Usage("an image cell names an items file not loaded".into()))?;
    let then = files.states.get(cell.file as usize).copied().flatten();
    let now = FileState::now(path);
    if then.is_none() || now != then {
        return Err(Error::data(
            path,
            "the items file changed (or went) since it was loaded, so its images are not where they were; load it again to see them",
        ));
    }
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    f.seek(SeekFrom::Start(cell.offset))
        .map_err(|e| Error::io(path, e))?;
    let mut raw = vec![0u8; cell.len as usize];
    f.read_exact(&mut raw).map_err(|e| Error::io(path, e))?;
    Ok(if cell.quoted { unquote(&raw) } else { raw })
}

/// A quoted field's content as a CSV reader gives it: `""` inside quotes is
/// one `"`, and what follows the closing quote is kept as it is.
fn unquote(raw: &[u8]) -> Vec<u8> {
    let Some(body) = raw.strip_prefix(b"\"") else {
        return raw.to_vec();
    };
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i] == b'"' {
            if body.get(i + 1) == Some(&b'"') {
                out.push(b'"');
                i += 2;
                continue;
            }
            out.extend_from_slice(&body[i + 1..]);
            return out;
        }
        out.push(body[i]);
        i += 1;
    }
    out
}

/// The pictures of a cell's text: a list `[...]` of base64 strings, or one.
pub fn decode_cell(text: &[u8]) -> Vec<Image> {
    let t = text.trim_ascii();
    if let Some(inner) = t.strip_prefix(b"[").and_then(|r| r.strip_suffix(b"]")) {
        return inner
            .split(|b| *b == b',')
            .filter_map(|part| {
                let p = part.trim_ascii();
                let p = p
                    .strip_prefix(b"'")
                    .and_then(|r| r.strip_suffix(b"'"))
                    .or_else(|| p.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")))
                    .unwrap_or(p);
                decode_one(p)
            })
            .collect();
    }
    decode_one(t).into_iter().collect()
}

/// One base64 picture (line breaks allowed, padding optional), if it is
/// a PNG or a JPEG.
pub fn decode_one(b64: &[u8]) -> Option<Image> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::Engine;
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let t = b64.trim_ascii();
    if t.is_empty() {
        return None;
    }
    let bytes = if t.iter().any(u8::is_ascii_whitespace) {
        let clean: Vec<u8> = t
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        LENIENT.decode(clean).ok()?
    } else {
        LENIENT.decode(t).ok()?
    };
    let format = ImageFormat::of(&bytes)?;
    Some(Image { format, bytes })
}

/// One field of a record as it lies in the file: bytes `start..end`,
/// opening quote included when `quoted`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawField {
    pub start: u64,
    pub end: u64,
    pub quoted: bool,
}

/// What the tap saw of one record: its number of fields, and the watched
/// field (every field until the column to watch is chosen).
#[derive(Debug, Default)]
pub(crate) struct TapRecord {
    pub fields: usize,
    pub cell: Option<RawField>,
    all: Vec<RawField>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Watch {
    /// Every field is kept (the header is not read yet).
    Undecided,
    Column(usize),
    /// Nothing to watch: bytes pass through.
    Off,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TapState {
    StartRecord,
    StartField,
    InField,
    InQuoted,
    QuoteInQuoted,
}

/// A reader that passes bytes through unchanged while splitting them into
/// records and fields as the `csv` crate does for a delimited file (quote
/// `"` at a field's start, `""` inside quotes, `\r`, `\n` or `\r\n` ending
/// a record, empty lines skipped), and queues each record's fields'
/// positions in the file. The reader above it takes one queued record per
/// record it reads ([`CellTap::next_record`]).
pub(crate) struct CellTap<R> {
    inner: R,
    delimiter: u8,
    pos: u64,
    state: TapState,
    field_start: u64,
    quoted: bool,
    current: TapRecord,
    watch: Watch,
    done: VecDeque<TapRecord>,
    ended: bool,
}

impl<R: Read> CellTap<R> {
    pub fn new(inner: R, delimiter: u8) -> CellTap<R> {
        CellTap {
            inner,
            delimiter,
            pos: 0,
            state: TapState::StartRecord,
            field_start: 0,
            quoted: false,
            current: TapRecord::default(),
            watch: Watch::Undecided,
            done: VecDeque::new(),
            ended: false,
        }
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Keep only this field of each record from now on (records already
    /// queued too); None: keep nothing, and stop following the bytes.
    pub fn watch(&mut self, column: Option<usize>) {
        match column {
            Some(c) => {
                self.watch = Watch::Column(c);
                for r in self.done.iter_mut().chain([&mut self.current]) {
                    r.cell = r.all.get(c).copied();
                    r.all = vec![];
                }
            }
            None => {
                self.watch = Watch::Off;
                self.done.clear();
            }
        }
    }

    /// The next record's fields, in file order.
    pub fn next_record(&mut self) -> Option<TapRecord> {
        self.done.pop_front()
    }

    fn end_field(&mut self, end: u64) {
        let f = RawField {
            start: self.field_start,
            end,
            quoted: self.quoted,
        };
        match self.watch {
            Watch::Undecided => self.current.all.push(f),
            Watch::Column(c) if c == self.current.fields => self.current.cell = Some(f),
            _ => {}
        }
        self.current.fields += 1;
    }

    fn end_record(&mut self) {
        self.done.push_back(std::mem::take(&mut self.current));
    }

    fn scan(&mut self, buf: &[u8]) {
        use TapState::*;
        let base = self.pos;
        let at = |i: usize| base + i as u64;
        let d = self.delimiter;
        let mut i = 0;
        while i < buf.len() {
            match self.state {
                StartRecord => {
                    if matches!(buf[i], b'\r' | b'\n') {
                        i += 1;
                    } else {
                        self.state = StartField;
                        self.field_start = at(i);
                    }
                }
                StartField => {
                    if buf[i] == b'"' {
                        self.quoted = true;
                        self.state = InQuoted;
                        i += 1;
                    } else {
                        self.quoted = false;
                        self.state = InField;
                    }
                }
                InField => match memchr::memchr3(d, b'\r', b'\n', &buf[i..]) {
                    None => i = buf.len(),
                    Some(k) => {
                        i += k;
                        self.end_field(at(i));
                        if buf[i] == d {
                            self.state = StartField;
                            self.field_start = at(i + 1);
                        } else {
                            self.end_record();
                            self.state = StartRecord;
                        }
                        i += 1;
                    }
                },
                InQuoted => match memchr::memchr(b'"', &buf[i..]) {
                    None => i = buf.len(),
                    Some(k) => {
                        i += k + 1;
                        self.state = QuoteInQuoted;
                    }
                },
                QuoteInQuoted => {
                    let b = buf[i];
                    if b == b'"' {
                        self.state = InQuoted;
                        i += 1;
                    } else if b == d {
                        self.end_field(at(i));
                        self.state = StartField;
                        self.field_start = at(i + 1);
                        i += 1;
                    } else if b == b'\r' || b == b'\n' {
                        self.end_field(at(i));
                        self.end_record();
                        self.state = StartRecord;
                        i += 1;
                    } else {
                        self.state = InField;
                    }
                }
            }
        }
        self.pos += buf.len() as u64;
    }

    /// The end of the input ends the record being read.
    fn finish(&mut self) {
        if !self.ended && self.state != TapState::StartRecord {
            self.end_field(self.pos);
            self.end_record();
            self.state = TapState::StartRecord;
        }
        self.ended = true;
    }
}

impl<R: Read> Read for CellTap<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.watch != Watch::Off {
            if n == 0 && !buf.is_empty() {
                self.finish();
            } else {
                self.scan(&buf[..n]);
            }
        }
        Ok(n)
    }
}

/// Whether a field as tapped holds exactly the cell the CSV reader gave:
/// the same length, counting its quotes (`"` around, `""` inside).
pub(crate) fn tapped_cell(f: RawField, cell: &[u8], file: usize) -> Option<ImageCell> {
    let raw = f.end.checked_sub(f.start)?;
    let expected = if f.quoted {
        cell.len() as u64 + 2 + memchr::memchr_iter(b'"', cell).count() as u64
    } else {
        cell.len() as u64
    };
    (raw == expected && !cell.is_empty()).then_some(ImageCell {
        offset: f.start,
        len: u32::try_from(raw).ok()?,
        file: u32::try_from(file).ok()?,
        quoted: f.quoted,
    })
}

/// A PNG image of `width` x `height` RGB pixels (`rgb` row by row, 3 bytes
/// a pixel): 8-bit truecolour, each row unfiltered, the zlib stream made of
/// stored (uncompressed) deflate blocks. Enough for synthetic data and
/// tests; no compression.
pub fn encode_png(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    let row = width as usize * 3;
    // The scanlines, each led by its filter type (0: none).
    let mut raw = Vec::with_capacity((row + 1) * height as usize);
    for y in 0..height as usize {
        raw.push(0);
        let line = rgb.get(y * row..(y + 1) * row).unwrap_or(&[]);
        raw.extend_from_slice(line);
        raw.resize(raw.len() + row - line.len(), 0);
    }
    // zlib: header (deflate, 32K window, no dictionary), stored blocks, Adler-32.
    let mut z = vec![0x78, 0x01];
    let mut chunks = raw.chunks(65_535).peekable();
    if chunks.peek().is_none() {
        z.extend_from_slice(&[1, 0, 0, 0xFF, 0xFF]);
    }
    while let Some(c) = chunks.next() {
        let last = chunks.peek().is_none();
        let n = c.len() as u16;
        z.push(u8::from(last));
        z.extend_from_slice(&n.to_le_bytes());
        z.extend_from_slice(&(!n).to_le_bytes());
        z.extend_from_slice(c);
    }
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, data) in [(b"IHDR", &ihdr[..]), (b"IDAT", &z[..]), (b"IEND", &[][..])] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend_from_slice(kind);
        png.extend_from_slice(data);
        let crc = crc32(&png[start..]);
        png.extend_from_slice(&crc.to_be_bytes());
    }
    png
}

/// CRC-32 (IEEE 802.3, reflected, as PNG chunks use it).
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut table = [0u32; 256];
    for (n, t) in table.iter_mut().enumerate() {
        let mut c = n as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *t = c;
    }
    let mut c = 0xFFFF_FFFFu32;
    for b in bytes {
        c = table[((c ^ *b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    c ^ 0xFFFF_FFFF
}

/// Adler-32, zlib's checksum.
pub fn adler32(bytes: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in bytes.chunks(5552) {
        for x in chunk {
            a += *x as u32;
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tap_all(text: &[u8], chunk: usize) -> Vec<Vec<(u64, u64, bool)>> {
        struct Chunked<'a>(&'a [u8], usize);
        impl Read for Chunked<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut t = CellTap::new(Chunked(text, chunk), b'\t');
        let mut sink = vec![];
        t.read_to_end(&mut sink).unwrap();
        assert_eq!(sink, text);
        let mut out = vec![];
        while let Some(r) = t.next_record() {
            assert_eq!(r.fields, r.all.len());
            out.push(r.all.iter().map(|f| (f.start, f.end, f.quoted)).collect());
        }
        out
    }

    #[test]
    fn the_tap_splits_as_the_csv_reader_does() {
        let text = b"a\tbb\r\n\n\"q\"\"x\"\t\r\n\"t\tab\"z\tlast";
        for chunk in [1, 2, 3, 7, 100] {
            let recs = tap_all(text, chunk);
            assert_eq!(
                recs,
                vec![
                    vec![(0, 1, false), (2, 4, false)],
                    vec![(7, 13, true), (14, 14, false)],
                    vec![(16, 23, true), (24, 28, false)],
                ],
                "chunk {chunk}"
            );
            // The same records and field counts as the csv crate reads.
            let mut r = csv::ReaderBuilder::new()
                .delimiter(b'\t')
                .has_headers(false)
                .flexible(true)
                .from_reader(&text[..]);
            let counts: Vec<usize> = r.byte_records().map(|x| x.unwrap().len()).collect();
            assert_eq!(counts, recs.iter().map(Vec::len).collect::<Vec<_>>());
        }
    }

    #[test]
    fn quotes_are_undone_as_the_csv_reader_does() {
        assert_eq!(unquote(b"\"a\"\"b\""), b"a\"b");
        assert_eq!(unquote(b"\"ab\"cd"), b"abcd");
        assert_eq!(unquote(b"plain"), b"plain");
    }

    #[test]
    fn pngs_are_valid() {
        let rgb: Vec<u8> = (0..4 * 3 * 3).map(|i| i as u8).collect();
        let png = encode_png(4, 3, &rgb);
        assert_eq!(ImageFormat::of(&png), Some(ImageFormat::Png));
        // Checked against the known values of these checksums.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
        // The zlib stream inflates to the scanlines.
        let idat_len = u32::from_be_bytes(png[33..37].try_into().unwrap()) as usize;
        assert_eq!(&png[37..41], b"IDAT");
        let z = &png[41..41 + idat_len];
        let mut out = vec![];
        flate_check(z, &mut out);
        assert_eq!(out.len(), 3 * (1 + 4 * 3));
        assert_eq!(&out[1..13], &rgb[..12]);
        // A large image takes several stored blocks.
        let big = encode_png(200, 200, &vec![7u8; 200 * 200 * 3]);
        assert!(big.len() > 120_000);
    }

    /// Inflate stored blocks (all `encode_png` writes), checking Adler-32.
    fn flate_check(z: &[u8], out: &mut Vec<u8>) {
        assert_eq!(&z[..2], &[0x78, 0x01]);
        let mut i = 2;
        loop {
            let last = z[i] & 1 == 1;
            let n = u16::from_le_bytes([z[i + 1], z[i + 2]]) as usize;
            let nn = u16::from_le_bytes([z[i + 3], z[i + 4]]);
            assert_eq!(!(n as u16), nn);
            out.extend_from_slice(&z[i + 5..i + 5 + n]);
            i += 5 + n;
            if last {
                break;
            }
        }
        assert_eq!(
            u32::from_be_bytes(z[i..i + 4].try_into().unwrap()),
            adler32(out)
        );
    }

    #[test]
    fn cells_decode_to_pngs_and_jpegs_only() {
        let png = encode_png(2, 2, &[255; 12]);
        let b64 = Image {
            format: ImageFormat::Png,
            bytes: png.clone(),
        }
        .base64();
        let one = decode_cell(b64.as_bytes());
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].bytes, png);
        // Padding left off, line breaks inside.
        let mut wrapped = b64.trim_end_matches('=').to_string();
        wrapped.insert(10, '\n');
        assert_eq!(decode_cell(wrapped.as_bytes())[0].bytes, png);
        // A list, in Python's repr and in JSON.
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F'];
        let jb64 = Image {
            format: ImageFormat::Jpeg,
            bytes: jpeg.to_vec(),
        }
        .base64();
        for list in [
            format!("['{b64}', '{jb64}']"),
            format!("[\"{b64}\",\"{jb64}\"]"),
        ] {
            let two = decode_cell(list.as_bytes());
            assert_eq!(
                two.iter().map(|i| i.format).collect::<Vec<_>>(),
                vec![ImageFormat::Png, ImageFormat::Jpeg]
            );
            assert_eq!(two[1].bytes, jpeg);
        }
        // Text, other formats and bad base64 are no image.
        assert!(decode_cell(b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=").is_empty());
        assert!(decode_cell(b"R0lGODlhAQABAAAAACw=").is_empty()); // GIF
        assert!(decode_cell(b"not base64 at all!").is_empty());
        assert!(decode_cell(b"").is_empty());
    }
}
