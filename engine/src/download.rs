//! One download: its sources (mirror URIs), its piece plan, its file, and what the
//! outside world sees of it.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use url::Url;

use crate::digest::PieceHashes;
use crate::error::Error;
use crate::gid::Gid;
use crate::options::Options;
use crate::plan::{Plan, SourceSlot};
use crate::storage::Storage;
use crate::validators::Validators;

/// What to download: one file from one or more mirror URIs.
#[derive(Debug, Clone)]
pub struct DownloadSpec {
    /// Mirrors of the same file.
    pub uris: Vec<String>,
    /// Options for this download.
    pub options: Options,
    /// What is known about the content before any server answers.
    pub expect: Expect,
    /// A torrent to download (then `uris` may be empty: peers are the sources).
    pub torrent: Option<crate::bt::Torrent>,
    /// The document (`.torrent` or Metalink file) the download was read from, for
    /// `--save-session` to name (aria2's `MetadataInfo`); None for an upload that was
    /// not saved.
    pub document: Option<Arc<DocumentRef>>,
    /// A magnet link whose metadata is to be fetched from peers.
    pub magnet: Option<crate::bt::MagnetLink>,
    /// A magnet link's manifests (`mt`, http, https or ftp URIs): each is fetched by a
    /// download that follows this one, and queues the items it lists (see
    /// `manifest.rs`). A spec with manifests and nothing else to download is the
    /// download of its first manifest.
    pub manifests: Vec<String>,
}

impl DownloadSpec {
    /// A download of `uris` (mirrors of one file) with `options`, nothing known ahead.
    pub fn new(uris: Vec<String>, options: Options) -> DownloadSpec {
        DownloadSpec {
            uris,
            options,
            expect: Expect::default(),
            torrent: None,
            document: None,
            magnet: None,
            manifests: Vec::new(),
        }
    }

    /// A download of `torrent` with `options`.
    pub fn torrent(torrent: crate::bt::Torrent, options: Options) -> DownloadSpec {
        DownloadSpec {
            uris: Vec::new(),
            options,
            expect: Expect::default(),
            torrent: Some(torrent),
            document: None,
            magnet: None,
            manifests: Vec::new(),
        }
    }

    /// The metadata download of magnet link `link` with `options`; a torrent download
    /// follows it once the metadata verified.
    pub fn magnet(link: crate::bt::MagnetLink, options: Options) -> DownloadSpec {
        DownloadSpec {
            uris: Vec::new(),
            options,
            expect: Expect::default(),
            torrent: None,
            document: None,
            magnet: Some(link),
            manifests: Vec::new(),
        }
    }
}

/// A document named by the specs it gave (every file of a Metalink shares one): the
/// session writes it once, under the GID of the first of those downloads queued, so
/// that `-i` of the session gives that GID back to the same file.
#[derive(Debug)]
pub struct DocumentRef {
    uri: String,
    gid: OnceLock<Gid>,
}

impl DocumentRef {
    /// The document at `uri` (a local path or a URI), to share between its specs.
    pub fn new(uri: impl Into<String>) -> Arc<DocumentRef> {
        Arc::new(DocumentRef {
            uri: uri.into(),
            gid: OnceLock::new(),
        })
    }

    /// The session's record of the document for download `gid`: the GID is that of
    /// the first download to ask.
    pub(crate) fn metadata(&self, gid: Gid) -> Metadata {
        Metadata {
            gid: *self.gid.get_or_init(|| gid),
            uri: self.uri.clone(),
        }
    }
}

/// What `--conditional-get` knows of the file a download would write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conditional {
    /// Not looked at yet.
    Unasked,
    /// The disk thread is looking.
    Asked,
    /// The file and its time as an HTTP-date, when it exists without a control file
    /// beside it; `None` when the request is unconditional.
    Known(Option<(PathBuf, String)>),
}

/// aria2's `MetadataInfo`: the document a download was made from, which
/// `--save-session` writes in place of the download's own URIs, so a restart reads
/// the document again (a torrent's pieces and trackers, a Metalink's hashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The GID the session keeps: a torrent's own, the followed document
    /// download's, or a local document's first file's (shared by every file the
    /// document gave).
    pub gid: Gid,
    /// The `.torrent` or Metalink file's path, or the followed document's URI.
    pub uri: String,
}

