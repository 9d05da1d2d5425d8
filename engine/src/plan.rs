//! The protocol-neutral piece model and the segment planner (sans-IO).
//!
//! A download is a byte space of known length cut into pieces. Any source — an HTTP
//! connection today, FTP and BitTorrent peers later — claims a *run* of bytes
//! `[next, end)`, fetches it front to back, and reports bytes as they arrive
//! ([`Plan::advance`]) and again once the disk worker has confirmed them written
//! ([`Plan::wrote`]). A piece is done only when every one of its bytes is confirmed on
//! disk, so a crash can lose pieces in flight but never mark a piece done that is not.
//!
//! Invariants (checked by the tests below):
//! - every byte is exactly one of: in a done piece, confirmed written, in flight to
//!   disk, claimed by a run, or free;
//! - runs never overlap each other, in-flight or written bytes;
//! - claims never cover done pieces.
//!
//! Work is handed out in chunks (`total / sources`, at least `--min-split-size`) so
//! that the first connections spread over the file without cutting each other's
//! requests short. Once nothing is free, an idle source *steals* the back half of the
//! run with the most bytes left (aria2's `-k` rule: only runs of at least twice the
//! minimum split are cut). The victim learns about it from [`Plan::run`] and stops at
//! its new end.

use std::ops::Range;

use crate::bitfield::Bitfield;
use crate::range_set::RangeSet;

/// Which free region a claim starts in (`--stream-piece-selector`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selector {
    /// The largest free region, from its start (spreads sources over the file).
    #[default]
    Default,
    /// The first free byte in file order (good for playing while downloading).
    InOrder,
    /// A random piece inside a random free region.
    Random,
    /// In order at first, then exponentially further ahead (aria2's `geom`): keeps the
    /// beginning of the file arriving first while still spreading connections.
    Geom,
}

/// Index of a source within one download's plan.
pub type SourceSlot = usize;

/// What a source is fetching: bytes `[next, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// The next byte the source will deliver.
    pub next: u64,
    /// One past the last byte it should deliver.
    pub end: u64,
}

impl Run {
    /// Bytes still to fetch.
    pub fn remaining(&self) -> u64 {
        self.end - self.next
    }
}

/// The piece map and the runs handed out over it.
#[derive(Debug, Clone)]
pub struct Plan {
    total: u64,
    piece_len: u64,
    done: Bitfield,
    written: RangeSet,
    in_flight: RangeSet,
    runs: Vec<Option<Run>>,
    selector: Selector,
    min_split: u64,
    chunk: u64,
    rng: u64,
}

