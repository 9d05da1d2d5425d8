//! One hasher thread's piece digests made from the written buffers as they pass.
//!
//! A piece's bytes are hashed in byte order, so a write can only be hashed once every
//! byte before it in the piece was. Peers often deliver a piece's blocks slightly out
//! of order (libtorrent reads the blocks it serves on several disk threads and sends
//! each as soon as it is read; a re-requested block comes late), so a write that lands
//! beyond the piece's next unhashed byte is copied aside until the bytes before it
//! arrive, instead of dropping the digest and reading the whole piece back from disk
//! (which cost BitTorrent downloads a copy of every second piece).
//!
//! Invariants:
//! - a piece's digest covers exactly its bytes `piece.start..next`, each hashed once and
//!   in order; the fragments held aside lie inside `next..piece.end` and overlap neither
//!   each other nor the hashed bytes;
//! - a write overlapping bytes already hashed or held drops the piece (some bytes were
//!   written twice, and what is on disk may be either version), so a complete digest is
//!   the digest of what the disk worker wrote;
//! - the bytes held aside by one thread never exceed [`HELD_MAX`]: a write that would
//!   pass it drops its piece, whose held bytes go with it (the piece is read back);
//! - a digest is keyed by download and piece and belongs to one hash set (a restarted
//!   download's new set never continues the old one's).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::sync::Arc;

use crate::digest::{Digest, Hasher, PieceHashes};
use crate::disk::Gid;

/// Bytes one thread holds aside for pieces waiting on earlier bytes, at most: four
/// 256 KiB write buffers' worth, so two threads add at most 8 MiB to the process.
pub(super) const HELD_MAX: usize = 4 << 20;

/// A piece's digest so far.
struct Fed {
    /// The hash set it belongs to (kept alive, so its address names it).
    hashes: Arc<PieceHashes>,
    hasher: Hasher,
    /// The byte-space offset of the first byte not hashed yet.
    next: u64,
    /// Written bytes beyond `next`, by byte-space offset, waiting for the gap before
    /// them to fill.
    ahead: BTreeMap<u64, Vec<u8>>,
}

impl Fed {
    /// Whether `range` overlaps a fragment held aside.
    fn overlaps_ahead(&self, range: &Range<u64>) -> bool {
        let before = self.ahead.range(..range.end).next_back();
        before.is_some_and(|(&at, bytes)| at + bytes.len() as u64 > range.start)
    }

    /// The bytes held aside.
    fn held(&self) -> usize {
        self.ahead.values().map(Vec::len).sum()
    }
}

/// The digests one thread is making, by download and piece.
#[derive(Default)]
pub(super) struct FedPieces {
    pieces: HashMap<(Gid, u64), Fed>,
    /// Bytes held aside over all pieces.
    held: usize,
}

impl FedPieces {
    /// Takes `bytes`, written at byte-space `written`, for piece `key.1` whose bytes are
    /// `piece`, of hash set `hashes`.
    pub fn feed(
        &mut self,
        key: (Gid, u64),
        hashes: &Arc<PieceHashes>,
        piece: Range<u64>,
        written: Range<u64>,
        bytes: &[u8],
    ) {
        let start = written.start.max(piece.start);
        let end = written.end.min(piece.end);
        if start >= end {
            return;
        }
        let part = &bytes[(start - written.start) as usize..(end - written.start) as usize];
        if self
            .pieces
            .get(&key)
            .is_some_and(|f| !Arc::ptr_eq(&f.hashes, hashes))
        {
            self.remove(key);
        }
        let f = self.pieces.entry(key).or_insert_with(|| Fed {
            hashes: hashes.clone(),
            hasher: Hasher::new(hashes.kind),
            next: piece.start,
            ahead: BTreeMap::new(),
        });
        if start < f.next || f.overlaps_ahead(&(start..end)) {
            self.remove(key);
            return;
        }
        if start > f.next {
            if self.held + part.len() > HELD_MAX {
                self.remove(key);
                return;
            }
            f.ahead.insert(start, part.to_vec());
            self.held += part.len();
            return;
        }
        f.hasher.update(part);
        f.next = end;
        while let Some(entry) = f.ahead.first_entry()
            && *entry.key() == f.next
        {
            let bytes = entry.remove();
            f.hasher.update(&bytes);
            f.next += bytes.len() as u64;
            self.held -= bytes.len();
        }
    }

    /// The digest of piece `key.1` (bytes `piece`) of hash set `hashes`, if every one of
    /// its bytes was fed; forgets the piece either way.
    pub fn take(
        &mut self,
        key: (Gid, u64),
        hashes: &Arc<PieceHashes>,
        piece: Range<u64>,
    ) -> Option<Digest> {
        let f = self.forget(key)?;
        (Arc::ptr_eq(&f.hashes, hashes) && f.next == piece.end).then(|| f.hasher.finish())
    }

