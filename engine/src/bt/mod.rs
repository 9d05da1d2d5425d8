//! BitTorrent downloads from `.torrent` files: the metainfo lays out the byte space over
//! the torrent's files, peers are sources that fill the plan block by block, and pieces
//! count only once their SHA-1 verifies on the hasher threads.
//!
//! A torrent download is an ordinary [`Download`] (same queue, states, status, events)
//! with no mirror URIs and a [`Swarm`] beside it: the trackers to announce to, the peers
//! known and connected, and what each peer has been charged with. The protocol work is
//! bt-wire's (metainfo, handshake, frame decoding, the per-peer state machine, announce
//! URLs and responses); this module only moves bytes between it, the sockets and the plan.
//!
//! Invariants:
//! - every connected peer owns one plan slot (never a mirror's: it gets an empty
//!   bitfield the moment its handshake arrives, so it is asked only for pieces it has),
//!   and the slot is released when the connection goes;
//! - a peer whose pieces failed their hash [`BAN_AFTER`] times is banned for the rest of
//!   the download and never reconnected;
//! - peers are only connected while the download is active; they are dropped on the
//!   next turn after it stops;
//! - a torrent knows at most [`MAX_KNOWN`] peers: past it, a new one takes the place
//!   of one that was tried and is not connected (never a banned one), or is left out,
//!   so a flood of bogus peers (DHT, PEX, trackers) neither grows memory nor keeps
//!   honest peers out for longer than it takes to try the bogus ones.

pub(crate) mod chunks;
mod dht;
pub(crate) mod digests;
mod extension;
mod listen;
mod lpd;
mod magnet;
mod metadata;
mod peer;
mod pex;
pub(crate) mod resume;
mod run;
mod scrape;
mod seed;
mod serve;
mod tracker;
pub(crate) mod web_seed;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use swarmget_bt_wire::Metainfo;

pub use dht::DhtStatus;
pub(crate) use dht::{DHT4, DHT6, DhtNet};
pub(crate) use listen::{LISTENER, Listener, PENDING_TAG};
pub(crate) use lpd::{LPD, Lpd};
pub(crate) use magnet::MagnetFetch;
pub use magnet::{MagnetLink, MagnetStatus, PeerOrigins};
pub(crate) use metadata::{META_TAG, MetaConn};
pub(crate) use peer::{PEER_TAG, PeerConn};
pub use scrape::scrape;
pub(crate) use seed::SeedPhase;
pub(crate) use tracker::{AnnounceDone, Announcer, TrackerNet};

use crate::digest::{HashKind, PieceHashes};
use crate::download::{Download, Layout};
use crate::error::{Error, ErrorCode};
use crate::options::Options;
use crate::plan::{Plan, SourceSlot};
use crate::storage::{FileEntry, Storage};

/// Bad pieces after which a peer is banned (aria2 bans at once; one retry forgives a
/// piece spoilt by another peer's block in endgame).
pub(crate) const BAN_AFTER: u32 = 2;
/// Peers a torrent connects whatever its speed (aria2's minimum); more, up to
/// `--bt-max-peers`, only while it downloads slower than `--bt-request-peer-speed-limit`.
pub(crate) const MIN_PEERS: usize = 40;
/// Peers unchoked at once (aria2 and BEP 3: three by rate and one optimistic).
const UPLOAD_SLOTS: usize = 4;
/// How long a peer whose connection failed waits before it is tried again.
const RETRY_PEER: Duration = Duration::from_secs(30);
/// Peers one torrent keeps known.
pub(crate) const MAX_KNOWN: usize = 2000;

/// A parsed `.torrent` file, ready to be downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Torrent {
    meta: Arc<Metainfo>,
    info_hash: [u8; 20],
}

impl Torrent {
    /// Parses a `.torrent` file's bytes. Torrents without v1 piece hashes (v2-only) are
    /// refused: their merkle verification is not there yet.
    pub fn parse(bytes: &[u8]) -> Result<Torrent, Error> {
        let meta = Metainfo::parse(bytes)
            .map_err(|e| Error::new(ErrorCode::BtMetainfo, format!("bad torrent: {e}")))?;
        let (Some(info_hash), false) = (meta.info_hash, meta.info.piece_hashes.is_empty()) else {
            return Err(Error::new(
                ErrorCode::BtMetainfo,
                "a v2-only torrent (BEP 52, without v1 `pieces`): v2-only torrents are not \
                 supported yet (a hybrid torrent downloads through its v1 half)",
            ));
        };
        Ok(Torrent {
            meta: Arc::new(meta),
            info_hash,
        })
    }

