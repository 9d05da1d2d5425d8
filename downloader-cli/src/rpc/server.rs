//! The RPC daemon's own mio thread: accepts connections, reads HTTP requests and
//! WebSocket frames with [`swarmget_rpc`], answers them through [`Methods`], and pushes
//! engine events to every open WebSocket.
//!
//! Invariants:
//! - Every buffer is bounded: requests by the codecs' limits, pending output per
//!   connection by [`MAX_PENDING`] (a client that does not read its notifications is
//!   dropped), connections by [`MAX_CONNECTIONS`]; a connection whose answers pass
//!   [`OUT_HIGH`] is not read until the client takes them (a client pipelining
//!   requests without reading gets backpressure, not a growing buffer); an HTTP connection idle for
//!   [`IDLE`] (a half-open one that never sends its body included) is closed, and so
//!   is a connection that was answered and told to close but keeps sending.
//! - One connection is read for at most [`READ_BUDGET`] bytes per turn of the loop;
//!   one with more to read waits in `again` behind the others' events, so a client
//!   that keeps sending cannot hold the thread from the rest.
//! - The engine is reached only through the [`Handle`](swarmget_engine::Handle) inside
//!   [`Methods`]; its events arrive on [`WAKE`] through a forwarding thread.
//! - After `aria2.shutdown` the answer is written before the engine is told to halt;
//!   a client that does not read holds the halt back for at most [`SHUTDOWN_GRACE`].
//! - With `--rpc-secure` every connection is TLS from its first byte: what it reads
//!   and writes passes through its `rustls::ServerConnection`, and output is pending
//!   while either `out` or the TLS records are unwritten ([`pending`]).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};
use serde_json::Value;
use swarmget_engine::{Event, Interrupter};
use swarmget_rpc::auth::BasicAuth;
use swarmget_rpc::http::{HttpError, Limits, Request, RequestReader, Response};
use swarmget_rpc::websocket::{self, Decoder, Message, Opcode};
use swarmget_rpc::{Fault, json, xml};

use super::methods::{Exit, Methods};

/// Engine events are waiting.
const WAKE: Token = Token(0);
/// Listener tokens start here; connections follow.
const FIRST_LISTENER: usize = 1;
const FIRST_CONN: usize = 16;
/// Most open connections; more are accepted and closed at once.
pub const MAX_CONNECTIONS: usize = 1024;
/// Most bytes waiting to be written to one connection.
pub const MAX_PENDING: usize = 16 << 20;
/// After `aria2.shutdown`, the longest wait for pending answers to be written.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// An HTTP connection with nothing happening for this long is closed.
pub const IDLE: Duration = Duration::from_secs(30);
/// Most bytes read from one connection in one turn of the loop.
pub const READ_BUDGET: usize = 64 << 10;
/// Pending output above which a connection's further requests wait unread.
pub const OUT_HIGH: usize = 1 << 20;

/// What one [`Server::read`] stopped.
#[derive(Debug, PartialEq, Eq)]
enum ReadEnd {
    /// The socket would block: the next event says when there is more.
    Drained,
    /// Stopped early (budget spent, or answers waiting to be taken): read again later.
    More,
    /// The connection is finished.
    Closed,
}

/// How the server is set up.
pub struct Config {
    /// `--rpc-max-request-size`.
    pub max_request: usize,
    /// `--rpc-allow-origin-all`.
    pub allow_origin_all: bool,
    /// `--rpc-secure`: the TLS configuration every connection starts with.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// `--rpc-user`/`--rpc-passwd`.
    pub basic_auth: Option<BasicAuth>,
}

enum Proto {
    Http(RequestReader),
    Ws(Decoder),
}

struct Conn {
    stream: TcpStream,
    /// `--rpc-secure`: the TLS session the bytes pass through.
    tls: Option<Box<rustls::ServerConnection>>,
    /// The TLS close_notify was queued (once, before the write side closes).
    close_notified: bool,
    proto: Proto,
    out: Vec<u8>,
    close_after_flush: bool,
    last: Instant,
}

/// The server, ready to run on its own thread.
pub struct Server {
    poll: Poll,
    listeners: Vec<TcpListener>,
    conns: HashMap<usize, Conn>,
    next_token: usize,
    methods: Methods,
    config: Config,
    events: Receiver<Event>,
    interrupter: Interrupter,
    /// When `aria2.shutdown` was answered.
    shutdown: Option<Instant>,
    /// Connections with bytes left unread, to be read again next turn.
    again: Vec<usize>,
}

