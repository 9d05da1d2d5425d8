//! Why a peer's bytes were refused. Every variant is a reason to drop the connection.

use thiserror::Error;

/// A protocol violation by the remote peer.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum WireError {
    /// The handshake does not start with `\x13BitTorrent protocol`.
    #[error("not a BitTorrent handshake")]
    BadHandshake,
    /// A message's length prefix is wrong for its id (or beyond every bound).
    #[error("message id {id} with length {length}: outside {min}..={max}")]
    BadLength {
        /// Message id.
        id: u8,
        /// Declared length (id byte included).
        length: u32,
        /// Least accepted.
        min: u32,
        /// Most accepted.
        max: u32,
    },
    /// A length prefix beyond the longest message accepted, whatever its id.
    #[error("message length {length} beyond the longest accepted, {max}")]
    TooLong {
        /// Declared length.
        length: u32,
        /// Longest accepted.
        max: u32,
    },
    /// The bitfield has bits set beyond the last piece.
    #[error("bitfield has bits set beyond the last piece")]
    SpareBitsSet,
    /// A piece index at or beyond the torrent's piece count.
    #[error("piece index {index} beyond the piece count {count}")]
    PieceIndex {
        /// Index sent.
        index: u32,
        /// Pieces in the torrent.
        count: u32,
    },
    /// An extension handshake (BEP 10) that is not a bencoded dictionary, or has bad fields.
    #[error("bad extension handshake: {0}")]
    BadExtensionHandshake(&'static str),
}
