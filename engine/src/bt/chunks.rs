//! Blocks from peers gathered into aligned chunks of the byte space on their way to disk.
//!
//! Peers deliver 16 KiB blocks, only roughly in the order they were asked for (libtorrent
//! often sends a piece's blocks one late). Writing each loop turn's contiguous run of
//! blocks cost a disk job, a hasher feed and their wake-ups per ~100 KiB. Here every block
//! is copied, whatever its order, into the pooled buffer of the aligned chunk of the byte
//! space it falls in, and the chunk goes to disk as one write once every byte the plan
//! still awaits in it ([`Plan::awaited`](crate::plan::Plan::awaited), taken when the chunk
//! opens) has come. Just before it goes, the loop hashes it into its pieces' digests
//! (`bt/digests.rs`); a whole chunk waits up to [`PAIR_WAIT`] for the next whole chunk of
//! its download, and the two go together, their pieces hashed two at a time.
//!
//! Chunks are [`CHUNK_SIZE`] (1 MiB): each costs a disk job and the threads' wake-ups
//! around it, and 1 MiB chunks saved about 6% of a download's CPU time over 256 KiB
//! ones. So that they need no larger `--disk-cache` (a larger cache made HTTP hold more
//! memory for nothing), the chunks being gathered are an allowance of their own,
//! [`GATHERED`] chunks beside the cache; a chunk counts against `--disk-cache` from its
//! write, like any buffer on its way to disk, so peers' reads still pause when the disk
//! falls behind.
//!
//! Invariants:
//! - A chunk holds only bytes the plan put in flight to disk (`Plan::block_received`
//!   returned their range); `have` is exactly the bytes copied into its buffer.
//! - Every held byte is written, or dropped with its download: a chunk is written when
//!   nothing it awaits is missing and another such chunk of its download waits, when it
//!   has waited so for [`PAIR_WAIT`], when it has not grown for [`HOLD`], when its
//!   download is no longer active, when the engine halts or shuts down, or to make room;
//!   it is dropped (its buffer back in the pool) when its download is gone or restarts
//!   on a new version of the file. [`Engine::sweep_chunks`] runs at the top of every
//!   loop turn, before settled downloads are announced, so a stopped download waits for
//!   these writes like any other.
//! - At most [`GATHERED`] chunks are held, whole ones waiting included; a new one beyond
//!   them writes the one that waited longest.
//! - Every chunk is hashed into its pieces' digests once, right before it is written;
//!   two chunks written together are hashed together and written in byte order.
//! - A chunk's buffer does not count in the engine's pool (`pool_out`) while it gathers;
//!   what is written from it counts, for the units it spans, from the write until the
//!   buffer comes back, as every write buffer does.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::disk::DiskJob;
use crate::engine::{BUF_SIZE, Engine, pool_units};
use crate::gid::Gid;
use crate::range_set::RangeSet;

/// How long a chunk waits for more blocks before what it has goes to disk: a slow or
/// vanished peer delays writing its bytes by no more than this.
pub(crate) const HOLD: Duration = Duration::from_millis(500);

/// How long a whole chunk waits for another of its download to go to disk with, so
/// that their pieces are hashed two at a time (`bt/digests.rs`). At the speed of a
/// local seeder the next chunk is whole within two milliseconds.
pub(crate) const PAIR_WAIT: Duration = Duration::from_millis(10);

/// Bytes a chunk covers; chunks are aligned to it.
pub(crate) const CHUNK_SIZE: usize = 4 * BUF_SIZE;

/// Chunks held at once, beside `--disk-cache`.
pub(crate) const GATHERED: usize = 4;

/// Chunks being filled, by download and first byte.
pub(crate) type Chunks = HashMap<(Gid, u64), Chunk>;

