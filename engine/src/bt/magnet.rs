//! Magnet links (BEP 9): a download that knows only an info-hash until peers send the
//! torrent's info dictionary, then is followed by the torrent download it describes,
//! as aria2 does (`followedBy`/`following`).
//!
//! Peers come from the link's trackers (`tr`), its peers (`x.pe`: addresses, and host
//! names looked up by the engine's resolver when the download starts) and the DHT; their
//! connections ([`super::metadata`]) ask only for metadata. The pieces of it are
//! collected by bt-wire's [`MetadataAssembler`], which hands the dictionary out only
//! once its SHA-1 equals the info-hash.
//!
//! Invariants:
//! - the metadata download never writes a file of the torrent: it completes when the
//!   metadata verified (and, with `--bt-save-metadata`, `DIR/HASH.torrent` is written);
//! - the torrent download that follows it starts from the peers it knew;
//! - at most [`MAX_META_PEERS`] connections per link, each peer at most once at a
//!   time; a peer that alone sent a whole metadata failing the hash is never asked again;
//! - at most [`super::MAX_KNOWN`] peers are known: past it, a new one takes the place of
//!   one that was tried and is not connected, or is left out (as a torrent's peers).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use swarmget_bt_wire::extension::MetadataAssembler;
use swarmget_bt_wire::tracker::Event as TrackerEvent;

use super::{Announcer, Torrent};
use crate::disk::DiskJob;
use crate::download::{Download, DownloadSpec};
use crate::engine::{DnsWaiter, Engine};
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;

/// Metadata connections per magnet link.
const MAX_META_PEERS: usize = 16;
/// How long a peer whose connection ended waits before it is tried again.
const RETRY_PEER: Duration = Duration::from_secs(30);
/// How long the torrent download that follows waits before it connects to a peer the
/// metadata came through: the peer may not have seen that connection close yet, and
/// a peer that takes one connection per address (Transmission) refuses the new one —
/// which would then wait [`RETRY_PEER`]-like delays of the torrent download.
const HANDOVER: Duration = Duration::from_secs(2);

/// What a BitTorrent magnet link says before its metadata is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagnetLink {
    /// `xt=urn:btih:`: the v1 info-hash.
    pub info_hash: [u8; 20],
    /// `dn`: names the download until the metadata names it.
    pub name: Option<String>,
    /// `tr`: trackers, one tier each.
    pub trackers: Vec<String>,
    /// `x.pe`: peers to ask, given as addresses.
    pub peers: Vec<SocketAddr>,
    /// `x.pe`: peers given by host name and port, looked up by the engine's resolver
    /// when the download starts (every address of the name is a peer).
    pub peer_names: Vec<(String, u16)>,
    /// `xl`: the content's length; metadata describing another length is refused.
    pub length: Option<u64>,
    /// `kt`: search keywords, kept for status.
    pub keywords: Option<String>,
    /// `ws`: web seeds (BEP 19), the torrent's `url-list` once the metadata is known.
    pub web_seeds: Vec<String>,
}

impl MagnetLink {
    /// The info-hash in lowercase hex.
    pub fn hex(&self) -> String {
        self.info_hash.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Where the peers of a download came from, for status: each peer address counts once,
/// for the source that named it first (an incoming connection counts each time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerOrigins {
    /// From trackers.
    pub tracker: usize,
    /// From the DHT.
    pub dht: usize,
    /// From peer exchange (BEP 11).
    pub pex: usize,
    /// From local peer discovery (BEP 14).
    pub lpd: usize,
    /// From the magnet link's `x.pe`.
    pub magnet: usize,
    /// Peers that connected to us.
    pub incoming: usize,
}

/// A metadata download's own status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MagnetStatus {
    /// `kt`: the link's search keywords.
    pub keywords: Option<String>,
    /// Peers learnt, by origin.
    pub origins: PeerOrigins,
}

#[derive(Debug, Default)]
struct MetaRecord {
    connected: bool,
    retry_at: Option<Instant>,
}