    /// The torrent with `uris` added to its web seeds (`url-list`), as aria2 takes
    /// the URIs given beside `-T` or to `aria2.addTorrent`. Only HTTP(S) and FTP web
    /// seeds are fetched, so another scheme is refused rather than left unused.
    pub fn with_web_seeds(mut self, uris: &[String]) -> Result<Torrent, Error> {
        for uri in uris {
            if !url::Url::parse(uri).is_ok_and(|u| web_seed::usable(&u)) {
                return Err(Error::new(
                    ErrorCode::BadOption,
                    format!("{uri}: web seeds must be http, https or ftp URLs"),
                ));
            }
            let meta = Arc::make_mut(&mut self.meta);
            if !meta.url_list.contains(uri) {
                meta.url_list.push(uri.clone());
            }
        }
        Ok(self)
    }

    /// The parsed metainfo.
    pub fn metainfo(&self) -> &Metainfo {
        &self.meta
    }

    /// The v1 info-hash.
    pub fn info_hash(&self) -> [u8; 20] {
        self.info_hash
    }

    /// The files as they will lie under `--dir`: a single-file torrent is `dir/name`, a
    /// multi-file one `dir/name/path…` (as aria2), file INDEX at `dir/PATH` when
    /// `-O INDEX=PATH` says so. Padding files keep their place in the byte space and are
    /// never written. With `--select-file`, the files left out are unwanted: never
    /// created, their bytes in pieces shared with a wanted file kept in a part file
    /// (`NAME.swarmget.part` beside the download).
    pub fn storage(&self, opts: &Options) -> Result<Storage, Error> {
        let info = &self.meta.info;
        let dir = &opts.dir;
        let files: Vec<FileEntry> = info
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                // bt-wire's paths start with the torrent's name for multi-file
                // torrents (and are the name alone for a single file).
                let path = match opts.index_out.iter().find(|(n, _)| *n == i + 1) {
                    Some((_, out)) => dir.join(out),
                    None => {
                        let mut path = dir.to_path_buf();
                        path.extend(&f.path);
                        path
                    }
                };
                FileEntry {
                    path,
                    offset: f.offset,
                    length: f.length,
                    wanted: opts.select_file.as_ref().is_none_or(|s| s.contains(i + 1)),
                    padding: f.padding,
                }
            })
            .collect();
        if !files.iter().any(|f| f.wanted && !f.padding) && !files.is_empty() {
            return Err(Error::new(
                ErrorCode::BadOption,
                "--select-file leaves no file of the torrent to download",
            ));
        }
        let unwanted = files.iter().any(|f| !f.wanted && !f.padding);
        let storage = Storage::new(files, info.piece_length)
            .map_err(|e| Error::new(ErrorCode::BtMetainfo, format!("bad torrent: {e}")))?;
        Ok(if unwanted {
            let mut part = self.top_path(dir).into_os_string();
            part.push(".swarmget.part");
            storage.with_part_file(PathBuf::from(part))
        } else {
            storage
        })
    }

    /// The download's path: the file of a single-file torrent, the directory of a
    /// multi-file one.
    pub fn top_path(&self, dir: &std::path::Path) -> PathBuf {
        dir.join(&self.meta.info.name)
    }

    fn piece_hashes(&self) -> PieceHashes {
        PieceHashes {
            kind: HashKind::Sha1,
            length: self.meta.info.piece_length,
            digests: self
                .meta
                .info
                .piece_hashes
                .iter()
                .map(|h| h.to_vec())
                .collect(),
        }
    }
}

/// aria2's `bittorrent` status field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BtStatus {
    /// `infoHash`, lowercase hex.
    pub info_hash: String,
    /// `bittorrent.info.name`.
    pub name: String,
    /// `bittorrent.announceList`: the tracker tiers.
    pub announce_list: Vec<Vec<String>>,
    /// `bittorrent.mode`: `single` or `multi`.
    pub mode: &'static str,
    /// `bittorrent.comment`.
    pub comment: Option<String>,
    /// `bittorrent.creationDate`, seconds since the epoch.
    pub creation_date: Option<i64>,
    /// `numSeeders`: connected peers that have every piece.
    pub num_seeders: usize,
    /// `seeder`: we have every piece.
    pub seeder: bool,
    /// `uploadLength`: bytes sent to peers in this session.
    pub upload_length: u64,
    /// `uploadSpeed`, bytes/s to peers.
    pub upload_speed: u64,
    /// Where its peers came from (swarmget's own: `bittorrent.peerOrigins` over RPC).
    pub peer_origins: PeerOrigins,
}

