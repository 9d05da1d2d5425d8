//! The protocol-neutral piece model and the picker (sans-IO).
//!
//! A download is a byte space of known length cut into pieces — one grid from byte 0, or
//! one grid per region ([`Plan::with_regions`], for Metalink files whose chunk checksums
//! start in each file) — and each piece into blocks of [`BLOCK_LEN`] (the BitTorrent
//! request size) from the piece's first byte. Sources get work in two shapes:
//!
//! - **Runs** (HTTP and FTP mirrors, which have every byte): a source claims a run
//!   `[next, end)` ([`Plan::claim`]), fetches it front to back and reports bytes as they
//!   arrive ([`Plan::advance`]). Claims are sized `total / sources` (at least
//!   `--min-split-size`) so the first connections spread over the file; once nothing is
//!   free an idle source *steals* the back half of the run with the most bytes left
//!   (aria2's `-k` rule: only runs of at least twice the minimum split are cut). The
//!   victim learns about it from [`Plan::run`] and stops at its new end.
//! - **Block requests** (peers, which may have only some pieces): a source asks for up
//!   to N blocks ([`Plan::request_blocks`]) from pieces it has, partly requested pieces
//!   first, then rarest first; blocks arrive in any order ([`Plan::block_received`]) or
//!   are given back ([`Plan::cancel_block`]). When nothing is free the source may ask for
//!   blocks others already requested (endgame).
//!
//! Either way bytes go in flight to disk, and the disk worker's confirmation
//! ([`Plan::wrote`]) makes them written. A piece whose bytes are all written is done at
//! once when the download has no piece hashes; otherwise it is queued for a hasher
//! ([`Plan::take_ready_to_hash`]) and counts only after [`Plan::verified`]. A piece that
//! fails ([`Plan::hash_failed`]) is open again, and the slots that delivered its bytes are
//! returned so the engine can charge them.
//!
//! # Driving it
//!
//! - *Hashes*: build with [`Plan::verify_pieces`]; after each [`Plan::wrote`] (or once per
//!   loop turn) send [`Plan::take_ready_to_hash`] to the hashers; answer each with
//!   [`Plan::verified`] or [`Plan::hash_failed`] (whose slots are the ones to charge);
//!   save the control file from [`Plan::done`] and [`Plan::unverified_written`], and
//!   restore with [`Plan::with_done`] and [`Plan::with_written`].
//! - *Peers*: [`Plan::set_have`] when the bitfield arrives, [`Plan::add_have`] per
//!   `have`; [`Plan::request_blocks`] to fill the request queue; [`Plan::block_received`]
//!   per `piece` message (write the range it returns; cancel the slots it names);
//!   [`Plan::cancel_block`] on choke, reject or timeout; [`Plan::release`] when the peer
//!   goes.
//! - *Selection*: [`Plan::set_priority`] per file range (0 = not wanted); cancel the
//!   requests it returns.
//!
//! # Invariants
//!
//! Checked after every step of random operation sequences by the property tests:
//!
//! 1. Every byte is exactly one of: **free**; **claimed** by one run (in `[next, end)`);
//!    **requested** as part of one block (by one or more sources); **in flight** to disk;
//!    **written**; in a piece that is **ready** or **hashing**; in a **done** piece.
//!    Written bytes always lie in open pieces: the moment a piece's bytes are all
//!    written it leaves the written set for ready (or done). Only in-flight bytes can
//!    become written, so a late confirmation never lands on bytes handed out since.
//! 2. Runs never overlap one another; runs and requests never cover bytes of a piece
//!    that is unwanted (priority 0), ready, hashing or done.
//! 3. A source with a bitfield holds runs and requests only in pieces it has; it never
//!    requests the same block twice; a block is requested by more than one source only
//!    in endgame, when the later sources found nothing free.
//! 4. `done()` holds exactly the done pieces; with piece hashes a piece is done only
//!    after [`Plan::verified`] (or when restored as verified), never because its bytes
//!    were written. [`Plan::is_complete`] is "every wanted piece is done".
//! 5. A piece's availability is the number of sources with a bitfield that have it
//!    (mirrors have every piece and are not counted).
//!
//! # Cost
//!
//! [`Plan::advance`] and [`Plan::wrote`] run per buffer on the hot path: a few ordered-map
//! operations on sets that hold about one range per source, no scan and no allocation
//! (the maps' own nodes aside). Claims walk the pieces once per run; block requests look
//! at the started pieces first and walk every piece only when those are taken.

mod layout;
mod pieces;
mod requests;
#[cfg(test)]
mod tests;

use std::ops::Range;

