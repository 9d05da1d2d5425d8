//! Hasher threads: verify pieces and whole files off the event loop and off the disk
//! thread, one thread per core, so hashing a 1 GiB download with SHA-1 chunk checksums
//! uses both cores while the loop keeps reading sockets.
//!
//! The loop sends [`HashJob`]s; each thread hashes and answers on the `done` channel,
//! and runs `notify` (the engine passes a closure that wakes its `mio::Waker`, as for
//! the disk worker) before it waits for more work, before a job that reads from disk,
//! or after `NOTIFY_EVERY` answers: a piece's last feed and its verification, sent
//! together, then wake the loop once, and no answer waits behind a long job. Answers
//! come in completion order, not send order: each carries what identifies it.
//!
//! Two ways a piece's digest is made. The loop *feeds* each buffer the disk worker has
//! written ([`HashJob::Feed`]), and a thread hashes it straight from memory while the
//! piece's bytes arrive (those ahead of a gap wait aside); otherwise (bytes written
//! twice, too many waiting, bytes written before the hashers knew the piece, or `-V`
//! over existing data) the thread reads the piece back from disk with positional reads
//! through the [`Storage`] mapping. Reading back was a quarter of a Metalink
//! download's CPU time: page-cache copies of bytes that had just been in memory.
//! (The chunks of peers' blocks are hashed on the loop instead, just before they are
//! written, `bt/digests.rs`, and never fed here: a piece a peer helped fill is either
//! decided there or read back.)
//!
//! Invariants:
//! - every job about one piece (its feeds and its verification) goes to the same
//!   thread, in send order, so a thread sees a piece's writes in the order the disk
//!   worker made them; jobs about no piece go to the least loaded thread;
//! - a fed digest is used only when it covers the whole piece, each byte fed once
//!   (writes arriving ahead of a gap wait aside, bounded: see `hasher/fed.rs`); a
//!   write over bytes already fed drops it (the piece is then read back). The loop
//!   feeds successful writes of a download whose pieces are hashed, and nothing else,
//!   so a complete fed digest is the digest of what is on disk (a write it does not
//!   feed leaves a gap no later write fills). A fed digest is keyed by the download's
//!   hash set (a restart makes a new one) and dropped by [`HasherPool::reset`];
//! - a fed buffer comes back to the loop exactly once ([`HashDone::Fed`]) whatever
//!   happens to the jobs sharing it, so the loop's buffer pool neither leaks nor
//!   doubles;
//! - a piece read back is read in slices of at most [`READ_BUF`] bytes, so a 16 MiB
//!   piece costs one small buffer per thread, not the piece in memory;
//! - bytes that are not on disk (missing file, file shorter than its entry, unwanted file)
//!   make a piece or range *not verify* (`Ok(false)`); only a real read failure is `Err`,
//!   so a disk error is never charged to the source that sent the bytes;
//! - the loop must only send a piece after the disk worker confirmed every write to it:
//!   the hasher reads what is on disk, nothing else.
//!
//! A removed download's queued jobs are dropped unanswered once the loop calls
//! [`HasherPool::forget`] (fed buffers still come back), so `-V` over a large file
//! stops when the download goes.
//!
//! Handles are opened per job rather than cached across jobs: a file deleted and
//! recreated under the same name between two jobs must not be read through the old inode.

use std::collections::HashSet;
use std::io;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::digest::{Digest, Hasher, PieceHashes};
use crate::disk::Gid;
use crate::file_cache::FileCache;
use crate::storage::Storage;
use fed::FedPieces;

mod fed;

/// Bytes read per call while hashing.
pub const READ_BUF: usize = 256 * 1024;

/// Answers a thread gives before it wakes the loop while more work is queued.
const NOTIFY_EVERY: usize = 8;

/// Handles a job may keep open while it reads (a piece spans few files).
const JOB_OPEN_FILES: usize = 8;

