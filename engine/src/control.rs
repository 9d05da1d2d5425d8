//! The control file, `FILE.swarmget`, beside a download in progress.
//!
//! It records which pieces are on disk so `-c` can resume after a stop or a crash. Version
//! 2 (all integers big-endian) is a header, tagged sections, and a checksum:
//!
//! | field   | bytes | meaning                                                  |
//! |---------|-------|----------------------------------------------------------|
//! | magic   | 8     | `SWARMGET`                                               |
//! | version | 2     | `00 02`                                                  |
//! | sections| …     | each: tag (2), body length (4), body                     |
//! | crc32   | 4     | CRC-32 of every byte before it                           |
//!
//! | tag      | section   | body                                                              |
//! |----------|-----------|-------------------------------------------------------------------|
//! | `0x8001` | layout    | total length (8), piece length (8)                                |
//! | `0x8002` | files     | count (4), then per file: length (8), flags (1: bit 0 wanted, bit 1 padding), path length (2), path (UTF-8, `/`-separated, relative) |
//! | `0x8003` | verified  | bitfield of verified pieces, most significant bit first           |
//! | `0x8004` | partial   | count (4), then per range: start (8), end (8); written but not yet verified bytes, sorted and disjoint |
//! | `0x0005` | source    | the URI the download started from (UTF-8, ≤ 64 KiB)               |
//! | `0x0006` | info-hash | the torrent's 20-byte info-hash                                   |
//! | `0x0007` | etag      | the strong `ETag` of the version on disk (≤ 1 KiB)                |
//! | `0x0008` | last-modified | its `Last-Modified` date, as sent (≤ 1 KiB)                   |
//! | `0x0009` | mdtm      | its FTP `MDTM` time (≤ 1 KiB)                                     |
//!
//! The validators (see [`crate::validators`]) are optional: a file without them loads,
//! and the first answer of the resumed run supplies them. The total length they go with
//! is the layout's. New fields are new tags, not a new version. A tag with its top bit set is *required*: a reader that does not
//! know it refuses the file, because ignoring it would misread the rest (the four above
//! describe the bytes on disk). A tag without the top bit is *optional*: an unknown one is
//! skipped. Each tag appears at most once; layout, files and verified must be present.
//!
//! Decoding checks everything before it is trusted: the checksum, the lengths of every
//! section against the bytes present (nothing is allocated from an unchecked count), the
//! file lengths against the total, paths that stay inside the download directory, the
//! bitfield length and spare bits, and partial ranges inside the byte space.
//!
//! Version 1 files (one file, a "done" bitfield, the source URI) are still read and come
//! back as a version-2 [`ControlState`] with one file whose path is empty, meaning the file
//! the control file sits beside (an empty path is allowed only for a single file).
//!
//! Saving is crash-safe: the bytes go to `FILE.swarmget.tmp`, which is fsynced and then
//! renamed over the old control file (and the directory fsynced), so a reader sees
//! either the old or the new record, never a torn one. A piece is set only after the
//! disk worker confirmed all its bytes written (and, when it has a hash, after it
//! verified), and the save is queued on that same worker behind those writes.
//!
//! Unlike aria2's `.aria2` file this one carries a checksum, so a damaged record is
//! detected instead of trusted.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use crate::bitfield::Bitfield;
use crate::storage::Storage;
use crate::validators::{MAX_VALIDATOR, Validators};

const MAGIC: &[u8; 8] = b"SWARMGET";
const V1: u16 = 1;
const V2: u16 = 2;
const MAX_SOURCE: usize = 64 * 1024;

const REQUIRED: u16 = 0x8000;
const TAG_LAYOUT: u16 = 0x8001;
const TAG_FILES: u16 = 0x8002;
const TAG_VERIFIED: u16 = 0x8003;
const TAG_PARTIAL: u16 = 0x8004;
const TAG_SOURCE: u16 = 0x0005;
const TAG_INFO_HASH: u16 = 0x0006;
const TAG_ETAG: u16 = 0x0007;
const TAG_LAST_MODIFIED: u16 = 0x0008;
const TAG_MDTM: u16 = 0x0009;

const FLAG_WANTED: u8 = 1;
const FLAG_PADDING: u8 = 2;