use layout::Layout;
pub use pieces::PieceState;
use pieces::{Pieces, Stage};
use requests::Requests;

use crate::bitfield::Bitfield;
use crate::range_set::RangeSet;

/// Bytes in a block: the largest request a BitTorrent peer must serve.
pub const BLOCK_LEN: u64 = 16 << 10;

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

/// A block request: `len` bytes at `begin` within piece `piece` (BitTorrent's
/// `request` fields). Blocks lie on a [`BLOCK_LEN`] grid from the piece's start; a block
/// is shorter than that at the end of a piece, or where other bytes of its grid cell
/// were already fetched some other way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Block {
    /// Piece index.
    pub piece: usize,
    /// Offset of the first byte within the piece.
    pub begin: u32,
    /// Length in bytes (at most [`BLOCK_LEN`]).
    pub len: u32,
}

/// The piece map, the runs and block requests handed out over it.
#[derive(Debug, Clone)]
pub struct Plan {
    total: u64,
    layout: Layout,
    // Boxed, with `requests`, to keep a plan small enough to sit inline in the engine's
    // per-download state.
    pieces: Box<Pieces>,
    /// Whether pieces must be verified before they count.
    verify: bool,
    /// Confirmed-on-disk bytes of open pieces.
    written: RangeSet,
    /// Bytes delivered and on their way to disk.
    in_flight: RangeSet,
    runs: Vec<Option<Run>>,
    requests: Box<Requests>,
    /// Per slot, the pieces it has; `None` for a mirror, which has every piece.
    haves: Vec<Option<Bitfield>>,
    selector: Selector,
    min_split: u64,
    chunk: u64,
    rng: u64,
}

impl Plan {
    /// A plan for `total` bytes in pieces of `piece_len` (> 0), nothing done yet,
    /// every piece wanted, pieces done once written (no hashes).
    pub fn new(total: u64, piece_len: u64) -> Plan {
        Plan::with_layout(Layout::uniform(total, piece_len.max(1)))
    }

    /// A plan whose pieces follow `regions`, each `(byte range, piece length)` with its
    /// own grid from its first byte: a multi-file Metalink download whose files carry
    /// chunk checksums of their own, so that plan pieces are exactly the hashed pieces.
    /// `None` unless the ranges are contiguous and in order from 0 to `total` and every
    /// piece length is > 0 (an empty range, for an empty file, holds no piece).
    pub fn with_regions(total: u64, regions: &[(Range<u64>, u64)]) -> Option<Plan> {
        Layout::regions(total, regions).map(Plan::with_layout)
    }

