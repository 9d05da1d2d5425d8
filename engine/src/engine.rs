//! The event loop: one thread owns every socket and timer through mio; the disk and
//! resolver threads, and every [`Handle`], reach it through a `mio::Waker`.
//!
//! Each turn of the loop: take commands from handles, start queued downloads and new
//! connections, save control files, tell subscribers what happened, wait for readiness
//! (or the nearest deadline), drive the connections that became ready, take in disk
//! and DNS completions, resume readers that were paused for buffers or rate limits,
//! handle deadlines.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token, Waker};

use crate::clock::Clock;
use crate::conn::Conn;
use crate::disk::{DiskDone, DiskJob, DiskWorker};
use crate::download::{DownloadState, Layout};
use crate::error::{Error, ErrorCode};
use crate::gid::{Gid, GidSource};
use crate::handle::{Command, Event, Handle};
use crate::hasher::{HashDone, HashJob, HasherPool};
use crate::options::Options;
use crate::queue::Downloads;
use crate::resolve::{Resolved, Resolver};
use crate::status::DownloadStatus;
use crate::throttle::Throttle;
use crate::timers::Timers;

pub(crate) const WAKER: Token = Token(usize::MAX);
/// Size of one write buffer: large reads mean few system calls per megabyte. It is
/// also the unit `--disk-cache` is counted in: a larger buffer counts as the units it
/// spans ([`pool_units`]).
pub(crate) const BUF_SIZE: usize = 256 * 1024;

/// The pool units a buffer of `len` bytes counts for against `--disk-cache` (at least
/// one: a short buffer still stands for a write in flight).
pub(crate) fn pool_units(len: usize) -> usize {
    len.div_ceil(BUF_SIZE).max(1)
}

/// Cached name lookups: everything that names the same host shares one.
pub(crate) enum Dns {
    /// A lookup in flight, by its tag, and who waits for it.
    Pending(usize, Vec<DnsWaiter>),
    Ready(Vec<SocketAddr>),
}

/// Who a name lookup answers: the resolver thread's answers come back to the loop,
/// which hands them to each waiter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DnsWaiter {
    /// A connection (HTTP, FTP), by its key.
    Conn(usize),
    /// `--dht-entry-point` (or `6`): the DHT node of that family joins through the
    /// answer; trouble is told as a notice of download `gid` (the torrent that
    /// started the DHT).
    DhtEntry(swarmget_bt_dht::Family, Gid),
    /// A host name in magnet download `gid`'s `x.pe`: its addresses become peers.
    MagnetPeer(Gid),
}

