//! The listening FTP server: accept loop, connection threads, shutdown.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::config::FtpConfig;
use super::control;
use super::record::FtpCommandRecord;

/// An FTP server on a loopback port, running on background threads until
/// dropped.
///
/// Each control connection gets its own thread, and each transfer another.
/// Dropping the server stops accepting, shuts every control and data
/// connection down and joins every thread.
///
/// ```
/// use std::io::{BufRead, BufReader, Read, Write};
/// use std::net::TcpStream;
/// use swarmget_test_support::{FtpConfig, FtpServer};
///
/// let server = FtpServer::start(FtpConfig::new().file("/pub/hello.txt", b"hello".to_vec()))?;
/// let control = TcpStream::connect(server.addr())?;
/// let mut replies = BufReader::new(control.try_clone()?);
/// let mut commands = control;
/// let mut reply = || -> std::io::Result<String> {
///     let mut line = String::new();
///     replies.read_line(&mut line)?;
///     Ok(line)
/// };
/// assert!(reply()?.starts_with("220 "));
/// commands.write_all(b"USER anonymous\r\nPASS x@\r\nEPSV\r\n")?;
/// assert!(reply()?.starts_with("331 "));
/// assert!(reply()?.starts_with("230 "));
/// let epsv = reply()?; // 229 Entering Extended Passive Mode (|||port|)
/// let port: u16 = epsv.split('|').nth(3).unwrap().parse().unwrap();
/// let mut data = TcpStream::connect((server.addr().ip(), port))?;
/// commands.write_all(b"RETR pub/hello.txt\r\n")?;
/// assert!(reply()?.starts_with("150 "));
/// let mut body = String::new();
/// data.read_to_string(&mut body)?;
/// assert_eq!(body, "hello");
/// assert!(reply()?.starts_with("226 "));
/// assert_eq!(server.command_lines()[3], "RETR pub/hello.txt");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct FtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// State every connection thread shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: FtpConfig,
    pub(crate) stopping: AtomicBool,
    log: Mutex<Vec<FtpCommandRecord>>,
    accepted: AtomicUsize,
    pub(crate) data_connections: AtomicUsize,
    /// Transfers cut short so far, for `drop_data_after_times`.
    pub(crate) drops: AtomicUsize,
    /// Every open socket (control and data), to shut down on drop.
    open: Mutex<HashMap<usize, TcpStream>>,
    next_socket: AtomicUsize,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// Locks `mutex`, ignoring poisoning: a panicking thread must not hide the
/// log from the test.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn record(&self, record: FtpCommandRecord) {
        lock(&self.log).push(record);
    }

    /// Keeps a handle on `socket` so dropping the server can shut it down;
    /// returns the key for [`forget`](Self::forget).
    pub(crate) fn track(&self, socket: &TcpStream) -> usize {
        let key = self.next_socket.fetch_add(1, Ordering::SeqCst);
        if let Ok(handle) = socket.try_clone() {
            lock(&self.open).insert(key, handle);
        }
        key
    }

    pub(crate) fn forget(&self, key: usize) {
        lock(&self.open).remove(&key);
    }

    /// Runs `work` on a thread the server joins when dropped.
    pub(crate) fn spawn(
        &self,
        name: String,
        work: impl FnOnce() + Send + 'static,
    ) -> io::Result<()> {
        let handle = thread::Builder::new().name(name).spawn(work)?;
        let mut workers = lock(&self.workers);
        workers.retain(|w| !w.is_finished());
        workers.push(handle);
        Ok(())
    }
}

impl FtpServer {
    /// Starts a server on `127.0.0.1`, on a free port.
    pub fn start(config: FtpConfig) -> io::Result<FtpServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            stopping: AtomicBool::new(false),
            log: Mutex::default(),
            accepted: AtomicUsize::new(0),
            data_connections: AtomicUsize::new(0),
            drops: AtomicUsize::new(0),
            open: Mutex::default(),
            next_socket: AtomicUsize::new(0),
            workers: Mutex::default(),
        });
        let acceptor = {
            let shared = shared.clone();
            thread::Builder::new()
                .name(format!("ftp-server-{}", addr.port()))
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(FtpServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The address of the control port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `path`, relative to the login directory (see
    /// [`FtpConfig::home`]), e.g. `ftp://127.0.0.1:41234/pub/f.bin`.
    pub fn url(&self, path: &str) -> String {
        format!("ftp://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Every command received so far, in arrival order. A command is logged
    /// before it is answered.
    pub fn log(&self) -> Vec<FtpCommandRecord> {
        lock(&self.shared.log).clone()
    }

    /// The logged commands as lines (`"RETR f.bin"`), for short assertions.
    pub fn command_lines(&self) -> Vec<String> {
        lock(&self.shared.log)
            .iter()
            .map(FtpCommandRecord::line)
            .collect()
    }

    /// How many control connections the server has accepted.
    pub fn connections(&self) -> usize {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// How many data connections were opened (accepted in passive mode,
    /// connected in active mode).
    pub fn data_connections(&self) -> usize {
        self.shared.data_connections.load(Ordering::SeqCst)
    }
}

impl Drop for FtpServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // The acceptor is blocked in accept(): a connection wakes it.
        let woken = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take()
            && woken
        {
            let _ = acceptor.join();
        }
        // Unblocks every thread's read or write; the loop repeats because a
        // closing control thread may still be joining its transfer.
        loop {
            for socket in lock(&self.shared.open).values() {
                let _ = socket.shutdown(Shutdown::Both);
            }
            let workers = std::mem::take(&mut *lock(&self.shared.workers));
            if workers.is_empty() {
                break;
            }
            for worker in workers {
                let _ = worker.join();
            }
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else {
            thread::sleep(Duration::from_millis(5));
            continue;
        };
        let id = shared.accepted.fetch_add(1, Ordering::SeqCst);
        // Split replies must leave as separate segments.
        let _ = stream.set_nodelay(true);
        let key = shared.track(&stream);
        let worker_shared = shared.clone();
        let spawned = shared.spawn(format!("ftp-server-conn-{id}"), move || {
            control::serve(stream, &worker_shared, id);
            worker_shared.forget(key);
        });
        // No thread for it: close rather than leave the client waiting.
        if spawned.is_err()
            && let Some(socket) = lock(&shared.open).remove(&key)
        {
            let _ = socket.shutdown(Shutdown::Both);
        }
    }
}