    /// Forgets piece `key.1` of download `key.0`.
    pub fn remove(&mut self, key: (Gid, u64)) {
        self.forget(key);
    }

    fn forget(&mut self, key: (Gid, u64)) -> Option<Fed> {
        let f = self.pieces.remove(&key)?;
        self.held -= f.held();
        Some(f)
    }

    /// Forgets every piece of download `gid`.
    pub fn reset(&mut self, gid: Gid) {
        let held = &mut self.held;
        self.pieces.retain(|(g, _), f| {
            let keep = *g != gid;
            if !keep {
                *held -= f.held();
            }
            keep
        });
    }

    /// Bytes held aside.
    #[cfg(test)]
    pub fn held(&self) -> usize {
        self.held
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::HashKind;

    const G: Gid = Gid::new(7);

    /// A hash set of `length`-byte pieces (its digests play no part here).
    fn hashes(length: usize) -> Arc<PieceHashes> {
        Arc::new(PieceHashes {
            kind: HashKind::Sha1,
            length: length as u64,
            digests: Vec::new(),
        })
    }

    fn sha1(bytes: &[u8]) -> Vec<u8> {
        let mut h = Hasher::new(HashKind::Sha1);
        h.update(bytes);
        h.finish().bytes
    }

    #[test]
    fn blocks_of_a_piece_out_of_order_make_its_digest_from_memory() {
        let bytes: Vec<u8> = (0..4000u32).map(|i| (i * 7 % 251) as u8).collect();
        let hs = hashes(4000);
        let mut fed = FedPieces::default();
        // Blocks 3, 1, 0, 2: two wait aside, then the gaps fill.
        for b in [3u64, 1, 0, 2] {
            let r = b * 1000..(b + 1) * 1000;
            fed.feed(
                (G, 0),
                &hs,
                0..4000,
                r.clone(),
                &bytes[r.start as usize..r.end as usize],
            );
            if b == 1 {
                assert_eq!(fed.held(), 2000);
            }
        }
        assert_eq!(fed.held(), 0);
        let digest = fed.take((G, 0), &hs, 0..4000).map(|d| d.bytes);
        assert_eq!(digest, Some(sha1(&bytes)));
    }

    #[test]
    fn a_write_over_bytes_hashed_or_held_drops_the_piece() {
        let bytes = vec![5u8; 3000];
        let hs = hashes(3000);
        let mut fed = FedPieces::default();
        fed.feed((G, 0), &hs, 0..3000, 2000..3000, &bytes[2000..]);
        // Overlaps the held fragment's first bytes.
        fed.feed((G, 0), &hs, 0..3000, 1500..2500, &bytes[1500..2500]);
        assert_eq!(fed.held(), 0, "the held fragment was kept");
        // Bytes 1500..3000 were written before: what follows cannot complete the piece.
        fed.feed((G, 0), &hs, 0..3000, 0..1500, &bytes[..1500]);
        assert!(fed.take((G, 0), &hs, 0..3000).is_none());
        // Overlaps hashed bytes.
        fed.feed((G, 0), &hs, 0..3000, 0..2000, &bytes[..2000]);
        fed.feed((G, 0), &hs, 0..3000, 1000..3000, &bytes[1000..]);
        assert!(fed.take((G, 0), &hs, 0..3000).is_none());
    }

    #[test]
    fn bytes_held_aside_are_bounded_per_thread() {
        let big = vec![1u8; HELD_MAX];
        let bytes = [big.clone(), big.clone()].concat();
        let len = bytes.len() as u64;
        let hs = hashes(bytes.len());
        let mut fed = FedPieces::default();
        let half = HELD_MAX as u64;
        fed.feed((G, 0), &hs, 0..len, 1..2, &bytes[1..2]);
        // One more fragment would pass the bound: the piece is dropped, its bytes freed.
        fed.feed((G, 0), &hs, 0..len, half..len, &big);
        assert_eq!(fed.held(), 0);
        fed.feed((G, 0), &hs, 0..len, 0..half, &big);
        assert!(fed.take((G, 0), &hs, 0..len).is_none());
    }

    #[test]
    fn a_reset_frees_what_its_download_held() {
        let bytes = vec![3u8; 2000];
        let hs = hashes(1000);
        let mut fed = FedPieces::default();
        fed.feed((G, 0), &hs, 0..1000, 500..1000, &bytes[500..1000]);
        fed.feed((G, 1), &hs, 1000..2000, 1500..2000, &bytes[1500..]);
        assert_eq!(fed.held(), 1000);
        fed.reset(G);
        assert_eq!(fed.held(), 0);
    }
}
