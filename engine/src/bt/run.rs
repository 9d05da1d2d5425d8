//! The loop's side of torrent downloads: adding them, and once per turn announcing to
//! trackers, connecting peers, pumping every peer's requests and timers, and charging
//! peers whose pieces fail their hash.

use std::sync::Arc;
use std::time::Instant;

use swarmget_bt_wire::tracker::{Announce, Event as TrackerEvent};

use super::resume::OnDisk;
use super::{AnnounceDone, SeedPhase, StartPhase, Torrent, TrackerNet};
use crate::disk::DiskJob;
use crate::download::Download;
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;
use crate::plan::SourceSlot;

impl Engine {
    /// Queues a torrent download.
    pub(crate) fn add_torrent(
        &mut self,
        torrent: Torrent,
        opts: Arc<crate::Options>,
        tls: Arc<rustls::ClientConfig>,
        position: Option<usize>,
        now: Instant,
    ) -> Result<Gid, Error> {
        let gid = self.new_gid(opts.gid)?;
        let mut download =
            Download::new(gid, Vec::new(), opts.clone(), Default::default(), tls, now);
        download.set_torrent(torrent, &opts)?;
        self.enqueue(download, position);
        self.torrents.push(gid);
        Ok(gid)
    }

    /// Once per loop turn: trackers, new peers, and every peer driven (reads paused for
    /// a full disk cache resume here; requests, timers and writes are applied).
    pub(crate) fn bt_tick(&mut self, now: Instant) {
        for key in 0..self.peers.len() {
            let Some(gid) = self.peers[key].as_ref().map(|p| p.gid) else {
                continue;
            };
            let Some(mut pc) = self.peers[key].take() else {
                continue;
            };
            let Some(d) = self.downloads.get(gid).filter(|d| d.is_active()) else {
                self.close_peer(key, pc, "download stopped", now);
                continue;
            };
            if self.halted {
                self.close_peer(key, pc, "download stopped", now);
                continue;
            }
            if pc.is_seed() && d.plan().is_some_and(|p| p.is_complete()) {
                // Two seeds have nothing to give each other.
                self.close_peer(key, pc, "both sides are seeds", now);
                continue;
            }
            match self.drive_peer(&mut pc, now) {
                Ok(()) => self.peers[key] = Some(pc),
                Err(why) => self.close_peer(key, pc, &why, now),
            }
        }
        // Only torrents are visited (an input file of HTTP downloads costs nothing here);
        // purged ones are forgotten.
        let downloads = &self.downloads;
        self.torrents.retain(|&g| downloads.contains(g));
        for gid in self.torrents.clone() {
            self.tick_torrent(gid, now);
        }
        self.expire_pending(now);
        self.meta_tick(now);
        self.dht_unread(now);
    }

