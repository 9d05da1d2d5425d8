//! Why decoding failed, and where.

use core::fmt;

/// A decoding failure: which rule the input broke ([`ErrorKind`]) and the byte offset where.
///
/// The offset conventions are listed on each [`ErrorKind`] variant. In short, problems with
/// a single byte point at that byte, and problems with a whole integer, string or key point
/// at the first byte of that token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: usize,
}

impl Error {
    /// An error of `kind` at byte `offset` of the input.
    pub const fn new(kind: ErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// The rule that was broken.
    pub const fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The byte offset into the input where the problem was found.
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte offset {}", self.kind, self.offset)
    }
}

impl std::error::Error for Error {}

/// The rule a bencode input broke. One variant per rule.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ended inside a value (or was empty). The offset is the input's length.
    UnexpectedEof,
    /// A byte that cannot start a value: not `i`, `l`, `d` or a digit. Points at the byte.
    InvalidValueStart(u8),
    /// A byte inside an integer that is neither a digit nor the closing `e` (or a `-` that is
    /// not first). Points at the byte.
    InvalidIntegerByte(u8),
    /// An integer with no digits: `ie` or `i-e`. Points at the `i`.
    EmptyInteger,
    /// An integer written with a leading zero, such as `i03e` (strict mode only). Points at
    /// the `i`.
    IntegerLeadingZero,
    /// The integer `i-0e`, which has no canonical meaning (strict mode only). Points at the `i`.
    NegativeZero,
    /// An integer outside the range of `i64`. Points at the `i`.
    IntegerOverflow,
    /// A byte inside a string's length prefix that is neither a digit nor the `:`. Points at
    /// the byte.
    InvalidLengthByte(u8),
    /// A string length written with a leading zero, such as `03:abc` (strict mode only).
    /// Points at the first digit.
    LengthLeadingZero,
    /// A string length too large to represent at all. Points at the first digit.
    LengthOverflow,
    /// A string whose declared length runs past the end of the input. Points at the first
    /// digit of the length.
    StringBeyondInput {
        /// The length the prefix declares.
        declared: usize,
        /// How many bytes the input has after the `:`.
        available: usize,
    },
    /// A dictionary key that is not a byte string. Points at the key.
    NonStringKey,
    /// A dictionary that ends after a key, with no value for it. Points at the closing `e`.
    MissingDictValue,
    /// A dictionary key that sorts before the key preceding it (strict mode only). Points at
    /// the key.
    UnsortedKey,
    /// A dictionary key equal to the key preceding it (strict mode only). Points at the
    /// second key.
    DuplicateKey,
    /// A list or dictionary nested deeper than the decoder's limit. Points at the `l` or `d`
    /// that would exceed it.
    DepthLimitExceeded {
        /// The limit in force.
        limit: usize,
    },
    /// Bytes after the end of the top-level value. Points at the first of them.
    TrailingData,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEof => f.write_str("input ends inside a value"),
            Self::InvalidValueStart(b) => write!(
                f,
                "byte {} cannot start a value (expected 'i', 'l', 'd' or a digit)",
                ShowByte(*b)
            ),
            Self::InvalidIntegerByte(b) => write!(
                f,
                "byte {} inside an integer (expected a digit or 'e')",
                ShowByte(*b)
            ),
            Self::EmptyInteger => f.write_str("integer has no digits"),
            Self::IntegerLeadingZero => f.write_str("integer has a leading zero"),
            Self::NegativeZero => f.write_str("integer is negative zero"),
            Self::IntegerOverflow => f.write_str("integer does not fit in 64 bits"),
            Self::InvalidLengthByte(b) => write!(
                f,
                "byte {} inside a string length (expected a digit or ':')",
                ShowByte(*b)
            ),
            Self::LengthLeadingZero => f.write_str("string length has a leading zero"),
            Self::LengthOverflow => f.write_str("string length is too large"),
            Self::StringBeyondInput {
                declared,
                available,
            } => write!(
                f,
                "string declares {declared} bytes but only {available} remain"
            ),
            Self::NonStringKey => f.write_str("dictionary key is not a byte string"),
            Self::MissingDictValue => f.write_str("dictionary ends after a key with no value"),
            Self::UnsortedKey => f.write_str("dictionary key is out of order"),
            Self::DuplicateKey => f.write_str("dictionary key repeats the previous key"),
            Self::DepthLimitExceeded { limit } => {
                write!(f, "nesting exceeds the depth limit of {limit}")
            }
            Self::TrailingData => f.write_str("data follows the end of the value"),
        }
    }
}

/// Shows a byte as a quoted ASCII character when printable, as hex otherwise.
struct ShowByte(u8);

impl fmt::Display for ShowByte {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_ascii_graphic() {
            write!(f, "'{}'", self.0 as char)
        } else {
            write!(f, "0x{:02x}", self.0)
        }
    }
}