/// What a peer has done to the download.
#[derive(Debug, Default)]
struct PeerRecord {
    /// Pieces it sent that failed their hash.
    bad_pieces: u32,
    banned: bool,
    connected: bool,
    /// Not before this instant when it is to be connected again.
    retry_at: Option<Instant>,
}

/// A torrent's first start: what is on disk is read on the disk thread, then the
/// torrent resumes from it, its files are allocated and peers are asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartPhase {
    /// Not started yet.
    New,
    /// The disk thread reads its control file and file lengths.
    Inspecting,
    /// Resumed and allocated: peers may come.
    Ready,
}

/// The swarm side of a torrent download.
#[derive(Debug)]
pub(crate) struct Swarm {
    pub torrent: Torrent,
    pub peer_id: [u8; 20],
    /// Peers from trackers, in the order they came.
    known: Vec<SocketAddr>,
    records: HashMap<SocketAddr, PeerRecord>,
    /// Connection keys of the connected peers.
    pub peer_keys: Vec<usize>,
    /// The peer behind each plan slot ever handed out (to charge a bad piece).
    pub slot_peers: HashMap<SourceSlot, SocketAddr>,
    pub seeders: usize,
    pub announcer: Announcer,
    /// Where the torrent is in its first start.
    pub start: StartPhase,
    /// Where its peers came from.
    pub origins: PeerOrigins,
    /// Bytes of blocks sent to peers.
    pub uploaded: u64,
    pub up_meter: crate::download::SpeedMeter,
    /// `--max-upload-limit`.
    pub upload_limit: crate::throttle::Throttle,
    pub choker: swarmget_bt_wire::choke::Choker,
    /// When the choker runs next (`None`: at once).
    pub next_choke: Option<Instant>,
    /// A peer's interest changed: the choker runs on this turn.
    pub choke_due: bool,
    pub seeding: SeedPhase,
    /// Bytes downloaded when last looked at, and since when that has not changed
    /// (`--bt-stop-timeout`; `None` while the download does not run).
    pub idle: Option<(u64, Instant)>,
}

impl Swarm {
    /// A peer to connect next, if any, marking it connected: while fewer than `cap`
    /// (from [`peer_cap`]) are connected.
    pub fn next_peer(&mut self, now: Instant, cap: usize) -> Option<SocketAddr> {
        if self.peer_keys.len() >= cap {
            return None;
        }
        let addr = *self.known.iter().find(|a| {
            self.records
                .get(a)
                .is_none_or(|r| !r.banned && !r.connected && r.retry_at.is_none_or(|t| t <= now))
        })?;
        self.records.entry(addr).or_default().connected = true;
        Some(addr)
    }

    /// How many peers are known (connected or not).
    pub fn known_count(&self) -> usize {
        self.known.len()
    }

    /// Whether one more peer may connect to us (`--bt-max-peers`).
    pub fn has_room(&self, opts: &Options) -> bool {
        if self.start != StartPhase::Ready {
            // Until resumed its pieces are unknown: a peer would be told too little.
            return false;
        }
        opts.bt_max_peers == 0 || self.peer_keys.len() < opts.bt_max_peers
    }

    /// Adds peers a source named; returns how many were new (for [`Swarm::origins`]).
    /// Past [`MAX_KNOWN`], each takes the place of a peer tried and not connected.
    pub fn add_peers(&mut self, peers: &[SocketAddr]) -> usize {
        let mut added = 0;
        for p in peers {
            if self.known.contains(p) {
                continue;
            }
            if self.known.len() >= MAX_KNOWN && !self.forget_a_tried_peer() {
                break;
            }
            self.known.push(*p);
            added += 1;
        }
        added
    }

    /// Forgets the first known peer that was tried, is not connected and not banned
    /// (a banned one stays, so it is never asked again); false when there is none.
    fn forget_a_tried_peer(&mut self) -> bool {
        let records = &self.records;
        let Some(i) = self.known.iter().position(|a| {
            records
                .get(a)
                .is_some_and(|r| !r.connected && !r.banned && r.retry_at.is_some())
        }) else {
            return false;
        };
        let addr = self.known.remove(i);
        self.records.remove(&addr);
        true
    }

    /// `addr` is not to be connected before `at`.
    pub fn connect_after(&mut self, addr: SocketAddr, at: Instant) {
        self.records.entry(addr).or_default().retry_at = Some(at);
    }

