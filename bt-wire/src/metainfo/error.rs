//! Why a `.torrent` was refused: one variant per rule broken.

use thiserror::Error;

/// Why a path component from a torrent cannot be used as a file name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathProblem {
    /// The component is empty (`a//b`).
    Empty,
    /// The component is `.`.
    Dot,
    /// The component is `..`, which would climb out of the download directory.
    DotDot,
    /// The component holds `/` or `\`, so it is really several components, or absolute.
    Separator,
    /// The component starts with a drive letter (`C:`), absolute on Windows.
    DriveLetter,
    /// The component holds a NUL byte, which no file system accepts.
    Nul,
    /// The component is a name Windows reserves for a device (`CON`, `NUL`, `COM1`, ...).
    ReservedName,
}

impl std::fmt::Display for PathProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Empty => "an empty component",
            Self::Dot => "a `.` component",
            Self::DotDot => "a `..` component, which would escape the download directory",
            Self::Separator => "a path separator inside a component",
            Self::DriveLetter => "a drive letter",
            Self::Nul => "a NUL byte",
            Self::ReservedName => "a name Windows reserves for a device",
        })
    }
}

/// Why a `.torrent` file (or an info dictionary) was refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MetainfoError {
    /// The bytes are not bencode.
    #[error("not bencode: {0}")]
    Bencode(#[from] swarmget_bencode::Error),
    /// The top level is not a dictionary.
    #[error("the torrent is not a dictionary")]
    NotADictionary,
    /// A required key is missing.
    #[error("missing `{0}`")]
    Missing(&'static str),
    /// A key that decides what the torrent is appears twice: readers that take the first
    /// and readers that take the last would see different torrents.
    #[error("`{0}` appears more than once")]
    DuplicateKey(&'static str),
    /// A key holds the wrong type of value.
    #[error("`{key}` should be {expected}")]
    WrongType {
        /// The key, dotted from the top (`info.piece length`).
        key: &'static str,
        /// What it should have been.
        expected: &'static str,
    },
    /// A length, size or count is negative or beyond what the crate accepts.
    #[error("`{key}` is {value}, outside {min}..={max}")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// The value found.
        value: i64,
        /// The smallest value accepted.
        min: i64,
        /// The largest value accepted.
        max: i64,
    },
    /// A v2 piece length must be a power of two.
    #[error("piece length {0} is not a power of two, as BitTorrent v2 requires")]
    PieceLengthNotPowerOfTwo(u64),
    /// The files add up to more than a signed 64-bit length.
    #[error("the files add up to more than 2^63-1 bytes")]
    TotalTooLarge,
    /// The torrent holds no data at all.
    #[error("the torrent holds no data (total length 0)")]
    Empty,
    /// `pieces` is not a whole number of 20-byte SHA-1 hashes.
    #[error("`pieces` is {0} bytes, not a multiple of 20")]
    PiecesNotMultipleOf20(usize),
    /// The number of piece hashes does not match the total length.
    #[error(
        "{found} piece hashes for {total_length} bytes in pieces of {piece_length}: expected {expected}"
    )]
    PieceCountMismatch {
        /// Hashes found.
        found: u64,
        /// Hashes the lengths call for.
        expected: u64,
        /// Total length of the files.
        total_length: u64,
        /// Piece length.
        piece_length: u64,
    },
    /// A path component would be unsafe to create.
    #[error("file path {path:?} has {problem}")]
    UnsafePath {
        /// The path as found, components joined with `/`.
        path: String,
        /// What is wrong with it.
        problem: PathProblem,
    },
    /// A file path has no components.
    #[error("a file has an empty path")]
    EmptyPath,
    /// Two files have the same path, or one file's path is a directory of another.
    #[error("file path {0:?} is used twice (or both as a file and as a directory)")]
    DuplicatePath(String),
    /// A hash has the wrong length.
    #[error("`{key}` should be a {expected}-byte hash, found {found} bytes")]
    HashLength {
        /// The key.
        key: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// `meta version` names a version this crate does not know.
    #[error("unsupported meta version {0}")]
    UnsupportedVersion(i64),
    /// The info dictionary has neither v1 (`pieces`) nor v2 (`file tree`) data.
    #[error("the info dictionary has neither `pieces` (v1) nor `file tree` (v2)")]
    NoPieces,
    /// A v2 file longer than one piece has no entry in `piece layers`.
    #[error("`piece layers` has no entry for file {0:?}")]
    MissingPieceLayer(String),
    /// A piece layer has the wrong size for its file.
    #[error("the piece layer of {path:?} is {found} bytes, expected {expected}")]
    PieceLayerLength {
        /// The file.
        path: String,
        /// Bytes found.
        found: usize,
        /// Bytes expected.
        expected: u64,
    },
    /// A piece layer's merkle root is not the file's `pieces root`.
    #[error("the piece layer of {0:?} does not hash to its `pieces root`")]
    PieceLayerRootMismatch(String),
    /// The v2 `file tree` holds a node that is neither a file nor a directory.
    #[error("malformed `file tree` at {0:?}")]
    MalformedFileTree(String),
    /// A hybrid torrent's v1 file list disagrees with its v2 file tree.
    #[error("hybrid torrent: the v1 files and the v2 file tree disagree at {0:?}")]
    HybridMismatch(String),
    /// The writer was given something it cannot write.
    #[error("cannot write torrent: {0}")]
    Build(&'static str),
}
