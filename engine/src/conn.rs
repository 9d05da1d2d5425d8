//! One HTTP(S) connection serving one download: its socket, where it is in the
//! request/response cycle, and the buffer its body bytes collect in.

use crate::gid::Gid;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::TcpStream;
use swarmget_http_seg::{BodyDecoder, ByteRange, ContentDecoder, Redirects, ResponseHead};
use url::Url;

use crate::download::SpeedMeter;
use crate::plan::SourceSlot;
use crate::proxy::Route;
use crate::transport::Transport;

/// Connection attempts racing per Happy Eyeballs (RFC 8305).
pub(crate) struct Connecting {
    /// Sockets with a connect in progress, and their addresses.
    pub attempts: Vec<Option<(TcpStream, SocketAddr)>>,
    /// Addresses not tried yet, next one last.
    pub queue: Vec<SocketAddr>,
    /// When to start the next attempt if none has connected.
    pub next_at: Instant,
    /// The last failure, reported if every attempt fails.
    pub last_error: Option<std::io::Error>,
}

/// Where a connection is in its cycle.
pub(crate) enum Phase {
    /// Waiting for the resolver.
    Resolving,
    /// TCP connects in flight.
    Connecting(Connecting),
    /// Writing the request (and, for TLS, completing the handshake).
    Sending { buf: Vec<u8>, pos: usize },
    /// Opening a tunnel through a proxy (CONNECT or SOCKS5).
    Handshake(Box<swarmget_proxy::Handshake>),
    /// Reading the response head.
    Head { buf: Vec<u8> },
    /// A first answer whose download waits for the disk thread to decide and open
    /// its output file; acted on when the file is ready.
    Parked(Box<Parked>),
    /// Reading the body.
    Body(Body),
    /// Kept alive between requests.
    Idle,
    /// An FTP session on this control connection.
    Ftp(Box<crate::ftp::FtpConn>),
}

/// A response head held while its download's output file is prepared.
pub(crate) struct Parked {
    /// The head, not yet acted on.
    pub head: ResponseHead,
    /// Body bytes that arrived with it.
    pub rest: Vec<u8>,
}

/// Body decoding state for the current response.
pub(crate) struct Body {
    pub decoder: BodyDecoder,
    /// Bytes of a `Content-Length` body still to come: the fast path reads these
    /// straight into the write buffer.
    pub remaining: Option<u64>,
    /// For a compressed whole-file response.
    pub content: Option<ContentDecoder>,
    /// Whether the connection may carry another request afterwards.
    pub keep_alive: bool,
}

pub(crate) struct Conn {
    /// This connection's slot in the engine (its token is `key << 3`).
    pub key: usize,
    /// The download it works for.
    pub dl: Gid,
    /// Index of the mirror within the download.
    pub source: usize,
    pub slot: SourceSlot,
    pub url: Url,
    /// The proxy this connection goes through, decided from `url` at each (re)connect.
    pub route: Option<Route>,
    /// `socks5://`: the origin's address, resolved here before the handshake.
    pub target: Option<SocketAddr>,
    /// Asking this source again cannot go better (a proxy refused our credentials).
    pub give_up: bool,
    pub redirects: Redirects,
    pub phase: Phase,
    pub transport: Option<Transport>,
    /// The range the current request asked for.
    pub asked: Option<ByteRange>,
    /// The `If-Range` value the current request carried.
    pub if_range: Option<String>,
    /// `--conditional-get`: the existing file whose time the request's
    /// `If-Modified-Since` carried.
    pub if_modified_since: Option<std::path::PathBuf>,
    /// File offset of the next body byte.
    pub pos: u64,
    /// Body bytes collected for the disk: `buf[..buf_len]` belongs at `buf_off`.
    pub buf: Option<Vec<u8>>,
    pub buf_len: usize,
    pub buf_off: u64,
    /// The socket reported readable and has not returned `WouldBlock` since
    /// (mio is edge-triggered: a paused reader must remember this itself).
    pub readable: bool,
    pub deadline: Instant,
    /// The earliest entry this connection has in the timer heap.
    pub armed: Option<Instant>,
    pub meter: SpeedMeter,
    pub body_since: Option<Instant>,
    /// Retry-After from a 503, to respect before the next try.
    pub retry_after: Option<u64>,
    /// When this connection's first body byte came and the bytes since: its average
    /// speed goes into the server's record when it closes.
    pub transfer: Option<(Instant, u64)>,
    /// `--enable-http-pipelining`: a second request sent right behind the current one,
    /// for the range that follows it; its response comes next on this connection.
    pub pipelined: Option<ByteRange>,
    /// `--use-head`: the request in flight is the HEAD that comes first.
    pub asked_head: bool,
    /// `--use-head`: the HEAD has been answered; GETs follow.
    pub head_answered: bool,
    /// Read buffer for bodies that need decoding, kept between reads.
    pub scratch: Vec<u8>,
    /// A multi-file torrent's web seed: the file `url` points at now, as
    /// `(index, first byte in the byte space, length)`. The request's range and the
    /// answer's are in that file's offsets; `pos` stays in the byte space.
    pub web_file: Option<(usize, u64, u64)>,
}

