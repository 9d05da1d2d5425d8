//! Collecting a magnet link's metadata (the torrent's info dictionary) from peers.
//!
//! Invariants:
//! - the buffer is allocated once, for a size already checked against
//!   [`MAX_METADATA_SIZE`]; a piece is accepted only at its own place and length, and only
//!   from a peer that agrees on the size;
//! - nothing is handed out before the whole metadata's SHA-1 equals the info-hash: a
//!   mismatch discards every piece and names the peers that sent them; a peer that alone
//!   sent all of a failed metadata is certainly lying and is refused from then on;
//! - a piece is asked of at most one peer at a time, and again once
//!   [`MetadataAssembler::release`] gives it back (a reject, a timeout, a closed
//!   connection).

use sha1::{Digest, Sha1};

use super::ExtensionError;
use super::ut_metadata::{self, MAX_METADATA_SIZE, check_size, piece_count, piece_len};

#[derive(Clone, Debug, PartialEq, Eq)]
enum Slot<P> {
    Missing,
    Requested(P),
    Have(P),
}

/// What [`MetadataAssembler::add_piece`] led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress<P> {
    /// More pieces are needed.
    NeedMore,
    /// Every piece arrived and the SHA-1 matches: the info dictionary's bytes.
    Complete(Vec<u8>),
    /// Every piece arrived and the SHA-1 does not match: all pieces were discarded. These
    /// peers sent them; if there is only one, it is refused from now on.
    HashMismatch(Vec<P>),
}

/// The assembly of one torrent's metadata.
#[derive(Clone, Debug)]
pub struct MetadataAssembler<P> {
    info_hash: [u8; 20],
    size: u64,
    buf: Vec<u8>,
    slots: Vec<Slot<P>>,
    banned: Vec<P>,
}

impl<P: Copy + Eq> MetadataAssembler<P> {
    /// An assembly of `size` bytes (as a peer's handshake announced) for `info_hash`.
    pub fn new(info_hash: [u8; 20], size: u64) -> Result<Self, ExtensionError> {
        let size = check_size(size)?;
        debug_assert!(size <= MAX_METADATA_SIZE);
        Ok(MetadataAssembler {
            info_hash,
            size,
            buf: vec![0; size as usize],
            slots: vec![Slot::Missing; piece_count(size) as usize],
            banned: Vec::new(),
        })
    }

    /// The metadata's size.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Whether `peer` sent a whole metadata that failed the hash.
    pub fn is_banned(&self, peer: P) -> bool {
        self.banned.contains(&peer)
    }

    /// A piece to ask `peer` for (marked as asked of it), if any is neither held nor asked.
    pub fn next_request(&mut self, peer: P) -> Option<u32> {
        if self.is_banned(peer) {
            return None;
        }
        let at = self.slots.iter().position(|s| *s == Slot::Missing)?;
        self.slots[at] = Slot::Requested(peer);
        Some(at as u32)
    }

    /// Gives back the pieces asked of `peer` (it rejected them, timed out or left).
    pub fn release(&mut self, peer: P) {
        for slot in &mut self.slots {
            if *slot == Slot::Requested(peer) {
                *slot = Slot::Missing;
            }
        }
    }

    /// Takes piece `piece` of a metadata `total_size` long from `peer`.
    pub fn add_piece(
        &mut self,
        peer: P,
        piece: u32,
        total_size: u64,
        data: &[u8],
    ) -> Result<Progress<P>, ExtensionError> {
        if total_size != self.size {
            return Err(ExtensionError::SizeMismatch {
                got: total_size,
                expected: self.size,
            });
        }
        if self.is_banned(peer) {
            return Ok(Progress::NeedMore);
        }
        let last = self.slots.len() as u32 - 1;
        if piece > last {
            return Err(ExtensionError::PieceIndex { piece, last });
        }
        let expected = piece_len(self.size, piece);
        if data.len() != expected {
            return Err(ExtensionError::PieceLength {
                piece,
                got: data.len(),
                expected,
            });
        }
        let start = piece as usize * ut_metadata::METADATA_PIECE;
        self.buf[start..start + expected].copy_from_slice(data);
        self.slots[piece as usize] = Slot::Have(peer);
        let mut senders = Vec::new();
        for slot in &self.slots {
            match slot {
                Slot::Have(p) => {
                    if !senders.contains(p) {
                        senders.push(*p);
                    }
                }
                _ => return Ok(Progress::NeedMore),
            }
        }
        let digest: [u8; 20] = Sha1::digest(&self.buf).into();
        if digest == self.info_hash {
            return Ok(Progress::Complete(std::mem::take(&mut self.buf)));
        }
        self.slots.fill(Slot::Missing);
        if let [only] = senders[..] {
            self.banned.push(only);
        }
        Ok(Progress::HashMismatch(senders))
    }
}