/// The state of a magnet link's metadata download.
#[derive(Debug)]
pub(crate) struct MagnetFetch {
    pub link: MagnetLink,
    pub peer_id: [u8; 20],
    pub announcer: Announcer,
    known: Vec<SocketAddr>,
    records: HashMap<SocketAddr, MetaRecord>,
    /// Keys of its metadata connections.
    pub conn_keys: Vec<usize>,
    /// Set from the first metadata size a peer announced.
    pub assembler: Option<MetadataAssembler<SocketAddr>>,
    /// Peers that alone sent a whole metadata failing the hash: never asked again.
    banned: Vec<SocketAddr>,
    pub origins: PeerOrigins,
    /// Whether the link's `x.pe` host names were handed to the resolver (once, when
    /// the download first becomes active).
    names_asked: bool,
}

impl MagnetFetch {
    fn new(link: MagnetLink, opts: &crate::Options) -> MagnetFetch {
        let tiers = link.trackers.iter().map(|t| vec![t.clone()]).collect();
        // --bt-tracker and --bt-exclude-tracker act on a magnet link's `tr` as on a
        // torrent's trackers (aria2 does the same).
        let tiers = super::tracker::tiers_for(tiers, opts);
        let mut fetch = MagnetFetch {
            peer_id: super::peer_id(&opts.peer_id_prefix),
            announcer: Announcer::new(tiers, opts.bt_tracker_interval),
            known: Vec::new(),
            records: HashMap::new(),
            conn_keys: Vec::new(),
            assembler: None,
            banned: Vec::new(),
            origins: PeerOrigins::default(),
            names_asked: false,
            link,
        };
        let peers = fetch.link.peers.clone();
        fetch.origins.magnet = fetch.add_peers(&peers);
        fetch
    }

    /// Adds peers; returns how many were new.
    pub fn add_peers(&mut self, peers: &[SocketAddr]) -> usize {
        let mut added = 0;
        for p in peers {
            if self.known.contains(p) {
                continue;
            }
            if self.known.len() >= super::MAX_KNOWN && !self.forget_a_tried_peer() {
                break;
            }
            self.known.push(*p);
            added += 1;
        }
        added
    }

    /// Forgets the first known peer that was tried and is not connected (a banned one
    /// stays known, so it is never asked again); false when there is none.
    fn forget_a_tried_peer(&mut self) -> bool {
        let (records, banned) = (&self.records, &self.banned);
        let Some(i) = self.known.iter().position(|a| {
            !banned.contains(a)
                && records
                    .get(a)
                    .is_some_and(|r| !r.connected && r.retry_at.is_some())
        }) else {
            return false;
        };
        let addr = self.known.remove(i);
        self.records.remove(&addr);
        true
    }

    /// A peer to connect next, marked connected.
    fn next_peer(&mut self, now: Instant) -> Option<SocketAddr> {
        if self.conn_keys.len() >= MAX_META_PEERS {
            return None;
        }
        let banned = &self.banned;
        let addr = *self.known.iter().find(|a| {
            !banned.contains(a)
                && self
                    .records
                    .get(a)
                    .is_none_or(|r| !r.connected && r.retry_at.is_none_or(|t| t <= now))
        })?;
        self.records.entry(addr).or_default().connected = true;
        Some(addr)
    }

    /// The connection to `addr` ended.
    pub fn disconnected(&mut self, addr: SocketAddr, now: Instant) {
        let r = self.records.entry(addr).or_default();
        r.connected = false;
        r.retry_at = Some(now + RETRY_PEER);
        if let Some(m) = self.assembler.as_mut() {
            m.release(addr);
        }
    }

    pub fn status(&self) -> MagnetStatus {
        MagnetStatus {
            keywords: self.link.keywords.clone(),
            origins: self.origins,
        }
    }

    /// aria2's `bittorrent` of a metadata download: the info-hash, the trackers and
    /// the name `[METADATA]` and `dn` (or the info-hash) until the metadata names it.
    pub fn bt_status(&self) -> super::BtStatus {
        let hex = self.link.hex();
        super::BtStatus {
            name: format!("[METADATA]{}", self.link.name.as_deref().unwrap_or(&hex)),
            info_hash: hex,
            announce_list: self.link.trackers.iter().map(|t| vec![t.clone()]).collect(),
            mode: "",
            comment: None,
            creation_date: None,
            num_seeders: 0,
            seeder: false,
            upload_length: 0,
            upload_speed: 0,
            peer_origins: self.origins,
        }
    }

