//! Every download the engine knows, keyed by GID, with aria2's queue order.
//!
//! Invariants (kept by the methods here; the engine changes a download's state only
//! through `Downloads::set_state`):
//! - every GID in the map is in exactly one of `queue` and `stopped`;
//! - `queue` holds the waiting, active and paused downloads in queue order — the
//!   order in which waiting ones start and that `changePosition` moves;
//! - `active` holds exactly the active ones (so a turn of the loop touches the few
//!   running downloads, not a queue of ten thousand);
//! - `stopped` holds the complete, failed and removed ones, oldest first, until
//!   their results are purged; `unannounced` those of them whose end subscribers have
//!   not heard yet, and `paused` counts the paused ones in the queue — so the loop and
//!   `getGlobalStat` never walk every download;
//! - `forgotten` sums up the results dropped to keep `stopped` within
//!   `--max-download-result`, so an exit code still sees every failure.

use std::collections::HashMap;
use std::ops::{Index, IndexMut};

use crate::download::{Download, DownloadState};
use crate::error::ErrorCode;
use crate::gid::Gid;

/// What the results dropped under `--max-download-result` said (aria2 keeps the same
/// for its exit code: `removedErrorResult_`, `removedLastErrorResult_`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Forgotten {
    /// Results dropped.
    pub results: u64,
    /// Of them, downloads that failed.
    pub errors: u64,
    /// The error of the last one dropped that failed.
    pub last_error: Option<ErrorCode>,
    /// Of them, downloads removed before they finished.
    pub removed: u64,
}

/// Where `changePosition` counts from (aria2's `POS_SET`, `POS_CUR`, `POS_END`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionFrom {
    /// From the front of the queue.
    Set,
    /// From the download's current place.
    Current,
    /// From the end of the queue.
    End,
}

#[derive(Default)]
pub(crate) struct Downloads {
    /// Boxed: a `Download` is about 2 KiB, and a table of ten thousand inline ones
    /// would hold twice that while it grows (old and new table side by side).
    map: HashMap<Gid, Box<Download>>,
    queue: Vec<Gid>,
    active: Vec<Gid>,
    stopped: Vec<Gid>,
    unannounced: Vec<Gid>,
    paused: usize,
    forgotten: Forgotten,
}

impl Downloads {
    pub fn contains(&self, gid: Gid) -> bool {
        self.map.contains_key(&gid)
    }

    pub fn get(&self, gid: Gid) -> Option<&Download> {
        self.map.get(&gid).map(|d| &**d)
    }

    pub fn get_mut(&mut self, gid: Gid) -> Option<&mut Download> {
        self.map.get_mut(&gid).map(|d| &mut **d)
    }

    /// Adds a queued download (waiting or paused) at `position` (the end when `None`
    /// or past it).
    pub fn insert(&mut self, download: Download, position: Option<usize>) {
        debug_assert!(!download.is_active() && !download.is_finished());
        self.paused += usize::from(download.state == DownloadState::Paused);
        let gid = download.gid;
        let at = position.unwrap_or(usize::MAX).min(self.queue.len());
        self.queue.insert(at, gid);
        self.map.insert(gid, Box::new(download));
    }

    /// Queued downloads (waiting, active, paused) in queue order.
    pub fn queued(&self) -> &[Gid] {
        &self.queue
    }

    /// Stopped downloads (complete, failed, removed), oldest first.
    pub fn stopped(&self) -> &[Gid] {
        &self.stopped
    }

    /// Every download, queued ones first.
    pub fn all(&self) -> impl Iterator<Item = &Download> {
        self.queue
            .iter()
            .chain(&self.stopped)
            .map(|g| &*self.map[g])
    }

    /// Paused downloads in the queue.
    pub fn paused_count(&self) -> usize {
        self.paused
    }

