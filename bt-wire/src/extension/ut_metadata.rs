//! BEP 9's `ut_metadata` messages: a bencoded dictionary (`msg_type`, `piece`, and for
//! data `total_size`), followed for data by the piece's bytes.
//!
//! Invariants: `total_size` is within 1..=[`MAX_METADATA_SIZE`], a piece index within
//! the pieces that size has, and a data piece exactly [`METADATA_PIECE`] bytes (the last
//! piece: the rest) — all checked here, so [`MetadataMessage::Data`] is always a piece
//! that fits the size it claims. Data borrows the payload: nothing is copied.

use swarmget_bencode::{Decoder, Encoder, Value};

use super::ExtensionError;

/// Bytes per metadata piece (the last may be shorter).
pub const METADATA_PIECE: usize = 16 * 1024;
/// The largest metadata accepted: an info dictionary for millions of pieces. aria2 and
/// libtorrent use similar bounds; a larger one is an attack on our memory.
pub const MAX_METADATA_SIZE: u64 = 16 * 1024 * 1024;

/// One `ut_metadata` message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataMessage<'a> {
    /// `msg_type` 0: send me piece `piece`.
    Request {
        /// The piece.
        piece: u32,
    },
    /// `msg_type` 1: piece `piece` of metadata `total_size` bytes long.
    Data {
        /// The piece.
        piece: u32,
        /// The whole metadata's size.
        total_size: u64,
        /// The piece's bytes.
        data: &'a [u8],
    },
    /// `msg_type` 2: the peer will not send piece `piece`.
    Reject {
        /// The piece.
        piece: u32,
    },
}

/// Pieces in metadata of `size` bytes.
pub fn piece_count(size: u64) -> u32 {
    u32::try_from(size.div_ceil(METADATA_PIECE as u64)).unwrap_or(u32::MAX)
}

/// The length piece `piece` must have in metadata of `size` bytes.
pub fn piece_len(size: u64, piece: u32) -> usize {
    let start = u64::from(piece) * METADATA_PIECE as u64;
    size.saturating_sub(start).min(METADATA_PIECE as u64) as usize
}

/// Checks a metadata size announced by a peer (handshake `metadata_size` or a data
/// message's `total_size`).
pub fn check_size(size: u64) -> Result<u64, ExtensionError> {
    if size == 0 || size > MAX_METADATA_SIZE {
        return Err(ExtensionError::MetadataSize {
            size,
            max: MAX_METADATA_SIZE,
        });
    }
    Ok(size)
}

impl<'a> MetadataMessage<'a> {
    /// Parses an extended message's payload.
    pub fn parse(payload: &'a [u8]) -> Result<Self, ExtensionError> {
        let longest = METADATA_PIECE + 128;
        if payload.len() > longest {
            return Err(ExtensionError::TooLong {
                len: payload.len(),
                max: longest,
            });
        }
        let (decoded, rest) = Decoder::new()
            .lenient(true)
            .max_depth(4)
            .decode_prefix(payload)
            .map_err(|e| ExtensionError::NotBencode(e.to_string()))?;
        let dict = decoded.value;
        if dict.as_dict().is_none() {
            return Err(ExtensionError::NotBencode("not a dictionary".into()));
        }
        let int = |key: &'static str| {
            dict.get(key)
                .and_then(Value::as_int)
                .ok_or(ExtensionError::Field(key))
        };
        let piece = u32::try_from(int("piece")?).map_err(|_| ExtensionError::Field("piece"))?;
        let last = piece_count(MAX_METADATA_SIZE) - 1;
        if piece > last {
            return Err(ExtensionError::PieceIndex { piece, last });
        }
        match int("msg_type")? {
            0 => Ok(MetadataMessage::Request { piece }),
            2 => Ok(MetadataMessage::Reject { piece }),
            1 => {
                let size = u64::try_from(int("total_size")?)
                    .map_err(|_| ExtensionError::Field("total_size"))?;
                let total_size = check_size(size)?;
                let count = piece_count(total_size);
                if piece >= count {
                    return Err(ExtensionError::PieceIndex {
                        piece,
                        last: count - 1,
                    });
                }
                let expected = piece_len(total_size, piece);
                if rest.len() != expected {
                    return Err(ExtensionError::PieceLength {
                        piece,
                        got: rest.len(),
                        expected,
                    });
                }
                Ok(MetadataMessage::Data {
                    piece,
                    total_size,
                    data: rest,
                })
            }
            _ => Err(ExtensionError::Field("msg_type")),
        }
    }

    /// Appends the payload (the dictionary, then a data piece's bytes).
    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut e = Encoder::new();
        let (kind, piece) = match *self {
            MetadataMessage::Request { piece } => (0, piece),
            MetadataMessage::Data { piece, .. } => (1, piece),
            MetadataMessage::Reject { piece } => (2, piece),
        };
        e.value().dict(|d| {
            d.entry(b"msg_type").int(kind);
            d.entry(b"piece").int(i64::from(piece));
            if let MetadataMessage::Data { total_size, .. } = self {
                d.entry(b"total_size")
                    .int(i64::try_from(*total_size).unwrap_or(i64::MAX));
            }
        });
        out.extend_from_slice(e.as_bytes());
        if let MetadataMessage::Data { data, .. } = self {
            out.extend_from_slice(data);
        }
    }
}
