//! Piece digests of peers' blocks, made on the loop from each chunk just before it goes
//! to disk, two pieces at a time.
//!
//! The hasher threads made the same digests from a chunk ([`super::chunks`]) after the
//! disk thread had written it, reading 1 MiB the other core had filled, with three
//! messages per chunk; hashing each block on the loop as it landed took 8% less CPU in
//! `bench bt`. Two pieces are hashed together where a chunk holds two, or where two
//! chunks go to disk together ([`super::chunks`] lets a whole chunk wait briefly for the
//! next): SHA-1 runs about 15% faster on two streams at once (`digest/sha1_pair.rs`),
//! which more than pays for reading a chunk a little colder than a block just landed
//! (10% less CPU again; the same code unpaired took 13% more).
//!
//! A piece's bytes are hashed in byte order, so a chunk's bytes extend a digest only
//! from where it stands, run by run, as far as they reach; a piece whose next bytes went
//! to disk unhashed (a chunk written out of order, or with a gap) gets no digest here:
//! it is read back by the hasher threads when all its bytes are written, as before.
//!
//! Invariants:
//! - a digest covers exactly its piece's bytes `piece.start..next`, each hashed once, in
//!   order, from the chunk buffer the disk worker is then given; the plan hands each
//!   byte of a piece in flight to a chunk once, and a chunk is hashed once, when it is
//!   written, so a complete digest is the digest of what is written;
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

use super::chunks::{CHUNK_SIZE, Chunk};
use crate::digest::{Hasher, PieceHashes};
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

impl Digest {
    fn new(hashes: &Arc<PieceHashes>, start: u64) -> Digest {
        Digest {
            hashes: hashes.clone(),
            hasher: Hasher::new(hashes.kind),
            next: start,
        }
    }
}

/// What the loop knows of the pieces peers are filling, by download and piece.
#[derive(Default)]
pub(crate) struct Digests {
    making: HashMap<(Gid, u64), Digest>,
    /// Pieces hashed whole, waiting for their last write: whether each matched.
    verdicts: HashMap<(Gid, u64), bool>,
}

/// A piece's digest and the bytes that continue it, in order.
struct Stream<'a> {
    piece: u64,
    end: u64,
    digest: Digest,
    runs: Vec<&'a [u8]>,
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

    /// Hashes the bytes of `chunks` (each with its first byte, going to disk now) into
    /// the digests of download `gid`'s pieces of `hashes` over `region` they continue;
    /// two pieces at a time where two go on.
    pub(crate) fn hash_chunks(
        &mut self,
        gid: Gid,
        hashes: &Arc<PieceHashes>,
        region: &Range<u64>,
        chunks: &[(u64, &Chunk)],
    ) {
        let length = hashes.length;
        if length == 0 {
            return;
        }
        // The pieces each chunk overlaps (two chunks written together need not be
        // neighbours: the pieces between them are none of this call's business).
        let mut pieces: Vec<u64> = chunks
            .iter()
            .flat_map(|&(start, _)| {
                let first = start.saturating_sub(region.start) / length;
                let last = (start + CHUNK_SIZE as u64 - 1).saturating_sub(region.start) / length;
                first..=last
            })
            .collect();
        pieces.sort_unstable();
        pieces.dedup();
        let mut streams = Vec::new();
        for piece in pieces {
            let Some(range) = piece_range(hashes, region, piece) else {
                continue;
            };
            let key = (gid, piece);
            let digest = match self.making.remove(&key) {
                Some(d) if Arc::ptr_eq(&d.hashes, hashes) => d,
                _ => Digest::new(hashes, range.start),
            };
            let runs = runs_from(chunks, digest.next, range.end);
            if runs.is_empty() {
                // Kept only if it was begun: a digest of nothing waits for nothing.
                if digest.next > range.start {
                    self.making.insert(key, digest);
                }
                continue;
            }
            streams.push(Stream {
                piece,
                end: range.end,
                digest,
                runs,
            });
        }
        for pair in streams.chunks_mut(2) {
            match pair {
                [a, b] => hash_pair(a, b),
                [a] => a.runs.iter().for_each(|r| a.digest.hasher.update(r)),
                _ => unreachable!("chunks of two"),
            }
        }
        for Stream {
            piece,
            end,
            mut digest,
            runs,
        } in streams
        {
            digest.next += runs.iter().map(|r| r.len() as u64).sum::<u64>();
            if digest.next == end {
                let matched = digest.hasher.finish().bytes == hashes.digests[piece as usize];
                self.verdicts.insert((gid, piece), matched);
            } else {
                self.making.insert((gid, piece), digest);
            }
        }
    }
}