/// One file of a recorded byte space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlFile {
    /// Path relative to the download directory, `/`-separated; empty for the single file
    /// the control file sits beside.
    pub path: String,
    /// Length in bytes.
    pub length: u64,
    /// Whether the file is wanted.
    pub wanted: bool,
    /// Whether it is a BitTorrent pad file.
    pub padding: bool,
}

/// What a version-2 control file records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlState {
    /// Length of the byte space (the sum of the file lengths).
    pub total_len: u64,
    /// Piece length.
    pub piece_len: u64,
    /// The files, in byte-space order.
    pub files: Vec<ControlFile>,
    /// Pieces whose bytes are on disk and verified (or, for pieces without a hash,
    /// written).
    pub verified: Bitfield,
    /// Byte ranges written but not part of a verified piece yet, sorted and disjoint.
    pub partial: Vec<Range<u64>>,
    /// The URI the download started from.
    pub source: String,
    /// The torrent's info-hash, for a BitTorrent download.
    pub info_hash: Option<[u8; 20]>,
    /// What identifies the remote version the bytes on disk came from.
    pub validators: Validators,
}

impl ControlState {
    /// Every byte range the record says is on disk, verified pieces and partial
    /// ranges together, sorted and merged: what survives a change of piece length.
    pub fn written_ranges(&self) -> Vec<Range<u64>> {
        let mut ranges: Vec<Range<u64>> = (0..self.verified.len())
            .filter(|&i| self.verified.get(i))
            .map(|i| {
                let start = i as u64 * self.piece_len;
                start..(start + self.piece_len).min(self.total_len)
            })
            .chain(self.partial.iter().cloned())
            .collect();
        ranges.sort_by_key(|r| r.start);
        let mut merged: Vec<Range<u64>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }
}

/// Why a control file could not be used.
#[derive(Debug)]
pub enum ControlError {
    /// Reading or writing failed.
    Io(io::Error),
    /// The bytes are not a control file of a known version, or are damaged.
    Corrupt(&'static str),
}

impl std::fmt::Display for ControlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ControlError::Io(e) => write!(f, "control file: {e}"),
            ControlError::Corrupt(why) => write!(f, "control file is damaged: {why}"),
        }
    }
}

impl std::error::Error for ControlError {}

impl From<io::Error> for ControlError {
    fn from(e: io::Error) -> Self {
        ControlError::Io(e)
    }
}

/// The control file path for a download written to `path`.
pub fn control_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".swarmget");
    PathBuf::from(name)
}

impl ControlState {
    /// The record as version-2 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.verified.as_bytes().len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&V2.to_be_bytes());

        let mut body = Vec::with_capacity(16);
        body.extend_from_slice(&self.total_len.to_be_bytes());
        body.extend_from_slice(&self.piece_len.to_be_bytes());
        section(&mut out, TAG_LAYOUT, &body);

        body.clear();
        body.extend_from_slice(&(self.files.len() as u32).to_be_bytes());
        for f in &self.files {
            let path = &f.path.as_bytes()[..f.path.len().min(u16::MAX as usize)];
            body.extend_from_slice(&f.length.to_be_bytes());
            let flags =
                if f.wanted { FLAG_WANTED } else { 0 } | if f.padding { FLAG_PADDING } else { 0 };
            body.push(flags);
            body.extend_from_slice(&(path.len() as u16).to_be_bytes());
            body.extend_from_slice(path);
        }
        section(&mut out, TAG_FILES, &body);

        section(&mut out, TAG_VERIFIED, self.verified.as_bytes());

        body.clear();
        body.extend_from_slice(&(self.partial.len() as u32).to_be_bytes());
        for r in &self.partial {
            body.extend_from_slice(&r.start.to_be_bytes());
            body.extend_from_slice(&r.end.to_be_bytes());
        }
        section(&mut out, TAG_PARTIAL, &body);

