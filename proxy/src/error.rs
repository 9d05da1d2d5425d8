//! Why a proxy handshake failed: one variant per rule the proxy (or the caller) broke.

use thiserror::Error;

/// A failed handshake. The variants say whose fault it was, so a caller can map them
/// to its own error classes (authentication, refusal, protocol violation).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HandshakeError {
    /// The HTTP proxy answered `CONNECT` with 407: credentials missing or wrong.
    #[error("proxy authentication required (HTTP 407 {reason})")]
    ProxyAuthRequired {
        /// The reason phrase the proxy sent.
        reason: String,
    },
    /// The HTTP proxy answered `CONNECT` with a status other than 2xx and 407.
    #[error("proxy refused CONNECT: HTTP {status} {reason}")]
    ConnectRefused {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// The reply does not follow the protocol.
    #[error("bad proxy reply: {0}")]
    BadReply(String),
    /// The `CONNECT` reply head is longer than the limit.
    #[error("proxy reply head longer than {limit} bytes")]
    ReplyTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The SOCKS5 server accepts none of the offered authentication methods.
    #[error("SOCKS5 proxy accepts none of the offered authentication methods{}",
        if *.offered_password { "" } else { " (it may want a user name and password)" })]
    NoAcceptableMethod {
        /// Whether user/password authentication was among the offers.
        offered_password: bool,
    },
    /// The SOCKS5 server asked for user/password authentication, which the caller
    /// has no credentials for.
    #[error("SOCKS5 proxy asks for a user name and password, and none was given")]
    CredentialsNeeded,
    /// The SOCKS5 server refused the user name and password (RFC 1929 status).
    #[error("SOCKS5 proxy refused the user name and password (status {status})")]
    AuthFailed {
        /// The status byte, non-zero.
        status: u8,
    },
    /// The SOCKS5 server could not or would not connect (RFC 1928 §6 reply code).
    #[error("SOCKS5 proxy could not connect: {} (reply {code})", socks5_reply_text(*.code))]
    Socks5Refused {
        /// The reply code, non-zero.
        code: u8,
    },
    /// What the caller asked for cannot be expressed in the protocol (a name or
    /// credential longer than 255 bytes, a target with line breaks).
    #[error("cannot ask the proxy for this: {0}")]
    InvalidRequest(String),
    /// Input was given while the handshake was not waiting for any.
    #[error("proxy sent data before it was asked anything")]
    UnexpectedData,
}

/// RFC 1928 §6's meaning of a SOCKS5 reply code.
pub(crate) fn socks5_reply_text(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unassigned reply code",
    }
}
