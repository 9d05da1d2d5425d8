//! What the outside sees of downloads: snapshots shaped after aria2's `tellStatus`,
//! `getFiles`, `getServers` and `getGlobalStat`, so an RPC layer maps them field by
//! field (each field names its aria2 key).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::bitfield::Bitfield;
use crate::download::{Download, DownloadState, Layout};
use crate::error::Error;
use crate::gid::Gid;

/// One download's state (aria2's `tellStatus`).
#[derive(Debug, Clone)]
pub struct DownloadStatus {
    /// `gid`.
    pub gid: Gid,
    /// `status`, with `errorCode`/`errorMessage` inside [`DownloadState::Error`].
    pub state: DownloadState,
    /// `completedLength`: bytes done (verified, where the download has hashes).
    pub completed: u64,
    /// `totalLength`, once known (aria2 says 0 before).
    pub total: Option<u64>,
    /// `downloadSpeed` in bytes/s.
    pub speed: u64,
    /// Average speed over the time the download was active, bytes/s.
    pub average_speed: u64,
    /// `connections`.
    pub connections: usize,
    /// The output path, once decided (`files[0].path`).
    pub path: Option<PathBuf>,
    /// The first URI (`files[0].uris[0].uri`).
    pub uri: String,
    /// `dir`.
    pub dir: PathBuf,
    /// `pieceLength`, once the length is known.
    pub piece_length: u64,
    /// `numPieces`.
    pub num_pieces: usize,
    /// `bitfield`: pieces done, high bit first (None before the length is known).
    pub bitfield: Option<Bitfield>,
    /// `files`.
    pub files: Vec<FileStatus>,
    /// `following`: the download this one came out of.
    pub following: Option<Gid>,
    /// `followedBy`: the downloads this one produced.
    pub followed_by: Vec<Gid>,
    /// The document the download was made from, which `--save-session` names.
    pub metadata: Option<crate::download::Metadata>,
    /// `bittorrent`, `infoHash` and `numSeeders`, for a torrent download.
    pub bittorrent: Option<crate::bt::BtStatus>,
    /// For a magnet link's metadata download: what the link said beyond the info-hash,
    /// and where its peers came from.
    pub magnet: Option<crate::bt::MagnetStatus>,
}

impl DownloadStatus {
    /// The error, for a failed download (`errorCode`, `errorMessage`).
    pub fn error(&self) -> Option<&Error> {
        match &self.state {
            DownloadState::Error(e) => Some(e),
            _ => None,
        }
    }
}

/// One connected peer of a torrent download (aria2's `getPeers` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    /// `peerId`: the id from the peer's handshake.
    pub peer_id: [u8; 20],
    /// `ip` and `port`.
    pub addr: std::net::SocketAddr,
    /// `bitfield`: the pieces the peer has, high bit first.
    pub bitfield: Vec<u8>,
    /// `amChoking`.
    pub am_choking: bool,
    /// `peerChoking`.
    pub peer_choking: bool,
    /// `downloadSpeed`, bytes/s from the peer.
    pub download_speed: u64,
    /// `uploadSpeed`, bytes/s to the peer.
    pub upload_speed: u64,
    /// `seeder`: the peer has every piece.
    pub seeder: bool,
    /// Bytes of requested blocks received from the peer on this connection (not in
    /// aria2's `getPeers`; tests use it to know what the engine has read).
    pub downloaded: u64,
}

/// One file of a download (aria2's `getFiles` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStatus {
    /// `index`, from 1.
    pub index: usize,
    /// `path`, once decided.
    pub path: Option<PathBuf>,
    /// `length`.
    pub length: u64,
    /// `completedLength`.
    pub completed: u64,
    /// `selected`.
    pub selected: bool,
    /// `uris`.
    pub uris: Vec<UriStatus>,
}

/// One URI of a file (aria2's `getUris` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UriStatus {
    /// `uri`.
    pub uri: String,
    /// `status`: `used` once a connection was made from it, else `waiting`.
    pub used: bool,
}

/// The connections of one file (aria2's `getServers` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStatus {
    /// `index` of the file, from 1.
    pub index: usize,
    /// `servers`.
    pub servers: Vec<Server>,
}

/// One open connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `uri`: the mirror it was opened for.
    pub uri: String,
    /// `currentUri`: where it is now, after redirects.
    pub current_uri: String,
    /// `downloadSpeed` in bytes/s.
    pub speed: u64,
}

/// Memory the engine holds for transfers, for tests that bound it
/// ([`crate::Handle::held_memory`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldMemory {
    /// Bytes of the write buffers the engine holds (in its pool, lent out, or gathering
    /// peers' blocks).
    pub write_buffers: usize,
    /// The largest buffer a peer connection's decoder ever had: room for one read
    /// plus at most one message (bt-wire bounds every length prefix).
    pub peer_read_peak: usize,
}

