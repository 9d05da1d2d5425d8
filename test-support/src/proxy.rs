//! In-process proxies for client tests: an HTTP proxy that forwards absolute-form
//! requests and opens `CONNECT` tunnels, and a SOCKS5 server with and without
//! RFC 1929 authentication. Each records what it was asked, so a test can check
//! what reached the proxy (credentials, the target's name or address).
//!
//! Both run on background threads until dropped; dropping shuts every socket down
//! and joins every thread.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};

/// What a proxy was asked, one entry per request or SOCKS5 connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyRecord {
    /// `GET`, `CONNECT`, … for the HTTP proxy; `SOCKS5` for the SOCKS server.
    pub method: String,
    /// The request target as sent (`http://host/path`, `host:443`), or for SOCKS5
    /// the target as the client named it: `name:port` or `address:port`.
    pub target: String,
    /// SOCKS5: whether the client sent a name (type 3) rather than an address.
    pub by_name: bool,
    /// `Proxy-Authorization` as sent, or for SOCKS5 `user:password` if the client
    /// authenticated.
    pub credentials: Option<String>,
    /// Every request header (HTTP proxy only).
    pub headers: Vec<(String, String)>,
}

impl ProxyRecord {
    /// The first header called `name`, case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How the HTTP proxy behaves.
#[derive(Debug, Clone, Default)]
pub struct ProxyConfig {
    /// Demand this `user:password` (407 otherwise).
    pub credentials: Option<(String, String)>,
    /// Answer every `CONNECT` with this status instead of tunnelling.
    pub refuse_connect: Option<u16>,
    /// Tunnel every `CONNECT` to this address instead of the one asked for: a proxy
    /// that puts another server in the middle.
    pub divert_connect: Option<SocketAddr>,
}

/// State every proxy connection thread shares.
#[derive(Debug, Default)]
struct Shared {
    stopping: AtomicBool,
    log: Mutex<Vec<ProxyRecord>>,
    open: Mutex<Vec<TcpStream>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn record(&self, r: ProxyRecord) {
        lock(&self.log).push(r);
    }

    /// Keeps a handle on `s` so a drop can shut it down.
    fn track(&self, s: &TcpStream) {
        if let Ok(c) = s.try_clone() {
            lock(&self.open).push(c);
        }
    }
}

/// A listening proxy and its threads.
#[derive(Debug)]
struct Running {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Running {
    fn start(
        name: &str,
        serve: impl Fn(TcpStream, &Arc<Shared>) + Send + Sync + 'static,
    ) -> io::Result<Running> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let serve = Arc::new(serve);
        let acceptor = {
            let shared = shared.clone();
            thread::Builder::new()
                .name(format!("test-{name}-{}", addr.port()))
                .spawn(move || {
                    for stream in listener.incoming() {
                        if shared.stopping.load(Ordering::SeqCst) {
                            return;
                        }
                        let Ok(stream) = stream else { continue };
                        shared.track(&stream);
                        let (shared2, serve) = (shared.clone(), serve.clone());
                        let worker = thread::spawn(move || serve(stream, &shared2));
                        lock(&shared.workers).push(worker);
                    }
                })?
        };
        Ok(Running {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        for s in lock(&self.shared.open).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        let workers: Vec<_> = lock(&self.shared.workers).drain(..).collect();
        for w in workers {
            let _ = w.join();
        }
    }
}

/// An HTTP proxy on a loopback port: `GET http://…` is forwarded to the origin (with
/// `Connection: close`), `CONNECT host:port` opens a tunnel.
#[derive(Debug)]
pub struct HttpProxy(Running);

impl HttpProxy {
    /// Starts the proxy on `127.0.0.1`.
    pub fn start(config: ProxyConfig) -> io::Result<HttpProxy> {
        Running::start("http-proxy", move |s, shared| {
            let _ = serve_http(s, shared, &config);
        })
        .map(HttpProxy)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.0.addr)
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.0.addr
    }

