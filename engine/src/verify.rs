//! Checking downloaded bytes against what they must be, on the hasher threads:
//! chunk checksums (Metalink `<pieces>`) as each piece is written — a piece counts only
//! once it verifies, a failed one is fetched again and the mirror that sent it is
//! charged (two bad pieces and it is dropped) — and whole-file digests (`--checksum`,
//! Metalink `<hash>`, magnet hash URNs, `Digest:` headers) when the file is complete.

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use crate::digest::{Digest, PieceHashes, strongest};
use crate::download::{Download, Layout};
use crate::engine::{Engine, pool_units};
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;
use crate::hasher::{HashDone, HashJob};
use crate::storage::Storage;

/// Bad pieces after which a mirror is dropped for the download.
const BAD_PIECES_LIMIT: u32 = 2;

/// Pool units of written buffers the hashers may hold beyond `--disk-cache` (2 MiB).
/// Past it, a lent buffer counts against `--disk-cache` until it comes back,
/// so readers wait for the hashers rather than have pieces read back (which costs more
/// CPU than the waiting saves).
pub(crate) const MAX_LENT: usize = 8;

/// Pool units of written buffers lent to the hashers (fed pieces): of those out, the
/// first [`MAX_LENT`] do not count against `--disk-cache`, the rest do. Which buffer
/// holds which units does not matter, only how many are out.
#[derive(Debug, Default)]
pub(crate) struct Lent {
    units: usize,
}

impl Lent {
    /// Lends `units`; the units that stop counting against `--disk-cache` now.
    pub(crate) fn lend(&mut self, units: usize) -> usize {
        let free_before = self.units.min(MAX_LENT);
        self.units += units;
        self.units.min(MAX_LENT) - free_before
    }

    /// Takes `units` back; the units that counted against `--disk-cache` until now.
    pub(crate) fn back(&mut self, units: usize) -> usize {
        let counted = |out: usize| out - out.min(MAX_LENT);
        let before = counted(self.units);
        self.units -= units;
        before - counted(self.units)
    }
}

impl Download {
    /// The piece hashes its bytes are checked against, and the byte space they are laid
    /// over (its whole plan), when it has both and the pieces have a length.
    pub(crate) fn hashed_region(&self) -> Option<(&Arc<PieceHashes>, Range<u64>)> {
        match (&self.hashes, &self.layout) {
            (Some(hashes), Layout::Planned(plan)) if hashes.length > 0 => {
                Some((hashes, 0..plan.total()))
            }
            _ => None,
        }
    }

    /// `--hash-check-only` with `-V`: check what is on disk, fetch nothing.
    pub(crate) fn check_only(&self) -> bool {
        self.integrity_check && self.opts.hash_check_only
    }

    /// The chunk checksums to verify pieces with, for a file of `total` bytes: none
    /// with `--realtime-chunk-checksum=false`, or when they do not cover the file
    /// exactly (then only the whole-file digest, if any, is checked).
    pub(crate) fn piece_hashes(&self, total: u64) -> Option<Arc<PieceHashes>> {
        let hashes = self.expect.pieces.as_ref()?;
        let usable = self.opts.realtime_chunk_checksum
            && hashes.fits(total)
            && hashes.digests.iter().all(|d| d.len() == hashes.kind.len());
        usable.then(|| Arc::new(hashes.clone()))
    }

    /// The digest the finished file must match: `--checksum` when given, else the
    /// strongest digest the spec or the servers named.
    pub(crate) fn whole_file_digest(&self) -> Option<Digest> {
        self.opts
            .checksum
            .clone()
            .or_else(|| strongest(&self.expect.hashes).cloned())
    }

    /// The digest to check the finished file against, if a whole-file pass is worth
    /// its read of every byte: not when chunk checksums verified every piece, unless
    /// the user gave `--checksum`. A mirror that wants a wrong piece accepted needs a
    /// second preimage of the chunk's hash, which no hash a Metalink names (MD5 and
    /// SHA-1 included) has; a document that names both comes from one author, so its
    /// whole-file hash adds no authority its chunks lack. aria2 skips the pass too
    /// (`DownloadContext::isChecksumVerificationNeeded` is false once piece hashes are
    /// in use); the pass would be a second full read and hash of the file.
    pub(crate) fn final_check(&self) -> Option<Digest> {
        if self.hashes.is_some() && self.opts.checksum.is_none() {
            return None;
        }
        self.whole_file_digest()
    }
}

