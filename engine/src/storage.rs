//! A download's byte space laid over its files.
//!
//! Every download is one run of bytes `0..total`, cut into pieces of `piece_len` (the last
//! may be shorter) for the picker and the hashers, and laid over one or more files back to
//! back, in order: a Metalink document's or a torrent's files, or the single output file
//! of an HTTP/FTP download (the one-entry case). Sources and the picker think in byte-space
//! offsets only; this module turns an offset range into the per-file pieces of I/O the disk
//! worker and the hashers perform.
//!
//! Invariants, established by [`Storage::new`] and relied on everywhere below:
//! - the entries are contiguous and in order: the first starts at 0 and each next one
//!   starts where the previous ends, so no byte belongs to two files and none to no file;
//! - `total` (the end of the last entry) fits in a `u64`, and `piece_len > 0`;
//! - no two entries share a path (two would alias one file on disk).
//!
//! And for every range `r` inside `0..total`, [`Storage::segments`] yields segments that
//! are non-empty, in byte-space order, each inside one file (`file_offset + len` is at most
//! the file's length), and whose concatenation is exactly `r`. Empty files never get a
//! segment: they hold no byte.
//!
//! Unwanted entries (`wanted == false`, from `--select-file`, BEP 53 or Metalink selection)
//! stay in the byte space so offsets and pieces do not move; their segments are marked,
//! and the disk worker neither creates nor writes such files. A piece that straddles a
//! wanted and an unwanted file is still fetched whole and must be read back whole for
//! hashing (and, for BitTorrent, to serve it): with a part file
//! ([`Storage::with_part_file`]) the unwanted bytes that are written go there, each at
//! its byte-space offset (a sparse file: only boundary pieces' bytes are ever written).
//! Metalink piece hashes are per file, so its pieces never straddle and it needs none.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

/// One file of the byte space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Where the file lives (already joined with the download directory).
    pub path: PathBuf,
    /// Offset of the file's first byte in the byte space.
    pub offset: u64,
    /// Length in bytes.
    pub length: u64,
    /// Whether the user wants the file; unwanted files are never created.
    pub wanted: bool,
    /// A BitTorrent pad file (BEP 47): zeros that keep the next file piece-aligned, never
    /// written to disk.
    pub padding: bool,
}

impl FileEntry {
    /// The file's bytes in the byte space.
    pub fn range(&self) -> Range<u64> {
        self.offset..self.offset + self.length
    }

    /// Whether its bytes go to disk: wanted and not padding.
    pub fn stored(&self) -> bool {
        self.wanted && !self.padding
    }
}

/// Why a list of files does not make a byte space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageError {
    /// Entry `index` starts after the previous one ends: bytes that belong to no file.
    Gap {
        /// The entry.
        index: usize,
        /// Where it should start.
        expected: u64,
        /// Where it starts.
        offset: u64,
    },
    /// Entry `index` starts before the previous one ends: bytes that belong to two files.
    Overlap {
        /// The entry.
        index: usize,
        /// Where it should start.
        expected: u64,
        /// Where it starts.
        offset: u64,
    },
    /// Entry `index` ends past `u64::MAX`.
    TooLarge {
        /// The entry.
        index: usize,
    },
    /// Entry `index` has the same path as an earlier one.
    DuplicatePath {
        /// The entry.
        index: usize,
    },
    /// The piece length is zero.
    ZeroPieceLength,
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Gap {
                index,
                expected,
                offset,
            } => write!(
                f,
                "file {index} starts at byte {offset}, leaving a gap after byte {expected}"
            ),
            StorageError::Overlap {
                index,
                expected,
                offset,
            } => write!(
                f,
                "file {index} starts at byte {offset}, inside the file before it (which ends at {expected})"
            ),
            StorageError::TooLarge { index } => {
                write!(f, "file {index} ends past the largest possible offset")
            }
            StorageError::DuplicatePath { index } => {
                write!(f, "file {index} has the same path as an earlier file")
            }
            StorageError::ZeroPieceLength => f.write_str("piece length is zero"),
        }
    }
}

impl std::error::Error for StorageError {}

/// A run of bytes inside one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Index of the file in [`Storage::files`].
    pub file: usize,
    /// Offset in the byte space.
    pub offset: u64,
    /// Offset inside the file.
    pub file_offset: u64,
    /// Length in bytes (never zero).
    pub len: u64,
    /// Whether the file's bytes go to disk ([`FileEntry::stored`]).
    pub stored: bool,
}

/// A byte space over files, divided into pieces. See the module documentation for the
/// invariants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    files: Vec<FileEntry>,
    total: u64,
    piece_len: u64,
    /// Where bytes of unwanted files are kept, if anywhere.
    part: Option<PathBuf>,
}

