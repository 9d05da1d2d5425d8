//! Driving FTP sources: a control connection running a `swarmget_ftp_client::Session`
//! and, per segment, a data connection whose bytes fill the same pieces HTTP fills.
//!
//! A source logs in, asks `SIZE` and `MDTM` (the version of the file: a changed one on
//! a resume restarts the download, a mirror that reports another size is dropped, see
//! `version.rs`), then retrieves its run with `REST` + `RETR`. When the run ends
//! before the file does, the data connection is closed and the transfer aborted, and the
//! same logged-in session starts the next run (`--ftp-reuse-connection`). Passive mode
//! (EPSV, then PASV) is the default; `--ftp-pasv=false` listens for the server instead.

use std::io::{ErrorKind, Read};
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};
use swarmget_ftp_client::{
    Config, Credentials, Event, FtpError, PasvAddressPolicy, RemotePath, Session, TransferType,
    ftp_url_parts,
};

use crate::bt::web_seed::{self, WebStep};
use crate::conn::{Conn, Phase};
use crate::download::Layout;
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::http::Next;
use crate::log::{LogLevel, masked_ftp_commands};
use crate::validators::Validators;
use crate::version::Seen;

/// Token slot of the active-mode listener.
pub(crate) const LISTENER_TOKEN: usize = 6;
/// Token slot of the data connection.
pub(crate) const DATA_TOKEN: usize = 7;
/// How long an aborted transfer may take to settle before the control connection is
/// replaced instead.
const ABORT_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// One FTP source's state beside its control connection.
pub(crate) struct FtpConn {
    pub session: Session,
    pub path: RemotePath,
    /// Control bytes waiting for the socket.
    pub out: Vec<u8>,
    pub data: Option<TcpStream>,
    pub listener: Option<TcpListener>,
    /// The data connection is open and the transfer is announced.
    pub transferring: bool,
    pub data_readable: bool,
    /// A retrieve is running (between `retrieve` and its final event).
    pub busy: bool,
    /// The size check is done for this source.
    pub sized: bool,
    /// What `SIZE` said (`None`: nothing), kept until `MDTM` answers.
    pub size: Option<u64>,
    /// `MDTM`'s answer, held while the download's output file is prepared (the
    /// first answer of a download); acted on when it is ready.
    pub sized_answer: Option<Option<String>>,
    /// The data connection reached end of stream.
    pub data_eof: bool,
    /// The passive data connect completed (reported to the session).
    pub data_open: bool,
    /// An ABOR is in flight (a run ended before the file did).
    pub aborting: bool,
    /// Through a tunnel: the data connection's own CONNECT or SOCKS5 handshake, run
    /// once its connect to the proxy completes.
    pub data_handshake: Option<Box<swarmget_proxy::Handshake>>,
}