/// Work for the hasher threads.
#[derive(Debug, Clone)]
pub enum HashJob {
    /// Verify piece `piece` of `hashes`, whose pieces are laid over `region` of the byte
    /// space: piece `i` is `region.start + i * hashes.length`, `hashes.length` bytes long,
    /// the last one cut at `region.end`. For a torrent or a single file the region is the
    /// whole byte space; for a Metalink file it is that file's range. Answered by
    /// [`HashDone::Verified`].
    Piece {
        /// Download.
        gid: Gid,
        /// The byte space to read from.
        storage: Arc<Storage>,
        /// The expected piece digests.
        hashes: Arc<PieceHashes>,
        /// Where the hashed pieces lie in the byte space.
        region: Range<u64>,
        /// Which piece.
        piece: u64,
    },
    /// Hash `range` of the byte space and compare with `expect` (a whole file at the end
    /// of a download, `--checksum`, a Metalink `<hash>`); answered by
    /// [`HashDone::Checked`].
    Range {
        /// Download.
        gid: Gid,
        /// The byte space to read from.
        storage: Arc<Storage>,
        /// The bytes to hash.
        range: Range<u64>,
        /// The expected digest.
        expect: Digest,
    },
    /// Bytes the disk worker wrote at byte-space `offset`, part of piece `piece` of
    /// `hashes` laid over `region` (the part of `data` inside that piece is hashed).
    /// `data` may be shared with the jobs of the neighbouring piece; whichever job
    /// drops it last gives it back in [`HashDone::Fed`]. Every feed is answered.
    Feed {
        /// Download.
        gid: Gid,
        /// The expected piece digests (which also names the download's version).
        hashes: Arc<PieceHashes>,
        /// Where the hashed pieces lie in the byte space.
        region: Range<u64>,
        /// Which piece.
        piece: u64,
        /// Where `data` was written in the byte space.
        offset: u64,
        /// The written bytes (the buffer's first `offset..offset + data_len` bytes).
        data: Arc<Vec<u8>>,
        /// Bytes of `data` written.
        data_len: usize,
    },
}

impl HashJob {
    /// The download the job belongs to.
    pub fn gid(&self) -> Gid {
        match self {
            HashJob::Piece { gid, .. } | HashJob::Range { gid, .. } | HashJob::Feed { gid, .. } => {
                *gid
            }
        }
    }

    /// The piece the job is about, which decides its thread.
    fn piece(&self) -> Option<(Gid, u64)> {
        match self {
            HashJob::Piece { gid, piece, .. } | HashJob::Feed { gid, piece, .. } => {
                Some((*gid, *piece))
            }
            HashJob::Range { .. } => None,
        }
    }
}

/// What the hasher threads report.
#[derive(Debug)]
pub enum HashDone {
    /// [`HashJob::Piece`] finished: `Ok(true)` when the piece matched its digest.
    Verified {
        /// Download.
        gid: Gid,
        /// Piece index within its hash set.
        piece: u64,
        /// Outcome.
        result: io::Result<bool>,
    },
    /// [`HashJob::Range`] finished: `Ok(true)` when the bytes matched the digest.
    Checked {
        /// Download.
        gid: Gid,
        /// The range that was hashed.
        range: Range<u64>,
        /// Outcome.
        result: io::Result<bool>,
    },
    /// A [`HashJob::Feed`] is done with; `buf` is the written buffer when this was the
    /// last job holding it.
    Fed {
        /// Download.
        gid: Gid,
        /// The buffer, back for reuse.
        buf: Option<Vec<u8>>,
    },
}

/// What a thread is told.
enum Order {
    Job(HashJob),
    /// Drop the fed digests of a download.
    Reset(Gid),
}

/// One thread's queue and how many orders wait in it.
struct Lane {
    orders: Sender<Order>,
    queued: Arc<AtomicUsize>,
}

/// Handle on the hasher threads.
pub struct HasherPool {
    lanes: Vec<Lane>,
    threads: Vec<JoinHandle<()>>,
    forgotten: Arc<Mutex<HashSet<Gid>>>,
}

impl HasherPool {
    /// One thread per core (`std::thread::available_parallelism`); `notify` runs after
    /// each answer is queued on `done`.
    pub fn start(done: Sender<HashDone>, notify: impl Fn() + Send + Sync + 'static) -> HasherPool {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        HasherPool::with_threads(cores, done, notify)
    }

    /// `threads` hasher threads (at least one).
    pub fn with_threads(
        threads: usize,
        done: Sender<HashDone>,
        notify: impl Fn() + Send + Sync + 'static,
    ) -> HasherPool {
        let notify = Arc::new(notify);
        let forgotten = Arc::new(Mutex::new(HashSet::new()));
        let mut lanes = Vec::new();
        let threads = (0..threads.max(1))
            .map(|i| {
                let (orders, rx) = channel();
                let queued = Arc::new(AtomicUsize::new(0));
                lanes.push(Lane {
                    orders,
                    queued: queued.clone(),
                });
                let (done, notify) = (done.clone(), notify.clone());
                let forgotten = forgotten.clone();
                std::thread::Builder::new()
                    .name(format!("swarmget-hash-{i}"))
                    .spawn(move || work(&rx, &queued, &done, &forgotten, &*notify))
                    .expect("spawn hasher thread")
            })
            .collect();
        HasherPool {
            lanes,
            threads,
            forgotten,
        }
    }