impl Storage {
    /// Checks and takes `files` (with their offsets) and the piece length.
    pub fn new(files: Vec<FileEntry>, piece_len: u64) -> Result<Storage, StorageError> {
        if piece_len == 0 {
            return Err(StorageError::ZeroPieceLength);
        }
        let mut expected = 0u64;
        let mut paths = HashSet::with_capacity(files.len());
        for (index, f) in files.iter().enumerate() {
            if f.offset > expected {
                return Err(StorageError::Gap {
                    index,
                    expected,
                    offset: f.offset,
                });
            }
            if f.offset < expected {
                return Err(StorageError::Overlap {
                    index,
                    expected,
                    offset: f.offset,
                });
            }
            expected = f
                .offset
                .checked_add(f.length)
                .ok_or(StorageError::TooLarge { index })?;
            if !paths.insert(&f.path) {
                return Err(StorageError::DuplicatePath { index });
            }
        }
        Ok(Storage {
            files,
            total: expected,
            piece_len,
            part: None,
        })
    }

    /// Keeps the bytes of unwanted files that are written (those of pieces shared with
    /// a wanted file) in `path`, at their byte-space offsets.
    pub fn with_part_file(mut self, path: PathBuf) -> Storage {
        self.part = Some(path);
        self
    }

    /// The part file, if the storage has one.
    pub fn part_file(&self) -> Option<&std::path::Path> {
        self.part.as_deref()
    }

    /// Lays `(path, length, wanted)` files back to back from offset 0.
    pub fn from_lengths(
        files: impl IntoIterator<Item = (PathBuf, u64, bool)>,
        piece_len: u64,
    ) -> Result<Storage, StorageError> {
        let mut offset = 0u64;
        let mut entries = Vec::new();
        for (index, (path, length, wanted)) in files.into_iter().enumerate() {
            entries.push(FileEntry {
                path,
                offset,
                length,
                wanted,
                padding: false,
            });
            offset = offset
                .checked_add(length)
                .ok_or(StorageError::TooLarge { index })?;
        }
        Storage::new(entries, piece_len)
    }

    /// One wanted file of `length` bytes: a plain HTTP/FTP download.
    pub fn single(path: PathBuf, length: u64, piece_len: u64) -> Result<Storage, StorageError> {
        Storage::from_lengths([(path, length, true)], piece_len)
    }

    /// The files, in byte-space order.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// Length of the byte space.
    pub fn total_len(&self) -> u64 {
        self.total
    }

    /// Bytes per piece (the last piece may be shorter).
    pub fn piece_len(&self) -> u64 {
        self.piece_len
    }

    /// Number of pieces.
    pub fn piece_count(&self) -> u64 {
        self.total.div_ceil(self.piece_len)
    }

    /// The bytes of piece `piece`; empty past the last piece.
    pub fn piece_range(&self, piece: u64) -> Range<u64> {
        let start = piece.saturating_mul(self.piece_len).min(self.total);
        start..start.saturating_add(self.piece_len).min(self.total)
    }

    /// The parts of `range` in each file, in order. Bytes of `range` past
    /// [`Storage::total_len`] belong to no file and get no segment; callers that must
    /// not lose bytes check [`Storage::contains`] first.
    pub fn segments(&self, range: Range<u64>) -> Segments<'_> {
        let end = range.end.min(self.total);
        let start = range.start.min(end);
        // The first file that ends after `start`; empty files before it end at or
        // before `start` and are skipped with it.
        let file = self.files.partition_point(|f| f.offset + f.length <= start);
        Segments {
            storage: self,
            file,
            pos: start,
            end,
        }
    }

    /// Whether `range` lies inside the byte space.
    pub fn contains(&self, range: &Range<u64>) -> bool {
        range.start <= range.end && range.end <= self.total
    }

    /// Indices of the files piece `piece` has bytes in, in order.
    pub fn files_of_piece(&self, piece: u64) -> impl Iterator<Item = usize> + '_ {
        self.segments(self.piece_range(piece)).map(|s| s.file)
    }

    /// Whether any byte of piece `piece` is in a stored (wanted, non-padding) file.
    pub fn piece_wanted(&self, piece: u64) -> bool {
        self.segments(self.piece_range(piece)).any(|s| s.stored)
    }
}

/// Iterator over the [`Segment`]s of a byte range; see [`Storage::segments`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    storage: &'a Storage,
    file: usize,
    pos: u64,
    end: u64,
}

