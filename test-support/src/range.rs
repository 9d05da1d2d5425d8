//! Resolving a `Range` request header against a representation's length
//! (RFC 9110 §14.1–14.2), the way a careful origin server does.

use std::ops::Range;

/// What a `Range` header asks of a representation of a given length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RangeOutcome {
    /// No usable range: serve the whole representation with 200. Covers a
    /// missing header, one with bad syntax and multi-range requests (RFC 9110
    /// lets a server ignore any `Range` it does not want to honour).
    Full,
    /// Serve these bytes (half-open) with 206.
    Partial(Range<usize>),
    /// Valid syntax, but no byte of it exists: 416 with `bytes */len`.
    Unsatisfiable,
}

/// Resolves `header` (the `Range` field value, if any) against `len` bytes.
pub(crate) fn resolve(header: Option<&str>, len: usize) -> RangeOutcome {
    let Some(value) = header else {
        return RangeOutcome::Full;
    };
    let Some((unit, spec)) = value.trim().split_once('=') else {
        return RangeOutcome::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return RangeOutcome::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeOutcome::Full;
    };
    let len = len as u64;
    match (digits(first.trim()), digits(last.trim())) {
        // `-n`: the last n bytes.
        (None, Some(suffix)) if first.trim().is_empty() => {
            if suffix == 0 || len == 0 {
                RangeOutcome::Unsatisfiable
            } else {
                partial(len - suffix.min(len), len)
            }
        }
        // `a-`: from a to the end.
        (Some(start), None) if last.trim().is_empty() => {
            if start >= len {
                RangeOutcome::Unsatisfiable
            } else {
                partial(start, len)
            }
        }
        // `a-b`: inclusive; b may run past the end and is clamped.
        (Some(start), Some(end)) if start <= end => {
            if start >= len {
                RangeOutcome::Unsatisfiable
            } else {
                partial(start, end.saturating_add(1).min(len))
            }
        }
        _ => RangeOutcome::Full,
    }
}

fn partial(start: u64, end: u64) -> RangeOutcome {
    // Both bounds are at most the length of an in-memory file, so they fit.
    RangeOutcome::Partial(start as usize..end as usize)
}

/// A non-empty run of ASCII digits, saturating rather than overflowing: a
/// position past any real file is still a valid position.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::RangeOutcome::{Full, Partial, Unsatisfiable};
    use super::*;

    #[test]
    fn closed_ranges() {
        assert_eq!(resolve(Some("bytes=0-9"), 100), Partial(0..10));
        assert_eq!(resolve(Some("bytes=90-200"), 100), Partial(90..100));
        assert_eq!(resolve(Some("bytes=99-99"), 100), Partial(99..100));
        assert_eq!(
            resolve(Some("bytes=5-99999999999999999999999"), 100),
            Partial(5..100)
        );
        assert_eq!(resolve(Some("bytes=100-200"), 100), Unsatisfiable);
        assert_eq!(resolve(Some("bytes=9-3"), 100), Full);
    }

    #[test]
    fn open_and_suffix_ranges() {
        assert_eq!(resolve(Some("bytes=40-"), 100), Partial(40..100));
        assert_eq!(resolve(Some("bytes=100-"), 100), Unsatisfiable);
        assert_eq!(resolve(Some("bytes=-10"), 100), Partial(90..100));
        assert_eq!(resolve(Some("bytes=-1000"), 100), Partial(0..100));
        assert_eq!(resolve(Some("bytes=-0"), 100), Unsatisfiable);
        assert_eq!(resolve(Some("bytes=-5"), 0), Unsatisfiable);
        assert_eq!(resolve(Some("bytes=0-"), 0), Unsatisfiable);
    }

    #[test]
    fn ignored_headers() {
        assert_eq!(resolve(None, 100), Full);
        assert_eq!(resolve(Some("items=0-9"), 100), Full);
        assert_eq!(resolve(Some("bytes=0-9,20-29"), 100), Full);
        assert_eq!(resolve(Some("bytes=a-b"), 100), Full);
        assert_eq!(resolve(Some("bytes=-"), 100), Full);
        assert_eq!(resolve(Some("bytes 0-9"), 100), Full);
        assert_eq!(resolve(Some(" Bytes = 1-2 "), 100), Partial(1..3));
    }
}