impl Engine {
    /// Decides the pieces whose bytes are all written: at once for those the loop
    /// hashed whole from the chunks of peers' blocks (`bt/digests.rs`), on the hasher
    /// threads for the others.
    pub(crate) fn hash_ready_pieces(&mut self, gid: Gid) {
        let d = &mut self.downloads[gid];
        let (Some(hashes), Some(path), Layout::Planned(plan)) =
            (d.hashes.clone(), d.path.clone(), &mut d.layout)
        else {
            return;
        };
        let ready = plan.take_ready_to_hash();
        if ready.is_empty() {
            return;
        }
        let total = plan.total();
        let storage = match &d.storage {
            Some(s) => s.clone(),
            None => match Storage::single(path, total, hashes.length) {
                Ok(s) => d.storage.insert(Arc::new(s)).clone(),
                Err(e) => {
                    let err = Error::new(ErrorCode::FileIo, format!("cannot verify: {e}"));
                    return self.fail_download(gid, err, self.clock.now());
                }
            },
        };
        // Pieces peers filled were hashed on the loop; the rest are read back (or
        // hashed from the buffers fed as they were written).
        let (mut decided, mut unread) = (Vec::new(), Vec::new());
        for piece in ready {
            match self.digests.take((gid, piece as u64)) {
                Some(matched) => decided.push((piece, matched)),
                None => unread.push(piece),
            }
        }
        self.downloads[gid].pieces_hashing += unread.len();
        for piece in unread {
            self.hash_job(HashJob::Piece {
                gid,
                storage: storage.clone(),
                hashes: hashes.clone(),
                region: 0..total,
                piece: piece as u64,
            });
        }
        let now = self.clock.now();
        for (piece, matched) in decided {
            if self.downloads[gid].is_finished() {
                return;
            }
            self.piece_checked(gid, piece, Ok(matched), now);
        }
    }

    /// Lends a buffer the disk worker wrote at `offset` to the hashers of the pieces
    /// it falls in, so they hash it from memory instead of reading it back; gives it
    /// back to the pool when the download's pieces are not hashed. Of the buffers
    /// lent, at most [`MAX_LENT`] are released from `--disk-cache` while out.
    pub(crate) fn feed_hashers(&mut self, gid: Gid, offset: u64, buf: Vec<u8>, len: usize) {
        let Some((hashes, region)) = self.downloads[gid].hashed_region() else {
            return self.give_buffer(buf);
        };
        if len == 0 {
            return self.give_buffer(buf);
        }
        let hashes = hashes.clone();
        let units = pool_units(buf.len());
        let jobs = self.hasher.feed(gid, &hashes, region, offset, buf, len);
        let freed = self.lent.lend(units);
        self.release_buffer(freed);
        self.downloads[gid].jobs_in_flight += jobs;
    }

    /// A lent buffer is back: its units that still counted against `--disk-cache`
    /// are released now.
    fn lent_buffer_back(&mut self, buf: Vec<u8>) {
        let freed = self.lent.back(pool_units(buf.len()));
        self.release_buffer(freed);
        self.recycle_buffer(buf);
    }

    /// A piece's checksum answer.
    fn piece_checked(
        &mut self,
        gid: Gid,
        piece: usize,
        result: std::io::Result<bool>,
        now: Instant,
    ) {
        let d = &mut self.downloads[gid];
        let Layout::Planned(plan) = &mut d.layout else {
            return;
        };
        match result {
            Ok(true) => {
                if plan.verified(piece) {
                    d.control_dirty = true;
                    if d.bt.is_some() {
                        self.announce_have(gid, piece);
                    }
                }
                self.maybe_finish(gid, now);
            }
            Ok(false) => {
                let slots = plan.hash_failed(piece);
                // A torrent's peers are charged by the swarm; its web seeds (mirrors)
                // below, as any mirror. A piece that peers helped fill charges no web
                // seed (which of its senders lied is unknown).
                let peers_sent = slots.iter().any(|s| !d.slot_sources.contains_key(s));
                if d.bt.is_some() && (peers_sent || slots.is_empty()) {
                    d.control_dirty = true;
                    return self.charge_peers(gid, piece, &slots, now);
                }
                let mut senders: Vec<usize> = slots
                    .iter()
                    .filter_map(|s| d.slot_sources.get(s).copied())
                    .collect();
                senders.sort_unstable();
                senders.dedup();
                d.control_dirty = true;
                // Only a mirror that sent the whole piece is known to have sent a wrong
                // byte: a piece split between two mirrors (a stolen run) does not say
                // which, and charging both would drop an honest mirror beside a bad
                // one. The piece is fetched again from a mirror that sent none of it
                // when there is one, whole, so a bad mirror ends up alone with a piece.
                let charged = if senders.len() == 1 {
                    senders.clone()
                } else {
                    if senders.len() > 1 {
                        let urls: Vec<String> = senders
                            .iter()
                            .map(|&i| d.sources[i].url.to_string())
                            .collect();
                        self.notice(
                            gid,
                            format!(
                                "piece {piece} failed its checksum; its bytes came from {}; fetching it again",
                                urls.join(" and ")
                            ),
                        );
                    }
                    Vec::new()
                };
                let charged_sources = senders;
                for source in charged {
                    let d = &mut self.downloads[gid];
                    let s = &mut d.sources[source];
                    s.bad_pieces += 1;
                    let url = s.url.to_string();
                    let dropped = s.bad_pieces >= BAD_PIECES_LIMIT;
                    if dropped {
                        s.failed = true;
                        d.last_error = Some(Error::new(
                            ErrorCode::Checksum,
                            format!("{url}: {BAD_PIECES_LIMIT} pieces failed their checksum"),
                        ));
                    }
                    self.notice(
                        gid,
                        format!(
                            "{url}: piece {piece} failed its checksum; fetching it again{}",
                            if dropped {
                                "; giving up on this URI"
                            } else {
                                ""
                            }
                        ),
                    );
                    if dropped {
                        self.drop_source_conns(gid, source);
                    }
                }
                self.refetch_elsewhere(gid, piece, &charged_sources, now);
                self.top_up(gid, now);
                self.check_exhausted(gid, now);
            }
            Err(e) => self.fail_download(
                gid,
                Error::file(&e, "cannot read a piece to verify it"),
                now,
            ),
        }
    }