impl Iterator for Segments<'_> {
    type Item = Segment;

    fn next(&mut self) -> Option<Segment> {
        while self.pos < self.end {
            let index = self.file;
            let f = self.storage.files.get(index)?;
            self.file += 1;
            let file_end = f.offset + f.length;
            if file_end <= self.pos {
                // An empty file at this offset.
                continue;
            }
            let stop = file_end.min(self.end);
            let seg = Segment {
                file: index,
                offset: self.pos,
                file_offset: self.pos - f.offset,
                len: stop - self.pos,
                stored: f.stored(),
            };
            self.pos = stop;
            return Some(seg);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn entry(name: &str, offset: u64, length: u64) -> FileEntry {
        FileEntry {
            path: PathBuf::from(name),
            offset,
            length,
            wanted: true,
            padding: false,
        }
    }

    #[test]
    fn construction_refuses_gaps_overlaps_overflow_duplicates_and_zero_pieces() {
        let e = |v| Storage::new(v, 16).unwrap_err();
        assert_eq!(
            e(vec![entry("a", 0, 10), entry("b", 11, 5)]),
            StorageError::Gap {
                index: 1,
                expected: 10,
                offset: 11
            }
        );
        assert_eq!(
            e(vec![entry("a", 1, 10)]),
            StorageError::Gap {
                index: 0,
                expected: 0,
                offset: 1
            }
        );
        assert_eq!(
            e(vec![entry("a", 0, 10), entry("b", 9, 5)]),
            StorageError::Overlap {
                index: 1,
                expected: 10,
                offset: 9
            }
        );
        assert_eq!(
            e(vec![entry("a", 0, u64::MAX), entry("b", u64::MAX, 1)]),
            StorageError::TooLarge { index: 1 }
        );
        assert_eq!(
            e(vec![entry("a", 0, 10), entry("a", 10, 5)]),
            StorageError::DuplicatePath { index: 1 }
        );
        assert_eq!(
            Storage::new(vec![entry("a", 0, 10)], 0).unwrap_err(),
            StorageError::ZeroPieceLength
        );
        assert_eq!(
            Storage::from_lengths([("a".into(), u64::MAX, true), ("b".into(), 1, true)], 16)
                .unwrap_err(),
            StorageError::TooLarge { index: 1 }
        );
    }

    #[test]
    fn a_write_across_a_boundary_is_split_and_empty_files_are_skipped() {
        let s = Storage::from_lengths(
            [
                ("a".into(), 10, true),
                ("empty".into(), 0, true),
                ("b".into(), 5, false),
                ("c".into(), 20, true),
            ],
            8,
        )
        .unwrap();
        let segs: Vec<_> = s.segments(8..17).collect();
        assert_eq!(
            segs,
            vec![
                Segment {
                    file: 0,
                    offset: 8,
                    file_offset: 8,
                    len: 2,
                    stored: true
                },
                Segment {
                    file: 2,
                    offset: 10,
                    file_offset: 0,
                    len: 5,
                    stored: false
                },
                Segment {
                    file: 3,
                    offset: 15,
                    file_offset: 0,
                    len: 2,
                    stored: true
                },
            ]
        );
        assert_eq!(s.piece_count(), 5);
        assert_eq!(s.piece_range(4), 32..35);
        assert_eq!(s.files_of_piece(1).collect::<Vec<_>>(), [0, 2, 3]);
        assert!(s.piece_wanted(1));
        assert_eq!(s.files_of_piece(4).collect::<Vec<_>>(), [3]);
        assert_eq!(s.segments(30..99).map(|s| s.len).sum::<u64>(), 5);
        assert!(!s.contains(&(30..36)));
    }

    #[test]
    fn a_piece_only_in_an_unwanted_file_is_not_wanted() {
        let s = Storage::from_lengths([("a".into(), 8, true), ("b".into(), 8, false)], 8).unwrap();
        assert!(s.piece_wanted(0));
        assert!(!s.piece_wanted(1));
    }

    fn storage_strategy() -> impl Strategy<Value = Storage> {
        (
            prop::collection::vec((0u64..50, any::<bool>()), 1..8),
            1u64..40,
        )
            .prop_map(|(files, piece)| {
                Storage::from_lengths(
                    files
                        .into_iter()
                        .enumerate()
                        .map(|(i, (len, wanted))| (PathBuf::from(format!("f{i}")), len, wanted)),
                    piece,
                )
                .unwrap()
            })
    }

    proptest! {
        /// The module's segment invariants, for any layout and range inside it.
        #[test]
        fn segments_tile_the_range_inside_files(
            s in storage_strategy(),
            a in any::<u64>(),
            b in any::<u64>(),
        ) {
            let total = s.total_len();
            let (x, y) = (a % (total + 1), b % (total + 1));
            let range = x.min(y)..x.max(y);
            let mut pos = range.start;
            for seg in s.segments(range.clone()) {
                let f = &s.files()[seg.file];
                prop_assert!(seg.len > 0);
                prop_assert_eq!(seg.offset, pos);
                prop_assert_eq!(seg.offset, f.offset + seg.file_offset);
                prop_assert!(seg.file_offset + seg.len <= f.length);
                prop_assert_eq!(seg.stored, f.wanted);
                pos += seg.len;
            }
            prop_assert_eq!(pos, range.end);
        }

        /// Pieces tile the byte space, and a piece's files are exactly the non-empty ones
        /// whose bytes it overlaps.
        #[test]
        fn pieces_tile_the_space_and_touch_the_overlapping_files(s in storage_strategy()) {
            let mut pos = 0;
            for p in 0..s.piece_count() {
                let r = s.piece_range(p);
                prop_assert_eq!(r.start, pos);
                prop_assert!(!r.is_empty() && r.end - r.start <= s.piece_len());
                pos = r.end;
                let touched: Vec<usize> = s.files_of_piece(p).collect();
                let overlapping: Vec<usize> = s
                    .files()
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| f.length > 0 && f.offset < r.end && r.start < f.offset + f.length)
                    .map(|(i, _)| i)
                    .collect();
                prop_assert_eq!(touched, overlapping);
            }
            prop_assert_eq!(pos, s.total_len());
            prop_assert!(s.piece_range(s.piece_count()).is_empty());
        }
    }
}
