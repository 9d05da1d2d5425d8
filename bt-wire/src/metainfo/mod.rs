//! `.torrent` files: BEP 3 (v1), BEP 52 (v2 and hybrid), with BEP 12 tracker tiers, BEP 19
//! web seeds, BEP 27 private torrents and BEP 47 padding files.
//!
//! Invariants of a [`Metainfo`] that parsed:
//! - every file path is safe to join to a download directory (see [`PathProblem`]) and no
//!   two files collide;
//! - `total_length` is the sum of the file lengths and fits in an `i64`;
//! - v1: there is exactly one SHA-1 per piece of `total_length`;
//! - v2: the piece length is a power of two, every non-empty file has a `pieces root`, and
//!   every file longer than a piece has a piece layer whose merkle root is that root;
//! - hybrid: the v1 files without padding are the v2 files, in order.
//!
//! The info-hash is taken over the `info` dictionary's bytes exactly as they appear in the
//! file (bencode spans), never over a re-encoding.

mod error;
pub mod merkle;
mod path;
mod writer;

use sha1::{Digest, Sha1};
use sha2::Sha256;
use swarmget_bencode::{Decoder, Dict, Value};

pub use error::{MetainfoError, PathProblem};
pub use merkle::BLOCK_SIZE as V2_BLOCK_SIZE;
pub use path::problem as path_problem;
pub use writer::TorrentBuilder;

/// The smallest piece length accepted: one 16 KiB block.
pub const MIN_PIECE_LENGTH: u64 = 16 * 1024;
/// The largest piece length accepted (real torrents stay well below it).
pub const MAX_PIECE_LENGTH: u64 = 64 * 1024 * 1024;
/// The deepest file path accepted, in components.
pub const MAX_PATH_DEPTH: usize = 256;

/// Which BitTorrent versions the torrent carries hashes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// BEP 3: SHA-1 piece hashes.
    V1,
    /// BEP 52 only: per-file SHA-256 merkle trees.
    V2,
    /// Both, over the same files (v1 with padding files aligning each file to a piece).
    Hybrid,
}

/// One file of a torrent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Components relative to the download directory. Multi-file torrents start with the
    /// torrent's name; single-file torrents are just the name.
    pub path: Vec<String>,
    /// Length in bytes.
    pub length: u64,
    /// Where the file starts in the torrent's piece space. For pure v2 torrents every file
    /// starts on a piece boundary.
    pub offset: u64,
    /// A BEP 47 padding file (attr `p`): zeros that are never written to disk.
    pub padding: bool,
    /// BEP 47 attr `x`.
    pub executable: bool,
    /// BEP 47 attr `h`.
    pub hidden: bool,
    /// v2: the root of the file's merkle tree (absent for empty files and v1 torrents).
    pub pieces_root: Option<[u8; 32]>,
    /// v2: the file's piece layer, one SHA-256 per piece; empty when the file is no longer
    /// than one piece (its `pieces_root` is then the piece's hash).
    pub piece_layer: Vec<[u8; 32]>,
}

/// The info dictionary, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    /// The suggested name: the file name, or the top directory of a multi-file torrent.
    pub name: String,
    /// Bytes per piece.
    pub piece_length: u64,
    /// BEP 27: peers come only from the torrent's trackers (no DHT, PEX or LPD).
    pub private: bool,
    /// Which hashes the torrent has.
    pub version: Version,
    /// Whether the files live in a directory named `name`.
    pub multi_file: bool,
    /// The files in piece order, padding files included.
    pub files: Vec<File>,
    /// Sum of all file lengths, padding included.
    pub total_length: u64,
    /// v1 and hybrid: one SHA-1 per piece. Empty for pure v2.
    pub piece_hashes: Vec<[u8; 20]>,
}

impl Info {
    /// The number of pieces: v1 pieces for v1 and hybrid torrents, and the sum of every
    /// file's pieces for pure v2 (where no piece spans two files).
    pub fn piece_count(&self) -> u64 {
        match self.version {
            Version::V1 | Version::Hybrid => self.piece_hashes.len() as u64,
            Version::V2 => self
                .files
                .iter()
                .map(|f| f.length.div_ceil(self.piece_length))
                .sum(),
        }
    }