/// The bytes `chunks` hold from byte-space offset `from` on, run after contiguous run,
/// up to `end` or the first byte they do not hold.
fn runs_from<'a>(chunks: &[(u64, &'a Chunk)], from: u64, end: u64) -> Vec<&'a [u8]> {
    let size = CHUNK_SIZE as u64;
    let mut runs = Vec::new();
    let mut pos = from;
    while pos < end {
        let start = pos - pos % size;
        let Some(&(_, chunk)) = chunks.iter().find(|&&(s, _)| s == start) else {
            break;
        };
        let Some(run) = chunk.run_from(pos) else {
            break;
        };
        let stop = run.end.min(end);
        runs.push(chunk.bytes(start, pos..stop));
        pos = stop;
    }
    runs
}

/// Feeds two streams' runs to their digests, two at once for as long as both have bytes.
fn hash_pair(a: &mut Stream, b: &mut Stream) {
    let (mut ra, mut rb) = (a.runs.iter().copied(), b.runs.iter().copied());
    let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
    loop {
        if x.is_empty() {
            x = ra.next().unwrap_or_default();
        }
        if y.is_empty() {
            y = rb.next().unwrap_or_default();
        }
        if x.is_empty() || y.is_empty() {
            break;
        }
        let n = x.len().min(y.len());
        Hasher::update_pair(&mut a.digest.hasher, &x[..n], &mut b.digest.hasher, &y[..n]);
        (x, y) = (&x[n..], &y[n..]);
    }
    // One side is done; the other's rest alone.
    for r in std::iter::once(x).chain(ra) {
        a.digest.hasher.update(r);
    }
    for r in std::iter::once(y).chain(rb) {
        b.digest.hasher.update(r);
    }
}

impl Engine {
    /// Hashes `chunks` of download `gid` (going to disk now) into its pieces' digests.
    pub(crate) fn hash_chunks(&mut self, gid: Gid, chunks: &[(u64, &Chunk)]) {
        let Some((hashes, region)) = self.downloads.get(gid).and_then(|d| d.hashed_region()) else {
            return;
        };
        self.digests.hash_chunks(gid, hashes, &region, chunks);
    }

    /// Drops the digests of download `gid` (it stopped or failed: what is on disk may
    /// change before it goes on).
    pub(crate) fn forget_digests(&mut self, gid: Gid) {
        self.digests.forget(gid);
    }
}