    fn with_layout(layout: Layout) -> Plan {
        let total = layout.range(layout.count()).end;
        Plan {
            total,
            pieces: Box::new(Pieces::new(layout.count())),
            layout,
            verify: false,
            written: RangeSet::new(),
            in_flight: RangeSet::new(),
            runs: Vec::new(),
            requests: Box::default(),
            haves: Vec::new(),
            selector: Selector::Default,
            min_split: 20 << 20,
            chunk: u64::MAX,
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// Pieces have hashes: a written piece waits for [`Plan::verified`] before it counts.
    pub fn verify_pieces(mut self) -> Plan {
        if !self.verify {
            self.verify = true;
            self.pieces.track_contributors();
        }
        self
    }

    /// Starts from a known set of done (verified) pieces, from a control file or `-c`.
    /// Ignored when the bitfield's length is not the piece count.
    pub fn with_done(mut self, done: Bitfield) -> Plan {
        if done.len() != self.pieces.count() {
            return self;
        }
        for i in 0..done.len() {
            if done.get(i) {
                self.close_done(i);
            } else if self.pieces.stage(i) == Stage::Done {
                self.set_stage(i, Stage::Open);
            }
        }
        self.trim_runs();
        self
    }

    /// Restores bytes confirmed written but not verified (from a control file). Pieces
    /// they fill whole go to the hash queue when the plan verifies pieces, and are done
    /// otherwise; bytes of done pieces are ignored. Runs and requests over those bytes
    /// are cut back.
    pub fn with_written(mut self, ranges: impl IntoIterator<Item = Range<u64>>) -> Plan {
        let mut completed = Vec::new();
        for r in ranges {
            let r = r.start.min(self.total)..r.end.min(self.total);
            if r.is_empty() {
                continue;
            }
            self.in_flight.remove(r.clone());
            self.requests.drop_overlapping(r.clone(), |_, _, _| {});
            for run in self.runs.iter_mut().flatten() {
                if overlap(run, &r) {
                    run.end = if run.next < r.start {
                        r.start
                    } else {
                        run.next
                    };
                }
            }
            self.mark_written(r, &mut completed);
        }
        self.trim_runs();
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
        let piece_len = self.layout.nominal();
        let aligned = share
            .max(self.min_split)
            .div_ceil(piece_len)
            .saturating_mul(piece_len)
            .min(self.total);
        self.chunk = aligned.max(piece_len);
        self
    }

    /// Total length in bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Piece length in bytes (of the first region, for a plan made
    /// [`with_regions`](Plan::with_regions); [`Plan::piece_range`] is exact).
    pub fn piece_len(&self) -> u64 {
        self.layout.nominal()
    }

    /// Number of pieces.
    pub fn piece_count(&self) -> usize {
        self.pieces.count()
    }

    /// The done-piece bitfield (verified pieces, when the plan verifies pieces).
    pub fn done(&self) -> &Bitfield {
        self.pieces.done()
    }

    /// Whether every wanted piece is done.
    pub fn is_complete(&self) -> bool {
        self.pieces.wanted_left() == 0
    }

    /// Bytes in done pieces, plus — for a plan without piece hashes, where written is
    /// as good as done — bytes confirmed written elsewhere.
    pub fn completed_bytes(&self) -> u64 {
        let written = if self.verify { 0 } else { self.written.len() };
        self.pieces.done_bytes() + written
    }

    /// Bytes confirmed on disk, verified or not: what a readout of a download with piece
    /// hashes can show while [`Plan::completed_bytes`] waits for the hashers.
    pub fn written_bytes(&self) -> u64 {
        self.pieces.done_bytes() + self.pieces.staged_bytes() + self.written.len()
    }

    /// Byte range of piece `i`.
    pub fn piece_range(&self, i: usize) -> Range<u64> {
        self.layout.range(i)
    }

    /// Where piece `i` stands (`Missing` for an index past the end).
    pub fn piece_state(&self, i: usize) -> PieceState {
        if i >= self.pieces.count() {
            return PieceState::Missing;
        }
        match self.pieces.stage(i) {
            Stage::Ready => PieceState::Ready,
            Stage::Hashing => PieceState::Hashing,
            Stage::Done => PieceState::Done,
            Stage::Open => {
                let r = self.piece_range(i);
                let busy = self.written.overlaps(r.clone())
                    || self.in_flight.overlaps(r.clone())
                    || self.requests.bytes().overlaps(r.clone())
                    || self.runs.iter().flatten().any(|run| overlap(run, &r));
                if busy {
                    PieceState::Partial
                } else {
                    PieceState::Missing
                }
            }
        }
    }

    /// The run of `slot`, if it holds one.
    pub fn run(&self, slot: SourceSlot) -> Option<Run> {
        self.runs.get(slot).copied().flatten()
    }

    /// Number of sources holding runs.
    pub fn active_runs(&self) -> usize {
        self.runs.iter().flatten().count()
    }

    /// Hands `slot` a new run, or `None` when nothing is left to claim or steal. Any run
    /// `slot` held before is dropped first. A source with a bitfield
    /// ([`Plan::set_have`]) gets a run inside pieces it has, starting at the rarest.
    pub fn claim(&mut self, slot: SourceSlot) -> Option<Run> {
        self.drop_run(slot);
        let free = self.free_regions_for(slot);
        let run = if free.is_empty() {
            self.steal(slot)?
        } else {
            let region = if self.have_of(slot).is_some() {
                self.pick_rarest(&free)
            } else {
                self.pick(&free)
            };
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
            .free_regions_for(slot)
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
        self.drop_run(slot);
        let region = self
            .free_regions_for(slot)
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
        self.drop_run(slot);
        let free = self.free_regions_for(slot);
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
        if n > 0 {
            self.in_flight.insert(range.clone());
            if self.verify {
                let (first, last) = self.pieces_of(&range);
                self.pieces.note_contributor(first, last, slot);
            }
        }
        range
    }

    /// Forgets `slot`: its run and block requests are dropped (their bytes become free
    /// again) and its bitfield no longer counts; the slot is a mirror again if reused.
    pub fn release(&mut self, slot: SourceSlot) {
        self.drop_run(slot);
        self.requests.drop_slot(slot);
        if let Some(have) = self.haves.get_mut(slot).and_then(Option::take) {
            self.pieces.remove_available(&have);
        }
    }

    /// Records that `range` is confirmed on disk; returns the pieces this completed
    /// (made done). Pieces of a plan that verifies pieces never complete here: they
    /// become ready for [`Plan::take_ready_to_hash`]. Only bytes still in flight count:
    /// a late confirmation of bytes whose piece was restored as done meanwhile (and
    /// maybe reopened and handed out again since) changes nothing.
    pub fn wrote(&mut self, range: Range<u64>) -> Vec<usize> {
        let mut completed = Vec::new();
        if self.in_flight.covers(range.clone()) {
            self.in_flight.remove(range.clone());
            self.mark_written(range, &mut completed);
        } else {
            let parts: Vec<Range<u64>> = self.in_flight.within(range.clone()).collect();
            self.in_flight.remove(range);
            for part in parts {
                self.mark_written(part, &mut completed);
            }
        }
        completed
    }

    /// Records that a write of `range` failed: the bytes are free to fetch again.
    pub fn write_failed(&mut self, range: Range<u64>) {
        self.in_flight.remove(range);
    }

    /// Marks piece `i` as not done (its data failed verification): its bytes are free to
    /// fetch again.
    pub fn reject_piece(&mut self, i: usize) {
        if i < self.pieces.count() && self.pieces.stage(i) != Stage::Open {
            self.set_stage(i, Stage::Open);
        }
    }

    /// Moves every piece whose bytes are all written, and that waits for its hash, to
    /// hashing; the engine hands them to the hashers and answers each with
    /// [`Plan::verified`] or [`Plan::hash_failed`]. Empty for plans without hashes.
    pub fn take_ready_to_hash(&mut self) -> Vec<usize> {
        self.pieces.take_ready()
    }

    /// Piece `i` matched its hash: it is done. Returns false (and changes nothing) when
    /// the piece was not ready or hashing, e.g. it was restored as done meanwhile.
    pub fn verified(&mut self, i: usize) -> bool {
        if i >= self.pieces.count()
            || !matches!(self.pieces.stage(i), Stage::Hashing | Stage::Ready)
        {
            return false;
        }
        self.set_stage(i, Stage::Done);
        true
    }

    /// Piece `i` did not match its hash: its bytes are free to fetch again. Returns the
    /// slots that delivered bytes of it (to be charged), empty when the piece was not
    /// ready or hashing.
    pub fn hash_failed(&mut self, i: usize) -> Vec<SourceSlot> {
        if i >= self.pieces.count()
            || !matches!(self.pieces.stage(i), Stage::Hashing | Stage::Ready)
        {
            return Vec::new();
        }
        self.set_stage(i, Stage::Open);
        self.pieces.take_contributors(i)
    }

    /// Bytes confirmed written but not verified: the written bytes of open pieces and
    /// the whole of ready and hashing pieces (what a control file must keep so that a
    /// resumed download hashes them again).
    pub fn unverified_written(&self) -> RangeSet {
        let mut out = self.written.clone();
        for i in 0..self.pieces.count() {
            if matches!(self.pieces.stage(i), Stage::Ready | Stage::Hashing) {
                out.insert(self.piece_range(i));
            }
        }
        out
    }

    /// Priority of piece `i` (0 = not wanted).
    pub fn priority(&self, i: usize) -> u8 {
        if i < self.pieces.count() {
            self.pieces.priority(i)
        } else {
            0
        }
    }

    /// Sets the priority of the pieces holding bytes of `range` (0 = not wanted: never
    /// claimed or requested, not needed for [`Plan::is_complete`]). A piece only partly
    /// inside `range` (one shared with a neighbouring file) keeps the higher of its old
    /// and the new priority, so unselecting one file never unwants a piece another
    /// selected file needs. Runs are cut short before pieces that became unwanted; block
    /// requests in them are dropped and returned, for the engine to cancel.
    pub fn set_priority(&mut self, range: Range<u64>, priority: u8) -> Vec<(SourceSlot, Block)> {
        let range = range.start..range.end.min(self.total);
        let mut cancelled = Vec::new();
        if range.is_empty() {
            return cancelled;
        }
        let (first, last) = self.pieces_of(&range);
        for i in first..=last {
            let piece = self.piece_range(i);
            let inside = range.start <= piece.start && piece.end <= range.end;
            let p = if inside {
                priority
            } else {
                priority.max(self.pieces.priority(i))
            };
            self.pieces.set_priority(i, p);
            if p == 0 {
                let layout = &self.layout;
                self.requests
                    .drop_overlapping(piece.clone(), |slot, start, end| {
                        cancelled.push((slot, block_at(layout, start, end)));
                    });
            }
        }
        self.trim_runs();
        cancelled
    }

    /// Sets the pieces `slot` has (a peer's bitfield); from then on its claims and
    /// requests stay inside them. Call it when the bitfield arrives, before asking for
    /// work: the slot's run and requests are dropped. Returns false (and changes
    /// nothing) when the bitfield's length is not the piece count.
    pub fn set_have(&mut self, slot: SourceSlot, have: Bitfield) -> bool {
        if have.len() != self.pieces.count() {
            return false;
        }
        self.release(slot);
        self.pieces.add_available(&have);
        if self.haves.len() <= slot {
            self.haves.resize(slot + 1, None);
        }
        self.haves[slot] = Some(have);
        true
    }

    /// Records that `slot` now has piece `i` (a peer's `have`). A slot without a
    /// bitfield is a mirror and has every piece already.
    pub fn add_have(&mut self, slot: SourceSlot, i: usize) {
        if let Some(Some(have)) = self.haves.get_mut(slot)
            && i < have.len()
            && !have.get(i)
        {
            have.set(i);
            self.pieces.add_available_one(i);
        }
    }

    /// Records that `slot` does not have piece `i` after all (a peer that rejected a
    /// request for it): its requests in the piece are dropped, so it holds requests
    /// only in pieces it has (invariant 3). A mirror (no bitfield) is left alone.
    pub fn remove_have(&mut self, slot: SourceSlot, i: usize) {
        let Some(Some(have)) = self.haves.get_mut(slot) else {
            return;
        };
        if i >= have.len() || !have.get(i) {
            return;
        }
        have.clear(i);
        self.pieces.remove_available_one(i);
        let piece = self.piece_range(i);
        let inside: Vec<u64> = self
            .requests
            .of_slot(slot)
            .filter(|start| piece.contains(start))
            .collect();
        for start in inside {
            self.requests.drop_one(slot, start);
        }
    }

    /// Whether `slot` has piece `i`.
    pub fn has_piece(&self, slot: SourceSlot, i: usize) -> bool {
        i < self.pieces.count() && self.have_of(slot).is_none_or(|h| h.get(i))
    }

    /// How many sources with a bitfield have piece `i`.
    pub fn availability(&self, i: usize) -> u32 {
        if i < self.pieces.count() {
            self.pieces.availability(i)
        } else {
            0
        }
    }

    /// The byte range of `block`, or `None` when it does not lie inside one piece.
    pub fn block_range(&self, block: Block) -> Option<Range<u64>> {
        if block.piece >= self.pieces.count() || block.len == 0 {
            return None;
        }
        let piece = self.piece_range(block.piece);
        let start = piece.start + u64::from(block.begin);
        let end = start + u64::from(block.len);
        (end <= piece.end).then_some(start..end)
    }

    /// Asks for up to `max` blocks for `slot`, appending them to `out`; returns how many.
    /// Blocks come from wanted pieces the slot has: pieces already partly fetched first
    /// (to finish them), then by priority, then rarest first (in file order with
    /// [`Selector::InOrder`], for streaming). Costs a walk over the
    /// pieces only when the started ones have no free block left. When no block is free the
    /// slot gets blocks other sources requested and have not delivered (endgame), those
    /// with the fewest requesters first.
    pub fn request_blocks(&mut self, slot: SourceSlot, max: usize, out: &mut Vec<Block>) -> usize {
        if max == 0 {
            return 0;
        }
        let before = out.len();
        let busy = self.run_set();
        let mut regions = Vec::new();
        // Pieces already started are few: try them before looking at every piece.
        let started = self.started_candidates(slot);
        for &(_, i) in &started {
            let room = max - (out.len() - before);
            if room == 0 {
                break;
            }
            self.take_blocks(slot, i, &busy, room, out, &mut regions);
        }
        if out.len() - before < max {
            let mut started: Vec<usize> = started.into_iter().map(|(_, i)| i).collect();
            started.sort_unstable();
            let mut fresh = self.fresh_candidates(slot, &started);
            // Only the first few pieces are usually needed: order those, and the rest
            // only when the first ones turn out to be taken.
            let need = (max as u64 * BLOCK_LEN).div_ceil(self.layout.nominal()) as usize + 1;
            let mut sorted = 0;
            let mut k = 0;
            while k < fresh.len() && out.len() - before < max {
                if k == sorted {
                    let upto = (sorted + need.max(sorted)).min(fresh.len());
                    if upto < fresh.len() {
                        fresh[sorted..].select_nth_unstable(upto - sorted);
                    }
                    fresh[sorted..upto].sort_unstable();
                    sorted = upto;
                }
                let room = max - (out.len() - before);
                self.take_blocks(slot, fresh[k].1, &busy, room, out, &mut regions);
                k += 1;
            }
        }
        if out.len() == before {
            self.endgame(slot, max, out);
        }
        out.len() - before
    }

    /// A block arrived from `slot`. Returns the byte range now in flight to disk (write
    /// it, then report [`Plan::wrote`]), or `None` when the block was not requested by
    /// `slot` (never asked for, cancelled, or already delivered by another source in
    /// endgame): drop the data. Other sources that asked for the same block are pushed
    /// to `cancel`, for the engine to send them a cancel.
    pub fn block_received(
        &mut self,
        slot: SourceSlot,
        block: Block,
        cancel: &mut Vec<SourceSlot>,
    ) -> Option<Range<u64>> {
        let range = self.block_range(block)?;
        let req = self.requests.get(range.start)?;
        if req.end != range.end || !req.slots.contains(&slot) {
            return None;
        }
        let req = self.requests.take(range.start).expect("looked up above");
        cancel.extend(req.slots.into_iter().filter(|&s| s != slot));
        self.in_flight.insert(range.clone());
        self.pieces.note_contributor(block.piece, block.piece, slot);
        Some(range)
    }

    /// Withdraws `slot`'s request for `block` (cancelled, rejected, timed out, or the
    /// peer choked): its bytes are free again unless another source asked for them too.
    /// Returns whether `slot` had requested it.
    pub fn cancel_block(&mut self, slot: SourceSlot, block: Block) -> bool {
        match self.block_range(block) {
            Some(r) if self.requests.get(r.start).is_some_and(|q| q.end == r.end) => {
                self.requests.drop_one(slot, r.start)
            }
            _ => false,
        }
    }

    /// The blocks `slot` has requested and not yet received.
    pub fn requests_of(&self, slot: SourceSlot) -> impl Iterator<Item = Block> + '_ {
        self.requests.of_slot(slot).map(move |start| {
            let end = self.requests.get(start).map_or(start, |q| q.end);
            block_at(&self.layout, start, end)
        })
    }

    /// The bytes of `range` still to come from block requests: in open, wanted pieces,
    /// and neither claimed by a run, in flight nor written (free or requested). What a
    /// chunk of peer blocks on its way to disk waits for (`crate::bt::chunks`).
    pub fn awaited(&self, range: Range<u64>) -> RangeSet {
        let mut out = RangeSet::new();
        let range = range.start..range.end.min(self.total);
        if range.is_empty() {
            return out;
        }
        for i in self.layout.piece_at(range.start)..=self.layout.piece_at(range.end - 1) {
            if self.pieces.open(i) {
                let r = self.piece_range(i);
                out.insert(r.start.max(range.start)..r.end.min(range.end));
            }
        }
        let runs = self.run_set();
        for set in [&runs, &self.written, &self.in_flight] {
            for r in set.within(range.clone()) {
                out.remove(r);
            }
        }
        out
    }

    /// Bytes nobody holds, in wanted pieces that are not written whole: not claimed,
    /// requested, in flight or written.
    pub fn free_regions(&self) -> Vec<Range<u64>> {
        let busy = self.run_set();
        let mut free = Vec::new();
        let mut i = 0;
        let pieces = self.pieces.count();
        while i < pieces {
            if !self.pieces.open(i) {
                i += 1;
                continue;
            }
            let start = i;
            while i < pieces && self.pieces.open(i) {
                i += 1;
            }
            let span = self.piece_range(start).start..self.piece_range(i - 1).end;
            self.subtract_busy(span, &busy, &mut free);
        }
        free
    }

    /// [`Plan::free_regions`] cut down to the pieces `slot` has.
    fn free_regions_for(&self, slot: SourceSlot) -> Vec<Range<u64>> {
        let free = self.free_regions();
        let Some(have) = self.have_of(slot) else {
            return free;
        };
        let mut out = Vec::new();
        for r in free {
            let (first, last) = self.pieces_of(&r);
            let mut i = first;
            while i <= last {
                if !have.get(i) {
                    i += 1;
                    continue;
                }
                let from = i;
                while i <= last && have.get(i) {
                    i += 1;
                }
                let span = self.piece_range(from).start.max(r.start)
                    ..self.piece_range(i - 1).end.min(r.end);
                out.push(span);
            }
        }
        out
    }

    fn run_set(&self) -> RangeSet {
        let mut busy = RangeSet::new();
        for run in self.runs.iter().flatten() {
            busy.insert(run.next..run.end);
        }
        busy
    }

    fn subtract_busy(&self, span: Range<u64>, busy: &RangeSet, out: &mut Vec<Range<u64>>) {
        // Walk the span range by range, skipping what any set covers. The sets are small
        // (about one entry per source), so stepping by their boundaries is cheap.
        let sets = [busy, &self.written, &self.in_flight, self.requests.bytes()];
        let mut pos = span.start;
        while pos < span.end {
            let taken = sets
                .iter()
                .filter_map(|s| s.containing(pos))
                .map(|r| r.end)
                .max();
            if let Some(end) = taken {
                pos = end;
                continue;
            }
            let next_busy = sets
                .iter()
                .filter_map(|s| s.next_start_after(pos))
                .min()
                .unwrap_or(span.end)
                .min(span.end);
            out.push(pos..next_busy);
            pos = next_busy;
        }
    }

    /// Requests up to `room` free blocks of piece `i` for `slot`, in byte order, on the
    /// piece's [`BLOCK_LEN`] grid.
    fn take_blocks(
        &mut self,
        slot: SourceSlot,
        i: usize,
        busy: &RangeSet,
        room: usize,
        out: &mut Vec<Block>,
        regions: &mut Vec<Range<u64>>,
    ) {
        let piece = self.piece_range(i);
        regions.clear();
        self.subtract_busy(piece.clone(), busy, regions);
        let mut taken = 0;
        for r in regions.iter() {
            let mut start = r.start;
            while start < r.end && taken < room {
                let cell_end = piece.start + ((start - piece.start) / BLOCK_LEN + 1) * BLOCK_LEN;
                let end = cell_end.min(r.end);
                self.requests.add(slot, start..end);
                out.push(block_at(&self.layout, start, end));
                taken += 1;
                start = end;
            }
        }
    }

    /// The order key of open piece `i` among pieces alike: higher priority first, then
    /// rarer first — or, with the in-order selector (streaming), in file order.
    fn rank(&self, i: usize) -> u64 {
        let rank = u64::from(u8::MAX - self.pieces.priority(i)) << 32;
        if self.selector == Selector::InOrder {
            rank
        } else {
            rank | u64::from(self.pieces.availability(i))
        }
    }

    /// Open pieces `slot` has that are partly requested, in flight or written, in the
    /// order to finish them. Found from the byte sets, which hold few ranges, not by
    /// walking every piece.
    fn started_candidates(&self, slot: SourceSlot) -> Vec<(u64, usize)> {
        let mut started = Vec::new();
        let sets = [&self.written, &self.in_flight, self.requests.bytes()];
        for set in sets {
            for r in set.iter() {
                let (first, last) = self.pieces_of(&r);
                started.extend(first..=last);
            }
        }
        started.sort_unstable();
        started.dedup();
        let mut keyed: Vec<(u64, usize)> = started
            .into_iter()
            .filter(|&i| self.pieces.open(i) && self.has_piece(slot, i))
            .map(|i| (self.rank(i), i))
            .collect();
        keyed.sort_unstable();
        keyed
    }

    /// Every other open piece `slot` has, keyed by [`Plan::rank`] (unsorted).
    fn fresh_candidates(&self, slot: SourceSlot, started: &[usize]) -> Vec<(u64, usize)> {
        let have = self.have_of(slot);
        (0..self.pieces.count())
            .filter(|&i| self.pieces.open(i) && have.is_none_or(|h| h.get(i)))
            .filter(|i| started.binary_search(i).is_err())
            .map(|i| (self.rank(i), i))
            .collect()
    }

    /// Endgame: duplicate requests of blocks others asked for and `slot` did not.
    fn endgame(&mut self, slot: SourceSlot, max: usize, out: &mut Vec<Block>) {
        let mut dups: Vec<(usize, u64, u64)> = self
            .requests
            .iter()
            .filter(|(start, q)| {
                !q.slots.contains(&slot) && self.has_piece(slot, self.layout.piece_at(*start))
            })
            .map(|(start, q)| (q.slots.len(), start, q.end))
            .collect();
        dups.sort_unstable();
        for (_, start, end) in dups.into_iter().take(max) {
            self.requests.add(slot, start..end);
            out.push(block_at(&self.layout, start, end));
        }
    }

    /// Records confirmed bytes, piece by piece: bytes of open pieces join the written
    /// set; a piece written whole becomes done (no hashes) or ready (hashes).
    fn mark_written(&mut self, range: Range<u64>, completed: &mut Vec<usize>) {
        if range.is_empty() {
            return;
        }
        let (first, last) = self.pieces_of(&range);
        for i in first..=last {
            if self.pieces.stage(i) != Stage::Open {
                continue;
            }
            let piece = self.piece_range(i);
            self.written
                .insert(range.start.max(piece.start)..range.end.min(piece.end));
            if self.written.covers(piece.clone()) {
                self.written.remove(piece);
                if self.verify {
                    self.set_stage(i, Stage::Ready);
                } else {
                    self.set_stage(i, Stage::Done);
                    completed.push(i);
                }
            }
        }
    }

    /// Makes piece `i` done outright (restored from a control file): no byte of it stays
    /// written, in flight or requested.
    fn close_done(&mut self, i: usize) {
        let piece = self.piece_range(i);
        self.written.remove(piece.clone());
        self.in_flight.remove(piece.clone());
        self.requests.drop_overlapping(piece, |_, _, _| {});
        self.set_stage(i, Stage::Done);
    }

    /// Cuts every run short before its first byte in a piece that is no longer open.
    fn trim_runs(&mut self) {
        for k in 0..self.runs.len() {
            let Some(run) = self.runs[k] else { continue };
            if run.remaining() == 0 {
                continue;
            }
            let (first, last) = self.pieces_of(&(run.next..run.end));
            if let Some(i) = (first..=last).find(|&i| !self.pieces.open(i)) {
                let end = self.piece_range(i).start.max(run.next);
                self.runs[k] = Some(Run {
                    next: run.next,
                    end,
                });
            }
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
                let pieces = (r.end - r.start).div_ceil(self.layout.nominal());
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

    /// The free bytes from the rarest piece on (lowest index among equals), to the end
    /// of its region.
    fn pick_rarest(&self, free: &[Range<u64>]) -> Range<u64> {
        let mut best: Option<(u32, usize, Range<u64>)> = None;
        for r in free {
            let (first, last) = self.pieces_of(r);
            for i in first..=last {
                let a = self.pieces.availability(i);
                if best.as_ref().is_none_or(|b| a < b.0) {
                    let start = self.piece_range(i).start.max(r.start);
                    best = Some((a, i, start..r.end));
                }
            }
        }
        best.map_or(0..0, |b| b.2)
    }

    /// The start of the piece `ahead` pieces into free region `r` (its own start for
    /// 0), or `r.start` when that lies past the region: claims stay piece-aligned and
    /// never shrink to a sliver at a region's end.
    fn piece_start_ahead(&self, r: &Range<u64>, ahead: u64) -> u64 {
        if ahead == 0 {
            return r.start;
        }
        let first_boundary = self.align_up(r.start);
        if first_boundary >= self.total {
            return r.start;
        }
        let target = (self.layout.piece_at(first_boundary) as u64).saturating_add(ahead - 1);
        let start = usize::try_from(target).map_or(self.total, |t| self.piece_range(t).start);
        if start < r.end { start } else { r.start }
    }

    /// Cuts the back half off the run with the most bytes left, for `thief`. A thief
    /// with a bitfield takes it only if it has every piece of that half.
    fn steal(&mut self, thief: SourceSlot) -> Option<Run> {
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
        if let Some(have) = self.have_of(thief) {
            let (first, last) = self.pieces_of(&(mid..run.end));
            if !(first..=last).all(|i| have.get(i)) {
                return None;
            }
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

    fn have_of(&self, slot: SourceSlot) -> Option<&Bitfield> {
        self.haves.get(slot).and_then(Option::as_ref)
    }

    fn drop_run(&mut self, slot: SourceSlot) {
        self.set_run(slot, None);
    }

    fn set_run(&mut self, slot: SourceSlot, run: Option<Run>) {
        if self.runs.len() <= slot {
            self.runs.resize(slot + 1, None);
        }
        self.runs[slot] = run;
    }

    /// First and last piece holding bytes of the non-empty `range`.
    fn pieces_of(&self, range: &Range<u64>) -> (usize, usize) {
        let last = range.end.max(range.start + 1) - 1;
        (
            self.layout.piece_at(range.start),
            self.layout.piece_at(last),
        )
    }

    fn align_up(&self, pos: u64) -> u64 {
        self.layout.align_up(pos)
    }

    fn set_stage(&mut self, i: usize, stage: Stage) {
        let len = self.layout.range(i);
        self.pieces.set_stage(i, stage, len.end - len.start);
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: deterministic, good enough to scatter claims.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// The block covering bytes `start..end` (inside one piece).
fn block_at(layout: &Layout, start: u64, end: u64) -> Block {
    let piece = layout.piece_at(start);
    Block {
        piece,
        begin: (start - layout.range(piece).start) as u32,
        len: (end - start) as u32,
    }
}

/// Whether the bytes `run` has still to fetch include any of `r`.
fn overlap(run: &Run, r: &Range<u64>) -> bool {
    run.next.max(r.start) < run.end.min(r.end)
}
