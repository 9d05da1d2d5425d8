//! The event loop: one thread owns every socket and timer through mio; the disk and
//! resolver threads report back through a `mio::Waker`.
//!
//! Each turn of the loop: wait for readiness (or the nearest deadline), drive the
//! connections that became ready, take in disk and DNS completions, resume readers
//! that were paused for buffers or rate limits, handle deadlines, start queued
//! downloads and new connections, save control files, report progress.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use mio::{Events, Poll, Token, Waker};
use url::Url;

use crate::conn::{Conn, Phase};
use crate::control::{ControlRecord, control_path};
use crate::disk::{DiskDone, DiskJob, DiskWorker};
use crate::download::{Download, DownloadSpec, DownloadState, DownloadStatus, Layout};
use crate::error::{Error, ErrorCode};
use crate::options::Options;
use crate::resolve::{Resolved, Resolver};
use crate::throttle::Throttle;

pub(crate) const WAKER: Token = Token(usize::MAX);
/// Size of one write buffer: large reads mean few system calls per megabyte.
pub(crate) const BUF_SIZE: usize = 256 * 1024;

/// Receives progress while [`Engine::run`] works.
pub trait Observer {
    /// Called about twice a second with every download's state.
    fn progress(&mut self, _now: Instant, _downloads: &[DownloadStatus]) {}
    /// Called once when a download completes, fails or stops.
    fn finished(&mut self, _download: &DownloadStatus) {}
    /// A notable event (a retry, a source dropped), for the log.
    fn notice(&mut self, _gid: u64, _message: &str) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Cached name lookups: connections to the same host share one.
enum Dns {
    /// A lookup in flight, by its tag, and the connections waiting for it.
    Pending(usize, Vec<usize>),
    Ready(Vec<SocketAddr>),
}

/// The download engine.
pub struct Engine {
    pub(crate) poll: Poll,
    pub(crate) waker: Arc<Waker>,
    pub(crate) global: Options,
    pub(crate) downloads: Vec<Download>,
    pub(crate) conns: Vec<Option<Conn>>,
    free_keys: Vec<usize>,
    pub(crate) disk: DiskWorker,
    disk_done: Receiver<DiskDone>,
    resolver: Resolver,
    resolved: Receiver<Resolved>,
    dns: HashMap<(String, u16), Dns>,
    pub(crate) pool: Vec<Vec<u8>>,
    pub(crate) pool_limit: usize,
    pub(crate) pool_out: usize,
    pub(crate) overall: Throttle,
    pub(crate) tls: HashMap<usize, Arc<rustls::ClientConfig>>,
    pub(crate) observer_notes: Vec<(u64, String)>,
    interrupt: Arc<AtomicBool>,
    next_gid: u64,
    /// Tags name lookups, so an answer finds its waiters.
    lookups: usize,
}

impl Engine {
    /// An engine with the global options (`-j`, `--disk-cache`, overall limits…).
    pub fn new(global: &Options) -> std::io::Result<Engine> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (disk_tx, disk_done) = channel();
        let w = waker.clone();
        let disk = DiskWorker::start(disk_tx, move || {
            let _ = w.wake();
        });
        let (dns_tx, resolved) = channel();
        let w = waker.clone();
        let resolver = Resolver::start(dns_tx, move || {
            let _ = w.wake();
        });
        let pool_limit = (global.disk_cache as usize / BUF_SIZE).max(4);
        Ok(Engine {
            poll,
            waker,
            global: global.clone(),
            downloads: Vec::new(),
            conns: Vec::new(),
            free_keys: Vec::new(),
            disk,
            disk_done,
            resolver,
            resolved,
            dns: HashMap::new(),
            pool: Vec::new(),
            pool_limit,
            pool_out: 0,
            overall: Throttle::new(global.max_overall_download_limit),
            tls: HashMap::new(),
            observer_notes: Vec::new(),
            interrupt: Arc::new(AtomicBool::new(false)),
            next_gid: seed_gid(),
            lookups: 0,
        })
    }