/// One aligned chunk being filled: `buf[i]` belongs at byte `start + i`, where `start`
/// is the second half of its key.
pub(crate) struct Chunk {
    buf: Vec<u8>,
    /// Bytes copied in (absolute offsets).
    have: RangeSet,
    /// Bytes the plan awaited when the chunk opened, not yet come.
    missing: RangeSet,
    /// When a block last landed.
    touched: Instant,
    /// When nothing it awaited was missing any more, if that time came: it waits, at
    /// most [`PAIR_WAIT`], for another whole chunk of its download to be written with.
    whole_at: Option<Instant>,
}

impl Chunk {
    /// When it is written for waiting: [`PAIR_WAIT`] after it was whole, or
    /// [`HOLD`] after its last block while it is not.
    fn due(&self) -> Instant {
        self.whole_at
            .map_or(self.touched + HOLD, |at| at + PAIR_WAIT)
    }

    /// The run of bytes copied in that holds byte-space offset `pos`.
    pub(crate) fn run_from(&self, pos: u64) -> Option<std::ops::Range<u64>> {
        self.have.containing(pos)
    }

    /// The bytes copied in at byte-space `range`, of the chunk that starts at `start`.
    pub(crate) fn bytes(&self, start: u64, range: std::ops::Range<u64>) -> &[u8] {
        &self.buf[(range.start - start) as usize..(range.end - start) as usize]
    }

    /// A chunk holding `buf`, of which the bytes `have` (byte-space offsets) came.
    #[cfg(test)]
    pub(crate) fn filled(buf: Vec<u8>, have: &[std::ops::Range<u64>], now: Instant) -> Chunk {
        let mut set = RangeSet::new();
        for r in have {
            set.insert(r.clone());
        }
        Chunk {
            buf,
            have: set,
            missing: RangeSet::new(),
            touched: now,
            whole_at: None,
        }
    }
}

impl Engine {
    /// Queues block bytes `data` of download `gid`, belonging at byte `offset` (already
    /// in flight in its plan), into the chunks they fall in; a chunk left with nothing
    /// missing is written.
    pub(crate) fn queue_block(&mut self, gid: Gid, mut offset: u64, mut data: &[u8], now: Instant) {
        let size = CHUNK_SIZE as u64;
        while !data.is_empty() {
            let start = offset - offset % size;
            let take = ((start + size - offset) as usize).min(data.len());
            self.chunk_bytes((gid, start), offset, &data[..take], now);
            offset += take as u64;
            data = &data[take..];
        }
    }

    fn chunk_bytes(&mut self, key: (Gid, u64), offset: u64, data: &[u8], now: Instant) {
        let (gid, start) = key;
        if !self.chunks.contains_key(&key) {
            if self.chunks.len() >= GATHERED {
                self.write_oldest_chunk();
            }
            let buf = self.spare_buffer(CHUNK_SIZE);
            // `awaited` stops at the end of the byte space.
            let missing = self.downloads[gid].plan().map_or_else(RangeSet::new, |p| {
                p.awaited(start..start + buf.len() as u64)
            });
            let chunk = Chunk {
                buf,
                have: RangeSet::new(),
                missing,
                touched: now,
                whole_at: None,
            };
            self.chunks.insert(key, chunk);
        }
        let c = self.chunks.get_mut(&key).expect("inserted above");
        let at = (offset - start) as usize;
        c.buf[at..at + data.len()].copy_from_slice(data);
        let range = offset..offset + data.len() as u64;
        c.have.insert(range.clone());
        c.missing.remove(range);
        c.touched = now;
        if c.missing.is_empty() && c.whole_at.is_none() {
            self.chunk_whole(key, now);
        }
    }

    /// Chunk `key` has every byte it awaited: it goes to disk now with another whole
    /// chunk of its download if one waits, or else waits for one.
    fn chunk_whole(&mut self, key: (Gid, u64), now: Instant) {
        let partner = self
            .chunks
            .iter()
            .find(|(k, c)| k.0 == key.0 && **k != key && c.whole_at.is_some())
            .map(|(k, _)| *k);
        let Some(other) = partner else {
            self.chunks.get_mut(&key).expect("whole above").whole_at = Some(now);
            return;
        };
        let mut pair = [
            (other, self.chunks.remove(&other).expect("found above")),
            (key, self.chunks.remove(&key).expect("whole above")),
        ];
        pair.sort_by_key(|((_, start), _)| *start);
        let [(a, chunk_a), (b, chunk_b)] = pair;
        self.hash_chunks(key.0, &[(a.1, &chunk_a), (b.1, &chunk_b)]);
        self.send_chunk(a, chunk_a);
        self.send_chunk(b, chunk_b);
    }