impl Engine {
    /// The control connection is up: start the session.
    pub(crate) fn start_ftp(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns[key].as_mut() else {
            return;
        };
        let opts = &self.downloads[conn.dl].opts;
        let url = web_seed::session_url(&self.downloads[conn.dl], &conn.url);
        let parts = match ftp_url_parts(&url) {
            Ok(p) => p,
            Err(e) => {
                let err = Error::new(ErrorCode::Ftp, format!("{}: {e}", conn.url));
                self.conn_failed(key, err, now);
                return;
            }
        };
        // The URI's user, else --ftp-user, else the .netrc entry, else anonymous.
        let netrc = self
            .netrc
            .as_ref()
            .and_then(|n| n.find(conn.url.host_str().unwrap_or_default()))
            .filter(|m| opts.ftp_user.is_none() && !m.login.is_empty());
        let credentials = match Credentials::resolve(
            parts.user.as_deref(),
            parts.password.as_deref(),
            opts.ftp_user.as_deref().or(netrc.map(|m| m.login.as_str())),
            opts.ftp_passwd
                .as_deref()
                .or(netrc.map(|m| m.password.as_str())),
        ) {
            Ok(c) => c,
            Err(e) => {
                self.conn_failed(key, Error::new(ErrorCode::BadOption, e.to_string()), now);
                return;
            }
        };
        let mut config = Config::default();
        config.credentials = credentials;
        config.transfer_type = parts.transfer_type.unwrap_or(if opts.ftp_type_ascii {
            TransferType::Ascii
        } else {
            TransferType::Binary
        });
        config.reply_timeout = opts.timeout;
        config.pasv_address = PasvAddressPolicy::RejectForeign;
        if conn.route.is_some() {
            // Through a tunnel the control peer is the proxy: the data connection
            // goes to the URI's host (through the proxy too) at the offered port.
            config.pasv_address = PasvAddressPolicy::UsePeerAddress;
            if !opts.ftp_pasv {
                let err = Error::new(
                    ErrorCode::BadOption,
                    "active FTP (--ftp-pasv=false) cannot go through a proxy",
                );
                conn.give_up = true;
                self.conn_failed(key, err, now);
                return;
            }
        }
        let peer = conn
            .transport
            .as_mut()
            .and_then(|t| t.socket().peer_addr().ok())
            .map(|a| a.ip())
            .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into());
        conn.phase = Phase::Ftp(Box::new(FtpConn {
            session: Session::new(config, peer, now),
            path: parts.path,
            out: Vec::new(),
            data: None,
            listener: None,
            transferring: false,
            data_readable: false,
            busy: false,
            sized: false,
            size: None,
            sized_answer: None,
            data_eof: false,
            data_open: false,
            aborting: false,
            data_handshake: None,
        }));
        conn.readable = true;
        conn.deadline = now + opts.timeout;
        self.drive(key, now);
    }

    /// One turn of an FTP source: control input, session events, data bytes,
    /// control output.
    pub(crate) fn drive_ftp(&mut self, conn: &mut Conn, now: Instant) -> Result<Next, Error> {
        if conn.waits_for_output() {
            if self.downloads[conn.dl].output_pending {
                return Ok(Next::Continue);
            }
            let mdtm = ftp(conn).sized_answer.take().flatten();
            if let Some(next) = self.ftp_sized(conn, mdtm, now)? {
                return Ok(next);
            }
        }
        loop {
            let mut progress = false;
            // Control replies.
            if conn.readable {
                let mut buf = [0u8; 4096];
                let t = conn.transport.as_mut().expect("ftp needs a control socket");
                match t.read(&mut buf) {
                    Ok(0) => {
                        conn.readable = false;
                        ftp(conn).session.connection_closed(now);
                        progress = true;
                    }
                    Ok(n) => {
                        self.log_conn(LogLevel::Info, conn.dl, conn.key, || {
                            let reply = String::from_utf8_lossy(&buf[..n]);
                            format!("Response received:\n{}", reply.trim_end())
                        });
                        ftp(conn).session.handle_input(&buf[..n], now);
                        progress = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => conn.readable = false,
                    Err(e) => return Err(Error::network(&e)),
                }
            }
            while let Some(event) = ftp(conn).session.poll_event() {
                progress = true;
                if let Some(next) = self.on_ftp_event(conn, event, now)? {
                    return Ok(next);
                }
            }
            let eof_before = ftp(conn).data_eof;
            if let Some(next) = self.read_ftp_data(conn, now)? {
                return Ok(next);
            }
            // The data's end releases the final reply the session held back when it came
            // first (`data_finished`): poll the events again, or it waits for a control
            // read that never comes (seen as a data timeout when 150 and 226 arrived
            // together before the data was read).
            progress |= !eof_before && ftp(conn).data_eof;
            // Control commands.
            let (gid, key) = (conn.dl, conn.key);
            let f = ftp(conn);
            let sent = f.out.len();
            while let Some(bytes) = f.session.poll_transmit() {
                f.out.extend_from_slice(&bytes);
            }
            if f.out.len() > sent && self.logs(LogLevel::Info) {
                let commands = masked_ftp_commands(&f.out[sent..]);
                self.log_conn(LogLevel::Info, gid, key, || {
                    format!("Requesting:\n{commands}")
                });
            }
            if !f.out.is_empty() {
                let t = conn.transport.as_mut().expect("ftp needs a control socket");
                let f = match &mut conn.phase {
                    Phase::Ftp(f) => f,
                    _ => unreachable!(),
                };
                match t.write(&f.out) {
                    Ok(n) => {
                        f.out.drain(..n);
                        progress = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return Err(Error::network(&e)),
                }
            }
            if !progress {
                return Ok(Next::Continue);
            }
            conn.deadline = now + self.downloads[conn.dl].opts.timeout;
        }
    }

    fn on_ftp_event(
        &mut self,
        conn: &mut Conn,
        event: Event,
        now: Instant,
    ) -> Result<Option<Next>, Error> {
        let gid = conn.dl;
        match event {
            // A torrent's web seed: the pieces' hashes say whether its bytes are right
            // (an HTTP web seed's validators are not checked either), and a multi-file
            // seed's URL names a directory: no SIZE or MDTM.
            Event::LoggedIn if self.downloads[gid].bt.is_some() => {
                ftp(conn).sized = true;
                return self.ftp_next_run(conn, now);
            }
            Event::LoggedIn => {
                let f = ftp(conn);
                let path = f.path.clone();
                f.session.size(&path, now).map_err(usage)?;
            }
            // SIZE, then MDTM: together they name the version of the file.
            Event::Size(n) => {
                ftp(conn).size = Some(n);
                let f = ftp(conn);
                let path = f.path.clone();
                f.session.modification_time(&path, now).map_err(usage)?;
            }
            Event::SizeUnavailable(_) => {
                ftp(conn).size = None;
                let f = ftp(conn);
                let path = f.path.clone();
                f.session.modification_time(&path, now).map_err(usage)?;
            }
            Event::ModificationTime(t) => {
                let mdtm = t
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .map(|d| format!("{}.{:09}", d.as_secs(), d.subsec_nanos()));
                return self.ftp_sized(conn, mdtm, now);
            }
            Event::ModificationTimeUnavailable(_) => return self.ftp_sized(conn, None, now),
            Event::ConnectData(addr) => self.open_ftp_data(conn, addr)?,
            Event::AcceptData => {}
            Event::TransferStarted { .. } => {
                let f = ftp(conn);
                f.transferring = true;
                conn.body_since = Some(now);
            }
            Event::TransferComplete | Event::Aborted => {
                self.close_ftp_data(conn);
                let f = ftp(conn);
                f.busy = false;
                f.aborting = false;
                f.transferring = false;
                if let Layout::Stream { finished, .. } = &mut self.downloads[gid].layout {
                    *finished = true;
                    self.flush_buffer(conn);
                    self.maybe_finish(gid, now);
                    return Ok(Some(Next::Close));
                }
                return self.ftp_next_run(conn, now);
            }
            Event::Error(FtpError::RestartUnsupported(reply))
                if !self.downloads[gid].opts.always_resume =>
            {
                // What this mirror said of the version (its SIZE and MDTM answers).
                let seen = self.downloads[gid].sources[conn.source].validators.clone();
                return match self.cannot_resume(conn, seen) {
                    Err(_) => Err(self.ftp_error(conn, FtpError::RestartUnsupported(reply))),
                    next => next,
                };
            }
            Event::Error(e) => return Err(self.ftp_error(conn, e)),
            Event::Closed => return Ok(Some(Next::Close)),
            _ => {}
        }
        Ok(None)
    }

    /// `SIZE` and `MDTM` answered: checks the version, makes the plan (first answer)
    /// or checks the size against it, and starts the first run.
    fn ftp_sized(
        &mut self,
        conn: &mut Conn,
        mdtm: Option<String>,
        now: Instant,
    ) -> Result<Option<Next>, Error> {
        let gid = conn.dl;
        if matches!(self.downloads[gid].layout, Layout::Unknown) {
            let name = ftp(conn).path.file_name_lossy().into_owned();
            if !self.setup_output(gid, swarmget_http_seg::sanitize_file_name(&name))? {
                ftp(conn).sized_answer = Some(mdtm);
                return Ok(Some(Next::Continue));
            }
        }
        let f = ftp(conn);
        f.sized = true;
        let size = f.size;
        let seen = Seen {
            validators: Validators {
                mdtm,
                ..Validators::default()
            },
            length: size,
            whole_for_if_range: false,
        };
        if let Some(next) = self.check_version(conn, seen)? {
            return Ok(Some(next));
        }
        match size {
            Some(n) if matches!(self.downloads[gid].layout, Layout::Unknown) => {
                self.first_plan(gid, conn, Some(n), 0)?;
                if self.plan_only(gid, now) {
                    return Ok(Some(Next::Close));
                }
            }
            Some(n) => {
                if let Some(total) = self.downloads[gid].total()
                    && total != n
                {
                    // A mirror with another file: never mix its bytes in.
                    self.downloads[gid].sources[conn.source].failed = true;
                    return Err(Error::new(
                        ErrorCode::Ftp,
                        format!("{}: SIZE says {n} bytes, other sources {total}", conn.url),
                    ));
                }
            }
            None => {
                if matches!(self.downloads[gid].layout, Layout::Unknown) {
                    self.downloads[gid].layout = Layout::Stream {
                        received: 0,
                        written: 0,
                        finished: false,
                    };
                }
            }
        }
        self.ftp_next_run(conn, now)
    }

    /// Starts the retrieve for this source's run (claiming one if it has none), on
    /// the same session.
    fn ftp_next_run(&mut self, conn: &mut Conn, now: Instant) -> Result<Option<Next>, Error> {
        self.flush_buffer(conn);
        let gid = conn.dl;
        let run = match &mut self.downloads[gid].layout {
            Layout::Planned(plan) => match plan.run(conn.slot) {
                Some(r) if r.remaining() > 0 => Some(r),
                _ => match plan.claim(conn.slot) {
                    Some(r) => Some(r),
                    None => {
                        self.maybe_finish(gid, now);
                        return Ok(Some(Next::Close));
                    }
                },
            },
            Layout::Stream { .. } => None,
            Layout::Unknown => return Ok(None),
        };
        let offset = run.map_or(0, |r| r.next);
        if offset > 0 && self.downloads[gid].sources[conn.source].no_ranges {
            return Ok(Some(Next::Close));
        }
        conn.pos = offset;
        // Where the retrieve starts in the file the path names: a multi-file
        // torrent's web seed asks for one file at a time, in its offsets.
        let mut rest = offset;
        let d = &self.downloads[gid];
        if let Some(run) = run
            && d.bt
                .as_ref()
                .is_some_and(|s| s.torrent.metainfo().info.multi_file)
        {
            match web_seed::next_request(conn, d, run) {
                WebStep::Ask(range) => {
                    rest = range.start;
                    let parts = ftp_url_parts(&conn.url)
                        .map_err(|e| Error::new(ErrorCode::Ftp, format!("{}: {e}", conn.url)))?;
                    ftp(conn).path = parts.path;
                }
                WebStep::Padding(range) => {
                    self.fill_padding(conn, range, now)?;
                    return self.ftp_next_run(conn, now);
                }
                WebStep::Moved => return Ok(Some(Next::Reconnect)),
                WebStep::Nothing => return Ok(Some(Next::Close)),
            }
        }
        let pasv = self.downloads[gid].opts.ftp_pasv;
        let f = ftp(conn);
        let path = f.path.clone();
        f.busy = true;
        f.data_eof = false;
        if pasv {
            f.session.retrieve(&path, rest, now).map_err(usage)?;
        } else {
            let local = conn
                .transport
                .as_mut()
                .and_then(|t| t.socket().local_addr().ok())
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::Network,
                        "control connection has no local address",
                    )
                })?;
            let mut listener = TcpListener::bind(SocketAddr::new(local.ip(), 0))
                .map_err(|e| Error::network(&e))?;
            let listen = listener.local_addr().map_err(|e| Error::network(&e))?;
            self.register_ftp_socket(&mut listener, conn.key, LISTENER_TOKEN, Interest::READABLE)?;
            let f = ftp(conn);
            f.listener = Some(listener);
            f.session
                .retrieve_active(&path, rest, listen, now)
                .map_err(usage)?;
        }
        Ok(None)
    }

    fn open_ftp_data(&mut self, conn: &mut Conn, addr: SocketAddr) -> Result<(), Error> {
        let (addr, handshake) = match &conn.route {
            Some(_) => {
                // The control connection's peer is the proxy: connect there and ask
                // for the server's data port.
                let proxy = conn
                    .transport
                    .as_mut()
                    .and_then(|t| t.socket().peer_addr().ok())
                    .ok_or_else(|| Error::new(ErrorCode::Network, "proxy address unknown"))?;
                let agent = &self.downloads[conn.dl].opts.user_agent;
                let hs = crate::proxy::handshake_to(conn, addr.port(), agent)?;
                (proxy, Some(Box::new(hs)))
            }
            None => (addr, None),
        };
        // A data connection leaves from where its control connection did: the same
        // interface (servers may refuse data from another address).
        let opts = &self.downloads[conn.dl].opts;
        let local = match (&opts.interface, opts.multiple_interface.is_empty()) {
            (None, true) => None,
            _ => conn
                .transport
                .as_mut()
                .and_then(|t| t.socket().local_addr().ok())
                .map(|a| a.ip()),
        };
        let mut sock = crate::socket::connect(addr, local, opts.socket_recv_buffer_size)
            .map_err(|e| Error::network(&e))?;
        ftp(conn).data_handshake = handshake;
        self.register_ftp_socket(
            &mut sock,
            conn.key,
            DATA_TOKEN,
            Interest::READABLE | Interest::WRITABLE,
        )?;
        ftp(conn).data = Some(sock);
        Ok(())
    }

    /// Readiness on an FTP data connection or active-mode listener.
    pub(crate) fn on_ftp_data_event(
        &mut self,
        key: usize,
        slot: usize,
        readable: bool,
        now: Instant,
    ) {
        let Some(mut conn) = self.conns.get_mut(key).and_then(Option::take) else {
            return;
        };
        let result = self.ftp_data_ready(&mut conn, slot, readable, now);
        self.conns[key] = Some(conn);
        if let Err(e) = result {
            self.conn_failed(key, e, now);
            return;
        }
        self.drive(key, now);
    }

    fn ftp_data_ready(
        &mut self,
        conn: &mut Conn,
        slot: usize,
        readable: bool,
        now: Instant,
    ) -> Result<(), Error> {
        let Phase::Ftp(f) = &mut conn.phase else {
            return Ok(());
        };
        if slot == LISTENER_TOKEN {
            let Some(listener) = f.listener.as_mut() else {
                return Ok(());
            };
            match listener.accept() {
                Ok((mut sock, from)) => {
                    if from.ip() != f.session.peer() {
                        // Only the server may connect to us.
                        return Err(Error::new(
                            ErrorCode::Ftp,
                            format!("data connection from foreign host {from}"),
                        ));
                    }
                    let mut listener = f.listener.take().expect("listener present");
                    let _ = self.poll.registry().deregister(&mut listener);
                    self.register_ftp_socket(&mut sock, conn.key, DATA_TOKEN, Interest::READABLE)?;
                    let f = ftp(conn);
                    f.data = Some(sock);
                    f.data_open = true;
                    f.data_readable = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(Error::network(&e)),
            }
            return Ok(());
        }
        let Some(sock) = f.data.as_mut() else {
            return Ok(());
        };
        if !f.data_open {
            // A passive data connect finished: check how, and tell the session once.
            match sock.take_error() {
                Ok(Some(e)) | Err(e) => return Err(Error::network(&e)),
                Ok(None) => {}
            }
            if sock.peer_addr().is_err() {
                return Ok(());
            }
            if let Some(hs) = f.data_handshake.as_mut() {
                let route = conn.route.as_ref().expect("a data tunnel has a route");
                match crate::proxy::drive(hs, sock, &route.proxy) {
                    Ok(false) => return Ok(()),
                    Ok(true) => {
                        f.data_handshake = None;
                        // Data may have followed the reply at once.
                        f.data_readable = true;
                    }
                    Err(failed) => {
                        conn.give_up |= failed.give_up;
                        return Err(failed.error);
                    }
                }
            }
            f.data_open = true;
            f.session.data_connected(now).map_err(usage)?;
        }
        if readable {
            f.data_readable = true;
        }
        Ok(())
    }

    /// Moves data-connection bytes into write buffers, bounded by the run.
    fn read_ftp_data(&mut self, conn: &mut Conn, now: Instant) -> Result<Option<Next>, Error> {
        loop {
            let f = ftp(conn);
            if !f.data_readable || f.data.is_none() || f.data_eof {
                return Ok(None);
            }
            let run_left = self.run_left(conn);
            // A multi-file torrent's web seed retrieves one file: its end ends the
            // transfer (the run goes on in the next file, on the next retrieve), also
            // when the run ends there: the server has sent the whole file, so there is
            // nothing to abort (an ABOR would wait out its grace for a reply).
            let file_left = conn
                .web_file
                .map_or(u64::MAX, |(_, offset, length)| offset + length - conn.pos);
            if file_left == 0 {
                self.flush_buffer(conn);
                let f = ftp(conn);
                f.data_eof = true;
                match f.session.data_finished(now) {
                    Ok(()) | Err(swarmget_ftp_client::UsageError::NoTransfer) => {}
                    Err(e) => return Err(usage(e)),
                }
                return Ok(None);
            }
            let run_left = run_left.min(file_left);
            if run_left == 0 {
                // The run is done but the file goes on: carry on if the next bytes are
                // free, else stop this transfer and start the next run.
                self.flush_buffer(conn);
                let gid = conn.dl;
                if let Some(plan) = self.downloads[gid].plan_mut()
                    && plan.extend(conn.slot).is_some()
                {
                    continue;
                }
                self.close_ftp_data(conn);
                if !self.downloads[gid].opts.ftp_reuse_connection {
                    return Ok(Some(Next::Reconnect));
                }
                let f = ftp(conn);
                f.aborting = true;
                if let Err(e) = f.session.abort(now) {
                    // The server's final reply came first: the final event is queued.
                    if !matches!(e, swarmget_ftp_client::UsageError::NothingToAbort) {
                        return Err(usage(e));
                    }
                }
                // Some servers never answer ABOR the way RFC 959 says; a fresh
                // connection is cheaper than waiting out the reply timeout.
                conn.deadline = now + ABORT_GRACE.min(self.downloads[gid].opts.timeout);
                return Ok(None);
            }
            let allowance = self.allowance(conn.dl, now);
            if allowance == 0 {
                return Ok(None);
            }
            if conn.buf.is_none() {
                match self.take_buffer() {
                    Some(b) => {
                        conn.buf = Some(b);
                        conn.buf_len = 0;
                        conn.buf_off = conn.pos;
                    }
                    None => return Ok(None),
                }
            }
            let buf = conn.buf.as_mut().expect("buffer taken above");
            let limit = (buf.len() - conn.buf_len)
                .min(run_left.min(usize::MAX as u64) as usize)
                .min(allowance);
            let Phase::Ftp(f) = &mut conn.phase else {
                unreachable!()
            };
            let sock = f.data.as_mut().expect("checked above");
            match sock.read(&mut buf[conn.buf_len..conn.buf_len + limit]) {
                Ok(0) => {
                    f.data_eof = true;
                    self.flush_buffer(conn);
                    let f = ftp(conn);
                    match f.session.data_finished(now) {
                        // The server's final reply came first: the final event is queued.
                        Ok(()) | Err(swarmget_ftp_client::UsageError::NoTransfer) => {}
                        Err(e) => return Err(usage(e)),
                    }
                    if run_left != u64::MAX && self.downloads[conn.dl].plan().is_some() {
                        // The file ended before the run did.
                        return Err(Error::new(
                            ErrorCode::Ftp,
                            "data connection ended before the segment",
                        ));
                    }
                    return Ok(None);
                }
                Ok(n) => {
                    self.check_document_len(conn.dl, conn.pos + n as u64)?;
                    conn.buf_len += n;
                    self.account(conn, n, now);
                    if conn.buf_len == conn.buf.as_ref().map_or(0, Vec::len) {
                        self.flush_buffer(conn);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    f.data_readable = false;
                    return Ok(None);
                }
                Err(e) => return Err(Error::network(&e)),
            }
        }
    }

    pub(crate) fn close_ftp_data(&mut self, conn: &mut Conn) {
        if let Phase::Ftp(f) = &mut conn.phase {
            if let Some(mut sock) = f.data.take() {
                let _ = self.poll.registry().deregister(&mut sock);
            }
            if let Some(mut l) = f.listener.take() {
                let _ = self.poll.registry().deregister(&mut l);
            }
            f.data_readable = false;
            f.data_open = false;
            f.transferring = false;
        }
    }

    /// Maps a session error to aria2's codes, and drops mirrors that cannot help.
    fn ftp_error(&mut self, conn: &mut Conn, e: FtpError) -> Error {
        let code = if e.is_not_found() {
            ErrorCode::NotFound
        } else {
            match &e {
                FtpError::LoginFailed(_) | FtpError::AccountRequired(_) => ErrorCode::HttpAuth,
                FtpError::RestartUnsupported(_) => {
                    self.downloads[conn.dl].sources[conn.source].no_ranges = true;
                    ErrorCode::CannotResume
                }
                FtpError::Timeout { .. } => ErrorCode::Timeout,
                _ if e.is_retryable() => ErrorCode::Network,
                _ => ErrorCode::Ftp,
            }
        };
        Error::new(code, format!("{}: {e}", conn.url))
    }

    /// Registers an FTP data socket or listener of connection `key` under its token slot.
    fn register_ftp_socket(
        &self,
        source: &mut impl mio::event::Source,
        key: usize,
        slot: usize,
        interest: Interest,
    ) -> Result<(), Error> {
        self.poll
            .registry()
            .register(source, Token((key << 3) | slot), interest)
            .map_err(|e| Error::network(&e))
    }

    /// Whether connection `key` is waiting for an ABOR to settle.
    pub(crate) fn ftp_aborting(&self, key: usize) -> bool {
        matches!(self.conns[key].as_ref().map(|c| &c.phase), Some(Phase::Ftp(f)) if f.aborting)
    }

    /// The next FTP deadline of connection `key`, if it runs a session.
    pub(crate) fn ftp_timeout(&mut self, key: usize, now: Instant) {
        let due = matches!(
            self.conns[key].as_ref().map(|c| &c.phase),
            Some(Phase::Ftp(f)) if f.session.poll_timeout().is_some_and(|t| t <= now)
        );
        if due {
            if let Some(Phase::Ftp(f)) = self.conns[key].as_mut().map(|c| &mut c.phase) {
                f.session.handle_timeout(now);
            }
            self.drive(key, now);
        }
    }
}

fn ftp(conn: &mut Conn) -> &mut FtpConn {
    match &mut conn.phase {
        Phase::Ftp(f) => f,
        _ => unreachable!("FTP state on a non-FTP connection"),
    }
}

fn usage(e: swarmget_ftp_client::UsageError) -> Error {
    Error::new(ErrorCode::Ftp, format!("FTP session: {e}"))
}
