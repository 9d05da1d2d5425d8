//! Driving HTTP(S) connections: connect (Happy Eyeballs), send a request, read the
//! head, move the body into write buffers, and decide what the connection does next.
//!
//! The fast path is a `Content-Length` body (every 206 a segmented download gets): the
//! socket is read straight into the disk buffer, bounded by both the response and the
//! connection's run, so no byte is copied in user space more than once and no byte
//! past the run is taken from the socket.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Interest, Token};
use swarmget_http_seg::{
    BodyDecoder, ByteRange, ContentDecoder, ContentEncoding, Framing, HeadLimits, Method,
    RangeAnswer, Request, ResponseHead, check_range_response, parse_final_response_head,
};

use crate::bt::web_seed::{self, WebStep};
use crate::conn::{Body, Conn, Connecting, Parked, Phase};
use crate::disk::DiskJob;
use crate::download::{Conditional, Layout};
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;
use crate::log::{LogLevel, masked_head};
use crate::naming::{Origin, OutputRequest, Prepared, output_path};
use crate::plan::Plan;
use crate::resolve::interleave;
use crate::storage::Storage;
use crate::timers::Timer;
use crate::transport::Transport;
use crate::validators::Validators;
use crate::version::Seen;

/// RFC 8305's recommended delay before racing the next address.
const ATTEMPT_DELAY: Duration = Duration::from_millis(250);
/// At most this many connects race at once (the token holds the attempt in 3 bits;
/// 6 and 7 are the FTP data listener and data connection).
const MAX_ATTEMPTS: usize = 5;
/// Bytes read per call when a body needs decoding (chunked, compressed).
const RAW_READ: usize = 64 * 1024;

/// What a connection does after its body ends or its run runs out.
pub(crate) enum Next {
    /// Keep reading the same response.
    Continue,
    /// Send another request on this connection.
    Request,
    /// Close and open a new connection for the next work.
    Reconnect,
    /// Nothing left for it: close.
    Close,
    /// A proxy tunnel opened: start the origin's protocol.
    Tunnelled,
}

impl Engine {
    /// Begins connecting `key` to `addrs`.
    pub(crate) fn start_connect(&mut self, key: usize, addrs: Vec<SocketAddr>, now: Instant) {
        let Some(conn) = self.conns[key].as_mut() else {
            return;
        };
        let disable_v6 = self.downloads[conn.dl].opts.disable_ipv6;
        let mut queue = interleave(addrs, disable_v6);
        queue.reverse();
        if queue.is_empty() {
            self.conn_failed(
                key,
                Error::new(ErrorCode::Resolve, "no usable address"),
                now,
            );
            return;
        }
        conn.phase = Phase::Connecting(Connecting {
            attempts: Vec::new(),
            queue,
            next_at: now,
            last_error: None,
        });
        self.next_attempt(key, now);
    }

    /// Starts connecting to the next address in the queue.
    pub(crate) fn next_attempt(&mut self, key: usize, now: Instant) {
        self.try_next_address(key, now);
        self.arm(key, now);
    }