    /// A connection to `addr` ended.
    pub fn disconnected(&mut self, addr: SocketAddr, now: Instant) {
        let r = self.records.entry(addr).or_default();
        r.connected = false;
        r.retry_at = Some(now + RETRY_PEER);
    }

    /// Charges the peer behind `slot` with a bad piece; returns the peer and whether
    /// it is now banned.
    pub fn charge(&mut self, slot: SourceSlot) -> Option<(SocketAddr, bool)> {
        let addr = *self.slot_peers.get(&slot)?;
        let r = self.records.entry(addr).or_default();
        r.bad_pieces += 1;
        r.banned |= r.bad_pieces >= BAN_AFTER;
        Some((addr, r.banned))
    }

    pub fn status(&self, complete: bool, now: Instant) -> BtStatus {
        let meta = self.torrent.metainfo();
        BtStatus {
            info_hash: self
                .torrent
                .info_hash()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
            name: meta.info.name.clone(),
            announce_list: meta.tracker_tiers(),
            mode: if meta.info.multi_file {
                "multi"
            } else {
                "single"
            },
            comment: meta.comment.clone(),
            creation_date: meta.creation_date,
            num_seeders: self.seeders,
            seeder: complete,
            upload_length: self.uploaded,
            upload_speed: self.up_meter.rate(now),
            peer_origins: self.origins,
        }
    }
}

/// How many peers a torrent connects to itself, downloading at `rate` bytes/s (aria2's
/// rule): up to `--bt-max-peers` (0: no limit) while it still downloads slower than
/// `--bt-request-peer-speed-limit` (or `--max-download-limit`, if lower), else
/// [`MIN_PEERS`] at most.
pub(crate) fn peer_cap(opts: &Options, rate: u64, complete: bool) -> usize {
    let max = match opts.bt_max_peers {
        0 => usize::MAX,
        n => n,
    };
    let mut threshold = opts.bt_request_peer_speed_limit;
    if opts.max_download_limit > 0 {
        threshold = threshold.min(opts.max_download_limit);
    }
    if !complete && rate < threshold {
        max
    } else {
        max.min(MIN_PEERS)
    }
}

/// The priority of pieces `--bt-prioritize-piece` names (wanted pieces have 1).
const PRIORITIZED: u8 = 2;

