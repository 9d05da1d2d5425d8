//! One type for both handshakes, so a connection driver holds and drives either the
//! same way.

use crate::connect::ConnectHandshake;
use crate::error::HandshakeError;
use crate::socks5::{Socks5Handshake, Socks5Target};
use crate::uri::Credentials;

/// A proxy handshake in progress.
///
/// The driving loop, until [`is_done`](Handshake::is_done) or an error:
/// 1. write [`transmit`](Handshake::transmit) to the socket, reporting what went out
///    with [`sent`](Handshake::sent);
/// 2. when nothing is left to send, read at most [`want_read`](Handshake::want_read)
///    bytes and pass them to [`receive`](Handshake::receive). A read of 0 bytes (the
///    proxy closed) is the caller's error to report.
///
/// `receive` consumes only what the handshake needs and returns that count; reading
/// no more than `want_read` guarantees it consumes everything, and that bytes the
/// origin sends after the handshake stay in the socket.
#[derive(Debug, Clone)]
pub enum Handshake {
    /// HTTP `CONNECT`.
    Connect(ConnectHandshake),
    /// SOCKS5.
    Socks5(Socks5Handshake),
}

impl Handshake {
    /// An HTTP `CONNECT` to `host:port` (see [`ConnectHandshake::new`]).
    pub fn connect(
        host: &str,
        port: u16,
        credentials: Option<&Credentials>,
        user_agent: Option<&str>,
    ) -> Result<Handshake, HandshakeError> {
        ConnectHandshake::new(host, port, credentials, user_agent).map(Handshake::Connect)
    }

    /// A SOCKS5 `CONNECT` to `target` (see [`Socks5Handshake::new`]).
    pub fn socks5(
        target: Socks5Target,
        credentials: Option<&Credentials>,
    ) -> Result<Handshake, HandshakeError> {
        Socks5Handshake::new(target, credentials).map(Handshake::Socks5)
    }

    /// Bytes to send now; empty when the handshake waits for the proxy or is done.
    pub fn transmit(&self) -> &[u8] {
        match self {
            Handshake::Connect(h) => h.transmit(),
            Handshake::Socks5(h) => h.transmit(),
        }
    }

    /// Reports that the first `n` bytes of [`transmit`](Handshake::transmit) were sent.
    pub fn sent(&mut self, n: usize) {
        match self {
            Handshake::Connect(h) => h.sent(n),
            Handshake::Socks5(h) => h.sent(n),
        }
    }

    /// The most bytes to read next (0 while there is something to send, or when done).
    pub fn want_read(&self) -> usize {
        match self {
            Handshake::Connect(h) => h.want_read(),
            Handshake::Socks5(h) => h.want_read(),
        }
    }

    /// Takes bytes from the proxy; returns how many were consumed.
    pub fn receive(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
        match self {
            Handshake::Connect(h) => h.receive(data),
            Handshake::Socks5(h) => h.receive(data),
        }
    }

    /// Whether the tunnel is open: what follows on the socket is the origin's.
    pub fn is_done(&self) -> bool {
        match self {
            Handshake::Connect(h) => h.is_done(),
            Handshake::Socks5(h) => h.is_done(),
        }
    }
}