    /// Number of threads.
    pub fn threads(&self) -> usize {
        self.threads.len()
    }

    /// Queues a job: a piece's on its piece's thread, any other on the least loaded.
    pub fn send(&self, job: HashJob) {
        let lane = match job.piece() {
            Some((gid, piece)) => {
                let spread = gid.get().wrapping_add(piece);
                &self.lanes[(spread % self.lanes.len() as u64) as usize]
            }
            None => self
                .lanes
                .iter()
                .min_by_key(|l| l.queued.load(Ordering::Relaxed))
                .expect("at least one thread"),
        };
        lane.queued.fetch_add(1, Ordering::Relaxed);
        // The threads only stop when this handle drops, so sending cannot fail.
        let _ = lane.orders.send(Order::Job(job));
    }

    /// Lends `buf`, whose first `len` bytes the disk worker wrote at byte-space
    /// `offset`, to the threads of the pieces of `hashes` over `region` it falls in
    /// (one [`HashJob::Feed`] each). The number of jobs sent, each answered by one
    /// [`HashDone::Fed`]; the buffer comes back in exactly one of them.
    pub fn feed(
        &self,
        gid: Gid,
        hashes: &Arc<PieceHashes>,
        region: Range<u64>,
        offset: u64,
        buf: Vec<u8>,
        len: usize,
    ) -> usize {
        let first = offset.saturating_sub(region.start) / hashes.length.max(1);
        let last =
            (offset + len.max(1) as u64 - 1).saturating_sub(region.start) / hashes.length.max(1);
        let data = Arc::new(buf);
        // The last job takes this reference: one kept here could outlive the jobs,
        // and then no job would be the last to hold the buffer and give it back.
        let mut parts: Vec<_> = (first..last).map(|piece| (piece, data.clone())).collect();
        parts.push((last, data));
        let jobs = parts.len();
        for (piece, data) in parts {
            self.send(HashJob::Feed {
                gid,
                hashes: hashes.clone(),
                region: region.clone(),
                piece,
                offset,
                data,
                data_len: len,
            });
        }
        jobs
    }

    /// Drops what was fed of `gid`'s pieces (the download stopped: what is on disk
    /// may change before it goes on). Later feeds start afresh.
    pub fn reset(&self, gid: Gid) {
        for lane in &self.lanes {
            let _ = lane.orders.send(Order::Reset(gid));
        }
    }

    /// Drops every job of `gid` that no thread has started yet, without answering it (a
    /// job already running still answers). Gids are never reused, so the set of
    /// forgotten ones only grows, by eight bytes per removed download.
    pub fn forget(&self, gid: Gid) {
        if let Ok(mut set) = self.forgotten.lock() {
            set.insert(gid);
        }
    }

    /// Queues every piece of `hashes` over `region` (`-V/--check-integrity` on existing
    /// data): one job per piece, so every thread takes part; one
    /// [`HashDone::Verified`] comes back per piece.
    pub fn check_all(
        &self,
        gid: Gid,
        storage: &Arc<Storage>,
        hashes: &Arc<PieceHashes>,
        region: Range<u64>,
    ) {
        for piece in 0..hashes.digests.len() as u64 {
            self.send(HashJob::Piece {
                gid,
                storage: storage.clone(),
                hashes: hashes.clone(),
                region: region.clone(),
                piece,
            });
        }
    }
}