/// The byte ranges `--bt-prioritize-piece` puts first: the head and tail bytes of every
/// wanted file.
fn prioritized(
    storage: &Storage,
    ends: crate::options::PrioritizePiece,
) -> Vec<std::ops::Range<u64>> {
    let mut out = Vec::new();
    for f in storage.files().iter().filter(|f| f.wanted && !f.padding) {
        let r = f.range();
        if ends.head > 0 {
            out.push(r.start..r.end.min(r.start.saturating_add(ends.head)));
        }
        if ends.tail > 0 {
            out.push(r.end.saturating_sub(ends.tail).max(r.start)..r.end);
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// The byte ranges of runs of unwanted files (padding between them included), so a
/// piece spanning several unwanted files is unwanted too.
fn unwanted_runs(storage: &Storage) -> Vec<std::ops::Range<u64>> {
    let mut runs: Vec<std::ops::Range<u64>> = Vec::new();
    let mut open = false;
    for f in storage.files() {
        let r = f.range();
        match (f.wanted, f.padding) {
            (false, false) => match runs.last_mut() {
                Some(last) if open => last.end = r.end,
                _ => runs.push(r),
            },
            (_, true) if open => {
                if let Some(last) = runs.last_mut() {
                    last.end = r.end;
                }
                continue;
            }
            _ => {}
        }
        open = !f.wanted && !f.padding;
    }
    runs
}

/// A fresh peer id: `prefix` (`--peer-id-prefix`, at most 20 bytes) and random
/// characters after it.
fn peer_id(prefix: &str) -> [u8; 20] {
    use std::hash::{BuildHasher, Hasher};
    let mut id = [0u8; 20];
    let start = prefix.len().min(20);
    id[..start].copy_from_slice(&prefix.as_bytes()[..start]);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let mut r = h.finish();
    const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    for b in &mut id[start..] {
        *b = ALPHABET[(r % ALPHABET.len() as u64) as usize];
        r /= ALPHABET.len() as u64;
        if r == 0 {
            r = h.finish().rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15;
        }
    }
    id
}

impl Download {
    /// Whether this is a torrent that has every piece and stays only to seed.
    pub(crate) fn is_seeding(&self) -> bool {
        self.bt
            .as_ref()
            .is_some_and(|s| matches!(s.seeding, SeedPhase::Seeding { .. }))
    }

    /// Lays a torrent download out: storage under `--dir`, a plan verifying every piece
    /// with the torrent's SHA-1 hashes, and the swarm.
    pub(crate) fn set_torrent(&mut self, torrent: Torrent, opts: &Options) -> Result<(), Error> {
        let storage = torrent.storage(opts)?;
        let info = &torrent.metainfo().info;
        // Rarest first, or in file order for `--stream-piece-selector=inorder`
        // (`random` and `geom` choose among HTTP/FTP regions; peers go rarest first).
        // Web seeds claim runs as HTTP mirrors do, a piece at a time: a run is the
        // web seed's alone, so a longer one would keep its pieces from faster peers.
        let web_seeds = web_seed::sources(torrent.metainfo());
        let mut plan = Plan::new(info.total_length, info.piece_length)
            .verify_pieces()
            .selector(opts.stream_piece_selector)
            .min_split(info.piece_length)
            .spread_over(usize::MAX);
        for range in unwanted_runs(&storage) {
            // Pieces wholly inside unwanted files are never fetched; a piece shared
            // with a wanted file keeps its priority (`set_priority` keeps the higher).
            plan.set_priority(range, 0);
        }
        for range in prioritized(&storage, opts.bt_prioritize_piece) {
            plan.set_priority(range, PRIORITIZED);
        }
        self.layout = Layout::Planned(plan);
        for url in web_seeds {
            if !self.sources.iter().any(|s| s.url == url) {
                self.sources.push(crate::download::Source::new(url));
            }
        }
        self.hashes = Some(Arc::new(torrent.piece_hashes()));
        self.storage = Some(Arc::new(storage));
        self.path = Some(torrent.top_path(&opts.dir));
        let tiers = tracker::tiers_for(torrent.metainfo().tracker_tiers(), opts);
        let announcer = Announcer::new(tiers, opts.bt_tracker_interval);
        self.bt = Some(Box::new(Swarm {
            torrent,
            peer_id: peer_id(&opts.peer_id_prefix),
            known: Vec::new(),
            records: HashMap::new(),
            peer_keys: Vec::new(),
            slot_peers: HashMap::new(),
            seeders: 0,
            announcer,
            start: StartPhase::New,
            origins: PeerOrigins::default(),
            uploaded: 0,
            up_meter: Default::default(),
            upload_limit: crate::throttle::Throttle::new(opts.max_upload_limit),
            choker: swarmget_bt_wire::choke::Choker::new(UPLOAD_SLOTS),
            next_choke: None,
            choke_due: false,
            seeding: SeedPhase::Leeching,
            idle: None,
        }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ids_carry_the_prefix_and_differ() {
        let (a, b) = (peer_id("-SG0001-"), peer_id("-SG0001-"));
        assert_eq!(&a[..8], b"-SG0001-");
        assert!(a[8..].iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(a, b);
        // --peer-id-prefix: aria2's style, and a full-length one left whole.
        assert_eq!(&peer_id("A2-1-37-0-")[..10], b"A2-1-37-0-");
        assert_eq!(&peer_id("01234567890123456789"), b"01234567890123456789");
    }

    #[test]
    fn more_peers_than_the_minimum_only_while_slower_than_the_speed_limit() {
        let o = Options::default();
        assert_eq!(peer_cap(&o, 0, false), 55);
        assert_eq!(peer_cap(&o, 50 << 10, false), MIN_PEERS);
        assert_eq!(peer_cap(&o, 0, true), MIN_PEERS);
        let mut o = Options::default();
        o.set("bt-max-peers", "10").unwrap();
        o.set("bt-request-peer-speed-limit", "1M").unwrap();
        assert_eq!(
            (peer_cap(&o, 0, false), peer_cap(&o, 2 << 20, false)),
            (10, 10)
        );
        let o = Options {
            bt_max_peers: 0,
            bt_request_peer_speed_limit: 1 << 20,
            max_download_limit: 1000,
            ..Options::default()
        };
        assert_eq!(peer_cap(&o, 999, false), usize::MAX);
        // --max-download-limit below the speed limit: a capped torrent is not slow.
        assert_eq!(peer_cap(&o, 1000, false), MIN_PEERS);
    }

    /// The first piece asked of a peer that has every piece of an eight-piece torrent,
    /// when another peer has piece 0 (so rarest first starts at piece 1).
    fn first_pick(opts: &Options) -> usize {
        let t = swarmget_bt_wire::metainfo::TorrentBuilder::single(
            "f",
            8 << 14,
            16384,
            vec![[0; 20]; 8],
        )
        .build()
        .unwrap();
        let mut d = Download::new(
            crate::gid::Gid::new(1),
            Vec::new(),
            Arc::new(opts.clone()),
            Default::default(),
            crate::tls::shared_config(opts).unwrap(),
            Instant::now(),
        );
        d.set_torrent(Torrent::parse(&t).unwrap(), opts).unwrap();
        let plan = d.plan_mut().unwrap();
        plan.set_have(1, crate::bitfield::Bitfield::full(8));
        let mut one = crate::bitfield::Bitfield::new(8);
        one.set(0);
        plan.set_have(2, one);
        let mut out = Vec::new();
        plan.request_blocks(1, 1, &mut out);
        out[0].piece
    }

    #[test]
    fn pieces_go_rarest_first_in_order_or_head_and_tail_first_as_asked() {
        let o = Options::default();
        assert_eq!(first_pick(&o), 1, "rarest first");
        let mut inorder = o.clone();
        inorder.set("stream-piece-selector", "inorder").unwrap();
        assert_eq!(first_pick(&inorder), 0);
        let mut head = o.clone();
        head.set("bt-prioritize-piece", "head=1").unwrap();
        assert_eq!(first_pick(&head), 0);
        let mut tail = o.clone();
        tail.set("bt-prioritize-piece", "tail=16K").unwrap();
        assert_eq!(first_pick(&tail), 7);
        // A tail of two pieces: the rarer of them first.
        tail.set("bt-prioritize-piece", "head=0,tail=32K").unwrap();
        assert_eq!(first_pick(&tail), 6);
    }

    /// A download of a one-piece torrent.
    fn torrent_download() -> Download {
        let t = swarmget_bt_wire::metainfo::TorrentBuilder::single("f", 1, 16384, vec![[0; 20]])
            .build()
            .unwrap();
        let mut d = Download::new(
            crate::gid::Gid::new(1),
            Vec::new(),
            Arc::new(Options::default()),
            Default::default(),
            crate::tls::shared_config(&Options::default()).unwrap(),
            Instant::now(),
        );
        d.set_torrent(Torrent::parse(&t).unwrap(), &Options::default())
            .unwrap();
        d
    }

    #[test]
    fn a_flood_of_peers_keeps_at_most_max_known_and_tried_ones_make_room() {
        let mut d = torrent_download();
        let swarm = d.bt.as_mut().unwrap();
        let peer = |i: usize| SocketAddr::from(([127, 5, (i >> 8) as u8, i as u8], 9));
        let flood: Vec<SocketAddr> = (0..MAX_KNOWN + 500).map(peer).collect();
        assert_eq!(swarm.add_peers(&flood), MAX_KNOWN);
        assert_eq!(swarm.known_count(), MAX_KNOWN);
        // Nothing was tried yet: a newcomer is left out.
        let honest = SocketAddr::from(([127, 0, 0, 1], 6881));
        assert_eq!(swarm.add_peers(&[honest]), 0);
        // Two tried and failed, one of them banned: only the other makes room.
        let now = Instant::now();
        let (a, b) = (
            swarm.next_peer(now, usize::MAX).unwrap(),
            swarm.next_peer(now, usize::MAX).unwrap(),
        );
        swarm.disconnected(a, now);
        swarm.disconnected(b, now);
        swarm.slot_peers.insert(1, a);
        swarm.charge(1);
        swarm.charge(1);
        assert_eq!(swarm.add_peers(&[honest, peer(MAX_KNOWN + 1)]), 1);
        assert_eq!(swarm.known_count(), MAX_KNOWN);
        assert!(swarm.known.contains(&honest) && swarm.known.contains(&a));
        assert!(!swarm.known.contains(&b));
    }

    #[test]
    fn a_peer_is_banned_after_repeat_bad_pieces() {
        let mut d = torrent_download();
        let swarm = d.bt.as_mut().unwrap();
        let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
        swarm.slot_peers.insert(7, addr);
        assert_eq!(swarm.charge(7), Some((addr, false)));
        assert_eq!(swarm.charge(7), Some((addr, true)));
        swarm.add_peers(&[addr]);
        assert_eq!(swarm.next_peer(Instant::now(), 55), None);
    }
}
