//! A stub resolver for `--async-dns-server`: asks the given servers for A (and AAAA)
//! records over UDP, the first server first, each twice, and takes the first answer.
//! It runs on the resolver thread, where blocking is fine. Address literals are not
//! looked up; `/etc/hosts` is not read (the servers named decide, as the option says).

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use crate::dns_message::{self, DnsError, TYPE_A, TYPE_AAAA};

/// How long one server gets to answer one round.
const WAIT: Duration = Duration::from_secs(2);
/// Rounds over the server list.
const ROUNDS: usize = 2;

/// The addresses of `host` from `servers`, IPv4 first.
pub(crate) fn lookup(servers: &[SocketAddr], host: &str, ipv6: bool) -> io::Result<Vec<IpAddr>> {
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(vec![ip]);
    }
    let mut last = io::Error::new(io::ErrorKind::TimedOut, "no DNS server answered");
    for _ in 0..ROUNDS {
        for server in servers {
            match ask(*server, host, ipv6) {
                Ok(ips) if ips.is_empty() => {
                    return Err(io::Error::new(
                        io::ErrorKind::NotFound,
                        format!("{server} has no address for {host}"),
                    ));
                }
                Ok(ips) => return Ok(ips),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Retry(e)) => last = e,
            }
        }
    }
    Err(last)
}

enum Failure {
    /// The server answered for certain (no such name).
    Final(io::Error),
    /// No usable answer from this server this time.
    Retry(io::Error),
}

/// One round with one server: both queries sent at once, answers awaited until `WAIT`.
fn ask(server: SocketAddr, host: &str, ipv6: bool) -> Result<Vec<IpAddr>, Failure> {
    let retry = Failure::Retry;
    let local: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let socket = UdpSocket::bind(local).map_err(retry)?;
    socket.connect(server).map_err(retry)?;
    let base = random_id();
    let mut pending: Vec<(u16, u16)> = vec![(base, TYPE_A)];
    if ipv6 {
        pending.push((base.wrapping_add(1), TYPE_AAAA));
    }
    for &(id, qtype) in &pending {
        let q = dns_message::query(id, host, qtype).ok_or_else(|| {
            Failure::Final(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("'{host}' is not a DNS name"),
            ))
        })?;
        socket.send(&q).map_err(retry)?;
    }
    let deadline = Instant::now() + WAIT;
    let mut found = Vec::new();
    let mut buf = [0u8; 1500];
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        socket.set_read_timeout(Some(left)).map_err(retry)?;
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                break;
            }
            Err(e) => return Err(retry(e)),
        };
        if n < 2 {
            continue;
        }
        let got = u16::from_be_bytes([buf[0], buf[1]]);
        let Some(at) = pending.iter().position(|&(id, _)| id == got) else {
            continue;
        };
        let (id, qtype) = pending[at];
        match dns_message::addresses(id, &buf[..n]) {
            Ok(ips) => {
                pending.remove(at);
                found.extend(
                    ips.into_iter()
                        .filter(|ip| ip.is_ipv4() == (qtype == TYPE_A)),
                );
            }
            Err(DnsError::NotOurs) => {}
            Err(DnsError::NoSuchName) => {
                return Err(Failure::Final(io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("{server}: no such name {host}"),
                )));
            }
            Err(e) => {
                return Err(retry(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{server}: {e}"),
                )));
            }
        }
    }
    if found.is_empty() && !pending.is_empty() {
        return Err(retry(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{server} did not answer for {host}"),
        )));
    }
    found.sort_by_key(|ip| ip.is_ipv6());
    Ok(found)
}

/// A query ID no off-path sender can guess: from the standard library's per-process
/// random hash keys.
fn random_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish() as u16
}
