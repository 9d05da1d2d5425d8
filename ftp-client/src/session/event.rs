//! What a session tells its caller, and what it refuses to be asked.

use std::net::SocketAddr;
use std::time::SystemTime;

use crate::error::FtpError;
use crate::reply::Reply;

/// Something the caller must know or act on, from
/// [`Session::poll_event`](crate::Session::poll_event).
///
/// Each operation ends with exactly one final event:
///
/// | operation | final events |
/// |---|---|
/// | login (implicit) | `LoggedIn`, or `Error` then `Closed` |
/// | [`size`](crate::Session::size) | `Size`, `SizeUnavailable`, `Error` |
/// | [`modification_time`](crate::Session::modification_time) | `ModificationTime`, `ModificationTimeUnavailable`, `Error` |
/// | [`retrieve`](crate::Session::retrieve) | `TransferComplete`, `Aborted`, `Error` |
/// | [`quit`](crate::Session::quit) | `Closed` |
///
/// After an `Error` the session is idle again unless `Closed` follows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Greeting, login, `TYPE` and `PWD` are done: operations may start.
    LoggedIn,
    /// The file's size, from a `213` reply to `SIZE`.
    Size(u64),
    /// `SIZE` gave no size (not supported, not a plain file, ...). aria2
    /// then downloads without knowing the length, in one piece.
    SizeUnavailable(Reply),
    /// The file's modification time, from a `213` reply to `MDTM`.
    ModificationTime(SystemTime),
    /// `MDTM` gave no time.
    ModificationTimeUnavailable(Reply),
    /// Passive mode: open a TCP connection to this address, then call
    /// [`data_connected`](crate::Session::data_connected).
    ConnectData(SocketAddr),
    /// Active mode: the server accepted the listening address; it will
    /// connect to it after `RETR`. Accept only a connection from the
    /// control connection's peer.
    AcceptData,
    /// `RETR` was answered `150`/`125`: the file is coming over the data
    /// connection, from the requested offset.
    TransferStarted {
        /// The byte count the server announced in the reply, if any (a
        /// hint, e.g. when `SIZE` is unsupported; not counting the offset on
        /// every server).
        announced_size: Option<u64>,
    },
    /// The server confirmed the transfer (`226`) and the caller reported
    /// the data connection finished. The session is idle.
    TransferComplete,
    /// The operation was abandoned after [`abort`](crate::Session::abort)
    /// and the server's replies to it are consumed. The session is idle.
    Aborted,
    /// An operation or the session failed.
    Error(FtpError),
    /// The session is over (`QUIT` answered, or a fatal error reported just
    /// before): close the control connection.
    Closed,
}

/// A call the session cannot honour in its current state. Nothing is sent
/// and nothing changes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// The session has closed.
    #[error("the session is closed")]
    Closed,
    /// Login is not finished or another operation is running: wait for
    /// `LoggedIn` or the operation's final event.
    #[error("the session is busy")]
    Busy,
    /// `data_connected` without a pending [`Event::ConnectData`].
    #[error("no data connection is being opened")]
    NoDataConnectionPending,
    /// `data_finished` when no `RETR` has been sent.
    #[error("no transfer is running")]
    NoTransfer,
    /// `abort` with no operation running.
    #[error("no operation to abort")]
    NothingToAbort,
    /// An active-mode address the server could not connect to: unspecified
    /// (`0.0.0.0`, `::`) or port 0. Pass the control connection's local
    /// address with the listener's port.
    #[error("cannot announce {0} as the data address")]
    BadListenAddress(SocketAddr),
}
