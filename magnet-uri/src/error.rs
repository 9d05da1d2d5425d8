//! Why a magnet link was rejected: which parameter, where, and which rule it broke.

use std::fmt;

/// A magnet link that could not be parsed.
///
/// Every error names the parameter as it was written in the link (`xt.2`, `dn`, …), the
/// byte offset at which that parameter starts, and the rule it broke ([`ErrorKind`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    parameter: Option<String>,
    offset: usize,
    kind: ErrorKind,
}

impl ParseError {
    pub(crate) fn missing_prefix() -> Self {
        ParseError {
            parameter: None,
            offset: 0,
            kind: ErrorKind::MissingPrefix,
        }
    }

    pub(crate) fn in_parameter(parameter: &str, offset: usize, kind: ErrorKind) -> Self {
        ParseError {
            parameter: Some(parameter.to_owned()),
            offset,
            kind,
        }
    }

    /// The parameter's name exactly as written in the link (still percent-encoded, with its
    /// group number), or `None` when the link as a whole is malformed.
    pub fn parameter(&self) -> Option<&str> {
        self.parameter.as_deref()
    }

    /// Byte offset in the link where the offending parameter starts (0 for a bad prefix).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The rule that was broken.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.parameter {
            Some(name) => write!(
                f,
                "parameter `{name}` (byte {}): {}",
                self.offset, self.kind
            ),
            None => self.kind.fmt(f),
        }
    }
}

impl std::error::Error for ParseError {}

/// The text encoding a value was expected to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Hexadecimal digits `0-9a-f`, either case.
    Hex,
    /// RFC 4648 base32 (`A-Z2-7`, either case, no padding).
    Base32,
    /// Decimal digits `0-9`.
    Decimal,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Hex => "hex",
            Encoding::Base32 => "base32",
            Encoding::Decimal => "decimal",
        })
    }
}

/// The rule a magnet link broke. `what` fields name the value being read, such as
/// `"btih hash"` or `"exact length"`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The link does not start with `magnet:?` (the scheme is matched case-insensitively).
    MissingPrefix,
    /// A `%` is not followed by two hex digits; `at` is the byte offset of the `%` within
    /// the parameter's raw `name=value` text.
    BadPercentEscape {
        /// Offset of the `%` from the start of the parameter.
        at: usize,
    },
    /// The percent-decoded name or value is not UTF-8.
    NotUtf8,
    /// A value has the wrong number of characters.
    BadLength {
        /// The value being read.
        what: &'static str,
        /// The lengths that would be accepted.
        expected: &'static str,
        /// The length found, in characters.
        found: usize,
    },
    /// A character outside the value's alphabet.
    BadAlphabet {
        /// The value being read.
        what: &'static str,
        /// The encoding the value must use.
        encoding: Encoding,
        /// Character index within the value.
        at: usize,
        /// The offending character.
        found: char,
    },
    /// A base32 value whose unused low bits in the last character are not zero, so it is
    /// not the encoding of any byte string of the expected length.
    NonCanonical {
        /// The value being read.
        what: &'static str,
    },
    /// A number too large for its field (exact length over `u64`, CRC-32 over `u32`, a port
    /// over 65535, a file index or group number over `u32`).
    OutOfRange {
        /// The value being read.
        what: &'static str,
    },
    /// A `urn:btmh:` value that is not a well-formed multihash.
    BadMultihash {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `so` (BEP 53 select-only) list that is not of the form `0,2,4-6`.
    BadSelection {
        /// Character index within the value.
        at: usize,
        /// What is wrong there.
        reason: &'static str,
    },
    /// An `x.pe` peer address that is not `host:port`, `ipv4:port` or `[ipv6]:port`.
    BadPeer {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A parameter that holds one value per file (`dn`, `xl`, `kt`, `so`) appears twice in
    /// the same group. Un-numbered parameters belong to the first group, so `dn` and `dn.1`
    /// collide.
    Repeated,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::MissingPrefix => f.write_str("a magnet link must start with `magnet:?`"),
            ErrorKind::BadPercentEscape { at } => {
                write!(
                    f,
                    "bad percent-escape at byte {at}: `%` must be followed by two hex digits"
                )
            }
            ErrorKind::NotUtf8 => f.write_str("percent-decoded text is not UTF-8"),
            ErrorKind::BadLength {
                what,
                expected,
                found,
            } => {
                write!(
                    f,
                    "bad length: {what} must be {expected}, found {found} characters"
                )
            }
            ErrorKind::BadAlphabet {
                what,
                encoding,
                at,
                found,
            } => {
                write!(
                    f,
                    "bad alphabet: {what} must be {encoding}, found {found:?} at character {at}"
                )
            }
            ErrorKind::NonCanonical { what } => {
                write!(
                    f,
                    "non-canonical base32: {what} has non-zero bits after its last byte"
                )
            }
            ErrorKind::OutOfRange { what } => write!(f, "out of range: {what} is too large"),
            ErrorKind::BadMultihash { reason } => write!(f, "bad multihash: {reason}"),
            ErrorKind::BadSelection { at, reason } => {
                write!(f, "bad select-only list at character {at}: {reason}")
            }
            ErrorKind::BadPeer { reason } => write!(f, "bad peer address: {reason}"),
            ErrorKind::Repeated => {
                f.write_str("repeated: this parameter may appear once per file (group)")
            }
        }
    }
}

impl std::error::Error for ErrorKind {}