        let source = &self.source.as_bytes()[..self.source.len().min(MAX_SOURCE)];
        section(&mut out, TAG_SOURCE, source);
        if let Some(h) = &self.info_hash {
            section(&mut out, TAG_INFO_HASH, h);
        }
        for (tag, value) in [
            (TAG_ETAG, &self.validators.etag),
            (TAG_LAST_MODIFIED, &self.validators.last_modified),
            (TAG_MDTM, &self.validators.mdtm),
        ] {
            if let Some(v) = value.as_deref().filter(|v| v.len() <= MAX_VALIDATOR) {
                section(&mut out, tag, v.as_bytes());
            }
        }
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// Reads a version-2 or version-1 record, checking every field.
    pub fn decode(bytes: &[u8]) -> Result<ControlState, ControlError> {
        let body_len = bytes
            .len()
            .checked_sub(4)
            .ok_or(ControlError::Corrupt("too short"))?;
        let (body, crc) = bytes.split_at(body_len);
        let mut r = Reader(body);
        if r.take(8)? != MAGIC {
            return Err(ControlError::Corrupt("not a swarmget control file"));
        }
        let version = r.u16()?;
        if version != V1 && version != V2 {
            return Err(ControlError::Corrupt("unknown version"));
        }
        if crc32fast::hash(body).to_be_bytes() != crc {
            return Err(ControlError::Corrupt("checksum mismatch"));
        }
        if version == V1 {
            return decode_v1(r);
        }
        decode_v2(r)
    }