/// The download engine: the state the loop thread owns. Everything outside reaches
/// it through the [`Handle`] that [`Engine::start`] returns.
pub struct Engine {
    pub(crate) poll: Poll,
    pub(crate) waker: Arc<Waker>,
    pub(crate) global: Options,
    /// The options of the last download added, shared with the next one when equal:
    /// ten thousand lines of one input file hold one copy, not ten thousand.
    pub(crate) last_options: Option<Arc<Options>>,
    pub(crate) downloads: Downloads,
    pub(crate) conns: Vec<Option<Conn>>,
    pub(crate) free_keys: Vec<usize>,
    /// Connections made under `--multiple-interface`, to take its interfaces in turn.
    pub(crate) interface_turn: usize,
    /// Servers' measured speeds, for the URI selectors and `--server-stat-of`.
    pub(crate) server_stats: crate::server_stat::ServerStats,
    /// Every download's cookies (`--load-cookies`, `Set-Cookie`, `--save-cookies`).
    pub(crate) cookies: swarmget_cookies::CookieJar,
    /// Logins from `--netrc-path`, unless `--no-netrc`.
    pub(crate) netrc: Option<crate::netrc::Netrc>,
    /// Origins that answered 401: with `--http-auth-challenge`, credentials go only
    /// to these (aria2 remembers them per host the same way).
    pub(crate) challenged: std::collections::HashSet<String>,
    pub(crate) disk: DiskWorker,
    disk_done: Receiver<DiskDone>,
    resolver: Resolver,
    resolved: Receiver<Resolved>,
    /// Hashing threads (one per core): pieces and whole files are verified there.
    pub(crate) hasher: HasherPool,
    hashed: Receiver<HashDone>,
    /// Written buffers lent to the hashers (fed pieces).
    pub(crate) lent: crate::verify::Lent,
    pub(crate) dns: HashMap<(String, u16), Dns>,
    pub(crate) pool: Vec<Vec<u8>>,
    pub(crate) pool_limit: usize,
    pub(crate) pool_out: usize,
    /// The largest buffer a peer's decoder had ([`Handle::held_memory`]).
    pub(crate) peer_read_peak: usize,
    pub(crate) overall: Throttle,
    pub(crate) timers: Timers,
    /// Readers stopped with bytes unread (no buffer, or a rate limit).
    pub(crate) paused: Vec<usize>,
    /// A buffer came back since paused readers last looked.
    buffer_returned: bool,
    /// Events not yet sent to subscribers.
    pub(crate) events: Vec<Event>,
    pub(crate) subscribers: Vec<Sender<Event>>,
    commands: Receiver<Command>,
    interrupt: Arc<AtomicBool>,
    pub(crate) gids: GidSource,
    /// Set by an interrupt or `--stop`: nothing new starts; the handles are told.
    pub(crate) halted: bool,
    /// Shutdown requests waiting for the last disk job to settle.
    pub(crate) shutdown: Vec<Sender<Vec<DownloadStatus>>>,
    pub(crate) started_at: Instant,
    /// What the loop reads the time from (see [`crate::clock`]).
    pub(crate) clock: Clock,
    /// The fastest overall download speed seen (`--optimize-concurrent-downloads`).
    pub(crate) peak_speed: u64,
    /// Tags name lookups, so an answer finds its waiters.
    lookups: usize,
    /// Metalink documents to follow once complete (see `metalink::follow`).
    pub(crate) documents: Vec<Gid>,
    /// BitTorrent peer connections, by key (tokens carry [`crate::bt::PEER_TAG`]).
    pub(crate) peers: Vec<Option<crate::bt::PeerConn>>,
    pub(crate) free_peer_keys: Vec<usize>,
    /// The torrent downloads, visited once per turn by `bt_tick`.
    pub(crate) torrents: Vec<Gid>,
    /// Tracker announces answer here (from their worker threads).
    pub(crate) announced_tx: Sender<crate::bt::AnnounceDone>,
    announced: Receiver<crate::bt::AnnounceDone>,
    /// The BitTorrent listen port, bound when the first torrent runs.
    pub(crate) listener: Option<crate::bt::Listener>,
    /// Numbers peer connections, so a disk read finds the one it was for.
    pub(crate) peer_serial: u64,
    /// `--max-overall-upload-limit`.
    pub(crate) overall_upload: Throttle,
    /// A loop turn is due then for throttled uploads.
    pub(crate) upload_wake: Option<Instant>,
    /// The Mainline DHT, started with the first public torrent.
    pub(crate) dht: Option<crate::bt::DhtNet>,
    /// Metadata connections of magnet downloads, by key (tokens carry
    /// [`crate::bt::META_TAG`]).
    pub(crate) meta_conns: Vec<Option<crate::bt::MetaConn>>,
    /// Local peer discovery's socket, opened with the first torrent that asks for it.
    pub(crate) lpd: Option<crate::bt::Lpd>,
    /// Opening it was tried (a failure is told once).
    pub(crate) lpd_tried: bool,
    /// Peers' blocks gathered into chunks on their way to disk (`bt::chunks`).
    pub(crate) chunks: crate::bt::chunks::Chunks,
    /// Digests of the pieces peers are filling, made from their chunks on the way to
    /// disk.
    pub(crate) digests: crate::bt::digests::Digests,
}

impl Engine {
    /// Starts the engine's loop on a thread of its own with the global options
    /// (`-j`, `--disk-cache`, overall limits…) and returns the handle to drive it.
    /// The thread ends after [`Handle::shutdown`].
    pub fn start(global: &Options) -> std::io::Result<Handle> {
        Engine::start_with_clock(global, Clock::real())
    }