impl Conn {
    pub fn new(
        key: usize,
        dl: Gid,
        source: usize,
        slot: SourceSlot,
        url: Url,
        max_redirect: usize,
        now: Instant,
    ) -> Conn {
        Conn {
            key,
            dl,
            source,
            slot,
            url,
            route: None,
            target: None,
            give_up: false,
            redirects: Redirects::new(max_redirect),
            phase: Phase::Resolving,
            transport: None,
            asked: None,
            if_range: None,
            if_modified_since: None,
            pos: 0,
            buf: None,
            buf_len: 0,
            buf_off: 0,
            readable: false,
            deadline: now,
            armed: None,
            meter: SpeedMeter::default(),
            body_since: None,
            retry_after: None,
            transfer: None,
            pipelined: None,
            asked_head: false,
            head_answered: false,
            scratch: Vec::new(),
            web_file: None,
        }
    }

    /// Host and port to connect to: the proxy's, if there is one.
    pub fn endpoint(&self) -> (String, u16) {
        match &self.route {
            Some(r) => (r.proxy.host.clone(), r.proxy.port),
            None => (
                self.url.host_str().unwrap_or_default().to_string(),
                self.url.port_or_known_default().unwrap_or(80),
            ),
        }
    }

    /// The name to resolve next: the origin's, while a `socks5://` route still needs
    /// its address; else the endpoint's.
    pub fn lookup(&self) -> (String, u16) {
        if self.wants_target() {
            (
                self.url.host_str().unwrap_or_default().to_string(),
                self.url.port_or_known_default().unwrap_or(80),
            )
        } else {
            self.endpoint()
        }
    }

    /// Whether the origin's name must still be resolved here (`socks5://`, a name
    /// rather than an address literal, not resolved yet).
    pub fn wants_target(&self) -> bool {
        let host = self.url.host_str().unwrap_or_default();
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok();
        self.target.is_none()
            && !literal
            && self.route.as_ref().is_some_and(Route::needs_target_address)
    }

    /// Whether requests go to an HTTP proxy in absolute form.
    pub fn via_get(&self) -> bool {
        self.route.as_ref().is_some_and(|r| !r.tunnels())
    }

    /// Whether TLS runs to the origin (directly or inside a tunnel).
    pub fn is_tls(&self) -> bool {
        !self.via_get() && self.url.scheme() == "https"
    }

    /// Whether this connection speaks FTP itself (not through an HTTP proxy).
    pub fn is_ftp(&self) -> bool {
        !self.via_get() && self.url.scheme() == "ftp"
    }

    /// Whether this connection holds a first answer until its download's output file
    /// is ready (an HTTP head, or an FTP session's SIZE and MDTM replies).
    pub fn waits_for_output(&self) -> bool {
        match &self.phase {
            Phase::Parked(_) => true,
            Phase::Ftp(f) => f.sized_answer.is_some(),
            _ => false,
        }
    }
}
