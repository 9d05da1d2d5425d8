//! Proxies: which one a request goes through (`--{http,https,ftp,all}-proxy`, their
//! `-user`/`-passwd`, `--no-proxy`, `--proxy-method`), and driving the CONNECT or
//! SOCKS5 handshake on a connection before its own protocol starts.
//!
//! The route is decided per connection from its current URL, so a redirect to
//! another scheme or to a host in `--no-proxy` takes the right path on reconnect.
//! A tunnel (CONNECT or SOCKS5) carries the origin's own protocol: TLS for `https://`
//! starts after the handshake and is verified against the origin's name, never the
//! proxy's.

use std::io::ErrorKind;
use std::net::SocketAddr;

use swarmget_proxy::{Credentials, Handshake, HandshakeError, ProxyKind, ProxyUri, Socks5Target};
use url::Url;

use crate::conn::Conn;
use crate::error::{Error, ErrorCode};
use crate::options::{Options, ProxyMethod};

/// How a connection reaches its origin through a proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    /// The proxy, with the credentials to present (options over the URI's).
    pub proxy: ProxyUri,
    pub via: Via,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// Absolute-form requests to an HTTP proxy.
    Get,
    /// An HTTP `CONNECT` tunnel.
    Connect,
    /// A SOCKS5 tunnel; `remote_dns` sends the origin's name instead of an address.
    Socks5 { remote_dns: bool },
}

impl Route {
    /// Whether a handshake precedes the origin's protocol.
    pub fn tunnels(&self) -> bool {
        self.via != Via::Get
    }

    /// Whether the client must resolve the origin's name before the handshake.
    pub fn needs_target_address(&self) -> bool {
        self.via == (Via::Socks5 { remote_dns: false })
    }
}

impl crate::engine::Engine {
    /// Decides connection `key`'s route from its current URL.
    pub(crate) fn choose_route(&mut self, key: usize) {
        if let Some(conn) = self.conns[key].as_mut() {
            conn.target = None;
            conn.route = route(&self.downloads[conn.dl].opts, &conn.url);
        }
    }

    /// Addresses for connection `key`'s current lookup arrived: the origin's for a
    /// `socks5://` route (keep one and look the proxy up next), else the endpoint's.
    pub(crate) fn resolved(&mut self, key: usize, addrs: Vec<SocketAddr>, now: std::time::Instant) {
        let Some(conn) = self.conns[key].as_mut() else {
            return;
        };
        if conn.wants_target() {
            let disable_v6 = self.downloads[conn.dl].opts.disable_ipv6;
            let Some(first) = crate::resolve::interleave(addrs, disable_v6)
                .first()
                .copied()
            else {
                self.conn_failed(
                    key,
                    Error::new(ErrorCode::Resolve, "no usable address for the origin"),
                    now,
                );
                return;
            };
            conn.target = Some(first);
            self.start_resolve(key, now);
            return;
        }
        self.start_connect(key, addrs, now);
    }
}

/// The route for a request to `url` under `opts`: `None` goes direct.
pub(crate) fn route(opts: &Options, url: &Url) -> Option<Route> {
    let (proxy, user, passwd) = match url.scheme() {
        "http" => (
            &opts.http_proxy,
            &opts.http_proxy_user,
            &opts.http_proxy_passwd,
        ),
        "https" => (
            &opts.https_proxy,
            &opts.https_proxy_user,
            &opts.https_proxy_passwd,
        ),
        "ftp" => (
            &opts.ftp_proxy,
            &opts.ftp_proxy_user,
            &opts.ftp_proxy_passwd,
        ),
        _ => return None,
    };
    let uri = proxy.as_ref().or(opts.all_proxy.as_ref())?;
    let host = url.host_str().unwrap_or_default();
    if opts.no_proxy.matches(host) {
        return None;
    }
    let user = user.as_ref().or(opts.all_proxy_user.as_ref());
    let passwd = passwd.as_ref().or(opts.all_proxy_passwd.as_ref());
    let mut proxy = uri.clone();
    if user.is_some() || passwd.is_some() {
        let from_uri = proxy.credentials.take();
        proxy.credentials = Some(Credentials {
            user: user
                .cloned()
                .or_else(|| from_uri.as_ref().map(|c| c.user.clone()))
                .unwrap_or_default(),
            password: passwd
                .cloned()
                .or_else(|| from_uri.map(|c| c.password))
                .unwrap_or_default(),
        });
    }
    let via = match proxy.kind {
        ProxyKind::Socks5 { remote_dns } => Via::Socks5 { remote_dns },
        ProxyKind::Http if url.scheme() == "https" => Via::Connect,
        ProxyKind::Http => match opts.proxy_method {
            ProxyMethod::Get => Via::Get,
            ProxyMethod::Tunnel => Via::Connect,
        },
    };
    Some(Route { proxy, via })
}