    /// The length of piece `index` (a file's or the torrent's last piece may be short),
    /// or `None` beyond the last piece.
    pub fn piece_size(&self, index: u64) -> Option<u64> {
        if index >= self.piece_count() {
            return None;
        }
        Some(self.piece_spans(index).iter().map(|s| s.length).sum())
    }

    /// Where piece `index`'s bytes live: the parts of each file it covers, in order
    /// (padding files included; they are zeros never written). Empty beyond the last piece.
    /// v1 pieces run across file boundaries; v2 pieces never do.
    pub fn piece_spans(&self, index: u64) -> Vec<FileSpan> {
        let Some(start) = index
            .checked_mul(self.piece_length)
            .filter(|_| index < self.piece_count())
        else {
            return Vec::new();
        };
        let end = start.saturating_add(self.piece_length);
        // Files are in offset order: skip those that end before the piece starts.
        let first = self.files.partition_point(|f| f.offset + f.length <= start);
        let mut spans = Vec::new();
        for (i, f) in self.files.iter().enumerate().skip(first) {
            if f.offset >= end {
                break;
            }
            let from = start.max(f.offset);
            let to = end.min(f.offset + f.length);
            if to > from {
                spans.push(FileSpan {
                    file: i,
                    offset: from - f.offset,
                    length: to - from,
                });
            }
        }
        spans
    }
}

/// A run of bytes of one file inside a piece.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSpan {
    /// Index into [`Info::files`].
    pub file: usize,
    /// Offset in that file.
    pub offset: u64,
    /// Bytes.
    pub length: u64,
}

/// A parsed `.torrent` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metainfo {
    /// The checked info dictionary.
    pub info: Info,
    /// The `info` dictionary's bytes, as in the file (for ut_metadata and saving).
    pub info_bytes: Vec<u8>,
    /// SHA-1 of `info_bytes`: the v1 info-hash (v1 and hybrid torrents).
    pub info_hash: Option<[u8; 20]>,
    /// SHA-256 of `info_bytes`: the v2 info-hash (v2 and hybrid torrents).
    pub info_hash_v2: Option<[u8; 32]>,
    /// `announce`.
    pub announce: Option<String>,
    /// `announce-list` (BEP 12), tiers in order, empty tiers dropped.
    pub announce_list: Vec<Vec<String>>,
    /// `url-list` (BEP 19) web seeds.
    pub url_list: Vec<String>,
    /// `comment`.
    pub comment: Option<String>,
    /// `created by`.
    pub created_by: Option<String>,
    /// `creation date`, seconds since the Unix epoch.
    pub creation_date: Option<i64>,
}

impl Metainfo {
    /// Parses and checks a `.torrent` file.
    ///
    /// Dictionary keys out of order (which real torrents have) are accepted; the info-hash
    /// is over the bytes as written either way.
    pub fn parse(torrent: &[u8]) -> Result<Self, MetainfoError> {
        let root = Decoder::new().lenient(true).decode(torrent)?.value;
        let top = root.as_dict().ok_or(MetainfoError::NotADictionary)?;
        if top.get_all(b"info").nth(1).is_some() {
            return Err(MetainfoError::DuplicateKey("info"));
        }
        let info_value = top.get("info").ok_or(MetainfoError::Missing("info"))?;
        let layers = match top.get("piece layers") {
            None => None,
            Some(v) => Some(v.as_dict().ok_or(MetainfoError::WrongType {
                key: "piece layers",
                expected: "a dictionary",
            })?),
        };
        let info = parse_info(info_value, layers)?;
        let mut metainfo = Self::with_info(info, info_value.raw());
        metainfo.announce = opt_text(top, "announce")?;
        metainfo.announce_list = announce_list(top)?;
        metainfo.url_list = url_list(top)?;
        metainfo.comment = opt_text(top, "comment")?;
        metainfo.created_by = opt_text(top, "created by")?;
        metainfo.creation_date = top.get("creation date").and_then(Value::as_int);
        Ok(metainfo)
    }

