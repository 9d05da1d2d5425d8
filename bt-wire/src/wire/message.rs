//! One length-prefixed message: its bounds, decoding and encoding.

use super::WireError;

/// A block of a piece: where it starts and how long it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockRequest {
    /// Piece index.
    pub index: u32,
    /// Offset in the piece.
    pub begin: u32,
    /// Bytes.
    pub length: u32,
}

/// A peer wire message, borrowing its payload from the decoder's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message<'a> {
    /// Length 0: nothing but proof of life.
    KeepAlive,
    /// 0: the sender will not serve requests.
    Choke,
    /// 1: the sender will serve requests.
    Unchoke,
    /// 2: the sender wants pieces the receiver has.
    Interested,
    /// 3: the sender wants nothing from the receiver.
    NotInterested,
    /// 4: the sender has verified this piece.
    Have(u32),
    /// 5: the pieces the sender has, high bit first.
    Bitfield(&'a [u8]),
    /// 6: a block wanted.
    Request(BlockRequest),
    /// 7: a block's data.
    Piece {
        /// Piece index.
        index: u32,
        /// Offset in the piece.
        begin: u32,
        /// The data.
        data: &'a [u8],
    },
    /// 8: a request withdrawn.
    Cancel(BlockRequest),
    /// 9: the sender's DHT port (BEP 5).
    Port(u16),
    /// 13 (BEP 6): a piece worth requesting.
    Suggest(u32),
    /// 14 (BEP 6): the sender has every piece.
    HaveAll,
    /// 15 (BEP 6): the sender has no piece.
    HaveNone,
    /// 16 (BEP 6): a request that will not be served.
    Reject(BlockRequest),
    /// 17 (BEP 6): a piece the receiver may request while choked.
    AllowedFast(u32),
    /// 20 (BEP 10): an extension message, `id` 0 being the extension handshake.
    Extended {
        /// The extended message id (as the receiver assigned it; 0 is the handshake).
        id: u8,
        /// The bencoded (or binary) payload.
        payload: &'a [u8],
    },
    /// An id this crate does not know; BEP 3 says to ignore it.
    Unknown {
        /// Message id.
        id: u8,
        /// Its payload.
        payload: &'a [u8],
    },
}

/// Bounds applied to incoming messages before their bytes are waited for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest block accepted in `piece` (and requested in `request`): 16 KiB.
    pub max_block: u32,
    /// The torrent's piece count, when known (not before a magnet link's metadata): the
    /// bitfield must then be exactly as long, and indices below it.
    pub piece_count: Option<u32>,
    /// The largest bitfield accepted while the piece count is unknown.
    pub max_bitfield: u32,
    /// The largest extension payload accepted (ut_metadata pieces are 16 KiB).
    pub max_extended: u32,
    /// The largest message of an unknown id accepted (and skipped).
    pub max_unknown: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_block: 16 * 1024,
            piece_count: None,
            max_bitfield: 1 << 19,
            max_extended: 128 * 1024,
            max_unknown: 16 * 1024,
        }
    }
}

impl Limits {
    /// `self` for a torrent of `piece_count` pieces.
    pub fn with_piece_count(mut self, piece_count: u32) -> Self {
        self.piece_count = Some(piece_count);
        self
    }

    /// The least and most length (id byte included) accepted for message `id`.
    fn bounds(&self, id: u8) -> (u32, u32) {
        let exact = |n| (n, n);
        match id {
            0..=3 | 14 | 15 => exact(1),
            4 | 13 | 17 => exact(5),
            6 | 8 | 16 => exact(13),
            9 => exact(3),
            5 => match self.piece_count {
                Some(n) => exact(1 + n.div_ceil(8)),
                None => (1, 1 + self.max_bitfield),
            },
            7 => (9, 9 + self.max_block),
            20 => (2, 2 + self.max_extended),
            _ => (1, 1 + self.max_unknown),
        }
    }

    /// The longest message of any id (length prefix excluded).
    pub fn max_frame(&self) -> u32 {
        [0u8, 5, 7, 20, 255]
            .iter()
            .map(|&id| self.bounds(id).1)
            .max()
            .unwrap_or(0)
    }

    fn check_index(&self, index: u32) -> Result<u32, WireError> {
        match self.piece_count {
            Some(count) if index >= count => Err(WireError::PieceIndex { index, count }),
            _ => Ok(index),
        }
    }
}

/// The total length (prefix included) of the message at the start of `buf`, once all of
/// it is there; `Ok(None)` while more is needed. Errors as soon as the header shows a
/// length its id does not allow, so no caller ever buffers toward a bad length.
pub fn frame_length(buf: &[u8], limits: &Limits) -> Result<Option<usize>, WireError> {
    let Some(prefix) = buf.get(..4) else {
        return Ok(None);
    };
    let length = u32::from_be_bytes(prefix.try_into().expect("4 bytes"));
    if length == 0 {
        return Ok(Some(4));
    }
    // Checked before the id, whether or not it has arrived: the error must not depend on
    // how the input was split.
    let most = limits.max_frame();
    if length > most {
        return Err(WireError::TooLong { length, max: most });
    }
    let Some(&id) = buf.get(4) else {
        return Ok(None);
    };
    let (min, max) = limits.bounds(id);
    if length < min || length > max {
        return Err(WireError::BadLength {
            id,
            length,
            min,
            max,
        });
    }
    let total = 4 + length as usize;
    Ok((buf.len() >= total).then_some(total))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(
        b[at..at + 4]
            .try_into()
            .expect("bounds checked by frame_length"),
    )
}