    /// A flag that, once set (from a signal handler, say), stops every download
    /// cleanly: buffers are written, control files saved, and [`Engine::run`] returns.
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    /// A waker that makes a blocked [`Engine::run`] look at the interrupt flag at once.
    pub fn waker(&self) -> Arc<Waker> {
        self.waker.clone()
    }

    /// Pins `host:port` to `addrs`, bypassing the resolver (like curl's `--resolve`).
    /// The addresses are raced in Happy Eyeballs order as a lookup's would be.
    pub fn pin_host(&mut self, host: &str, port: u16, addrs: Vec<SocketAddr>) {
        self.dns.insert((host.to_string(), port), Dns::Ready(addrs));
    }

    /// Queues a download; returns its GID.
    pub fn add(&mut self, spec: DownloadSpec) -> Result<u64, Error> {
        if spec.uris.is_empty() {
            return Err(Error::new(ErrorCode::Unknown, "no URI to download"));
        }
        let mut urls = Vec::new();
        for uri in &spec.uris {
            let url = Url::parse(uri)
                .map_err(|e| Error::new(ErrorCode::Unknown, format!("bad URI `{uri}`: {e}")))?;
            match url.scheme() {
                "http" | "https" | "ftp" => {}
                other => {
                    return Err(Error::new(
                        ErrorCode::Unknown,
                        format!("`{uri}`: the {other} scheme is not supported yet"),
                    ));
                }
            }
            if url.host_str().is_none() {
                return Err(Error::new(
                    ErrorCode::Unknown,
                    format!("`{uri}` has no host"),
                ));
            }
            urls.push(url);
        }
        self.next_gid = self
            .next_gid
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let gid = self.next_gid;
        let idx = self.downloads.len();
        let tls = crate::tls::client_config(&spec.options)
            .map_err(|e| Error::new(ErrorCode::BadOption, e))?;
        self.tls.insert(idx, tls);
        self.downloads
            .push(Download::new(gid, urls, spec.options, Instant::now()));
        Ok(gid)
    }

    /// Runs until every download has completed, failed or been stopped; returns their
    /// final states in the order they were added.
    pub fn run(&mut self, observer: &mut dyn Observer) -> Vec<DownloadStatus> {
        let mut events = Events::with_capacity(1024);
        let start = Instant::now();
        let mut next_tick = start;
        let mut reported = vec![false; self.downloads.len()];
        loop {
            let now = Instant::now();
            let stop_time = self.global.stop > Duration::ZERO && now - start >= self.global.stop;
            if self.interrupt.load(Ordering::Relaxed) || stop_time {
                self.stop_all(now);
            }
            self.schedule(now);
            self.save_controls(now, false);
            for (gid, msg) in self.observer_notes.drain(..) {
                observer.notice(gid, &msg);
            }
            for (i, d) in self.downloads.iter().enumerate() {
                if d.is_finished() && !reported[i] && d.jobs_in_flight == 0 {
                    reported[i] = true;
                    observer.finished(&d.status(now));
                }
            }
            if now >= next_tick {
                let st: Vec<_> = self.downloads.iter().map(|d| d.status(now)).collect();
                observer.progress(now, &st);
                next_tick = now + Duration::from_millis(500);
            }
            if self
                .downloads
                .iter()
                .all(|d| d.is_finished() && d.jobs_in_flight == 0)
            {
                break;
            }
            let timeout = self
                .next_deadline(now)
                .min(next_tick)
                .saturating_duration_since(now);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout))
                && e.kind() != std::io::ErrorKind::Interrupted
            {
                self.fail_everything(Error::new(ErrorCode::Unknown, format!("poll: {e}")));
            }
            let now = Instant::now();
            for ev in events.iter() {
                if ev.token() == WAKER {
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
            self.resume_paused(now);
            self.check_deadlines(now);
        }
        let now = Instant::now();
        self.downloads.iter().map(|d| d.status(now)).collect()
    }

