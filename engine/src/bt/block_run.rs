//! Blocks from a peer on their way to disk, gathered into runs.
//!
//! A peer sends the blocks of a piece one after another, so the blocks it delivers in
//! one loop turn are mostly contiguous in the torrent's byte space. Each run of them is
//! copied into one pooled 256 KiB buffer and written with one disk job, instead of one
//! fresh 16 KiB allocation and one job per block: fewer allocations on the loop, fewer
//! messages and system calls on the disk thread.
//!
//! Invariants: a run holds only bytes the plan handed to this peer's slot
//! (`Plan::block_received` returned their range, now in flight); it is written before
//! the connection's turn ends ([`Engine::flush_run`] from `drive_peer`, whatever the
//! turn's outcome), so no received block waits on a closed connection; every buffer
//! taken counts in the engine's pool (`pool_out`) until its write comes back.

use std::sync::Arc;

use crate::disk::DiskJob;
use crate::engine::{BUF_SIZE, Engine};
use crate::gid::Gid;
use crate::storage::Storage;

/// Contiguous blocks not yet written: `buf[..len]` belongs at `offset`.
pub(crate) struct BlockRun {
    gid: Gid,
    storage: Arc<Storage>,
    offset: u64,
    buf: Vec<u8>,
    len: usize,
}

impl Engine {
    /// Queues block bytes `data` of download `gid`, belonging at `offset`, onto `run`:
    /// appended when they continue it and fit, else the run is written and a new one
    /// starts.
    pub(crate) fn queue_block(
        &mut self,
        run: &mut Option<BlockRun>,
        gid: Gid,
        storage: &Arc<Storage>,
        offset: u64,
        data: &[u8],
    ) {
        if let Some(r) = run.as_mut()
            && r.gid == gid
            && r.offset + r.len as u64 == offset
            && r.len + data.len() <= r.buf.len()
        {
            r.buf[r.len..r.len + data.len()].copy_from_slice(data);
            r.len += data.len();
            return;
        }
        self.flush_run(run);
        let buf = match self.take_buffer() {
            Some(mut buf) if data.len() <= BUF_SIZE => {
                buf[..data.len()].copy_from_slice(data);
                buf
            }
            Some(buf) => {
                self.give_buffer(buf);
                self.pool_out += 1;
                data.to_vec()
            }
            // The pool is spent (the read loop stops at this mark; what one read
            // brought is still taken): an exact buffer, counted all the same.
            None => {
                self.pool_out += 1;
                data.to_vec()
            }
        };
        *run = Some(BlockRun {
            gid,
            storage: storage.clone(),
            offset,
            buf,
            len: data.len(),
        });
    }

    /// Writes `run`, if any.
    pub(crate) fn flush_run(&mut self, run: &mut Option<BlockRun>) {
        let Some(r) = run.take() else {
            return;
        };
        if !self.downloads.contains(r.gid) {
            self.give_buffer(r.buf);
            return;
        }
        let job = DiskJob::WriteStorage {
            gid: r.gid,
            storage: r.storage,
            offset: r.offset,
            buf: r.buf,
            len: r.len,
        };
        self.disk_job(r.gid, job);
    }
}
