//! Why an extension message or a metadata piece was refused.

use thiserror::Error;

/// A malformed or unacceptable extension message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ExtensionError {
    /// The payload does not start with a bencoded dictionary.
    #[error("not a bencoded dictionary: {0}")]
    NotBencode(String),
    /// A required key is missing or has the wrong type or value.
    #[error("`{0}` missing or malformed")]
    Field(&'static str),
    /// The metadata is larger than [`super::MAX_METADATA_SIZE`] (or empty).
    #[error("metadata of {size} bytes: outside 1..={max}")]
    MetadataSize {
        /// Size announced.
        size: u64,
        /// Largest accepted.
        max: u64,
    },
    /// A piece index beyond the metadata's last piece.
    #[error("metadata piece {piece} beyond the last, {last}")]
    PieceIndex {
        /// Index sent.
        piece: u32,
        /// Last valid index.
        last: u32,
    },
    /// A piece whose length is not the one its index requires.
    #[error("metadata piece {piece} of {got} bytes, {expected} expected")]
    PieceLength {
        /// Index.
        piece: u32,
        /// Bytes received.
        got: usize,
        /// Bytes required.
        expected: usize,
    },
    /// A piece from a peer that announced another `total_size` than ours.
    #[error("metadata size {got} differs from the {expected} being assembled")]
    SizeMismatch {
        /// Size the peer sent.
        got: u64,
        /// Size being assembled.
        expected: u64,
    },
    /// A PEX list longer than [`super::ut_pex::MAX_PEERS`] peers.
    #[error("PEX `{list}` of {count} peers beyond the {max} accepted")]
    TooManyPeers {
        /// The list's key.
        list: &'static str,
        /// Peers in it.
        count: usize,
        /// Most accepted.
        max: usize,
    },
    /// A payload longer than its message allows.
    #[error("extension payload of {len} bytes beyond the {max} accepted")]
    TooLong {
        /// Bytes.
        len: usize,
        /// Most accepted.
        max: usize,
    },
}