/// What a Metalink document or a magnet link says about a file before any server is
/// asked: a server that disagrees is wrong, and the bytes must verify against it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    /// The file's length (Metalink `<size>`, magnet `xl`).
    pub length: Option<u64>,
    /// Whole-file digests; the strongest is verified when the file is complete.
    pub hashes: Vec<crate::digest::Digest>,
    /// Per-piece digests: a piece counts as done only once it verifies.
    pub pieces: Option<crate::digest::PieceHashes>,
}

/// Where a download stands: aria2's `status` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadState {
    /// Queued behind `--max-concurrent-downloads` (`waiting`).
    Waiting,
    /// Running (`active`).
    Active,
    /// Paused by a command; keeps its place in the queue (`paused`).
    Paused,
    /// Finished and verified (`complete`).
    Complete,
    /// Failed (`error`).
    Error(Error),
    /// Removed by a command; its files stay for a later resume (`removed`).
    Removed,
}

impl DownloadState {
    /// aria2's name for the state.
    pub fn name(&self) -> &'static str {
        match self {
            DownloadState::Waiting => "waiting",
            DownloadState::Active => "active",
            DownloadState::Paused => "paused",
            DownloadState::Complete => "complete",
            DownloadState::Error(_) => "error",
            DownloadState::Removed => "removed",
        }
    }

    /// Complete, failed or removed: it will not run again.
    pub fn is_stopped(&self) -> bool {
        matches!(
            self,
            DownloadState::Complete | DownloadState::Error(_) | DownloadState::Removed
        )
    }
}

/// One mirror.
#[derive(Debug)]
pub(crate) struct Source {
    pub url: Url,
    pub tries: u32,
    pub failed: bool,
    /// The server answered a range request with the whole file.
    pub no_ranges: bool,
    pub conns: usize,
    pub retry_at: Option<Instant>,
    /// Pieces from this mirror that failed their checksum.
    pub bad_pieces: u32,
    /// Plan slots of this mirror's closed connections, for its next ones.
    pub free_slots: Vec<SourceSlot>,
    /// The validators this mirror's answers gave in this run.
    pub validators: Validators,
    /// Taken out by `changeUri`: never used again and not listed (the index stays, as
    /// connections and plan slots name mirrors by index).
    pub removed: bool,
    /// Place in the try order (lower first; ties by index). `u32::MAX` until
    /// `changeUri` orders the mirrors, so mirrors keep the order they were added in.
    pub rank: u32,
}

/// How the bytes arriving are placed.
#[derive(Debug)]
pub(crate) enum Layout {
    /// Length not known yet: one probing connection.
    Unknown,
    /// Known length, pieces, any number of sources.
    Planned(Plan),
    /// Unknown length (chunked, no Content-Length, compressed): one connection writes
    /// front to back; the length is known at the end.
    Stream {
        received: u64,
        written: u64,
        finished: bool,
    },
}

