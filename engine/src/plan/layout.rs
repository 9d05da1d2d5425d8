//! How a byte space is cut into pieces: one grid of equal pieces from byte 0 (HTTP, FTP,
//! a torrent), or several regions back to back, each with its own grid from its own first
//! byte (a multi-file Metalink download, whose chunk checksums start afresh in every file).
//!
//! Invariants, established by the constructors: regions are non-empty, contiguous and in
//! order, from 0 to `total`; every piece length is > 0; a region's pieces are numbered
//! on from the previous region's, so piece indices run 0..count in byte order and every
//! byte is in exactly one piece.

use std::ops::Range;

/// Piece boundaries of one byte space.
#[derive(Debug, Clone)]
pub(super) struct Layout {
    total: u64,
    regions: Vec<Region>,
    count: usize,
}

#[derive(Debug, Clone)]
struct Region {
    start: u64,
    end: u64,
    piece_len: u64,
    /// Index of the region's first piece.
    first: usize,
}

impl Region {
    fn pieces(&self) -> usize {
        (self.end - self.start).div_ceil(self.piece_len) as usize
    }
}

impl Layout {
    /// One grid of `piece_len` (> 0) over `0..total`.
    pub(super) fn uniform(total: u64, piece_len: u64) -> Layout {
        Layout::regions(total, &[(0..total, piece_len)]).expect("one region covering the space")
    }

    /// Regions with their own piece lengths; `None` unless they are contiguous and in
    /// order from 0 to `total` and every piece length is > 0. Empty regions are allowed
    /// (an empty file) and hold no piece.
    pub(super) fn regions(total: u64, regions: &[(Range<u64>, u64)]) -> Option<Layout> {
        let mut out = Vec::with_capacity(regions.len());
        let mut pos = 0;
        let mut count = 0usize;
        for (r, piece_len) in regions {
            if r.start != pos || r.end < r.start || *piece_len == 0 {
                return None;
            }
            pos = r.end;
            if r.is_empty() {
                continue;
            }
            let region = Region {
                start: r.start,
                end: r.end,
                piece_len: *piece_len,
                first: count,
            };
            count = count.checked_add(region.pieces())?;
            out.push(region);
        }
        (pos == total).then_some(Layout {
            total,
            regions: out,
            count,
        })
    }

    /// Number of pieces.
    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// The piece length of the first region (1 for an empty space).
    pub(super) fn nominal(&self) -> u64 {
        self.regions.first().map_or(1, |r| r.piece_len)
    }

    /// Byte range of piece `i` (empty at `total` past the last piece).
    pub(super) fn range(&self, i: usize) -> Range<u64> {
        if i >= self.count {
            return self.total..self.total;
        }
        let r = &self.regions[self.regions.partition_point(|r| r.first + r.pieces() <= i)];
        let start = r.start + (i - r.first) as u64 * r.piece_len;
        start..(start + r.piece_len).min(r.end)
    }

    /// The piece holding byte `pos` (the last piece for `pos >= total`).
    pub(super) fn piece_at(&self, pos: u64) -> usize {
        let k = self.regions.partition_point(|r| r.end <= pos);
        match self.regions.get(k) {
            Some(r) => r.first + ((pos - r.start) / r.piece_len) as usize,
            None => self.count.saturating_sub(1),
        }
    }

    /// The first piece boundary at or after `pos` (`total` past the last one).
    pub(super) fn align_up(&self, pos: u64) -> u64 {
        if pos >= self.total {
            return self.total;
        }
        let r = self.range(self.piece_at(pos));
        if r.start == pos { pos } else { r.end }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_grid() {
        let l = Layout::uniform(25, 10);
        assert_eq!(l.count(), 3);
        assert_eq!(l.range(2), 20..25);
        assert_eq!(l.range(3), 25..25);
        assert_eq!(
            (l.piece_at(0), l.piece_at(9), l.piece_at(10), l.piece_at(24)),
            (0, 0, 1, 2)
        );
        assert_eq!(
            (l.align_up(0), l.align_up(1), l.align_up(20), l.align_up(21)),
            (0, 10, 20, 25)
        );
        assert_eq!(Layout::uniform(0, 10).count(), 0);
    }

    #[test]
    fn regions_start_their_own_grids() {
        // Files of 25, 0 and 7 bytes with 10- and 4-byte chunks.
        let l = Layout::regions(32, &[(0..25, 10), (25..25, 10), (25..32, 4)]).unwrap();
        assert_eq!(l.count(), 5);
        let ranges: Vec<_> = (0..5).map(|i| l.range(i)).collect();
        assert_eq!(ranges, vec![0..10, 10..20, 20..25, 25..29, 29..32]);
        for (i, r) in ranges.iter().enumerate() {
            for pos in r.clone() {
                assert_eq!(l.piece_at(pos), i);
            }
        }
        assert_eq!(
            (l.align_up(21), l.align_up(26), l.align_up(30)),
            (25, 29, 32)
        );
        assert_eq!(l.nominal(), 10);
    }

    #[test]
    fn regions_must_tile_the_space() {
        assert!(
            Layout::regions(10, &[(0..5, 4), (6..10, 4)]).is_none(),
            "gap"
        );
        assert!(
            Layout::regions(10, &[(0..6, 4), (5..10, 4)]).is_none(),
            "overlap"
        );
        assert!(Layout::regions(10, &[(0..5, 4)]).is_none(), "short");
        assert!(
            Layout::regions(10, &[(0..10, 0)]).is_none(),
            "zero piece length"
        );
        assert!(Layout::regions(0, &[]).is_some_and(|l| l.count() == 0));
    }
}
