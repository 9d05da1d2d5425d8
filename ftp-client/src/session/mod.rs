//! The control-connection state machine.

mod event;
mod operation;

pub use event::{Event, UsageError};

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use crate::command::Command;
use crate::config::Config;
use crate::data::passive_data_address;
use crate::error::FtpError;
use crate::path::{RemotePath, check_argument};
use crate::reply::{Reply, ReplyClass, ReplyParser, values};
use operation::{Operation, Outcome, Step, Transfer};

/// One FTP control connection, without the connection: the caller moves
/// bytes and time in and out, the session decides what they mean.
///
/// The caller's loop:
///
/// - bytes read from the control connection go to
///   [`handle_input`](Session::handle_input), end of stream to
///   [`connection_closed`](Session::connection_closed);
/// - [`poll_transmit`](Session::poll_transmit) yields command lines to
///   write, in order;
/// - [`poll_event`](Session::poll_event) yields [`Event`]s to act on;
/// - [`poll_timeout`](Session::poll_timeout) says when to call
///   [`handle_timeout`](Session::handle_timeout).
///
/// After any call, drain both `poll_transmit` and `poll_event`.
///
/// The session logs in on its own (greeting, `USER`, `PASS`, `TYPE`, `PWD`)
/// and reports [`Event::LoggedIn`]. Then it runs one operation at a time:
/// [`size`](Session::size), [`modification_time`](Session::modification_time),
/// [`retrieve`](Session::retrieve) /
/// [`retrieve_active`](Session::retrieve_active) or [`quit`](Session::quit),
/// each ending in a final event (see [`Event`]), after which the session is
/// idle and ready for the next, e.g. the next segment of a file.
///
/// Directories: `PWD` after login gives the login directory. An operation
/// on `a/b/file` then sends `CWD a`, `CWD b` (one component at a time, as
/// aria2 does and RFC 1738 §3.2.2 prescribes) unless the session is already
/// there; to reach a directory that is not below the current one it first
/// sends `CWD <login directory>`. Names are then relative: `SIZE file`,
/// `RETR file`.
#[derive(Debug)]
pub struct Session {
    config: Config,
    peer: IpAddr,
    parser: ReplyParser,
    stage: Stage,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    deadline: Option<Instant>,
    /// The login directory, from `PWD`.
    home: Option<Vec<u8>>,
    /// Components entered below `home`; `None` when unknown (after a
    /// failed `CWD`).
    cwd: Option<Vec<Vec<u8>>>,
    /// `EPSV` got a `5yz`: use `PASV` from now on.
    epsv_refused: bool,
    /// The server accepted a `REST` that no `RETR` has consumed: the next
    /// transfer must send `REST` even for offset 0.
    rest_pending: bool,
}

#[derive(Debug)]
enum Stage {
    Greeting,
    /// Awaiting the reply to `USER`, `PASS`, `TYPE` or `PWD`.
    Login(Command),
    Idle,
    Operation(Operation),
    Quitting,
    Closed,
}

impl Session {
    /// A session on a control connection that has just been opened to
    /// `peer`. It waits for the server's greeting, timed from `now`.
    ///
    /// `peer` is the control connection's remote address: passive-mode
    /// replies are checked against it (see [`PasvAddressPolicy`](crate::PasvAddressPolicy)).
    pub fn new(config: Config, peer: IpAddr, now: Instant) -> Session {
        let deadline = now.checked_add(config.reply_timeout);
        Session {
            parser: ReplyParser::new(config.limits),
            config,
            peer,
            stage: Stage::Greeting,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            deadline,
            home: None,
            cwd: None,
            epsv_refused: false,
            rest_pending: false,
        }
    }

    /// Takes bytes read from the control connection.
    ///
    /// Replies may arrive split anywhere or several at once. Bytes after
    /// the session closed are ignored.
    pub fn handle_input(&mut self, mut data: &[u8], now: Instant) {
        while !data.is_empty() && !self.is_closed() {
            match self.parser.parse(data) {
                Ok((used, reply)) => {
                    data = data.get(used..).unwrap_or_default();
                    if let Some(reply) = reply {
                        self.on_reply(reply, now);
                    }
                }
                Err(error) => self.fatal(FtpError::MalformedReply(error)),
            }
        }
    }

