//! The `Content-Range` response field (RFC 9110 §14.4).

use std::fmt;
use std::str::FromStr;

/// A parsed `Content-Range` value, `bytes` unit only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContentRange {
    /// `bytes first-last/complete` or `bytes first-last/*`.
    Bytes {
        /// Offset of the first byte in this response.
        first: u64,
        /// Offset of the last byte (inclusive).
        last: u64,
        /// The whole representation's length, `None` for `*` (unknown).
        complete_length: Option<u64>,
    },
    /// `bytes */complete`: sent with 416 to say how long the representation is.
    Unsatisfied {
        /// The whole representation's length.
        complete_length: u64,
    },
}

/// Why a `Content-Range` value does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentRangeError {
    /// The range unit is not `bytes`.
    #[error("range unit {unit:?} is not \"bytes\"")]
    UnsupportedUnit {
        /// The unit found.
        unit: String,
    },
    /// The value is not `unit SP range "/" length`.
    #[error("not of the form \"bytes first-last/length\"")]
    Malformed,
    /// A position or length is not a decimal number fitting in 64 bits.
    #[error("{what} is not a decimal number that fits in 64 bits")]
    InvalidNumber {
        /// Which part: `"first byte"`, `"last byte"` or `"complete length"`.
        what: &'static str,
    },
    /// The first byte comes after the last.
    #[error("first byte {first} is after last byte {last}")]
    FirstAfterLast {
        /// First byte position.
        first: u64,
        /// Last byte position.
        last: u64,
    },
    /// The last byte lies at or beyond the complete length.
    #[error("last byte {last} is not below the complete length {complete_length}")]
    LastBeyondLength {
        /// Last byte position.
        last: u64,
        /// Complete length.
        complete_length: u64,
    },
}

impl ContentRange {
    /// How many bytes this response carries (`None` for [`ContentRange::Unsatisfied`]),
    /// saturating at `u64::MAX` for `bytes 0-18446744073709551615/*`.
    pub fn length(&self) -> Option<u64> {
        match *self {
            ContentRange::Bytes { first, last, .. } => {
                Some(last.saturating_sub(first).saturating_add(1))
            }
            ContentRange::Unsatisfied { .. } => None,
        }
    }

    /// The complete representation length, when the server gave it.
    pub fn complete_length(&self) -> Option<u64> {
        match *self {
            ContentRange::Bytes {
                complete_length, ..
            } => complete_length,
            ContentRange::Unsatisfied { complete_length } => Some(complete_length),
        }
    }
}

impl FromStr for ContentRange {
    type Err = ContentRangeError;

    fn from_str(value: &str) -> Result<ContentRange, ContentRangeError> {
        let value = value.trim_matches([' ', '\t']);
        let (unit, rest) = value.split_once(' ').ok_or(ContentRangeError::Malformed)?;
        if !unit.eq_ignore_ascii_case("bytes") {
            return Err(ContentRangeError::UnsupportedUnit {
                unit: unit.to_owned(),
            });
        }
        let (range, complete) = rest
            .trim_start_matches(' ')
            .split_once('/')
            .ok_or(ContentRangeError::Malformed)?;
        let complete_length = match complete {
            "*" => None,
            n => Some(number(n, "complete length")?),
        };
        if range == "*" {
            let complete_length = complete_length.ok_or(ContentRangeError::Malformed)?;
            return Ok(ContentRange::Unsatisfied { complete_length });
        }
        let (first, last) = range.split_once('-').ok_or(ContentRangeError::Malformed)?;
        let first = number(first, "first byte")?;
        let last = number(last, "last byte")?;
        if first > last {
            return Err(ContentRangeError::FirstAfterLast { first, last });
        }
        if let Some(complete_length) = complete_length
            && last >= complete_length
        {
            return Err(ContentRangeError::LastBeyondLength {
                last,
                complete_length,
            });
        }
        Ok(ContentRange::Bytes {
            first,
            last,
            complete_length,
        })
    }
}

/// Formats the field value, e.g. `bytes 0-499/1234`.
impl fmt::Display for ContentRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContentRange::Bytes {
                first,
                last,
                complete_length: Some(n),
            } => write!(f, "bytes {first}-{last}/{n}"),
            ContentRange::Bytes {
                first,
                last,
                complete_length: None,
            } => write!(f, "bytes {first}-{last}/*"),
            ContentRange::Unsatisfied { complete_length } => write!(f, "bytes */{complete_length}"),
        }
    }
}

/// `1*DIGIT` as a `u64`. `u64::from_str` alone would also take a leading `+`.
fn number(s: &str, what: &'static str) -> Result<u64, ContentRangeError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ContentRangeError::InvalidNumber { what });
    }
    s.parse()
        .map_err(|_| ContentRangeError::InvalidNumber { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_forms() {
        let cases = [
            (
                "bytes 0-499/1234",
                ContentRange::Bytes {
                    first: 0,
                    last: 499,
                    complete_length: Some(1234),
                },
            ),
            (
                "bytes 42-1233/*",
                ContentRange::Bytes {
                    first: 42,
                    last: 1233,
                    complete_length: None,
                },
            ),
            (
                "bytes */1234",
                ContentRange::Unsatisfied {
                    complete_length: 1234,
                },
            ),
            (
                "  BYTES 7-7/8 ",
                ContentRange::Bytes {
                    first: 7,
                    last: 7,
                    complete_length: Some(8),
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<ContentRange>(), Ok(want), "{text}");
        }
        let r: ContentRange = "bytes 0-499/1234".parse().unwrap();
        assert_eq!(r.to_string(), "bytes 0-499/1234");
        assert_eq!(r.length(), Some(500));
        assert_eq!(r.complete_length(), Some(1234));
        assert_eq!(
            "bytes */5".parse::<ContentRange>().unwrap().to_string(),
            "bytes */5"
        );
    }

    #[test]
    fn every_rule_broken() {
        use ContentRangeError::*;
        let cases = [
            (
                "items 0-1/2",
                UnsupportedUnit {
                    unit: "items".into(),
                },
            ),
            ("bytes", Malformed),
            ("bytes 0-1", Malformed),
            ("bytes */*", Malformed),
            ("bytes 5/10", Malformed),
            ("bytes -1/10", InvalidNumber { what: "first byte" }),
            ("bytes 1-+2/10", InvalidNumber { what: "last byte" }),
            (
                "bytes 1-2/x",
                InvalidNumber {
                    what: "complete length",
                },
            ),
            (
                "bytes 0-1/99999999999999999999",
                InvalidNumber {
                    what: "complete length",
                },
            ),
            ("bytes 5-4/10", FirstAfterLast { first: 5, last: 4 }),
            (
                "bytes 0-10/10",
                LastBeyondLength {
                    last: 10,
                    complete_length: 10,
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<ContentRange>(), Err(want), "{text}");
        }
    }
}
