//! Blocks from peers gathered into aligned chunks of the byte space on their way to disk.
//!
//! Peers deliver 16 KiB blocks, only roughly in the order they were asked for (libtorrent
//! often sends a piece's blocks one late). Writing each loop turn's contiguous run of
//! blocks cost a disk job, a hasher feed and their wake-ups per ~100 KiB. Here every block
//! is copied, whatever its order, into the pooled buffer of the aligned chunk of the byte
//! space it falls in, and the chunk goes to disk as one write once every byte the plan
//! still awaits in it ([`Plan::awaited`](crate::plan::Plan::awaited), taken when the chunk
//! opens) has come: in order for the hashers' fed digests.
//!
//! Chunks are [`CHUNK_SIZE`] (1 MiB): each costs a disk job, a hasher feed and the
//! threads' wake-ups around them, and 1 MiB chunks saved about 6% of a download's CPU
//! time over 256 KiB ones. So that they need no larger `--disk-cache` (a larger cache
//! made HTTP hold more memory for nothing), the chunks being gathered are an allowance
//! of their own, [`GATHERED`] chunks beside the cache, as the hashers' lent buffers are;
//! a chunk counts against `--disk-cache` from its write, like any buffer on its way to
//! disk, so peers' reads still pause when the disk falls behind.
//!
//! Invariants:
//! - A chunk holds only bytes the plan put in flight to disk (`Plan::block_received`
//!   returned their range); `have` is exactly the bytes copied into its buffer.
//! - Every held byte is written, or dropped with its download: a chunk is written when
//!   nothing it awaits is missing, when it has not grown for [`HOLD`], when its download
//!   is no longer active, when the engine halts or shuts down, or to make room; it is
//!   dropped (its buffer back in the pool) when its download is gone or restarts on a
//!   new version of the file. [`Engine::sweep_chunks`] runs at the top of every loop
//!   turn, before settled downloads are announced, so a stopped download waits for
//!   these writes like any other.
//! - At most [`GATHERED`] chunks are held; a new one beyond them writes the one that
//!   waited longest.
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
}

impl Chunk {
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
        let whole = c.missing.is_empty();
        // While the block is in this core's cache (see `bt/digests.rs`).
        self.hash_landed(gid, offset);
        if whole {
            let c = self.chunks.remove(&key).expect("looked up above");
            self.write_chunk(key, c);
        }
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
                ending
                    || !self.downloads.get(*gid).is_some_and(|d| d.is_active())
                    || now.saturating_duration_since(c.touched) >= HOLD
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
        self.chunks.values().map(|c| c.touched + HOLD).min()
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

    /// Writes what chunk `c` (of download and first byte `key`) has: its buffer as it is
    /// when the bytes are one run from its start, else each run copied out.
    fn write_chunk(&mut self, (gid, start): (Gid, u64), c: Chunk) {
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