/// The handshake that opens `conn`'s tunnel.
pub(crate) fn handshake(conn: &Conn, user_agent: &str) -> Result<Handshake, Error> {
    let port = conn.url.port_or_known_default().unwrap_or(80);
    handshake_to(conn, port, user_agent)
}

/// A handshake for a tunnel to `port` on `conn`'s origin host (an FTP data
/// connection's port, or the URI's own).
pub(crate) fn handshake_to(conn: &Conn, port: u16, user_agent: &str) -> Result<Handshake, Error> {
    let route = conn.route.as_ref().expect("a tunnel has a route");
    let host = conn.url.host_str().unwrap_or_default();
    let creds = route.proxy.credentials.as_ref();
    let made = match route.via {
        Via::Connect => Handshake::connect(host, port, creds, Some(user_agent)),
        Via::Socks5 { remote_dns } => {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let target = match (bare.parse(), conn.target) {
                (Ok(ip), _) => Socks5Target::Addr(SocketAddr::new(ip, port)),
                (Err(_), Some(addr)) if !remote_dns => {
                    Socks5Target::Addr(SocketAddr::new(addr.ip(), port))
                }
                _ => Socks5Target::Name(bare.to_string(), port),
            };
            Handshake::socks5(target, creds)
        }
        Via::Get => unreachable!("GET through a proxy has no handshake"),
    };
    made.map_err(|e| handshake_error(&route.proxy, e))
}

/// A handshake that failed, and whether trying this source again is pointless.
pub(crate) struct Failed {
    pub error: Error,
    pub give_up: bool,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Failed {
        Failed {
            error,
            give_up: false,
        }
    }
}

/// Moves `hs` as far as the socket allows. `Ok(true)`: the tunnel is open.
pub(crate) fn drive(
    hs: &mut Handshake,
    sock: &mut mio::net::TcpStream,
    proxy: &ProxyUri,
) -> Result<bool, Failed> {
    use std::io::{Read, Write};
    let io = |e: std::io::Error| {
        Error::new(
            ErrorCode::Network,
            format!("proxy {proxy}: {e} during the handshake"),
        )
    };
    loop {
        if hs.is_done() {
            return Ok(true);
        }
        let out = hs.transmit();
        if !out.is_empty() {
            match sock.write(out) {
                Ok(0) => return Err(io(ErrorKind::WriteZero.into()).into()),
                Ok(n) => hs.sent(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(io(e).into()),
            }
            continue;
        }
        let want = hs.want_read();
        if want == 0 {
            return Err(Error::new(
                ErrorCode::Network,
                format!("proxy {proxy}: handshake stalled"),
            )
            .into());
        }
        let mut buf = [0u8; 512];
        let want = want.min(buf.len());
        match sock.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(Error::new(
                    ErrorCode::Network,
                    format!("proxy {proxy} closed the connection during the handshake"),
                )
                .into());
            }
            Ok(n) => {
                hs.receive(&buf[..n]).map_err(|e| Failed {
                    give_up: is_final(&e),
                    error: handshake_error(proxy, e),
                })?;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(io(e).into()),
        }
    }
}