/// Decodes the complete frame `frame` (as delimited by [`frame_length`]).
pub fn decode_frame<'a>(frame: &'a [u8], limits: &Limits) -> Result<Message<'a>, WireError> {
    if frame.len() == 4 {
        return Ok(Message::KeepAlive);
    }
    let id = frame[4];
    let body = &frame[5..];
    let request = |b: &[u8]| -> Result<BlockRequest, WireError> {
        let index = limits.check_index(u32_at(b, 0))?;
        let length = u32_at(b, 8);
        if length > limits.max_block {
            return Err(WireError::BadLength {
                id,
                length,
                min: 0,
                max: limits.max_block,
            });
        }
        Ok(BlockRequest {
            index,
            begin: u32_at(b, 4),
            length,
        })
    };
    Ok(match id {
        0 => Message::Choke,
        1 => Message::Unchoke,
        2 => Message::Interested,
        3 => Message::NotInterested,
        4 => Message::Have(limits.check_index(u32_at(body, 0))?),
        5 => {
            if let (Some(count), Some(&last)) = (limits.piece_count, body.last()) {
                let spare = (body.len() as u32 * 8 - count) as u8;
                // `spare` < 8: the length was checked to be exactly ceil(count / 8).
                if spare > 0 && last & ((1u8 << spare) - 1) != 0 {
                    return Err(WireError::SpareBitsSet);
                }
            }
            Message::Bitfield(body)
        }
        6 => Message::Request(request(body)?),
        7 => Message::Piece {
            index: limits.check_index(u32_at(body, 0))?,
            begin: u32_at(body, 4),
            data: &body[8..],
        },
        8 => Message::Cancel(request(body)?),
        9 => Message::Port(u16::from_be_bytes([body[0], body[1]])),
        13 => Message::Suggest(limits.check_index(u32_at(body, 0))?),
        14 => Message::HaveAll,
        15 => Message::HaveNone,
        16 => Message::Reject(request(body)?),
        17 => Message::AllowedFast(limits.check_index(u32_at(body, 0))?),
        20 => Message::Extended {
            id: body[0],
            payload: &body[1..],
        },
        id => Message::Unknown { id, payload: body },
    })
}

/// The 13 bytes before a block's data in a `piece` message, so the data can be written
/// from where it lies (vectored writes) instead of being copied behind the header.
pub fn piece_header(index: u32, begin: u32, data_len: u32) -> [u8; 13] {
    let mut h = [0u8; 13];
    h[..4].copy_from_slice(&(9 + data_len).to_be_bytes());
    h[4] = 7;
    h[5..9].copy_from_slice(&index.to_be_bytes());
    h[9..13].copy_from_slice(&begin.to_be_bytes());
    h
}

impl Message<'_> {
    /// The message id, `None` for keep-alive.
    pub fn id(&self) -> Option<u8> {
        Some(match self {
            Self::KeepAlive => return None,
            Self::Choke => 0,
            Self::Unchoke => 1,
            Self::Interested => 2,
            Self::NotInterested => 3,
            Self::Have(_) => 4,
            Self::Bitfield(_) => 5,
            Self::Request(_) => 6,
            Self::Piece { .. } => 7,
            Self::Cancel(_) => 8,
            Self::Port(_) => 9,
            Self::Suggest(_) => 13,
            Self::HaveAll => 14,
            Self::HaveNone => 15,
            Self::Reject(_) => 16,
            Self::AllowedFast(_) => 17,
            Self::Extended { .. } => 20,
            Self::Unknown { id, .. } => *id,
        })
    }

    /// Appends the message, length prefix included, to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let Some(id) = self.id() else {
            out.extend_from_slice(&[0; 4]);
            return;
        };
        let start = out.len();
        out.extend_from_slice(&[0; 4]);
        out.push(id);
        let req = |out: &mut Vec<u8>, r: &BlockRequest| {
            for n in [r.index, r.begin, r.length] {
                out.extend_from_slice(&n.to_be_bytes());
            }
        };
        match self {
            Self::Have(i) | Self::Suggest(i) | Self::AllowedFast(i) => {
                out.extend_from_slice(&i.to_be_bytes())
            }
            Self::Bitfield(bits) => out.extend_from_slice(bits),
            Self::Request(r) | Self::Cancel(r) | Self::Reject(r) => req(out, r),
            Self::Piece { index, begin, data } => {
                out.extend_from_slice(&index.to_be_bytes());
                out.extend_from_slice(&begin.to_be_bytes());
                out.extend_from_slice(data);
            }
            Self::Port(p) => out.extend_from_slice(&p.to_be_bytes()),
            Self::Extended { id, payload } => {
                out.push(*id);
                out.extend_from_slice(payload);
            }
            Self::Unknown { payload, .. } => out.extend_from_slice(payload),
            _ => {}
        }
        let length = (out.len() - start - 4) as u32;
        out[start..start + 4].copy_from_slice(&length.to_be_bytes());
    }
}