    /// Parses a bare info dictionary, as received by ut_metadata (BEP 9). v2 piece layers
    /// are not part of it, so they are not required (nor checked) here.
    pub fn from_info_bytes(info_bytes: &[u8]) -> Result<Self, MetainfoError> {
        let value = Decoder::new().lenient(true).decode(info_bytes)?.value;
        let info = parse_info_with(&value, None, false)?;
        Ok(Self::with_info(info, value.raw()))
    }

    fn with_info(info: Info, raw: &[u8]) -> Self {
        let v1 = matches!(info.version, Version::V1 | Version::Hybrid);
        let v2 = matches!(info.version, Version::V2 | Version::Hybrid);
        Self {
            info_hash: v1.then(|| Sha1::digest(raw).into()),
            info_hash_v2: v2.then(|| Sha256::digest(raw).into()),
            info,
            info_bytes: raw.to_vec(),
            announce: None,
            announce_list: Vec::new(),
            url_list: Vec::new(),
            comment: None,
            created_by: None,
            creation_date: None,
        }
    }

    /// The tracker tiers to use: `announce-list` when present (BEP 12), else `announce`.
    pub fn tracker_tiers(&self) -> Vec<Vec<String>> {
        if !self.announce_list.is_empty() {
            return self.announce_list.clone();
        }
        self.announce.iter().map(|a| vec![a.clone()]).collect()
    }

    /// The 20 bytes that name the swarm on the wire and to trackers: the v1 info-hash, or
    /// the v2 one truncated (BEP 52). Every parsed torrent has one.
    pub fn wire_info_hash(&self) -> Option<[u8; 20]> {
        match (self.info_hash, self.info_hash_v2) {
            (Some(h), _) => Some(h),
            (None, Some(h2)) => h2[..20].try_into().ok(),
            (None, None) => None,
        }
    }
}

fn wrong(key: &'static str, expected: &'static str) -> MetainfoError {
    MetainfoError::WrongType { key, expected }
}

fn opt_text(dict: &Dict<'_>, key: &'static str) -> Result<Option<String>, MetainfoError> {
    let utf8_key = format!("{key}.utf-8");
    match dict.get(key) {
        None => Ok(None),
        Some(v) => {
            let plain = v.as_bytes().ok_or(wrong(key, "a string"))?;
            let utf8 = dict.get(&utf8_key).and_then(Value::as_bytes);
            Ok(Some(path::text(utf8, plain)))
        }
    }
}

/// An integer within `min..=max`.
fn int_in(
    dict: &Dict<'_>,
    key: &'static str,
    name: &'static str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, MetainfoError> {
    let Some(v) = dict.get(key) else {
        return Ok(None);
    };
    let n = v.as_int().ok_or(wrong(name, "an integer"))?;
    if n < min || n > max {
        return Err(MetainfoError::OutOfRange {
            key: name,
            value: n,
            min,
            max,
        });
    }
    Ok(Some(n))
}

fn announce_list(top: &Dict<'_>) -> Result<Vec<Vec<String>>, MetainfoError> {
    let Some(v) = top.get("announce-list") else {
        return Ok(Vec::new());
    };
    let tiers = v
        .as_list()
        .ok_or(wrong("announce-list", "a list of lists"))?;
    let mut out = Vec::new();
    for tier in tiers {
        let urls = tier
            .as_list()
            .ok_or(wrong("announce-list", "a list of lists"))?;
        let tier: Vec<String> = urls
            .iter()
            .filter_map(|u| u.as_str())
            .filter(|u| !u.is_empty())
            .map(str::to_string)
            .collect();
        if !tier.is_empty() {
            out.push(tier);
        }
    }
    Ok(out)
}

fn url_list(top: &Dict<'_>) -> Result<Vec<String>, MetainfoError> {
    // BEP 19: a single URL as a string, or a list of them.
    match top.get("url-list") {
        None => Ok(Vec::new()),
        Some(v) => {
            if let Some(bytes) = v.as_bytes() {
                let url = String::from_utf8_lossy(bytes).into_owned();
                return Ok(if url.is_empty() { vec![] } else { vec![url] });
            }
            let list = v
                .as_list()
                .ok_or(wrong("url-list", "a string or a list of strings"))?;
            Ok(list
                .iter()
                .filter_map(|u| u.as_str())
                .filter(|u| !u.is_empty())
                .map(str::to_string)
                .collect())
        }
    }
}

