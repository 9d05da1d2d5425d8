//! Piece digests of peers' blocks, made on the loop as each block lands in its chunk.
//!
//! A block a peer sends is copied into the chunk it belongs to ([`super::chunks`]) and is
//! still in this core's cache right after: hashing it there costs the SHA-1 alone. The
//! hasher threads made the same digest from the chunk once the disk thread had written
//! it, reading 1 MiB the other core had filled, and three messages per chunk went with
//! it; hashed here, `bench bt` took 8% less CPU and 9% less wall time.
//!
//! A piece's bytes are hashed in byte order, so a block is hashed once every byte
//! before it in its piece was; a block that lands ahead of a gap waits in its chunk's
//! buffer (no copy) and is hashed when the gap fills, as far as the chunks still held
//! reach. A piece whose next bytes went to disk unhashed (a chunk written for room or
//! after [`super::chunks::HOLD`] with a gap in it) gets no digest here: it is read
//! back by the hasher threads when all its bytes are written, as before.
//!
//! Invariants:
//! - a digest covers exactly its piece's bytes `piece.start..next`, each hashed once, in
//!   order, from the chunk buffer the disk worker is given; the plan hands each byte of
//!   a piece in flight to a chunk once, so a complete digest is the digest of what is
//!   written;
//! - a verdict is used only once the plan says every byte of its piece is written
//!   ([`Engine::hash_ready_pieces`]), and the digest and verdict of every piece so
//!   decided are dropped then, so bytes fetched again after a failure start a new
//!   digest;
//! - a digest belongs to one hash set (a restarted download's new set never continues
//!   the old one's), and [`Engine::forget_digests`] drops a stopped download's (what is
//!   on disk may change before it goes on).

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use super::chunks::CHUNK_SIZE;
use crate::digest::{Hasher, PieceHashes};
use crate::download::Layout;
use crate::engine::Engine;
use crate::gid::Gid;
use crate::hasher::piece_range;

/// A piece's digest so far.
pub(crate) struct Digest {
    /// The hash set it belongs to (kept alive, so its address names it).
    hashes: Arc<PieceHashes>,
    hasher: Hasher,
    /// The byte-space offset of the first byte not hashed yet.
    next: u64,
}

/// What the loop knows of the pieces peers are filling, by download and piece.
#[derive(Default)]
pub(crate) struct Digests {
    making: HashMap<(Gid, u64), Digest>,
    /// Pieces hashed whole, waiting for their last write: whether each matched.
    verdicts: HashMap<(Gid, u64), bool>,
}

impl Digests {
    /// The verdict on piece `key.1` of download `key.0` if it was hashed whole here;
    /// forgets the piece either way.
    pub(crate) fn take(&mut self, key: (Gid, u64)) -> Option<bool> {
        self.making.remove(&key);
        self.verdicts.remove(&key)
    }

    /// Forgets everything about download `gid`.
    pub(crate) fn forget(&mut self, gid: Gid) {
        self.making.retain(|(g, _), _| *g != gid);
        self.verdicts.retain(|(g, _), _| *g != gid);
    }
}

impl Engine {
    /// Hashes what the block just copied to byte-space `offset` of download `gid`
    /// makes contiguous in its piece: the block itself when the bytes before it are
    /// hashed, then whatever already waits after it in the chunks held.
    pub(crate) fn hash_landed(&mut self, gid: Gid, offset: u64) {
        let d = &self.downloads[gid];
        let (Some(hashes), Layout::Planned(plan)) = (&d.hashes, &d.layout) else {
            return;
        };
        if hashes.length == 0 {
            return;
        }
        let region = 0..plan.total();
        let piece = offset / hashes.length;
        let Some(range) = piece_range(hashes, &region, piece) else {
            return;
        };
        let key = (gid, piece);
        let fresh = || Digest {
            hashes: hashes.clone(),
            hasher: Hasher::new(hashes.kind),
            next: range.start,
        };
        let digest = self.digests.making.entry(key).or_insert_with(fresh);
        if !Arc::ptr_eq(&digest.hashes, hashes) {
            *digest = fresh();
        }
        if !advance(digest, &self.chunks, gid, &range) {
            return;
        }
        let digest = self.digests.making.remove(&key).expect("advanced above");
        let matched = digest.hasher.finish().bytes == hashes.digests[piece as usize];
        self.digests.verdicts.insert(key, matched);
    }

    /// Drops the digests of download `gid` (it stopped or failed: what is on disk may
    /// change before it goes on).
    pub(crate) fn forget_digests(&mut self, gid: Gid) {
        self.digests.forget(gid);
    }
}

