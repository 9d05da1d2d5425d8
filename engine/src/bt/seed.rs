//! Who gets our pieces, and how long a finished torrent stays to give them.
//!
//! The choker (bt-wire's: tit-for-tat while downloading, aria2's seeding order once
//! complete) runs every [`ROUND`] per torrent, and at once when a peer's interest
//! changes, so a new leecher does not wait ten seconds for its first block.
//!
//! Seeding follows aria2: a torrent whose pieces all verified stays active, serving,
//! until `--seed-ratio` (upload ÷ length; 0 = no ratio condition) or `--seed-time` is
//! met, whichever comes first; `--seed-time=0` ends it at once, and with neither
//! condition set it seeds until stopped. Its `BtComplete` event comes when the
//! download completes, its `Complete` when seeding ends. A torrent that `-V` found
//! whole (nothing downloaded) seeds only with `--bt-hash-check-seed` (the default),
//! and gets its `BtComplete` (the hook and RPC notification) only with
//! `--bt-enable-hook-after-hash-check` (the default), as in aria2.
//!
//! Invariants: a peer is unchoked only by the choker; a choked peer's waiting requests
//! are dropped with the choke (bt-wire rejects them under BEP 6).

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use swarmget_bt_wire::choke::{PeerStats, ROUND};

use super::Swarm;
use crate::engine::Engine;
use crate::gid::Gid;
use crate::handle::Event;
use crate::log::LogLevel;

/// Where a torrent download is on its way to `complete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SeedPhase {
    /// Pieces are still missing.
    Leeching,
    /// Every piece verified at `since`; serving until the ratio or time is met.
    Seeding { since: Instant },
    /// Seeding is over (or was never wanted): the download may complete.
    Done,
}

/// Whether seeding that began at `since` is over at `now`.
fn seeding_over(
    swarm: &Swarm,
    opts: &crate::Options,
    total: u64,
    since: Instant,
    now: Instant,
) -> bool {
    let time = opts
        .seed_time
        .is_some_and(|t| now.saturating_duration_since(since) >= t);
    let ratio = opts.seed_ratio > 0.0 && swarm.uploaded as f64 >= opts.seed_ratio * total as f64;
    time || ratio
}

impl Engine {
    /// Download `gid` has every piece verified: `true` while it is to go on as a
    /// seeder instead of completing. Emits `BtComplete` the first time.
    pub(crate) fn keep_seeding(&mut self, gid: Gid, now: Instant) -> bool {
        let d = &mut self.downloads[gid];
        let total = d.total().unwrap_or(0);
        let Some(swarm) = d.bt.as_mut() else {
            return false;
        };
        match swarm.seeding {
            SeedPhase::Done => false,
            SeedPhase::Seeding { .. } => true,
            SeedPhase::Leeching => {
                let since = now;
                let checked_whole = d.integrity_check && d.session_bytes == 0;
                let seed = d.opts.seed_time != Some(Duration::ZERO)
                    && (!checked_whole || d.opts.bt_hash_check_seed)
                    && !seeding_over(swarm, &d.opts, total, since, now);
                swarm.seeding = if seed {
                    SeedPhase::Seeding { since }
                } else {
                    SeedPhase::Done
                };
                swarm.choke_due = true;
                if !checked_whole || d.opts.bt_enable_hook_after_hash_check {
                    self.emit(Event::BtComplete(gid));
                }
                if seed {
                    // Every piece recorded: a restart seeds again without hashing.
                    self.save_control(gid, true);
                }
                seed
            }
        }
    }

    /// Once per turn for a seeding torrent: completes it when seeding is over.
    pub(crate) fn check_seeding(&mut self, gid: Gid, now: Instant) {
        let d = &mut self.downloads[gid];
        let total = d.total().unwrap_or(0);
        let Some(swarm) = d.bt.as_mut() else {
            return;
        };
        if let SeedPhase::Seeding { since } = swarm.seeding
            && seeding_over(swarm, &d.opts, total, since, now)
        {
            swarm.seeding = SeedPhase::Done;
            self.complete(gid, now);
        }
    }

    /// Runs torrent `gid`'s choker when a round is due (or a peer's interest changed).
    pub(crate) fn choke_round(&mut self, gid: Gid, now: Instant) {
        let d = &mut self.downloads[gid];
        let seeding = d.plan().is_some_and(|p| p.is_complete());
        let Some(swarm) = d.bt.as_mut() else {
            return;
        };
        if !swarm.choke_due && swarm.next_choke.is_some_and(|t| now < t) {
            return;
        }
        swarm.choke_due = false;
        swarm.next_choke = Some(now + ROUND);
        let keys = swarm.peer_keys.clone();
        let mut stats = Vec::with_capacity(keys.len());
        for &key in &keys {
            let Some(pc) = self.peers[key].as_mut() else {
                continue;
            };
            let (reads, waiting, unchoked_at, last_block) =
                (pc.reads, pc.serving.len(), pc.unchoked_at, pc.last_block);
            let Some(peer) = pc.peer.as_mut() else {
                continue;
            };
            stats.push(PeerStats {
                key,
                interested: peer.peer_interested(),
                snubbed: peer.is_snubbed(),
                download_rate: peer.download_rate(now),
                upload_rate: peer.upload_rate(now),
                last_block,
                unchoked_at,
                upload_pending: reads > 0 || waiting > 0,
            });
        }
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(stats.len());
        let pick = h.finish();
        let Some(swarm) = self.downloads[gid].bt.as_mut() else {
            return;
        };
        let unchoke = swarm.choker.run(now, &stats, seeding, pick);
        for s in &stats {
            let Some(pc) = self.peers[s.key].as_mut() else {
                continue;
            };
            let Some(peer) = pc.peer.as_mut() else {
                continue;
            };
            let choke = unchoke.binary_search(&s.key).is_err();
            if choke != peer.am_choking() {
                peer.set_choking(choke);
                pc.unchoked_at = (!choke).then_some(now);
                if choke {
                    pc.serving.clear();
                }
                let addr = pc.addr;
                self.log_conn(LogLevel::Debug, gid, s.key, || {
                    let what = if choke { "Choked" } else { "Unchoked" };
                    format!("{what} peer {addr}")
                });
            }
        }
    }
}
