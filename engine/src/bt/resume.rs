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
//! The disk thread reads what is there ([`inspect`]: the control file, each file's
//! length) and the loop decides from that, so a slow disk never holds up the loop.
//!
//! Invariant: a piece counts as done only if a control file of this torrent said so,
//! it verified, or the user asked for `--bt-seed-unverified`.

use std::ops::Range;
use std::path::Path;

use crate::bitfield::Bitfield;
use crate::control::{ControlState, control_path};
use crate::download::Layout;
use crate::engine::Engine;
use crate::gid::Gid;
use crate::storage::Storage;

/// What the disk thread found of a torrent before it first runs ([`inspect`]).
#[derive(Debug)]
pub struct OnDisk {
    /// The control file's record (`Ok(None)`: none there), or why it could not be read.
    pub control: Result<Option<ControlState>, String>,
    /// Each storage file's length on disk (0: missing, unwanted or padding), in the
    /// storage's order.
    pub lengths: Vec<u64>,
}

/// Looks at torrent `storage`'s files and its control file `control` (deleted first
/// under `--remove-control-file`). File-system work: it runs on the disk thread.
pub fn inspect(storage: &Storage, control: &Path, remove_control: bool) -> OnDisk {
    if remove_control {
        let _ = std::fs::remove_file(control);
    }
    let lengths = storage
        .files()
        .iter()
        .map(|f| {
            if f.stored() {
                std::fs::metadata(&f.path).map_or(0, |m| m.len())
            } else {
                0
            }
        })
        .collect();
    OnDisk {
        control: ControlState::load(control).map_err(|e| e.to_string()),
        lengths,
    }
}

/// The byte ranges of `storage` that are on disk: each stored file's bytes up to its
/// length on disk, and padding (zeros, never stored).
fn on_disk(storage: &Storage, lengths: &[u64]) -> Vec<Range<u64>> {
    storage
        .files()
        .iter()
        .zip(lengths)
        .filter_map(|(f, &on_disk)| {
            let len = if f.padding {
                f.length
            } else if f.stored() {
                on_disk.min(f.length)
            } else {
                0
            };
            (len > 0).then(|| f.offset..f.offset + len)
        })
        .collect()
}

impl Engine {
    /// Applies the control file, `-V` or `--bt-seed-unverified` to torrent `gid`'s plan,
    /// once, before its files are allocated, from what the disk thread `found`.
    pub(crate) fn resume_torrent(&mut self, gid: Gid, found: OnDisk) {
        let d = &mut self.downloads[gid];
        let (Some(storage), Some(path), Some(swarm)) = (d.storage.clone(), d.path.clone(), &d.bt)
        else {
            return;
        };
        let info_hash = swarm.torrent.info_hash();
        let control = control_path(&path);
        let mut notice = None;
        let state = match found.control {
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
            fresh.with_written(on_disk(&storage, &found.lengths))
        } else if let Some(state) = state {
            fresh.with_done(state.verified).with_written(state.partial)
        } else if d.opts.bt_seed_unverified && complete_on_disk(&storage, &found.lengths) {
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
fn complete_on_disk(storage: &Storage, lengths: &[u64]) -> bool {
    storage
        .files()
        .iter()
        .zip(lengths)
        .filter(|(f, _)| f.stored())
        .all(|(f, &len)| len == f.length)
}
