//! Keeping a download to one version of the remote file.
//!
//! Invariant: every byte the plan counts as written belongs to the version named by
//! [`Download::validators`] (and the plan's total length). Every response head is
//! checked against it before its body is used:
//!
//! - the mirror that defines the version (`validator_source`, the first mirror on a
//!   resume) answering with another strong ETag, Last-Modified or total length, or
//!   answering 200 to an `If-Range` whose validator it no longer carries, means the
//!   file changed: everything on disk is discarded and the download starts again from
//!   the new version ([`Engine::restart_changed`]);
//! - another mirror whose strong ETag or length differs has another file: it is dropped
//!   for this download, unless piece hashes or a whole-file digest check the bytes
//!   anyway (then what it sends is verified, not trusted);
//! - a mirror whose own answers change during the run is treated the same way.
//!
//! A restart closes every connection first; their buffered bytes go to the disk worker
//! behind the writes already queued, and the answers to all of those are counted off
//! ([`Download::stale_writes`]), like the answers of piece hashes still running
//! (`Download::stale_hashes`), before the file is truncated and a new probe starts, so
//! no byte of the old version is ever counted in the new plan.

use std::time::Instant;

use crate::conn::Conn;
use crate::control::control_path;
use crate::disk::DiskJob;
use crate::download::{Download, Layout};
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;
use crate::http::Next;
use crate::validators::Validators;

/// A file that changes this often during one download (a resource whose tag changes
/// on every answer) is never going to be one version: the download fails instead.
pub(crate) const MAX_VERSION_RESTARTS: u32 = 5;