    fn take_completions(&mut self, now: Instant) {
        while let Ok(r) = self.resolved.try_recv() {
            self.on_resolved(r, now);
        }
        while let Ok(done) = self.disk_done.try_recv() {
            self.on_disk(done, now);
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
        match r.result {
            Ok(addrs) if !addrs.is_empty() => {
                self.dns.insert(key, Dns::Ready(addrs.clone()));
                for conn in waiting {
                    self.start_connect(conn, addrs.clone(), now);
                }
            }
            other => {
                let why = match other {
                    Err(e) => e.to_string(),
                    Ok(_) => "no addresses".into(),
                };
                for conn in waiting {
                    self.conn_failed(
                        conn,
                        Error::new(
                            ErrorCode::Resolve,
                            format!("cannot resolve {}: {why}", key.0),
                        ),
                        now,
                    );
                }
            }
        }
    }

    /// Starts name resolution for connection `key` (or uses the cached answer).
    pub(crate) fn resolve(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns[key].as_ref() else {
            return;
        };
        let (host, port) = conn.endpoint();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
            self.start_connect(key, vec![SocketAddr::new(ip, port)], now);
            return;
        }
        match self.dns.get_mut(&(host.clone(), port)) {
            Some(Dns::Ready(addrs)) => {
                let addrs = addrs.clone();
                self.start_connect(key, addrs, now);
            }
            Some(Dns::Pending(_, waiting)) => waiting.push(key),
            None => {
                self.lookups += 1;
                let tag = self.lookups;
                self.dns
                    .insert((host.clone(), port), Dns::Pending(tag, vec![key]));
                self.resolver.lookup(tag, &host, port);
            }
        }
    }

    fn on_disk(&mut self, done: DiskDone, now: Instant) {
        match done {
            DiskDone::Wrote {
                gid,
                offset,
                buf,
                len,
                result,
            } => {
                self.give_buffer(buf);
                let Some(i) = self.index_of(gid) else { return };
                let d = &mut self.downloads[i];
                d.writes_in_flight -= 1;
                d.jobs_in_flight -= 1;
                let range = offset..offset + len as u64;
                match result {
                    Ok(()) => match &mut d.layout {
                        Layout::Planned(plan) => {
                            if !plan.wrote(range).is_empty() {
                                d.control_dirty = true;
                            }
                        }
                        Layout::Stream { written, .. } => *written = (*written).max(range.end),
                        Layout::Unknown => {}
                    },
                    Err(e) => {
                        if let Some(plan) = d.plan_mut() {
                            plan.write_failed(range);
                        }
                        let err = Error::file(&e, "write failed");
                        self.fail_download(i, err, now);
                        return;
                    }
                }
                self.maybe_finish(i, now);
            }
            DiskDone::Allocated { gid, result } => {
                let Some(i) = self.index_of(gid) else { return };
                self.downloads[i].jobs_in_flight -= 1;
                if let Err(e) = result {
                    self.fail_download(i, Error::file(&e, "file allocation failed"), now);
                }
            }
            DiskDone::Saved { gid, result } => {
                let Some(i) = self.index_of(gid) else { return };
                self.downloads[i].jobs_in_flight -= 1;
                if let Err(e) = result {
                    let gid = self.downloads[i].gid;
                    self.observer_notes
                        .push((gid, format!("cannot save control file: {e}")));
                }
            }
            DiskDone::Truncated { gid, result } => {
                let Some(i) = self.index_of(gid) else { return };
                self.downloads[i].jobs_in_flight -= 1;
                self.downloads[i].verifying = false;
                if let Err(e) = result {
                    self.fail_download(i, Error::file(&e, "cannot set file length"), now);
                    return;
                }
                self.verify_or_complete(i, now);
            }
            DiskDone::Removed { gid } => {
                if let Some(i) = self.index_of(gid) {
                    self.downloads[i].jobs_in_flight -= 1;
                }
            }
            DiskDone::Verified { gid, result } => {
                let Some(i) = self.index_of(gid) else { return };
                let d = &mut self.downloads[i];
                d.jobs_in_flight -= 1;
                d.verifying = false;
                match result {
                    Ok(true) => self.complete(i, now),
                    Ok(false) => {
                        let expect = d
                            .opts
                            .checksum
                            .as_ref()
                            .map(|c| c.to_string())
                            .unwrap_or_default();
                        self.fail_download(
                            i,
                            Error::new(
                                ErrorCode::Checksum,
                                format!("checksum validation failed (expected {expect})"),
                            ),
                            now,
                        );
                    }
                    Err(e) => {
                        self.fail_download(i, Error::file(&e, "cannot read file to verify it"), now)
                    }
                }
            }
        }
    }

