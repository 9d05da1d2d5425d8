//! Per-piece bookkeeping: state, priority, availability, the queue of pieces waiting for
//! a hasher, and which sources delivered bytes of pieces whose hash is not yet known.
//!
//! Everything here is indexed by piece and kept consistent by one setter per field, so
//! the counters the hot path reads (`done_bytes`, `wanted_left`) never need a scan.

use super::SourceSlot;
use crate::bitfield::Bitfield;

/// Where a piece stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PieceState {
    /// Not every byte is written yet; no byte of it is claimed, requested, in flight or
    /// written.
    Missing,
    /// Not every byte is written yet, and some are claimed, requested, in flight or
    /// written.
    Partial,
    /// Every byte is written; waiting for the engine to take it to a hasher.
    Ready,
    /// With a hasher; waiting for [`Plan::verified`](super::Plan::verified) or
    /// [`Plan::hash_failed`](super::Plan::hash_failed).
    Hashing,
    /// Verified (or, for a download without piece hashes, written): counts as done.
    Done,
}

/// The stored state: `Missing` here stands for both of the public `Missing` and
/// `Partial`, which the plan tells apart from its byte sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    Open,
    Ready,
    Hashing,
    Done,
}

#[derive(Debug, Clone)]
pub(super) struct Pieces {
    stage: Vec<Stage>,
    done: Bitfield,
    priority: Vec<u8>,
    avail: Vec<u32>,
    done_bytes: u64,
    /// Bytes in ready and hashing pieces.
    staged_bytes: u64,
    /// Pieces with priority > 0 that are not done.
    wanted_left: usize,
    /// Pieces that became ready, oldest first; entries whose piece has moved on since
    /// are skipped when the queue is drained.
    ready: Vec<usize>,
    /// Per piece, the slots that delivered bytes of it since it was last open (kept
    /// only for plans that verify pieces; empty otherwise).
    contributors: Vec<Vec<SourceSlot>>,
}

impl Pieces {
    pub(super) fn new(n: usize) -> Pieces {
        Pieces {
            stage: vec![Stage::Open; n],
            done: Bitfield::new(n),
            priority: vec![1; n],
            avail: vec![0; n],
            done_bytes: 0,
            staged_bytes: 0,
            wanted_left: n,
            ready: Vec::new(),
            contributors: Vec::new(),
        }
    }

    pub(super) fn count(&self) -> usize {
        self.stage.len()
    }

    pub(super) fn stage(&self, i: usize) -> Stage {
        self.stage[i]
    }

    /// Whether bytes of piece `i` may be handed out: not written whole, and wanted.
    pub(super) fn open(&self, i: usize) -> bool {
        self.stage[i] == Stage::Open && self.priority[i] > 0
    }

    pub(super) fn done(&self) -> &Bitfield {
        &self.done
    }

    pub(super) fn done_bytes(&self) -> u64 {
        self.done_bytes
    }

    pub(super) fn staged_bytes(&self) -> u64 {
        self.staged_bytes
    }

    pub(super) fn wanted_left(&self) -> usize {
        self.wanted_left
    }

    /// Moves piece `i`, of `len` bytes, to `stage`.
    pub(super) fn set_stage(&mut self, i: usize, stage: Stage, len: u64) {
        let old = self.stage[i];
        if old == stage {
            return;
        }
        self.stage[i] = stage;
        let staged = |s| matches!(s, Stage::Ready | Stage::Hashing);
        if staged(old) && !staged(stage) {
            self.staged_bytes -= len;
        } else if !staged(old) && staged(stage) {
            self.staged_bytes += len;
        }
        if old == Stage::Done {
            self.done.clear(i);
            self.done_bytes -= len;
            if self.priority[i] > 0 {
                self.wanted_left += 1;
            }
        }
        match stage {
            Stage::Done => {
                self.done.set(i);
                self.done_bytes += len;
                if self.priority[i] > 0 {
                    self.wanted_left -= 1;
                }
                if let Some(c) = self.contributors.get_mut(i) {
                    *c = Vec::new();
                }
            }
            Stage::Ready => self.ready.push(i),
            Stage::Open | Stage::Hashing => {}
        }
    }

    /// Moves every queued ready piece to hashing and returns them.
    pub(super) fn take_ready(&mut self) -> Vec<usize> {
        let mut out = std::mem::take(&mut self.ready);
        out.retain(|&i| {
            let take = self.stage[i] == Stage::Ready;
            if take {
                self.stage[i] = Stage::Hashing;
            }
            take
        });
        out
    }

    pub(super) fn priority(&self, i: usize) -> u8 {
        self.priority[i]
    }

    pub(super) fn set_priority(&mut self, i: usize, p: u8) {
        let old = self.priority[i];
        if self.stage[i] != Stage::Done {
            match (old > 0, p > 0) {
                (true, false) => self.wanted_left -= 1,
                (false, true) => self.wanted_left += 1,
                _ => {}
            }
        }
        self.priority[i] = p;
    }

    pub(super) fn availability(&self, i: usize) -> u32 {
        self.avail[i]
    }

    pub(super) fn add_available(&mut self, have: &Bitfield) {
        for (i, a) in self.avail.iter_mut().enumerate() {
            if have.get(i) {
                *a += 1;
            }
        }
    }

    pub(super) fn remove_available(&mut self, have: &Bitfield) {
        for (i, a) in self.avail.iter_mut().enumerate() {
            if have.get(i) {
                *a -= 1;
            }
        }
    }

    pub(super) fn add_available_one(&mut self, i: usize) {
        self.avail[i] += 1;
    }

    pub(super) fn remove_available_one(&mut self, i: usize) {
        self.avail[i] -= 1;
    }

    /// Starts remembering contributors (plans that verify pieces).
    pub(super) fn track_contributors(&mut self) {
        self.contributors = vec![Vec::new(); self.stage.len()];
    }

    /// Notes that `slot` delivered bytes of pieces `first..=last`. Allocation-free once
    /// a slot is listed, which is every call but the first per piece and slot.
    pub(super) fn note_contributor(&mut self, first: usize, last: usize, slot: SourceSlot) {
        if self.contributors.is_empty() {
            return;
        }
        for c in &mut self.contributors[first..=last] {
            if c.last() != Some(&slot) && !c.contains(&slot) {
                c.push(slot);
            }
        }
    }

    pub(super) fn take_contributors(&mut self, i: usize) -> Vec<SourceSlot> {
        self.contributors
            .get_mut(i)
            .map(std::mem::take)
            .unwrap_or_default()
    }
}