    /// Never asks `addr` again.
    pub fn ban(&mut self, addr: SocketAddr) {
        if !self.banned.contains(&addr) {
            self.banned.push(addr);
        }
    }

    /// The peers known, for the torrent download that follows.
    pub fn known(&self) -> &[SocketAddr] {
        &self.known
    }
}

/// Whether a metadata download has no connection.
fn fetch_alone(fetch: Option<&MagnetFetch>) -> bool {
    fetch.is_none_or(|f| f.conn_keys.is_empty())
}

/// A `.torrent` file around `info` (the verified info dictionary), announcing to the
/// link's trackers, with its web seeds as `url-list`.
pub(crate) fn torrent_bytes(info: &[u8], trackers: &[String], web_seeds: &[String]) -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &[u8]) {
        out.extend_from_slice(s.len().to_string().as_bytes());
        out.push(b':');
        out.extend_from_slice(s);
    }
    let mut out = b"d".to_vec();
    if let Some(first) = trackers.first() {
        string(&mut out, b"announce");
        string(&mut out, first.as_bytes());
        string(&mut out, b"announce-list");
        out.push(b'l');
        for t in trackers {
            out.push(b'l');
            string(&mut out, t.as_bytes());
            out.push(b'e');
        }
        out.push(b'e');
    }
    string(&mut out, b"info");
    out.extend_from_slice(info);
    if !web_seeds.is_empty() {
        string(&mut out, b"url-list");
        out.push(b'l');
        for w in web_seeds {
            string(&mut out, w.as_bytes());
        }
        out.push(b'e');
    }
    out.push(b'e');
    out
}

impl Engine {
    /// Queues a magnet link's metadata download.
    pub(crate) fn add_magnet(
        &mut self,
        link: MagnetLink,
        opts: Arc<crate::Options>,
        tls: Arc<rustls::ClientConfig>,
        position: Option<usize>,
        now: Instant,
    ) -> Result<Gid, Error> {
        let gid = self.new_gid(opts.gid)?;
        let mut download = Download::new(gid, Vec::new(), opts, Default::default(), tls, now);
        download.magnet = Some(Box::new(MagnetFetch::new(link, &download.opts)));
        self.enqueue(download, position);
        self.torrents.push(gid);
        Ok(gid)
    }

    /// Once per loop turn for a magnet link's metadata download: trackers, the DHT,
    /// new peers.
    pub(crate) fn tick_magnet(&mut self, gid: Gid, now: Instant) {
        let d = &mut self.downloads[gid];
        let active = d.takes_peers() && !self.halted;
        let Some(fetch) = d.magnet.as_mut() else {
            return;
        };
        if !active {
            let info_hash = fetch.link.info_hash;
            if fetch.announcer.take_stop() {
                self.dht_forget(&info_hash);
                self.magnet_announce(gid, TrackerEvent::Stopped);
            }
            return;
        }
        fetch.announcer.rejoin();
        let info_hash = fetch.link.info_hash;
        if !std::mem::replace(&mut fetch.names_asked, true) {
            for (host, port) in fetch.link.peer_names.clone() {
                self.look_up(&host, port, DnsWaiter::MagnetPeer(gid), now);
            }
        }
        let port = match self.listen_port() {
            Ok(port) => port,
            Err(e) => return self.fail_download(gid, e, now),
        };
        self.dht_start(gid, now);
        let alone = fetch_alone(self.downloads[gid].magnet.as_deref());
        self.dht_announce(info_hash, port, alone, now);
        let Some(fetch) = self.downloads[gid].magnet.as_mut() else {
            return;
        };
        if let Some(event) = fetch.announcer.due(now) {
            self.magnet_announce(gid, event);
        }
        self.drop_stale_assembly(gid);
        while let Some(addr) = self.downloads[gid]
            .magnet
            .as_mut()
            .and_then(|f| f.next_peer(now))
        {
            self.connect_meta(gid, addr, now);
        }
    }