    /// Writes the chunk that waited longest, to make room for a new one.
    fn write_oldest_chunk(&mut self) {
        let Some(&key) = self
            .chunks
            .iter()
            .min_by_key(|(_, c)| c.touched)
            .map(|(k, _)| k)
        else {
            return;
        };
        let c = self.chunks.remove(&key).expect("found above");
        self.write_chunk(key, c);
    }

    /// Writes or drops the chunks whose time has come (see the module's invariants);
    /// called at the top of every loop turn.
    pub(crate) fn sweep_chunks(&mut self, now: Instant) {
        if self.chunks.is_empty() {
            return;
        }
        let ending = self.halted || !self.shutdown.is_empty();
        let due: Vec<(Gid, u64)> = self
            .chunks
            .iter()
            .filter(|((gid, _), c)| {
                ending || !self.downloads.get(*gid).is_some_and(|d| d.is_active()) || now >= c.due()
            })
            .map(|(&k, _)| k)
            .collect();
        for key in due {
            let c = self.chunks.remove(&key).expect("listed above");
            self.write_chunk(key, c);
        }
    }

    /// When the next held chunk is due to be written for waiting, if any is held.
    pub(crate) fn chunks_deadline(&self) -> Option<Instant> {
        self.chunks.values().map(Chunk::due).min()
    }

    /// Forgets download `gid`'s chunks without writing them (its file restarts from
    /// another version; the bytes in flight went with the old plan).
    pub(crate) fn drop_chunks(&mut self, gid: Gid) {
        let keys: Vec<_> = self.chunks.keys().filter(|k| k.0 == gid).copied().collect();
        for key in keys {
            let c = self.chunks.remove(&key).expect("listed above");
            self.recycle_buffer(c.buf);
        }
        self.forget_digests(gid);
    }

    /// Hashes chunk `c` (of download and first byte `key`) into its pieces' digests and
    /// writes it.
    fn write_chunk(&mut self, key: (Gid, u64), c: Chunk) {
        self.hash_chunks(key.0, &[(key.1, &c)]);
        self.send_chunk(key, c);
    }

    /// Writes what chunk `c` (of download and first byte `key`) has, hashed already:
    /// its buffer as it is when the bytes are one run from its start, else each run
    /// copied out.
    fn send_chunk(&mut self, (gid, start): (Gid, u64), c: Chunk) {
        let runs: Vec<_> = c.have.iter().collect();
        if let [run] = runs.as_slice()
            && run.start == start
        {
            let len = (run.end - run.start) as usize;
            return self.write_held(gid, start, c.buf, len);
        }
        for run in runs {
            let at = (run.start - start) as usize;
            let copy = c.buf[at..at + (run.end - run.start) as usize].to_vec();
            let len = copy.len();
            self.write_held(gid, run.start, copy, len);
        }
        self.recycle_buffer(c.buf);
    }

    /// Sends `buf[..len]` to disk at byte `offset` of download `gid`'s storage, or gives
    /// the buffer back when the download (or its storage) is gone. The buffer counts
    /// against `--disk-cache` from here on, as any on its way to disk.
    fn write_held(&mut self, gid: Gid, offset: u64, buf: Vec<u8>, len: usize) {
        self.pool_out += pool_units(buf.len());
        let Some(storage) = self.downloads.get(gid).and_then(|d| d.storage.clone()) else {
            return self.give_buffer(buf);
        };
        let job = DiskJob::WriteStorage {
            gid,
            storage,
            offset,
            buf,
            len,
            hashed: true,
        };
        self.disk_job(gid, job);
    }
}