fn parse_info(info: &Value<'_>, layers: Option<&Dict<'_>>) -> Result<Info, MetainfoError> {
    parse_info_with(info, layers, true)
}

fn parse_info_with(
    info: &Value<'_>,
    layers: Option<&Dict<'_>>,
    require_layers: bool,
) -> Result<Info, MetainfoError> {
    let dict = info.as_dict().ok_or(wrong("info", "a dictionary"))?;
    // Only lenient decoding lets keys repeat; those that shape the files must not.
    for (key, name) in [
        (&b"name"[..], "info.name"),
        (b"piece length", "info.piece length"),
        (b"pieces", "info.pieces"),
        (b"length", "info.length"),
        (b"files", "info.files"),
        (b"file tree", "info.file tree"),
        (b"meta version", "info.meta version"),
    ] {
        if dict.get_all(key).nth(1).is_some() {
            return Err(MetainfoError::DuplicateKey(name));
        }
    }
    let name_plain = dict
        .get("name")
        .ok_or(MetainfoError::Missing("info.name"))?
        .as_bytes()
        .ok_or(wrong("info.name", "a string"))?;
    let name = path::text(dict.get("name.utf-8").and_then(Value::as_bytes), name_plain);
    let piece_length = int_in(
        dict,
        "piece length",
        "info.piece length",
        MIN_PIECE_LENGTH as i64,
        MAX_PIECE_LENGTH as i64,
    )?
    .ok_or(MetainfoError::Missing("info.piece length"))? as u64;
    let private =
        int_in(dict, "private", "info.private", i64::MIN, i64::MAX)?.is_some_and(|p| p == 1);

    let meta_version = match dict.get("meta version") {
        None => None,
        Some(v) => match v.as_int() {
            Some(2) => Some(2),
            Some(n) => return Err(MetainfoError::UnsupportedVersion(n)),
            None => return Err(wrong("info.meta version", "an integer")),
        },
    };
    let has_v1 = dict.contains_key("pieces");
    let version = match (has_v1, meta_version.is_some()) {
        (true, false) => Version::V1,
        (false, true) => Version::V2,
        (true, true) => Version::Hybrid,
        (false, false) => return Err(MetainfoError::NoPieces),
    };

    let v1 = if has_v1 {
        Some(v1_files(dict, &name)?)
    } else {
        None
    };
    let v2 = if meta_version.is_some() {
        if !piece_length.is_power_of_two() {
            return Err(MetainfoError::PieceLengthNotPowerOfTwo(piece_length));
        }
        let tree = dict
            .get("file tree")
            .ok_or(MetainfoError::Missing("info.file tree"))?;
        Some(v2::files(
            tree,
            &name,
            piece_length,
            layers,
            require_layers,
        )?)
    } else {
        None
    };

    let (files, multi_file, piece_hashes) = match (v1, v2) {
        (Some((files, multi, hashes)), None) => (files, multi, hashes),
        (None, Some((files, multi))) => (files, multi, Vec::new()),
        (Some((mut files, multi, hashes)), Some((v2_files, _))) => {
            v2::merge_hybrid(&mut files, v2_files, piece_length)?;
            (files, multi, hashes)
        }
        (None, None) => return Err(MetainfoError::NoPieces),
    };
    check_collisions(&files)?;
    let total_length = files.iter().try_fold(0u64, |sum, f| {
        sum.checked_add(f.length)
            .filter(|&t| t <= i64::MAX as u64)
            .ok_or(MetainfoError::TotalTooLarge)
    })?;
    if total_length == 0 {
        return Err(MetainfoError::Empty);
    }
    if has_v1 {
        let expected = total_length.div_ceil(piece_length);
        let found = piece_hashes.len() as u64;
        if found != expected {
            return Err(MetainfoError::PieceCountMismatch {
                found,
                expected,
                total_length,
                piece_length,
            });
        }
    }
    Ok(Info {
        name,
        piece_length,
        private,
        version,
        multi_file,
        files,
        total_length,
        piece_hashes,
    })
}