impl Server {
    /// A server over `listeners`; engine events come from `engine_events`.
    pub fn new(
        listeners: Vec<std::net::TcpListener>,
        methods: Methods,
        config: Config,
        engine_events: Receiver<Event>,
        interrupter: Interrupter,
    ) -> io::Result<Server> {
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
        let (tx, rx) = channel();
        forward(engine_events, tx, waker)?;
        let mut mio_listeners = Vec::new();
        for (i, l) in listeners.into_iter().enumerate() {
            l.set_nonblocking(true)?;
            let mut l = TcpListener::from_std(l);
            poll.registry()
                .register(&mut l, Token(FIRST_LISTENER + i), Interest::READABLE)?;
            mio_listeners.push(l);
        }
        Ok(Server {
            poll,
            listeners: mio_listeners,
            conns: HashMap::new(),
            next_token: FIRST_CONN,
            methods,
            config,
            events: rx,
            interrupter,
            shutdown: None,
            again: Vec::new(),
        })
    }

    /// Serves until `aria2.shutdown` (then halts the engine) or the engine goes away.
    pub fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            // Connections with unread bytes are served again at once; otherwise the
            // poll wakes at least every second for the idle deadlines.
            let timeout = if self.again.is_empty() {
                Duration::from_secs(1)
            } else {
                Duration::ZERO
            };
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                eprintln!("swarmget: RPC: {e}");
                return;
            }
            // Last turn's unfinished reads come after this turn's events.
            let again = std::mem::take(&mut self.again);
            for event in &events {
                match event.token() {
                    WAKE => {
                        if !self.notify() {
                            return;
                        }
                    }
                    Token(t) if t < FIRST_CONN => self.accept(t - FIRST_LISTENER),
                    Token(t) => self.serve(t),
                }
            }
            for t in again {
                // One that an event served this turn may be waiting again already.
                if !self.again.contains(&t) {
                    self.serve(t);
                }
            }
            self.expire();
            let written = self.conns.values().all(|c| !pending(c));
            if self
                .shutdown
                .is_some_and(|at| written || at.elapsed() >= SHUTDOWN_GRACE)
            {
                self.interrupter.interrupt();
                return;
            }
        }
    }

    fn accept(&mut self, index: usize) {
        loop {
            let Some(listener) = self.listeners.get(index) else {
                return;
            };
            match listener.accept() {
                Ok((mut stream, _)) => {
                    if self.conns.len() >= MAX_CONNECTIONS {
                        continue; // dropped: closes the socket
                    }
                    let tls = match &self.config.tls {
                        None => None,
                        Some(config) => match rustls::ServerConnection::new(config.clone()) {
                            Ok(c) => Some(Box::new(c)),
                            Err(_) => continue,
                        },
                    };
                    let token = self.next_token;
                    self.next_token += 1;
                    if self
                        .poll
                        .registry()
                        .register(&mut stream, Token(token), Interest::READABLE)
                        .is_err()
                    {
                        continue;
                    }
                    let limits = Limits {
                        max_body: self.config.max_request,
                        ..Limits::default()
                    };
                    self.conns.insert(
                        token,
                        Conn {
                            stream,
                            tls,
                            close_notified: false,
                            proto: Proto::Http(RequestReader::new(limits)),
                            out: Vec::new(),
                            close_after_flush: false,
                            last: Instant::now(),
                        },
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => return,
            }
        }
    }

    /// Reads what a connection sent, answers it, writes what is pending.
    fn serve(&mut self, token: usize) {
        let Some(mut conn) = self.conns.remove(&token) else {
            return;
        };
        if !conn.close_after_flush {
            // A closing connection keeps its deadline: a client cannot hold it open
            // by sending more.
            conn.last = Instant::now();
        }
        let read = self.read(&mut conn);
        let mut open = read != ReadEnd::Closed && flush(&mut conn);
        if open && read == ReadEnd::More && conn.out.len() <= OUT_HIGH {
            self.again.push(token);
        }
        if open && conn.close_after_flush && conn.out.is_empty() && !conn.close_notified {
            // A TLS client reading to the end expects close_notify before the FIN.
            if let Some(tls) = &mut conn.tls {
                tls.send_close_notify();
                open = flush(&mut conn);
            }
            conn.close_notified = true;
        }
        if open && conn.close_after_flush && !pending(&conn) {
            // Lingering close: a client still sending (an oversized body) would get
            // a reset instead of the answer if unread bytes were left at close. The
            // write side ends here; reads are discarded until the client closes or
            // the idle deadline passes.
            let _ = conn.stream.shutdown(std::net::Shutdown::Write);
        }
        self.keep(token, conn, open);
    }

    /// Registers `conn` again for what it waits for, or drops it.
    fn keep(&mut self, token: usize, mut conn: Conn, open: bool) {
        if open {
            let interest = if !pending(&conn) {
                Interest::READABLE
            } else {
                Interest::READABLE | Interest::WRITABLE
            };
            if self
                .poll
                .registry()
                .reregister(&mut conn.stream, Token(token), interest)
                .is_ok()
            {
                self.conns.insert(token, conn);
                return;
            }
        }
        let _ = self.poll.registry().deregister(&mut conn.stream);
    }

    /// Reads and answers until the socket would block, the turn's [`READ_BUDGET`] is
    /// spent, or the answers waiting pass [`OUT_HIGH`].
    fn read(&mut self, conn: &mut Conn) -> ReadEnd {
        let mut buf = [0u8; 16 << 10];
        let mut budget = READ_BUDGET;
        loop {
            if budget == 0 {
                return ReadEnd::More;
            }
            if conn.out.len() > OUT_HIGH {
                // What is ready goes out now; the rest waits for the client to read.
                if !flush(conn) {
                    return ReadEnd::Closed;
                }
                if conn.out.len() > OUT_HIGH {
                    return ReadEnd::More;
                }
            }
            let got = match &mut conn.tls {
                None => conn.stream.read(&mut buf),
                Some(tls) => read_plain(tls, &mut conn.stream, &mut buf),
            };
            match got {
                Ok(0) => return ReadEnd::Closed,
                // Whatever follows an answer that closes the connection is dropped.
                Ok(n) if conn.close_after_flush => budget = budget.saturating_sub(n),
                Ok(n) => {
                    budget = budget.saturating_sub(n);
                    match &mut conn.proto {
                        Proto::Http(r) => r.feed(&buf[..n]),
                        Proto::Ws(d) => d.feed(&buf[..n]),
                    }
                    self.process(conn);
                    if conn.out.len() > MAX_PENDING {
                        return ReadEnd::Closed;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ReadEnd::Drained,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return ReadEnd::Closed,
            }
        }
    }

    /// Answers every whole request or message buffered on `conn`.
    fn process(&mut self, conn: &mut Conn) {
        loop {
            match &mut conn.proto {
                Proto::Http(reader) => match reader.poll() {
                    Ok(Some(request)) => {
                        // As aria2: a CORS preflight needs no credentials; any other
                        // request without them gets 401 and the connection closes.
                        if let Some(auth) = &self.config.basic_auth
                            && request.method != "OPTIONS"
                            && !auth.allows(request.header("authorization"))
                        {
                            let resp = Response::empty(401)
                                .with("WWW-Authenticate", "Basic realm=\"aria2\"");
                            conn.out.extend(self.cors(resp).encode(false));
                            conn.close_after_flush = true;
                            return;
                        }
                        if websocket::is_upgrade(&request) && request.path == "/jsonrpc" {
                            match websocket::handshake(&request) {
                                Ok(resp) => {
                                    conn.out.extend(resp.encode(true));
                                    // Bytes after the handshake are the first frames.
                                    let mut decoder = Decoder::new(self.config.max_request);
                                    decoder.feed(&reader.take_remaining());
                                    conn.proto = Proto::Ws(decoder);
                                }
                                Err(resp) => {
                                    conn.out.extend(resp.encode(false));
                                    conn.close_after_flush = true;
                                    return;
                                }
                            }
                            continue;
                        }
                        let keep = request.keep_alive();
                        let resp = self.answer_http(&request);
                        conn.out.extend(resp.encode(keep));
                        if !keep {
                            conn.close_after_flush = true;
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let resp = self.http_error(&e);
                        conn.out.extend(resp.encode(false));
                        conn.close_after_flush = true;
                        return;
                    }
                },
                Proto::Ws(decoder) => match decoder.poll() {
                    Ok(Some(Message::Text(text))) => {
                        let reply = self.answer_json(json::parse(text.as_bytes())).1;
                        conn.out
                            .extend(websocket::encode(Opcode::Text, reply.as_bytes()));
                    }
                    Ok(Some(Message::Binary(bytes))) => {
                        let reply = self.answer_json(json::parse(&bytes)).1;
                        conn.out
                            .extend(websocket::encode(Opcode::Text, reply.as_bytes()));
                    }
                    Ok(Some(Message::Ping(p))) => {
                        conn.out.extend(websocket::encode(Opcode::Pong, &p));
                    }
                    Ok(Some(Message::Pong(_))) => {}
                    Ok(Some(Message::Close(_))) => {
                        conn.out.extend(websocket::close(1000));
                        conn.close_after_flush = true;
                        return;
                    }
                    Ok(None) => return,
                    Err(e) => {
                        conn.out.extend(websocket::close(e.close_code()));
                        conn.close_after_flush = true;
                        return;
                    }
                },
            }
        }
    }

    fn cors(&self, resp: Response) -> Response {
        if self.config.allow_origin_all {
            resp.with("Access-Control-Allow-Origin", "*")
        } else {
            resp
        }
    }

    fn http_error(&self, e: &HttpError) -> Response {
        self.cors(Response::new(
            e.status(),
            "text/plain",
            format!("{e}\n").into_bytes(),
        ))
    }

    fn answer_http(&mut self, request: &Request) -> Response {
        let resp = match (request.method.as_str(), request.path.as_str()) {
            ("OPTIONS", _) => {
                let mut r = Response::empty(200);
                if self.config.allow_origin_all {
                    r = r
                        .with("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
                        .with("Access-Control-Max-Age", "1728000");
                    if let Some(h) = request.header("access-control-request-headers") {
                        r = r.with("Access-Control-Allow-Headers", h);
                    }
                }
                r
            }
            ("POST", "/jsonrpc") => {
                let (status, body) = self.answer_json(json::parse(&request.body));
                Response::new(status, "application/json-rpc", body.into_bytes())
            }
            ("GET", "/jsonrpc") => {
                let parsed = json::parse_query(request.query.as_deref().unwrap_or(""));
                let callback = parsed.as_ref().ok().and_then(|(_, cb)| cb.clone());
                let (status, body) = self.answer_json(parsed.map(|(r, _)| r));
                match callback {
                    Some(cb) => Response::new(
                        status,
                        "text/javascript",
                        json::jsonp(&cb, &body).into_bytes(),
                    ),
                    None => Response::new(status, "application/json-rpc", body.into_bytes()),
                }
            }
            ("POST", "/rpc") => {
                let result = xml::parse(&request.body)
                    .and_then(|call| self.call(&call.method, call.params, true));
                Response::new(200, "text/xml", xml::response(&result).into_bytes())
            }
            (_, "/jsonrpc" | "/rpc") => Response::empty(405).with("Allow", "GET, POST, OPTIONS"),
            _ => Response::empty(404),
        };
        self.cors(resp)
    }

    fn call(&mut self, name: &str, params: Vec<Value>, xml: bool) -> Result<Value, Fault> {
        let r = self.methods.call(name, params, xml);
        if self.methods.exit() == Exit::Shutdown {
            self.shutdown.get_or_insert_with(Instant::now);
        }
        r
    }

    /// A JSON-RPC request answered: the HTTP status and the response text.
    fn answer_json(&mut self, request: Result<json::Request, Fault>) -> (u16, String) {
        let mut one = |entry: json::Entry| -> (u16, Value) {
            let (id, result) = match entry {
                Ok(call) => {
                    let r = self.call(&call.method, call.params, false);
                    (call.id, r)
                }
                Err((id, f)) => (id, Err(f)),
            };
            let status = result.as_ref().err().map_or(200, Fault::http_status);
            (status, json::response(id, result))
        };
        let (status, value) = match request {
            Ok(json::Request::Single(entry)) => one(entry),
            Ok(json::Request::Batch(entries)) => (
                200,
                Value::Array(entries.into_iter().map(|e| one(e).1).collect()),
            ),
            Err(f) => (f.http_status(), json::response(Value::Null, Err(f))),
        };
        (status, json::encode(&value))
    }

    /// Sends engine events to every WebSocket; false once the engine is gone.
    fn notify(&mut self) -> bool {
        loop {
            let event = match self.events.try_recv() {
                Ok(e) => e,
                Err(std::sync::mpsc::TryRecvError::Empty) => return true,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => return false,
            };
            let (method, gid) = match event {
                Event::Start(g) => ("aria2.onDownloadStart", g),
                Event::Pause(g) => ("aria2.onDownloadPause", g),
                Event::Stop(g) => ("aria2.onDownloadStop", g),
                Event::Complete(g) => ("aria2.onDownloadComplete", g),
                Event::BtComplete(g) => ("aria2.onBtDownloadComplete", g),
                Event::Error(g) => ("aria2.onDownloadError", g),
                Event::Notice(..) | Event::Log(..) | Event::Halted => continue,
            };
            let frame = websocket::encode(
                Opcode::Text,
                json::notification(method, &gid.to_string()).as_bytes(),
            );
            let tokens: Vec<usize> = self
                .conns
                .iter()
                .filter(|(_, c)| matches!(c.proto, Proto::Ws(_)) && !c.close_after_flush)
                .map(|(&t, _)| t)
                .collect();
            for t in tokens {
                if let Some(c) = self.conns.get_mut(&t) {
                    c.out.extend_from_slice(&frame);
                }
                self.serve_write(t);
            }
        }
    }

    /// Writes what is pending on one connection (after a notification).
    fn serve_write(&mut self, token: usize) {
        let Some(mut conn) = self.conns.remove(&token) else {
            return;
        };
        let open = conn.out.len() <= MAX_PENDING && flush(&mut conn);
        self.keep(token, conn, open);
    }

    /// Closes HTTP connections idle for longer than [`IDLE`].
    fn expire(&mut self) {
        let now = Instant::now();
        let stale: Vec<usize> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                (matches!(c.proto, Proto::Http(_)) || c.close_after_flush) && now - c.last > IDLE
            })
            .map(|(&t, _)| t)
            .collect();
        for t in stale {
            if let Some(mut c) = self.conns.remove(&t) {
                let _ = self.poll.registry().deregister(&mut c.stream);
            }
        }
    }
}

/// Whether a connection has output not yet on the socket.
fn pending(conn: &Conn) -> bool {
    !conn.out.is_empty() || conn.tls.as_ref().is_some_and(|t| t.wants_write())
}

/// Plaintext from a TLS connection: what is decrypted already, else what one read
/// from the socket brings. `Ok(0)` at the end (close_notify or FIN); `WouldBlock` when
/// the socket has nothing more now.
fn read_plain(
    tls: &mut rustls::ServerConnection,
    stream: &mut TcpStream,
    buf: &mut [u8],
) -> io::Result<usize> {
    loop {
        match tls.reader().read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if tls.read_tls(stream)? == 0 {
            return Ok(0);
        }
        if let Err(e) = tls.process_new_packets() {
            // The alert rustls queued says why (a refused version, a bad record) to
            // a client that would otherwise see only the connection close.
            let _ = tls.write_tls(stream);
            return Err(io::Error::other(e));
        }
    }
}

/// Writes until the socket would block; false when the connection failed.
fn flush(conn: &mut Conn) -> bool {
    if let Some(tls) = &mut conn.tls {
        return flush_tls(tls, &mut conn.stream, &mut conn.out);
    }
    while !conn.out.is_empty() {
        match conn.stream.write(&conn.out) {
            Ok(0) => return false,
            Ok(n) => {
                conn.out.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
    true
}

/// [`flush`] through TLS: plaintext goes into the session as far as its buffer takes
/// it (the handshake may hold it back), records go out to the socket.
fn flush_tls(
    tls: &mut rustls::ServerConnection,
    stream: &mut TcpStream,
    out: &mut Vec<u8>,
) -> bool {
    loop {
        let mut moved = 0;
        if !out.is_empty() {
            match tls.writer().write(out) {
                Ok(n) => {
                    out.drain(..n);
                    moved = n;
                }
                Err(_) => return false,
            }
        }
        if !tls.wants_write() {
            if out.is_empty() || moved == 0 {
                return true;
            }
            continue;
        }
        match tls.write_tls(stream) {
            Ok(0) => return false,
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// Moves engine events to the server's channel and wakes its poll.
fn forward(events: Receiver<Event>, tx: Sender<Event>, waker: Arc<Waker>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("rpc-events".into())
        .spawn(move || {
            for e in events {
                if tx.send(e).is_err() {
                    return;
                }
                let _ = waker.wake();
            }
            // The engine is gone: one last wake lets the server see the channel closed.
            drop(tx);
            let _ = waker.wake();
        })
        .map(drop)
}
