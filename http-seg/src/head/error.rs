//! Errors from reading a response head and its typed fields.

use crate::content_range::ContentRangeError;

/// Why a response head, or one of its fields, is unusable. Offsets count bytes
/// from the start of the buffer handed to the parser.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeadError {
    /// No end of head within the limit: the peer sent too much or is not
    /// speaking HTTP. Reported as soon as `limit` bytes have arrived.
    #[error("response head longer than {limit} bytes")]
    TooLarge {
        /// [`HeadLimits::max_head_bytes`](crate::HeadLimits::max_head_bytes).
        limit: usize,
    },
    /// More header fields than the limit.
    #[error("more than {limit} header fields")]
    TooManyHeaders {
        /// [`HeadLimits::max_headers`](crate::HeadLimits::max_headers), or
        /// [`BodyLimits::max_trailers`](crate::BodyLimits::max_trailers) in a trailer section.
        limit: usize,
    },
    /// The response does not begin with `HTTP/`.
    #[error("byte {offset}: response does not start with \"HTTP/\"")]
    NotHttp {
        /// The first byte that differs.
        offset: usize,
    },
    /// The version is not `DIGIT "." DIGIT`.
    #[error("byte {offset}: malformed HTTP version")]
    InvalidVersion {
        /// Where the version digits start.
        offset: usize,
    },
    /// A well-formed version other than 1.0 and 1.1.
    #[error("unsupported HTTP version {major}.{minor}")]
    UnsupportedVersion {
        /// Major version digit.
        major: u8,
        /// Minor version digit.
        minor: u8,
    },
    /// The status line lacks the space after the version or after the code.
    #[error("byte {offset}: expected a space in the status line")]
    InvalidStatusLine {
        /// Where the space should be.
        offset: usize,
    },
    /// The status code is not three digits from 100 to 999.
    #[error("byte {offset}: status code is not three digits from 100 to 999")]
    InvalidStatusCode {
        /// Where the code starts.
        offset: usize,
    },
    /// The reason phrase contains a control character.
    #[error("byte {offset}: control character in the reason phrase")]
    InvalidReason {
        /// The control character.
        offset: usize,
    },
    /// A header line has no colon.
    #[error("byte {offset}: header line without a colon")]
    MissingColon {
        /// Start of the line.
        offset: usize,
    },
    /// A header name is empty or holds a character outside `tchar`.
    #[error("byte {offset}: invalid character in header name")]
    InvalidHeaderName {
        /// The bad character (or the colon, when the name is empty).
        offset: usize,
    },
    /// Whitespace between a header name and its colon, which RFC 9112 §5.1
    /// forbids because it lets two parsers disagree on the name.
    #[error("byte {offset}: whitespace between header name and colon")]
    WhitespaceBeforeColon {
        /// The first whitespace byte.
        offset: usize,
    },
    /// A header value holds a control character (CR, NUL, DEL, ...).
    #[error("byte {offset}: control character in header value")]
    InvalidHeaderValue {
        /// The control character.
        offset: usize,
    },
    /// A line starting with whitespace right after the status line: an obs-fold
    /// continuation with nothing to continue (RFC 9112 §2.2 says reject).
    #[error("byte {offset}: continuation line before any header field")]
    LeadingContinuation {
        /// Start of the line.
        offset: usize,
    },
    /// A `Content-Length` that is not a decimal number fitting in 64 bits.
    #[error("invalid Content-Length {value:?}")]
    InvalidContentLength {
        /// The field value.
        value: String,
    },
    /// Two different `Content-Length` values (RFC 9110 §8.6 allows repeats
    /// only of the same number).
    #[error("conflicting Content-Length values {first} and {second}")]
    ConflictingContentLength {
        /// The first value seen.
        first: u64,
        /// The first value that differs from it.
        second: u64,
    },
    /// A `Content-Range` that does not parse.
    #[error("invalid Content-Range {value:?}: {reason}")]
    InvalidContentRange {
        /// The field value.
        value: String,
        /// The rule it breaks.
        #[source]
        reason: ContentRangeError,
    },
    /// Two different `Content-Range` values.
    #[error("conflicting Content-Range values {first:?} and {second:?}")]
    ConflictingContentRange {
        /// The first value.
        first: String,
        /// The first value that differs from it.
        second: String,
    },
}
