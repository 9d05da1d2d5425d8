//! Local Service Discovery (BEP 14) under `--bt-enable-lpd`: one UDP socket in the
//! engine's registry, joined to BEP 14's IPv4 multicast group (on `--bt-lpd-interface`
//! when given), announces each public torrent's info-hash and our listen port every
//! [`ANNOUNCE_EVERY`], and turns the announces of other clients on the local network
//! into peers of our torrents of those info-hashes.
//!
//! Invariants:
//! - private torrents (BEP 27) are never announced nor learnt;
//! - datagrams are read into a buffer of [`MAX_MESSAGE`] bytes and parsed by bt-wire
//!   (bounded, fuzzed); our own announces, which multicast loops back, carry our
//!   cookie and are ignored;
//! - the multicast TTL is 1: announces never leave the local link.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Interest, Token};
use socket2::{Domain, Protocol, Socket, Type};
use swarmget_bt_wire::lpd::{GROUP_V4, LpdAnnounce, MAX_MESSAGE};

use crate::engine::Engine;
use crate::gid::Gid;

/// The LSD socket's token.
pub(crate) const LPD: Token = Token(usize::MAX - 4);
/// How often each torrent is announced (BEP 14: at most once a minute; libtorrent and
/// aria2 use five minutes).
const ANNOUNCE_EVERY: Duration = Duration::from_secs(5 * 60);

pub(crate) struct Lpd {
    sock: UdpSocket,
    /// Tells our announces from others'.
    cookie: String,
    /// When each info-hash is announced next.
    due: HashMap<[u8; 20], Instant>,
}

/// The socket: port 6771 shared with other clients on this host, joined to the group
/// on `interface` (any without).
fn open(interface: Option<Ipv4Addr>) -> std::io::Result<UdpSocket> {
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    sock.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, GROUP_V4.port())).into())?;
    let on = interface.unwrap_or(Ipv4Addr::UNSPECIFIED);
    sock.join_multicast_v4(GROUP_V4.ip(), &on)?;
    if let Some(ip) = interface {
        sock.set_multicast_if_v4(&ip)?;
    }
    sock.set_multicast_loop_v4(true)?;
    sock.set_multicast_ttl_v4(1)?;
    sock.set_nonblocking(true)?;
    Ok(UdpSocket::from_std(sock.into()))
}

/// The IPv4 address of `--bt-lpd-interface` (a name or an address), `None` without it.
fn lpd_interface(opts: &crate::Options) -> Result<Option<Ipv4Addr>, String> {
    let Some(name) = &opts.bt_lpd_interface else {
        return Ok(None);
    };
    let probe = SocketAddr::V4(GROUP_V4);
    match crate::socket::interface_address(name, &probe) {
        Ok(IpAddr::V4(ip)) => Ok(Some(ip)),
        Ok(IpAddr::V6(_)) => Err(format!("{name} has no IPv4 address")),
        Err(e) => Err(e.to_string()),
    }
}

impl Engine {
    /// Opens the LSD socket once, for torrent `gid` (whose notices carry any trouble).
    pub(crate) fn lpd_start(&mut self, gid: Gid) {
        if self.lpd_tried {
            return;
        }
        self.lpd_tried = true;
        let interface = lpd_interface(&self.downloads[gid].opts);
        let opened = interface.and_then(|ip| open(ip).map_err(|e| e.to_string()));
        let mut sock = match opened {
            Ok(s) => s,
            Err(e) => {
                return self.notice(gid, format!("local peer discovery is off: {e}"));
            }
        };
        if let Err(e) = self
            .poll
            .registry()
            .register(&mut sock, LPD, Interest::READABLE)
        {
            return self.notice(gid, format!("local peer discovery is off: {e}"));
        }
        let cookie = format!(
            "swarmget-{:08x}",
            std::process::id() ^ self.peer_serial as u32
        );
        self.lpd = Some(Lpd {
            sock,
            cookie,
            due: HashMap::new(),
        });
    }

    /// Announces `info_hash` on `port` when it is due.
    pub(crate) fn lpd_announce(&mut self, info_hash: [u8; 20], port: u16, now: Instant) {
        let Some(lpd) = self.lpd.as_mut() else {
            return;
        };
        if lpd.due.get(&info_hash).is_some_and(|&t| t > now) {
            return;
        }
        lpd.due.insert(info_hash, now + ANNOUNCE_EVERY);
        let message = LpdAnnounce {
            port,
            info_hashes: vec![info_hash],
            cookie: Some(lpd.cookie.clone()),
        };
        let group = SocketAddr::V4(GROUP_V4);
        // A datagram lost is announced again in five minutes.
        let _ = lpd.sock.send_to(&message.encode(group), group);
        self.timers
            .push(now + ANNOUNCE_EVERY, crate::timers::Timer::Wake);
    }

    /// The LSD socket is readable: announces of our torrents become peers.
    pub(crate) fn lpd_readable(&mut self) {
        let Some(lpd) = self.lpd.as_mut() else {
            return;
        };
        let mut buf = [0u8; MAX_MESSAGE];
        let mut found = Vec::new();
        loop {
            match lpd.sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    let Ok(a) = LpdAnnounce::parse(&buf[..n]) else {
                        continue;
                    };
                    if a.cookie.as_deref() == Some(lpd.cookie.as_str()) {
                        continue;
                    }
                    let peer = SocketAddr::new(from.ip().to_canonical(), a.port);
                    found.extend(a.info_hashes.into_iter().map(|h| (h, peer)));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        for (info_hash, peer) in found {
            for &gid in &self.torrents {
                if let Some(d) = self.downloads.get_mut(gid)
                    && d.opts.bt_enable_lpd
                    && let Some(swarm) = d.bt.as_mut()
                    && swarm.torrent.info_hash() == info_hash
                    && !swarm.torrent.metainfo().info.private
                {
                    swarm.origins.lpd += swarm.add_peers(&[peer]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bt_lpd_interface_picks_the_interfaces_ipv4_address() {
        let mut o = crate::Options::default();
        assert_eq!(lpd_interface(&o), Ok(None));
        o.set("bt-lpd-interface", "lo").unwrap();
        assert_eq!(lpd_interface(&o), Ok(Some(Ipv4Addr::LOCALHOST)));
        o.set("bt-lpd-interface", "127.0.0.1").unwrap();
        assert_eq!(lpd_interface(&o), Ok(Some(Ipv4Addr::LOCALHOST)));
        o.set("bt-lpd-interface", "no-such-interface0").unwrap();
        assert!(lpd_interface(&o).is_err());
    }
}