    pub(crate) fn index_of(&self, gid: u64) -> Option<usize> {
        self.downloads.iter().position(|d| d.gid == gid)
    }

    /// Takes a write buffer from the pool, or `None` when `--disk-cache` is used up.
    pub(crate) fn take_buffer(&mut self) -> Option<Vec<u8>> {
        if self.pool_out >= self.pool_limit {
            return None;
        }
        self.pool_out += 1;
        Some(self.pool.pop().unwrap_or_else(|| vec![0u8; BUF_SIZE]))
    }

    pub(crate) fn give_buffer(&mut self, buf: Vec<u8>) {
        self.pool_out = self.pool_out.saturating_sub(1);
        // Overflow buffers (odd sizes, or past the limit) are freed, so the pool
        // never holds more than `--disk-cache`.
        if buf.len() == BUF_SIZE && self.pool.len() + self.pool_out < self.pool_limit {
            self.pool.push(buf);
        }
    }

    /// Queues a disk job counted against download `i`.
    pub(crate) fn disk_job(&mut self, i: usize, job: DiskJob) {
        let d = &mut self.downloads[i];
        d.jobs_in_flight += 1;
        if matches!(job, DiskJob::Write { .. }) {
            d.writes_in_flight += 1;
        }
        self.disk.send(job);
    }

    /// Starts queued downloads and tops up connections of active ones.
    fn schedule(&mut self, now: Instant) {
        let active = self
            .downloads
            .iter()
            .filter(|d| d.state == DownloadState::Active)
            .count();
        let mut slots = self.global.max_concurrent_downloads.saturating_sub(active);
        for i in 0..self.downloads.len() {
            if slots > 0 && self.downloads[i].state == DownloadState::Waiting {
                let d = &mut self.downloads[i];
                d.state = DownloadState::Active;
                d.started = Some(now);
                slots -= 1;
            }
            if self.downloads[i].state == DownloadState::Active && !self.downloads[i].stopping {
                // Resumed pieces can leave nothing to fetch.
                self.maybe_finish(i, now);
                self.top_up(i, now);
            }
        }
    }