#[cfg(test)]
// The tests list the runs a chunk holds; one run is a list of one, not a range to expand.
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use crate::digest::HashKind;
    use std::time::Instant;

    const G: Gid = Gid::new(3);
    const MIB: u64 = CHUNK_SIZE as u64;

    fn data(len: u64) -> Vec<u8> {
        (0..len as usize).map(|i| (i * 7 % 251) as u8).collect()
    }

    fn sha1(bytes: &[u8]) -> Vec<u8> {
        let mut h = Hasher::new(HashKind::Sha1);
        h.update(bytes);
        h.finish().bytes
    }

    /// The hash set of `bytes` in pieces of `length`, with piece `bad`'s digest wrong.
    fn hashes(bytes: &[u8], length: u64, bad: Option<usize>) -> Arc<PieceHashes> {
        let mut digests: Vec<_> = bytes.chunks(length as usize).map(sha1).collect();
        if let Some(i) = bad {
            digests[i][0] ^= 1;
        }
        Arc::new(PieceHashes {
            kind: HashKind::Sha1,
            length,
            digests,
        })
    }

    /// The chunk of `bytes` (the byte space from 0) starting at `start`, holding `have`.
    fn chunk(bytes: &[u8], start: u64, have: &[Range<u64>]) -> Chunk {
        let end = (start + MIB).min(bytes.len() as u64);
        let buf = bytes[start as usize..end as usize].to_vec();
        Chunk::filled(buf, have, Instant::now())
    }

    fn verdicts(d: &mut Digests, pieces: u64) -> Vec<Option<bool>> {
        (0..pieces)
            .map(|p| d.verdicts.get(&(G, p)).copied())
            .collect()
    }

    #[test]
    fn two_chunks_written_together_judge_both_their_pieces() {
        let bytes = data(2 * MIB);
        let hs = hashes(&bytes, MIB, Some(1));
        let (a, b) = (
            chunk(&bytes, 0, &[0..MIB]),
            chunk(&bytes, MIB, &[MIB..2 * MIB]),
        );
        let mut d = Digests::default();
        d.hash_chunks(G, &hs, &(0..2 * MIB), &[(0, &a), (MIB, &b)]);
        assert_eq!(verdicts(&mut d, 2), [Some(true), Some(false)]);
        assert!(d.making.is_empty(), "a judged piece kept its digest");
    }

    #[test]
    fn a_chunk_of_four_pieces_and_a_short_last_piece_are_all_judged() {
        // 1.5 MiB in 256 KiB pieces: four in the first chunk, two in the second.
        let len = MIB + MIB / 2;
        let bytes = data(len);
        let hs = hashes(&bytes, MIB / 4, Some(2));
        let mut d = Digests::default();
        let a = chunk(&bytes, 0, &[0..MIB]);
        d.hash_chunks(G, &hs, &(0..len), &[(0, &a)]);
        let b = chunk(&bytes, MIB, &[MIB..len]);
        d.hash_chunks(G, &hs, &(0..len), &[(MIB, &b)]);
        let good = Some(true);
        assert_eq!(
            verdicts(&mut d, 6),
            [good, good, Some(false), good, good, good]
        );
    }

    #[test]
    fn pieces_across_chunks_are_judged_once_their_last_chunk_is_hashed() {
        // 3 MiB in 2 MiB pieces: the second chunk ends piece 0 and the third is piece 1;
        // in 1.5 MiB pieces the two pieces hashed together have unequal runs left
        // (half a MiB against 1.5 MiB in two runs).
        for piece in [2 * MIB, MIB + MIB / 2] {
            let bytes = data(3 * MIB);
            let hs = hashes(&bytes, piece, None);
            let mut d = Digests::default();
            let a = chunk(&bytes, 0, &[0..MIB]);
            d.hash_chunks(G, &hs, &(0..3 * MIB), &[(0, &a)]);
            assert_eq!(verdicts(&mut d, 2), [None, None], "{piece}");
            let (b, c) = (
                chunk(&bytes, MIB, &[MIB..2 * MIB]),
                chunk(&bytes, 2 * MIB, &[2 * MIB..3 * MIB]),
            );
            d.hash_chunks(G, &hs, &(0..3 * MIB), &[(MIB, &b), (2 * MIB, &c)]);
            assert_eq!(verdicts(&mut d, 2), [Some(true), Some(true)], "{piece}");
        }
    }

    #[test]
    fn bytes_after_a_gap_or_before_the_digest_are_never_hashed() {
        let bytes = data(2 * MIB);
        let hs = hashes(&bytes, 2 * MIB, None);
        let mut d = Digests::default();
        // The first chunk goes to disk with a gap: the digest stops at it.
        let quarter = MIB / 4;
        let a = chunk(&bytes, 0, &[0..quarter, 2 * quarter..MIB]);
        d.hash_chunks(G, &hs, &(0..2 * MIB), &[(0, &a)]);
        assert_eq!(d.making[&(G, 0)].next, quarter);
        // The rest comes in a later chunk: the gap's bytes went to disk unhashed, so
        // the piece never completes here (it is read back).
        let b = chunk(&bytes, MIB, &[MIB..2 * MIB]);
        d.hash_chunks(G, &hs, &(0..2 * MIB), &[(MIB, &b)]);
        assert_eq!(d.making[&(G, 0)].next, quarter, "hashed past the gap");
        assert_eq!(d.take((G, 0)), None);
        // A chunk holding only a piece's later bytes starts no digest.
        d.hash_chunks(G, &hs, &(0..2 * MIB), &[(MIB, &b)]);
        assert!(d.making.is_empty());
    }

    #[test]
    fn a_new_hash_set_does_not_continue_the_old_ones_digest() {
        let bytes = data(2 * MIB);
        let old = hashes(&bytes, 2 * MIB, None);
        let new = hashes(&bytes, 2 * MIB, None);
        let mut d = Digests::default();
        let (a, b) = (
            chunk(&bytes, 0, &[0..MIB]),
            chunk(&bytes, MIB, &[MIB..2 * MIB]),
        );
        d.hash_chunks(G, &old, &(0..2 * MIB), &[(0, &a)]);
        d.hash_chunks(G, &new, &(0..2 * MIB), &[(MIB, &b)]);
        assert_eq!(d.take((G, 0)), None);
    }

    #[test]
    fn taking_a_piece_forgets_its_digest_and_verdict() {
        let bytes = data(2 * MIB);
        let hs = hashes(&bytes, 2 * MIB, None);
        let mut d = Digests::default();
        d.hash_chunks(G, &hs, &(0..2 * MIB), &[(0, &chunk(&bytes, 0, &[0..MIB]))]);
        assert_eq!(d.take((G, 0)), None);
        assert!(d.making.is_empty(), "a half-made digest outlived its piece");
        d.verdicts.insert((G, 2), true);
        assert_eq!(d.take((G, 2)), Some(true));
        assert_eq!(d.take((G, 2)), None);
        d.verdicts.insert((G, 4), false);
        d.forget(G);
        assert_eq!(d.take((G, 4)), None);
    }
}
