//! `so` (BEP 53): which files of a torrent to download.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use crate::error::ErrorKind;

/// A BEP 53 select-only list such as `0,2,4-6`: zero-based file indices and inclusive
/// index ranges, kept in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SelectOnly {
    ranges: Vec<RangeInclusive<u32>>,
}

impl SelectOnly {
    /// A list of the given inclusive ranges; `None` if it is empty or a range is reversed.
    pub fn new(ranges: Vec<RangeInclusive<u32>>) -> Option<Self> {
        let valid = !ranges.is_empty() && ranges.iter().all(|r| r.start() <= r.end());
        valid.then_some(SelectOnly { ranges })
    }

    /// The ranges in the order written; a single index `n` is the range `n..=n`.
    pub fn ranges(&self) -> &[RangeInclusive<u32>] {
        &self.ranges
    }

    /// Whether file `index` is selected.
    pub fn contains(&self, index: u32) -> bool {
        self.ranges.iter().any(|r| r.contains(&index))
    }

    /// Reads a list like `0,2,4-6`. Empty items, reversed ranges and indices over `u32`
    /// are errors.
    pub fn parse(text: &str) -> Result<Self, ErrorKind> {
        let mut ranges = Vec::new();
        let mut at = 0;
        for item in text.split(',') {
            let range = match item.split_once('-') {
                Some((first, last)) => {
                    let start = index(first, at)?;
                    let end = index(last, at + first.len() + 1)?;
                    if end < start {
                        return Err(ErrorKind::BadSelection {
                            at,
                            reason: "range ends before it starts",
                        });
                    }
                    start..=end
                }
                None => {
                    let i = index(item, at)?;
                    i..=i
                }
            };
            ranges.push(range);
            at += item.chars().count() + 1;
        }
        Ok(SelectOnly { ranges })
    }
}

/// Reads one index starting at character `at` of the whole list.
fn index(text: &str, at: usize) -> Result<u32, ErrorKind> {
    if text.is_empty() {
        return Err(ErrorKind::BadSelection {
            at,
            reason: "expected a file index",
        });
    }
    if let Some(offset) = text.chars().position(|c| !c.is_ascii_digit()) {
        return Err(ErrorKind::BadSelection {
            at: at + offset,
            reason: "expected a digit, `,` or `-`",
        });
    }
    text.parse()
        .map_err(|_| ErrorKind::OutOfRange { what: "file index" })
}

impl FromStr for SelectOnly {
    type Err = ErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SelectOnly::parse(s)
    }
}

impl fmt::Display for SelectOnly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, range) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if range.start() == range.end() {
                write!(f, "{}", range.start())?;
            } else {
                write!(f, "{}-{}", range.start(), range.end())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_indices_and_ranges() {
        let so = SelectOnly::parse("0,2,4-6").unwrap();
        assert_eq!(so.ranges(), &[0..=0, 2..=2, 4..=6]);
        assert!(so.contains(5) && !so.contains(3));
        assert_eq!(so.to_string(), "0,2,4-6");
        assert_eq!(SelectOnly::parse("4-4").unwrap().to_string(), "4");
    }

    #[test]
    fn rejects_malformed_lists() {
        assert_eq!(
            SelectOnly::parse("1,,2"),
            Err(ErrorKind::BadSelection {
                at: 2,
                reason: "expected a file index"
            })
        );
        assert_eq!(
            SelectOnly::parse("1,6-4"),
            Err(ErrorKind::BadSelection {
                at: 2,
                reason: "range ends before it starts"
            })
        );
        assert_eq!(
            SelectOnly::parse("1,2-x"),
            Err(ErrorKind::BadSelection {
                at: 4,
                reason: "expected a digit, `,` or `-`"
            })
        );
        assert!(SelectOnly::parse("").is_err());
        assert!(SelectOnly::parse("1-2-3").is_err());
        assert_eq!(
            SelectOnly::parse("4294967296"),
            Err(ErrorKind::OutOfRange { what: "file index" })
        );
    }
}