    /// Opens connections for download `i` up to what its options and plan allow.
    pub(crate) fn top_up(&mut self, i: usize, now: Instant) {
        loop {
            let d = &self.downloads[i];
            if d.verifying || d.is_finished() {
                return;
            }
            let wanted = match &d.layout {
                Layout::Unknown | Layout::Stream { .. } => 1,
                Layout::Planned(plan) => {
                    if plan.is_complete() {
                        return;
                    }
                    let per_source: usize = d
                        .sources
                        .iter()
                        .filter(|s| !s.failed)
                        .map(|s| {
                            if s.no_ranges {
                                0
                            } else {
                                d.opts.max_connection_per_server
                            }
                        })
                        .sum();
                    d.opts.split.min(per_source).max(1)
                }
            };
            if d.conns.len() >= wanted {
                return;
            }
            if matches!(d.layout, Layout::Stream { finished: true, .. }) {
                return;
            }
            // The usable mirror with the fewest connections.
            let limit = match d.layout {
                Layout::Planned(_) => d.opts.max_connection_per_server,
                _ => 1,
            };
            let pick = d
                .sources
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    !s.failed
                        && s.conns < if s.no_ranges { 0 } else { limit }
                        && s.retry_at.is_none_or(|t| t <= now)
                })
                .min_by_key(|(_, s)| s.conns)
                .map(|(j, _)| j);
            let Some(source) = pick else {
                self.check_exhausted(i, now);
                return;
            };
            if !self.open_conn(i, source, now) {
                return;
            }
        }
    }

    /// Fails download `i` when every mirror has failed and nothing is running.
    fn check_exhausted(&mut self, i: usize, now: Instant) {
        let d = &self.downloads[i];
        if d.conns.is_empty() && d.sources.iter().all(|s| s.failed) && d.writes_in_flight == 0 {
            let err = d
                .last_error
                .clone()
                .unwrap_or_else(|| Error::new(ErrorCode::Unknown, "no usable source"));
            self.fail_download(i, err, now);
        }
    }

    /// Opens a connection from download `i` to mirror `source`. Returns false when
    /// there is no work to give it.
    fn open_conn(&mut self, i: usize, source: usize, now: Instant) -> bool {
        let d = &mut self.downloads[i];
        let slot = d.take_slot();
        if let Layout::Planned(plan) = &mut d.layout
            && plan.claim(slot).is_none()
        {
            d.free_slots.push(slot);
            return false;
        }
        let url = d.sources[source].url.clone();
        d.sources[source].conns += 1;
        let max_redirect = d.opts.max_redirect;
        let connect_timeout = d.opts.connect_timeout;
        let key = self.free_keys.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let proxy = match url.scheme() {
            "ftp" => self.downloads[i].opts.ftp_proxy.clone(),
            _ => None,
        };
        let mut conn = Conn::new(key, i, source, slot, url, max_redirect, now);
        conn.proxy = proxy;
        conn.deadline = now + connect_timeout;
        self.conns[key] = Some(conn);
        self.downloads[i].conns.push(key);
        self.resolve(key, now);
        true
    }

    /// Removes connection `key` from the engine, flushing its buffered bytes.
    pub(crate) fn drop_conn(&mut self, key: usize) -> Option<Conn> {
        let mut conn = self.conns.get_mut(key)?.take()?;
        self.flush_buffer(&mut conn);
        if let Some(t) = conn.transport.as_mut() {
            let _ = self.poll.registry().deregister(t.socket());
        }
        self.close_ftp_data(&mut conn);
        if let Phase::Connecting(c) = &mut conn.phase {
            for (sock, _) in c.attempts.iter_mut().flatten() {
                let _ = self.poll.registry().deregister(sock);
            }
        }
        let d = &mut self.downloads[conn.dl];
        d.conns.retain(|&k| k != key);
        if let Some(s) = d.sources.get_mut(conn.source) {
            s.conns = s.conns.saturating_sub(1);
        }
        d.give_slot(conn.slot);
        self.free_keys.push(key);
        // A lookup this connection waits for must not wake the next user of its key.
        for v in self.dns.values_mut() {
            if let Dns::Pending(_, waiting) = v {
                waiting.retain(|&k| k != key);
            }
        }
        Some(conn)
    }

    /// A connection failed: count a try against its mirror and decide whether the
    /// mirror is finished.
    pub(crate) fn conn_failed(&mut self, key: usize, err: Error, now: Instant) {
        let Some(conn) = self.drop_conn(key) else {
            return;
        };
        let d = &mut self.downloads[conn.dl];
        let gid = d.gid;
        let retry_wait = d.opts.retry_wait;
        let max_tries = d.opts.max_tries;
        let s = &mut d.sources[conn.source];
        s.tries += 1;
        let fatal = matches!(
            err.code,
            ErrorCode::NotFound
                | ErrorCode::HttpAuth
                | ErrorCode::TooManyRedirects
                | ErrorCode::CannotResume
                | ErrorCode::BadOption
                | ErrorCode::FileExists
                | ErrorCode::Checksum
                | ErrorCode::CreateFile
                | ErrorCode::CreateDir
                | ErrorCode::FileIo
                | ErrorCode::DiskFull
                | ErrorCode::RenameFailed
        );
        let url = s.url.to_string();
        if fatal || (max_tries != 0 && s.tries >= max_tries) {
            s.failed = true;
        } else {
            let wait = conn
                .retry_after
                .map(Duration::from_secs)
                .unwrap_or(retry_wait);
            s.retry_at = Some(now + wait.min(Duration::from_secs(600)));
        }
        let failed = s.failed;
        d.last_error = Some(err.clone());
        self.observer_notes.push((
            gid,
            format!(
                "{url}: {}{}",
                err,
                if failed {
                    "; giving up on this URI"
                } else {
                    "; will retry"
                }
            ),
        ));
        if matches!(self.downloads[conn.dl].layout, Layout::Stream { .. }) && !failed {
            // A streamed body cannot be resumed mid-way: start it over.
            self.restart_stream(conn.dl);
        }
        self.check_exhausted(conn.dl, now);
    }

    fn restart_stream(&mut self, i: usize) {
        let d = &mut self.downloads[i];
        d.layout = Layout::Unknown;
    }

    /// Ends download `i` with `err`, closing its connections.
    pub(crate) fn fail_download(&mut self, i: usize, err: Error, now: Instant) {
        if self.downloads[i].is_finished() {
            return;
        }
        for key in self.downloads[i].conns.clone() {
            self.drop_conn(key);
        }
        let d = &mut self.downloads[i];
        d.state = DownloadState::Error(err);
        d.finished_at = Some(now);
        // Keep what is on disk resumable.
        self.save_control(i, true);
    }

    fn fail_everything(&mut self, err: Error) {
        let now = Instant::now();
        for i in 0..self.downloads.len() {
            self.fail_download(i, err.clone(), now);
        }
    }

    /// Completes download `i` once its bytes are all on disk (verifying if asked).
    pub(crate) fn maybe_finish(&mut self, i: usize, now: Instant) {
        let d = &mut self.downloads[i];
        if d.is_finished() || d.verifying || d.writes_in_flight > 0 {
            return;
        }
        let done = match &d.layout {
            Layout::Planned(p) => p.is_complete(),
            Layout::Stream {
                finished,
                received,
                written,
            } => *finished && written == received,
            Layout::Unknown => false,
        };
        if !done {
            return;
        }
        for key in d.conns.clone() {
            self.drop_conn(key);
        }
        let d = &mut self.downloads[i];
        if let (Layout::Stream { written, .. }, Some(file)) = (&d.layout, &d.file) {
            // Anything past the end (an earlier, longer attempt) goes; the
            // Truncated report carries on to verification.
            let job = DiskJob::Truncate {
                gid: d.gid,
                file: file.clone(),
                len: *written,
            };
            d.verifying = true;
            self.disk_job(i, job);
            return;
        }
        self.verify_or_complete(i, now);
    }

    fn verify_or_complete(&mut self, i: usize, now: Instant) {
        let d = &mut self.downloads[i];
        match (&d.opts.checksum, &d.path) {
            (Some(expect), Some(path)) if !d.opts.dry_run => {
                let job = DiskJob::Verify {
                    gid: d.gid,
                    path: path.clone(),
                    expect: expect.clone(),
                };
                d.verifying = true;
                self.disk_job(i, job);
            }
            _ => self.complete(i, now),
        }
    }

    fn complete(&mut self, i: usize, now: Instant) {
        let d = &mut self.downloads[i];
        d.state = DownloadState::Complete;
        d.finished_at = Some(now);
        d.file = None;
        if let Some(path) = &d.path {
            // Queued behind any save still in flight, so nothing recreates it after.
            let job = DiskJob::RemoveControl {
                gid: d.gid,
                path: control_path(path),
            };
            self.disk_job(i, job);
        }
    }

    /// Saves control files that changed, every `--auto-save-interval`.
    fn save_controls(&mut self, now: Instant, force: bool) {
        for i in 0..self.downloads.len() {
            let d = &self.downloads[i];
            let due = d.opts.auto_save_interval > Duration::ZERO
                && now - d.last_save >= d.opts.auto_save_interval;
            if d.control_dirty && (due || force) && d.state == DownloadState::Active {
                self.save_control(i, false);
                self.downloads[i].last_save = now;
            }
        }
    }

    /// Queues a save of download `i`'s control file (if it has a plan and a path).
    pub(crate) fn save_control(&mut self, i: usize, force: bool) {
        let d = &mut self.downloads[i];
        if !d.control_dirty && !force {
            return;
        }
        let (Layout::Planned(plan), Some(path)) = (&d.layout, &d.path) else {
            return;
        };
        if plan.is_complete() || d.opts.dry_run {
            return;
        }
        let record = ControlRecord {
            total_len: plan.total(),
            piece_len: plan.piece_len(),
            source: d
                .sources
                .first()
                .map(|s| s.url.to_string())
                .unwrap_or_default(),
            done: plan.done().clone(),
        };
        d.control_dirty = false;
        let job = DiskJob::SaveControl {
            gid: d.gid,
            path: control_path(path),
            record,
        };
        self.disk_job(i, job);
    }

    /// Stops everything resumably (interrupt or `--stop`).
    fn stop_all(&mut self, now: Instant) {
        for i in 0..self.downloads.len() {
            let d = &mut self.downloads[i];
            if d.is_finished() {
                continue;
            }
            d.stopping = true;
            for key in d.conns.clone() {
                self.drop_conn(key);
            }
            let d = &mut self.downloads[i];
            d.state = DownloadState::Stopped;
            d.finished_at = Some(now);
            self.save_control(i, true);
        }
    }

    /// The nearest time anything is due.
    fn next_deadline(&self, now: Instant) -> Instant {
        let mut next = now + Duration::from_secs(1);
        for conn in self.conns.iter().flatten() {
            next = next.min(conn.deadline);
            if let Phase::Connecting(c) = &conn.phase
                && !c.queue.is_empty()
            {
                next = next.min(c.next_at);
            }
        }
        for d in &self.downloads {
            for s in &d.sources {
                if let Some(t) = s.retry_at
                    && t > now
                {
                    next = next.min(t);
                }
            }
        }
        if self.has_paused() {
            next = next.min(now + Duration::from_millis(10));
        }
        next
    }

    fn check_deadlines(&mut self, now: Instant) {
        for key in 0..self.conns.len() {
            let Some(conn) = self.conns[key].as_ref() else {
                continue;
            };
            if let Phase::Connecting(c) = &conn.phase
                && !c.queue.is_empty()
                && now >= c.next_at
            {
                self.next_attempt(key, now);
                continue;
            }
            self.ftp_timeout(key, now);
            let Some(conn) = self.conns[key].as_ref() else {
                continue;
            };
            if now >= conn.deadline && self.ftp_aborting(key) {
                self.reconnect(key, now);
                continue;
            }
            if now >= conn.deadline {
                let what = match conn.phase {
                    Phase::Resolving => "name resolution timed out",
                    Phase::Connecting(_) => "connect timed out",
                    Phase::Idle => {
                        self.drop_conn(key);
                        continue;
                    }
                    _ => "timed out waiting for data",
                };
                self.conn_failed(key, Error::new(ErrorCode::Timeout, what), now);
                continue;
            }
            self.check_speed(key, now);
        }
    }

    /// `--lowest-speed-limit`: drop a connection that stays below it.
    fn check_speed(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns[key].as_ref() else {
            return;
        };
        let limit = self.downloads[conn.dl].opts.lowest_speed_limit;
        if limit == 0 {
            return;
        }
        let Some(since) = conn.body_since else { return };
        if now - since >= Duration::from_secs(3) && conn.meter.rate(now) <= limit {
            let rate = conn.meter.rate(now);
            self.conn_failed(
                key,
                Error::new(
                    ErrorCode::TooSlow,
                    format!("speed {rate} B/s is at or below --lowest-speed-limit"),
                ),
                now,
            );
        }
    }
}

/// A GID seed that differs between runs, like aria2's random GIDs.
fn seed_gid() -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (std::process::id() as u64).rotate_left(32)
}