    /// The resolver's answer for one of magnet download `gid`'s `x.pe` host names: its
    /// addresses become peers of the link; a name that does not resolve is a notice,
    /// not an error (the other sources may still bring the metadata).
    pub(crate) fn magnet_peer_resolved(
        &mut self,
        gid: Gid,
        answer: Result<Vec<SocketAddr>, String>,
    ) {
        let Some(fetch) = self.downloads.get_mut(gid).and_then(|d| d.magnet.as_mut()) else {
            return;
        };
        match answer {
            Ok(addrs) => fetch.origins.magnet += fetch.add_peers(&addrs),
            Err(why) => self.notice(gid, format!("magnet x.pe: {why}")),
        }
    }

    fn magnet_announce(&mut self, gid: Gid, event: TrackerEvent) {
        let port = self.listener.as_ref().map_or(0, |l| l.port);
        let Some(fetch) = self.downloads[gid].magnet.as_ref() else {
            return;
        };
        // The length is unknown until the metadata comes: `left` must not say we are
        // a seed, or trackers name no seeds.
        let left = fetch.link.length.unwrap_or(1).max(1);
        let (info_hash, peer_id) = (fetch.link.info_hash, fetch.peer_id);
        self.send_announce(gid, info_hash, peer_id, port, (0, 0, left), event);
    }

    /// Metadata of magnet download `gid` verified (its last piece from `from`): the
    /// torrent download that follows it is queued (unless `--bt-metadata-only`) and the
    /// metadata download completes.
    pub(crate) fn metadata_arrived(
        &mut self,
        gid: Gid,
        info: Vec<u8>,
        from: SocketAddr,
        now: Instant,
    ) {
        let d = &mut self.downloads[gid];
        let Some(fetch) = d.magnet.as_ref() else {
            return;
        };
        let bytes = torrent_bytes(&info, &fetch.link.trackers, &fetch.link.web_seeds);
        let torrent = match Torrent::parse(&bytes) {
            Ok(t) => t,
            Err(e) => return self.fail_download(gid, e, now),
        };
        let total = torrent.metainfo().info.total_length;
        if let Some(xl) = fetch.link.length.filter(|&xl| xl != total) {
            let err = Error::new(
                ErrorCode::BtMetainfo,
                format!("the metadata describes {total} bytes, the magnet link's xl {xl}"),
            );
            return self.fail_download(gid, err, now);
        }
        let (peers, origins) = (fetch.known().to_vec(), fetch.origins);
        let hex = fetch.link.hex();
        let opts = d.opts.clone();
        let tls = d.tls.clone();
        let mut handed_over = self.close_meta_conns(gid, now);
        handed_over.push(from);

        if !opts.bt_metadata_only {
            let spec = DownloadSpec::torrent(torrent, (*opts).clone());
            match self.add(spec, tls, None, now) {
                Ok(follower) => {
                    if let Some(swarm) = self.downloads[follower].bt.as_mut() {
                        // The peers, and where they came from, carry over.
                        swarm.add_peers(&peers);
                        swarm.origins = origins;
                        for addr in handed_over {
                            swarm.connect_after(addr, now + HANDOVER);
                        }
                    }
                    self.downloads[follower].following = Some(gid);
                    self.downloads[gid].followed_by.push(follower);
                }
                Err(e) => return self.fail_download(gid, e, now),
            }
        }
        if opts.bt_save_metadata {
            // Written on the disk thread; the metadata download completes once the
            // file is there (metadata_saved), so whoever sees it complete finds it.
            let path = opts.dir.join(format!("{hex}.torrent"));
            self.downloads[gid].completing = true;
            self.disk_job(gid, DiskJob::SaveFile { gid, path, bytes });
            return;
        }
        self.complete(gid, now);
    }

    /// `--bt-save-metadata` wrote (or failed to write) magnet download `gid`'s
    /// `HASH.torrent`: the metadata download completes.
    pub(crate) fn metadata_saved(
        &mut self,
        gid: Gid,
        path: &std::path::Path,
        result: std::io::Result<()>,
        now: Instant,
    ) {
        let Some(d) = self.downloads.get_mut(gid) else {
            return;
        };
        d.jobs_in_flight -= 1;
        d.completing = false;
        if let Err(e) = result {
            let message = format!("cannot save the metadata to {}: {e}", path.display());
            self.notice(gid, message);
        }
        if !self.downloads[gid].state.is_stopped() {
            self.complete(gid, now);
        }
    }
}
