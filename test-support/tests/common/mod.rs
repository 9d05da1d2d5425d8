//! A deliberately small HTTP/1.1 client for checking what the server sends.

#![allow(dead_code)] // Each test binary uses a different part of it.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use swarmget_test_support::rustls::pki_types::ServerName;
use swarmget_test_support::rustls::{self, ClientConnection, StreamOwned};

/// One response as read off the wire.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body with transfer coding removed (content coding kept).
    pub body: Vec<u8>,
    /// How many chunks a chunked body came in.
    pub chunks: usize,
    /// The body ended before its framing said it would.
    pub truncated: bool,
    /// The bytes of the head, status line to blank line.
    pub head_len: usize,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A connection that can carry several requests.
pub struct Client<S: Read + Write> {
    stream: BufReader<S>,
}

impl Client<TcpStream> {
    pub fn connect(addr: SocketAddr) -> Client<TcpStream> {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        Client::new(stream)
    }

    pub fn set_read_timeout(&self, timeout: Duration) {
        self.stream
            .get_ref()
            .set_read_timeout(Some(timeout))
            .expect("timeout");
    }
}

impl<S: Read + Write> Client<S> {
    pub fn new(stream: S) -> Self {
        Self {
            stream: BufReader::new(stream),
        }
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.get_mut().write_all(bytes)?;
        self.stream.get_mut().flush()
    }

    /// Sends `method path` with `headers`, and reads the reply.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> io::Result<Reply> {
        let mut text = format!("{method} {path} HTTP/1.1\r\nHost: test\r\n");
        for (name, value) in headers {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        self.send(text.as_bytes())?;
        self.read_reply(method == "HEAD")
    }

    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> io::Result<Reply> {
        self.request("GET", path, headers)
    }

    /// Reads one reply; `head_only` for replies to HEAD.
    pub fn read_reply(&mut self, head_only: bool) -> io::Result<Reply> {
        let mut head_len = 0;
        let mut line = String::new();
        head_len += self.stream.read_line(&mut line)?;
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
        let mut headers = Vec::new();
        loop {
            line.clear();
            head_len += self.stream.read_line(&mut line)?;
            let trimmed = line.trim_end_matches(['\r', '\n']);
            if trimmed.is_empty() {
                break;
            }
            let (name, value) = trimmed
                .split_once(':')
                .ok_or_else(|| io::Error::other(format!("bad header {trimmed:?}")))?;
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
            chunks: 0,
            truncated: false,
            head_len,
        };
        if head_only {
            return Ok(reply);
        }
        if reply.header("transfer-encoding") == Some("chunked") {
            self.read_chunked(&mut reply)?;
        } else if let Some(length) = reply.header("content-length") {
            let length: usize = length.parse().map_err(io::Error::other)?;
            let mut body = Vec::new();
            read_up_to(&mut self.stream, &mut body, length)?;
            reply.truncated = body.len() < length;
            reply.body = body;
        } else {
            read_up_to(&mut self.stream, &mut reply.body, usize::MAX)?;
        }
        Ok(reply)
    }

    fn read_chunked(&mut self, reply: &mut Reply) -> io::Result<()> {
        let mut line = String::new();
        loop {
            line.clear();
            if self.stream.read_line(&mut line)? == 0 {
                reply.truncated = true;
                return Ok(());
            }
            let size = line.trim_end().split(';').next().unwrap_or("");
            let size = usize::from_str_radix(size, 16).map_err(io::Error::other)?;
            if size == 0 {
                // Trailer section up to the blank line.
                loop {
                    line.clear();
                    if self.stream.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        return Ok(());
                    }
                }
            }
            reply.chunks += 1;
            let before = reply.body.len();
            read_up_to(&mut self.stream, &mut reply.body, size)?;
            let mut crlf = [0u8; 2];
            if reply.body.len() - before < size || self.stream.read_exact(&mut crlf).is_err() {
                reply.truncated = true;
                return Ok(());
            }
            assert_eq!(&crlf, b"\r\n", "chunk data must end with CRLF");
        }
    }

    /// True if the server has closed its side (a read returns EOF).
    pub fn at_eof(&mut self) -> bool {
        let mut byte = [0u8; 1];
        matches!(self.stream.read(&mut byte), Ok(0))
    }

    pub fn into_inner(self) -> S {
        self.stream.into_inner()
    }
}

/// Appends at most `limit` bytes, stopping early at EOF or a connection error
/// (a cut connection, which the caller reports as truncation).
fn read_up_to(stream: &mut impl Read, out: &mut Vec<u8>, limit: usize) -> io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    let mut left = limit;
    while left > 0 {
        let want = buf.len().min(left);
        match stream.read(&mut buf[..want]) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                out.extend_from_slice(&buf[..n]);
                left -= n;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                return Err(e);
            }
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// One GET on a fresh connection.
pub fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    Client::connect(addr).get(path, headers).expect("GET")
}

pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// A TLS connection to `addr`, verifying the certificate for `name`.
pub fn tls_connect(addr: SocketAddr, config: Arc<rustls::ClientConfig>, name: &str) -> TlsStream {
    let name = ServerName::try_from(name.to_owned()).expect("server name");
    let conn = ClientConnection::new(config, name).expect("client connection");
    let sock = TcpStream::connect(addr).expect("connect");
    sock.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    StreamOwned::new(conn, sock)
}
