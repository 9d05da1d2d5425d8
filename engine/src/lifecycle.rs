//! A download's life on the loop: starting queued downloads, opening and dropping
//! connections, retries, failure, completion and the control file saves between.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::conn::{Conn, Phase};
use crate::control::{ControlState, control_path};
use crate::disk::DiskJob;
use crate::download::{Conditional, DownloadState, Layout};
use crate::engine::{Dns, DnsWaiter, Engine};
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;
use crate::handle::Event;
use crate::storage::Storage;
use crate::timers::Timer;
use crate::uri_selector::{self, Candidate};

impl Engine {
    /// Starts queued downloads and tops up connections of active ones.
    pub(crate) fn schedule(&mut self, now: Instant) {
        // Under --bt-detach-seed-only, torrents that only seed leave their slot free.
        let detach = self.global.bt_detach_seed_only;
        let running = self
            .downloads
            .active()
            .iter()
            .filter(|&&g| !(detach && self.downloads[g].is_seeding()))
            .count();
        let mut slots = self.concurrent_limit(now).saturating_sub(running);
        // Waiting downloads start in queue order; the walk ends once the slots are
        // filled, so a long queue costs nothing while every slot is busy.
        let mut at = 0;
        while slots > 0 && at < self.downloads.queued().len() {
            let gid = self.downloads.queued()[at];
            at += 1;
            if self.downloads[gid].state == DownloadState::Waiting {
                let d = &mut self.downloads[gid];
                d.started.get_or_insert(now);
                // The periodic save counts from the start, not from when the download
                // was queued: a list's later entries would otherwise save (and remove)
                // a control file for every small file.
                d.last_save = now;
                self.downloads.set_state(gid, DownloadState::Active);
                slots -= 1;
                self.emit(Event::Start(gid));
            }
        }
        for gid in self.downloads.active().to_vec() {
            // Resumed pieces can leave nothing to fetch.
            self.maybe_finish(gid, now);
            if self.downloads[gid].is_active() {
                self.top_up(gid, now);
            }
        }
    }

    /// How many downloads may run: `--max-concurrent-downloads`, or under
    /// `--optimize-concurrent-downloads` aria2's rule on the fastest overall speed seen.
    fn concurrent_limit(&mut self, now: Instant) -> usize {
        let max = self.global.max_concurrent_downloads;
        let Some((a, b)) = self.global.optimize_concurrent_downloads else {
            return max;
        };
        let speed: u64 = self
            .downloads
            .active()
            .iter()
            .map(|&g| self.downloads[g].meter.rate(now))
            .sum();
        self.peak_speed = self.peak_speed.max(speed);
        optimized_concurrency(a, b, self.peak_speed, max)
    }