/// Why a download starts again from byte 0.
pub(crate) enum Restart<'a> {
    /// The remote file changed; what differs.
    Changed(&'a str),
    /// `--always-resume=false` and mirrors that cannot resume; the last one's URL.
    CannotResume(&'a str),
}

/// What a response head says about the version it serves.
pub(crate) struct Seen {
    /// Its validators.
    pub validators: Validators,
    /// The total length of the file, when the head gives it.
    pub length: Option<u64>,
    /// A 200 answered a request that carried `If-Range`.
    pub whole_for_if_range: bool,
}

impl Download {
    /// The `If-Range` value for a request to mirror `source`: the validator its own
    /// answers gave, else (for the mirror that defines the version) the recorded one.
    pub(crate) fn if_range_for(&self, source: usize) -> Option<&str> {
        let own = &self.sources[source].validators;
        if !own.is_empty() {
            return own.if_range();
        }
        (self.validator_source.unwrap_or(0) == source)
            .then(|| self.validators.if_range())
            .flatten()
    }

    /// Whether the bytes are checked by hashes whatever mirror sent them.
    fn bytes_are_verified(&self) -> bool {
        self.expect.pieces.is_some() || self.whole_file_digest().is_some()
    }
}

impl Engine {
    /// Checks a response head of `conn` against the download's version. `Ok(None)`:
    /// go on with the answer; `Ok(Some(next))`: the answer is not used (the mirror was
    /// dropped, or the download restarts from a new version).
    pub(crate) fn check_version(
        &mut self,
        conn: &mut Conn,
        seen: Seen,
    ) -> Result<Option<Next>, Error> {
        let gid = conn.dl;
        let d = &mut self.downloads[gid];
        // Without a recorded version, the first mirror to answer defines it.
        let origin = match d.validator_source {
            Some(s) => s == conn.source,
            None => conn.source == 0 || d.validators.is_empty(),
        };
        let known_len = d.plan().map(|p| p.total()).or(d.resume_total);
        let own = &d.sources[conn.source].validators;
        let sent = conn.if_range.as_deref();
        let still_carries = sent.is_some_and(|v| seen.validators.carries(v));
        let length_differs = match (known_len, seen.length) {
            (Some(before), Some(now)) if before != now => {
                Some(format!("length {now} now, {before} before"))
            }
            _ => None,
        };
        let against_version = if origin {
            d.validators.differs(&seen.validators)
        } else {
            // Mirrors' dates differ with their upload times; only the entity tag and
            // the length say the bytes differ.
            let etags = Validators {
                etag: d.validators.etag.clone(),
                ..Validators::default()
            };
            etags.differs(&seen.validators)
        };
        let why = (seen.whole_for_if_range && !still_carries)
            .then(|| "the server sent the whole file in answer to If-Range".to_string())
            .or_else(|| own.differs(&seen.validators))
            .or(against_version)
            .or(length_differs);
        let Some(why) = why else {
            d.sources[conn.source].validators.learn(&seen.validators);
            if origin {
                let before = d.validators.clone();
                d.validators.learn(&seen.validators);
                d.validator_source.get_or_insert(conn.source);
                if d.validators != before {
                    d.control_dirty = true;
                }
            }
            return Ok(None);
        };
        if !origin {
            if d.bytes_are_verified() {
                // The hashes decide what counts; the answer is used as it is.
                return Ok(None);
            }
            if std::mem::replace(&mut d.sources[conn.source].failed, true) {
                // Its other connections were answered too; one notice says it.
                return Ok(Some(Next::Close));
            }
            let url = conn.url.to_string();
            self.notice(
                gid,
                format!(
                    "{url} has another version of the file ({why}); not using it for this download"
                ),
            );
            self.check_exhausted(gid, self.clock.now());
            return Ok(Some(Next::Close));
        }
        self.flush_buffer(conn);
        let d = &mut self.downloads[gid];
        d.version_restarts += 1;
        if d.version_restarts > MAX_VERSION_RESTARTS {
            let err = Error::new(
                ErrorCode::CannotResume,
                format!(
                    "the remote file changed {} times during the download ({why})",
                    d.version_restarts
                ),
            );
            self.fail_download(gid, err, self.clock.now());
            return Ok(Some(Next::Close));
        }
        self.restart_changed(gid, conn.source, seen.validators, Restart::Changed(&why));
        Ok(Some(Next::Close))
    }

    /// Mirror `conn.source` cannot continue the download (HTTP: the whole file for a
    /// range; FTP: `REST` refused); `validators` are what its answer said. aria2's rules
    /// for a download resumed from disk: with `--always-resume` (the default) that is
    /// exit 8; without it the mirror is left out, and once `--max-resume-failure-tries`
    /// mirrors (0: every mirror) could not resume, the download starts again from byte
    /// 0 — at most [`MAX_VERSION_RESTARTS`] times, like a changing file. A download
    /// that did not start from disk keeps the error: its other connections carry on.
    pub(crate) fn cannot_resume(
        &mut self,
        conn: &mut Conn,
        validators: Validators,
    ) -> Result<Option<Next>, Error> {
        let gid = conn.dl;
        let d = &mut self.downloads[gid];
        if d.opts.always_resume || !d.resumed || d.version_restarts >= MAX_VERSION_RESTARTS {
            let why = if d.opts.always_resume {
                " (--always-resume)"
            } else {
                ""
            };
            return Err(Error::new(
                ErrorCode::CannotResume,
                format!(
                    "{}: the server does not support resuming this download{why}",
                    conn.url
                ),
            ));
        }
        d.sources[conn.source].no_ranges = true;
        let refused = d.sources.iter().filter(|s| s.no_ranges).count();
        let usable = d
            .sources
            .iter()
            .filter(|s| !s.failed && !s.no_ranges)
            .count();
        let limit = d.opts.max_resume_failure_tries as usize;
        let url = conn.url.to_string();
        if usable > 0 && (limit == 0 || refused < limit) {
            self.notice(
                gid,
                format!("{url} cannot resume this download; using the other mirrors"),
            );
            return Ok(Some(Next::Close));
        }
        self.flush_buffer(conn);
        self.downloads[gid].version_restarts += 1;
        self.restart_changed(gid, conn.source, validators, Restart::CannotResume(&url));
        Ok(Some(Next::Close))
    }

    /// Download `gid` starts again from byte 0 (`why`: the remote file changed, or
    /// mirrors cannot resume): closes its connections, forgets every piece and the
    /// control file, and starts again from the version `validators` (given by mirror
    /// `source`) once the old version's writes landed.
    pub(crate) fn restart_changed(
        &mut self,
        gid: Gid,
        source: usize,
        validators: Validators,
        why: Restart<'_>,
    ) {
        for key in self.downloads[gid].conns.clone() {
            self.drop_conn(key);
        }
        self.drop_chunks(gid);
        let d = &mut self.downloads[gid];
        let had_bytes = d.plan().is_some_and(|p| p.written_bytes() > 0)
            || d.resume.is_some()
            || d.sequential_len > 0
            || d.writes_in_flight > 0;
        d.stale_writes = d.writes_in_flight;
        // Piece hashes of the old version still on the hasher threads: their answers
        // must not reach the new plan, so the restart waits for them too.
        d.stale_hashes = d.pieces_hashing;
        d.restart_pending = true;
        d.layout = Layout::Unknown;
        d.resume = None;
        d.resume_total = None;
        d.sequential_len = 0;
        d.hashes = None;
        d.control_dirty = false;
        for s in &mut d.sources {
            s.validators = Validators::default();
            s.no_ranges = false;
        }
        d.sources[source].validators = validators.clone();
        d.validators = validators;
        d.validator_source = Some(source);
        d.resumed = false;
        if d.control_exists
            && let Some(path) = &d.path
        {
            // Queued behind any save of the old version still in flight.
            let job = DiskJob::RemoveControl {
                gid: d.gid,
                path: control_path(path),
            };
            d.control_exists = false;
            self.disk_job(gid, job);
        }
        let discarded = match (had_bytes, &why) {
            (true, Restart::Changed(_)) => {
                "discarding what is on disk and downloading the new version"
            }
            (false, Restart::Changed(_)) => "downloading the new version",
            (true, Restart::CannotResume(_)) => {
                "discarding what is on disk and downloading from the start"
            }
            (false, Restart::CannotResume(_)) => "downloading from the start",
        };
        let notice = match why {
            Restart::Changed(why) => format!("the remote file changed ({why}); {discarded}"),
            Restart::CannotResume(url) => {
                format!("{url} cannot resume this download (--always-resume=false); {discarded}")
            }
        };
        self.notice(gid, notice);
        let d = &self.downloads[gid];
        if d.stale_writes == 0 && d.stale_hashes == 0 {
            self.finish_restart(gid, self.clock.now());
        }
    }

    /// The last write of a discarded version landed: empties the file and lets the
    /// scheduler open a new probe.
    pub(crate) fn finish_restart(&mut self, gid: Gid, now: Instant) {
        let d = &mut self.downloads[gid];
        d.restart_pending = false;
        if let Some(file) = &d.file
            && let Err(e) = file.set_len(0)
        {
            self.fail_download(gid, Error::file(&e, "cannot truncate"), now);
            return;
        }
        self.top_up(gid, now);
    }
}