    /// Reports that the server closed the control connection (end of
    /// stream). After [`quit`](Session::quit) that ends the session
    /// normally; otherwise it is [`FtpError::ConnectionClosed`].
    pub fn connection_closed(&mut self, _now: Instant) {
        match self.stage {
            Stage::Closed => {}
            Stage::Quitting => self.close(),
            _ => self.fatal(FtpError::ConnectionClosed {
                command: self.awaited_command(),
            }),
        }
    }

    /// The next command line to write to the control connection.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Session::handle_timeout) must be called if
    /// nothing arrives before: the reply deadline. `None` while no reply is
    /// due (idle, waiting for the caller, or a transfer running).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Fails the session with [`FtpError::Timeout`] if the reply deadline
    /// has passed at `now`; otherwise does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|deadline| now >= deadline) {
            self.fatal(FtpError::Timeout {
                command: self.awaited_command(),
                after: self.config.reply_timeout,
            });
        }
    }

    /// Asks for the size of `path` (`SIZE`). Ends with [`Event::Size`],
    /// [`Event::SizeUnavailable`] or [`Event::Error`].
    pub fn size(&mut self, path: &RemotePath, now: Instant) -> Result<(), UsageError> {
        self.check_idle()?;
        let mut steps = self.cwd_steps(path.dirs());
        steps.push_back(Step::Size(path.file().to_vec()));
        self.start(steps, now);
        Ok(())
    }

    /// Asks for the modification time of `path` (`MDTM`). Ends with
    /// [`Event::ModificationTime`], [`Event::ModificationTimeUnavailable`]
    /// or [`Event::Error`].
    pub fn modification_time(&mut self, path: &RemotePath, now: Instant) -> Result<(), UsageError> {
        self.check_idle()?;
        let mut steps = self.cwd_steps(path.dirs());
        steps.push_back(Step::Mdtm(path.file().to_vec()));
        self.start(steps, now);
        Ok(())
    }

    /// Downloads `path` from byte `offset` in passive mode.
    ///
    /// Sends `EPSV` (or `PASV`, see [`Config::try_epsv`]) and reports
    /// [`Event::ConnectData`]; meanwhile sends `REST offset` if `offset > 0`.
    /// Once the caller reports [`data_connected`](Session::data_connected)
    /// it sends `RETR`; [`Event::TransferStarted`] follows, and the file's
    /// bytes from `offset` on arrive on the data connection. End with
    /// [`data_finished`](Session::data_finished) at the data connection's
    /// end of stream, or [`abort`](Session::abort) to stop early (e.g. the
    /// segment is complete); the final event is then
    /// [`Event::TransferComplete`] or [`Event::Aborted`].
    ///
    /// After an [`Event::Error`] for this operation, close the data
    /// connection.
    pub fn retrieve(
        &mut self,
        path: &RemotePath,
        offset: u64,
        now: Instant,
    ) -> Result<(), UsageError> {
        self.check_idle()?;
        let passive = if self.config.try_epsv && !self.epsv_refused {
            Step::Epsv
        } else {
            Step::Pasv
        };
        let steps = self.retrieve_steps(path, offset, passive);
        self.start(steps, now);
        Ok(())
    }

    /// Downloads `path` from byte `offset` in active mode, the server
    /// connecting to `listen`: announced with `PORT` for IPv4, `EPRT` for
    /// IPv6. `listen` should be the control connection's local address with
    /// the listener's port.
    ///
    /// As [`retrieve`](Session::retrieve), but the session reports
    /// [`Event::AcceptData`] instead of `ConnectData` and needs no
    /// `data_connected`: accept the server's connection after `AcceptData`.
    pub fn retrieve_active(
        &mut self,
        path: &RemotePath,
        offset: u64,
        listen: SocketAddr,
        now: Instant,
    ) -> Result<(), UsageError> {
        self.check_idle()?;
        if listen.ip().is_unspecified() || listen.port() == 0 {
            return Err(UsageError::BadListenAddress(listen));
        }
        let steps = self.retrieve_steps(path, offset, Step::Active(listen));
        self.start(steps, now);
        Ok(())
    }

    /// Reports that the data connection asked for by
    /// [`Event::ConnectData`] is open.
    pub fn data_connected(&mut self, now: Instant) -> Result<(), UsageError> {
        match &mut self.stage {
            Stage::Operation(op) if op.awaiting_data_connection => {
                op.awaiting_data_connection = false;
                self.advance(now);
                Ok(())
            }
            Stage::Closed => Err(UsageError::Closed),
            _ => Err(UsageError::NoDataConnectionPending),
        }
    }

    /// Reports that the data connection of the running transfer reached
    /// end of stream. With the server's `226` (before or after this call)
    /// the transfer is complete.
    ///
    /// Whether all bytes came is for the caller to judge (compare with the
    /// size); a server may also report a failure after this.
    ///
    /// [`UsageError::NoTransfer`] here (and [`UsageError::NothingToAbort`]
    /// from [`abort`](Session::abort)) after [`Event::TransferStarted`]
    /// means the server's final reply came first: the transfer is over and
    /// its final event is already queued.
    pub fn data_finished(&mut self, now: Instant) -> Result<(), UsageError> {
        let timeout = self.config.reply_timeout;
        match &mut self.stage {
            Stage::Operation(Operation {
                transfer: Some(transfer),
                ..
            }) => {
                if transfer.aborting.is_some() || transfer.data_done {
                    return Ok(());
                }
                transfer.data_done = true;
                if transfer.final_ok {
                    self.finish(Event::TransferComplete);
                } else {
                    // The transfer's end is now due on the control connection.
                    self.deadline = now.checked_add(timeout);
                }
                Ok(())
            }
            Stage::Closed => Err(UsageError::Closed),
            _ => Err(UsageError::NoTransfer),
        }
    }

    /// Stops the running operation; it ends with [`Event::Aborted`] and the
    /// session is idle again, e.g. for the next segment
    /// (`--ftp-reuse-connection`).
    ///
    /// During a transfer, close the data connection and call this: the
    /// session sends `ABOR` and consumes the server's replies (`426` or
    /// `226` for the transfer, then the reply to `ABOR`). If the server has
    /// already confirmed the transfer, nothing is sent. Before `RETR` was
    /// sent, the session waits for the reply in flight and sends nothing
    /// more.
    pub fn abort(&mut self, now: Instant) -> Result<(), UsageError> {
        let timeout = self.config.reply_timeout;
        let Stage::Operation(op) = &mut self.stage else {
            return Err(match self.stage {
                Stage::Closed => UsageError::Closed,
                _ => UsageError::NothingToAbort,
            });
        };
        match &mut op.transfer {
            Some(transfer) if transfer.aborting.is_some() => {}
            Some(transfer) if transfer.final_ok => self.finish(Event::Aborted),
            Some(transfer) => {
                transfer.aborting = Some(true);
                self.transmit.push_back(Command::Abor.line(None));
                self.deadline = now.checked_add(timeout);
            }
            None => {
                op.abandoned = true;
                op.steps.clear();
                op.awaiting_data_connection = false;
                if op.in_flight.is_none() {
                    self.finish(Event::Aborted);
                }
            }
        }
        Ok(())
    }

    /// Ends the session politely with `QUIT`; [`Event::Closed`] follows the
    /// server's reply (or its closing the connection).
    pub fn quit(&mut self, now: Instant) -> Result<(), UsageError> {
        self.check_idle()?;
        self.send(Command::Quit.line(None), now);
        self.stage = Stage::Quitting;
        Ok(())
    }

    /// Whether the session is logged in with no operation running.
    pub fn is_idle(&self) -> bool {
        matches!(self.stage, Stage::Idle)
    }

    /// Whether the session is over; the caller should close the connection.
    pub fn is_closed(&self) -> bool {
        matches!(self.stage, Stage::Closed)
    }

    /// The login directory reported by `PWD`, once logged in.
    pub fn home_directory(&self) -> Option<&[u8]> {
        self.home.as_deref()
    }

    /// The control connection's peer, as given to [`new`](Session::new).
    pub fn peer(&self) -> IpAddr {
        self.peer
    }

    fn check_idle(&self) -> Result<(), UsageError> {
        match self.stage {
            Stage::Idle => Ok(()),
            Stage::Closed => Err(UsageError::Closed),
            _ => Err(UsageError::Busy),
        }
    }

    /// `CWD` commands from the current directory to `target` (components
    /// below the login directory).
    fn cwd_steps(&self, target: &[Vec<u8>]) -> VecDeque<Step> {
        match &self.cwd {
            Some(cwd) if target.starts_with(cwd) => {
                target[cwd.len()..].iter().cloned().map(Step::Cwd).collect()
            }
            _ => self
                .home
                .iter()
                .cloned()
                .map(Step::CwdHome)
                .chain(target.iter().cloned().map(Step::Cwd))
                .collect(),
        }
    }

    fn retrieve_steps(&self, path: &RemotePath, offset: u64, data: Step) -> VecDeque<Step> {
        let mut steps = self.cwd_steps(path.dirs());
        steps.push_back(data);
        if offset > 0 || self.rest_pending {
            steps.push_back(Step::Rest(offset));
        }
        steps.push_back(Step::Retr(path.file().to_vec()));
        steps
    }

    fn start(&mut self, steps: VecDeque<Step>, now: Instant) {
        self.stage = Stage::Operation(Operation::new(steps));
        self.advance(now);
    }

    /// Sends the operation's next command if nothing is in flight and
    /// nothing blocks it.
    fn advance(&mut self, now: Instant) {
        let Stage::Operation(op) = &mut self.stage else {
            return;
        };
        if op.in_flight.is_some() {
            return;
        }
        if op.abandoned {
            return self.finish(Event::Aborted);
        }
        if op.awaiting_data_connection && matches!(op.steps.front(), Some(Step::Retr(_))) {
            return;
        }
        let Some(step) = op.steps.pop_front() else {
            return;
        };
        if matches!(step, Step::Retr(_)) {
            op.transfer = Some(Transfer::default());
        }
        let line = step.line();
        op.in_flight = Some(step);
        self.send(line, now);
    }

    fn send(&mut self, line: Vec<u8>, now: Instant) {
        self.transmit.push_back(line);
        self.deadline = now.checked_add(self.config.reply_timeout);
    }

    /// The command whose reply is due, for error reports.
    fn awaited_command(&self) -> Option<Command> {
        match &self.stage {
            Stage::Greeting | Stage::Idle | Stage::Closed => None,
            Stage::Login(command) => Some(*command),
            Stage::Quitting => Some(Command::Quit),
            Stage::Operation(op) => match &op.transfer {
                Some(Transfer {
                    aborting: Some(_), ..
                }) => Some(Command::Abor),
                _ => op.in_flight.as_ref().map(Step::command),
            },
        }
    }

    /// Ends the running operation with `event`; the session is idle.
    fn finish(&mut self, event: Event) {
        self.stage = Stage::Idle;
        self.deadline = None;
        self.events.push_back(event);
    }

    /// Reports `error` and ends the session. Commands already queued stay
    /// queued, so what the caller sees does not depend on when it polled.
    fn fatal(&mut self, error: FtpError) {
        self.events.push_back(Event::Error(error));
        self.close();
    }

    fn close(&mut self) {
        self.stage = Stage::Closed;
        self.deadline = None;
        self.events.push_back(Event::Closed);
    }

    fn on_reply(&mut self, reply: Reply, now: Instant) {
        if reply.code() == 421 && !matches!(self.stage, Stage::Quitting) {
            return self.fatal(FtpError::ServiceClosing(reply));
        }
        // Every branch below sets the stage it leaves the session in.
        match std::mem::replace(&mut self.stage, Stage::Closed) {
            Stage::Closed => {}
            Stage::Greeting => self.on_greeting(reply, now),
            Stage::Login(command) => self.on_login_reply(command, reply, now),
            Stage::Idle => self.fatal(FtpError::UnexpectedReply {
                command: None,
                reply,
            }),
            Stage::Quitting => self.close(),
            Stage::Operation(op) => self.on_operation_reply(op, reply, now),
        }
    }

    fn on_greeting(&mut self, reply: Reply, now: Instant) {
        match (reply.class(), reply.code()) {
            // "120 Service ready in nnn minutes": the real greeting follows.
            (ReplyClass::Preliminary, _) => {
                self.stage = Stage::Greeting;
                self.deadline = now.checked_add(self.config.reply_timeout);
            }
            (_, 220) => self.send_login(Command::User, now),
            _ if reply.is_negative() => self.fatal(FtpError::GreetingRefused(reply)),
            _ => self.fatal(FtpError::UnexpectedReply {
                command: None,
                reply,
            }),
        }
    }

    fn send_login(&mut self, command: Command, now: Instant) {
        let credentials = &self.config.credentials;
        let argument = match command {
            Command::User => Some(credentials.user().as_bytes()),
            Command::Pass => Some(credentials.password().as_bytes()),
            Command::Type => Some(self.config.transfer_type.argument()),
            _ => None,
        };
        let line = command.line(argument);
        self.send(line, now);
        self.stage = Stage::Login(command);
    }

    fn on_login_reply(&mut self, command: Command, reply: Reply, now: Instant) {
        match (command, reply.code()) {
            (Command::User, 230) | (Command::Pass, 230 | 202) => {
                self.send_login(Command::Type, now);
            }
            (Command::User, 331) => self.send_login(Command::Pass, now),
            (Command::User | Command::Pass, 332) => self.fatal(FtpError::AccountRequired(reply)),
            (Command::User | Command::Pass, _) if reply.is_negative() => {
                self.fatal(FtpError::LoginFailed(reply));
            }
            (Command::Type, 200..=299) => self.send_login(Command::Pwd, now),
            (Command::Pwd, 257) => {
                // The directory is sent back in `CWD`: it must not smuggle a
                // second command in.
                match values::quoted_directory(&reply)
                    .filter(|dir| check_argument("directory", dir).is_ok())
                {
                    Some(home) => {
                        self.home = Some(home);
                        self.cwd = Some(Vec::new());
                        self.finish(Event::LoggedIn);
                    }
                    None => self.fatal(FtpError::BadReplyText { command, reply }),
                }
            }
            _ if reply.is_negative() => self.fatal(FtpError::CommandFailed { command, reply }),
            _ => self.fatal(FtpError::UnexpectedReply {
                command: Some(command),
                reply,
            }),
        }
    }

    fn on_operation_reply(&mut self, mut op: Operation, reply: Reply, now: Instant) {
        if let Some(Transfer {
            aborting: Some(transfer_reply_due),
            ..
        }) = &mut op.transfer
        {
            // After ABOR: the reply ending RETR (if still due), then ABOR's.
            // Preliminary replies can only belong to RETR.
            if reply.class() == ReplyClass::Preliminary || *transfer_reply_due {
                if reply.class() != ReplyClass::Preliminary {
                    *transfer_reply_due = false;
                }
                self.stage = Stage::Operation(op);
            } else {
                self.rest_pending = false;
                self.finish(Event::Aborted);
            }
            return;
        }
        let Some(step) = op.in_flight.take() else {
            return self.fatal(FtpError::UnexpectedReply {
                command: None,
                reply,
            });
        };
        let outcome = self.step_outcome(&step, reply, &mut op, now);
        match outcome {
            Outcome::Wait => {
                op.in_flight = Some(step);
                self.stage = Stage::Operation(op);
            }
            Outcome::Fatal(error) => self.fatal(error),
            _ if op.abandoned => self.finish(Event::Aborted),
            Outcome::Continue => {
                self.stage = Stage::Operation(op);
                self.deadline = None;
                self.advance(now);
            }
            Outcome::ContinueWith(event) => {
                if matches!(event, Event::ConnectData(_)) {
                    op.awaiting_data_connection = true;
                }
                self.events.push_back(event);
                self.stage = Stage::Operation(op);
                self.deadline = None;
                self.advance(now);
            }
            Outcome::Done(event) => self.finish(event),
            Outcome::Fail(error) => self.finish(Event::Error(error)),
        }
    }

    /// What `reply` to `step` means; updates what the session knows of the
    /// server (directory, `EPSV` support, pending `REST`) on the way.
    fn step_outcome(
        &mut self,
        step: &Step,
        reply: Reply,
        op: &mut Operation,
        now: Instant,
    ) -> Outcome {
        let command = step.command();
        let class = reply.class();
        let unexpected = |reply| {
            Outcome::Fatal(FtpError::UnexpectedReply {
                command: Some(command),
                reply,
            })
        };
        if class == ReplyClass::Preliminary && !matches!(step, Step::Retr(_)) {
            return unexpected(reply);
        }
        match step {
            Step::CwdHome(_) | Step::Cwd(_) => match class {
                ReplyClass::Completion => {
                    match (step, &mut self.cwd) {
                        (Step::Cwd(dir), Some(cwd)) => cwd.push(dir.clone()),
                        _ => self.cwd = Some(Vec::new()),
                    }
                    Outcome::Continue
                }
                ReplyClass::Intermediate => unexpected(reply),
                _ => {
                    // Partway down the path: where we are is unknown.
                    self.cwd = None;
                    Outcome::Fail(match reply.code() {
                        550 => FtpError::NotFound { command, reply },
                        _ => FtpError::CommandFailed { command, reply },
                    })
                }
            },
            Step::Size(_) => match (class, values::size(&reply)) {
                (ReplyClass::Intermediate, _) => unexpected(reply),
                (ReplyClass::Completion, Some(size)) if reply.code() == 213 => {
                    Outcome::Done(Event::Size(size))
                }
                _ => Outcome::Done(Event::SizeUnavailable(reply)),
            },
            Step::Mdtm(_) => match (class, values::modification_time(&reply)) {
                (ReplyClass::Intermediate, _) => unexpected(reply),
                (ReplyClass::Completion, Some(time)) if reply.code() == 213 => {
                    Outcome::Done(Event::ModificationTime(time))
                }
                _ => Outcome::Done(Event::ModificationTimeUnavailable(reply)),
            },
            Step::Epsv | Step::Pasv => match (class, reply.code()) {
                (ReplyClass::Completion, 227 | 229)
                    if reply.code() == expected_passive_code(step) =>
                {
                    match passive_data_address(&reply, self.peer, self.config.pasv_address) {
                        Ok(addr) => Outcome::ContinueWith(Event::ConnectData(addr)),
                        Err(error) => Outcome::Fail(FtpError::BadPassiveReply { reply, error }),
                    }
                }
                // RFC 2428: a server without EPSV answers 500 or 502 (some
                // 501 or 522); PASV may still work.
                (ReplyClass::PermanentNegative, _) if *step == Step::Epsv => {
                    self.epsv_refused = true;
                    op.steps.push_front(Step::Pasv);
                    Outcome::Continue
                }
                _ if reply.is_negative() => Outcome::Fail(FtpError::PassiveRefused(reply)),
                _ => unexpected(reply),
            },
            Step::Active(_) => match class {
                ReplyClass::Completion => Outcome::ContinueWith(Event::AcceptData),
                ReplyClass::TransientNegative | ReplyClass::PermanentNegative => {
                    Outcome::Fail(FtpError::ActiveRefused(reply))
                }
                _ => unexpected(reply),
            },
            Step::Rest(offset) => match reply.code() {
                350 => {
                    self.rest_pending = true;
                    Outcome::Continue
                }
                // `REST 0` only clears an earlier offset; a server that
                // refuses it holds none.
                _ if reply.is_negative() && *offset == 0 => Outcome::Continue,
                _ if reply.is_negative() => Outcome::Fail(FtpError::RestartUnsupported(reply)),
                _ => unexpected(reply),
            },
            Step::Retr(_) => self.retr_outcome(reply, op, now),
        }
    }

    fn retr_outcome(&mut self, reply: Reply, op: &mut Operation, now: Instant) -> Outcome {
        let transfer = op.transfer.get_or_insert_with(Transfer::default);
        match reply.class() {
            ReplyClass::Preliminary => {
                // 110 is a restart marker, not the start.
                if reply.code() != 110 && !transfer.started {
                    transfer.started = true;
                    self.rest_pending = false;
                    self.events.push_back(Event::TransferStarted {
                        announced_size: values::announced_size(&reply),
                    });
                }
                // The transfer runs as long as it needs; once the caller
                // saw the data end, the final reply is due.
                self.deadline = if transfer.data_done {
                    now.checked_add(self.config.reply_timeout)
                } else {
                    None
                };
                Outcome::Wait
            }
            ReplyClass::Completion => {
                self.rest_pending = false;
                if !transfer.started {
                    transfer.started = true;
                    self.events.push_back(Event::TransferStarted {
                        announced_size: None,
                    });
                }
                transfer.final_ok = true;
                if transfer.data_done {
                    Outcome::Done(Event::TransferComplete)
                } else {
                    Outcome::Continue
                }
            }
            ReplyClass::Intermediate => Outcome::Fatal(FtpError::UnexpectedReply {
                command: Some(Command::Retr),
                reply,
            }),
            _ if transfer.started => Outcome::Fail(FtpError::TransferFailed(reply)),
            _ => Outcome::Fail(match reply.code() {
                425 => FtpError::DataConnectionFailed(reply),
                426 | 451 => FtpError::TransferFailed(reply),
                550 => FtpError::NotFound {
                    command: Command::Retr,
                    reply,
                },
                _ => FtpError::CommandFailed {
                    command: Command::Retr,
                    reply,
                },
            }),
        }
    }
}

/// `229` answers `EPSV`, `227` answers `PASV`.
fn expected_passive_code(step: &Step) -> u16 {
    if *step == Step::Epsv { 229 } else { 227 }
}