    /// Loads the control file at `path`; `Ok(None)` if there is none.
    pub fn load(path: &Path) -> Result<Option<ControlState>, ControlError> {
        match fs::read(path) {
            Ok(bytes) => ControlState::decode(&bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Saves crash-safely: temporary file, fsync, rename, fsync of the directory.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        save_bytes(path, &self.encode())
    }
}

impl ControlFile {
    /// The record of `storage`'s file `index`, its path made relative to `dir`; `None`
    /// when the path is not under `dir` or not UTF-8 (such a file cannot be recorded).
    pub fn of(storage: &Storage, index: usize, dir: &Path) -> Option<ControlFile> {
        let entry = storage.files().get(index)?;
        let relative = entry.path.strip_prefix(dir).ok()?;
        let parts = relative
            .components()
            .map(|c| match c {
                Component::Normal(part) => part.to_str(),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(ControlFile {
            path: parts.join("/"),
            length: entry.length,
            wanted: entry.wanted,
            padding: entry.padding,
        })
    }
}

impl ControlState {
    /// A record of `storage` (files relative to `dir`) with nothing verified yet; `None`
    /// when a file's path cannot be recorded (see [`ControlFile::of`]).
    pub fn new(storage: &Storage, dir: &Path, source: String) -> Option<ControlState> {
        let files = (0..storage.files().len())
            .map(|i| ControlFile::of(storage, i, dir))
            .collect::<Option<Vec<_>>>()?;
        Some(ControlState {
            total_len: storage.total_len(),
            piece_len: storage.piece_len(),
            files,
            verified: Bitfield::new(usize::try_from(storage.piece_count()).ok()?),
            partial: Vec::new(),
            source,
            info_hash: None,
            validators: Validators::default(),
        })
    }

    /// Whether this record describes the same bytes as `storage` under `dir`: the same
    /// piece length and the same files (paths, lengths, padding) in the same order, so
    /// its pieces can be trusted for it. Wanted flags may differ (a new `--select-file`
    /// does not move bytes). A version-1 record's unnamed single file matches any single
    /// file of its length.
    pub fn describes(&self, storage: &Storage, dir: &Path) -> bool {
        self.piece_len == storage.piece_len() && self.same_files(storage, dir)
    }

    /// Whether this record's files are `storage`'s, whatever the piece length: its
    /// bytes on disk are still the download's, but its pieces are on another grid
    /// (`--allow-piece-length-change`).
    pub fn same_files(&self, storage: &Storage, dir: &Path) -> bool {
        self.total_len == storage.total_len()
            && self.files.len() == storage.files().len()
            && self.files.iter().enumerate().all(|(i, f)| {
                let single_unnamed = f.path.is_empty() && self.files.len() == 1;
                ControlFile::of(storage, i, dir).is_some_and(|now| {
                    (single_unnamed || now.path == f.path)
                        && now.length == f.length
                        && now.padding == f.padding
                })
            })
    }
}

fn section(out: &mut Vec<u8>, tag: u16, body: &[u8]) {
    out.extend_from_slice(&tag.to_be_bytes());
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
}

fn decode_v1(mut r: Reader<'_>) -> Result<ControlState, ControlError> {
    let _flags = r.u16()?;
    let total_len = r.u64()?;
    let piece_len = r.u64()?;
    let source_len = r.u32()? as usize;
    if source_len > MAX_SOURCE {
        return Err(ControlError::Corrupt("source too long"));
    }
    let source = utf8(r.take(source_len)?, "source is not UTF-8")?;
    let bits_len = r.u32()? as usize;
    let verified = bitfield(r.take(bits_len)?, total_len, piece_len)?;
    if !r.0.is_empty() {
        return Err(ControlError::Corrupt("trailing bytes"));
    }
    Ok(ControlState {
        total_len,
        piece_len,
        files: vec![ControlFile {
            path: String::new(),
            length: total_len,
            wanted: true,
            padding: false,
        }],
        verified,
        partial: Vec::new(),
        source,
        info_hash: None,
        validators: Validators::default(),
    })
}

fn decode_v2(mut r: Reader<'_>) -> Result<ControlState, ControlError> {
    let mut layout = None;
    let mut files = None;
    let mut verified = None;
    let mut partial = None;
    let mut source = None;
    let mut info_hash = None;
    let mut validators = Validators::default();
    while !r.0.is_empty() {
        let tag = r.u16()?;
        let len = r.u32()? as usize;
        let mut body = Reader(r.take(len)?);
        let twice = ControlError::Corrupt("a section appears twice");
        match tag {
            TAG_LAYOUT => {
                let value = (body.u64()?, body.u64()?);
                if layout.replace(value).is_some() {
                    return Err(twice);
                }
            }
            TAG_FILES => {
                if files.replace(read_files(&mut body)?).is_some() {
                    return Err(twice);
                }
            }
            // Checked against the layout once every section is read.
            TAG_VERIFIED => {
                if verified.replace(body.take(len)?).is_some() {
                    return Err(twice);
                }
            }
            TAG_PARTIAL => {
                if partial.replace(read_ranges(&mut body)?).is_some() {
                    return Err(twice);
                }
            }
            TAG_SOURCE => {
                if len > MAX_SOURCE {
                    return Err(ControlError::Corrupt("source too long"));
                }
                let value = utf8(body.take(len)?, "source is not UTF-8")?;
                if source.replace(value).is_some() {
                    return Err(twice);
                }
            }
            TAG_INFO_HASH => {
                let value: [u8; 20] = body.take(20)?.try_into().expect("20 bytes");
                if info_hash.replace(value).is_some() {
                    return Err(twice);
                }
            }
            TAG_ETAG | TAG_LAST_MODIFIED | TAG_MDTM => {
                if len > MAX_VALIDATOR {
                    return Err(ControlError::Corrupt("validator too long"));
                }
                let value = utf8(body.take(len)?, "validator is not UTF-8")?;
                let slot = match tag {
                    TAG_ETAG => &mut validators.etag,
                    TAG_LAST_MODIFIED => &mut validators.last_modified,
                    _ => &mut validators.mdtm,
                };
                if slot.replace(value).is_some() {
                    return Err(twice);
                }
            }
            t if t & REQUIRED != 0 => {
                return Err(ControlError::Corrupt("unknown required section"));
            }
            _ => {
                // An optional section from a newer writer.
                body.take(len)?;
            }
        }
        if !body.0.is_empty() {
            return Err(ControlError::Corrupt("section longer than its fields"));
        }
    }
    let (total_len, piece_len) = layout.ok_or(ControlError::Corrupt("no layout section"))?;
    let files = files.ok_or(ControlError::Corrupt("no files section"))?;
    let verified = bitfield(
        verified.ok_or(ControlError::Corrupt("no verified section"))?,
        total_len,
        piece_len,
    )?;
    let sum = files
        .iter()
        .try_fold(0u64, |sum, f| sum.checked_add(f.length))
        .ok_or(ControlError::Corrupt("file lengths overflow"))?;
    if sum != total_len {
        return Err(ControlError::Corrupt(
            "file lengths do not add up to the total",
        ));
    }
    if files.len() > 1 && files.iter().any(|f| f.path.is_empty()) {
        return Err(ControlError::Corrupt("a file of several has no path"));
    }
    let partial = partial.unwrap_or_default();
    if partial.last().is_some_and(|r| r.end > total_len) {
        return Err(ControlError::Corrupt("partial range past the end"));
    }
    Ok(ControlState {
        total_len,
        piece_len,
        files,
        verified,
        partial,
        source: source.unwrap_or_default(),
        info_hash,
        validators,
    })
}

fn read_files(body: &mut Reader<'_>) -> Result<Vec<ControlFile>, ControlError> {
    let count = body.u32()? as usize;
    // Each file takes at least 11 bytes, so the count is bounded by the section.
    if count > body.0.len() / 11 {
        return Err(ControlError::Corrupt("more files than the section holds"));
    }
    let mut files = Vec::with_capacity(count);
    for _ in 0..count {
        let length = body.u64()?;
        let flags = body.take(1)?[0];
        if flags & !(FLAG_WANTED | FLAG_PADDING) != 0 {
            return Err(ControlError::Corrupt("unknown file flags"));
        }
        let path_len = body.u16()? as usize;
        let path = utf8(body.take(path_len)?, "file path is not UTF-8")?;
        if !path.is_empty() && !stays_inside(&path) {
            return Err(ControlError::Corrupt(
                "file path leaves the download directory",
            ));
        }
        files.push(ControlFile {
            path,
            length,
            wanted: flags & FLAG_WANTED != 0,
            padding: flags & FLAG_PADDING != 0,
        });
    }
    Ok(files)
}

/// Whether a recorded path is relative and made of plain names only.
fn stays_inside(path: &str) -> bool {
    !path.contains('\0')
        && !path.split('/').any(str::is_empty)
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
}

fn read_ranges(body: &mut Reader<'_>) -> Result<Vec<Range<u64>>, ControlError> {
    let count = body.u32()? as usize;
    if count > body.0.len() / 16 {
        return Err(ControlError::Corrupt("more ranges than the section holds"));
    }
    let mut ranges: Vec<Range<u64>> = Vec::with_capacity(count);
    for _ in 0..count {
        let (start, end) = (body.u64()?, body.u64()?);
        if start >= end {
            return Err(ControlError::Corrupt("empty or reversed partial range"));
        }
        if ranges.last().is_some_and(|prev| start < prev.end) {
            return Err(ControlError::Corrupt(
                "partial ranges overlap or are unsorted",
            ));
        }
        ranges.push(start..end);
    }
    Ok(ranges)
}

fn bitfield(bits: &[u8], total_len: u64, piece_len: u64) -> Result<Bitfield, ControlError> {
    if piece_len == 0 {
        return Err(ControlError::Corrupt("piece length is zero"));
    }
    let pieces = usize::try_from(total_len.div_ceil(piece_len))
        .map_err(|_| ControlError::Corrupt("too many pieces"))?;
    if bits.len() != pieces.div_ceil(8) {
        return Err(ControlError::Corrupt("bitfield length does not match"));
    }
    Bitfield::from_bytes(bits, pieces).ok_or(ControlError::Corrupt("bitfield has spare bits set"))
}

fn utf8(bytes: &[u8], why: &'static str) -> Result<String, ControlError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| ControlError::Corrupt(why))
}

/// Writes `bytes` to `path` crash-safely: a temporary file, fsync, rename.
pub(crate) fn save_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Makes the rename itself durable; not every filesystem allows it.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ControlError> {
        if self.0.len() < n {
            return Err(ControlError::Corrupt("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u16(&mut self) -> Result<u16, ControlError> {
        Ok(u16::from_be_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, ControlError> {
        Ok(u32::from_be_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, ControlError> {
        Ok(u64::from_be_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fields a version-1 file held.
    #[derive(Clone)]
    struct V1Record {
        total_len: u64,
        piece_len: u64,
        source: String,
        done: Bitfield,
    }

    fn sample() -> V1Record {
        let mut done = Bitfield::new(11);
        done.set(0);
        done.set(10);
        V1Record {
            total_len: 10 * 1024 * 1024 + 5,
            piece_len: 1024 * 1024,
            source: "http://127.0.0.1/f".into(),
            done,
        }
    }

    /// `sample()` as the version-2 record of a single file `f.bin`.
    fn single() -> ControlState {
        let r = sample();
        ControlState {
            total_len: r.total_len,
            piece_len: r.piece_len,
            files: vec![ControlFile {
                path: "f.bin".into(),
                length: r.total_len,
                wanted: true,
                padding: false,
            }],
            verified: r.done,
            partial: std::iter::once(1 << 20..(1 << 20) + 777).collect(),
            source: r.source,
            info_hash: None,
            validators: Validators::from_http(
                Some("\"5f3a-1c\""),
                Some("Sun, 06 Dec 2026 05:00:00 GMT"),
            ),
        }
    }

    fn multi() -> ControlState {
        let mut verified = Bitfield::new(7);
        verified.set(1);
        verified.set(6);
        let file = |path: &str, length, wanted, padding| ControlFile {
            path: path.into(),
            length,
            wanted,
            padding,
        };
        ControlState {
            total_len: 100,
            piece_len: 16,
            files: vec![
                file("dir/a.iso", 40, true, false),
                file(".pad/0", 8, true, true),
                file("dir/sub/b", 50, false, false),
                file("c", 2, true, false),
            ],
            verified,
            partial: vec![0..5, 33..40, 98..100],
            source: "https://example.test/x.meta4".into(),
            info_hash: Some([0xab; 20]),
            validators: Validators {
                mdtm: Some("20261206050000".into()),
                ..Validators::default()
            },
        }
    }

    /// Version 1's encoder, kept to produce the files older builds left behind.
    fn encode_v1(r: &V1Record) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&V1.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
        out.extend_from_slice(&r.total_len.to_be_bytes());
        out.extend_from_slice(&r.piece_len.to_be_bytes());
        out.extend_from_slice(&(r.source.len() as u32).to_be_bytes());
        out.extend_from_slice(r.source.as_bytes());
        out.extend_from_slice(&(r.done.as_bytes().len() as u32).to_be_bytes());
        out.extend_from_slice(r.done.as_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    /// `bytes` without its checksum, with `extra` appended, checksummed again: what a
    /// writer that knows more sections would produce.
    fn with_section(bytes: &[u8], tag: u16, body: &[u8]) -> Vec<u8> {
        let mut out = bytes[..bytes.len() - 4].to_vec();
        section(&mut out, tag, body);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    fn corrupt(bytes: &[u8]) -> &'static str {
        match ControlState::decode(bytes) {
            Err(ControlError::Corrupt(why)) => why,
            other => panic!("accepted or wrong error: {other:?}"),
        }
    }

    #[test]
    fn round_trip() {
        assert_eq!(ControlState::decode(&single().encode()).unwrap(), single());
        let state = multi();
        assert_eq!(ControlState::decode(&state.encode()).unwrap(), state);
        let mut bare = multi();
        bare.info_hash = None;
        bare.partial.clear();
        bare.validators = Validators::default();
        assert_eq!(ControlState::decode(&bare.encode()).unwrap(), bare);
    }

    #[test]
    fn every_single_byte_flip_and_truncation_is_caught() {
        for bytes in [single().encode(), multi().encode(), encode_v1(&sample())] {
            for i in 0..bytes.len() {
                let mut b = bytes.clone();
                b[i] ^= 0x01;
                assert!(ControlState::decode(&b).is_err(), "flip at {i} accepted");
                assert!(
                    ControlState::decode(&bytes[..i]).is_err(),
                    "cut at {i} accepted"
                );
            }
        }
    }

    #[test]
    fn version_1_files_read_as_one_unnamed_file() {
        let v1 = encode_v1(&sample());
        let state = ControlState::decode(&v1).unwrap();
        assert_eq!(
            state.files,
            vec![ControlFile {
                path: String::new(),
                length: sample().total_len,
                wanted: true,
                padding: false,
            }]
        );
        assert_eq!(state.verified, sample().done);
        assert!(state.partial.is_empty() && state.info_hash.is_none());
        assert!(state.validators.is_empty());
        assert_eq!(state.source, sample().source);
        // What the engine saves now is version 2.
        assert_eq!(&single().encode()[8..10], &V2.to_be_bytes());
    }

    #[test]
    fn unknown_optional_sections_are_skipped_and_unknown_required_ones_refused() {
        let bytes = multi().encode();
        let newer = with_section(&bytes, 0x0042, b"\"etag-value\"");
        assert_eq!(ControlState::decode(&newer).unwrap(), multi());
        let required = with_section(&bytes, 0x8042, b"x");
        assert_eq!(corrupt(&required), "unknown required section");
        let twice = with_section(&bytes, TAG_SOURCE, b"http://other/");
        assert_eq!(corrupt(&twice), "a section appears twice");
        let twice = with_section(&bytes, TAG_MDTM, b"20270101000000");
        assert_eq!(corrupt(&twice), "a section appears twice");
        let long = with_section(&bytes, TAG_ETAG, &[b'a'; MAX_VALIDATOR + 1]);
        assert_eq!(corrupt(&long), "validator too long");
    }

    #[test]
    fn a_record_without_validators_loads_as_one_that_knows_none() {
        // What the builds before the validator sections wrote: the same sections, less
        // the three optional ones.
        let mut old = single();
        old.validators = Validators::default();
        let bytes = old.encode();
        let state = ControlState::decode(&bytes).unwrap();
        assert!(state.validators.is_empty());
        assert_eq!(state, old);
    }

    #[test]
    fn escaping_paths_and_inconsistent_layouts_are_refused() {
        for bad in ["../x", "/etc/passwd", "a//b", "a/../../b", "a/", "nul\0"] {
            let mut s = multi();
            s.files[0].path = bad.into();
            assert_eq!(
                corrupt(&s.encode()),
                "file path leaves the download directory",
                "{bad:?}"
            );
        }
        let mut s = multi();
        s.files[0].path.clear();
        assert_eq!(corrupt(&s.encode()), "a file of several has no path");
        let mut s = multi();
        s.files[3].length = 3;
        assert_eq!(
            corrupt(&s.encode()),
            "file lengths do not add up to the total"
        );
        let mut s = multi();
        s.partial = vec![10..20, 15..30];
        assert_eq!(
            corrupt(&s.encode()),
            "partial ranges overlap or are unsorted"
        );
        s.partial = vec![0..1, 90..101];
        assert_eq!(corrupt(&s.encode()), "partial range past the end");
        s.partial = vec![0..1, 5..5];
        assert_eq!(corrupt(&s.encode()), "empty or reversed partial range");
        let mut s = multi();
        s.verified = Bitfield::new(9);
        assert_eq!(corrupt(&s.encode()), "bitfield length does not match");
    }

    #[test]
    fn counts_larger_than_their_section_are_refused_before_allocating() {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&V2.to_be_bytes());
        // A files section claiming four billion files in four bytes.
        section(&mut out, TAG_FILES, &u32::MAX.to_be_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        assert_eq!(corrupt(&out), "more files than the section holds");
    }

    #[test]
    fn a_record_of_a_storage_describes_it_and_no_other() {
        let dir = Path::new("/downloads");
        let storage = Storage::from_lengths(
            [
                (dir.join("album/01.flac"), 30, true),
                (dir.join("album/02.flac"), 20, false),
            ],
            16,
        )
        .unwrap();
        let state = ControlState::new(&storage, dir, "http://m/a.meta4".into()).unwrap();
        assert_eq!(state.files[0].path, "album/01.flac");
        assert!(!state.files[1].wanted);
        assert_eq!(state.verified.len(), 4);
        let state = ControlState::decode(&state.encode()).unwrap();
        assert!(state.describes(&storage, dir));
        assert!(!state.describes(&storage, Path::new("/elsewhere")));
        let moved = Storage::from_lengths(
            [
                (dir.join("album/01.flac"), 31, true),
                (dir.join("album/02.flac"), 19, true),
            ],
            16,
        )
        .unwrap();
        assert!(!state.describes(&moved, dir));
        let renamed = Storage::from_lengths(
            [
                (dir.join("album/01.flac"), 30, true),
                (dir.join("album/03.flac"), 20, true),
            ],
            16,
        )
        .unwrap();
        assert!(!state.describes(&renamed, dir));
        assert!(ControlState::new(&storage, Path::new("/other"), String::new()).is_none());
        // A version-1 record matches the single file it sits beside, by length.
        let v1 = ControlState::decode(&encode_v1(&sample())).unwrap();
        let single =
            Storage::single(dir.join("f.bin"), sample().total_len, sample().piece_len).unwrap();
        assert!(v1.describes(&single, dir));
    }

    #[test]
    fn save_replaces_atomically_and_load_reads_back() {
        let dir = crate::test_dir::TestDir::new("control-save");
        let path = control_path(&dir.path().join("f.bin"));
        assert!(ControlState::load(&path).unwrap().is_none());
        let mut rec = single();
        rec.save(&path).unwrap();
        rec.verified.set(5);
        rec.save(&path).unwrap();
        assert_eq!(ControlState::load(&path).unwrap(), Some(rec));
        assert!(!dir.path().join("f.bin.swarmget.tmp").exists());
        let state = multi();
        state.save(&path).unwrap();
        assert_eq!(ControlState::load(&path).unwrap(), Some(state));
    }
}