/// Hashes `digest`'s piece (bytes `piece`) on from its next byte through the bytes the
/// chunks of `gid` hold there; whether the piece is now hashed whole.
fn advance(
    digest: &mut Digest,
    chunks: &super::chunks::Chunks,
    gid: Gid,
    piece: &Range<u64>,
) -> bool {
    let size = CHUNK_SIZE as u64;
    while digest.next < piece.end {
        let start = digest.next - digest.next % size;
        let Some(chunk) = chunks.get(&(gid, start)) else {
            break;
        };
        let Some(run) = chunk.run_from(digest.next) else {
            break;
        };
        let end = run.end.min(piece.end);
        let bytes = chunk.bytes(start, digest.next..end);
        digest.hasher.update(bytes);
        digest.next = end;
    }
    digest.next == piece.end
}

#[cfg(test)]
// The tests list the runs a chunk holds; one run is a list of one, not a range to expand.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use crate::bt::chunks::Chunk;
    use crate::digest::HashKind;
    use std::time::Instant;

    const G: Gid = Gid::new(3);
    const MIB: u64 = CHUNK_SIZE as u64;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn sha1(bytes: &[u8]) -> Vec<u8> {
        let mut h = Hasher::new(HashKind::Sha1);
        h.update(bytes);
        h.finish().bytes
    }

    fn digest(start: u64) -> Digest {
        Digest {
            hashes: Arc::new(PieceHashes {
                kind: HashKind::Sha1,
                length: 0,
                digests: Vec::new(),
            }),
            hasher: Hasher::new(HashKind::Sha1),
            next: start,
        }
    }

    /// Chunks of `bytes` (the byte space from 0), each holding the runs of `have` in it.
    fn chunks(bytes: &[u8], have: &[Range<u64>]) -> crate::bt::chunks::Chunks {
        let now = Instant::now();
        let mut map = crate::bt::chunks::Chunks::new();
        for (i, part) in bytes.chunks(CHUNK_SIZE).enumerate() {
            let start = i as u64 * MIB;
            let end = start + part.len() as u64;
            let mine: Vec<_> = have
                .iter()
                .filter(|r| r.start < end && r.end > start)
                .map(|r| r.start.max(start)..r.end.min(end))
                .collect();
            if !mine.is_empty() {
                map.insert((G, start), Chunk::filled(part.to_vec(), &mine, now));
            }
        }
        map
    }

    #[test]
    fn a_piece_waits_at_its_gap_then_hashes_what_waited_after_it() {
        let bytes = data(CHUNK_SIZE);
        let piece = 0..MIB;
        let mut d = digest(0);
        // Blocks 0 and 2 of four: hashed up to the gap at block 1.
        let quarter = MIB / 4;
        let held = chunks(&bytes, &[0..quarter, 2 * quarter..3 * quarter]);
        assert!(!advance(&mut d, &held, G, &piece));
        assert_eq!(d.next, quarter);
        // Block 1 lands: blocks 1 and 2 are hashed, 3 is still to come.
        let held = chunks(&bytes, &[0..3 * quarter]);
        assert!(!advance(&mut d, &held, G, &piece));
        assert_eq!(d.next, 3 * quarter);
        let held = chunks(&bytes, &[0..MIB]);
        assert!(advance(&mut d, &held, G, &piece));
        assert_eq!(d.hasher.finish().bytes, sha1(&bytes));
    }

    #[test]
    fn a_piece_across_chunks_is_hashed_on_into_the_next_chunk() {
        let bytes = data(3 * CHUNK_SIZE);
        // A 2 MiB piece starting at the second chunk, both chunks whole.
        let piece = MIB..3 * MIB;
        let mut d = digest(MIB);
        let held = chunks(&bytes, &[MIB..3 * MIB]);
        assert!(advance(&mut d, &held, G, &piece));
        assert_eq!(
            d.hasher.finish().bytes,
            sha1(&bytes[CHUNK_SIZE..3 * CHUNK_SIZE])
        );
    }

    #[test]
    fn bytes_written_before_they_were_hashed_stop_the_digest() {
        let bytes = data(2 * CHUNK_SIZE);
        let piece = 0..2 * MIB;
        let mut d = digest(0);
        // The first chunk went to disk with a gap; only the second is held.
        let held = chunks(&bytes, &[MIB..2 * MIB]);
        assert!(!advance(&mut d, &held, G, &piece));
        assert_eq!(d.next, 0, "hashed past bytes it never saw");
    }

    #[test]
    fn taking_a_piece_forgets_its_digest_and_verdict() {
        let mut digests = Digests::default();
        digests.making.insert((G, 1), digest(0));
        digests.verdicts.insert((G, 2), true);
        assert_eq!(digests.take((G, 1)), None);
        assert!(
            digests.making.is_empty(),
            "a half-made digest outlived its piece"
        );
        assert_eq!(digests.take((G, 2)), Some(true));
        assert_eq!(digests.take((G, 2)), None);
        digests.verdicts.insert((G, 4), false);
        digests.forget(G);
        assert_eq!(digests.take((G, 4)), None);
    }
}