pub(crate) struct Download {
    pub gid: Gid,
    /// Shared with every download added with equal options (see `Engine::add`).
    pub opts: Arc<Options>,
    pub sources: Vec<Source>,
    pub state: DownloadState,
    pub layout: Layout,
    pub path: Option<PathBuf>,
    pub file: Option<Arc<File>>,
    /// Pieces known done before the first response (control file or `-c`).
    pub resume: Option<crate::control::ControlState>,
    pub resume_total: Option<u64>,
    /// `-c` without a control file: bytes of the existing file taken as done.
    pub sequential_len: u64,
    pub throttle: crate::throttle::Throttle,
    pub conns: Vec<usize>,
    pub next_slot: SourceSlot,
    pub writes_in_flight: usize,
    pub jobs_in_flight: usize,
    pub control_dirty: bool,
    /// A control file is on disk (found at start, or a save was queued).
    pub control_exists: bool,
    /// The disk thread is deciding and opening the output file
    /// ([`crate::naming::prepare`]); connections with a first answer wait.
    pub output_pending: bool,
    pub last_save: Instant,
    pub verifying: bool,
    /// Whole and verified, waiting for its control file's removal to be complete.
    pub completing: bool,
    /// `-V` applies: an existing file is kept and checked, not trusted or replaced.
    pub integrity_check: bool,
    /// `-V` found a file of full length with only a whole-file digest to check it:
    /// a mismatch fetches it again instead of failing.
    pub recheck_whole: bool,
    /// Piece hashes sent to the hashers and not yet answered.
    pub pieces_hashing: usize,
    pub last_error: Option<Error>,
    pub started: Option<Instant>,
    pub finished_at: Option<Instant>,
    pub session_bytes: u64,
    /// "Not found" answers from any mirror (`--max-file-not-found`).
    pub not_found: u32,
    pub meter: SpeedMeter,
    /// Subscribers have been told how it ended.
    pub announced: bool,
    /// `--conditional-get`: the existing file's time, read on the disk thread before
    /// the first request.
    pub conditional: Conditional,
    /// The download this one came out of (a Metalink or torrent fetched first).
    pub following: Option<Gid>,
    /// Downloads this one produced.
    pub followed_by: Vec<Gid>,
    /// The document this download was made from, if the session should name that.
    pub metadata: Option<Metadata>,
    /// TLS settings for its connections, shared by every download with the same.
    pub tls: Arc<rustls::ClientConfig>,
    /// What the spec said about the content.
    pub expect: Expect,
    /// The chunk checksums pieces are verified with, once the plan uses them.
    pub hashes: Option<Arc<PieceHashes>>,
    /// The byte space as the hashers read it (made when the first piece is hashed).
    pub storage: Option<Arc<Storage>>,
    /// The mirror each plan slot belongs to (to charge a bad piece).
    pub slot_sources: HashMap<SourceSlot, usize>,
    /// Set when the download is a Metalink document to follow once complete.
    pub document: Option<crate::metalink::Document>,
    /// The version of the remote file the bytes on disk belong to: from the control
    /// file on resume, else from the first answer of this run.
    pub validators: Validators,
    /// The mirror that version is defined by (`None`: the first, when resumed); a
    /// change there restarts the download, a disagreeing other mirror is dropped.
    pub validator_source: Option<usize>,
    /// The remote file changed: connections stay closed until the writes of the old
    /// version queued before the change have landed ([`Download::stale_writes`]).
    pub restart_pending: bool,
    /// Writes of a discarded version still queued on the disk worker; their answers
    /// come first (the worker is FIFO) and mark nothing.
    pub stale_writes: usize,
    /// Piece-hash answers still to come for a discarded version: ignored when they come.
    pub stale_hashes: usize,
    /// How many times the remote file changed during this download.
    pub version_restarts: u32,
    /// The plan started with bytes on disk (a control file, or `-c` over a file):
    /// a mirror that cannot resume then meets `--always-resume`.
    pub resumed: bool,
    /// The swarm of a torrent download.
    pub bt: Option<Box<crate::bt::Swarm>>,
    /// A magnet link's metadata download.
    pub(crate) magnet: Option<Box<crate::bt::MagnetFetch>>,
}

impl Source {
    /// A mirror not tried yet.
    pub fn new(url: Url) -> Source {
        Source {
            url,
            tries: 0,
            failed: false,
            no_ranges: false,
            conns: 0,
            retry_at: None,
            bad_pieces: 0,
            free_slots: Vec::new(),
            validators: Validators::default(),
            removed: false,
            rank: u32::MAX,
        }
    }

    /// Whether a connection has gone to it (aria2's "used", else "waiting").
    pub fn used(&self) -> bool {
        self.tries > 0 || self.conns > 0
    }
}

