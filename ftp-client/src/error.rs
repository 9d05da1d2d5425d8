//! What can go wrong in a session, one variant per cause.

use std::time::Duration;

use crate::command::Command;
use crate::data::PassiveError;
use crate::reply::{Reply, ReplyClass, ReplyError};

/// Why a session or one of its operations failed, reported as
/// [`Event::Error`](crate::Event::Error).
///
/// Whether the session survives is not a property of the error but of when
/// it happened: an error during login, or one that leaves the control
/// connection out of step, is followed by [`Event::Closed`](crate::Event::Closed);
/// an operation's failure leaves the session idle and reusable.
///
/// For aria2's exit codes: [`NotFound`](FtpError::NotFound) is 3 (resource
/// not found), [`RestartUnsupported`](FtpError::RestartUnsupported) is 8
/// when resuming was required, [`Timeout`](FtpError::Timeout) is 2,
/// [`ConnectionClosed`](FtpError::ConnectionClosed) is 6 (network problem),
/// and other server refusals are 21 (FTP command failed).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FtpError {
    /// `421`: the server is closing the control connection (too many users,
    /// idle timeout, shutting down). Worth retrying later.
    #[error("server is closing the connection: {0}")]
    ServiceClosing(Reply),
    /// The greeting was a refusal (other than `421`).
    #[error("server refused the connection: {0}")]
    GreetingRefused(Reply),
    /// `USER` or `PASS` refused, usually `530`.
    #[error("login failed: {0}")]
    LoginFailed(Reply),
    /// `332`: the server wants an account (`ACCT`), which this client does
    /// not send.
    #[error("server requires an account (ACCT): {0}")]
    AccountRequired(Reply),
    /// `550` to `CWD` or `RETR`: no such file or directory, or no access.
    #[error("{command}: not found: {reply}")]
    NotFound {
        /// `CWD` or `RETR`.
        command: Command,
        /// The server's reply.
        reply: Reply,
    },
    /// `REST` refused for a non-zero offset: this server cannot resume or
    /// serve segments.
    #[error("server cannot resume transfers (REST refused): {0}")]
    RestartUnsupported(Reply),
    /// `EPSV` and `PASV` (or `PASV` alone) refused.
    #[error("passive mode refused: {0}")]
    PassiveRefused(Reply),
    /// A passive-mode reply without a usable address, or with a foreign one.
    #[error("unusable passive-mode reply {reply}: {error}")]
    BadPassiveReply {
        /// The server's reply.
        reply: Reply,
        /// What is wrong with it.
        #[source]
        error: PassiveError,
    },
    /// `PORT` or `EPRT` refused.
    #[error("active mode refused: {0}")]
    ActiveRefused(Reply),
    /// `425`: the server could not open the data connection.
    #[error("server could not open the data connection: {0}")]
    DataConnectionFailed(Reply),
    /// The transfer ended with a negative reply (`426`, `451`, ...) instead
    /// of `226`. The data received may be incomplete.
    #[error("transfer failed: {0}")]
    TransferFailed(Reply),
    /// Any other negative reply to a command.
    #[error("{command} failed: {reply}")]
    CommandFailed {
        /// The command.
        command: Command,
        /// The server's reply.
        reply: Reply,
    },
    /// A positive reply whose text lacks what it must carry (a `257`
    /// without a quoted directory, or one with CR or NUL in it).
    #[error("{command}: unusable reply {reply}")]
    BadReplyText {
        /// The command.
        command: Command,
        /// The server's reply.
        reply: Reply,
    },
    /// A reply that makes no sense at this point: the wrong class for the
    /// command, or a reply when no command was sent (`command` is `None`
    /// for the greeting and for unsolicited replies). The session can no
    /// longer match replies to commands.
    #[error("unexpected reply{}: {reply}", command.map(|c| format!(" to {c}")).unwrap_or_default())]
    UnexpectedReply {
        /// The command awaiting a reply, if any.
        command: Option<Command>,
        /// The server's reply.
        reply: Reply,
    },
    /// Bytes that are not a reply, or a reply over the limits.
    #[error("malformed reply: {0}")]
    MalformedReply(#[from] ReplyError),
    /// No reply within [`Config::reply_timeout`](crate::Config::reply_timeout).
    #[error("no reply{} within {after:?}", command.map(|c| format!(" to {c}")).unwrap_or_default())]
    Timeout {
        /// The command awaiting a reply (`None`: the greeting).
        command: Option<Command>,
        /// The timeout.
        after: Duration,
    },
    /// The server closed the control connection without `QUIT`.
    #[error("server closed the control connection{}", command.map(|c| format!(" (awaiting the reply to {c})")).unwrap_or_default())]
    ConnectionClosed {
        /// The command awaiting a reply, if any.
        command: Option<Command>,
    },
}

impl FtpError {
    /// The server reply behind the error, if there is one.
    pub fn reply(&self) -> Option<&Reply> {
        match self {
            FtpError::ServiceClosing(reply)
            | FtpError::GreetingRefused(reply)
            | FtpError::LoginFailed(reply)
            | FtpError::AccountRequired(reply)
            | FtpError::RestartUnsupported(reply)
            | FtpError::PassiveRefused(reply)
            | FtpError::ActiveRefused(reply)
            | FtpError::DataConnectionFailed(reply)
            | FtpError::TransferFailed(reply)
            | FtpError::NotFound { reply, .. }
            | FtpError::BadPassiveReply { reply, .. }
            | FtpError::CommandFailed { reply, .. }
            | FtpError::BadReplyText { reply, .. }
            | FtpError::UnexpectedReply { reply, .. } => Some(reply),
            FtpError::MalformedReply(_)
            | FtpError::Timeout { .. }
            | FtpError::ConnectionClosed { .. } => None,
        }
    }

    /// Whether trying again later (on a new connection if this one closed)
    /// may succeed: `421`, timeouts, lost connections, data-connection and
    /// transfer failures, and any transient-negative (`4yz`) reply.
    pub fn is_retryable(&self) -> bool {
        match self {
            FtpError::ServiceClosing(_)
            | FtpError::Timeout { .. }
            | FtpError::ConnectionClosed { .. }
            | FtpError::DataConnectionFailed(_)
            | FtpError::TransferFailed(_) => true,
            other => other
                .reply()
                .is_some_and(|r| r.class() == ReplyClass::TransientNegative),
        }
    }

    /// Whether the server said the file or directory does not exist
    /// (aria2's exit code 3).
    pub fn is_not_found(&self) -> bool {
        matches!(self, FtpError::NotFound { .. })
    }
}