type V1Files = (Vec<File>, bool, Vec<[u8; 20]>);

fn v1_files(dict: &Dict<'_>, name: &str) -> Result<V1Files, MetainfoError> {
    let pieces = dict
        .get("pieces")
        .and_then(Value::as_bytes)
        .ok_or(wrong("info.pieces", "a string"))?;
    if pieces.len() % 20 != 0 {
        return Err(MetainfoError::PiecesNotMultipleOf20(pieces.len()));
    }
    // The hashes are in the input already, so this allocation is bounded by it. Lengths
    // are checked against their count by the caller, after the files are summed.
    let hashes: Vec<[u8; 20]> = pieces
        .chunks_exact(20)
        .map(|c| c.try_into().expect("chunks of 20"))
        .collect();

    let mut files = Vec::new();
    let mut offset = 0u64;
    let multi = match dict.get("files") {
        Some(list) => {
            let list = list.as_list().ok_or(wrong("info.files", "a list"))?;
            for entry in list {
                let entry = entry
                    .as_dict()
                    .ok_or(wrong("info.files", "a list of dictionaries"))?;
                let length = int_in(entry, "length", "info.files.length", 0, i64::MAX)?
                    .ok_or(MetainfoError::Missing("info.files.length"))?
                    as u64;
                let attr = entry.get("attr").and_then(Value::as_bytes).unwrap_or(b"");
                let mut path = vec![name.to_string()];
                path.extend(v1_path(entry)?);
                path::check(&path)?;
                files.push(file(path, length, offset, attr));
                offset = offset
                    .checked_add(length)
                    .ok_or(MetainfoError::TotalTooLarge)?;
            }
            true
        }
        None => {
            let length = int_in(dict, "length", "info.length", 0, i64::MAX)?
                .ok_or(MetainfoError::Missing("info.length"))? as u64;
            let attr = dict.get("attr").and_then(Value::as_bytes).unwrap_or(b"");
            let path = vec![name.to_string()];
            path::check(&path)?;
            files.push(file(path, length, 0, attr));
            false
        }
    };
    Ok((files, multi, hashes))
}

fn v1_path(entry: &Dict<'_>) -> Result<Vec<String>, MetainfoError> {
    let plain = entry
        .get("path")
        .ok_or(MetainfoError::Missing("info.files.path"))?
        .as_list()
        .ok_or(wrong("info.files.path", "a list of strings"))?;
    let utf8 = entry.get("path.utf-8").and_then(Value::as_list);
    if plain.len() > MAX_PATH_DEPTH {
        return Err(MetainfoError::OutOfRange {
            key: "info.files.path components",
            value: plain.len() as i64,
            min: 1,
            max: MAX_PATH_DEPTH as i64,
        });
    }
    let utf8 = utf8.filter(|u| u.len() == plain.len());
    plain
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let bytes = c
                .as_bytes()
                .ok_or(wrong("info.files.path", "a list of strings"))?;
            let alt = utf8.and_then(|u| u[i].as_bytes());
            Ok(path::text(alt, bytes))
        })
        .collect()
}

fn file(path: Vec<String>, length: u64, offset: u64, attr: &[u8]) -> File {
    File {
        path,
        length,
        offset,
        padding: attr.contains(&b'p'),
        executable: attr.contains(&b'x'),
        hidden: attr.contains(&b'h'),
        pieces_root: None,
        piece_layer: Vec::new(),
    }
}

/// No two files share a path and no file's path is a directory of another. Sorted by
/// components, a path that prefixes another comes right before some path it prefixes.
/// Padding files are never created, and creators name them `.pad/<size>` repeatedly.
fn check_collisions(files: &[File]) -> Result<(), MetainfoError> {
    let mut paths: Vec<&[String]> = files
        .iter()
        .filter(|f| !f.padding)
        .map(|f| f.path.as_slice())
        .collect();
    paths.sort_unstable();
    for pair in paths.windows(2) {
        if pair[1].starts_with(pair[0]) {
            return Err(MetainfoError::DuplicatePath(pair[0].join("/")));
        }
    }
    Ok(())
}

mod v2;

#[cfg(test)]
mod tests;