    fn tick_torrent(&mut self, gid: Gid, now: Instant) {
        let d = &mut self.downloads[gid];
        // A torrent on its way to complete asks no new peer (it would be one more seed
        // to greet and drop).
        let active = d.takes_peers() && !self.halted;
        let Some(swarm) = d.bt.as_mut() else {
            return self.tick_magnet(gid, now);
        };
        let finished = swarm.seeding != SeedPhase::Leeching;
        if finished && !swarm.announcer.completed_sent && !swarm.announcer.in_flight {
            // Sent once; nothing waits for its answer.
            swarm.announcer.completed_sent = true;
            self.announce(gid, TrackerEvent::Completed);
            return;
        }
        if !active {
            swarm.idle = None;
            let info_hash = swarm.torrent.info_hash();
            if swarm.announcer.take_stop() {
                self.dht_forget(&info_hash);
                // Done seeding, paused, removed, failed or halted: the tracker stops
                // naming us.
                self.announce(gid, TrackerEvent::Stopped);
            }
            return;
        }
        swarm.announcer.rejoin();
        let public = !swarm.torrent.metainfo().info.private;
        let info_hash = swarm.torrent.info_hash();
        // A seed with no peer waits for them to come; a leecher looks again soon.
        let alone = swarm.peer_keys.is_empty() && swarm.seeding == SeedPhase::Leeching;
        let port = match self.listen_port() {
            Ok(port) => port,
            Err(e) => return self.fail_download(gid, e, now),
        };
        if public {
            // BEP 27: a private torrent's peers come from its trackers alone.
            self.dht_start(gid, now);
            self.dht_announce(info_hash, port, alone, now);
            if self.downloads[gid].opts.bt_enable_lpd {
                self.lpd_start(gid);
                self.lpd_announce(info_hash, port, now);
            }
        }
        let d = &mut self.downloads[gid];
        let Some(swarm) = d.bt.as_mut() else {
            return;
        };
        match swarm.start {
            StartPhase::Ready => {}
            StartPhase::Inspecting => return,
            StartPhase::New => {
                swarm.start = StartPhase::Inspecting;
                let (Some(storage), Some(path)) = (d.storage.clone(), d.path.as_ref()) else {
                    return;
                };
                let job = DiskJob::InspectTorrent {
                    gid,
                    storage,
                    control: crate::control::control_path(path),
                    remove_control: d.opts.remove_control_file,
                };
                self.disk_job(gid, job);
                return;
            }
        }
        let d = &mut self.downloads[gid];
        let Some(swarm) = d.bt.as_mut() else {
            return;
        };
        if let Some(event) = swarm.announcer.due(now) {
            self.announce(gid, event);
        }
        let d = &mut self.downloads[gid];
        let complete = d.plan().is_some_and(|p| p.is_complete());
        let cap = super::peer_cap(&d.opts, d.meter.rate(now), complete);
        while let Some(addr) = self.downloads[gid]
            .bt
            .as_mut()
            .and_then(|s| s.next_peer(now, cap))
        {
            self.connect_peer(gid, addr, now);
        }
        let d = &mut self.downloads[gid];
        let keys =
            d.bt.as_ref()
                .map(|s| s.peer_keys.clone())
                .unwrap_or_default();
        let seeders = keys
            .iter()
            .filter(|&&k| self.peers[k].as_ref().is_some_and(|p| p.is_seed()))
            .count();
        if let Some(s) = self.downloads[gid].bt.as_mut() {
            s.seeders = seeders;
        }
        self.choke_round(gid, now);
        self.check_seeding(gid, now);
        self.stop_if_idle(gid, now);
    }

    /// The disk thread's look at torrent `gid`'s files: it resumes from what is there,
    /// its files are allocated, and its next turn asks for peers.
    pub(crate) fn torrent_inspected(&mut self, gid: Gid, found: OnDisk, now: Instant) {
        let Some(d) = self.downloads.get_mut(gid) else {
            return;
        };
        d.jobs_in_flight -= 1;
        self.resume_torrent(gid, found);
        let d = &mut self.downloads[gid];
        if let Some(swarm) = d.bt.as_mut() {
            swarm.start = StartPhase::Ready;
        }
        let allocation = d.opts.file_allocation;
        if let Some(storage) = d.storage.clone() {
            self.disk_job(
                gid,
                DiskJob::AllocateStorage {
                    gid,
                    storage,
                    allocation,
                },
            );
        }
        if self.downloads[gid].is_active() {
            self.tick_torrent(gid, now);
        }
    }

    /// `--bt-stop-timeout`: a torrent still missing pieces that has received nothing
    /// for that long stops, unfinished (exit 7, as aria2).
    fn stop_if_idle(&mut self, gid: Gid, now: Instant) {
        let d = &mut self.downloads[gid];
        let timeout = d.opts.bt_stop_timeout;
        let bytes = d.session_bytes;
        let Some(swarm) = d.bt.as_mut().filter(|s| s.seeding == SeedPhase::Leeching) else {
            return;
        };
        let since = match swarm.idle {
            Some((seen, since)) if seen == bytes => since,
            _ => {
                swarm.idle = Some((bytes, now));
                now
            }
        };
        if !timeout.is_zero() && now.saturating_duration_since(since) >= timeout {
            let message = format!(
                "no data for {} s: stopped by --bt-stop-timeout",
                timeout.as_secs()
            );
            self.fail_download(gid, Error::new(ErrorCode::Unfinished, message), now);
        }
    }

    fn announce(&mut self, gid: Gid, event: TrackerEvent) {
        let d = &mut self.downloads[gid];
        let total = d.total().unwrap_or(0);
        let left = total.saturating_sub(d.completed());
        let downloaded = d.session_bytes;
        // Bound before the first announce (`tick_torrent`); a `stopped` after it
        // could not be bound names no port anyone can reach.
        let port = self.listener.as_ref().map_or(0, |l| l.port);
        let Some(swarm) = self.downloads[gid].bt.as_ref() else {
            return;
        };
        let (info_hash, peer_id) = (swarm.torrent.info_hash(), swarm.peer_id);
        let counts = (swarm.uploaded, downloaded, left);
        self.send_announce(gid, info_hash, peer_id, port, counts, event);
    }