    /// Everything asked so far.
    pub fn log(&self) -> Vec<ProxyRecord> {
        lock(&self.0.shared.log).clone()
    }
}

/// Reads one request head (at most 16 KiB) byte by byte, so nothing after it is
/// taken from the socket.
fn read_head(s: &mut TcpStream) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too long"));
        }
        if s.read(&mut byte)? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    Ok(Some(head))
}

fn serve_http(mut client: TcpStream, shared: &Shared, config: &ProxyConfig) -> io::Result<()> {
    let Some(head) = read_head(&mut client)? else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let record = ProxyRecord {
        method: method.clone(),
        target: target.clone(),
        by_name: false,
        credentials: headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("proxy-authorization"))
            .map(|(_, v)| v.clone()),
        headers: headers.clone(),
    };
    let authorized = match &config.credentials {
        None => true,
        Some((user, password)) => {
            let want = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
            record.credentials.as_deref() == Some(want.as_str())
        }
    };
    shared.record(record);
    if !authorized {
        client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    }
    if method == "CONNECT" {
        if let Some(status) = config.refuse_connect {
            write!(
                client,
                "HTTP/1.1 {status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )?;
            return Ok(());
        }
        let origin = match config.divert_connect {
            Some(addr) => TcpStream::connect(addr),
            None => TcpStream::connect(target.as_str()),
        };
        let Ok(origin) = origin else {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
            return Ok(());
        };
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
        shared.track(&origin);
        return pipe(client, origin);
    }
    // Absolute form: http://authority/path → origin-form to the authority.
    let Some(rest) = target.strip_prefix("http://") else {
        client.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let Ok(mut origin) = TcpStream::connect(with_port.as_str()) else {
        client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    shared.track(&origin);
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    for (n, v) in &headers {
        let skip = ["proxy-authorization", "connection", "proxy-connection"];
        if !skip.iter().any(|s| n.eq_ignore_ascii_case(s)) {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    origin.write_all(out.as_bytes())?;
    // The answer carries the origin's framing; the proxy closes after it.
    let mut answer = origin.try_clone()?;
    io::copy(&mut answer, &mut client)?;
    let _ = client.shutdown(Shutdown::Both);
    Ok(())
}

/// Copies bytes both ways until either side closes.
fn pipe(client: TcpStream, origin: TcpStream) -> io::Result<()> {
    let (mut c_read, mut o_write) = (client.try_clone()?, origin.try_clone()?);
    let up = thread::spawn(move || {
        let _ = io::copy(&mut c_read, &mut o_write);
        let _ = o_write.shutdown(Shutdown::Write);
    });
    let (mut o_read, mut c_write) = (origin, client);
    let _ = io::copy(&mut o_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Both);
    let _ = o_read.shutdown(Shutdown::Both);
    let _ = up.join();
    Ok(())
}

pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A SOCKS5 server (RFC 1928 `CONNECT` only) on a loopback port, requiring RFC 1929
/// user/password authentication when started with credentials.
#[derive(Debug)]
pub struct Socks5Proxy(Running);

impl Socks5Proxy {
    /// Starts the server on `127.0.0.1`; with `credentials`, only that user gets in.
    pub fn start(credentials: Option<(&str, &str)>) -> io::Result<Socks5Proxy> {
        let credentials = credentials.map(|(u, p)| (u.to_string(), p.to_string()));
        Running::start("socks5", move |s, shared| {
            let _ = serve_socks(s, shared, credentials.as_ref());
        })
        .map(Socks5Proxy)
    }

    /// `socks5://127.0.0.1:PORT` (`socks5h://…` with `remote_dns`).
    pub fn url(&self, remote_dns: bool) -> String {
        let scheme = if remote_dns { "socks5h" } else { "socks5" };
        format!("{scheme}://{}", self.0.addr)
    }

    /// Every connect asked for so far.
    pub fn log(&self) -> Vec<ProxyRecord> {
        lock(&self.0.shared.log).clone()
    }
}

fn serve_socks(
    mut c: TcpStream,
    shared: &Shared,
    credentials: Option<&(String, String)>,
) -> io::Result<()> {
    let mut two = [0u8; 2];
    c.read_exact(&mut two)?;
    let mut methods = vec![0u8; usize::from(two[1])];
    c.read_exact(&mut methods)?;
    let want = if credentials.is_some() { 2 } else { 0 };
    if two[0] != 5 || !methods.contains(&want) {
        c.write_all(&[5, 0xff])?;
        return Ok(());
    }
    c.write_all(&[5, want])?;
    let mut login = None;
    if let Some((user, password)) = credentials {
        let mut ver_len = [0u8; 2];
        c.read_exact(&mut ver_len)?;
        let mut u = vec![0u8; usize::from(ver_len[1])];
        c.read_exact(&mut u)?;
        let mut plen = [0u8; 1];
        c.read_exact(&mut plen)?;
        let mut p = vec![0u8; usize::from(plen[0])];
        c.read_exact(&mut p)?;
        let ok = u == user.as_bytes() && p == password.as_bytes();
        login = Some(format!(
            "{}:{}",
            String::from_utf8_lossy(&u),
            String::from_utf8_lossy(&p)
        ));
        c.write_all(&[1, if ok { 0 } else { 1 }])?;
        if !ok {
            shared.record(ProxyRecord {
                method: "SOCKS5".into(),
                target: String::new(),
                by_name: false,
                credentials: login,
                headers: Vec::new(),
            });
            return Ok(());
        }
    }
    let mut head = [0u8; 4];
    c.read_exact(&mut head)?;
    let (host, by_name) = match head[3] {
        1 => {
            let mut a = [0u8; 4];
            c.read_exact(&mut a)?;
            (std::net::Ipv4Addr::from(a).to_string(), false)
        }
        4 => {
            let mut a = [0u8; 16];
            c.read_exact(&mut a)?;
            (format!("[{}]", std::net::Ipv6Addr::from(a)), false)
        }
        3 => {
            let mut len = [0u8; 1];
            c.read_exact(&mut len)?;
            let mut name = vec![0u8; usize::from(len[0])];
            c.read_exact(&mut name)?;
            (String::from_utf8_lossy(&name).into_owned(), true)
        }
        _ => {
            c.write_all(&[5, 8, 0, 1, 0, 0, 0, 0, 0, 0])?;
            return Ok(());
        }
    };
    let mut port = [0u8; 2];
    c.read_exact(&mut port)?;
    let target = format!("{host}:{}", u16::from_be_bytes(port));
    shared.record(ProxyRecord {
        method: "SOCKS5".into(),
        target: target.clone(),
        by_name,
        credentials: login,
        headers: Vec::new(),
    });
    // Names resolve here, as a real proxy would (`localhost` on loopback).
    let origin = target
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.find(SocketAddr::is_ipv4))
        .and_then(|a| TcpStream::connect(a).ok());
    let Some(origin) = origin else {
        c.write_all(&[5, 5, 0, 1, 0, 0, 0, 0, 0, 0])?;
        return Ok(());
    };
    let bound = origin.local_addr()?;
    let mut reply = vec![5, 0, 0, 1];
    match bound.ip() {
        std::net::IpAddr::V4(a) => reply.extend_from_slice(&a.octets()),
        std::net::IpAddr::V6(_) => reply.extend_from_slice(&[0, 0, 0, 0]),
    }
    reply.extend_from_slice(&bound.port().to_be_bytes());
    c.write_all(&reply)?;
    shared.track(&origin);
    pipe(c, origin)
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(super::base64(b"fooba"), "Zm9vYmE=");
        assert_eq!(super::base64(b"u:p"), "dTpw");
        assert_eq!(
            super::base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
