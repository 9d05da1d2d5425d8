//! The byte range a request asks for.

use std::fmt;

/// An inclusive range of byte offsets, as in a `Range: bytes=start-end` request
/// header. `end: None` asks for everything from `start` to the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// Offset of the first byte wanted.
    pub start: u64,
    /// Offset of the last byte wanted (inclusive), or `None` for "to the end".
    pub end: Option<u64>,
}

impl ByteRange {
    /// Bytes `start..=end`.
    pub const fn new(start: u64, end: u64) -> ByteRange {
        ByteRange {
            start,
            end: Some(end),
        }
    }

    /// Everything from `start` on.
    pub const fn from_start(start: u64) -> ByteRange {
        ByteRange { start, end: None }
    }

    /// How many bytes the range covers: `None` when open-ended or when `end`
    /// lies before `start` (such a range is invalid and a request refuses it).
    /// Saturates at `u64::MAX` for `0..=u64::MAX`.
    pub fn length(&self) -> Option<u64> {
        let end = self.end?;
        end.checked_sub(self.start).map(|d| d.saturating_add(1))
    }

    /// Whether `end`, when given, is not before `start`.
    pub fn is_valid(&self) -> bool {
        self.end.is_none_or(|end| end >= self.start)
    }

    /// Whether `offset` falls inside the range.
    pub fn contains(&self, offset: u64) -> bool {
        offset >= self.start && self.end.is_none_or(|end| offset <= end)
    }
}

/// Formats the `Range` header value: `bytes=start-end` or `bytes=start-`.
impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.end {
            Some(end) => write!(f, "bytes={}-{}", self.start, end),
            None => write!(f, "bytes={}-", self.start),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values() {
        assert_eq!(ByteRange::new(0, 499).to_string(), "bytes=0-499");
        assert_eq!(ByteRange::from_start(9500).to_string(), "bytes=9500-");
    }

    #[test]
    fn lengths_and_validity() {
        assert_eq!(ByteRange::new(0, 499).length(), Some(500));
        assert_eq!(ByteRange::new(7, 7).length(), Some(1));
        assert_eq!(ByteRange::from_start(7).length(), None);
        assert_eq!(ByteRange::new(8, 7).length(), None);
        assert_eq!(ByteRange::new(0, u64::MAX).length(), Some(u64::MAX));
        assert!(!ByteRange::new(8, 7).is_valid());
        assert!(ByteRange::from_start(8).is_valid());
        assert!(ByteRange::new(2, 4).contains(4));
        assert!(!ByteRange::new(2, 4).contains(5));
        assert!(ByteRange::from_start(2).contains(u64::MAX));
    }
}