impl Drop for HasherPool {
    fn drop(&mut self) {
        // Closing the channels lets the threads drain what is queued and stop.
        self.lanes.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn work(
    rx: &Receiver<Order>,
    queued: &AtomicUsize,
    done: &Sender<HashDone>,
    forgotten: &Mutex<HashSet<Gid>>,
    notify: &dyn Fn(),
) {
    let mut buf = vec![0u8; READ_BUF];
    let mut fed = FedPieces::default();
    // Answers sent since the loop was last woken.
    let mut unheard = 0;
    loop {
        let order = match rx.try_recv() {
            Ok(order) => order,
            Err(TryRecvError::Empty) => {
                tell(&mut unheard, notify);
                match rx.recv() {
                    Ok(order) => order,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        let job = match order {
            Order::Job(job) => job,
            Order::Reset(gid) => {
                fed.reset(gid);
                continue;
            }
        };
        queued.fetch_sub(1, Ordering::Relaxed);
        let report = match job {
            HashJob::Feed {
                gid,
                hashes,
                region,
                piece,
                offset,
                data,
                data_len,
            } => {
                if forgotten.lock().is_ok_and(|set| set.contains(&gid)) {
                    fed.remove((gid, piece));
                } else {
                    let written = offset..offset + data_len as u64;
                    if let Some(range) = piece_range(&hashes, &region, piece) {
                        fed.feed((gid, piece), &hashes, range, written, &data[..data_len]);
                    }
                }
                HashDone::Fed {
                    gid,
                    buf: Arc::into_inner(data),
                }
            }
            job if forgotten.lock().is_ok_and(|set| set.contains(&job.gid())) => {
                if let Some(key) = job.piece() {
                    fed.remove(key);
                }
                continue;
            }
            HashJob::Piece {
                gid,
                storage,
                hashes,
                region,
                piece,
            } => {
                let digest = piece_range(&hashes, &region, piece)
                    .and_then(|range| fed.take((gid, piece), &hashes, range));
                let result = match digest {
                    Some(d) => Ok(d.bytes == hashes.digests[piece as usize]),
                    None => {
                        tell(&mut unheard, notify);
                        verify_piece(&storage, &hashes, region, piece, &mut buf)
                    }
                };
                HashDone::Verified { gid, piece, result }
            }
            HashJob::Range {
                gid,
                storage,
                range,
                expect,
            } => {
                tell(&mut unheard, notify);
                HashDone::Checked {
                    gid,
                    result: hash_range(&storage, range.clone(), &expect, &mut buf),
                    range,
                }
            }
        };
        if done.send(report).is_err() {
            return;
        }
        unheard += 1;
        if unheard >= NOTIFY_EVERY {
            tell(&mut unheard, notify);
        }
    }
    tell(&mut unheard, notify);
}

/// Wakes the loop if answers were sent since it was last woken.
fn tell(unheard: &mut usize, notify: &dyn Fn()) {
    if *unheard > 0 {
        notify();
        *unheard = 0;
    }
}

/// The byte-space range of piece `piece` of `hashes` laid over `region`.
pub fn piece_range(hashes: &PieceHashes, region: &Range<u64>, piece: u64) -> Option<Range<u64>> {
    if piece >= hashes.digests.len() as u64 || hashes.length == 0 {
        return None;
    }
    let start = region
        .start
        .checked_add(piece.checked_mul(hashes.length)?)?;
    (start < region.end).then(|| start..start.saturating_add(hashes.length).min(region.end))
}

fn verify_piece(
    storage: &Storage,
    hashes: &PieceHashes,
    region: Range<u64>,
    piece: u64,
    buf: &mut [u8],
) -> io::Result<bool> {
    let range = piece_range(hashes, &region, piece).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "piece {piece} is not one of the {} pieces of {} bytes over bytes {region:?}",
                hashes.digests.len(),
                hashes.length
            ),
        )
    })?;
    let expect = &hashes.digests[piece as usize];
    Ok(digest_of(storage, range, hashes.kind, buf)?.is_some_and(|d| d.bytes == *expect))
}

fn hash_range(
    storage: &Storage,
    range: Range<u64>,
    expect: &Digest,
    buf: &mut [u8],
) -> io::Result<bool> {
    Ok(digest_of(storage, range, expect.kind, buf)?.is_some_and(|d| d == *expect))
}

/// The digest of `range`, or `None` when some of its bytes are not on disk.
fn digest_of(
    storage: &Storage,
    range: Range<u64>,
    kind: crate::digest::HashKind,
    buf: &mut [u8],
) -> io::Result<Option<Digest>> {
    let mut files = FileCache::new(JOB_OPEN_FILES);
    let mut hasher = Hasher::new(kind);
    let mut pos = range.start;
    while pos < range.end {
        let n = (range.end - pos).min(buf.len() as u64) as usize;
        match files.read(storage, pos, &mut buf[..n]) {
            Ok(()) => hasher.update(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::UnexpectedEof
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
        pos += n as u64;
    }
    Ok(Some(hasher.finish()))
}

#[cfg(test)]
mod tests {
    const G4: crate::gid::Gid = crate::gid::Gid::new(4);
    const G5: crate::gid::Gid = crate::gid::Gid::new(5);
    const G9: crate::gid::Gid = crate::gid::Gid::new(9);
    use super::*;
    use crate::digest::HashKind;
    use crate::test_dir::TestDir;
    use std::collections::BTreeMap;
    use std::path::Path;
    use std::time::Duration;

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 253) as u8).collect()
    }