    /// [`Engine::start`] with the loop reading time from `clock`: a test passes a
    /// [`Clock::manual`] and advances it to make timeouts happen without waiting.
    pub fn start_with_clock(global: &Options, clock: Clock) -> std::io::Result<Handle> {
        let (tx, commands) = channel();
        let engine = Engine::new(global, commands, clock)?;
        let handle = Handle::new(tx, engine.waker.clone(), engine.interrupt.clone());
        std::thread::Builder::new()
            .name("swarmget-engine".into())
            .spawn(move || engine.serve())?;
        Ok(handle)
    }

    fn new(global: &Options, commands: Receiver<Command>, clock: Clock) -> std::io::Result<Engine> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        clock.attach(&waker);
        let (disk_tx, disk_done) = channel();
        let w = waker.clone();
        let disk =
            DiskWorker::start_with_max_open_files(disk_tx, global.bt_max_open_files, move || {
                let _ = w.wake();
            });
        let (dns_tx, resolved) = channel();
        let w = waker.clone();
        let resolver = Resolver::start(
            dns_tx,
            move || {
                let _ = w.wake();
            },
            global.async_dns_server.clone(),
            !global.disable_ipv6,
        );
        let (hash_tx, hashed) = channel();
        let w = waker.clone();
        let hasher = HasherPool::start(hash_tx, move || {
            let _ = w.wake();
        });
        let cookies = crate::cookies::load(global)?;
        let netrc = match &global.netrc_path {
            Some(path) if !global.no_netrc => {
                crate::netrc::load(path, &mut |w| eprintln!("swarmget: warning: {w}"))?
            }
            _ => None,
        };
        let pool_limit = (global.disk_cache as usize / BUF_SIZE).max(4);
        let (announced_tx, announced) = channel();
        Ok(Engine {
            poll,
            waker,
            global: global.clone(),
            last_options: None,
            downloads: Downloads::default(),
            conns: Vec::new(),
            free_keys: Vec::new(),
            interface_turn: 0,
            server_stats: load_server_stats(global),
            cookies,
            netrc,
            challenged: std::collections::HashSet::new(),
            disk,
            disk_done,
            resolver,
            resolved,
            hasher,
            hashed,
            dns: HashMap::new(),
            pool: Vec::new(),
            pool_limit,
            pool_out: 0,
            lent: Default::default(),
            peer_read_peak: 0,
            overall: Throttle::new(global.max_overall_download_limit),
            timers: Timers::default(),
            paused: Vec::new(),
            buffer_returned: false,
            events: Vec::new(),
            subscribers: Vec::new(),
            commands,
            interrupt: Arc::new(AtomicBool::new(false)),
            gids: GidSource::seeded(),
            halted: false,
            shutdown: Vec::new(),
            started_at: clock.now(),
            clock,
            peak_speed: 0,
            lookups: 0,
            documents: Vec::new(),
            peers: Vec::new(),
            free_peer_keys: Vec::new(),
            torrents: Vec::new(),
            announced_tx,
            announced,
            listener: None,
            peer_serial: 0,
            overall_upload: Throttle::new(global.max_overall_upload_limit),
            upload_wake: None,
            dht: None,
            meta_conns: Vec::new(),
            lpd: None,
            lpd_tried: false,
            chunks: HashMap::new(),
            digests: Default::default(),
        })
    }

    /// Pins `host:port` to `addrs`, bypassing the resolver (like curl's `--resolve`).
    /// The addresses are raced in Happy Eyeballs order as a lookup's would be.
    pub(crate) fn pin_host(&mut self, host: &str, port: u16, addrs: Vec<SocketAddr>) {
        self.dns.insert((host.to_string(), port), Dns::Ready(addrs));
    }

    /// The loop, until a shutdown has been asked for and every disk job has settled.
    fn serve(mut self) {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = self.clock.now();
            let stop_time =
                self.global.stop > Duration::ZERO && now - self.started_at >= self.global.stop;
            if (self.interrupt.load(Ordering::Relaxed) || stop_time) && !self.halted {
                self.halt(now);
            }
            // Completions of the last turn are followed before a command or an
            // event can see them, so a followed document is never seen done alone.
            self.follow_documents(now);
            while let Ok(command) = self.commands.try_recv() {
                command(&mut self, now);
            }
            // Before settled downloads are announced: a stopped download's held
            // blocks are writes it waits for.
            self.sweep_chunks(now);
            if !self.halted && self.shutdown.is_empty() {
                self.schedule(now);
            }
            self.save_controls(now, false);
            self.follow_documents(now);
            self.announce_finished();
            self.send_events();
            if !self.shutdown.is_empty() && self.jobs_in_flight() == 0 {
                break;
            }
            let timeout = self.next_deadline(now).saturating_duration_since(now);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout))
                && e.kind() != std::io::ErrorKind::Interrupted
            {
                self.fail_everything(Error::new(ErrorCode::Unknown, format!("poll: {e}")));
            }
            let now = self.clock.now();
            for ev in events.iter() {
                if ev.token() == WAKER {
                    continue;
                }
                if ev.token() == crate::bt::DHT4 || ev.token() == crate::bt::DHT6 {
                    self.dht_readable(ev.token(), now);
                    continue;
                }
                if ev.token() == crate::bt::LPD {
                    self.lpd_readable();
                    continue;
                }
                if ev.token() == crate::bt::LISTENER {
                    self.accept_peers(now);
                    continue;
                }
                if ev.token().0 & crate::bt::PEER_TAG != 0 {
                    self.peer_event(ev.token().0 & !crate::bt::PEER_TAG, now);
                    continue;
                }
                if ev.token().0 & crate::bt::META_TAG != 0 {
                    self.meta_event(ev.token().0 & !crate::bt::META_TAG, now);
                    continue;
                }
                if ev.token().0 & crate::bt::PENDING_TAG != 0 {
                    self.pending_event(ev.token().0 & !crate::bt::PENDING_TAG, now);
                    continue;
                }
                let key = ev.token().0 >> 3;
                let attempt = ev.token().0 & 7;
                self.on_socket_event(
                    key,
                    attempt,
                    ev.is_readable() || ev.is_read_closed() || ev.is_error(),
                    now,
                );
            }
            self.take_completions(now);
            if std::mem::take(&mut self.buffer_returned) && !self.paused.is_empty() {
                self.resume_paused(None, now);
            }
            self.fire_timers(now);
            self.bt_tick(now);
        }
        self.dht_save();
        if let Some(path) = &self.global.save_cookies
            && let Err(e) = crate::cookies::save(&self.cookies, path)
        {
            eprintln!("swarmget: cannot save cookies to {}: {e}", path.display());
        }
        if let Some(path) = &self.global.server_stat_of
            && let Err(e) = std::fs::write(path, self.server_stats.format())
        {
            eprintln!(
                "swarmget: cannot save server stats to {}: {e}",
                path.display()
            );
        }
        let now = self.clock.now();
        let statuses: Vec<_> = self.downloads.all().map(|d| d.status(now)).collect();
        for reply in self.shutdown.drain(..) {
            let _ = reply.send(statuses.clone());
        }
    }

    /// Disk jobs not yet answered, over every download.
    fn jobs_in_flight(&self) -> usize {
        self.downloads.all().map(|d| d.jobs_in_flight).sum()
    }

    /// Queues `event` for every subscriber.
    pub(crate) fn emit(&mut self, event: Event) {
        self.events.push(event);
    }

    fn send_events(&mut self) {
        if self.events.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.events);
        // A subscriber that hung up is dropped.
        self.subscribers
            .retain(|s| events.iter().all(|e| s.send(e.clone()).is_ok()));
    }

    /// Tells subscribers about downloads that finished once their disk work settled
    /// (so a "complete" download's file is whole and its control file gone).
    fn announce_finished(&mut self) {
        for gid in self.downloads.take_settled() {
            let Some(d) = self.downloads.get_mut(gid) else {
                continue;
            };
            d.announced = true;
            let event = match d.state {
                DownloadState::Complete => Event::Complete(gid),
                DownloadState::Error(_) => Event::Error(gid),
                _ => Event::Stop(gid),
            };
            self.emit(event);
        }
        self.downloads.trim_results(self.global.max_download_result);
    }

    fn take_completions(&mut self, now: Instant) {
        while let Ok(r) = self.resolved.try_recv() {
            self.on_resolved(r, now);
        }
        while let Ok(done) = self.disk_done.try_recv() {
            self.on_disk(done, now);
        }
        while let Ok(done) = self.hashed.try_recv() {
            self.on_hashed(done, now);
        }
        while let Ok(done) = self.announced.try_recv() {
            self.on_announced(done, now);
        }
    }

    fn on_resolved(&mut self, r: Resolved, now: Instant) {
        let Some(key) = self.dns.iter().find_map(|(k, v)| match v {
            Dns::Pending(tag, _) if *tag == r.tag => Some(k.clone()),
            _ => None,
        }) else {
            return;
        };
        let Some(Dns::Pending(_, waiting)) = self.dns.remove(&key) else {
            return;
        };
        let answer = match r.result {
            Ok(addrs) if !addrs.is_empty() => {
                self.dns.insert(key.clone(), Dns::Ready(addrs.clone()));
                Ok(addrs)
            }
            Ok(_) => Err(format!("cannot resolve {}: no addresses", key.0)),
            Err(e) => Err(format!("cannot resolve {}: {e}", key.0)),
        };
        for waiter in waiting {
            self.answer_lookup(waiter, answer.clone(), now);
        }
    }

    /// Hands a lookup's answer to one waiter.
    fn answer_lookup(
        &mut self,
        waiter: DnsWaiter,
        answer: Result<Vec<SocketAddr>, String>,
        now: Instant,
    ) {
        match (waiter, answer) {
            (DnsWaiter::Conn(key), Ok(addrs)) => self.resolved(key, addrs, now),
            (DnsWaiter::Conn(key), Err(why)) => {
                self.conn_failed(key, Error::new(ErrorCode::Resolve, why), now)
            }
            (DnsWaiter::DhtEntry(family, gid), answer) => {
                self.dht_entry_resolved(family, gid, answer, now)
            }
            (DnsWaiter::MagnetPeer(gid), answer) => self.magnet_peer_resolved(gid, answer),
        }
    }

    /// Starts name resolution for connection `key` (or uses the cached answer).
    /// The proxy route is decided first, from the connection's current URL.
    pub(crate) fn resolve(&mut self, key: usize, now: Instant) {
        self.choose_route(key);
        self.start_resolve(key, now);
        self.arm(key, now);
    }

    pub(crate) fn start_resolve(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns[key].as_ref() else {
            return;
        };
        let (host, port) = conn.lookup();
        self.look_up(&host, port, DnsWaiter::Conn(key), now);
    }

    /// Resolves `host:port` for `waiter` on the resolver thread (`--async-dns-server`
    /// honoured), or at once for an address or a cached answer.
    pub(crate) fn look_up(&mut self, host: &str, port: u16, waiter: DnsWaiter, now: Instant) {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
            self.answer_lookup(waiter, Ok(vec![SocketAddr::new(ip, port)]), now);
            return;
        }
        match self.dns.get_mut(&(host.to_string(), port)) {
            Some(Dns::Ready(addrs)) => {
                let addrs = addrs.clone();
                self.answer_lookup(waiter, Ok(addrs), now);
            }
            Some(Dns::Pending(_, waiting)) => waiting.push(waiter),
            None => {
                self.lookups += 1;
                let tag = self.lookups;
                self.dns
                    .insert((host.to_string(), port), Dns::Pending(tag, vec![waiter]));
                self.resolver.lookup(tag, host, port);
            }
        }
    }

    fn on_disk(&mut self, done: DiskDone, now: Instant) {
        match done {
            DiskDone::Read { gid, tag, result } => self.on_read(gid, tag, result, now),
            DiskDone::Wrote {
                gid,
                offset,
                buf,
                len,
                result,
                hashed,
            } => {
                if !self.downloads.contains(gid) {
                    return self.give_buffer(buf);
                }
                let d = &mut self.downloads[gid];
                d.writes_in_flight -= 1;
                d.jobs_in_flight -= 1;
                // A chunk of peers' blocks was hashed on the loop before it was sent.
                if d.stale_writes > 0 || result.is_err() || hashed {
                    self.give_buffer(buf);
                } else {
                    // Before the pieces it completes are queued: the hashers see a
                    // piece's bytes before its verification.
                    self.feed_hashers(gid, offset, buf, len);
                }
                let d = &mut self.downloads[gid];
                if d.stale_writes > 0 {
                    // A byte of a version the download discarded: counts for nothing.
                    d.stale_writes -= 1;
                    if d.stale_writes == 0 && d.stale_hashes == 0 && d.restart_pending {
                        self.finish_restart(gid, now);
                    }
                    return;
                }
                let range = offset..offset + len as u64;
                match result {
                    Ok(()) => match &mut d.layout {
                        Layout::Planned(plan) => {
                            // Written bytes inside a piece not yet complete are
                            // progress too (the control file's partial ranges): a
                            // crash must lose no more than one auto-save interval.
                            plan.wrote(range);
                            d.control_dirty = true;
                            self.hash_ready_pieces(gid);
                        }
                        Layout::Stream { written, .. } => *written = (*written).max(range.end),
                        Layout::Unknown => {}
                    },
                    Err(e) => {
                        if let Some(plan) = d.plan_mut() {
                            plan.write_failed(range);
                        }
                        let err = Error::file(&e, "write failed");
                        self.fail_download(gid, err, now);
                        return;
                    }
                }
                self.maybe_finish(gid, now);
            }
            DiskDone::LastModified { gid, path, time } => {
                let Some(d) = self.downloads.get_mut(gid) else {
                    return;
                };
                d.jobs_in_flight -= 1;
                let secs = time.and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
                let known = secs.map(|s| (path, swarmget_http_seg::format_http_date(s.as_secs())));
                d.conditional = crate::download::Conditional::Known(known);
                if d.is_active() {
                    self.top_up(gid, now);
                }
            }
            DiskDone::Allocated { gid, result } => {
                if !self.downloads.contains(gid) {
                    return;
                }
                self.downloads[gid].jobs_in_flight -= 1;
                if let Err(e) = result {
                    self.fail_download(gid, Error::file(&e, "file allocation failed"), now);
                }
            }
            DiskDone::Saved { gid, result } => {
                if !self.downloads.contains(gid) {
                    return;
                }
                self.downloads[gid].jobs_in_flight -= 1;
                if let Err(e) = result {
                    self.notice(gid, format!("cannot save control file: {e}"));
                }
            }
            DiskDone::Truncated { gid, result } => {
                if !self.downloads.contains(gid) {
                    return;
                }
                self.downloads[gid].jobs_in_flight -= 1;
                self.downloads[gid].verifying = false;
                if let Err(e) = result {
                    self.fail_download(gid, Error::file(&e, "cannot set file length"), now);
                    return;
                }
                self.verify_or_complete(gid, now);
            }
            DiskDone::Modified { gid, result } => {
                if !self.downloads.contains(gid) {
                    return;
                }
                self.downloads[gid].jobs_in_flight -= 1;
                if let Err(e) = result {
                    self.notice(gid, format!("cannot set the file's time: {e}"));
                }
            }
            DiskDone::Prepared { gid, result } => self.output_prepared(gid, result, now),
            DiskDone::Inspected { gid, found } => self.torrent_inspected(gid, found, now),
            DiskDone::FileRead {
                path,
                purpose: crate::disk::ReadPurpose::DhtTable(family, gid),
                result,
            } => self.dht_table_read(family, gid, &path, result, now),
            DiskDone::FileSaved { gid, path, result } => {
                self.metadata_saved(gid, &path, result, now)
            }
            DiskDone::Removed { gid } => {
                if let Some(d) = self.downloads.get_mut(gid) {
                    d.jobs_in_flight -= 1;
                    // The control file is gone: the download may now read complete.
                    if std::mem::take(&mut d.completing) && !d.state.is_stopped() {
                        self.completed(gid);
                    }
                }
            }
        }
    }

    /// Takes a write buffer from the pool, or `None` when `--disk-cache` is used up.
    pub(crate) fn take_buffer(&mut self) -> Option<Vec<u8>> {
        if self.pool_out >= self.pool_limit {
            return None;
        }
        self.pool_out += 1;
        Some(self.spare_buffer(BUF_SIZE))
    }

    /// A buffer of `len` bytes, kept from an earlier use if the pool has one, not
    /// counted against `--disk-cache` (the caller counts it when it should).
    pub(crate) fn spare_buffer(&mut self, len: usize) -> Vec<u8> {
        let kept = self.pool.iter().rposition(|b| b.len() == len);
        kept.map_or_else(|| vec![0u8; len], |i| self.pool.swap_remove(i))
    }

    pub(crate) fn give_buffer(&mut self, buf: Vec<u8>) {
        self.release_buffer(pool_units(buf.len()));
        self.recycle_buffer(buf);
    }

    /// `units` taken from the pool no longer count against `--disk-cache` (their
    /// buffer was written; the hashers may still read it).
    pub(crate) fn release_buffer(&mut self, units: usize) {
        debug_assert!(
            units <= self.pool_out,
            "{units} units released of {}",
            self.pool_out
        );
        self.pool_out = self.pool_out.saturating_sub(units);
        self.buffer_returned = true;
    }

    /// Pool units the buffers kept for reuse hold.
    pub(crate) fn pooled_units(&self) -> usize {
        self.pool.iter().map(|b| pool_units(b.len())).sum()
    }

    /// Keeps a released buffer for reuse if the pool has room.
    pub(crate) fn recycle_buffer(&mut self, buf: Vec<u8>) {
        // Overflow buffers (odd sizes, or past the limit) are freed, so the pool
        // never holds more than `--disk-cache` and what the hashers and the gathered
        // chunks may hold beyond it (kept, or every lent buffer and chunk would be
        // allocated and zeroed anew).
        use crate::bt::chunks::{CHUNK_SIZE, GATHERED};
        let room = self.pool_limit + crate::verify::MAX_LENT + GATHERED * CHUNK_SIZE / BUF_SIZE;
        let units = pool_units(buf.len());
        // Only the two sizes ever asked of `spare_buffer` are worth keeping.
        let reused = matches!(buf.len(), BUF_SIZE | CHUNK_SIZE);
        if reused && self.pooled_units() + self.pool_out + units <= room {
            self.pool.push(buf);
        }
    }

    /// Queues a hashing job counted against its download.
    pub(crate) fn hash_job(&mut self, job: HashJob) {
        self.downloads[job.gid()].jobs_in_flight += 1;
        self.hasher.send(job);
    }

    /// Queues a disk job counted against download `gid`.
    pub(crate) fn disk_job(&mut self, gid: Gid, job: DiskJob) {
        let d = &mut self.downloads[gid];
        d.jobs_in_flight += 1;
        if matches!(job, DiskJob::Write { .. } | DiskJob::WriteStorage { .. }) {
            d.writes_in_flight += 1;
        }
        self.disk.send(job);
    }
}

/// `--server-stat-if`: the records to start from. A file that is not there yet is the
/// common first run of `--server-stat-if=F --server-stat-of=F`, so it starts empty, as
/// aria2 does; lines that do not parse are skipped.
fn load_server_stats(global: &Options) -> crate::server_stat::ServerStats {
    let Some(path) = &global.server_stat_if else {
        return Default::default();
    };
    match std::fs::read_to_string(path) {
        Ok(text) => crate::server_stat::ServerStats::parse(
            &text,
            crate::cookies::unix_now(),
            global.server_stat_timeout.as_secs(),
        ),
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!(
                    "swarmget: cannot read server stats from {}: {e}",
                    path.display()
                );
            }
            Default::default()
        }
    }
}
