//! Serving blocks to peers: their requests are checked against the pieces we have,
//! read on the disk thread a few at a time, and sent once the bytes are back.
//!
//! Invariants:
//! - only requests for a verified piece, at most [`MAX_BLOCK`] long and inside the piece,
//!   are read; any other is rejected (BEP 6) or ignored, and the connection stays;
//! - a peer has at most [`MAX_READS`] reads in flight, and none is started while its
//!   unsent bytes are over the connection's high-water mark, so a peer that asks for
//!   500 blocks and reads slowly holds a few blocks of memory, not 8 MiB;
//! - a read is started only when `--max-upload-limit` and `--max-overall-upload-limit`
//!   allow its bytes; the bytes count as uploaded only once handed to the peer.

use std::time::Instant;

use swarmget_bt_wire::wire::BlockRequest;

use super::PeerConn;
use crate::disk::{DiskJob, ReadTag};
use crate::download::Layout;
use crate::engine::Engine;
use crate::gid::Gid;
use crate::plan::Plan;
use crate::timers::Timer;

/// The longest block a peer may ask for (every client asks for 16 KiB; aria2 and
/// libtorrent refuse more).
pub(crate) const MAX_BLOCK: u32 = 16 << 10;
/// Disk reads in flight per peer.
const MAX_READS: usize = 4;

/// Whether `r` asks for bytes we can serve: a verified piece, a non-empty block of at
/// most [`MAX_BLOCK`] inside it.
pub(crate) fn servable(plan: &Plan, r: BlockRequest) -> bool {
    let piece = r.index as usize;
    piece < plan.piece_count()
        && plan.done().get(piece)
        && (1..=MAX_BLOCK).contains(&r.length)
        && u64::from(r.begin) + u64::from(r.length)
            <= plan.piece_range(piece).end - plan.piece_range(piece).start
}

impl Engine {
    /// Starts disk reads for the peer's waiting requests, as far as its read budget and
    /// the upload limits allow.
    pub(crate) fn start_reads(&mut self, pc: &mut PeerConn, now: Instant) {
        while pc.reads < MAX_READS {
            let Some(&r) = pc.serving.front() else {
                return;
            };
            if pc.peer.as_ref().is_none_or(|p| !p.is_requested(r)) {
                // Cancelled by the peer, or dropped by a choke, since it was queued.
                pc.serving.pop_front();
                continue;
            }
            let d = &mut self.downloads[pc.gid];
            let (Some(swarm), Some(storage), Layout::Planned(plan)) =
                (d.bt.as_mut(), d.storage.clone(), &d.layout)
            else {
                return;
            };
            let len = r.length as usize;
            let own = swarm.upload_limit.allowance(now);
            let overall = self.overall_upload.allowance(now);
            if own < len || overall < len {
                let wait = swarm
                    .upload_limit
                    .wait_for(len)
                    .max(self.overall_upload.wait_for(len));
                self.wake_at(now + wait);
                return;
            }
            swarm.upload_limit.consume(len);
            self.overall_upload.consume(len);
            pc.serving.pop_front();
            pc.reads += 1;
            let offset = plan.piece_range(r.index as usize).start + u64::from(r.begin);
            let tag = ReadTag {
                key: pc.key,
                serial: pc.serial,
                block: r,
            };
            let gid = pc.gid;
            self.disk_job(
                gid,
                DiskJob::ReadStorage {
                    gid,
                    storage,
                    offset,
                    len,
                    tag,
                },
            );
        }
    }

    /// A block read for a peer: sent if the connection is still there and still wants
    /// it (a cancel or a choke may have come meanwhile).
    pub(crate) fn on_read(
        &mut self,
        gid: Gid,
        tag: ReadTag,
        result: std::io::Result<Vec<u8>>,
        now: Instant,
    ) {
        if let Some(d) = self.downloads.get_mut(gid) {
            d.jobs_in_flight -= 1;
        }
        let Some(mut pc) = self
            .peers
            .get_mut(tag.key)
            .and_then(|slot| slot.take_if(|p| p.serial == tag.serial))
        else {
            return;
        };
        pc.reads -= 1;
        let sent = match (&result, pc.peer.as_mut()) {
            (Ok(data), Some(peer)) => peer.send_block(now, tag.block, data),
            (Err(_), Some(peer)) => {
                peer.reject(tag.block);
                false
            }
            _ => false,
        };
        if let Err(e) = &result {
            self.notice(
                gid,
                format!("cannot read piece {} to serve it: {e}", tag.block.index),
            );
        }
        if sent && let Some(d) = self.downloads.get_mut(gid) {
            let n = u64::from(tag.block.length);
            if let Some(swarm) = d.bt.as_mut() {
                swarm.uploaded += n;
                swarm.up_meter.add(now, n);
            }
        }
        match self.pump_peer(&mut pc, now) {
            Ok(()) => self.peers[tag.key] = Some(pc),
            Err(why) => self.close_peer(tag.key, pc, &why, now),
        }
    }

    /// Piece `piece` of torrent `gid` verified: every connected peer hears `have`.
    pub(crate) fn announce_have(&mut self, gid: Gid, piece: usize) {
        let Some(swarm) = self.downloads[gid].bt.as_ref() else {
            return;
        };
        for &k in &swarm.peer_keys {
            if let Some(peer) = self.peers[k].as_mut().and_then(|p| p.peer.as_mut()) {
                peer.send_have(piece as u32);
            }
        }
    }

    /// Makes the loop turn by `at` (a throttled reader may go on then).
    fn wake_at(&mut self, at: Instant) {
        if self
            .upload_wake
            .is_none_or(|w| w <= self.clock.now() || at < w)
        {
            self.upload_wake = Some(at);
            self.timers.push(at, Timer::Wake);
        }
    }
}
