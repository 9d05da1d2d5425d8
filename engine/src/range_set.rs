//! A set of byte ranges, kept merged. The engine records here which bytes the disk
//! worker has confirmed written, so a piece counts as done only when every byte of it
//! is on disk, whichever sources wrote it and in whatever order the writes completed.

use std::collections::BTreeMap;
use std::ops::Range;

/// Disjoint, non-adjacent half-open ranges, keyed by start.
#[derive(Debug, Default, Clone)]
pub struct RangeSet {
    ranges: BTreeMap<u64, u64>,
}

impl RangeSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `r`, merging it with any range it overlaps or touches.
    pub fn insert(&mut self, r: Range<u64>) {
        if r.is_empty() {
            return;
        }
        let (mut start, mut end) = (r.start, r.end);
        // A range starting at or before `start` may reach into `r`.
        if let Some((&s, &e)) = self.ranges.range(..=start).next_back()
            && e >= start
        {
            start = s;
            end = end.max(e);
            self.ranges.remove(&s);
        }
        // Ranges starting inside `r` (or right at its end) are swallowed.
        while let Some((&s, &e)) = self.ranges.range(start..=end).next() {
            end = end.max(e);
            self.ranges.remove(&s);
        }
        self.ranges.insert(start, end);
    }

    /// Whether every byte of `r` is in the set.
    pub fn covers(&self, r: Range<u64>) -> bool {
        if r.is_empty() {
            return true;
        }
        match self.ranges.range(..=r.start).next_back() {
            Some((_, &e)) => e >= r.end,
            None => false,
        }
    }

    /// Removes every byte of `r` from the set. Allocates nothing beyond what the map
    /// needs for the pieces left on either side (this runs per buffer on the hot path).
    pub fn remove(&mut self, r: Range<u64>) {
        if r.is_empty() {
            return;
        }
        // A range starting before `r` may reach into it: keep its head (and its tail,
        // when it reaches past `r`).
        if let Some((&s, &e)) = self.ranges.range(..r.start).next_back()
            && e > r.start
        {
            self.ranges.insert(s, r.start);
            if e > r.end {
                self.ranges.insert(r.end, e);
                return;
            }
        }
        // Ranges starting inside `r`: drop them, keeping the tail of the last one.
        while let Some((&s, &e)) = self.ranges.range(r.start..r.end).next() {
            self.ranges.remove(&s);
            if e > r.end {
                self.ranges.insert(r.end, e);
                break;
            }
        }
    }

    /// Whether any byte of `r` is in the set.
    pub fn overlaps(&self, r: Range<u64>) -> bool {
        if r.is_empty() {
            return false;
        }
        match self.ranges.range(..r.end).next_back() {
            Some((_, &e)) => e > r.start,
            None => false,
        }
    }

    /// The ranges in order.
    pub fn iter(&self) -> impl Iterator<Item = Range<u64>> + '_ {
        self.ranges.iter().map(|(&s, &e)| s..e)
    }

    /// The parts of the set inside `r`, in order.
    pub fn within(&self, r: Range<u64>) -> impl Iterator<Item = Range<u64>> + '_ {
        let head = self
            .ranges
            .range(..r.start)
            .next_back()
            .filter(|&(_, &e)| e > r.start)
            .map(|(&s, &e)| s..e);
        let rest = self.ranges.range(r.start..r.end).map(|(&s, &e)| s..e);
        head.into_iter()
            .chain(rest)
            .map(move |x| x.start.max(r.start)..x.end.min(r.end))
            .filter(|x| !x.is_empty())
    }

    /// Total bytes in the set.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|(s, e)| e - s).sum()
    }

    /// The range holding `pos`, if any.
    pub fn containing(&self, pos: u64) -> Option<Range<u64>> {
        let (&s, &e) = self.ranges.range(..=pos).next_back()?;
        (pos < e).then_some(s..e)
    }

    /// The start of the first range that begins after `pos`.
    pub fn next_start_after(&self, pos: u64) -> Option<u64> {
        use std::ops::Bound::{Excluded, Unbounded};
        self.ranges
            .range((Excluded(pos), Unbounded))
            .next()
            .map(|(&s, _)| s)
    }

    /// Whether the set holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_overlapping_and_touching() {
        let mut s = RangeSet::new();
        s.insert(10..20);
        s.insert(30..40);
        assert!(!s.covers(10..40));
        s.insert(20..30);
        assert!(s.covers(10..40));
        assert_eq!(s.len(), 30);
        s.insert(5..12);
        s.insert(35..50);
        assert!(s.covers(5..50));
        assert_eq!(s.len(), 45);
    }

    #[test]
    fn covers_needs_every_byte() {
        let mut s = RangeSet::new();
        s.insert(0..100);
        s.insert(101..200);
        assert!(s.covers(0..100));
        assert!(!s.covers(0..101));
        assert!(!s.covers(99..102));
        assert!(s.covers(150..200));
        assert!(!s.covers(150..201));
    }

    #[test]
    fn remove_splits() {
        let mut s = RangeSet::new();
        s.insert(0..100);
        s.remove(40..60);
        assert!(s.covers(0..40));
        assert!(s.covers(60..100));
        assert!(!s.covers(39..41));
        assert_eq!(s.len(), 80);
        s.remove(0..100);
        assert!(s.is_empty());
    }

    #[test]
    fn remove_across_several_ranges_keeps_both_ends() {
        let mut s = RangeSet::new();
        s.insert(0..10);
        s.insert(20..30);
        s.insert(40..50);
        s.remove(5..45);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0..5, 45..50]);
        s.remove(46..47);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![0..5, 45..46, 47..50]);
    }

    #[test]
    fn overlaps_and_within() {
        let mut s = RangeSet::new();
        s.insert(10..20);
        s.insert(30..40);
        assert!(!s.overlaps(0..10));
        assert!(s.overlaps(0..11));
        assert!(s.overlaps(19..30));
        assert!(!s.overlaps(20..30));
        assert!(!s.overlaps(40..50));
        assert!(!s.overlaps(15..15));
        assert_eq!(s.within(15..35).collect::<Vec<_>>(), vec![15..20, 30..35]);
        assert_eq!(s.within(20..30).count(), 0);
    }
}