/// Totals over every download (aria2's `getGlobalStat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalStat {
    /// `downloadSpeed` in bytes/s.
    pub speed: u64,
    /// `numActive`.
    pub num_active: usize,
    /// `numWaiting` (waiting and paused).
    pub num_waiting: usize,
    /// `numStopped`: the stopped downloads whose results are kept (at most
    /// `--max-download-result`).
    pub num_stopped: usize,
    /// `numStoppedTotal`: every download stopped in this session.
    pub num_stopped_total: u64,
    /// Of `num_waiting`, how many are paused (aria2 does not say).
    pub num_paused: usize,
    /// The DHT's routing tables (zeros while it has not started).
    pub dht: crate::bt::DhtStatus,
}

impl Download {
    /// The download's [`DownloadStatus`] at `now`.
    pub fn status(&self, now: Instant) -> DownloadStatus {
        let elapsed = match (self.started, self.finished_at) {
            (Some(s), Some(f)) => f - s,
            (Some(s), None) => now - s,
            _ => Duration::ZERO,
        };
        let average_speed = if elapsed.as_secs_f64() > 0.0 {
            (self.session_bytes as f64 / elapsed.as_secs_f64()) as u64
        } else {
            0
        };
        let (piece_length, num_pieces, bitfield) = match &self.layout {
            Layout::Planned(p) => (p.piece_len(), p.done().len(), Some(p.done().clone())),
            _ => (0, 0, None),
        };
        let completed = self.completed();
        // Before any server answered, what the document promised (aria2 shows a
        // Metalink file's size while it waits).
        let total = self.total().or(self.expect.length);
        DownloadStatus {
            gid: self.gid,
            state: self.state.clone(),
            completed,
            total,
            speed: if self.is_active() {
                self.meter.rate(now)
            } else {
                0
            },
            average_speed,
            connections: self.conns.len()
                + self.bt.as_ref().map_or(0, |s| s.peer_keys.len())
                + self.magnet.as_ref().map_or(0, |m| m.conn_keys.len()),
            path: self.path.clone(),
            uri: self
                .sources
                .first()
                .map(|s| s.url.to_string())
                .unwrap_or_default(),
            dir: self.opts.dir.clone(),
            piece_length,
            num_pieces,
            bitfield,
            files: if let (Some(_), Some(storage), Layout::Planned(plan)) =
                (&self.bt, &self.storage, &self.layout)
            {
                let mut files = torrent_files(storage, plan);
                for f in &mut files {
                    f.uris = self.web_seed_uris(f.index - 1);
                }
                files
            } else {
                vec![FileStatus {
                    index: 1,
                    // Until the name is decided, the one asked for (as aria2 shows
                    // `--out` of a waiting download).
                    path: self.path.clone().or_else(|| {
                        let out = self.opts.out.as_ref()?;
                        Some(self.opts.dir.join(out))
                    }),
                    length: total.unwrap_or(0),
                    completed,
                    selected: true,
                    uris: self
                        .sources_in_order()
                        .into_iter()
                        .map(|i| UriStatus {
                            uri: self.sources[i].url.to_string(),
                            used: self.sources[i].used(),
                        })
                        .collect(),
                }]
            },
            following: self.following,
            followed_by: self.followed_by.clone(),
            metadata: self.metadata.clone(),
            bittorrent: match (&self.bt, &self.magnet) {
                (Some(s), _) => {
                    let complete = self.plan().is_some_and(|p| p.is_complete());
                    Some(s.status(complete, now))
                }
                (None, Some(m)) => Some(m.bt_status()),
                (None, None) => None,
            },
            magnet: self.magnet.as_ref().map(|m| m.status()),
        }
    }
}

/// A torrent's files, each with its verified bytes (padding files are not listed).
fn torrent_files(storage: &crate::storage::Storage, plan: &crate::plan::Plan) -> Vec<FileStatus> {
    storage
        .files()
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.padding)
        .map(|(i, f)| {
            let range = f.range();
            let mut completed = 0;
            if f.length > 0 {
                let first = (range.start / plan.piece_len()) as usize;
                let last = ((range.end - 1) / plan.piece_len()) as usize;
                for p in first..=last {
                    if plan.done().get(p) {
                        let r = plan.piece_range(p);
                        completed += r.end.min(range.end) - r.start.max(range.start);
                    }
                }
            }
            FileStatus {
                index: i + 1,
                path: Some(f.path.clone()),
                length: f.length,
                completed,
                selected: f.wanted,
                uris: Vec::new(),
            }
        })
        .collect()
}