impl Download {
    /// Indexes of the mirrors not removed, in try order (`getUris` lists them so).
    pub fn sources_in_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.sources.len())
            .filter(|&i| !self.sources[i].removed)
            .collect();
        order.sort_by_key(|&i| (self.sources[i].rank, i));
        order
    }

    pub fn new(
        gid: Gid,
        urls: Vec<Url>,
        opts: Arc<Options>,
        expect: Expect,
        tls: Arc<rustls::ClientConfig>,
        now: Instant,
    ) -> Download {
        let throttle = crate::throttle::Throttle::new(opts.max_download_limit);
        Download {
            gid,
            opts,
            sources: urls.into_iter().map(Source::new).collect(),
            state: DownloadState::Waiting,
            layout: Layout::Unknown,
            path: None,
            file: None,
            resume: None,
            resume_total: None,
            sequential_len: 0,
            throttle,
            conns: Vec::new(),
            next_slot: 0,
            writes_in_flight: 0,
            jobs_in_flight: 0,
            control_dirty: false,
            control_exists: false,
            output_pending: false,
            last_save: now,
            verifying: false,
            completing: false,
            integrity_check: false,
            recheck_whole: false,
            pieces_hashing: 0,
            last_error: None,
            started: None,
            finished_at: None,
            session_bytes: 0,
            not_found: 0,
            meter: SpeedMeter::default(),
            announced: false,
            conditional: Conditional::Unasked,
            following: None,
            followed_by: Vec::new(),
            metadata: None,
            tls,
            expect,
            hashes: None,
            storage: None,
            slot_sources: HashMap::new(),
            document: None,
            validators: Validators::default(),
            validator_source: None,
            restart_pending: false,
            stale_writes: 0,
            stale_hashes: 0,
            version_restarts: 0,
            resumed: false,
            bt: None,
            magnet: None,
        }
    }

    pub fn plan(&self) -> Option<&Plan> {
        match &self.layout {
            Layout::Planned(p) => Some(p),
            _ => None,
        }
    }

    pub fn plan_mut(&mut self) -> Option<&mut Plan> {
        match &mut self.layout {
            Layout::Planned(p) => Some(p),
            _ => None,
        }
    }

    /// A plan slot for a new connection to mirror `source`. Slots are reused only
    /// by the same mirror, so the slots a failed piece names always lead back to the
    /// mirror that sent its bytes.
    pub fn take_slot(&mut self, source: usize) -> SourceSlot {
        let slot = self.sources[source].free_slots.pop().unwrap_or_else(|| {
            self.next_slot += 1;
            self.next_slot - 1
        });
        self.slot_sources.insert(slot, source);
        slot
    }

    /// Gives back a connection's slot (its run, if any, is released).
    pub fn give_slot(&mut self, slot: SourceSlot) {
        if let Some(p) = self.plan_mut() {
            p.release(slot);
        }
        if let Some(&source) = self.slot_sources.get(&slot) {
            self.sources[source].free_slots.push(slot);
        }
    }

    pub fn is_finished(&self) -> bool {
        self.state.is_stopped()
    }

    pub fn is_active(&self) -> bool {
        self.state == DownloadState::Active
    }

    /// Active and not on its way to complete (its last disk job, a control file's
    /// removal or a saved metadata file, still queued): it may take on new peers.
    pub fn takes_peers(&self) -> bool {
        self.is_active() && !self.completing
    }

    pub fn total(&self) -> Option<u64> {
        match &self.layout {
            Layout::Planned(p) => Some(p.total()),
            Layout::Stream {
                written,
                finished: true,
                ..
            } => Some(*written),
            _ => None,
        }
    }

    pub fn completed(&self) -> u64 {
        match &self.layout {
            Layout::Planned(p) => p.completed_bytes(),
            Layout::Stream { written, .. } => *written,
            Layout::Unknown => 0,
        }
    }
}

/// Bytes per second over the last couple of seconds, in quarter-second buckets.
#[derive(Debug, Default)]
pub struct SpeedMeter {
    buckets: [u64; 8],
    head: Option<Instant>,
}

impl SpeedMeter {
    const SLOT: Duration = Duration::from_millis(250);

    /// Records `n` bytes at `now`.
    pub fn add(&mut self, now: Instant, n: u64) {
        self.roll(now);
        self.buckets[0] += n;
    }

    /// The rate at `now`.
    pub fn rate(&self, now: Instant) -> u64 {
        let Some(head) = self.head else { return 0 };
        let age =
            (now.saturating_duration_since(head).as_millis() / Self::SLOT.as_millis()) as usize;
        let live: u64 = self
            .buckets
            .iter()
            .take(self.buckets.len().saturating_sub(age))
            .sum();
        live * 1000 / (Self::SLOT.as_millis() as u64 * self.buckets.len() as u64)
    }

    fn roll(&mut self, now: Instant) {
        let head = *self.head.get_or_insert(now);
        let steps =
            (now.saturating_duration_since(head).as_millis() / Self::SLOT.as_millis()) as usize;
        if steps == 0 {
            return;
        }
        let steps = steps.min(self.buckets.len());
        self.buckets.rotate_right(steps);
        self.buckets[..steps].fill(0);
        self.head = Some(head + Self::SLOT * steps as u32);
        if now.saturating_duration_since(self.head.unwrap_or(now)) >= Self::SLOT {
            self.head = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_meter_averages_and_decays() {
        let t0 = Instant::now();
        let mut m = SpeedMeter::default();
        for i in 0..8 {
            m.add(t0 + Duration::from_millis(250 * i), 250_000);
        }
        let r = m.rate(t0 + Duration::from_millis(1800));
        assert!((900_000..=1_100_000).contains(&r), "{r}");
        assert_eq!(m.rate(t0 + Duration::from_secs(10)), 0);
    }
}
