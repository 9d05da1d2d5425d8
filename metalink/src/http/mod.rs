//! Metalink/HTTP (RFC 6249): mirrors and metadata announced in HTTP response headers.
//!
//! A server that knows mirrors of a file answers with `Link` headers
//! (`<http://mirror/f.iso>; rel=duplicate; pri=1; geo=de`), points at a Metalink
//! document or torrent with `rel=describedby`, and gives the file's digest in an
//! RFC 3230 `Digest` header (`SHA-256=<base64>`). These functions read those header
//! values; fetching is the caller's business.

mod digest;
mod link;

use std::fmt;

use crate::hash::{HashAlgorithm, HashValueError};

pub use digest::{format_digest_header, parse_digest_header};
pub use link::{DescribedBy, Link, MetalinkLinks, Mirror, parse_link_header};

/// The media type of a Metalink 4 document in `rel=describedby` links.
pub const METALINK4_MEDIA_TYPE: &str = "application/metalink4+xml";

/// A header value that does not follow its grammar.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError {
    /// Byte offset in the header value.
    pub offset: usize,
    /// What is wrong there.
    pub kind: HeaderErrorKind,
}

/// What is wrong with a header value.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderErrorKind {
    /// A link value must start with `<`.
    ExpectedTarget,
    /// The `<` of a link target has no matching `>`.
    UnterminatedTarget,
    /// The link target is not a URI reference, even against the base.
    InvalidTarget(url::ParseError),
    /// After a link target or parameter, only `;` or `,` may follow.
    ExpectedSeparator,
    /// A link parameter has no name.
    ExpectedParameterName,
    /// A quoted string has no closing quote.
    UnterminatedQuotedString,
    /// An instance digest has no `=`.
    ExpectedEquals,
    /// A digest value is not valid base64 or has the wrong length for its algorithm.
    InvalidDigest {
        /// The algorithm named.
        algorithm: HashAlgorithm,
        /// What is wrong with the value.
        reason: HashValueError,
    },
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "header value, byte {}: ", self.offset)?;
        match &self.kind {
            HeaderErrorKind::ExpectedTarget => f.write_str("expected `<` starting a link target"),
            HeaderErrorKind::UnterminatedTarget => f.write_str("link target has no closing `>`"),
            HeaderErrorKind::InvalidTarget(e) => write!(f, "link target is not a URI: {e}"),
            HeaderErrorKind::ExpectedSeparator => f.write_str("expected `;` or `,`"),
            HeaderErrorKind::ExpectedParameterName => f.write_str("expected a parameter name"),
            HeaderErrorKind::UnterminatedQuotedString => {
                f.write_str("quoted string has no closing quote")
            }
            HeaderErrorKind::ExpectedEquals => f.write_str("expected `algorithm=value`"),
            HeaderErrorKind::InvalidDigest { algorithm, reason } => {
                write!(f, "invalid {algorithm} digest: {reason}")
            }
        }
    }
}

impl std::error::Error for HeaderError {}