/// aria2's exit codes for a failed handshake: credentials the proxy refuses are an
/// authorization failure for SOCKS5 (24) and, as aria2 treats a 407, a bad HTTP
/// answer for CONNECT (22); a proxy that cannot reach the origin is a network
/// problem (6); a refusal by policy is 22 for HTTP, 6 for SOCKS5.
pub(crate) fn handshake_error(proxy: &ProxyUri, e: HandshakeError) -> Error {
    use HandshakeError::*;
    let code = match &e {
        ProxyAuthRequired { .. } => ErrorCode::HttpHeader,
        ConnectRefused { status, .. } if *status >= 500 => ErrorCode::Network,
        ConnectRefused { .. } => ErrorCode::HttpHeader,
        CredentialsNeeded | AuthFailed { .. } | NoAcceptableMethod { .. } => ErrorCode::HttpAuth,
        InvalidRequest(_) => ErrorCode::BadOption,
        BadReply(_) | ReplyTooLong { .. } | Socks5Refused { .. } | UnexpectedData => {
            ErrorCode::Network
        }
    };
    Error::new(code, format!("proxy {proxy}: {e}"))
}

/// Whether an error from a proxy handshake should end the source at once: asking
/// again with the same credentials, or the same refused target, cannot go better.
pub(crate) fn is_final(e: &HandshakeError) -> bool {
    use HandshakeError::*;
    matches!(
        e,
        ProxyAuthRequired { .. }
            | CredentialsNeeded
            | AuthFailed { .. }
            | NoAcceptableMethod { .. }
            | InvalidRequest(_)
    ) || matches!(e, ConnectRefused { status, .. } if *status < 500)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn with(f: impl Fn(&mut Options)) -> Options {
        let mut o = Options::default();
        f(&mut o);
        o
    }

    #[test]
    fn scheme_proxy_then_all_proxy_then_direct() {
        let o = with(|o| {
            o.set("http-proxy", "h:1").unwrap();
            o.set("all-proxy", "socks5h://a:2").unwrap();
        });
        let r = route(&o, &url("http://x/")).unwrap();
        assert_eq!((r.proxy.host.as_str(), r.via), ("h", Via::Get));
        let r = route(&o, &url("https://x/")).unwrap();
        assert_eq!(
            (r.proxy.host.as_str(), r.via),
            ("a", Via::Socks5 { remote_dns: true })
        );
        assert_eq!(route(&Options::default(), &url("http://x/")), None);
    }

    #[test]
    fn https_always_tunnels_and_tunnel_method_applies_to_http() {
        let mut o = with(|o| o.set("all-proxy", "p:3128").unwrap());
        assert_eq!(route(&o, &url("https://x/")).unwrap().via, Via::Connect);
        assert_eq!(route(&o, &url("http://x/")).unwrap().via, Via::Get);
        assert_eq!(route(&o, &url("ftp://x/")).unwrap().via, Via::Get);
        o.set("proxy-method", "tunnel").unwrap();
        assert_eq!(route(&o, &url("http://x/")).unwrap().via, Via::Connect);
        assert_eq!(route(&o, &url("ftp://x/")).unwrap().via, Via::Connect);
    }

    #[test]
    fn no_proxy_bypasses_and_options_replace_uri_credentials() {
        let o = with(|o| {
            o.set("http-proxy", "http://u:p@h:1").unwrap();
            o.set("no-proxy", ".local,10.0.0.0/8").unwrap();
            o.set("http-proxy-passwd", "q").unwrap();
        });
        assert_eq!(route(&o, &url("http://a.local/")), None);
        assert_eq!(route(&o, &url("http://10.1.1.1/")), None);
        let c = route(&o, &url("http://b/")).unwrap().proxy.credentials;
        let c = c.unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("u", "q"));
    }
}
