//! The listening server: accept loop, connection threads, clean shutdown.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rustls::{ServerConnection, StreamOwned};

use crate::config::ServerConfig;
use crate::connection;
use crate::plan::Planner;
use crate::record::RequestRecord;
use crate::request::normalize;
use crate::tls::{self, TestCa};

/// An HTTP/1.1 (or HTTPS) server on a loopback port, running on background
/// threads until dropped.
///
/// Each accepted connection gets its own thread. Dropping the server stops
/// accepting, shuts every open connection down and joins every thread, so
/// nothing outlives the test that made it.
#[derive(Debug)]
pub struct HttpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    ca: Option<TestCa>,
    acceptor: Option<JoinHandle<()>>,
}

/// State every connection thread shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) planner: Planner,
    /// Set when the server is dropped.
    pub(crate) stopping: AtomicBool,
    log: Mutex<Vec<RequestRecord>>,
    /// The server's event counter (see [`RequestRecord::received_at`]).
    clock: AtomicU64,
    /// Body bytes written on every connection so far.
    pub(crate) body_sent: AtomicU64,
    accepted: AtomicUsize,
    /// The client's address of each accepted connection, in accept order.
    peers: Mutex<Vec<SocketAddr>>,
    /// A handle on each open connection's socket, to shut it down on drop.
    open: Mutex<HashMap<usize, TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    pub(crate) fn record(&self, record: RequestRecord) {
        lock(&self.log).push(record);
    }

    /// The next value of the event counter.
    pub(crate) fn tick(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    /// Notes that the response to request `index` on `connection` is about to
    /// be completed.
    pub(crate) fn answered(&self, connection: usize, index: usize) {
        let at = self.tick();
        let mut log = lock(&self.log);
        if let Some(record) = log
            .iter_mut()
            .rev()
            .find(|r| r.connection == connection && r.index_on_connection == index)
        {
            record.answered_at = Some(at);
        }
    }
}

