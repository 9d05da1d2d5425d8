//! A connected byte stream, plain TCP or TLS, driven without blocking.
//!
//! The TLS side follows rustls' mio pattern: ciphertext moves between the socket and
//! `rustls::ClientConnection` with `read_tls`/`write_tls`, plaintext through its
//! reader and writer; `wants_write` decides whether the loop needs writable events.

use std::io::{self, Read, Write};
use std::sync::Arc;

use mio::net::TcpStream;
use rustls::ClientConnection;
use rustls::pki_types::ServerName;

/// A plain or TLS connection.
pub enum Transport {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream>),
}

/// TLS over a non-blocking socket.
pub struct TlsStream {
    sock: TcpStream,
    tls: ClientConnection,
    /// Ciphertext read from the socket and not yet handed to rustls: rustls reads at
    /// most 4 KiB per call, so feeding it from one large socket read saves most of
    /// the system calls of a bulk download.
    inbox: Vec<u8>,
    inbox_pos: usize,
    inbox_len: usize,
}

/// Ciphertext read from the socket at once.
const INBOX: usize = 64 * 1024;

impl Transport {
    /// Wraps `sock` in TLS for `host` (SNI is sent for names, not for IP addresses).
    pub fn tls(
        sock: TcpStream,
        config: Arc<rustls::ClientConfig>,
        host: &str,
    ) -> io::Result<Transport> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = ServerName::try_from(host.to_string()).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("TLS server name: {e}"))
        })?;
        let tls = ClientConnection::new(config, name).map_err(io::Error::other)?;
        Ok(Transport::Tls(Box::new(TlsStream {
            sock,
            tls,
            inbox: Vec::new(),
            inbox_pos: 0,
            inbox_len: 0,
        })))
    }

    /// The socket, for (re)registration.
    pub fn socket(&mut self) -> &mut TcpStream {
        match self {
            Transport::Plain(s) => s,
            Transport::Tls(t) => &mut t.sock,
        }
    }

    /// Whether ciphertext is waiting to be written (the loop should ask for writable).
    pub fn wants_write(&self) -> bool {
        match self {
            Transport::Plain(_) => false,
            Transport::Tls(t) => t.tls.wants_write(),
        }
    }

    /// Reads plaintext. `Ok(0)` is a clean end of stream; `WouldBlock` means wait.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.read(buf),
            Transport::Tls(t) => t.read(buf),
        }
    }

    /// Writes plaintext; for TLS it is buffered and flushed by [`Transport::flush`].
    pub fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Plain(s) => s.write(data),
            Transport::Tls(t) => {
                let n = t.tls.writer().write(data)?;
                t.flush()?;
                Ok(n)
            }
        }
    }

    /// Sends pending ciphertext (the handshake, or buffered records) until the socket
    /// would block.
    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            Transport::Plain(_) => Ok(()),
            Transport::Tls(t) => t.flush(),
        }
    }
}

impl TlsStream {
    fn flush(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.sock) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            // No plaintext buffered: pull more ciphertext.
            match self.pull() {
                Ok(0) => {
                    // The peer closed the socket. Let rustls decide whether that was
                    // a clean close_notify or a truncation.
                    self.tls.process_new_packets().map_err(tls_error)?;
                    return match self.tls.reader().read(buf) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "TLS peer closed",
                        )),
                        other => other,
                    };
                }
                Ok(_) => {
                    let state = self.tls.process_new_packets();
                    // Alerts and handshake replies must go out even on error.
                    let _ = self.flush();
                    state.map_err(tls_error)?;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl TlsStream {
    /// Hands rustls more ciphertext, reading the socket when the inbox is empty.
    /// `Ok(0)` means the peer closed the connection.
    fn pull(&mut self) -> io::Result<usize> {
        if self.inbox_pos == self.inbox_len {
            if self.inbox.is_empty() {
                self.inbox = vec![0; INBOX];
            }
            let n = self.sock.read(&mut self.inbox)?;
            if n == 0 {
                // An empty reader tells rustls the stream ended.
                return self.tls.read_tls(&mut io::empty());
            }
            self.inbox_pos = 0;
            self.inbox_len = n;
        }
        let mut pending = &self.inbox[self.inbox_pos..self.inbox_len];
        let n = self.tls.read_tls(&mut pending)?;
        if n == 0 {
            // rustls had no room, which only happens if records are not processed.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "TLS: receive buffer full",
            ));
        }
        self.inbox_pos += n;
        Ok(n)
    }
}

fn tls_error(e: rustls::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {e}"))
}