    fn try_next_address(&mut self, key: usize, now: Instant) {
        loop {
            let Some(conn) = self.conns[key].as_mut() else {
                return;
            };
            let Phase::Connecting(c) = &mut conn.phase else {
                return;
            };
            let Some(addr) = c.queue.pop() else {
                if c.attempts.iter().all(Option::is_none) {
                    let why = c
                        .last_error
                        .take()
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "no address".into());
                    let err = match &conn.route {
                        Some(r) => Error::new(
                            ErrorCode::Network,
                            format!("cannot connect to proxy {}: {why}", r.proxy),
                        ),
                        None => Error::new(ErrorCode::Network, format!("cannot connect: {why}")),
                    };
                    self.conn_failed(key, err, now);
                }
                return;
            };
            if c.attempts.len() >= MAX_ATTEMPTS {
                c.queue.clear();
                return;
            }
            let gid = conn.dl;
            let opts = &self.downloads[gid].opts;
            let made = crate::socket::local_address(opts, &mut self.interface_turn, &addr)
                .and_then(|local| {
                    crate::socket::connect(addr, local, opts.socket_recv_buffer_size)
                });
            match made {
                Ok(mut sock) => {
                    let token = Token((key << 3) | (c.attempts.len() + 1));
                    if let Err(e) =
                        self.poll
                            .registry()
                            .register(&mut sock, token, Interest::WRITABLE)
                    {
                        c.last_error = Some(e);
                        continue;
                    }
                    c.attempts.push(Some((sock, addr)));
                    c.next_at = now + ATTEMPT_DELAY;
                    self.log_conn(LogLevel::Info, gid, key, || format!("Connecting to {addr}"));
                    return;
                }
                Err(e) => c.last_error = Some(e),
            }
        }
    }

    /// A readiness event for connection `key`: `attempt` 0 is the established socket,
    /// others are racing connects.
    pub(crate) fn on_socket_event(
        &mut self,
        key: usize,
        attempt: usize,
        readable: bool,
        now: Instant,
    ) {
        self.socket_event(key, attempt, readable, now);
        self.arm(key, now);
    }

    fn socket_event(&mut self, key: usize, attempt: usize, readable: bool, now: Instant) {
        let Some(conn) = self.conns.get_mut(key).and_then(Option::as_mut) else {
            return;
        };
        if attempt >= crate::ftp::LISTENER_TOKEN {
            self.on_ftp_data_event(key, attempt, readable, now);
            return;
        }
        if attempt == 0 {
            if readable {
                conn.readable = true;
            }
            self.drive(key, now);
            return;
        }
        let Phase::Connecting(c) = &mut conn.phase else {
            return;
        };
        let Some(Some((sock, _))) = c.attempts.get_mut(attempt - 1) else {
            return;
        };
        // mio's recipe: an error, or a peer address, says how the connect ended.
        let outcome = match sock.take_error() {
            Ok(Some(e)) | Err(e) => Err(e),
            Ok(None) => match sock.peer_addr() {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == ErrorKind::NotConnected => return,
                Err(e) => Err(e),
            },
        };
        match outcome {
            Ok(()) => {
                let Some((sock, _)) = c.attempts[attempt - 1].take() else {
                    return;
                };
                self.connected(key, sock, now);
            }
            Err(e) => {
                if let Some((mut sock, _)) = c.attempts[attempt - 1].take() {
                    let _ = self.poll.registry().deregister(&mut sock);
                }
                c.last_error = Some(e);
                // Try the next address now instead of waiting out the delay.
                c.next_at = now;
                self.next_attempt(key, now);
            }
        }
    }

    /// A connect won the race: drop the others and start the request.
    fn connected(&mut self, key: usize, mut sock: TcpStream, now: Instant) {
        let Some(conn) = self.conns[key].as_mut() else {
            return;
        };
        if let Phase::Connecting(c) = &mut conn.phase {
            for (mut other, _) in c.attempts.drain(..).flatten() {
                let _ = self.poll.registry().deregister(&mut other);
            }
        }
        let registry = self.poll.registry();
        if let Err(e) = registry.reregister(
            &mut sock,
            Token(key << 3),
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.conn_failed(key, Error::network(&e), now);
            return;
        }
        conn.transport = Some(Transport::Plain(sock));
        if conn.route.as_ref().is_some_and(|r| r.tunnels()) {
            let agent = &self.downloads[conn.dl].opts.user_agent;
            match crate::proxy::handshake(conn, agent) {
                Ok(hs) => {
                    conn.phase = Phase::Handshake(Box::new(hs));
                    self.drive(key, now);
                }
                Err(e) => {
                    conn.give_up = true;
                    self.conn_failed(key, e, now);
                }
            }
            return;
        }
        self.start_session(key, now);
    }

    /// The byte stream reaches the origin (directly or through a tunnel): start TLS
    /// if the origin wants it, then its protocol.
    pub(crate) fn start_session(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns[key].as_mut() else {
            return;
        };
        if conn.is_tls()
            && let Some(Transport::Plain(sock)) = conn.transport.take()
        {
            let config = self.downloads[conn.dl].tls.clone();
            // The origin's name, also inside a tunnel: the certificate is checked
            // against the host the user asked for, never the proxy.
            let host = conn.url.host_str().unwrap_or_default().to_string();
            match Transport::tls(sock, config, &host) {
                Ok(t) => conn.transport = Some(t),
                Err(e) => {
                    self.conn_failed(key, Error::network(&e), now);
                    return;
                }
            }
        }
        if conn.is_ftp() {
            self.start_ftp(key, now);
        } else {
            self.send_request(key, now);
        }
    }

    /// Builds and starts sending the request for the connection's current work.
    pub(crate) fn send_request(&mut self, key: usize, now: Instant) {
        let log_requests = self.logs(LogLevel::Info);
        let Some(conn) = self.conns[key].as_mut() else {
            return;
        };
        if conn.pipelined.is_some() {
            // A pipelined response is still owed on this connection: a new request
            // would be answered after it, so start afresh.
            self.reconnect(key, now);
            return;
        }
        let d = &self.downloads[conn.dl];
        // A multi-file torrent's web seed: one file per request, in its offsets.
        let web =
            d.bt.as_ref()
                .is_some_and(|s| s.torrent.metainfo().info.multi_file);
        let range = match &d.layout {
            Layout::Planned(plan) => match plan.run(conn.slot) {
                Some(run) if run.remaining() > 0 && web => {
                    match web_seed::next_request(conn, d, run) {
                        WebStep::Ask(range) => Some(range),
                        WebStep::Padding(range) => return self.deliver_padding(key, range, now),
                        WebStep::Moved => return self.reconnect(key, now),
                        WebStep::Nothing => {
                            let _ = self.drop_conn(key);
                            return;
                        }
                    }
                }
                Some(run) if run.remaining() > 0 => {
                    if d.sources[conn.source].no_ranges {
                        // The server sends whole files: the run is the whole file.
                        None
                    } else {
                        Some(ByteRange {
                            start: run.next,
                            end: Some(run.end - 1),
                        })
                    }
                }
                _ => {
                    let _ = self.drop_conn(key);
                    return;
                }
            },
            // Probing: ask for everything as a range, so the answer says both the
            // length and whether ranges work.
            Layout::Unknown | Layout::Stream { .. } => Some(ByteRange {
                start: 0,
                end: None,
            }),
        };
        // --enable-http-pipelining: a run of at least two pieces is asked for as two
        // ranges, the second request sent behind the first without waiting for it.
        let piece = d.plan().map_or(0, |p| p.piece_len());
        let (range, pipelined) = match range {
            Some(ByteRange {
                start,
                end: Some(end),
            }) if d.opts.enable_http_pipelining
                && !web
                && d.opts.http_keep_alive
                && piece > 0
                && end + 1 - start >= 2 * piece =>
            {
                let mid = start + (end + 1 - start) / 2 / piece * piece;
                (
                    Some(ByteRange {
                        start,
                        end: Some(mid - 1),
                    }),
                    Some(ByteRange {
                        start: mid,
                        end: Some(end),
                    }),
                )
            }
            other => (other, None),
        };
        let opts = &d.opts;
        // --use-head: the first request learns length, ranges and name without a body.
        let head_first =
            opts.use_head && matches!(d.layout, Layout::Unknown) && !conn.head_answered;
        let range = range.filter(|_| !head_first);
        let mut req = if head_first {
            Request::head(&conn.url)
        } else {
            Request::get(&conn.url)
        }
        .user_agent(&opts.user_agent)
        .keep_alive(opts.http_keep_alive);
        let mut if_range = None;
        if let Some(r) = range {
            req = req.range(r);
            // RFC 9110 §13.1.5: the bytes asked for must be of the version on disk,
            // else the server sends the whole new file.
            if let Some(v) = d.if_range_for(conn.source) {
                req = req.header("If-Range", v);
                if_range = Some(v.to_string());
            }
        }
        if opts.http_accept_gzip {
            req = req.accept_encoding("deflate, gzip");
        }
        let mut if_modified_since = None;
        if matches!(d.layout, Layout::Unknown)
            && opts.conditional_get
            && let Conditional::Known(Some((path, mtime))) = &d.conditional
        {
            req = req.header("If-Modified-Since", mtime);
            if_modified_since = Some(path.clone());
        }
        if opts.http_no_cache {
            req = req
                .header("Cache-Control", "no-cache")
                .header("Pragma", "no-cache");
        }
        if matches!(d.layout, Layout::Unknown)
            && let Some(value) = crate::metalink::want_digest(opts)
        {
            req = req.header("Want-Digest", value);
        }
        if conn.via_get() {
            req = req.via_proxy();
            if let Some(c) = conn
                .route
                .as_ref()
                .and_then(|r| r.proxy.credentials.as_ref())
            {
                req = req.header("Proxy-Authorization", c.basic());
            }
        }
        if let Some(referer) = &opts.referer {
            let value = if referer == "*" {
                d.sources[conn.source].url.to_string()
            } else {
                referer.clone()
            };
            req = req.referer(&value);
        }
        // Credentials and cookies are for the origin the user named: after a
        // redirect to another scheme, host or port they stay behind (curl's rule;
        // aria2 sends them wherever a redirect points).
        let same_origin = conn.url.origin() == d.sources[conn.source].url.origin();
        let wait_for_challenge = opts.http_auth_challenge
            && !self
                .challenged
                .contains(&conn.url.origin().ascii_serialization());
        let source_url = &d.sources[conn.source].url;
        if !wait_for_challenge
            && let Some((user, password)) =
                http_credentials(opts, source_url, self.netrc.as_ref(), &conn.url)
        {
            req = req.basic_auth(&user, &password);
        }
        // One Cookie field (RFC 6265 §5.4): the jar's cookies for this URL, then any
        // the user gave with --header.
        let mut cookie = self
            .cookies
            .header_for(&conn.url, crate::cookies::unix_now());
        for h in &opts.headers {
            if let Some((name, value)) = h.split_once(':') {
                let name = name.trim();
                let private = name.eq_ignore_ascii_case("authorization")
                    || name.eq_ignore_ascii_case("cookie")
                    || (name.eq_ignore_ascii_case("proxy-authorization") && !conn.via_get());
                if private && !same_origin {
                    continue;
                }
                if name.eq_ignore_ascii_case("cookie") {
                    cookie = Some(match cookie {
                        Some(jar) => format!("{jar}; {}", value.trim()),
                        None => value.trim().to_string(),
                    });
                    continue;
                }
                req = req.header(name, value.trim());
            }
        }
        if let Some(value) = cookie {
            req = req.header("Cookie", value);
        }
        let mut buf = Vec::with_capacity(512);
        let written = req.write_to(&mut buf).and_then(|()| match pipelined {
            Some(next) => req.clone().range(next).write_to(&mut buf),
            None => Ok(()),
        });
        if let Err(e) = written {
            self.conn_failed(key, Error::new(ErrorCode::Unknown, e.to_string()), now);
            return;
        }
        let logged = log_requests.then(|| masked_head(&buf));
        let gid = conn.dl;
        conn.asked = range;
        conn.pipelined = pipelined;
        conn.asked_head = head_first;
        conn.if_range = if_range;
        conn.if_modified_since = if_modified_since;
        conn.phase = Phase::Sending { buf, pos: 0 };
        conn.deadline = now + opts.timeout;
        if let Some(head) = logged {
            self.log_conn(LogLevel::Info, gid, key, || format!("Requesting:\n{head}"));
        }
        self.drive(key, now);
    }

    /// Moves connection `key` as far as its socket allows.
    pub(crate) fn drive(&mut self, key: usize, now: Instant) {
        // The connection is taken out so the engine's other state can be borrowed.
        let Some(mut conn) = self.conns.get_mut(key).and_then(Option::take) else {
            return;
        };
        let result = self.drive_conn(&mut conn, now);
        self.conns[key] = Some(conn);
        match result {
            Ok(Next::Continue) => {}
            Ok(Next::Request) => self.send_request(key, now),
            Ok(Next::Tunnelled) => self.start_session(key, now),
            Ok(Next::Reconnect) => self.reconnect(key, now),
            Ok(Next::Close) => {
                self.drop_conn(key);
            }
            Err(e) => self.conn_failed(key, e, now),
        }
        self.note_paused(key, now);
        self.arm(key, now);
    }

    fn drive_conn(&mut self, conn: &mut Conn, now: Instant) -> Result<Next, Error> {
        loop {
            match &mut conn.phase {
                Phase::Ftp(_) => return self.drive_ftp(conn, now),
                Phase::Resolving | Phase::Connecting(_) => return Ok(Next::Continue),
                Phase::Handshake(hs) => {
                    let route = conn.route.as_ref().expect("a tunnel has a route");
                    let t = conn.transport.as_mut().expect("a handshake needs a socket");
                    return match crate::proxy::drive(hs, t.socket(), &route.proxy) {
                        Ok(false) => Ok(Next::Continue),
                        Ok(true) => {
                            conn.readable = false;
                            Ok(Next::Tunnelled)
                        }
                        Err(f) => {
                            conn.give_up |= f.give_up;
                            Err(f.error)
                        }
                    };
                }
                Phase::Sending { buf, pos } => {
                    let t = conn.transport.as_mut().expect("sending needs a socket");
                    while *pos < buf.len() {
                        match t.write(&buf[*pos..]) {
                            Ok(0) => {
                                return Err(Error::new(
                                    ErrorCode::Network,
                                    "connection closed while sending",
                                ));
                            }
                            Ok(n) => *pos += n,
                            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                                return Ok(Next::Continue);
                            }
                            Err(e) => return Err(Error::network(&e)),
                        }
                    }
                    t.flush().map_err(|e| Error::network(&e))?;
                    conn.phase = Phase::Head {
                        buf: Vec::with_capacity(4096),
                    };
                    // The response may already be waiting.
                    conn.readable = true;
                }
                Phase::Parked(_) => {
                    if self.downloads[conn.dl].output_pending {
                        return Ok(Next::Continue);
                    }
                    let Phase::Parked(parked) = std::mem::replace(&mut conn.phase, Phase::Idle)
                    else {
                        unreachable!("matched above");
                    };
                    let Parked { head, rest } = *parked;
                    if let Some(next) = self.on_answer(conn, head, now)? {
                        return Ok(next);
                    }
                    self.take_body_bytes(conn, &rest, now)?;
                }
                Phase::Head { .. } => {
                    if !conn.readable {
                        return Ok(Next::Continue);
                    }
                    match self.read_head(conn, now)? {
                        Some(next) => return Ok(next),
                        None => continue,
                    }
                }
                Phase::Body(_) => {
                    let next = self.read_body(conn, now)?;
                    if matches!(next, Next::Continue) && matches!(conn.phase, Phase::Head { .. }) {
                        // A pipelined response follows the body just read: read its head
                        // now, its bytes may be here already (edge-triggered readiness).
                        continue;
                    }
                    return Ok(next);
                }
                Phase::Idle => {
                    if !conn.readable {
                        return Ok(Next::Continue);
                    }
                    // Anything arriving on an idle connection (usually its close) ends it.
                    let mut probe = [0u8; 1];
                    let t = conn.transport.as_mut().expect("idle needs a socket");
                    return match t.read(&mut probe) {
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            conn.readable = false;
                            Ok(Next::Continue)
                        }
                        _ => Ok(Next::Close),
                    };
                }
            }
        }
    }

    /// Reads and parses the response head. `Ok(None)`: the phase changed, go on.
    fn read_head(&mut self, conn: &mut Conn, now: Instant) -> Result<Option<Next>, Error> {
        let limits = HeadLimits::default();
        let Phase::Head { buf } = &mut conn.phase else {
            return Ok(None);
        };
        let t = conn.transport.as_mut().expect("head needs a socket");
        let old = buf.len();
        buf.resize(old + 16 * 1024, 0);
        let n = match t.read(&mut buf[old..]) {
            Ok(0) => {
                buf.truncate(old);
                return Err(Error::new(
                    ErrorCode::Network,
                    "connection closed before the response head",
                ));
            }
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                buf.truncate(old);
                conn.readable = false;
                return Ok(Some(Next::Continue));
            }
            Err(e) => {
                buf.truncate(old);
                return Err(Error::network(&e));
            }
        };
        buf.truncate(old + n);
        conn.deadline = now + self.downloads[conn.dl].opts.timeout;
        let parsed = parse_final_response_head(buf, &limits)
            .map_err(|e| Error::new(ErrorCode::HttpHeader, format!("bad response head: {e}")))?;
        // Not all of the head yet: read on.
        let Some((head, used)) = parsed else {
            return Ok(None);
        };
        self.log_conn(LogLevel::Info, conn.dl, conn.key, || {
            format!("Response received:\n{}", masked_head(&buf[..used]))
        });
        let rest = buf.split_off(used);
        let next = self.on_head(conn, head, now)?;
        if let Phase::Parked(parked) = &mut conn.phase {
            parked.rest = rest;
            return Ok(next);
        }
        if let Some(next) = next {
            return Ok(Some(next));
        }
        // Body bytes that came with the head go through the body path first.
        self.take_body_bytes(conn, &rest, now)?;
        Ok(None)
    }

    /// Acts on a response head. `Ok(None)` means the body follows (phase is Body).
    fn on_head(
        &mut self,
        conn: &mut Conn,
        head: ResponseHead,
        now: Instant,
    ) -> Result<Option<Next>, Error> {
        let status = head.status;
        // Cookies count from every answer, redirects included; a cookie the jar
        // refuses (another site's domain, say) is ignored, as RFC 6265 asks.
        let unix = crate::cookies::unix_now();
        for value in head.headers_all("set-cookie") {
            let _ = self.cookies.store(value, &conn.url, unix);
        }
        if (300..400).contains(&status) && head.location().is_some() {
            let (url, _) = conn
                .redirects
                .follow(&head, &conn.url, Method::Get)
                .map_err(|e| Error::new(ErrorCode::TooManyRedirects, e.to_string()))?
                .ok_or_else(|| {
                    Error::new(
                        ErrorCode::HttpHeader,
                        format!("HTTP {status} without a usable Location"),
                    )
                })?;
            conn.url = url;
            return Ok(Some(Next::Reconnect));
        }
        if status == 304
            && let Some(path) = conn.if_modified_since.take()
        {
            // --conditional-get: the file on disk is the server's latest.
            let gid = conn.dl;
            self.notice(
                gid,
                format!(
                    "{} is up to date (304 Not Modified); not downloaded",
                    path.display()
                ),
            );
            self.downloads[gid].path = Some(path);
            self.complete(gid, now);
            return Ok(Some(Next::Close));
        }
        match status {
            401 => {
                let origin = conn.url.origin().ascii_serialization();
                let basic = head
                    .headers_all("www-authenticate")
                    .any(|v| v.to_ascii_lowercase().contains("basic"));
                if self.downloads[conn.dl].opts.http_auth_challenge
                    && basic
                    && !self.challenged.contains(&origin)
                    && http_credentials(
                        &self.downloads[conn.dl].opts,
                        &self.downloads[conn.dl].sources[conn.source].url,
                        self.netrc.as_ref(),
                        &conn.url,
                    )
                    .is_some()
                {
                    // --http-auth-challenge: asked for, so ask again with them.
                    self.challenged.insert(origin);
                    return Ok(Some(Next::Reconnect));
                }
                return Err(Error::new(
                    ErrorCode::HttpAuth,
                    format!("HTTP {status}: authorization failed"),
                ));
            }
            407 => {
                // aria2 ends the download with "bad HTTP response" (22) here; asking
                // again with the same credentials cannot go better.
                conn.give_up = true;
                let what = match conn.route.as_ref() {
                    Some(r) if r.proxy.credentials.is_some() => {
                        format!("proxy {} refused the credentials", r.proxy)
                    }
                    Some(r) => format!("proxy {} wants a user name and password", r.proxy),
                    None => "a server that is not our proxy asked for proxy credentials".into(),
                };
                return Err(Error::new(
                    ErrorCode::HttpHeader,
                    format!("HTTP 407 Proxy Authentication Required: {what}"),
                ));
            }
            404 | 410 => {
                return Err(Error::new(
                    ErrorCode::NotFound,
                    format!("HTTP {status}: resource not found"),
                ));
            }
            503 => {
                let unix = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                conn.retry_after = head.retry_after(unix);
                return Err(Error::new(
                    ErrorCode::Overloaded,
                    "HTTP 503: service unavailable",
                ));
            }
            405 | 501 if conn.asked_head => {
                // A server without HEAD: ask with GET, as without --use-head.
                conn.head_answered = true;
                let next = if head.can_reuse_connection(false) {
                    Next::Request
                } else {
                    Next::Reconnect
                };
                return Ok(Some(next));
            }
            s if s >= 400 && s != 416 => {
                return Err(Error::new(
                    ErrorCode::HttpHeader,
                    format!("HTTP {s} {}", head.reason),
                ));
            }
            s if !(200..300).contains(&s) && s != 416 => {
                return Err(Error::new(
                    ErrorCode::HttpHeader,
                    format!("unexpected HTTP status {s}"),
                ));
            }
            _ => {}
        }
        if let Some(next) = self.metalink_headers(conn, &head)? {
            return Ok(Some(next));
        }
        self.on_answer(conn, head, now)
    }

    /// Acts on a successful answer (redirects, errors and Metalink headers dealt
    /// with). The first answer of a download names its output; while the disk thread
    /// settles that file the connection parks with the head, and this runs again when
    /// the file is ready ([`Engine::output_prepared`]).
    fn on_answer(
        &mut self,
        conn: &mut Conn,
        head: ResponseHead,
        now: Instant,
    ) -> Result<Option<Next>, Error> {
        if !self.output_from_first_answer(conn, &head)? {
            conn.phase = Phase::Parked(Box::new(Parked {
                head,
                rest: Vec::new(),
            }));
            return Ok(Some(Next::Continue));
        }
        if conn.asked_head {
            return self.on_head_answer(conn, &head, now).map(Some);
        }
        let status = head.status;
        let gid = conn.dl;
        let framing = head.framing(false);
        // Without --http-accept-gzip a coded body is the file as the server has it.
        let encoding = if self.downloads[conn.dl].opts.http_accept_gzip {
            head.content_encoding()
        } else {
            ContentEncoding::Identity
        };
        let keep_alive =
            head.can_reuse_connection(false) && self.downloads[gid].opts.http_keep_alive;
        let asked = conn.asked.unwrap_or(ByteRange {
            start: 0,
            end: None,
        });
        let known_total = self.downloads[gid].total();
        let seen = Seen {
            validators: Validators::from_http(head.header("etag"), head.header("last-modified")),
            length: match status {
                206 => head
                    .content_range()
                    .ok()
                    .flatten()
                    .and_then(|c| c.complete_length()),
                200 if matches!(encoding, ContentEncoding::Identity) => {
                    head.content_length().ok().flatten()
                }
                _ => None,
            },
            whole_for_if_range: status == 200 && conn.if_range.is_some(),
        };
        // A torrent's pieces are verified by their hashes, whichever version of a
        // web seed's file they came from (each file of a multi-file torrent has
        // validators of its own).
        if (200..300).contains(&status)
            && self.downloads[gid].bt.is_none()
            && let Some(next) = self.check_version(conn, seen)?
        {
            return Ok(Some(next));
        }
        let total = match &self.downloads[gid].layout {
            Layout::Planned(p) => Some(p.total()),
            _ => known_total,
        };
        // A multi-file torrent's web seed answers in its file's offsets.
        let (shift, total) = match conn.web_file {
            Some((_, offset, length)) => (offset, Some(length)),
            None => (0, total),
        };
        let answer = check_range_response(&head, asked, total)
            .map_err(|e| Error::new(ErrorCode::HttpHeader, format!("{}: {e}", conn.url)))?;
        let answer = match answer {
            RangeAnswer::Partial { start, end, total } => RangeAnswer::Partial {
                start: start + shift,
                end: end + shift,
                total,
            },
            // A torrent's pieces are never taken as done from an answer, and a web
            // seed must serve ranges.
            RangeAnswer::AlreadyComplete | RangeAnswer::Whole { .. }
                if self.downloads[gid].bt.is_some() =>
            {
                return Err(Error::new(
                    ErrorCode::HttpHeader,
                    format!("{}: the web seed does not serve ranges", conn.url),
                ));
            }
            other => other,
        };
        let compressed = !matches!(encoding, ContentEncoding::Identity);
        match answer {
            RangeAnswer::AlreadyComplete => {
                self.mark_all_done(gid, now);
                return Ok(Some(Next::Close));
            }
            RangeAnswer::Partial {
                start,
                end,
                total: reported,
            } => {
                if compressed {
                    return Err(Error::new(
                        ErrorCode::HttpHeader,
                        "server compressed a range response",
                    ));
                }
                self.first_plan(gid, conn, reported, start)?;
                if self.plan_only(gid, now) {
                    return Ok(Some(Next::Close));
                }
                let Some(plan) = self.downloads[gid].plan_mut() else {
                    return Err(Error::new(
                        ErrorCode::HttpHeader,
                        "a range answer without a total length",
                    ));
                };
                let run = plan.run(conn.slot);
                match run {
                    Some(run) if run.next == start && run.remaining() > 0 => {}
                    _ => {
                        // This response starts where nothing is wanted (resumed pieces):
                        // ask again for what is.
                        let _ = end;
                        let next = if plan.claim(conn.slot).is_some() {
                            Next::Reconnect
                        } else {
                            Next::Close
                        };
                        return Ok(Some(next));
                    }
                }
                conn.pos = start;
            }
            RangeAnswer::Whole { length } => {
                if compressed
                    || matches!(framing, Framing::Chunked | Framing::UntilClose)
                    || length.is_none()
                {
                    // Length unknown until the end: stream it.
                    // Anything on disk, verified or not, is lost to a restart.
                    let on_disk = self.downloads[gid].plan().map_or(0, |p| p.written_bytes());
                    if on_disk > 0 {
                        return self.cannot_resume(
                            conn,
                            Validators::from_http(
                                head.header("etag"),
                                head.header("last-modified"),
                            ),
                        );
                    }
                    self.downloads[gid].layout = Layout::Stream {
                        received: 0,
                        written: 0,
                        finished: false,
                    };
                } else {
                    let length = length.unwrap_or(0);
                    self.downloads[gid].sources[conn.source].no_ranges = true;
                    if let Some(plan) = self.downloads[gid].plan() {
                        if plan.total() != length {
                            return Err(Error::new(
                                ErrorCode::HttpHeader,
                                format!(
                                    "file length changed: {} now, {} before",
                                    length,
                                    plan.total()
                                ),
                            ));
                        }
                    } else {
                        self.first_plan(gid, conn, Some(length), 0)?;
                    }
                    let plan = self.downloads[gid].plan_mut().expect("planned above");
                    // A resume (from a control file too: the plan just made holds its
                    // pieces) answered with the whole file.
                    if plan.completed_bytes() > 0 {
                        return self.cannot_resume(
                            conn,
                            Validators::from_http(
                                head.header("etag"),
                                head.header("last-modified"),
                            ),
                        );
                    }
                    if plan.claim_exact(conn.slot, 0..length).is_none() {
                        // Others hold parts of the file; this mirror cannot help.
                        return Ok(Some(Next::Close));
                    }
                }
                if self.plan_only(gid, now) {
                    return Ok(Some(Next::Close));
                }
                conn.pos = 0;
            }
        }
        let content = if compressed {
            Some(
                ContentDecoder::new(&encoding)
                    .map_err(|e| Error::new(ErrorCode::HttpHeader, e.to_string()))?,
            )
        } else {
            None
        };
        let decoder = BodyDecoder::new(framing);
        let remaining = match framing {
            Framing::Length(n) if content.is_none() => Some(n),
            _ => None,
        };
        conn.phase = Phase::Body(Body {
            decoder,
            remaining,
            content,
            keep_alive,
        });
        conn.body_since = Some(now);
        Ok(None)
    }

    /// The first answer of a download names its file (Content-Disposition or the URL)
    /// and says whether it is a document to follow; later answers change nothing.
    /// False while the output file is being prepared ([`Engine::setup_output`]).
    fn output_from_first_answer(
        &mut self,
        conn: &Conn,
        head: &ResponseHead,
    ) -> Result<bool, Error> {
        let gid = conn.dl;
        if !matches!(self.downloads[gid].layout, Layout::Unknown) {
            return Ok(true);
        }
        self.note_document_type(gid, &conn.url, head.header("content-type"));
        let suggested = head.suggested_file_name(
            &conn.url,
            self.downloads[gid].opts.content_disposition_default_utf8,
        );
        self.setup_output(gid, suggested)
    }

    /// `--use-head`: the answer to the first request, a HEAD. Its length, ranges,
    /// validators and name set the download up as a probing GET's would; the GETs
    /// that follow fetch the bytes (the first on this connection when it stays open).
    /// A server that does not say it takes ranges, or gives no length, is probed with
    /// a GET as without the option.
    fn on_head_answer(
        &mut self,
        conn: &mut Conn,
        head: &ResponseHead,
        now: Instant,
    ) -> Result<Next, Error> {
        conn.asked_head = false;
        conn.head_answered = true;
        let gid = conn.dl;
        let coded = self.downloads[gid].opts.http_accept_gzip
            && !matches!(head.content_encoding(), ContentEncoding::Identity);
        let length = head
            .content_length()
            .ok()
            .flatten()
            .filter(|&n| n > 0 && !coded);
        let seen = Seen {
            validators: Validators::from_http(head.header("etag"), head.header("last-modified")),
            length,
            whole_for_if_range: false,
        };
        if let Some(next) = self.check_version(conn, seen)? {
            return Ok(next);
        }
        let ranges = head
            .header("accept-ranges")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("bytes"));
        if let (Some(length), true, Layout::Unknown) = (length, ranges, &self.downloads[gid].layout)
        {
            self.first_plan(gid, conn, Some(length), 0)?;
            if self.plan_only(gid, now) {
                return Ok(Next::Close);
            }
        }
        let keep_alive =
            head.can_reuse_connection(false) && self.downloads[gid].opts.http_keep_alive;
        Ok(if keep_alive {
            Next::Request
        } else {
            Next::Reconnect
        })
    }

    /// Picks the output path from the first answer and asks the disk thread to decide
    /// how to start (aria2's rules for an existing file) and to open the file. True
    /// when the output is ready: set up before, or the Metalink document kept in
    /// memory. False while the disk thread works: the caller parks its connection
    /// until [`Engine::output_prepared`] drives it again. `suggested` is the server's
    /// name for the file (Content-Disposition or the URL's last segment, already
    /// reduced to one safe component); `-o` wins over it.
    pub(crate) fn setup_output(
        &mut self,
        gid: Gid,
        suggested: Option<String>,
    ) -> Result<bool, Error> {
        let d = &mut self.downloads[gid];
        if d.path.is_some() {
            return Ok(true);
        }
        if d.output_pending {
            return Ok(false);
        }
        let name = match &d.opts.out {
            Some(out) => out.clone(),
            None => suggested.unwrap_or_else(|| "index.html".into()),
        };
        if self.document_output(gid, &name)? {
            return Ok(true);
        }
        let d = &mut self.downloads[gid];
        let path = output_path(&d.opts.dir, &name)?;
        // -V keeps an existing file to check it (aria2: only when there is something
        // to check it with).
        d.integrity_check = d.opts.check_integrity
            && (d.expect.pieces.is_some() || d.whole_file_digest().is_some());
        let request = OutputRequest {
            path,
            remove_control: d.opts.remove_control_file,
            continue_: d.opts.continue_download || d.integrity_check,
            allow_overwrite: d.opts.allow_overwrite,
            auto_rename: d.opts.auto_file_renaming,
            remote_time: d.opts.remote_time,
            dry_run: d.opts.dry_run,
        };
        d.output_pending = true;
        self.disk_job(gid, DiskJob::PrepareOutput { gid, request });
        Ok(false)
    }

    /// The disk thread's answer to [`Engine::setup_output`]: the download takes its
    /// file and what its control file or the existing bytes say, and the connections
    /// parked on it go on (or fail with the download when the file cannot be had).
    pub(crate) fn output_prepared(
        &mut self,
        gid: Gid,
        result: Result<Prepared, Error>,
        now: Instant,
    ) {
        let Some(d) = self.downloads.get_mut(gid) else {
            return;
        };
        d.jobs_in_flight -= 1;
        d.output_pending = false;
        let parked: Vec<usize> = self
            .conns
            .iter()
            .flatten()
            .filter(|c| c.dl == gid && c.waits_for_output())
            .map(|c| c.key)
            .collect();
        let prepared = match result {
            Ok(prepared) => prepared,
            Err(e) if parked.is_empty() => return self.fail_download(gid, e, now),
            Err(e) => {
                for key in parked {
                    self.conn_failed(key, e.clone(), now);
                }
                return;
            }
        };
        let d = &mut self.downloads[gid];
        let mut notice = None;
        match prepared.origin {
            Origin::Control(record) => {
                d.control_exists = true;
                match record {
                    Ok(Some(state)) => {
                        d.resume_total = Some(state.total_len);
                        d.validators = state.validators.clone();
                        // Used only if it describes the plan the first answer makes.
                        d.resume = Some(state);
                    }
                    Ok(None) => {}
                    Err(e) => notice = Some(format!("ignoring control file: {e}")),
                }
            }
            Origin::Sequential { len, mtime } => {
                d.resume_total = None;
                d.resume = None;
                d.sequential_len = len;
                // Nothing recorded the bytes' version; with --remote-time the file's
                // time is the server's time of the version it was made from, so
                // If-Range and the head comparison can tell a replaced file.
                if let Some(mtime) = mtime {
                    d.validators = Validators::from_file_time(mtime);
                }
            }
            Origin::Fresh => {}
        }
        d.file = prepared.file;
        d.path = Some(prepared.path);
        if let Some(message) = notice {
            self.notice(gid, message);
        }
        let timeout = self.downloads[gid].opts.timeout;
        for key in parked {
            if let Some(conn) = self.conns[key].as_mut() {
                conn.deadline = now + timeout;
            }
            self.drive(key, now);
        }
    }

    /// Creates the plan when the first range answer gives the total, and claims the
    /// run this response serves for the probing connection.
    pub(crate) fn first_plan(
        &mut self,
        gid: Gid,
        conn: &Conn,
        total: Option<u64>,
        start: u64,
    ) -> Result<(), Error> {
        let d = &mut self.downloads[gid];
        if d.plan().is_some() {
            return Ok(());
        }
        let Some(total) = total else {
            return Err(Error::new(
                ErrorCode::HttpHeader,
                "range answer without a total length",
            ));
        };
        self.check_document_len(gid, total)?;
        let d = &mut self.downloads[gid];
        if let Some(expected) = d.expect.length
            && expected != total
        {
            // The Metalink or magnet link said otherwise: this mirror has another file.
            d.sources[conn.source].failed = true;
            return Err(Error::new(
                ErrorCode::Unknown,
                format!(
                    "{}: the server's file is {total} bytes, expected {expected}",
                    conn.url
                ),
            ));
        }
        // Chunk checksums set the piece grid: a piece counts once it verifies.
        let hashes = d.piece_hashes(total);
        let piece_len = hashes.as_ref().map_or(d.opts.piece_length, |h| h.length);
        let mut plan = Plan::new(total, piece_len)
            .min_split(d.opts.min_split_size)
            .selector(d.opts.stream_piece_selector)
            .spread_over(
                d.opts
                    .split
                    .min(d.sources.len() * d.opts.max_connection_per_server),
            );
        if hashes.is_some() {
            plan = plan.verify_pieces();
        }
        d.hashes = hashes;
        match (d.resume.take(), d.resume_total) {
            (Some(state), Some(t)) if t == total => {
                let storage = d
                    .path
                    .clone()
                    .and_then(|path| Storage::single(path, total, piece_len).ok());
                match storage {
                    Some(s) if state.describes(&s, &d.opts.dir) => {
                        plan = plan.with_done(state.verified).with_written(state.partial);
                    }
                    Some(s) if state.same_files(&s, &d.opts.dir) => {
                        // The same file on another piece grid (--piece-length changed,
                        // or chunk checksums of another length).
                        if !d.opts.allow_piece_length_change {
                            let recorded = state.piece_len;
                            // Kept, so nothing replaces the record; no mirror can help.
                            d.resume = Some(state);
                            for source in &mut d.sources {
                                source.failed = true;
                            }
                            return Err(Error::new(
                                ErrorCode::Unknown,
                                format!(
                                    "piece length mismatch: the control file has {recorded}, \
                                     this download uses {piece_len}; \
                                     --allow-piece-length-change=true keeps the bytes on disk"
                                ),
                            ));
                        }
                        // aria2 keeps only whole pieces of the new grid; every byte on
                        // disk is kept here: whole new pieces count, the rest is
                        // written (and hashed, with checksums) like any partial piece.
                        plan = plan.with_written(state.written_ranges());
                    }
                    _ => {}
                }
            }
            (_, Some(t)) if t != total => {
                return Err(Error::new(
                    ErrorCode::Unknown,
                    format!("total length mismatch: control file says {t}, server says {total}"),
                ));
            }
            _ => {}
        }
        if d.integrity_check && d.hashes.is_none() && d.sequential_len != total {
            // Only a whole-file digest: aria2 checks a file that looks finished (its
            // length) and otherwise fetches it from scratch, unless -c keeps the prefix.
            if !d.opts.continue_download || d.sequential_len > total {
                d.sequential_len = 0;
                if let Some(file) = &d.file {
                    file.set_len(0)
                        .map_err(|e| Error::file(&e, "cannot truncate"))?;
                }
            }
        } else if d.integrity_check && d.hashes.is_none() {
            // Looks finished: the whole-file check decides; a mismatch starts over.
            d.recheck_whole = true;
        }
        if d.sequential_len > 0 && d.hashes.is_some() {
            // `-c` without a control file, with chunk checksums: the existing bytes
            // are hashed, not trusted.
            plan = plan.with_written(std::iter::once(0..d.sequential_len.min(total)));
        } else if d.sequential_len > 0 {
            // `-c` without a control file: whole pieces below the file's length count.
            let done_pieces = (d.sequential_len.min(total) / plan.piece_len()) as usize;
            let mut bits = crate::bitfield::Bitfield::new(plan.done().len());
            for p in 0..done_pieces {
                bits.set(p);
            }
            if d.sequential_len == total {
                for p in 0..plan.done().len() {
                    bits.set(p);
                }
            }
            plan = plan.with_done(bits);
        }
        // The probe's response starts at `start`; if those bytes are already done,
        // the connection is sent elsewhere by the caller.
        plan.claim_from(conn.slot, start);
        let file_len = total;
        d.resumed = plan.written_bytes() > 0;
        d.layout = Layout::Planned(plan);
        // Bytes restored as written (-c, -V) are hashed now, not when a write lands.
        self.hash_ready_pieces(gid);
        let d = &mut self.downloads[gid];
        d.control_dirty = true;
        // The control file goes first: a file allocated to full length, or written at
        // several places at once, with no control file beside it would look complete
        // to a later `-c`. A file no larger than --min-split-size is one run (nothing
        // is left to split or steal) written front to back by one connection, so a
        // bare file is a true prefix: its control file waits for the periodic save,
        // and a small file done within a second never has one.
        let allocating = d.file.is_some() && file_len >= d.opts.no_file_allocation_limit;
        if allocating || total > d.opts.min_split_size || d.control_exists {
            self.save_control(gid, true);
        }
        let d = &mut self.downloads[gid];
        if let Some(file) = d.file.clone() {
            let allocation = d.opts.file_allocation;
            if file_len >= d.opts.no_file_allocation_limit {
                let job = DiskJob::Allocate {
                    gid: d.gid,
                    file,
                    len: file_len,
                    allocation,
                };
                self.disk_job(gid, job);
            }
        }
        // Start the other connections now, before this one reads on and extends its
        // run over bytes they should share.
        self.top_up(gid, self.clock.now());
        Ok(())
    }

    pub(crate) fn mark_all_done(&mut self, gid: Gid, now: Instant) {
        let d = &mut self.downloads[gid];
        match &mut d.layout {
            Layout::Planned(p) => {
                let bits = {
                    let mut b = crate::bitfield::Bitfield::new(p.done().len());
                    for k in 0..b.len() {
                        b.set(k);
                    }
                    b
                };
                *p = p.clone().with_done(bits);
            }
            Layout::Unknown => {
                let total = d.resume_total.unwrap_or(d.sequential_len);
                d.layout = Layout::Stream {
                    received: total,
                    written: total,
                    finished: true,
                };
            }
            Layout::Stream { finished, .. } => *finished = true,
        }
        self.maybe_finish(gid, now);
    }

    /// Reads body bytes until the socket would block, the run or body ends, or the
    /// connection must pause (no buffer, rate limit).
    fn read_body(&mut self, conn: &mut Conn, now: Instant) -> Result<Next, Error> {
        loop {
            if !conn.readable {
                return Ok(Next::Continue);
            }
            if let Some(next) = self.body_boundary(conn, now)? {
                return Ok(next);
            }
            let allowance = self.allowance(conn.dl, now);
            if allowance == 0 {
                return Ok(Next::Continue);
            }
            let run_left = self.run_left(conn);
            let Phase::Body(body) = &mut conn.phase else {
                return Ok(Next::Continue);
            };
            if let Some(remaining) = body.remaining {
                // Fast path: socket → disk buffer.
                if conn.buf.is_none() {
                    match self.take_buffer() {
                        Some(b) => {
                            conn.buf = Some(b);
                            conn.buf_len = 0;
                            conn.buf_off = conn.pos;
                        }
                        None => return Ok(Next::Continue),
                    }
                }
                let buf = conn.buf.as_mut().expect("buffer taken above");
                let limit = (buf.len() - conn.buf_len)
                    .min(remaining.min(run_left).min(usize::MAX as u64) as usize)
                    .min(allowance);
                let t = conn.transport.as_mut().expect("body needs a socket");
                let n = match t.read(&mut buf[conn.buf_len..conn.buf_len + limit]) {
                    Ok(0) => {
                        return Err(Error::new(
                            ErrorCode::Network,
                            format!("connection closed with {remaining} body bytes outstanding"),
                        ));
                    }
                    Ok(n) => n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        conn.readable = false;
                        return Ok(Next::Continue);
                    }
                    Err(e) => return Err(Error::network(&e)),
                };
                body.remaining = Some(remaining - n as u64);
                body.decoder
                    .advance(n as u64)
                    .map_err(|e| Error::new(ErrorCode::Network, e.to_string()))?;
                conn.buf_len += n;
                self.account(conn, n, now);
                if conn.buf_len == buf_capacity(conn) {
                    self.flush_buffer(conn);
                }
            } else {
                // Decoding path: chunked, until-close or compressed bodies.
                let mut raw = std::mem::take(&mut conn.scratch);
                raw.resize(RAW_READ, 0);
                let t = conn.transport.as_mut().expect("body needs a socket");
                let result = t.read(&mut raw[..RAW_READ.min(allowance)]);
                let outcome = match result {
                    Ok(0) => {
                        body.decoder
                            .finish_eof()
                            .map_err(|e| Error::new(ErrorCode::Network, e.to_string()))?;
                        body.keep_alive = false;
                        continue;
                    }
                    Ok(n) => {
                        let taken = self.take_body_bytes(conn, &raw[..n], now);
                        conn.scratch = raw;
                        taken?;
                        continue;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        conn.readable = false;
                        Ok(Next::Continue)
                    }
                    Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                        body.decoder
                            .finish_eof()
                            .map_err(|e| Error::new(ErrorCode::Network, e.to_string()))?;
                        body.keep_alive = false;
                        conn.scratch = raw;
                        continue;
                    }
                    Err(e) => Err(Error::network(&e)),
                };
                return outcome;
            }
        }
    }

    /// Feeds raw body bytes (read with the head, or on the decoding path) through the
    /// body and content decoders into the write buffer.
    fn take_body_bytes(&mut self, conn: &mut Conn, raw: &[u8], now: Instant) -> Result<(), Error> {
        if raw.is_empty() {
            return Ok(());
        }
        let Phase::Body(body) = &mut conn.phase else {
            return Err(Error::new(
                ErrorCode::HttpHeader,
                "data after a response without a body",
            ));
        };
        let mut decoded: Vec<u8> = Vec::new();
        let mut sink = |chunk: &[u8]| decoded.extend_from_slice(chunk);
        let got = body
            .decoder
            .decode(raw, &mut sink)
            .map_err(|e| Error::new(ErrorCode::Network, e.to_string()))?;
        if got.consumed < raw.len() {
            // Bytes past the end of the body: a server sending more than it said.
            body.keep_alive = false;
        }
        if let Some(remaining) = body.remaining.as_mut() {
            *remaining -= decoded.len() as u64;
        }
        let data = if let Some(content) = body.content.as_mut() {
            let mut out = Vec::new();
            content
                .decode_to(&decoded, &mut |c| out.extend_from_slice(c))
                .map_err(|e| Error::new(ErrorCode::HttpHeader, e.to_string()))?;
            out
        } else {
            decoded
        };
        self.deliver(conn, &data, now)
    }

    /// Copies decoded body bytes into write buffers (the slow path).
    pub(crate) fn deliver(
        &mut self,
        conn: &mut Conn,
        mut data: &[u8],
        now: Instant,
    ) -> Result<(), Error> {
        self.check_document_len(conn.dl, conn.pos + data.len() as u64)?;
        if let Some(plan) = self.downloads[conn.dl].plan() {
            let run_left = plan.run(conn.slot).map(|r| r.remaining()).unwrap_or(0);
            if data.len() as u64 > run_left {
                return Err(Error::new(
                    ErrorCode::HttpHeader,
                    "server sent more bytes than the range asked for",
                ));
            }
        }
        while !data.is_empty() {
            if conn.buf.is_none() {
                // Decoded data must land somewhere: past the disk cache, a buffer
                // of just this size, dropped once written.
                let b = self.take_buffer().unwrap_or_else(|| {
                    self.pool_out += crate::engine::pool_units(data.len());
                    vec![0u8; data.len()]
                });
                conn.buf = Some(b);
                conn.buf_len = 0;
                conn.buf_off = conn.pos;
            }
            let buf = conn.buf.as_mut().expect("buffer set above");
            let n = (buf.len() - conn.buf_len).min(data.len());
            buf[conn.buf_len..conn.buf_len + n].copy_from_slice(&data[..n]);
            conn.buf_len += n;
            data = &data[n..];
            self.account(conn, n, now);
            if conn.buf_len == buf_capacity(conn) {
                self.flush_buffer(conn);
            }
        }
        Ok(())
    }

    /// Books `n` new bytes at the connection's position: the plan (or stream), the
    /// meters, the throttles.
    pub(crate) fn account(&mut self, conn: &mut Conn, n: usize, now: Instant) {
        let d = &mut self.downloads[conn.dl];
        match &mut d.layout {
            Layout::Planned(plan) => {
                plan.advance(conn.slot, n as u64);
            }
            Layout::Stream { received, .. } => *received += n as u64,
            Layout::Unknown => {}
        }
        conn.pos += n as u64;
        conn.meter.add(now, n as u64);
        conn.transfer.get_or_insert((now, 0)).1 += n as u64;
        conn.deadline = now + d.opts.timeout;
        d.meter.add(now, n as u64);
        d.session_bytes += n as u64;
        d.throttle.consume(n);
        self.overall.consume(n);
    }

    pub(crate) fn allowance(&mut self, gid: Gid, now: Instant) -> usize {
        let own = self.downloads[gid].throttle.allowance(now);
        own.min(self.overall.allowance(now))
    }

    pub(crate) fn run_left(&self, conn: &Conn) -> u64 {
        match &self.downloads[conn.dl].layout {
            Layout::Planned(plan) => plan.run(conn.slot).map(|r| r.remaining()).unwrap_or(0),
            _ => u64::MAX,
        }
    }

    /// Checks whether the response or the run has ended, and what follows.
    fn body_boundary(&mut self, conn: &mut Conn, now: Instant) -> Result<Option<Next>, Error> {
        let Phase::Body(body) = &mut conn.phase else {
            return Ok(None);
        };
        let body_done = body.decoder.is_done();
        let keep_alive = body.keep_alive;
        let gid = conn.dl;
        match &mut self.downloads[gid].layout {
            Layout::Planned(plan) => {
                let run_left = plan.run(conn.slot).map(|r| r.remaining()).unwrap_or(0);
                if run_left > 0 && !body_done {
                    return Ok(None);
                }
                self.flush_buffer(conn);
                if !body_done {
                    // The run ended inside the response: carry on if the bytes that
                    // follow are free, else this response has to go.
                    let plan = self.downloads[gid].plan_mut().expect("planned");
                    if plan.extend(conn.slot).is_some() {
                        return Ok(None);
                    }
                    let next = if plan.claim(conn.slot).is_some() {
                        Next::Reconnect
                    } else {
                        Next::Close
                    };
                    return Ok(Some(next));
                }
                if run_left > 0
                    && keep_alive
                    && let Some(next) = conn.pipelined.filter(|r| r.start == conn.pos)
                {
                    // The pipelined request's response comes next on this connection.
                    conn.pipelined = None;
                    conn.asked = Some(next);
                    conn.phase = Phase::Head {
                        buf: Vec::with_capacity(4096),
                    };
                    conn.body_since = None;
                    conn.readable = true;
                    return Ok(Some(Next::Continue));
                }
                if run_left > 0 {
                    // The body ended short of the run (a shorter answer): ask for the rest.
                    return Ok(Some(if keep_alive {
                        Next::Request
                    } else {
                        Next::Reconnect
                    }));
                }
                let plan = self.downloads[gid].plan_mut().expect("planned");
                let more = plan.claim(conn.slot).is_some();
                conn.phase = Phase::Idle;
                conn.body_since = None;
                if !more {
                    self.maybe_finish(gid, now);
                    return Ok(Some(Next::Close));
                }
                Ok(Some(if keep_alive {
                    Next::Request
                } else {
                    Next::Reconnect
                }))
            }
            Layout::Stream { finished, .. } => {
                if !body_done {
                    return Ok(None);
                }
                if let Some(content) = &body.content {
                    content
                        .finish()
                        .map_err(|e| Error::new(ErrorCode::HttpHeader, e.to_string()))?;
                }
                *finished = true;
                self.flush_buffer(conn);
                conn.phase = Phase::Idle;
                self.maybe_finish(gid, now);
                Ok(Some(Next::Close))
            }
            Layout::Unknown => Ok(Some(Next::Close)),
        }
    }

    /// Sends the connection's buffered bytes to the disk worker.
    pub(crate) fn flush_buffer(&mut self, conn: &mut Conn) {
        let Some(buf) = conn.buf.take() else { return };
        if conn.buf_len == 0 {
            self.give_buffer(buf);
            return;
        }
        let d = &self.downloads[conn.dl];
        let job = match (d.file.clone(), &d.bt, &d.storage) {
            (Some(file), _, _) => DiskJob::Write {
                gid: d.gid,
                file,
                offset: conn.buf_off,
                buf,
                len: conn.buf_len,
            },
            // A torrent's web seed writes into the torrent's files.
            (None, Some(_), Some(storage)) => DiskJob::WriteStorage {
                gid: d.gid,
                storage: storage.clone(),
                offset: conn.buf_off,
                buf,
                len: conn.buf_len,
                hashed: false,
            },
            _ => {
                self.give_buffer(buf);
                return;
            }
        };
        conn.buf_len = 0;
        self.disk_job(conn.dl, job);
    }

    /// Closes the connection's socket and starts it over (a redirect, a run that
    /// needs a new request on a connection that cannot carry one).
    pub(crate) fn reconnect(&mut self, key: usize, now: Instant) {
        let Some(mut conn) = self.conns[key].take() else {
            return;
        };
        self.flush_buffer(&mut conn);
        self.close_ftp_data(&mut conn);
        if let Some(mut t) = conn.transport.take() {
            let _ = self.poll.registry().deregister(t.socket());
        }
        conn.phase = Phase::Resolving;
        conn.pipelined = None;
        conn.readable = false;
        conn.deadline = now + self.downloads[conn.dl].opts.connect_timeout;
        self.conns[key] = Some(conn);
        self.resolve(key, now);
    }

    /// Gives paused readers another go: after a buffer came back from the disk
    /// thread, or when a rate-limited reader's timer fired (`only`).
    pub(crate) fn resume_paused(&mut self, only: Option<usize>, now: Instant) {
        let keys = match only {
            Some(key) => vec![key],
            None => std::mem::take(&mut self.paused),
        };
        self.paused.retain(|k| !keys.contains(k));
        for key in keys {
            if self
                .conns
                .get(key)
                .and_then(Option::as_ref)
                .is_some_and(is_paused)
            {
                if let Some(c) = self.conns[key].as_mut() {
                    // Waiting on our own buffers or limits is not the server's fault.
                    c.deadline = now + self.downloads[c.dl].opts.timeout;
                }
                self.drive(key, now);
            }
        }
    }

    /// After a drive: a reader that stopped with bytes unread waits for a buffer (it
    /// is resumed when one comes back) or for its rate limit (a timer says when).
    fn note_paused(&mut self, key: usize, now: Instant) {
        let Some(conn) = self.conns.get(key).and_then(Option::as_ref) else {
            return;
        };
        if !is_paused(conn) || self.paused.contains(&key) {
            return;
        }
        let gid = conn.dl;
        self.paused.push(key);
        if self.allowance(gid, now) == 0 {
            // Enough for a useful read, not one byte at a time.
            let want = 16 << 10;
            let wait = self.downloads[gid]
                .throttle
                .wait_for(want)
                .max(self.overall.wait_for(want))
                .max(std::time::Duration::from_millis(1));
            self.timers.push(now + wait, Timer::Resume(key));
        }
    }
}

