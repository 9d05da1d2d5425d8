//! An operation in progress: the commands still to send, the one awaiting
//! its reply, and the state of its transfer.

use std::collections::VecDeque;
use std::net::SocketAddr;

use crate::command::Command;
use crate::data::active_command;
use crate::error::FtpError;
use crate::session::Event;

/// One command of an operation, with its argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// `CWD` to the login directory (an absolute path from `PWD`).
    CwdHome(Vec<u8>),
    /// `CWD` one component down.
    Cwd(Vec<u8>),
    Size(Vec<u8>),
    Mdtm(Vec<u8>),
    Epsv,
    Pasv,
    /// `PORT` or `EPRT` announcing the caller's listener.
    Active(SocketAddr),
    Rest(u64),
    Retr(Vec<u8>),
}

impl Step {
    pub(super) fn command(&self) -> Command {
        match self {
            Step::CwdHome(_) | Step::Cwd(_) => Command::Cwd,
            Step::Size(_) => Command::Size,
            Step::Mdtm(_) => Command::Mdtm,
            Step::Epsv => Command::Epsv,
            Step::Pasv => Command::Pasv,
            Step::Active(listen) => active_command(*listen).0,
            Step::Rest(_) => Command::Rest,
            Step::Retr(_) => Command::Retr,
        }
    }

    /// The command line to send.
    pub(super) fn line(&self) -> Vec<u8> {
        match self {
            Step::CwdHome(arg)
            | Step::Cwd(arg)
            | Step::Size(arg)
            | Step::Mdtm(arg)
            | Step::Retr(arg) => self.command().line(Some(arg)),
            Step::Epsv | Step::Pasv => self.command().line(None),
            Step::Active(listen) => {
                let (command, argument) = active_command(*listen);
                command.line(Some(&argument))
            }
            Step::Rest(offset) => self.command().line(Some(offset.to_string().as_bytes())),
        }
    }
}

/// A running operation.
#[derive(Debug, Default)]
pub(super) struct Operation {
    /// Commands not sent yet, in order.
    pub(super) steps: VecDeque<Step>,
    /// The command whose reply is awaited.
    pub(super) in_flight: Option<Step>,
    /// `ConnectData` was reported and `data_connected` not yet called:
    /// `RETR` must wait, or the server might not see the connection.
    pub(super) awaiting_data_connection: bool,
    /// Set once `RETR` is sent.
    pub(super) transfer: Option<Transfer>,
    /// `abort` came before `RETR` was sent: finish the command in flight,
    /// then stop with `Aborted`.
    pub(super) abandoned: bool,
}

impl Operation {
    pub(super) fn new(steps: VecDeque<Step>) -> Operation {
        Operation {
            steps,
            ..Operation::default()
        }
    }
}

/// The transfer after `RETR`.
#[derive(Debug, Default)]
pub(super) struct Transfer {
    /// A `1yz` (or an early `2yz`) came.
    pub(super) started: bool,
    /// The final `2yz` came.
    pub(super) final_ok: bool,
    /// The caller saw the data connection end.
    pub(super) data_done: bool,
    /// `ABOR` was sent: `Some(true)` while the reply ending `RETR` is still
    /// due, then `Some(false)` until `ABOR`'s own reply.
    pub(super) aborting: Option<bool>,
}

/// What a reply means for the operation.
#[derive(Debug)]
pub(super) enum Outcome {
    /// A preliminary reply: the command is still in flight.
    Wait,
    /// Go on with the next command.
    Continue,
    /// Report this, then go on.
    ContinueWith(Event),
    /// The operation succeeded with this final event.
    Done(Event),
    /// The operation failed; the session stays usable.
    Fail(FtpError),
    /// The session cannot go on.
    Fatal(FtpError),
}
