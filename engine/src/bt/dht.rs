//! The Mainline DHT on the engine's loop: one UDP socket per address family in the
//! engine's token space, each driving a sans-IO [`Dht`] node from bt-dht with the loop's
//! `now` and one entry in the engine's timer queue (no thread of its own).
//!
//! The DHT starts when the first public torrent (or magnet link) becomes active, as in
//! aria2: the routing table saved by `--dht-file-path` is loaded and the node joins
//! through it and `--dht-entry-point`. Each active torrent looks its info-hash up every
//! [`REANNOUNCE`] and announces our listen port to the closest nodes; the peers found
//! become sources of every download of that info-hash. At exit the table is saved
//! (temporary file and rename) unless it is empty.
//!
//! Invariants:
//! - private torrents (BEP 27) never reach this module;
//! - a datagram is read into a fixed buffer of [`MAX_DATAGRAM`] bytes (a longer one is
//!   cut and fails to decode), and bt-dht bounds everything kept per datagram;
//! - at most [`MAX_PER_TURN`] datagrams are taken per socket per loop turn; a socket
//!   left with datagrams is read again on the next turn, which is due at once;
//! - the timer queue holds at most one live DHT entry (`armed`): an earlier deadline
//!   pushes a new one, a later one waits for the armed entry to fire and re-arm.

use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::net::UdpSocket;
use mio::{Interest, Token};
use swarmget_bt_dht::persist::SavedTable;
use swarmget_bt_dht::{Config, Dht, Event, Family, NodeId, StartError, persist};

use crate::disk::{DiskJob, ReadPurpose};
use crate::engine::{DnsWaiter, Engine};
use crate::gid::Gid;
use crate::options::DhtOptions;
use crate::timers::Timer;

/// The IPv4 DHT socket's token.
pub(crate) const DHT4: Token = Token(usize::MAX - 2);
/// The IPv6 DHT socket's token.
pub(crate) const DHT6: Token = Token(usize::MAX - 3);
/// How often a torrent's peers are looked up and our port announced (aria2: 15 min).
pub(crate) const REANNOUNCE: Duration = Duration::from_secs(15 * 60);
/// How soon a torrent with no peer connected looks again (a lookup whose answers were
/// lost, or a swarm that had not announced yet, should not cost a quarter of an hour).
const REANNOUNCE_ALONE: Duration = Duration::from_secs(30);
/// The wait before a lookup is tried again when the table had no node to start from.
const RETRY: Duration = Duration::from_secs(1);
/// The largest routing table file read (aria2's format: 56 bytes a node, a table of
/// 160 buckets of 8 holds under 72 KiB).
const MAX_TABLE_FILE: usize = 1 << 20;
/// The largest datagram read; KRPC messages fit a 1,500-byte packet.
const MAX_DATAGRAM: usize = 4096;
/// Datagrams taken per socket per loop turn: a flood cannot hold the loop, the rest
/// wait for the next turn (which then comes at once). Large, because what is not read
/// fills the socket's buffer, and the kernel then drops answers to our own queries
/// with the flood (256 a turn lost every lookup under the flood test's load).
const MAX_PER_TURN: usize = 8192;

/// One family's node and its socket.
struct Node {
    token: Token,
    sock: UdpSocket,
    dht: Dht,
    /// Where its table is saved at exit.
    file: Option<PathBuf>,
}

impl Node {
    fn family(&self) -> Family {
        if self.token == DHT4 {
            Family::V4
        } else {
            Family::V6
        }
    }
}

/// The engine's DHT: zero (none could bind), one or two nodes.
pub(crate) struct DhtNet {
    nodes: Vec<Node>,
    /// When each info-hash's next lookup is due.
    due: HashMap<[u8; 20], Instant>,
    /// The DHT entry in the timer queue, if one is pending.
    armed: Option<Instant>,
    /// Sockets whose last read stopped at [`MAX_PER_TURN`].
    unread: Vec<Token>,
}