/// Locks `mutex`, ignoring poisoning: a panicking connection thread must not
/// hide the log from the test.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl HttpServer {
    /// Starts a plain-HTTP server on `127.0.0.1`, on a free port.
    pub fn start(config: ServerConfig) -> io::Result<HttpServer> {
        Self::launch(Ipv4Addr::LOCALHOST.into(), config, false)
    }

    /// Starts a plain-HTTP server on another loopback address, e.g. `127.0.0.2`
    /// (another origin than `127.0.0.1` on the same port numbers, for redirect tests).
    pub fn start_on(ip: std::net::IpAddr, config: ServerConfig) -> io::Result<HttpServer> {
        Self::launch(ip, config, false)
    }

    /// Starts a plain-HTTP server on `[::1]`; fails if the machine has no
    /// IPv6 loopback.
    pub fn start_v6(config: ServerConfig) -> io::Result<HttpServer> {
        Self::launch(Ipv6Addr::LOCALHOST.into(), config, false)
    }

    /// Starts an HTTPS server on `127.0.0.1`.
    ///
    /// Its certificate names `localhost`, `127.0.0.1` and `::1` and is issued
    /// by [`ServerConfig::tls_ca`] if given, else by a CA generated here; get
    /// that CA from [`ca`](Self::ca) or [`ca_pem`](Self::ca_pem).
    pub fn start_tls(config: ServerConfig) -> io::Result<HttpServer> {
        Self::launch(Ipv4Addr::LOCALHOST.into(), config, true)
    }

    /// Starts an HTTPS server on `[::1]`, as [`start_tls`](Self::start_tls).
    pub fn start_tls_v6(config: ServerConfig) -> io::Result<HttpServer> {
        Self::launch(Ipv6Addr::LOCALHOST.into(), config, true)
    }

    fn launch(ip: std::net::IpAddr, mut config: ServerConfig, tls: bool) -> io::Result<Self> {
        let (ca, tls_config) = if tls {
            let ca = config.tls_ca.take().unwrap_or_default();
            let tls_config = tls::server_config(&ca, config.client_ca.as_ref(), config.tls12_only)?;
            (Some(ca), Some(tls_config))
        } else {
            (None, None)
        };
        let listener = TcpListener::bind((ip, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            planner: Planner::new(config),
            stopping: AtomicBool::new(false),
            log: Mutex::default(),
            clock: AtomicU64::new(0),
            body_sent: AtomicU64::new(0),
            accepted: AtomicUsize::new(0),
            peers: Mutex::default(),
            open: Mutex::default(),
            workers: Mutex::default(),
        });
        let acceptor = {
            let shared = shared.clone();
            thread::Builder::new()
                .name(format!("test-server-{}", addr.port()))
                .spawn(move || accept_loop(&listener, &shared, tls_config))?
        };
        Ok(Self {
            addr,
            shared,
            ca,
            acceptor: Some(acceptor),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path` on this server, e.g. `http://127.0.0.1:41234/f.bin`
    /// (`https://…` for TLS servers, `[::1]` for IPv6 ones).
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{}", self.scheme(), self.addr, normalize(path))
    }

    /// The URL of `path` with `host` in place of the IP address, e.g.
    /// `https://localhost:41234/f.bin`.
    pub fn url_with_host(&self, host: &str, path: &str) -> String {
        format!(
            "{}://{host}:{}{}",
            self.scheme(),
            self.addr.port(),
            normalize(path)
        )
    }

    fn scheme(&self) -> &'static str {
        if self.ca.is_some() { "https" } else { "http" }
    }

    /// Every request received so far, in arrival order.
    ///
    /// A request is logged as soon as its head is read, before it is
    /// answered, so it is in the log by the time the client sees a response.
    pub fn log(&self) -> Vec<RequestRecord> {
        lock(&self.shared.log).clone()
    }

    /// The logged requests for `path` (query strings ignored).
    pub fn requests_for(&self, path: &str) -> Vec<RequestRecord> {
        let path = normalize(path);
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.path == path)
            .cloned()
            .collect()
    }

    /// How many TCP connections the server has accepted, including ones
    /// whose TLS handshake then failed.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// The client's address of each connection accepted so far, in accept order.
    pub fn peers(&self) -> Vec<SocketAddr> {
        lock(&self.shared.peers).clone()
    }

    /// Body bytes written so far, over every connection (head and chunk
    /// framing not counted).
    ///
    /// A client cannot have received more body bytes than this, so a test
    /// can act at a point in a download measured in bytes rather than time.
    pub fn body_bytes_sent(&self) -> u64 {
        self.shared.body_sent.load(Ordering::SeqCst)
    }

    /// The CA that issued this server's certificate, or `None` for plain HTTP.
    pub fn ca(&self) -> Option<&TestCa> {
        self.ca.as_ref()
    }

    /// The PEM of the CA that issued this server's certificate, for
    /// `--ca-certificate`.
    ///
    /// # Panics
    ///
    /// If the server is plain HTTP.
    pub fn ca_pem(&self) -> String {
        self.ca
            .as_ref()
            .expect("ca_pem() needs a server started with start_tls")
            .cert_pem()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // The acceptor is blocked in accept(): a connection wakes it to see
        // the flag. If even that fails, leave it blocked rather than hang.
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take()
            && woken
        {
            let _ = acceptor.join();
        }
        // Unblocks every connection thread's read or write.
        for socket in lock(&self.shared.open).values() {
            let _ = socket.shutdown(Shutdown::Both);
        }
        let workers = std::mem::take(&mut *lock(&self.shared.workers));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    tls_config: Option<Arc<rustls::ServerConfig>>,
) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            // Out of descriptors, or the client gave up mid-handshake: the
            // listener is fine, try again shortly.
            thread::sleep(Duration::from_millis(5));
            continue;
        };
        if let Ok(peer) = stream.peer_addr() {
            lock(&shared.peers).push(peer);
        }
        let id = shared.accepted.fetch_add(1, Ordering::SeqCst);
        // Body pieces are written as they are ready; Nagle would hold them.
        let _ = stream.set_nodelay(true);
        if let Ok(handle) = stream.try_clone() {
            lock(&shared.open).insert(id, handle);
        }
        let worker = {
            let shared = shared.clone();
            let tls_config = tls_config.clone();
            thread::Builder::new()
                .name(format!("test-server-conn-{id}"))
                .spawn(move || {
                    run_connection(stream, &shared, id, tls_config);
                    lock(&shared.open).remove(&id);
                })
        };
        let mut workers = lock(&shared.workers);
        workers.retain(|w| !w.is_finished());
        match worker {
            Ok(worker) => workers.push(worker),
            Err(_) => {
                // No thread for it: close the connection rather than leave
                // the client waiting.
                if let Some(socket) = lock(&shared.open).remove(&id) {
                    let _ = socket.shutdown(Shutdown::Both);
                }
            }
        }
    }
}

fn run_connection(
    mut stream: TcpStream,
    shared: &Shared,
    id: usize,
    tls_config: Option<Arc<rustls::ServerConfig>>,
) {
    match tls_config {
        None => connection::serve(&mut stream, shared, id, false),
        Some(tls_config) => {
            if let Ok(conn) = ServerConnection::new(tls_config) {
                let mut stream = StreamOwned::new(conn, stream);
                connection::serve(&mut stream, shared, id, true);
            }
        }
    }
}