    /// Takes the stopped downloads whose disk and hash work has settled and whose end
    /// has not been announced yet.
    pub fn take_settled(&mut self) -> Vec<Gid> {
        let map = &self.map;
        let (settled, waiting): (Vec<Gid>, Vec<Gid>) = self
            .unannounced
            .iter()
            .partition(|g| map.get(g).is_none_or(|d| d.jobs_in_flight == 0));
        self.unannounced = waiting;
        settled
    }

    /// Active downloads, in the order they started.
    pub fn active(&self) -> &[Gid] {
        &self.active
    }

    /// Sets `gid`'s state, keeping the lists in step: a final state moves it from the
    /// queue to the stopped list (a stopped download never changes state again).
    pub fn set_state(&mut self, gid: Gid, state: DownloadState) {
        let Some(d) = self.map.get_mut(&gid) else {
            return;
        };
        if d.state.is_stopped() {
            return;
        }
        let was_active = d.is_active();
        let was_paused = d.state == DownloadState::Paused;
        d.state = state;
        let (active, stopped) = (d.is_active(), d.is_finished());
        let paused = d.state == DownloadState::Paused;
        self.paused = self.paused + usize::from(paused) - usize::from(was_paused);
        if was_active && !active {
            self.active.retain(|&g| g != gid);
        } else if active && !was_active {
            self.active.push(gid);
        }
        if stopped && let Some(at) = self.queue.iter().position(|&g| g == gid) {
            self.queue.remove(at);
            self.stopped.push(gid);
            self.unannounced.push(gid);
        }
    }

    /// aria2's `changePosition`: moves a queued download; returns its new place.
    pub fn move_to(&mut self, gid: Gid, pos: i64, from: PositionFrom) -> Option<usize> {
        let at = self.queue.iter().position(|&g| g == gid)?;
        let base = match from {
            PositionFrom::Set => 0,
            PositionFrom::Current => at as i64,
            PositionFrom::End => self.queue.len() as i64 - 1,
        };
        let last = self.queue.len() as i64 - 1;
        let to = base.saturating_add(pos).clamp(0, last) as usize;
        self.queue.remove(at);
        self.queue.insert(to, gid);
        Some(to)
    }

    /// Forgets a stopped download whose disk work has settled; false if it is not
    /// stopped (or still has work in flight).
    pub fn remove_result(&mut self, gid: Gid) -> bool {
        let Some(at) = self.stopped.iter().position(|&g| g == gid) else {
            return false;
        };
        if self.map[&gid].jobs_in_flight > 0 {
            return false;
        }
        self.stopped.remove(at);
        self.map.remove(&gid);
        true
    }

    /// Drops the oldest stopped results, announced and settled, until at most `max`
    /// are kept (`--max-download-result`), noting what they said in
    /// [`Downloads::forgotten`].
    pub fn trim_results(&mut self, max: usize) {
        while self.stopped.len() > max {
            let map = &self.map;
            let Some(at) = self
                .stopped
                .iter()
                .position(|g| map[g].announced && map[g].jobs_in_flight == 0)
            else {
                return;
            };
            let gid = self.stopped.remove(at);
            let d = self.map.remove(&gid).expect("a stopped GID is in the map");
            let f = &mut self.forgotten;
            f.results += 1;
            match &d.state {
                DownloadState::Error(e) => {
                    f.errors += 1;
                    f.last_error = Some(e.code);
                }
                DownloadState::Removed => f.removed += 1,
                _ => {}
            }
        }
    }

    /// What the results dropped by [`Downloads::trim_results`] said.
    pub fn forgotten(&self) -> Forgotten {
        self.forgotten
    }

    /// Forgets every stopped download whose disk work has settled.
    pub fn purge(&mut self) {
        for gid in self.stopped.clone() {
            self.remove_result(gid);
        }
    }
}

impl Index<Gid> for Downloads {
    type Output = Download;
    fn index(&self, gid: Gid) -> &Download {
        &self.map[&gid]
    }
}

impl IndexMut<Gid> for Downloads {
    fn index_mut(&mut self, gid: Gid) -> &mut Download {
        self.map.get_mut(&gid).expect("a download the engine holds")
    }
}