    fn sha1(bytes: &[u8]) -> Vec<u8> {
        let mut h = Hasher::new(HashKind::Sha1);
        h.update(bytes);
        h.finish().bytes
    }

    fn piece_hashes(bytes: &[u8], length: usize) -> Arc<PieceHashes> {
        Arc::new(PieceHashes {
            kind: HashKind::Sha1,
            length: length as u64,
            digests: bytes.chunks(length).map(sha1).collect(),
        })
    }

    fn pool() -> (HasherPool, Receiver<HashDone>) {
        let (tx, rx) = channel();
        (HasherPool::with_threads(2, tx, || {}), rx)
    }

    fn verified(rx: &Receiver<HashDone>, n: usize) -> BTreeMap<u64, bool> {
        (0..n)
            .map(
                |_| match rx.recv_timeout(Duration::from_secs(60)).expect("an answer") {
                    HashDone::Verified {
                        gid: G9,
                        piece,
                        result,
                    } => (piece, result.unwrap()),
                    other => panic!("unexpected {other:?}"),
                },
            )
            .collect()
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn check_all_finds_exactly_the_corrupted_piece_of_large_pieces() {
        let dir = TestDir::new("hash-corrupt");
        // Pieces several read buffers long, the last one short.
        let piece = 3 * READ_BUF + 100;
        let mut bytes = data(4 * piece + 1234);
        let hashes = piece_hashes(&bytes, piece);
        bytes[2 * piece + READ_BUF + 5] ^= 0x40;
        let path = write(dir.path(), "f", &bytes);
        let storage = Arc::new(Storage::single(path, bytes.len() as u64, piece as u64).unwrap());
        let (pool, rx) = pool();
        pool.check_all(G9, &storage, &hashes, 0..bytes.len() as u64);
        let got = verified(&rx, 5);
        assert_eq!(
            got,
            BTreeMap::from([(0, true), (1, true), (2, false), (3, true), (4, true)])
        );
    }

    #[test]
    fn a_piece_across_two_files_verifies_and_a_missing_file_does_not() {
        let dir = TestDir::new("hash-multi");
        let bytes = data(300);
        write(dir.path(), "a", &bytes[..130]);
        write(dir.path(), "b", &bytes[130..]);
        let storage = Arc::new(
            Storage::from_lengths(
                [
                    (dir.path().join("a"), 130, true),
                    (dir.path().join("b"), 170, true),
                ],
                100,
            )
            .unwrap(),
        );
        let hashes = piece_hashes(&bytes, 100);
        let (pool, rx) = pool();
        pool.check_all(G9, &storage, &hashes, 0..300);
        assert_eq!(
            verified(&rx, 3),
            BTreeMap::from([(0, true), (1, true), (2, true)])
        );
        std::fs::remove_file(dir.path().join("b")).unwrap();
        pool.check_all(G9, &storage, &hashes, 0..300);
        assert_eq!(
            verified(&rx, 3),
            BTreeMap::from([(0, true), (1, false), (2, false)])
        );
    }

    #[test]
    fn pieces_of_a_region_are_read_from_that_region() {
        // A Metalink file at offset 50 of a two-file byte space, with its own pieces.
        let dir = TestDir::new("hash-region");
        let bytes = data(120);
        write(dir.path(), "first", &bytes[..50]);
        write(dir.path(), "second", &bytes[50..]);
        let storage = Arc::new(
            Storage::from_lengths(
                [
                    (dir.path().join("first"), 50, true),
                    (dir.path().join("second"), 70, true),
                ],
                32,
            )
            .unwrap(),
        );
        let hashes = piece_hashes(&bytes[50..], 32);
        let (pool, rx) = pool();
        pool.check_all(G9, &storage, &hashes, 50..120);
        assert_eq!(
            verified(&rx, 3),
            BTreeMap::from([(0, true), (1, true), (2, true)])
        );
        pool.send(HashJob::Piece {
            gid: G9,
            storage,
            hashes,
            region: 50..120,
            piece: 3,
        });
        match rx.recv_timeout(Duration::from_secs(60)).unwrap() {
            HashDone::Verified {
                piece: 3, result, ..
            } => {
                assert_eq!(result.unwrap_err().kind(), io::ErrorKind::InvalidInput)
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_whole_range_is_checked_against_its_digest() {
        let dir = TestDir::new("hash-range");
        let bytes = data(2 * READ_BUF + 3);
        let path = write(dir.path(), "f", &bytes);
        let storage = Arc::new(Storage::single(path, bytes.len() as u64, 1 << 20).unwrap());
        let (pool, rx) = pool();
        let mut h = Hasher::new(HashKind::Sha256);
        h.update(&bytes);
        let expect = h.finish();
        let job = |expect: Digest| HashJob::Range {
            gid: G4,
            storage: storage.clone(),
            range: 0..bytes.len() as u64,
            expect,
        };
        pool.send(job(expect.clone()));
        let mut wrong = expect.clone();
        wrong.bytes[0] ^= 1;
        pool.send(job(wrong));
        let mut results: Vec<bool> = (0..2)
            .map(
                |_| match rx.recv_timeout(Duration::from_secs(60)).unwrap() {
                    HashDone::Checked {
                        gid: G4,
                        range,
                        result,
                    } => {
                        assert_eq!(range, 0..bytes.len() as u64);
                        result.unwrap()
                    }
                    other => panic!("unexpected {other:?}"),
                },
            )
            .collect();
        results.sort();
        assert_eq!(results, [false, true]);
    }

    #[test]
    fn jobs_of_a_forgotten_download_are_dropped_unanswered() {
        let dir = TestDir::new("hash-forget");
        let bytes = data(4096);
        let path = write(dir.path(), "f", &bytes);
        let storage = Arc::new(Storage::single(path, bytes.len() as u64, 1024).unwrap());
        let hashes = piece_hashes(&bytes, 1024);
        let (tx, rx) = channel();
        // One thread: answers come in send order, so the last answer proves the earlier
        // jobs were skipped rather than still queued.
        let pool = HasherPool::with_threads(1, tx, || {});
        pool.forget(G5);
        pool.check_all(G5, &storage, &hashes, 0..4096);
        pool.check_all(G9, &storage, &hashes, 0..4096);
        assert_eq!(verified(&rx, 4).len(), 4);
        drop(pool);
        assert!(rx.try_recv().is_err(), "a forgotten job answered");
    }

    /// Feeds `bytes` as written at `offset`, as the engine does.
    fn feed_write(
        pool: &HasherPool,
        hashes: &Arc<PieceHashes>,
        total: u64,
        offset: u64,
        bytes: &[u8],
    ) {
        pool.feed(G9, hashes, 0..total, offset, bytes.to_vec(), bytes.len());
    }

    /// A job verifying piece `piece` of `hashes` laid over bytes `0..total` of `storage`.
    fn piece_job(
        gid: Gid,
        storage: &Arc<Storage>,
        hashes: &Arc<PieceHashes>,
        total: u64,
        piece: u64,
    ) -> HashJob {
        HashJob::Piece {
            gid,
            storage: storage.clone(),
            hashes: hashes.clone(),
            region: 0..total,
            piece,
        }
    }

    /// Asks for piece `piece` and waits for its answer; the buffers that came back on
    /// the way.
    fn verify(
        pool: &HasherPool,
        rx: &Receiver<HashDone>,
        storage: &Arc<Storage>,
        hashes: &Arc<PieceHashes>,
        total: u64,
        piece: u64,
    ) -> (bool, usize) {
        pool.send(piece_job(G9, storage, hashes, total, piece));
        let mut returned = 0;
        loop {
            match rx.recv_timeout(Duration::from_secs(60)).expect("an answer") {
                HashDone::Fed { buf, .. } => returned += usize::from(buf.is_some()),
                HashDone::Verified {
                    piece: p, result, ..
                } if p == piece => return (result.unwrap(), returned),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// A file of `len` zero bytes: what is on disk is not the piece, so a piece that
    /// verifies was verified from what was fed.
    fn zeros(dir: &TestDir, len: usize) -> Arc<Storage> {
        let path = write(dir.path(), "f", &vec![0; len]);
        Arc::new(Storage::single(path, len as u64, 1024).unwrap())
    }

    #[test]
    fn a_piece_fed_in_order_is_verified_from_memory_not_read_back() {
        let dir = TestDir::new("hash-feed");
        let bytes = data(3000);
        let storage = zeros(&dir, 3000);
        let hashes = piece_hashes(&bytes, 1000);
        let (pool, rx) = pool();
        // Piece 1 in two writes, the second also starting piece 2.
        feed_write(&pool, &hashes, 3000, 1000, &bytes[1000..1600]);
        feed_write(&pool, &hashes, 3000, 1600, &bytes[1600..2500]);
        let (ok, mut returned) = verify(&pool, &rx, &storage, &hashes, 3000, 1);
        assert!(ok, "piece 1 was read back instead of hashed as fed");
        feed_write(&pool, &hashes, 3000, 2500, &bytes[2500..]);
        let (ok, more) = verify(&pool, &rx, &storage, &hashes, 3000, 2);
        assert!(ok, "piece 2 was read back instead of hashed as fed");
        returned += more;
        drop(pool);
        returned += rx
            .try_iter()
            .filter(|d| matches!(d, HashDone::Fed { buf: Some(_), .. }))
            .count();
        // Three buffers lent, three back: the one shared by two pieces came back once.
        assert_eq!(returned, 3);
    }

    #[test]
    fn a_piece_written_out_of_order_is_still_verified_from_memory() {
        let dir = TestDir::new("hash-feed-order");
        let bytes = data(2000);
        let storage = zeros(&dir, 2000);
        let hashes = piece_hashes(&bytes, 1000);
        let (pool, rx) = pool();
        // The second half first: it waits aside for the first.
        feed_write(&pool, &hashes, 2000, 500, &bytes[500..1000]);
        feed_write(&pool, &hashes, 2000, 0, &bytes[..500]);
        let (ok, returned) = verify(&pool, &rx, &storage, &hashes, 2000, 0);
        assert!(ok, "piece 0 was read back");
        // The buffer held aside was copied: both came back before the answer.
        assert_eq!(returned, 2);
    }

    #[test]
    fn a_piece_rewritten_or_reset_or_of_another_version_is_read_back() {
        let dir = TestDir::new("hash-feed-back");
        let bytes = data(2000);
        let storage = zeros(&dir, 2000);
        let hashes = piece_hashes(&bytes, 1000);
        let (pool, rx) = pool();
        // A rewrite of bytes already fed drops the digest.
        feed_write(&pool, &hashes, 2000, 0, &bytes[..500]);
        feed_write(&pool, &hashes, 2000, 250, &bytes[250..1000]);
        assert!(!verify(&pool, &rx, &storage, &hashes, 2000, 0).0);
        // Written again from its first byte and on in order, the piece is fed anew.
        feed_write(&pool, &hashes, 2000, 0, &bytes[..500]);
        feed_write(&pool, &hashes, 2000, 500, &bytes[500..1000]);
        assert!(verify(&pool, &rx, &storage, &hashes, 2000, 0).0);
        // Reset between two writes: read back.
        feed_write(&pool, &hashes, 2000, 1000, &bytes[1000..1500]);
        pool.reset(G9);
        feed_write(&pool, &hashes, 2000, 1500, &bytes[1500..]);
        assert!(!verify(&pool, &rx, &storage, &hashes, 2000, 1).0);
        // A new hash set (a restarted download) does not continue the old one's.
        let again = piece_hashes(&bytes, 1000);
        feed_write(&pool, &hashes, 2000, 1000, &bytes[1000..1500]);
        feed_write(&pool, &again, 2000, 1500, &bytes[1500..]);
        assert!(!verify(&pool, &rx, &storage, &again, 2000, 1).0);
    }

    /// A named pipe standing for a slow disk: a job reading a piece back from it blocks
    /// in `open` until [`open_pipe`] opens the other end.
    fn pipe(dir: &TestDir, name: &str, len: usize) -> (std::path::PathBuf, Arc<Storage>) {
        use std::os::unix::ffi::OsStrExt;
        let path = dir.path().join(name);
        let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path for the call's duration.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
        let storage = Arc::new(Storage::single(path.clone(), len as u64, 1000).unwrap());
        (path, storage)
    }

    /// Waits for the hasher thread to be opening `pipe` (opening a pipe's write end
    /// blocks until its read end is opened), then lets it go on: it reads nothing.
    fn open_pipe(pipe: &Path) {
        drop(std::fs::OpenOptions::new().write(true).open(pipe).unwrap());
    }

    /// One hasher thread, its answers, and a channel that hears each `notify`.
    fn one_thread() -> (HasherPool, Receiver<HashDone>, Receiver<()>) {
        let (tx, rx) = channel();
        let (woke_tx, woke) = channel();
        let woke_tx = Mutex::new(woke_tx);
        let pool = HasherPool::with_threads(1, tx, move || {
            let _ = woke_tx.lock().unwrap().send(());
        });
        (pool, rx, woke)
    }

    /// Queues a job that holds the thread until `open_pipe(gate)`, so the jobs sent after
    /// it are all queued when the thread comes to them.
    fn hold(pool: &HasherPool, dir: &TestDir) -> std::path::PathBuf {
        let (gate, slow) = pipe(dir, "gate", 1000);
        pool.send(piece_job(
            G5,
            &slow,
            &piece_hashes(&[0; 1000], 1000),
            1000,
            0,
        ));
        gate
    }

    /// Lets the held thread go on, then stops it once it has done every queued job: its
    /// answers, and how many times it woke the loop.
    fn finish(
        pool: HasherPool,
        gate: &Path,
        rx: &Receiver<HashDone>,
        woke: &Receiver<()>,
    ) -> (Vec<HashDone>, usize) {
        open_pipe(gate);
        // Closing the pool's channels lets the thread drain its queue, then stop.
        drop(pool);
        (rx.try_iter().collect(), woke.try_iter().count())
    }

    #[test]
    fn answers_queued_together_wake_the_loop_once() {
        let dir = TestDir::new("hash-wake-once");
        let bytes = data(1000);
        let storage = zeros(&dir, 1000);
        let hashes = piece_hashes(&bytes, 1000);
        let (pool, rx, woke) = one_thread();
        let gate = hold(&pool, &dir);
        // A piece's last write and its verification, sent together as the loop does.
        feed_write(&pool, &hashes, 1000, 0, &bytes);
        pool.send(piece_job(G9, &storage, &hashes, 1000, 0));
        let (answers, wakes) = finish(pool, &gate, &rx, &woke);
        assert!(
            matches!(
                answers.as_slice(),
                [
                    HashDone::Verified { gid: G5, .. },
                    HashDone::Fed { gid: G9, .. },
                    HashDone::Verified {
                        gid: G9,
                        result: Ok(true),
                        ..
                    },
                ]
            ),
            "{answers:?}"
        );
        assert_eq!(wakes, 1, "one wake-up for three answers");
    }

    #[test]
    fn the_loop_hears_of_answers_before_a_piece_is_read_back() {
        let dir = TestDir::new("hash-wake-before-read");
        let bytes = data(2000);
        let hashes = piece_hashes(&bytes, 1000);
        let (pool, rx, woke) = one_thread();
        let gate = hold(&pool, &dir);
        // Half of piece 0 fed, then piece 0 asked: it must be read back, from a disk
        // that answers only once the thread is waiting on it.
        let (stuck, slow) = pipe(&dir, "stuck", 2000);
        feed_write(&pool, &hashes, 2000, 0, &bytes[..500]);
        pool.send(piece_job(G9, &slow, &hashes, 2000, 0));
        let open_stuck = std::thread::spawn(move || open_pipe(&stuck));
        let (answers, wakes) = finish(pool, &gate, &rx, &woke);
        open_stuck.join().unwrap();
        assert_eq!(answers.len(), 3, "{answers:?}");
        // The gate's answer and the fed buffer were told before the read back; the
        // read back's answer after it. Without the first, the two would wait for the
        // disk and the loop would be woken once.
        assert_eq!(wakes, 2, "a wake-up before the read back and one after");
    }

    #[test]
    fn every_answer_is_told_with_several_threads() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = TestDir::new("hash-notify");
        let bytes = data(64 * 1024);
        let path = write(dir.path(), "f", &bytes);
        let storage = Arc::new(Storage::single(path, bytes.len() as u64, 1024).unwrap());
        let hashes = piece_hashes(&bytes, 1024);
        let (tx, rx) = channel();
        let woken = Arc::new(AtomicUsize::new(0));
        let w = woken.clone();
        let pool = HasherPool::with_threads(3, tx, move || {
            w.fetch_add(1, Ordering::SeqCst);
        });
        assert_eq!(pool.threads(), 3);
        pool.check_all(G9, &storage, &hashes, 0..bytes.len() as u64);
        let got = verified(&rx, 64);
        assert!(got.values().all(|&ok| ok) && got.len() == 64);
        drop(pool);
        // Every job reads its piece back from disk, so each thread tells its last
        // answer before the next read: one wake-up per answer, none lost.
        assert_eq!(woken.load(Ordering::SeqCst), 64);
    }
}