/// What the DHT holds, for status: nodes per family (IPv4, IPv6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DhtStatus {
    /// Nodes in the IPv4 routing table.
    pub nodes4: usize,
    /// Nodes in the IPv6 routing table.
    pub nodes6: usize,
}

impl DhtNet {
    fn node_mut(&mut self, token: Token) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.token == token)
    }

    /// The sizes of the routing tables.
    pub fn status(&self) -> DhtStatus {
        let count = |f: Family| {
            self.nodes
                .iter()
                .filter(|n| n.dht.config().family == f)
                .map(|n| n.dht.table().len())
                .sum()
        };
        DhtStatus {
            nodes4: count(Family::V4),
            nodes6: count(Family::V6),
        }
    }
}

/// 32 bytes from the system's generator (for node ids and the node's own randomness).
fn random_bytes() -> [u8; 32] {
    use std::hash::{BuildHasher, Hasher};
    use std::io::Read;
    let mut seed = [0u8; 32];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .is_err()
    {
        for chunk in seed.chunks_mut(8) {
            let h = std::collections::hash_map::RandomState::new().build_hasher();
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    seed
}

/// Binds the first free port of `ports` on `ip`. An IPv6 socket takes IPv6 alone, so
/// both families' nodes can share a port (as aria2's do).
fn bind(ip: IpAddr, ports: &[u16]) -> std::io::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let mut last = std::io::Error::new(ErrorKind::InvalidInput, "no port given");
    for &port in ports {
        let addr = SocketAddr::new(ip, port);
        let bound = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))
            .and_then(|s| {
                if ip.is_ipv6() {
                    s.set_only_v6(true)?;
                }
                s.bind(&addr.into())?;
                s.set_nonblocking(true)?;
                Ok(s)
            });
        match bound {
            Ok(s) => return Ok(UdpSocket::from_std(s.into())),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// A node for `family`: its socket bound, its table the one `saved` in its file (none:
/// an empty table with a fresh id), joining through the table and `entry`.
fn start_node(
    family: Family,
    o: &DhtOptions,
    saved: Option<SavedTable>,
    now: Instant,
    warn: &mut dyn FnMut(String),
) -> Option<Node> {
    let (ip, token, entry, file): (IpAddr, _, _, _) = match family {
        Family::V4 => (
            Ipv4Addr::UNSPECIFIED.into(),
            DHT4,
            &o.entry_point,
            o.file_path.clone(),
        ),
        Family::V6 => (
            o.listen_addr6.unwrap_or(Ipv6Addr::UNSPECIFIED).into(),
            DHT6,
            &o.entry_point6,
            o.file_path6.clone(),
        ),
    };
    let sock = match bind(ip, &o.listen_port) {
        Ok(s) => s,
        Err(e) => {
            warn(format!(
                "DHT ({family:?}): cannot bind --dht-listen-port: {e}"
            ));
            return None;
        }
    };
    let seed = random_bytes();
    let id = saved.as_ref().map_or_else(
        || NodeId(seed[..20].try_into().expect("20 bytes")),
        |t| t.id,
    );
    let mut config = Config::new(family);
    config.message_timeout = o.message_timeout;
    let mut dht = Dht::new(config, id, random_bytes(), now);
    let known = saved.map(|t| t.nodes).unwrap_or_default();
    // A named entry point joins later, when the resolver answers (dht_entry_resolved).
    let entries: Vec<SocketAddr> = entry.iter().filter_map(|e| e.addr()).collect();
    // No node at all is not an error: peers' PORT messages may bring the first ones.
    let _ = dht.bootstrap(now, &entries, &known);
    Some(Node {
        token,
        sock,
        dht,
        file,
    })
}

impl Engine {
    /// Starts the DHT once (for torrent `gid`, whose notices carry any trouble), if
    /// `--enable-dht` or `--enable-dht6` asks for it. A family with a table file has it
    /// read on the disk thread first ([`Engine::dht_table_read`]); until its node is up,
    /// lookups wait.
    pub(crate) fn dht_start(&mut self, gid: Gid, now: Instant) {
        let o = &self.global.dht;
        if self.dht.is_some() || !(o.enable || o.enable6) {
            return;
        }
        let families: Vec<(Family, Option<PathBuf>)> = [
            (o.enable, Family::V4, o.file_path.clone()),
            (o.enable6, Family::V6, o.file_path6.clone()),
        ]
        .into_iter()
        .filter(|(on, ..)| *on)
        .map(|(_, family, file)| (family, file))
        .collect();
        self.dht = Some(DhtNet {
            nodes: Vec::new(),
            due: HashMap::new(),
            armed: None,
            unread: Vec::new(),
        });
        for (family, file) in families {
            match file {
                Some(path) => self.disk.send(DiskJob::ReadFile {
                    path,
                    limit: MAX_TABLE_FILE,
                    purpose: ReadPurpose::DhtTable(family, gid),
                }),
                None => self.dht_node_up(family, gid, None, now),
            }
        }
    }

    /// The disk thread read (or could not read) `family`'s routing table file: the
    /// node starts from it, or from nothing when it is missing or unusable.
    pub(crate) fn dht_table_read(
        &mut self,
        family: Family,
        gid: Gid,
        path: &std::path::Path,
        read: std::io::Result<Vec<u8>>,
        now: Instant,
    ) {
        let saved = match read.map(|bytes| persist::load(family, &bytes)) {
            Ok(Ok(table)) => Some(table),
            Ok(Err(e)) => {
                self.notice(gid, format!("DHT: {} not used: {e}", path.display()));
                None
            }
            // The usual first run: no table yet.
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => {
                self.notice(gid, format!("DHT: cannot read {}: {e}", path.display()));
                None
            }
        };
        self.dht_node_up(family, gid, saved, now);
    }

    /// Binds and registers `family`'s node, starting from `saved`, and looks up a named
    /// entry point for it.
    fn dht_node_up(&mut self, family: Family, gid: Gid, saved: Option<SavedTable>, now: Instant) {
        if self.dht.is_none() {
            return;
        }
        let o = &self.global.dht;
        let entry = match family {
            Family::V4 => o.entry_point.clone(),
            Family::V6 => o.entry_point6.clone(),
        };
        let mut warnings = Vec::new();
        let node = start_node(family, o, saved, now, &mut |w| warnings.push(w));
        if let Some(mut node) = node {
            match self
                .poll
                .registry()
                .register(&mut node.sock, node.token, Interest::READABLE)
            {
                Ok(()) => {
                    if let Some(net) = self.dht.as_mut() {
                        net.nodes.push(node);
                    }
                }
                Err(e) => warnings.push(format!("DHT: cannot register its socket: {e}")),
            }
        }
        for w in warnings {
            self.notice(gid, w);
        }
        if let Some(entry) = entry.filter(|e| e.addr().is_none()) {
            self.look_up(
                &entry.host,
                entry.port,
                DnsWaiter::DhtEntry(family, gid),
                now,
            );
        }
        self.dht_flush(now);
    }

    /// The resolver's answer for a named `--dht-entry-point` (or `6`): the node of that
    /// family joins through the addresses of its family.
    pub(crate) fn dht_entry_resolved(
        &mut self,
        family: Family,
        gid: Gid,
        answer: Result<Vec<SocketAddr>, String>,
        now: Instant,
    ) {
        let addrs = match answer {
            Ok(addrs) => addrs
                .into_iter()
                .filter(|a| Family::of(a) == family)
                .collect::<Vec<_>>(),
            Err(why) => {
                self.notice(gid, format!("DHT entry point: {why}"));
                return;
            }
        };
        if addrs.is_empty() {
            self.notice(
                gid,
                format!("DHT entry point: no {family:?} address for the name given"),
            );
            return;
        }
        let Some(net) = self.dht.as_mut() else {
            return;
        };
        for node in net.nodes.iter_mut().filter(|n| n.family() == family) {
            // No node to start from is not an error: PORT messages may bring some.
            let _ = node.dht.bootstrap(now, &addrs, &[]);
        }
        self.dht_flush(now);
    }

    /// Looks up `info_hash` and announces `port` to the closest nodes when it is due;
    /// `alone`: the download has no peer connected.
    pub(crate) fn dht_announce(
        &mut self,
        info_hash: [u8; 20],
        port: u16,
        alone: bool,
        now: Instant,
    ) {
        let Some(net) = self.dht.as_mut() else {
            return;
        };
        if net.nodes.is_empty() || net.due.get(&info_hash).is_some_and(|&t| t > now) {
            return;
        }
        let mut next = now + if alone { REANNOUNCE_ALONE } else { REANNOUNCE };
        for node in &mut net.nodes {
            if let Err(StartError::NoNodes | StartError::Busy) =
                node.dht.announce(now, NodeId(info_hash), Some(port))
            {
                next = next.min(now + RETRY);
            }
        }
        net.due.insert(info_hash, next);
        self.timers.push(next, Timer::Wake);
        self.dht_flush(now);
    }

    /// A torrent stopped: its next lookup is due at once when it runs again.
    pub(crate) fn dht_forget(&mut self, info_hash: &[u8; 20]) {
        if let Some(net) = self.dht.as_mut() {
            net.due.remove(info_hash);
        }
    }

    /// A peer told us its DHT port (BEP 5 `PORT`): the node there is pinged and joins
    /// the table if it answers.
    pub(crate) fn dht_port(&mut self, peer: SocketAddr, port: u16, now: Instant) {
        let Some(net) = self.dht.as_mut() else {
            return;
        };
        let addr = SocketAddr::new(peer.ip().to_canonical(), port);
        for node in &mut net.nodes {
            node.dht.ping(now, addr);
        }
        self.dht_flush(now);
    }

    /// A DHT socket is readable: every datagram waiting is taken in.
    pub(crate) fn dht_readable(&mut self, token: Token, now: Instant) {
        let Some(node) = self.dht.as_mut().and_then(|n| n.node_mut(token)) else {
            return;
        };
        let mut buf = [0u8; MAX_DATAGRAM];
        let mut drained = false;
        for _ in 0..MAX_PER_TURN {
            match node.sock.recv_from(&mut buf) {
                Ok((n, from)) => {
                    let from = SocketAddr::new(from.ip().to_canonical(), from.port());
                    node.dht.handle_datagram(now, from, &buf[..n]);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    drained = true;
                    break;
                }
                // Interrupted, or an ICMP error for an earlier datagram: the next one
                // may be fine.
                Err(_) => {}
            }
        }
        if let Some(net) = self.dht.as_mut()
            && !drained
        {
            // Edge-triggered readiness will not come again for what is left.
            net.unread.push(token);
            self.timers.push(now, Timer::Wake);
        }
        self.dht_flush(now);
    }

    /// Reads again the sockets a turn left datagrams in.
    pub(crate) fn dht_unread(&mut self, now: Instant) {
        let Some(net) = self.dht.as_mut() else {
            return;
        };
        for token in std::mem::take(&mut net.unread) {
            self.dht_readable(token, now);
        }
    }

    /// The DHT's timer fired.
    pub(crate) fn dht_timeout(&mut self, now: Instant) {
        let Some(net) = self.dht.as_mut() else {
            return;
        };
        net.armed = None;
        for node in &mut net.nodes {
            if node.dht.poll_timeout().is_some_and(|t| t <= now) {
                node.dht.handle_timeout(now);
            }
        }
        self.dht_flush(now);
    }

    /// Sends what the nodes have to send, hands the peers they found to the downloads
    /// of that info-hash, and arms the timer for the next deadline.
    fn dht_flush(&mut self, now: Instant) {
        let Some(net) = self.dht.as_mut() else {
            return;
        };
        let mut found: Vec<([u8; 20], Vec<SocketAddr>)> = Vec::new();
        let mut next: Option<Instant> = None;
        for node in &mut net.nodes {
            while let Some(t) = node.dht.poll_transmit() {
                // UDP: a datagram the socket cannot take now is lost like any other.
                let _ = node.sock.send_to(&t.payload, t.dst);
            }
            while let Some(event) = node.dht.poll_event() {
                match event {
                    Event::Peers {
                        info_hash, peers, ..
                    } => found.push((info_hash.0, peers)),
                    // A peer announced a torrent to our own node: one of ours, maybe.
                    Event::Announced { info_hash, peer } => found.push((info_hash.0, vec![peer])),
                    _ => {}
                }
            }
            if let Some(t) = node.dht.poll_timeout() {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
        }
        if let Some(t) = next
            && net.armed.is_none_or(|a| t < a)
        {
            net.armed = Some(t);
            self.timers.push(t.max(now), Timer::Dht);
        }
        for (info_hash, peers) in found {
            self.peers_found(&info_hash, &peers);
        }
    }

    /// Peers of `info_hash` become sources of every download of it.
    fn peers_found(&mut self, info_hash: &[u8; 20], peers: &[SocketAddr]) {
        for &gid in &self.torrents {
            let Some(d) = self.downloads.get_mut(gid) else {
                continue;
            };
            if let Some(swarm) = d.bt.as_mut()
                && swarm.torrent.info_hash() == *info_hash
            {
                swarm.origins.dht += swarm.add_peers(peers);
            }
            if let Some(fetch) = d.magnet.as_mut()
                && fetch.link.info_hash == *info_hash
            {
                fetch.origins.dht += fetch.add_peers(peers);
            }
        }
    }

    /// Saves each routing table that holds a node (at exit).
    pub(crate) fn dht_save(&self) {
        let Some(net) = &self.dht else {
            return;
        };
        let now = self.clock.now();
        let saved_at = u64::try_from(crate::cookies::unix_now()).unwrap_or(0);
        for node in &net.nodes {
            let Some(path) = &node.file else { continue };
            if node.dht.table().is_empty() {
                continue;
            }
            let bytes = node.dht.save(now, saved_at);
            let written = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| crate::control::save_bytes(path, &bytes));
            if let Err(e) = written {
                eprintln!(
                    "swarmget: cannot save the DHT routing table to {}: {e}",
                    path.display()
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_takes_its_options() {
        let mut all = crate::Options::default();
        all.set("dht-listen-port", "0").unwrap();
        all.set("dht-entry-point", "127.0.0.1:9").unwrap();
        all.set("dht-message-timeout", "3").unwrap();
        let o = all.dht;
        let now = Instant::now();
        let node = start_node(Family::V4, &o, None, now, &mut |w| panic!("{w}")).unwrap();
        assert_eq!(node.dht.config().message_timeout, Duration::from_secs(3));
        // Joining through the entry point: one query to it waits for its answer.
        assert_eq!(node.dht.in_flight(), 1);
        assert_eq!(node.token, DHT4);
    }

    #[test]
    fn the_ipv6_node_binds_dht_listen_addr6() {
        let mut all = crate::Options::default();
        all.set("dht-listen-port", "0").unwrap();
        all.set("dht-listen-addr6", "::1").unwrap();
        let now = Instant::now();
        let node = start_node(Family::V6, &all.dht, None, now, &mut |w| panic!("{w}")).unwrap();
        assert_eq!(node.token, DHT6);
        assert_eq!(
            node.sock.local_addr().unwrap().ip(),
            IpAddr::from(Ipv6Addr::LOCALHOST)
        );
    }
}