    /// Opens connections for download `gid` up to what its options and plan allow.
    pub(crate) fn top_up(&mut self, gid: Gid, now: Instant) {
        let d = &self.downloads[gid];
        let web_seeds_wait = d.bt.as_ref().is_some_and(|s| {
            s.start != crate::bt::StartPhase::Ready || s.seeding != crate::bt::SeedPhase::Leeching
        });
        if web_seeds_wait || d.magnet.is_some() {
            // Peers are connected by `bt_tick`; a torrent's web seeds (its mirrors)
            // wait until it has resumed from what is on disk, and rest once it seeds.
            return;
        }
        if !self.conditional_ready(gid) {
            return;
        }
        loop {
            let d = &self.downloads[gid];
            if d.verifying || d.completing || d.restart_pending || d.is_finished() || d.check_only()
            {
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
                            } else if d.opts.reuse_uri {
                                d.opts.max_connection_per_server
                            } else {
                                1
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
            // Which usable mirror gets the connection is --uri-selector's choice.
            // Without --reuse-uri a mirror serves one connection (aria2 hands each URI
            // out once).
            let limit = match d.layout {
                Layout::Planned(_) if d.opts.reuse_uri => d.opts.max_connection_per_server,
                _ => 1,
            };
            let host_conns = |host: &str| {
                d.sources
                    .iter()
                    .filter(|s| s.url.host_str() == Some(host))
                    .map(|s| s.conns)
                    .sum()
            };
            let mut candidates: Vec<Candidate<'_>> = d
                .sources
                .iter()
                .enumerate()
                .filter(|(_, s)| {
                    !s.failed
                        && s.conns < if s.no_ranges { 0 } else { limit }
                        && s.retry_at.is_none_or(|t| t <= now)
                })
                .map(|(index, s)| {
                    let host = s.url.host_str().unwrap_or_default();
                    Candidate {
                        index,
                        host,
                        protocol: s.url.scheme(),
                        host_conns: host_conns(host),
                    }
                })
                .collect();
            // The order given: changeUri's positions first, then the order added.
            candidates.sort_by_key(|c| (d.sources[c.index].rank, c.index));
            let pick = uri_selector::pick(
                d.opts.uri_selector,
                &candidates,
                &self.server_stats,
                d.conns.is_empty(),
                crate::cookies::unix_now(),
            );
            let Some(source) = pick else {
                self.check_exhausted(gid, now);
                return;
            };
            if !self.open_conn(gid, source, now) {
                return;
            }
        }
    }

    /// Fails download `gid` when every mirror has failed and nothing is running.
    pub(crate) fn check_exhausted(&mut self, gid: Gid, now: Instant) {
        let d = &self.downloads[gid];
        if d.bt.is_some() || d.magnet.is_some() {
            // A swarm is never exhausted: trackers may name new peers (aria2 waits too).
            return;
        }
        if d.conns.is_empty() && d.sources.iter().all(|s| s.failed) && d.writes_in_flight == 0 {
            let err = d
                .last_error
                .clone()
                .unwrap_or_else(|| Error::new(ErrorCode::Unknown, "no usable source"));
            self.fail_download(gid, err, now);
        }
    }

    /// Opens a connection from download `gid` to mirror `source`. Returns false when
    /// there is no work to give it.
    pub(crate) fn open_conn(&mut self, gid: Gid, source: usize, now: Instant) -> bool {
        self.open_conn_for(gid, source, None, now)
    }

    /// [`Engine::open_conn`] whose run is exactly `range` when given (a piece to fetch
    /// again from another mirror than the one whose bytes failed).
    pub(crate) fn open_conn_for(
        &mut self,
        gid: Gid,
        source: usize,
        range: Option<std::ops::Range<u64>>,
        now: Instant,
    ) -> bool {
        let d = &mut self.downloads[gid];
        let slot = d.take_slot(source);
        if let Layout::Planned(plan) = &mut d.layout
            && match range {
                Some(range) => plan.claim_exact(slot, range).is_none(),
                None => plan.claim(slot).is_none(),
            }
        {
            d.sources[source].free_slots.push(slot);
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
        let mut conn = Conn::new(key, gid, source, slot, url, max_redirect, now);
        conn.deadline = now + connect_timeout;
        self.conns[key] = Some(conn);
        self.downloads[gid].conns.push(key);
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
        if let Some((since, bytes)) = conn.transfer
            && let Some(host) = conn.url.host_str()
        {
            // Shorter than this says more about slow start than about the server.
            let elapsed = self.clock.now().saturating_duration_since(since);
            if elapsed >= Duration::from_millis(100) {
                let speed = (bytes as f64 / elapsed.as_secs_f64()) as u64;
                let single = self.downloads[conn.dl].conns.len() == 1;
                self.server_stats.record_speed(
                    host,
                    conn.url.scheme(),
                    speed,
                    single,
                    crate::cookies::unix_now(),
                );
            }
        }
        let d = &mut self.downloads[conn.dl];
        d.conns.retain(|&k| k != key);
        if let Some(s) = d.sources.get_mut(conn.source) {
            s.conns = s.conns.saturating_sub(1);
        }
        d.give_slot(conn.slot);
        self.free_keys.push(key);
        self.paused.retain(|&k| k != key);
        // A lookup this connection waits for must not wake the next user of its key.
        for v in self.dns.values_mut() {
            if let Dns::Pending(_, waiting) = v {
                waiting.retain(|&w| w != DnsWaiter::Conn(key));
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
        if matches!(err.code, ErrorCode::Network | ErrorCode::Resolve)
            && conn.transfer.is_none()
            && let Some(host) = conn.url.host_str()
        {
            // Never reached, or dropped before a byte: the feedback selector
            // passes over it while another mirror can serve.
            self.server_stats
                .record_error(host, conn.url.scheme(), crate::cookies::unix_now());
        }
        let d = &mut self.downloads[conn.dl];
        let retry_wait = d.opts.retry_wait;
        let max_tries = d.opts.max_tries;
        // --max-file-not-found: with a count, "not found" is retried like any other
        // failure (a mirror that is still being filled), and the download fails once
        // that many answers said so before a single byte came.
        let max_not_found = d.opts.max_file_not_found;
        let not_found = err.code == ErrorCode::NotFound;
        if not_found {
            d.not_found += 1;
        }
        let not_found_limit =
            (max_not_found > 0 && d.not_found >= max_not_found && d.session_bytes == 0)
                .then_some(max_not_found);
        let s = &mut d.sources[conn.source];
        s.tries += 1;
        let fatal = conn.give_up
            || (not_found && max_not_found == 0)
            || matches!(
                err.code,
                ErrorCode::HttpAuth
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
            let at = now + wait.min(Duration::from_secs(600));
            s.retry_at = Some(at);
            // The loop must come back then to reopen a connection to this mirror.
            self.timers.push(at, Timer::Wake);
        }
        let failed = s.failed;
        d.last_error = Some(err.clone());
        self.notice(
            conn.dl,
            format!(
                "{url}: {}{}",
                err,
                if failed {
                    "; giving up on this URI"
                } else {
                    "; will retry"
                }
            ),
        );
        if matches!(self.downloads[conn.dl].layout, Layout::Stream { .. }) && !failed {
            // A streamed body cannot be resumed mid-way: start it over.
            self.restart_stream(conn.dl);
        }
        if let Some(count) = not_found_limit {
            let err = Error::new(
                ErrorCode::MaxFileNotFound,
                format!("reached max-file-not-found count={count}"),
            );
            self.fail_download(conn.dl, err, now);
            return;
        }
        self.check_exhausted(conn.dl, now);
    }

    pub(crate) fn restart_stream(&mut self, gid: Gid) {
        let d = &mut self.downloads[gid];
        d.layout = Layout::Unknown;
    }

    /// Ends download `gid` with `err`, closing its connections.
    pub(crate) fn fail_download(&mut self, gid: Gid, err: Error, now: Instant) {
        if self.downloads[gid].is_finished() {
            return;
        }
        for key in self.downloads[gid].conns.clone() {
            self.drop_conn(key);
        }
        self.downloads[gid].finished_at = Some(now);
        // Keep what is on disk resumable.
        self.save_control(gid, true);
        self.hasher.reset(gid);
        self.forget_digests(gid);
        self.downloads.set_state(gid, DownloadState::Error(err));
    }

    pub(crate) fn fail_everything(&mut self, err: Error) {
        let now = self.clock.now();
        for gid in self.downloads.queued().to_vec() {
            self.fail_download(gid, err.clone(), now);
        }
    }

    /// Completes download `gid` once its bytes are all on disk (verifying if asked).
    pub(crate) fn maybe_finish(&mut self, gid: Gid, now: Instant) {
        let d = &mut self.downloads[gid];
        if d.is_finished() || d.verifying || d.completing || d.writes_in_flight > 0 {
            return;
        }
        if d.bt
            .as_ref()
            .is_some_and(|s| s.seeding != crate::bt::SeedPhase::Leeching)
        {
            // Seeding (ended by `check_seeding`), or already completing.
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
        let d = &mut self.downloads[gid];
        if let (Layout::Stream { written, .. }, Some(file)) = (&d.layout, &d.file) {
            // Anything past the end (an earlier, longer attempt) goes; the
            // Truncated report carries on to verification.
            let job = DiskJob::Truncate {
                gid: d.gid,
                file: file.clone(),
                len: *written,
            };
            d.verifying = true;
            self.disk_job(gid, job);
            return;
        }
        self.verify_or_complete(gid, now);
    }

    pub(crate) fn complete(&mut self, gid: Gid, now: Instant) {
        if self.keep_seeding(gid, now) {
            return;
        }
        let d = &mut self.downloads[gid];
        d.finished_at = Some(now);
        d.file = None;
        if !d.opts.force_save
            && let Some(path) = d.path.as_ref().filter(|_| d.control_exists)
        {
            // The control file goes first: whoever sees the download complete finds
            // none (`DiskDone::Removed` calls `completed`). Queued behind any save
            // still in flight, so nothing recreates it after.
            let job = DiskJob::RemoveControl {
                gid: d.gid,
                path: control_path(path),
            };
            d.control_exists = false;
            d.completing = true;
            self.disk_job(gid, job);
            return;
        }
        self.completed(gid);
    }

    /// Marks download `gid` complete, its control file gone (or kept by --force-save).
    pub(crate) fn completed(&mut self, gid: Gid) {
        self.downloads.set_state(gid, DownloadState::Complete);
        if self.downloads[gid].opts.force_save {
            // --force-save keeps the control file, written once more as complete.
            self.save_control(gid, true);
        }
        self.drop_torrent_leftovers(gid);
        let d = &self.downloads[gid];
        if d.opts.remote_time
            && !d.opts.dry_run
            && let (Some(path), Some(time)) = (&d.path, d.validators.modified())
        {
            let job = DiskJob::SetModified {
                gid,
                path: path.clone(),
                time,
            };
            self.disk_job(gid, job);
        }
    }

    /// A completed torrent's files that are not part of the result: its part file, and
    /// with `--bt-remove-unselected-file` the files `--select-file` left out.
    fn drop_torrent_leftovers(&mut self, gid: Gid) {
        let d = &self.downloads[gid];
        let (Some(storage), Some(_)) = (d.storage.clone(), &d.bt) else {
            return;
        };
        let mut paths: Vec<PathBuf> = storage
            .part_file()
            .map(Path::to_path_buf)
            .into_iter()
            .collect();
        if d.opts.bt_remove_unselected_file {
            paths.extend(
                storage
                    .files()
                    .iter()
                    .filter(|f| !f.wanted && !f.padding)
                    .map(|f| f.path.clone()),
            );
        }
        if paths.is_empty() {
            return;
        }
        self.disk.send(DiskJob::CloseFiles {
            storage: storage.clone(),
        });
        for path in paths {
            self.disk_job(gid, DiskJob::RemoveFile { gid, path });
        }
    }

    /// Saves control files that changed, every `--auto-save-interval`.
    pub(crate) fn save_controls(&mut self, now: Instant, force: bool) {
        // Only active downloads gain progress to save.
        for gid in self.downloads.active().to_vec() {
            let d = &self.downloads[gid];
            let due = d.opts.auto_save_interval > Duration::ZERO
                && now - d.last_save >= d.opts.auto_save_interval;
            if d.control_dirty && (due || force) && d.state == DownloadState::Active {
                self.save_control(gid, false);
                self.downloads[gid].last_save = now;
            }
        }
    }

    /// Queues a save of download `gid`'s control file (if it has a plan and a path).
    pub(crate) fn save_control(&mut self, gid: Gid, force: bool) {
        let d = &mut self.downloads[gid];
        if !d.control_dirty && !force {
            return;
        }
        let (Layout::Planned(plan), Some(path)) = (&d.layout, &d.path) else {
            return;
        };
        // A complete plan is written only when --force-save keeps its control file;
        // a seeding torrent keeps a record of its complete pieces, so a restart seeds
        // again without hashing (the record goes when the download completes).
        let seeding =
            d.bt.as_ref()
                .is_some_and(|s| s.seeding != crate::bt::SeedPhase::Leeching);
        if (plan.is_complete() && !seeding && !(force && d.opts.force_save)) || d.opts.dry_run {
            return;
        }
        let source = d
            .sources
            .first()
            .map(|s| s.url.to_string())
            .unwrap_or_default();
        let state = match (&d.storage, &d.bt) {
            (Some(storage), Some(swarm)) => {
                ControlState::new(storage, &d.opts.dir, source).map(|s| ControlState {
                    info_hash: Some(swarm.torrent.info_hash()),
                    ..s
                })
            }
            _ => Storage::single(path.clone(), plan.total(), plan.piece_len())
                .ok()
                .and_then(|storage| ControlState::new(&storage, &d.opts.dir, source)),
        };
        let Some(mut state) = state else {
            // The path cannot be recorded relative to --dir (not UTF-8): no resume.
            return;
        };
        state.verified = plan.done().clone();
        state.validators = d.validators.clone();
        // Bytes written but not (yet) part of a counted piece: a resume hashes them
        // when the download has chunk checksums, and keeps them otherwise.
        state.partial = plan.unverified_written().iter().collect();
        d.control_dirty = false;
        d.control_exists = true;
        let job = DiskJob::SaveState {
            gid: d.gid,
            path: control_path(path),
            state,
        };
        self.disk_job(gid, job);
    }

    /// Stops download `gid`'s connections and saves its control file, leaving its
    /// state to the caller (pause, remove, halt, a restart after an option change).
    pub(crate) fn stop_transfers(&mut self, gid: Gid) {
        for key in self.downloads[gid].conns.clone() {
            self.drop_conn(key);
        }
        self.save_control(gid, true);
        // What is on disk may change before the download goes on.
        self.hasher.reset(gid);
        self.forget_digests(gid);
    }

    /// `--conditional-get`: whether the first request may go out. The existing file's
    /// time is read on the disk thread first (a stat can block), then `top_up` runs
    /// again.
    fn conditional_ready(&mut self, gid: Gid) -> bool {
        let d = &mut self.downloads[gid];
        if !d.opts.conditional_get || !matches!(d.layout, Layout::Unknown) {
            return true;
        }
        match d.conditional {
            Conditional::Known(_) => true,
            Conditional::Asked => false,
            Conditional::Unasked => {
                let url = d.sources.first().map(|s| &s.url);
                let Some(path) = url.and_then(|u| crate::http::conditional_path(&d.opts, u)) else {
                    d.conditional = Conditional::Known(None);
                    return true;
                };
                d.conditional = Conditional::Asked;
                self.disk_job(gid, DiskJob::LastModified { gid, path });
                false
            }
        }
    }

    /// Stops everything resumably (interrupt or `--stop`): downloads keep their state
    /// (a later `-c` resumes them), nothing new starts, and subscribers hear `Halted`.
    pub(crate) fn halt(&mut self, _now: Instant) {
        self.halted = true;
        for gid in self.downloads.queued().to_vec() {
            self.stop_transfers(gid);
        }
        self.emit(Event::Halted);
    }

    /// When the loop must wake next: the earliest timer, and at least once a second
    /// for the housekeeping every turn does (control-file saves, `--stop`).
    pub(crate) fn next_deadline(&self, now: Instant) -> Instant {
        let housekeeping = now + Duration::from_secs(1);
        let chunks = self.chunks_deadline().unwrap_or(housekeeping);
        self.timers
            .next()
            .map_or(housekeeping, |t| t.min(housekeeping))
            .min(chunks)
    }

    /// Fires every timer that is due.
    pub(crate) fn fire_timers(&mut self, now: Instant) {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Conn(key) => {
                    let Some(conn) = self.conns.get_mut(key).and_then(Option::as_mut) else {
                        continue;
                    };
                    conn.armed = None;
                    self.conn_timers(key, now);
                    self.arm(key, now);
                }
                Timer::Resume(key) => self.resume_paused(Some(key), now),
                Timer::Dht => self.dht_timeout(now),
                Timer::Wake => {}
            }
        }
    }

    /// Puts connection `key`'s next wake-up in the timer heap, unless an entry at or
    /// before it is there already.
    pub(crate) fn arm(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns.get(key).and_then(Option::as_ref) else {
            return;
        };
        if conn.waits_for_output() {
            // Waiting on our own disk thread, not on the server: no deadline runs
            // (output_prepared starts a fresh one).
            return;
        }
        let mut wake = conn.deadline;
        if let Phase::Connecting(c) = &conn.phase
            && !c.queue.is_empty()
        {
            wake = wake.min(c.next_at);
        }
        if let Phase::Ftp(f) = &conn.phase
            && let Some(t) = f.session.poll_timeout()
        {
            wake = wake.min(t);
        }
        if self.downloads[conn.dl].opts.lowest_speed_limit > 0
            && let Some(since) = conn.body_since
        {
            // First after three seconds of body, then once a second.
            wake = wake.min((since + Duration::from_secs(3)).max(now + Duration::from_secs(1)));
        }
        if conn.armed.is_some_and(|a| a <= wake) {
            return;
        }
        if let Some(conn) = self.conns[key].as_mut() {
            conn.armed = Some(wake);
        }
        self.timers.push(wake, Timer::Conn(key));
    }

    /// Connection `key`'s deadlines at `now`.
    fn conn_timers(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns[key].as_ref() else {
            return;
        };
        if conn.waits_for_output() {
            return;
        }
        if let Phase::Connecting(c) = &conn.phase
            && !c.queue.is_empty()
            && now >= c.next_at
        {
            self.next_attempt(key, now);
            return;
        }
        self.ftp_timeout(key, now);
        let Some(conn) = self.conns[key].as_ref() else {
            return;
        };
        if now >= conn.deadline && self.ftp_aborting(key) {
            self.reconnect(key, now);
            return;
        }
        if now >= conn.deadline {
            let what = match conn.phase {
                Phase::Resolving => "name resolution timed out",
                Phase::Connecting(_) => "connect timed out",
                Phase::Idle => {
                    self.drop_conn(key);
                    return;
                }
                _ => "timed out waiting for data",
            };
            self.conn_failed(key, Error::new(ErrorCode::Timeout, what), now);
            return;
        }
        self.check_speed(key, now);
    }

    /// `--lowest-speed-limit`: drop a connection that stays below it.
    pub(crate) fn check_speed(&mut self, key: usize, now: Instant) {
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

/// aria2's `--optimize-concurrent-downloads` rule: `A + B·log10(speed in Mbit/s)`
/// downloads, at least one and at most `max`. Before any speed is seen it is `A`
/// (aria2 starts with `max` and corrects later, which starts a burst of downloads the
/// rule then wants fewer of).
pub(crate) fn optimized_concurrency(a: f64, b: f64, peak_bytes_per_sec: u64, max: usize) -> usize {
    let n = if peak_bytes_per_sec == 0 {
        a
    } else {
        let mbps = peak_bytes_per_sec as f64 * 8.0 / 1_000_000.0;
        a + b * mbps.log10()
    };
    if n.is_nan() || n < 1.0 {
        1
    } else {
        (n as usize).min(max).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::optimized_concurrency;

    #[test]
    fn the_rule_follows_aria2s_figures() {
        // aria2's manual: A=5, B=25 gives about 5 at 1 Mbit/s and over 50 at 100.
        assert_eq!(optimized_concurrency(5.0, 25.0, 125_000, 100), 5);
        assert_eq!(optimized_concurrency(5.0, 25.0, 12_500_000, 100), 55);
        assert_eq!(optimized_concurrency(5.0, 25.0, 12_500_000, 16), 16);
        // Slower than 1 Mbit/s: fewer than A, never none.
        assert_eq!(optimized_concurrency(5.0, 25.0, 1_250, 100), 1);
        assert_eq!(optimized_concurrency(2.0, 0.0, 0, 100), 2);
        assert_eq!(optimized_concurrency(0.0, 0.0, 0, 100), 1);
    }
}
