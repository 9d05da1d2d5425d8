//! Why bytes from the server are not a reply.

/// A reply that breaks RFC 959's syntax or this client's limits. Offsets
/// count bytes from the start of the reply (its first code digit).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The reply does not start with three digits, the first from 1 to 5.
    #[error("byte {offset}: a reply must start with a three-digit code from 100 to 599")]
    InvalidCode {
        /// The first byte that is not part of a valid code.
        offset: usize,
    },
    /// After the code comes neither a space, a hyphen nor the end of the line.
    #[error("byte {offset}: expected a space or '-' after the reply code")]
    InvalidSeparator {
        /// The byte after the code.
        offset: usize,
    },
    /// A line longer than [`ReplyLimits::max_line_bytes`](crate::ReplyLimits::max_line_bytes),
    /// reported as soon as that many bytes have arrived without a line end.
    #[error("byte {offset}: reply line longer than {limit} bytes")]
    LineTooLong {
        /// Start of the line.
        offset: usize,
        /// The limit.
        limit: usize,
    },
    /// A reply longer than [`ReplyLimits::max_reply_bytes`](crate::ReplyLimits::max_reply_bytes),
    /// reported as soon as that many bytes have arrived without its end line.
    #[error("reply longer than {limit} bytes")]
    TooLong {
        /// The limit.
        limit: usize,
    },
}
