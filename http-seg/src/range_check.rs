//! Deciding what a response to a range request actually delivers.

use crate::content_range::ContentRange;
use crate::head::{HeadError, ResponseHead};
use crate::range::ByteRange;

/// What a response to a range request carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 206: bytes `start..=end` of the representation, which starts where
    /// asked and ends no later than asked (it may end sooner; ask again for the rest).
    Partial {
        /// First byte in the body.
        start: u64,
        /// Last byte in the body (inclusive).
        end: u64,
        /// The whole representation's length, when the server said.
        total: Option<u64>,
    },
    /// 200: the server ignored the range and sends the whole representation
    /// from byte 0.
    Whole {
        /// `Content-Length`, when given.
        length: Option<u64>,
    },
    /// 416 saying the representation is exactly `expected_total` bytes long
    /// and the range started there: the caller already has every byte.
    AlreadyComplete,
}

/// Why a response cannot be used for the range that was asked for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    /// A status other than 200, 206 and 416 (redirects, errors; not this check's business).
    #[error("unexpected status {0}")]
    UnexpectedStatus(u16),
    /// A 206 without `Content-Range`.
    #[error("206 response without Content-Range")]
    MissingContentRange,
    /// A 206 with `multipart/byteranges`, which answers several ranges; only one was asked for.
    #[error("206 response is multipart/byteranges, but one range was asked for")]
    Multipart,
    /// A `Content-Range` or `Content-Length` that does not parse.
    #[error(transparent)]
    InvalidField(#[from] HeadError),
    /// A 206 whose `Content-Range` is `bytes */n`, which only fits a 416.
    #[error("206 response with an unsatisfied Content-Range")]
    UnsatisfiedPartial,
    /// The body starts at another offset than asked.
    #[error("asked for bytes from {asked}, server sent from {got}")]
    StartMismatch {
        /// First byte asked for.
        asked: u64,
        /// First byte sent.
        got: u64,
    },
    /// The body runs past the end asked for.
    #[error("asked for bytes up to {asked}, server sent up to {got}")]
    EndBeyondAsked {
        /// Last byte asked for.
        asked: u64,
        /// Last byte sent.
        got: u64,
    },
    /// The representation's length changed: the file on the server is not the
    /// one the earlier segments came from.
    #[error("expected a total length of {expected}, server says {got}")]
    TotalMismatch {
        /// What the caller expected.
        expected: u64,
        /// What the server said.
        got: u64,
    },
    /// A 206 whose `Content-Length` disagrees with its `Content-Range`.
    #[error("Content-Length {content_length} disagrees with Content-Range length {range_length}")]
    LengthMismatch {
        /// `Content-Length`.
        content_length: u64,
        /// `last - first + 1` from `Content-Range`.
        range_length: u64,
    },
    /// A 416 that does not mean "already complete".
    #[error("range from {asked_start} not satisfiable (total length {total:?})")]
    NotSatisfiable {
        /// First byte asked for.
        asked_start: u64,
        /// The total length from `Content-Range: bytes */n`, if given.
        total: Option<u64>,
    },
}

/// Checks a response head against the range that was asked for.
///
/// `expected_total` is the representation length the caller already knows
/// (from an earlier response), or `None` on the first request. A 206 must
/// start at `asked.start`, must not end past `asked.end`, must agree with
/// `expected_total` and with its own `Content-Length`. A 200 means the range
/// was ignored; its length is still checked against `expected_total`. A 416 is
/// [`RangeAnswer::AlreadyComplete`] only when its `bytes */n` equals both
/// `expected_total` and `asked.start`.
pub fn check_range_response(
    head: &ResponseHead,
    asked: ByteRange,
    expected_total: Option<u64>,
) -> Result<RangeAnswer, RangeError> {
    let check_total = |got: u64| match expected_total {
        Some(expected) if expected != got => Err(RangeError::TotalMismatch { expected, got }),
        _ => Ok(()),
    };
    match head.status {
        200 => {
            let length = head.content_length()?;
            if let Some(length) = length {
                check_total(length)?;
            }
            Ok(RangeAnswer::Whole { length })
        }
        206 => {
            let range = match head.content_range()? {
                Some(range) => range,
                None if head.content_type().is_some_and(|t| {
                    t.trim_start()
                        .to_ascii_lowercase()
                        .starts_with("multipart/byteranges")
                }) =>
                {
                    return Err(RangeError::Multipart);
                }
                None => return Err(RangeError::MissingContentRange),
            };
            let ContentRange::Bytes {
                first,
                last,
                complete_length,
            } = range
            else {
                return Err(RangeError::UnsatisfiedPartial);
            };
            if first != asked.start {
                return Err(RangeError::StartMismatch {
                    asked: asked.start,
                    got: first,
                });
            }
            if let Some(end) = asked.end
                && last > end
            {
                return Err(RangeError::EndBeyondAsked {
                    asked: end,
                    got: last,
                });
            }
            if let Some(total) = complete_length {
                check_total(total)?;
            }
            let range_length = range.length().unwrap_or(0);
            if let Some(content_length) = head.content_length()?
                && content_length != range_length
                && !head.has_transfer_encoding()
            {
                return Err(RangeError::LengthMismatch {
                    content_length,
                    range_length,
                });
            }
            Ok(RangeAnswer::Partial {
                start: first,
                end: last,
                total: complete_length,
            })
        }
        416 => {
            let total = match head.content_range() {
                Ok(Some(range)) => range.complete_length(),
                _ => None,
            };
            match (total, expected_total) {
                (Some(total), Some(expected)) if total == expected && asked.start == total => {
                    Ok(RangeAnswer::AlreadyComplete)
                }
                _ => Err(RangeError::NotSatisfiable {
                    asked_start: asked.start,
                    total,
                }),
            }
        }
        status => Err(RangeError::UnexpectedStatus(status)),
    }
}
