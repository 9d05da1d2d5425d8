//! Incoming peer connections: one listening socket for every torrent (aria2's
//! `--listen-port`), bound when the first torrent runs, and the connections it accepts
//! held until their handshake names one of our torrents.
//!
//! Invariants:
//! - a pending connection reads at most the 68 bytes of a handshake, so whatever the
//!   peer sent after it stays in the socket for the peer connection's decoder;
//! - it is handed to an active torrent with that info-hash (and room for one more
//!   peer) or closed, never kept unmatched longer than [`HANDSHAKE_TIMEOUT`];
//! - at most [`MAX_PENDING`] wait at once; more are closed as they are accepted.

use std::io::{ErrorKind, Read};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Token};
use swarmget_bt_wire::wire::Handshake;

use crate::engine::Engine;
use crate::error::{Error, ErrorCode};

/// The listening socket's token.
pub(crate) const LISTENER: Token = Token(usize::MAX - 1);
/// Token bit marking a connection waiting for its handshake.
pub(crate) const PENDING_TAG: usize = 1 << (usize::BITS - 3);
/// How long an accepted connection may take to send its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections waiting for their handshake, at most.
const MAX_PENDING: usize = 64;

/// The listening socket and the connections it accepted that have not said which
/// torrent they want yet.
pub(crate) struct Listener {
    sock: TcpListener,
    /// The port bound, told to trackers.
    pub port: u16,
    pending: Vec<Option<Pending>>,
}

struct Pending {
    sock: TcpStream,
    addr: SocketAddr,
    buf: [u8; Handshake::LEN],
    len: usize,
    since: Instant,
}

/// Binds the first port of `ports` that is free, on every address (as aria2).
fn bind(ports: &[u16]) -> std::io::Result<TcpListener> {
    let mut last = std::io::Error::new(ErrorKind::InvalidInput, "no port given");
    for &port in ports {
        match TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))) {
            Ok(l) => return Ok(l),
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl Engine {
    /// The port peers reach us on, binding `--listen-port` on first use.
    pub(crate) fn listen_port(&mut self) -> Result<u16, Error> {
        if let Some(l) = &self.listener {
            return Ok(l.port);
        }
        let bound = bind(&self.global.listen_port).and_then(|mut sock| {
            let port = sock.local_addr()?.port();
            self.poll
                .registry()
                .register(&mut sock, LISTENER, Interest::READABLE)?;
            Ok(Listener {
                sock,
                port,
                pending: Vec::new(),
            })
        });
        match bound {
            Ok(l) => {
                let port = l.port;
                self.listener = Some(l);
                Ok(port)
            }
            Err(e) => Err(Error::new(
                ErrorCode::Unknown,
                format!("cannot listen for peers on --listen-port: {e}"),
            )),
        }
    }

    /// The listener is readable: accepts every waiting connection.
    pub(crate) fn accept_peers(&mut self, now: Instant) {
        let Some(l) = self.listener.as_mut() else {
            return;
        };
        loop {
            let (mut sock, addr) = match l.sock.accept() {
                Ok(c) => c,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // A connection reset before it was accepted, or out of descriptors:
                // the next readiness tries again.
                Err(_) => return,
            };
            let waiting = l.pending.iter().filter(|p| p.is_some()).count();
            if waiting >= MAX_PENDING {
                continue;
            }
            let key = match l.pending.iter().position(Option::is_none) {
                Some(k) => k,
                None => {
                    l.pending.push(None);
                    l.pending.len() - 1
                }
            };
            if self
                .poll
                .registry()
                .register(&mut sock, Token(PENDING_TAG | key), Interest::READABLE)
                .is_err()
            {
                continue;
            }
            l.pending[key] = Some(Pending {
                sock,
                addr,
                buf: [0; Handshake::LEN],
                len: 0,
                since: now,
            });
        }
    }

    /// Readiness of pending connection `key`: reads its handshake and hands it over.
    pub(crate) fn pending_event(&mut self, key: usize, now: Instant) {
        let Some(mut p) = self
            .listener
            .as_mut()
            .and_then(|l| l.pending.get_mut(key))
            .and_then(Option::take)
        else {
            return;
        };
        loop {
            match p.sock.read(&mut p.buf[p.len..]) {
                Ok(0) => return self.drop_pending(p),
                Ok(n) => {
                    p.len += n;
                    if p.len == Handshake::LEN {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    if let Some(slot) = self.listener.as_mut().map(|l| &mut l.pending[key]) {
                        *slot = Some(p);
                    }
                    return;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return self.drop_pending(p),
            }
        }
        let Ok(Some(hs)) = Handshake::parse(&p.buf) else {
            return self.drop_pending(p);
        };
        let gid = self.torrents.iter().copied().find(|&g| {
            let d = &self.downloads[g];
            d.takes_peers()
                && d.bt
                    .as_ref()
                    .is_some_and(|s| s.torrent.info_hash() == hs.info_hash && s.has_room(&d.opts))
        });
        let Some(gid) = gid.filter(|_| !self.halted) else {
            return self.drop_pending(p);
        };
        if let Some(key) = self.attach_peer(gid, p.addr, p.sock, Some(&p.buf), now) {
            self.peer_event(key, now);
        }
    }

    /// Closes pending connections that sent no handshake in time.
    pub(crate) fn expire_pending(&mut self, now: Instant) {
        let Some(l) = self.listener.as_mut() else {
            return;
        };
        let late: Vec<Pending> = l
            .pending
            .iter_mut()
            .filter_map(|slot| {
                slot.take_if(|p| now.saturating_duration_since(p.since) >= HANDSHAKE_TIMEOUT)
            })
            .collect();
        for p in late {
            self.drop_pending(p);
        }
    }

    fn drop_pending(&mut self, mut p: Pending) {
        let _ = self.poll.registry().deregister(&mut p.sock);
    }
}