    /// Starts an announce through download `gid`'s announcer (its swarm's, or its
    /// magnet link's), with `(uploaded, downloaded, left)` as `counts`.
    pub(crate) fn send_announce(
        &mut self,
        gid: Gid,
        info_hash: [u8; 20],
        peer_id: [u8; 20],
        port: u16,
        counts: (u64, u64, u64),
        event: TrackerEvent,
    ) {
        let (uploaded, downloaded, left) = counts;
        let announce = Announce {
            info_hash,
            peer_id,
            port,
            uploaded,
            downloaded,
            left,
            event,
            numwant: Some(50),
            key: 0,
            tracker_id: None,
            ip: self.downloads[gid].opts.bt_external_ip,
        };
        let waker = self.waker.clone();
        let d = &mut self.downloads[gid];
        let net = TrackerNet {
            opts: d.opts.clone(),
            dns_servers: self.global.async_dns_server.clone(),
            ipv6: !self.global.disable_ipv6,
            tls: d.tls.clone(),
        };
        let announcer = match (d.bt.as_mut(), d.magnet.as_mut()) {
            (Some(swarm), _) => &mut swarm.announcer,
            (None, Some(fetch)) => &mut fetch.announcer,
            (None, None) => return,
        };
        announcer.send(gid, announce, net, self.announced_tx.clone(), move || {
            let _ = waker.wake();
        });
    }

    /// A tracker's answer.
    pub(crate) fn on_announced(&mut self, done: AnnounceDone, now: Instant) {
        if let Some(fetch) = self
            .downloads
            .get_mut(done.gid)
            .and_then(|d| d.magnet.as_mut())
        {
            match fetch.announcer.answered(done.event, done.result, now) {
                Ok(r) => fetch.origins.tracker += fetch.add_peers(&r.peers),
                Err(e) => self.notice(done.gid, format!("tracker announce failed: {e}")),
            }
            return;
        }
        let Some(swarm) = self.downloads.get_mut(done.gid).and_then(|d| d.bt.as_mut()) else {
            return;
        };
        match swarm.announcer.answered(done.event, done.result, now) {
            Ok(r) => {
                swarm.origins.tracker += swarm.add_peers(&r.peers);
                if let Some(w) = r.warning {
                    self.notice(done.gid, format!("tracker warning: {w}"));
                }
            }
            Err(e) => self.notice(done.gid, format!("tracker announce failed: {e}")),
        }
    }

    /// Piece `piece` of torrent `gid` failed its hash. A peer that sent every block of it
    /// is charged, and dropped and banned after repeat offences. When several peers
    /// sent its blocks nobody is charged: which block was bad is unknown, and charging
    /// them all would ban an honest peer that shared pieces with a liar (the piece is
    /// simply fetched again).
    pub(crate) fn charge_peers(
        &mut self,
        gid: Gid,
        piece: usize,
        slots: &[SourceSlot],
        now: Instant,
    ) {
        if slots.len() > 1 {
            let swarm = self.downloads[gid].bt.as_ref();
            let peers: Vec<String> = slots
                .iter()
                .filter_map(|s| swarm.and_then(|sw| sw.slot_peers.get(s)))
                .map(|a| a.to_string())
                .collect();
            let message = format!(
                "piece {piece} failed its checksum (blocks from peers {}); fetching it again",
                peers.join(", ")
            );
            return self.notice(gid, message);
        }
        for &slot in slots {
            let Some((addr, banned)) = self.downloads[gid].bt.as_mut().and_then(|s| s.charge(slot))
            else {
                continue;
            };
            self.notice(
                gid,
                format!(
                    "peer {addr}: piece {piece} failed its checksum; fetching it again{}",
                    if banned { "; banning this peer" } else { "" }
                ),
            );
            if banned {
                let keys = self.downloads[gid]
                    .bt
                    .as_ref()
                    .map(|s| s.peer_keys.clone())
                    .unwrap_or_default();
                for k in keys {
                    if self.peers[k].as_ref().is_some_and(|p| p.addr == addr)
                        && let Some(pc) = self.peers[k].take()
                    {
                        self.close_peer(k, pc, "banned", now);
                    }
                }
            }
        }
    }
}