/// A connection with bytes waiting that it has not read (mio is edge-triggered, so
/// nothing will wake it but the loop itself).
fn is_paused(c: &Conn) -> bool {
    match &c.phase {
        Phase::Body(_) => c.readable,
        Phase::Ftp(f) => f.data_readable && f.data.is_some() && !f.data_eof,
        _ => false,
    }
}

/// The Basic credentials configured for a request to `url`, if any and if the URI has
/// none of its own: `--http-user` for the origin the user named (`source`, not another
/// one a redirect led to), else the host's `.netrc` entry (per host, so it holds after
/// a redirect too).
fn http_credentials(
    opts: &crate::options::Options,
    source: &url::Url,
    netrc: Option<&crate::netrc::Netrc>,
    url: &url::Url,
) -> Option<(String, String)> {
    if !url.username().is_empty() {
        return None;
    }
    if let Some(user) = opts
        .http_user
        .as_ref()
        .filter(|_| url.origin() == source.origin())
    {
        let password = opts.http_passwd.clone().unwrap_or_default();
        return Some((user.clone(), password));
    }
    netrc
        .and_then(|n| n.find(url.host_str().unwrap_or_default()))
        .filter(|m| !m.login.is_empty())
        .map(|m| (m.login.clone(), m.password.clone()))
}

/// Size of the connection's write buffer (0 when it holds none).
fn buf_capacity(conn: &Conn) -> usize {
    conn.buf.as_ref().map_or(0, Vec::len)
}

/// `--conditional-get`: the file a download of `url` would write (named by `-o` or the
/// URI's last segment, never by Content-Disposition, as aria2).
pub(crate) fn conditional_path(
    opts: &crate::options::Options,
    url: &url::Url,
) -> Option<std::path::PathBuf> {
    let name = match &opts.out {
        Some(out) => out.clone(),
        None => {
            swarmget_http_seg::sanitize_file_name(&swarmget_http_seg::file_name_from_url(url)?)?
        }
    };
    output_path(&opts.dir, &name).ok()
}
