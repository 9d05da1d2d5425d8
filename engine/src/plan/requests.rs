//! Outstanding block requests of peer sources: which sources asked for which byte
//! ranges, indexed both ways, plus the union of their bytes for the free-space walk.
//!
//! A block is keyed by its first byte; requests never overlap one another except that,
//! in endgame, several sources may ask for the very same block (same start and end).
//! A source's list is in the order it asked: a peer answers in that order, so the
//! block it delivers is found at the front of its list (a list is up to 500 long).

use std::collections::{BTreeMap, VecDeque};
use std::ops::Range;

use super::SourceSlot;
use crate::range_set::RangeSet;

#[derive(Debug, Clone)]
pub(super) struct Requested {
    pub(super) end: u64,
    pub(super) slots: Vec<SourceSlot>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct Requests {
    by_block: BTreeMap<u64, Requested>,
    by_slot: Vec<VecDeque<u64>>,
    bytes: RangeSet,
}

impl Requests {
    /// The union of every requested block.
    pub(super) fn bytes(&self) -> &RangeSet {
        &self.bytes
    }

    pub(super) fn get(&self, start: u64) -> Option<&Requested> {
        self.by_block.get(&start)
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &Requested)> {
        self.by_block.iter().map(|(&s, r)| (s, r))
    }

    /// Starts of the blocks `slot` has asked for, in the order it asked.
    pub(super) fn of_slot(&self, slot: SourceSlot) -> impl Iterator<Item = u64> + '_ {
        self.by_slot.get(slot).into_iter().flatten().copied()
    }

    /// Records that `slot` asked for `range` (a new block, or in endgame a block
    /// others asked for already).
    pub(super) fn add(&mut self, slot: SourceSlot, range: Range<u64>) {
        let entry = self
            .by_block
            .entry(range.start)
            .or_insert_with(|| Requested {
                end: range.end,
                slots: Vec::new(),
            });
        debug_assert_eq!(
            entry.end, range.end,
            "a duplicate request is the same block"
        );
        if entry.slots.contains(&slot) {
            return;
        }
        entry.slots.push(slot);
        if self.by_slot.len() <= slot {
            self.by_slot.resize_with(slot + 1, VecDeque::new);
        }
        self.by_slot[slot].push_back(range.start);
        self.bytes.insert(range);
    }

    /// Removes the block at `start` for every source that asked for it; returns them.
    pub(super) fn take(&mut self, start: u64) -> Option<Requested> {
        let req = self.by_block.remove(&start)?;
        for &s in &req.slots {
            forget(&mut self.by_slot[s], start);
        }
        self.bytes.remove(start..req.end);
        Some(req)
    }

    /// Withdraws `slot`'s request for the block at `start`; the block's bytes come free
    /// when nobody else asked for it. Returns whether `slot` had asked.
    pub(super) fn drop_one(&mut self, slot: SourceSlot, start: u64) -> bool {
        let Some(req) = self.by_block.get_mut(&start) else {
            return false;
        };
        let Some(k) = req.slots.iter().position(|&s| s == slot) else {
            return false;
        };
        req.slots.swap_remove(k);
        forget(&mut self.by_slot[slot], start);
        if req.slots.is_empty() {
            let end = req.end;
            self.by_block.remove(&start);
            self.bytes.remove(start..end);
        }
        true
    }

    /// Withdraws every request of `slot`.
    pub(super) fn drop_slot(&mut self, slot: SourceSlot) {
        let Some(list) = self.by_slot.get_mut(slot) else {
            return;
        };
        for start in std::mem::take(list) {
            if let Some(req) = self.by_block.get_mut(&start) {
                req.slots.retain(|&s| s != slot);
                if req.slots.is_empty() {
                    let end = req.end;
                    self.by_block.remove(&start);
                    self.bytes.remove(start..end);
                }
            }
        }
    }

    /// Removes every block with bytes in `range`; calls `cancelled(slot, start, end)`
    /// for each request dropped.
    pub(super) fn drop_overlapping(
        &mut self,
        range: Range<u64>,
        mut cancelled: impl FnMut(SourceSlot, u64, u64),
    ) {
        // Blocks are disjoint, so the last one starting before `range.end` is the only
        // candidate each time round: once it ends before `range`, every earlier one does.
        while let Some((&start, _)) = self
            .by_block
            .range(..range.end)
            .next_back()
            .filter(|(_, q)| q.end > range.start)
        {
            let req = self.take(start).expect("found above");
            for s in req.slots {
                cancelled(s, start, req.end);
            }
        }
    }
}

fn forget(list: &mut VecDeque<u64>, start: u64) {
    if let Some(k) = list.iter().position(|&s| s == start) {
        list.remove(k);
    }
}
