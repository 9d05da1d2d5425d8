//! The byte streams a connection runs over: plain TCP or TLS on TCP.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use rustls::{ServerConnection, StreamOwned};

/// A connection's stream, with the two ways the server ends one.
pub(crate) trait Transport: Read + Write {
    /// Ends the connection cleanly: TLS `close_notify` (if TLS), then FIN.
    fn finish(&mut self);

    /// Ends the connection abruptly, mid-message: FIN with no TLS
    /// `close_notify`, so a TLS client sees a truncation, not a clean end.
    fn cut(&mut self);

    /// Sends nothing more and waits until the peer closes (or the server
    /// shuts the socket down), throwing away anything it sends.
    fn wait_for_close(&mut self) {
        let mut scratch = [0u8; 4096];
        loop {
            match self.read(&mut scratch) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}

impl Transport for TcpStream {
    fn finish(&mut self) {
        let _ = self.flush();
        linger(self);
    }

    fn cut(&mut self) {
        linger(self);
    }
}

impl Transport for StreamOwned<ServerConnection, TcpStream> {
    fn finish(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
        linger(&mut self.sock);
    }

    fn cut(&mut self) {
        let _ = self.flush();
        linger(&mut self.sock);
    }
}

/// Sends FIN, then reads until the peer closes too (bounded in time).
///
/// Closing a socket with unread input makes the kernel send RST, and an RST
/// can destroy response bytes the client has received but not yet read. A
/// test server must never lose data by accident, so drain first.
fn linger(sock: &mut TcpStream) {
    let _ = sock.shutdown(Shutdown::Write);
    let _ = sock.set_read_timeout(Some(Duration::from_millis(200)));
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut scratch = [0u8; 4096];
    while Instant::now() < deadline {
        match sock.read(&mut scratch) {
            Ok(n) if n > 0 => {}
            _ => return,
        }
    }
}
