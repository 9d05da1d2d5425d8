//! Data connections: opening them (passive or active) and sending a file
//! on its own thread, so the control connection can still take `ABOR`.

use std::io::{self, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::reply::Replier;
use super::server::Shared;

/// How long the server waits for a data connection to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Bounds a write to a client that stopped reading, so shutdown never hangs.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the next transfer's data connection comes from.
#[derive(Debug, Default)]
pub(crate) enum DataSetup {
    /// Neither `PASV`/`EPSV` nor `PORT`/`EPRT` yet.
    #[default]
    None,
    /// Listening for the client.
    Passive(TcpListener),
    /// Connect to the client.
    Active(SocketAddr),
}

impl DataSetup {
    /// Opens the data connection. `Ok(None)` if none was set up.
    pub(crate) fn open(self, shared: &Shared) -> io::Result<Option<TcpStream>> {
        let stream = match self {
            DataSetup::None => return Ok(None),
            DataSetup::Passive(listener) => accept(&listener, shared)?,
            DataSetup::Active(addr) => TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?,
        };
        shared.data_connections.fetch_add(1, Ordering::SeqCst);
        Ok(Some(stream))
    }
}

/// Accepts one connection, giving up after [`CONNECT_TIMEOUT`] or when the
/// server stops.
fn accept(listener: &TcpListener, shared: &Shared) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + CONNECT_TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return Ok(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if shared.stopping.load(Ordering::SeqCst) || Instant::now() >= deadline {
                    return Err(ErrorKind::TimedOut.into());
                }
                thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(e),
        }
    }
}

/// A file being sent on its own thread, which ends it with `226` or `426`
/// on the control connection.
#[derive(Debug)]
pub(crate) struct Transfer {
    thread: JoinHandle<()>,
    abort: Arc<AtomicBool>,
    data: TcpStream,
}

impl Transfer {
    /// Sends `file` from byte `offset` on `data`, cut after `cut_after`
    /// bytes if given.
    pub(crate) fn start(
        data: TcpStream,
        file: Arc<[u8]>,
        offset: usize,
        cut_after: Option<u64>,
        replier: Replier,
        shared: Arc<Shared>,
    ) -> io::Result<Transfer> {
        let abort = Arc::new(AtomicBool::new(false));
        let handle = data.try_clone()?;
        let thread = {
            let abort = abort.clone();
            thread::Builder::new()
                .name("ftp-server-data".to_owned())
                .spawn(move || {
                    let bytes = file.get(offset..).unwrap_or_default();
                    send(data, bytes, cut_after, &abort, &replier, &shared);
                })?
        };
        Ok(Transfer {
            thread,
            abort,
            data: handle,
        })
    }

    /// Waits for the transfer to end on its own.
    pub(crate) fn wait(self) {
        let _ = self.thread.join();
    }

    /// Stops the transfer (it reports `426` unless it had finished) and
    /// waits for it.
    pub(crate) fn abort(self) {
        self.abort.store(true, Ordering::SeqCst);
        let _ = self.data.shutdown(Shutdown::Both);
        self.wait();
    }
}

fn send(
    mut data: TcpStream,
    bytes: &[u8],
    cut_after: Option<u64>,
    abort: &AtomicBool,
    replier: &Replier,
    shared: &Shared,
) {
    let key = shared.track(&data);
    let _ = data.set_write_timeout(Some(WRITE_TIMEOUT));
    let (to_send, cut) = match cut_after.and_then(|n| usize::try_from(n).ok()) {
        Some(n) if n < bytes.len() => (&bytes[..n], true),
        _ => (bytes, false),
    };
    let mut complete = !cut;
    let reply_first = complete && shared.config.reply_first;
    if reply_first {
        let _ = replier.send(226, "Transfer complete.");
        thread::sleep(Duration::from_millis(50));
    }
    for chunk in to_send.chunks(16 * 1024) {
        let stop = abort.load(Ordering::SeqCst) || shared.stopping.load(Ordering::SeqCst);
        if stop || data.write_all(chunk).is_err() {
            complete = false;
            break;
        }
    }
    // The handle kept for shutdown-on-drop shares the socket, so only an
    // explicit shutdown tells the client the data ended.
    let _ = data.shutdown(if complete {
        Shutdown::Write
    } else {
        Shutdown::Both
    });
    shared.forget(key);
    if reply_first {
        return;
    }
    let _ = if complete {
        replier.send(226, "Transfer complete.")
    } else {
        replier.send(426, "Connection closed; transfer aborted.")
    };
}