    /// Starts a connection for failed piece `piece` to the least busy mirror that did
    /// not send its bytes, if one has room under `-x`; otherwise the piece waits for
    /// the next free connection like any other.
    fn refetch_elsewhere(&mut self, gid: Gid, piece: usize, avoid: &[usize], now: Instant) {
        let d = &self.downloads[gid];
        // Only a running download fetches (not -V --hash-check-only, not while paused,
        // restarting or halted).
        if !d.is_active() || d.check_only() || d.restart_pending || self.halted {
            return;
        }
        let Layout::Planned(plan) = &d.layout else {
            return;
        };
        let range = plan.piece_range(piece);
        let limit = d.opts.max_connection_per_server;
        let other = d
            .sources
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                !avoid.contains(i)
                    && !s.failed
                    && !s.no_ranges
                    && s.conns < limit
                    && s.retry_at.is_none_or(|t| t <= now)
            })
            .min_by_key(|(_, s)| s.conns)
            .map(|(i, _)| i);
        if let Some(source) = other {
            self.open_conn_for(gid, source, Some(range), now);
        }
    }

    /// After the first answer gave the length: whether the download fetches nothing
    /// (`--dry-run`, or `-V --hash-check-only`), so the connection closes.
    pub(crate) fn plan_only(&mut self, gid: Gid, now: Instant) -> bool {
        let d = &self.downloads[gid];
        if d.opts.dry_run {
            self.mark_all_done(gid, now);
            return true;
        }
        if d.check_only() {
            for key in self.downloads[gid].conns.clone() {
                self.drop_conn(key);
            }
            self.end_check_only(gid, now);
            return true;
        }
        false
    }

    /// `--hash-check-only`: once every piece on disk has been hashed, the download
    /// ends — complete if every piece verified (the whole-file digest still checked),
    /// else with a checksum error naming how much was good.
    fn end_check_only(&mut self, gid: Gid, now: Instant) {
        let d = &self.downloads[gid];
        if !d.check_only() || d.pieces_hashing > 0 || d.is_finished() {
            return;
        }
        let Layout::Planned(plan) = &d.layout else {
            return;
        };
        if plan.is_complete() {
            return self.maybe_finish(gid, now);
        }
        if d.hashes.is_none() {
            // Only a whole-file digest, and the file is not whole.
            let err = Error::new(
                ErrorCode::Checksum,
                "hash check only: the file is incomplete",
            );
            return self.fail_download(gid, err, now);
        }
        let (good, all) = (plan.done().count(), plan.piece_count());
        let err = Error::new(
            ErrorCode::Checksum,
            format!("hash check only: {good} of {all} pieces verified"),
        );
        self.fail_download(gid, err, now);
    }

    /// Closes every connection of download `gid` to mirror `source`.
    fn drop_source_conns(&mut self, gid: Gid, source: usize) {
        let keys: Vec<usize> = self.downloads[gid]
            .conns
            .iter()
            .copied()
            .filter(|&k| self.conns[k].as_ref().is_some_and(|c| c.source == source))
            .collect();
        for key in keys {
            self.drop_conn(key);
        }
    }

    /// All bytes are on disk: check the length the spec promised and the digest,
    /// then complete.
    pub(crate) fn verify_or_complete(&mut self, gid: Gid, now: Instant) {
        let d = &mut self.downloads[gid];
        let total = d.total();
        if let (Some(expected), Some(total)) = (d.expect.length, total)
            && expected != total
        {
            // Only a body of unknown length gets here unchecked (its length is known
            // at its end): a different length is a different file.
            let err = Error::new(
                ErrorCode::Unknown,
                format!("the file is {total} bytes, expected {expected}"),
            );
            self.fail_download(gid, err, now);
            return;
        }
        let (Some(expect), Some(path), Some(total)) = (d.final_check(), d.path.clone(), total)
        else {
            return self.complete(gid, now);
        };
        if d.opts.dry_run {
            return self.complete(gid, now);
        }
        let storage = match Storage::single(path, total, d.opts.piece_length) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                let err = Error::new(ErrorCode::FileIo, format!("cannot verify: {e}"));
                return self.fail_download(gid, err, now);
            }
        };
        d.verifying = true;
        self.hash_job(HashJob::Range {
            gid,
            storage,
            range: 0..total,
            expect,
        });
    }

    /// A hasher thread's answer.
    pub(crate) fn on_hashed(&mut self, done: HashDone, now: Instant) {
        let gid = match &done {
            HashDone::Verified { gid, .. }
            | HashDone::Checked { gid, .. }
            | HashDone::Fed { gid, .. } => *gid,
        };
        let known = self.downloads.get_mut(gid).map(|d| d.jobs_in_flight -= 1);
        match done {
            // A lent buffer comes back even when its download is gone.
            HashDone::Fed { buf, .. } => {
                if let Some(buf) = buf {
                    self.lent_buffer_back(buf);
                }
            }
            _ if known.is_none() => {}
            HashDone::Checked { result, .. } => self.range_checked(gid, result, now),
            HashDone::Verified { piece, result, .. } => self.piece_hashed(gid, piece, result, now),
        }
    }

    /// A whole-file or range checksum's answer.
    fn range_checked(&mut self, gid: Gid, result: std::io::Result<bool>, now: Instant) {
        let d = &mut self.downloads[gid];
        d.verifying = false;
        if d.is_finished() {
            return;
        }
        match result {
            Ok(true) => self.complete(gid, now),
            Ok(false) if d.recheck_whole && !d.check_only() => {
                // -V over a file that only looked finished: fetch it again.
                d.recheck_whole = false;
                d.sequential_len = 0;
                d.layout = Layout::Unknown;
                self.notice(
                    gid,
                    "the existing file does not match its checksum; downloading it again".into(),
                );
                self.top_up(gid, now);
            }
            Ok(false) => {
                let expect = d
                    .whole_file_digest()
                    .map(|c| c.to_string())
                    .unwrap_or_default();
                let err = Error::new(
                    ErrorCode::Checksum,
                    format!("checksum validation failed (expected {expect})"),
                );
                self.fail_download(gid, err, now);
            }
            Err(e) => {
                self.fail_download(gid, Error::file(&e, "cannot read file to verify it"), now)
            }
        }
    }

    /// A piece hash's answer.
    fn piece_hashed(&mut self, gid: Gid, piece: u64, result: std::io::Result<bool>, now: Instant) {
        let d = &mut self.downloads[gid];
        d.pieces_hashing -= 1;
        if d.stale_hashes > 0 {
            // A piece of a version the download discarded.
            d.stale_hashes -= 1;
            if d.stale_hashes == 0 && d.stale_writes == 0 && d.restart_pending {
                self.finish_restart(gid, now);
            }
            return;
        }
        if !d.is_finished() {
            self.piece_checked(gid, piece as usize, result, now);
            self.end_check_only(gid, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lent_units_are_freed_exactly_once_whatever_the_sizes_and_order() {
        // 1 MiB chunks (four units) and 256 KiB buffers, back in another order.
        let sizes = [4, 1, 4, 4, 1, 4];
        let mut lent = Lent::default();
        let mut freed = 0;
        let mut counted = 0;
        for &units in &sizes {
            let now = lent.lend(units);
            freed += now;
            counted += units - now;
        }
        // The ten units past the first eight still count against the cache.
        assert_eq!((freed, counted), (MAX_LENT, 18 - MAX_LENT));
        for &units in sizes.iter().rev() {
            let now = lent.back(units);
            counted -= now;
            freed += now;
        }
        assert_eq!(counted, 0, "units still counted with nothing lent");
        assert_eq!(freed, 18, "every unit freed once");
        assert_eq!(lent.units, 0);
    }
}
