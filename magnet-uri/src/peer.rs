//! `x.pe` (BEP 9): addresses of peers to contact directly.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::error::ErrorKind;

/// The host part of a peer address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerHost {
    /// An IPv4 or IPv6 literal.
    Ip(IpAddr),
    /// A DNS name (letters, digits, `-`, `_` and `.`, at most 253 characters).
    Name(String),
}

/// A peer address `host:port`, `ipv4:port` or `[ipv6]:port`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerAddr {
    /// Where the peer is.
    pub host: PeerHost,
    /// Its TCP/uTP port (never 0).
    pub port: u16,
}

fn bad(reason: &'static str) -> ErrorKind {
    ErrorKind::BadPeer { reason }
}

impl PeerAddr {
    /// Reads `host:port`, `ipv4:port` or `[ipv6]:port`.
    pub fn parse(text: &str) -> Result<Self, ErrorKind> {
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (inside, after) = rest.split_once(']').ok_or(bad("`[` without `]`"))?;
            let port = after
                .strip_prefix(':')
                .ok_or(bad("expected `:port` after `]`"))?;
            let ip: Ipv6Addr = inside
                .parse()
                .map_err(|_| bad("not an IPv6 address inside `[]`"))?;
            (PeerHost::Ip(IpAddr::V6(ip)), port)
        } else {
            let (host, port) = text.rsplit_once(':').ok_or(bad("expected `host:port`"))?;
            if host.contains(':') {
                return Err(bad("an IPv6 address must be written in brackets"));
            }
            (host_name_or_ipv4(host)?, port)
        };
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad("port must be decimal digits"));
        }
        let port: u16 = port
            .parse()
            .map_err(|_| ErrorKind::OutOfRange { what: "peer port" })?;
        if port == 0 {
            return Err(bad("port 0"));
        }
        Ok(PeerAddr { host, port })
    }
}

fn host_name_or_ipv4(host: &str) -> Result<PeerHost, ErrorKind> {
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok(PeerHost::Ip(IpAddr::V4(ip)));
    }
    if host.is_empty() {
        return Err(bad("empty host"));
    }
    if host.len() > 253 {
        return Err(bad("host name longer than 253 characters"));
    }
    if !host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(bad(
            "host name may hold only letters, digits, `-`, `_` and `.`",
        ));
    }
    Ok(PeerHost::Name(host.to_owned()))
}

impl FromStr for PeerAddr {
    type Err = ErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PeerAddr::parse(s)
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            PeerHost::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            PeerHost::Ip(IpAddr::V4(ip)) => write!(f, "{ip}:{}", self.port),
            PeerHost::Name(name) => write!(f, "{name}:{}", self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_host_form() {
        let v4 = PeerAddr::parse("10.0.0.1:6881").unwrap();
        assert_eq!(v4.host, PeerHost::Ip("10.0.0.1".parse().unwrap()));
        let v6 = PeerAddr::parse("[2001:db8::1]:51413").unwrap();
        assert_eq!(v6.to_string(), "[2001:db8::1]:51413");
        let name = PeerAddr::parse("peer.example.org:1").unwrap();
        assert_eq!(name.host, PeerHost::Name("peer.example.org".into()));
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "", "host", "host:", ":80", "::1:80", "[::1]80", "[::1:80", "[x]:1", "h:0", "h:-1",
            "a b:1",
        ] {
            assert!(PeerAddr::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(
            PeerAddr::parse("h:65536"),
            Err(ErrorKind::OutOfRange { what: "peer port" })
        );
    }
}
