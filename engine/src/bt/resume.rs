//! Where a torrent starts from when it first runs: its control file, a check of the
//! bytes already on disk (`-V`), or the files taken as they are
//! (`--bt-seed-unverified`).
//!
//! - A control file (`<top path>.swarmget`) that names this torrent's info-hash and the
//!   same files restores its verified pieces without reading them again, and its
//!   written-but-unverified ranges are hashed once their pieces are whole.
//! - `-V/--check-integrity` hashes every piece whose bytes are all on disk, on the
//!   hasher threads (both cores), whatever a control file says; a piece that does not
//!   match is fetched again, and a complete, matching set of files goes straight to
//!   seeding.
//! - `--bt-seed-unverified`, with no control file and every file at its full length,
//!   takes every piece as done without reading it.
//! - Otherwise the torrent downloads from the start (existing bytes are overwritten).
//!
//! Invariant: a piece counts as done only if a control file of this torrent said so,
//! it verified, or the user asked for `--bt-seed-unverified`.

use std::ops::Range;

use crate::bitfield::Bitfield;
use crate::control::{ControlState, control_path};
use crate::download::Layout;
use crate::engine::Engine;
use crate::gid::Gid;
use crate::storage::Storage;

/// The byte ranges of `storage` that are on disk: each stored file's bytes up to its
/// length on disk, and padding (zeros, never stored).
fn on_disk(storage: &Storage) -> Vec<Range<u64>> {
    storage
        .files()
        .iter()
        .filter_map(|f| {
            let len = if f.padding {
                f.length
            } else if f.stored() {
                std::fs::metadata(&f.path)
                    .map_or(0, |m| m.len())
                    .min(f.length)
            } else {
                0
            };
            (len > 0).then(|| f.offset..f.offset + len)
        })
        .collect()
}

impl Engine {
    /// Applies the control file, `-V` or `--bt-seed-unverified` to torrent `gid`'s plan,
    /// once, before its files are allocated.
    pub(crate) fn resume_torrent(&mut self, gid: Gid) {
        let d = &mut self.downloads[gid];
        let (Some(storage), Some(path), Some(swarm)) = (d.storage.clone(), d.path.clone(), &d.bt)
        else {
            return;
        };
        let info_hash = swarm.torrent.info_hash();
        let control = control_path(&path);
        if d.opts.remove_control_file {
            let _ = std::fs::remove_file(&control);
        }
        let mut notice = None;
        let state = match ControlState::load(&control) {
            Ok(Some(s)) if s.info_hash == Some(info_hash) && s.describes(&storage, &d.opts.dir) => {
                d.control_exists = true;
                Some(s)
            }
            Ok(Some(_)) => {
                notice = Some(format!(
                    "{} is not this torrent's control file; starting over",
                    control.display()
                ));
                None
            }
            Ok(None) => None,
            Err(e) => {
                notice = Some(format!("ignoring control file: {e}"));
                None
            }
        };
        let Layout::Planned(fresh) = std::mem::replace(&mut d.layout, Layout::Unknown) else {
            return;
        };
        let plan = if d.opts.check_integrity {
            d.integrity_check = true;
            fresh.with_written(on_disk(&storage))
        } else if let Some(state) = state {
            fresh.with_done(state.verified).with_written(state.partial)
        } else if d.opts.bt_seed_unverified && complete_on_disk(&storage) {
            let all = Bitfield::full(fresh.piece_count());
            fresh.with_done(all)
        } else {
            fresh
        };
        d.layout = Layout::Planned(plan);
        d.control_dirty = true;
        if let Some(message) = notice {
            self.notice(gid, message);
        }
        self.hash_ready_pieces(gid);
    }
}

/// Whether every stored file is on disk at its full length.
fn complete_on_disk(storage: &Storage) -> bool {
    storage
        .files()
        .iter()
        .filter(|f| f.stored())
        .all(|f| std::fs::metadata(&f.path).is_ok_and(|m| m.len() == f.length))
}
