//! What lenient decoding let through.

use core::fmt;

/// A departure from canonical bencode that lenient decoding accepted, and where.
///
/// Strict decoding rejects each of these as an [`Error`](crate::Error) of the matching
/// [`ErrorKind`](crate::ErrorKind), at the same offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    kind: WarningKind,
    offset: usize,
}

impl Warning {
    pub(crate) const fn new(kind: WarningKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// What was accepted.
    pub const fn kind(&self) -> WarningKind {
        self.kind
    }

    /// The byte offset of the key or token concerned.
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte offset {}", self.kind, self.offset)
    }
}

/// The kinds of non-canonical input that lenient decoding accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// A dictionary key sorts before the key preceding it. Reported at that key.
    UnsortedKey,
    /// A dictionary key repeats an earlier key of the same dictionary. Reported at each
    /// repetition; lookups see the first occurrence.
    DuplicateKey,
    /// An integer with a leading zero, such as `i03e`. Reported at the `i`.
    IntegerLeadingZero,
    /// The integer `i-0e`, read as zero. Reported at the `i`.
    NegativeZero,
    /// A string length with a leading zero, such as `03:abc`. Reported at its first digit.
    LengthLeadingZero,
}

impl fmt::Display for WarningKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnsortedKey => "dictionary key is out of order",
            Self::DuplicateKey => "dictionary key repeats an earlier key",
            Self::IntegerLeadingZero => "integer has a leading zero",
            Self::NegativeZero => "integer is negative zero",
            Self::LengthLeadingZero => "string length has a leading zero",
        })
    }
}
