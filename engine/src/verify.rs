//! Checking downloaded bytes against what they must be: whole-file digests
//! (`--checksum`, Metalink `<hash>`, magnet hash URNs, `Digest:` headers) when a file
//! is complete, on the hasher threads.

use std::sync::Arc;
use std::time::Instant;

use crate::digest::{Digest, strongest};
use crate::download::Download;
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;
use crate::hasher::{HashDone, HashJob};
use crate::storage::Storage;

impl Download {
    /// The digest the finished file must match: `--checksum` when given, else the
    /// strongest digest the spec or the servers named.
    pub(crate) fn whole_file_digest(&self) -> Option<Digest> {
        self.opts
            .checksum
            .clone()
            .or_else(|| strongest(&self.expect.hashes).cloned())
    }
}

impl Engine {
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
        let (Some(expect), Some(path), Some(total)) =
            (d.whole_file_digest(), d.path.clone(), total)
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
            HashDone::Verified { gid, .. } | HashDone::Checked { gid, .. } => *gid,
        };
        let Some(d) = self.downloads.get_mut(gid) else {
            return;
        };
        d.jobs_in_flight -= 1;
        match done {
            HashDone::Checked { result, .. } => {
                d.verifying = false;
                if d.is_finished() {
                    return;
                }
                match result {
                    Ok(true) => self.complete(gid, now),
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
                    Err(e) => self.fail_download(
                        gid,
                        Error::file(&e, "cannot read file to verify it"),
                        now,
                    ),
                }
            }
            HashDone::Verified { .. } => {}
        }
    }
}