impl Plan {
    /// A plan for `total` bytes in pieces of `piece_len` (> 0), nothing done yet.
    pub fn new(total: u64, piece_len: u64) -> Plan {
        let piece_len = piece_len.max(1);
        let pieces = total.div_ceil(piece_len) as usize;
        Plan {
            total,
            piece_len,
            done: Bitfield::new(pieces),
            written: RangeSet::new(),
            in_flight: RangeSet::new(),
            runs: Vec::new(),
            selector: Selector::Default,
            min_split: 20 << 20,
            chunk: u64::MAX,
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// Starts from a known set of done pieces (from a control file or `-c`).
    pub fn with_done(mut self, done: Bitfield) -> Plan {
        if done.len() == self.done.len() {
            self.done = done;
        }
        self
    }

    /// Sets the piece selector.
    pub fn selector(mut self, selector: Selector) -> Plan {
        self.selector = selector;
        self
    }

    /// Sets `--min-split-size`: no run shorter than twice this is split.
    pub fn min_split(mut self, bytes: u64) -> Plan {
        self.min_split = bytes.max(1);
        self
    }

    /// Sizes claims for `sources` sources working at once (`--split`).
    pub fn spread_over(mut self, sources: usize) -> Plan {
        let share = self.total.div_ceil(sources.max(1) as u64);
        self.chunk = self.align_up(share.max(self.min_split)).max(self.piece_len);
        self
    }

    /// Total length in bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Piece length in bytes.
    pub fn piece_len(&self) -> u64 {
        self.piece_len
    }

    /// The done-piece bitfield.
    pub fn done(&self) -> &Bitfield {
        &self.done
    }

    /// Whether every piece is done.
    pub fn is_complete(&self) -> bool {
        self.done.all()
    }

    /// Bytes in done pieces plus bytes confirmed written elsewhere.
    pub fn completed_bytes(&self) -> u64 {
        let mut bytes = self.done.count() as u64 * self.piece_len;
        if let Some(last) = self.done.len().checked_sub(1).filter(|&l| self.done.get(l)) {
            // The last piece may be short.
            let r = self.piece_range(last);
            bytes -= self.piece_len - (r.end - r.start);
        }
        bytes + self.written.len()
    }

    /// Byte range of piece `i`.
    pub fn piece_range(&self, i: usize) -> Range<u64> {
        let start = i as u64 * self.piece_len;
        start..(start + self.piece_len).min(self.total)
    }

    /// The run of `slot`, if it holds one.
    pub fn run(&self, slot: SourceSlot) -> Option<Run> {
        self.runs.get(slot).copied().flatten()
    }

    /// Number of sources holding runs.
    pub fn active_runs(&self) -> usize {
        self.runs.iter().flatten().count()
    }

    /// Hands `slot` new work, or `None` when nothing is left to claim or steal.
    /// Any run `slot` held before is released first.
    pub fn claim(&mut self, slot: SourceSlot) -> Option<Run> {
        self.release(slot);
        let free = self.free_regions();
        let run = if free.is_empty() {
            self.steal()?
        } else {
            let region = self.pick(&free);
            let len = (region.end - region.start).min(self.chunk);
            let end = if len < region.end - region.start {
                self.align_up(region.start + len).min(region.end)
            } else {
                region.end
            };
            Run {
                next: region.start,
                end,
            }
        };
        self.set_run(slot, Some(run));
        Some(run)
    }

    /// Extends `slot`'s finished run forward from its end, when the bytes there are free
    /// (so a connection whose response carries on past its run need not stop).
    pub fn extend(&mut self, slot: SourceSlot) -> Option<Run> {
        let run = self.run(slot)?;
        let region = self
            .free_regions()
            .into_iter()
            .find(|r| r.start == run.end)?;
        let len = (region.end - region.start).min(self.chunk);
        let end = self.align_up(region.start + len).min(region.end);
        let extended = Run {
            next: run.next,
            end,
        };
        self.set_run(slot, Some(extended));
        Some(extended)
    }

    /// Claims work for `slot` starting exactly at `pos` (a chunk's worth, up to the
    /// end of the free region there), if `pos` is free.
    pub fn claim_from(&mut self, slot: SourceSlot, pos: u64) -> Option<Run> {
        self.release(slot);
        let region = self
            .free_regions()
            .into_iter()
            .find(|r| r.start <= pos && pos < r.end)?;
        let end = self
            .align_up(pos.saturating_add(self.chunk))
            .min(region.end)
            .max(pos + 1);
        let run = Run { next: pos, end };
        self.set_run(slot, Some(run));
        Some(run)
    }

    /// Claims exactly `range` for `slot` if every byte of it is free (used when a
    /// server ignores ranges and sends the file from its start).
    pub fn claim_exact(&mut self, slot: SourceSlot, range: Range<u64>) -> Option<Run> {
        self.release(slot);
        let free = self.free_regions();
        let whole = free
            .iter()
            .any(|r| r.start <= range.start && range.end <= r.end);
        if !whole {
            return None;
        }
        let run = Run {
            next: range.start,
            end: range.end,
        };
        self.set_run(slot, Some(run));
        Some(run)
    }

    /// Records that `slot` received `n` more bytes from the front of its run; they are
    /// now in flight to disk. Returns the byte range they cover.
    pub fn advance(&mut self, slot: SourceSlot, n: u64) -> Range<u64> {
        let Some(Some(run)) = self.runs.get_mut(slot) else {
            return 0..0;
        };
        let n = n.min(run.end - run.next);
        let range = run.next..run.next + n;
        run.next += n;
        self.in_flight.insert(range.clone());
        range
    }

    /// Drops `slot`'s run; its unfetched bytes become free again.
    pub fn release(&mut self, slot: SourceSlot) {
        self.set_run(slot, None);
    }

    /// Records that `range` is confirmed on disk; returns the pieces this completed.
    pub fn wrote(&mut self, range: Range<u64>) -> Vec<usize> {
        self.in_flight.remove(range.clone());
        self.written.insert(range.clone());
        let mut completed = Vec::new();
        if range.is_empty() {
            return completed;
        }
        let first = (range.start / self.piece_len) as usize;
        let last = ((range.end - 1) / self.piece_len) as usize;
        for i in first..=last.min(self.done.len().saturating_sub(1)) {
            let piece = self.piece_range(i);
            if !self.done.get(i) && self.written.covers(piece.clone()) {
                self.done.set(i);
                self.written.remove(piece);
                completed.push(i);
            }
        }
        completed
    }

    /// Records that a write of `range` failed: the bytes are free to fetch again.
    pub fn write_failed(&mut self, range: Range<u64>) {
        self.in_flight.remove(range);
    }

    /// Marks piece `i` as not done (its data failed verification).
    pub fn reject_piece(&mut self, i: usize) {
        if self.done.get(i) {
            let mut bytes = self.done.as_bytes().to_vec();
            bytes[i / 8] &= !(0x80 >> (i % 8));
            if let Some(b) = Bitfield::from_bytes(&bytes, self.done.len()) {
                self.done = b;
            }
        }
    }

    /// Bytes nobody holds: not done, not written, not in flight, not in a run.
    pub fn free_regions(&self) -> Vec<Range<u64>> {
        let mut busy = RangeSet::new();
        for run in self.runs.iter().flatten() {
            busy.insert(run.next..run.end);
        }
        let mut free = Vec::new();
        let mut i = 0;
        let pieces = self.done.len();
        while i < pieces {
            if self.done.get(i) {
                i += 1;
                continue;
            }
            let start = i;
            while i < pieces && !self.done.get(i) {
                i += 1;
            }
            let span = self.piece_range(start).start..self.piece_range(i - 1).end;
            self.subtract_busy(span, &busy, &mut free);
        }
        free
    }

    fn subtract_busy(&self, span: Range<u64>, busy: &RangeSet, out: &mut Vec<Range<u64>>) {
        // Walk the span byte-range by byte-range, skipping what any set covers. The
        // sets are small (one entry per source), so stepping by their boundaries is cheap.
        let mut pos = span.start;
        while pos < span.end {
            let taken = [busy, &self.written, &self.in_flight]
                .iter()
                .filter_map(|s| s.containing(pos))
                .map(|r| r.end)
                .max();
            if let Some(end) = taken {
                pos = end;
                continue;
            }
            let next_busy = [busy, &self.written, &self.in_flight]
                .iter()
                .filter_map(|s| s.next_start_after(pos))
                .min()
                .unwrap_or(span.end)
                .min(span.end);
            out.push(pos..next_busy);
            pos = next_busy;
        }
    }

    fn pick(&mut self, free: &[Range<u64>]) -> Range<u64> {
        match self.selector {
            Selector::Default => free
                .iter()
                .max_by_key(|r| (r.end - r.start, std::cmp::Reverse(r.start)))
                .cloned()
                .unwrap_or(0..0),
            Selector::InOrder => free[0].clone(),
            Selector::Random => {
                let r = free[(self.next_random() % free.len() as u64) as usize].clone();
                let pieces = (r.end - r.start).div_ceil(self.piece_len);
                let ahead = self.next_random() % pieces.max(1);
                self.piece_start_ahead(&r, ahead)..r.end
            }
            Selector::Geom => {
                // The k-th concurrent source starts 1.5^k - 1 pieces into the first region.
                let r = free[0].clone();
                let k = self.active_runs() as i32;
                let ahead = (1.5f64.powi(k) - 1.0) as u64;
                self.piece_start_ahead(&r, ahead)..r.end
            }
        }
    }

    /// The start of the piece `ahead` pieces into free region `r` (its own start for
    /// 0), or `r.start` when that lies past the region: claims stay piece-aligned and
    /// never shrink to a sliver at a region's end.
    fn piece_start_ahead(&self, r: &Range<u64>, ahead: u64) -> u64 {
        if ahead == 0 {
            return r.start;
        }
        let first_boundary = self.align_up(r.start);
        let start = first_boundary.saturating_add((ahead - 1).saturating_mul(self.piece_len));
        if start < r.end { start } else { r.start }
    }

    fn steal(&mut self) -> Option<Run> {
        let (victim, run) = self
            .runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.map(|r| (i, r)))
            .max_by_key(|(_, r)| r.remaining())?;
        if run.remaining() < 2 * self.min_split {
            return None;
        }
        let mid = self.align_up(run.next + run.remaining() / 2);
        if mid <= run.next || mid >= run.end {
            return None;
        }
        self.runs[victim] = Some(Run {
            next: run.next,
            end: mid,
        });
        Some(Run {
            next: mid,
            end: run.end,
        })
    }

    fn set_run(&mut self, slot: SourceSlot, run: Option<Run>) {
        if self.runs.len() <= slot {
            self.runs.resize(slot + 1, None);
        }
        self.runs[slot] = run;
    }

    fn align_up(&self, pos: u64) -> u64 {
        pos.div_ceil(self.piece_len)
            .saturating_mul(self.piece_len)
            .min(self.total)
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: deterministic, good enough to scatter claims.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn invariant(plan: &Plan) {
        // Runs are disjoint and avoid done pieces.
        let mut runs: Vec<Run> = plan
            .runs
            .iter()
            .flatten()
            .copied()
            .filter(|r| r.remaining() > 0)
            .collect();
        runs.sort_by_key(|r| r.next);
        for w in runs.windows(2) {
            assert!(w[0].end <= w[1].next, "runs overlap: {runs:?}");
        }
        for r in &runs {
            for p in (r.next / plan.piece_len)..r.end.div_ceil(plan.piece_len) {
                let piece = plan.piece_range(p as usize);
                if plan.done.get(p as usize) {
                    assert!(
                        piece.end <= r.next || piece.start >= r.end,
                        "run over done piece"
                    );
                }
            }
        }
    }

    #[test]
    fn chunks_spread_sources_without_overlap() {
        let mut plan = Plan::new(100 * MIB, MIB).min_split(MIB).spread_over(4);
        let runs: Vec<Run> = (0..4).map(|s| plan.claim(s).unwrap()).collect();
        assert_eq!(
            runs[0],
            Run {
                next: 0,
                end: 25 * MIB
            }
        );
        assert_eq!(
            runs[3],
            Run {
                next: 75 * MIB,
                end: 100 * MIB
            }
        );
        invariant(&plan);
        // A fifth source finds nothing free and steals half of a 25 MiB run.
        let stolen = plan.claim(4).unwrap();
        assert_eq!(stolen.end - stolen.next, 12 * MIB);
        invariant(&plan);
    }

    #[test]
    fn pieces_complete_only_when_written() {
        let mut plan = Plan::new(3 * MIB + 10, MIB).min_split(MIB).spread_over(1);
        let run = plan.claim(0).unwrap();
        assert_eq!(
            run,
            Run {
                next: 0,
                end: 3 * MIB + 10
            }
        );
        let got = plan.advance(0, MIB + 5);
        assert_eq!(got, 0..MIB + 5);
        assert!(plan.wrote(0..MIB / 2).is_empty());
        assert_eq!(plan.wrote(MIB / 2..MIB + 5), vec![0]);
        // The source dies: its unfetched bytes come free, written ones don't.
        plan.release(0);
        assert_eq!(plan.free_regions(), vec![MIB + 5..3 * MIB + 10]);
        let again = plan.claim(1).unwrap();
        assert_eq!(again.next, MIB + 5);
        plan.advance(1, again.remaining());
        assert_eq!(plan.wrote(MIB + 5..3 * MIB + 10), vec![1, 2, 3]);
        assert!(plan.is_complete());
        assert_eq!(plan.completed_bytes(), 3 * MIB + 10);
        assert_eq!(plan.claim(1), None);
    }

    #[test]
    fn in_flight_bytes_are_not_handed_out_twice() {
        let mut plan = Plan::new(4 * MIB, MIB).min_split(MIB).spread_over(1);
        plan.claim(0).unwrap();
        plan.advance(0, 2 * MIB);
        plan.release(0);
        assert_eq!(plan.free_regions(), vec![2 * MIB..4 * MIB]);
        plan.write_failed(0..2 * MIB);
        assert_eq!(plan.free_regions(), vec![0..4 * MIB]);
    }

    #[test]
    fn steal_respects_min_split_and_victim_shrinks() {
        let mut plan = Plan::new(64 * MIB, MIB).min_split(20 * MIB).spread_over(1);
        plan.claim(0).unwrap();
        let thief = plan.claim(1).unwrap();
        assert_eq!(
            thief,
            Run {
                next: 32 * MIB,
                end: 64 * MIB
            }
        );
        assert_eq!(
            plan.run(0),
            Some(Run {
                next: 0,
                end: 32 * MIB
            })
        );
        // 32 MiB left in each run: below 2 × 20 MiB, so no more steals.
        assert_eq!(plan.claim(2), None);
        invariant(&plan);
    }

    #[test]
    fn extend_continues_into_free_bytes_only() {
        let mut plan = Plan::new(8 * MIB, MIB).min_split(MIB).spread_over(4);
        plan.claim(0).unwrap();
        plan.advance(0, 2 * MIB);
        assert_eq!(
            plan.extend(0),
            Some(Run {
                next: 2 * MIB,
                end: 4 * MIB
            })
        );
        plan.claim(1).unwrap(); // takes 4..6
        plan.advance(0, 2 * MIB);
        assert_eq!(plan.extend(0), None, "4 MiB onward is claimed");
    }

    #[test]
    fn resumes_around_done_pieces() {
        let mut done = Bitfield::new(4);
        done.set(1);
        done.set(2);
        let mut plan = Plan::new(4 * MIB, MIB)
            .with_done(done)
            .min_split(MIB)
            .spread_over(2);
        assert_eq!(plan.free_regions(), vec![0..MIB, 3 * MIB..4 * MIB]);
        let a = plan.claim(0).unwrap();
        let b = plan.claim(1).unwrap();
        assert_ne!(a, b);
        invariant(&plan);
    }

    #[test]
    fn selectors_stay_inside_free_bytes() {
        for sel in [
            Selector::Default,
            Selector::InOrder,
            Selector::Random,
            Selector::Geom,
        ] {
            let mut plan = Plan::new(50 * MIB + 3, MIB)
                .min_split(MIB)
                .spread_over(8)
                .selector(sel);
            let mut written = 0u64;
            let mut slot = 0;
            // Drive to completion with 3 sources taking turns.
            while !plan.is_complete() {
                let run = match plan.run(slot % 3) {
                    Some(r) if r.remaining() > 0 => r,
                    _ => match plan.claim(slot % 3) {
                        Some(r) => r,
                        None => {
                            slot += 1;
                            assert!(slot < 10_000, "{sel:?} stuck");
                            continue;
                        }
                    },
                };
                invariant(&plan);
                let n = run.remaining().min(700_000);
                let r = plan.advance(slot % 3, n);
                written += r.end - r.start;
                plan.wrote(r);
                slot += 1;
            }
            assert!(slot < 1000, "{sel:?} took {slot} turns: claims too small");
            assert_eq!(written, 50 * MIB + 3, "{sel:?} fetched bytes twice");
        }
    }
}
