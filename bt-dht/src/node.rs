//! The DHT node: one routing table, the queries we answer, the lookups we run, as a
//! sans-IO state machine. Feed it datagrams ([`Dht::handle_datagram`]) and the time
//! ([`Dht::handle_timeout`] once [`Dht::poll_timeout`] is reached); take out datagrams
//! ([`Dht::poll_transmit`]) and events ([`Dht::poll_event`]).
//!
//! One `Dht` serves one address family (BEP 5 for IPv4, BEP 32 for IPv6): a dual-stack
//! client runs two, one per socket, as aria2 does.
//!
//! Invariants:
//! - every query we send has a random 4-byte transaction id and is remembered until it is
//!   answered from the address it went to or times out after
//!   [`Config::message_timeout`]; at most [`Config::max_in_flight`] are outstanding, so a
//!   burst of work queues nothing unbounded;
//! - an answer is accepted only from the address the query went to; anything else is
//!   dropped without a reply;
//! - incoming queries pass the [`RateLimiter`] before any work or reply; read-only mode
//!   (BEP 43) answers none and marks every query we send with `ro`; a query marked `ro`
//!   never puts its sender into the table;
//! - with [`Config::enforce_node_id`], a node whose id BEP 42 does not allow for its
//!   address never enters the table (it is still answered and may still be queried);
//! - at most [`Config::max_lookups`] lookups run at once.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::compact::{Family, NodeAddr};
use crate::id::NodeId;
use crate::krpc::{self, Body, Message, Query, QueryKind, Response, Want, code};
use crate::lookup::{Lookup, LookupId, LookupKind, LookupStats};
use crate::peer_store::{PeerStore, PeerStoreLimits};
use crate::rate_limit::{RateLimiter, RateLimits};
use crate::rng::HashRng;
use crate::routing::{Contact, GOOD_FOR, Inserted, K, RoutingTable};
use crate::secure_id;
use crate::token::Tokens;

/// Peers put in one `get_peers` answer: 50 IPv6 peers and the rest of the answer still
/// fit a 1,280-byte datagram.
pub const MAX_VALUES: usize = 50;

/// How a node behaves.
#[derive(Clone, Debug)]
pub struct Config {
    /// The family of the socket this node serves.
    pub family: Family,
    /// Queries one lookup keeps in flight (Kademlia's α).
    pub alpha: usize,
    /// How long a query waits for its answer (aria2's `--dht-message-timeout`, 10 s).
    pub message_timeout: Duration,
    /// BEP 43: answer no queries and ask others not to add us to their tables.
    pub read_only: bool,
    /// BEP 42: keep nodes whose id does not fit their address out of the table.
    pub enforce_node_id: bool,
    /// Bounds of the store of announced peers.
    pub peer_store: PeerStoreLimits,
    /// Bounds on incoming queries.
    pub rate_limits: RateLimits,
    /// Lookups running at once.
    pub max_lookups: usize,
    /// Queries outstanding at once.
    pub max_in_flight: usize,
}

impl Config {
    /// The defaults for `family`.
    pub fn new(family: Family) -> Self {
        Config {
            family,
            alpha: 3,
            message_timeout: Duration::from_secs(10),
            read_only: false,
            enforce_node_id: false,
            peer_store: PeerStoreLimits::default(),
            rate_limits: RateLimits::default(),
            max_lookups: 32,
            max_in_flight: 512,
        }
    }
}

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub dst: SocketAddr,
    /// The bytes.
    pub payload: Vec<u8>,
}

/// Something the caller should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A `get_peers` lookup found peers not reported before.
    Peers {
        /// The lookup.
        lookup: LookupId,
        /// The torrent.
        info_hash: NodeId,
        /// The new peers.
        peers: Vec<SocketAddr>,
    },
    /// BEP 42: [`EXTERNAL_VOTES`] nodes that answered our queries agree that our address
    /// is `ip` (and it differs from what was reported before). A node that wants a BEP 42
    /// id makes one for this address ([`secure_id::secure_id`]) and starts again with it.
    ExternalAddress {
        /// Our address as the network sees it.
        ip: IpAddr,
    },
    /// A node announced that `peer` has `info_hash` (an `announce_peer` with a valid
    /// token, now in our store): a client downloading that torrent may connect to it.
    Announced {
        /// The torrent.
        info_hash: NodeId,
        /// The peer announced.
        peer: SocketAddr,
    },
    /// A lookup finished.
    LookupDone {
        /// The lookup.
        lookup: LookupId,
        /// What it looked for.
        target: NodeId,
        /// The closest nodes that answered, closest first.
        closest: Vec<NodeAddr>,
        /// What it cost.
        stats: LookupStats,
    },
}

/// Why a lookup was not started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// [`Config::max_lookups`] are running.
    #[error("too many DHT lookups running")]
    Busy,
    /// No node to start from: the table is empty and no entry point was given.
    #[error("no DHT node known to start from")]
    NoNodes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Ping,
    Lookup(LookupId),
    Announce,
}

#[derive(Clone, Debug)]
struct Transaction {
    dst: SocketAddr,
    node: Option<NodeId>,
    purpose: Purpose,
    deadline: Instant,
}

/// The node.
#[derive(Debug)]
pub struct Dht {
    config: Config,
    table: RoutingTable,
    tokens: Tokens,
    peers: PeerStore,
    limiter: RateLimiter,
    rng: HashRng,
    transactions: HashMap<u32, Transaction>,
    deadlines: BinaryHeap<Reverse<(Instant, u32)>>,
    lookups: HashMap<LookupId, Lookup>,
    next_lookup: u64,
    out: VecDeque<Transmit>,
    events: VecDeque<Event>,
    /// The entry points of the last bootstrap, tried again while the table is short.
    entry_points: Vec<SocketAddr>,
    /// When to try them again.
    rebootstrap_at: Option<Instant>,
    /// The bootstrap lookup running, if any: when it ends, the buckets farther than our
    /// closest neighbour are refreshed (Kademlia's join).
    joining: Option<LookupId>,
    /// BEP 42 votes on our address: who voted, and the count per address.
    voters: HashSet<IpAddr>,
    votes: HashMap<IpAddr, usize>,
    external: Option<IpAddr>,
}

/// Distinct answering nodes that must agree on our address before it is reported.
pub const EXTERNAL_VOTES: usize = 4;
/// Voters remembered; when full, the election starts over (so a node cannot vote twice
/// and the memory stays bounded).
const MAX_VOTERS: usize = 256;

/// Entry points remembered for a new attempt while the table stays short.
const MAX_ENTRY_POINTS: usize = 16;
/// The wait before bootstrapping again when a bootstrap left fewer than [`K`] nodes in
/// the table: every answer was lost, the entry points were down for a moment, or the
/// entry point knew nobody yet. Without it, nodes that joined through a node that was
/// itself alone stay an island that lookups never reach (the simulation test showed
/// most of a lossy network ending up so).
pub const REBOOTSTRAP_AFTER: Duration = Duration::from_secs(30);

impl Dht {
    /// A node with id `id` (see [`secure_id::secure_id`] for a BEP 42 one) whose
    /// randomness (transaction ids, token secrets, refresh targets) comes from `seed`:
    /// give it 32 bytes from the OS's generator.
    pub fn new(config: Config, id: NodeId, seed: [u8; 32], now: Instant) -> Self {
        let mut rng = HashRng::new(seed);
        let tokens = Tokens::new(rng.bytes(), now);
        Dht {
            table: RoutingTable::new(id, now),
            tokens,
            peers: PeerStore::new(config.peer_store),
            limiter: RateLimiter::new(config.rate_limits, now),
            rng,
            transactions: HashMap::new(),
            deadlines: BinaryHeap::new(),
            lookups: HashMap::new(),
            next_lookup: 1,
            out: VecDeque::new(),
            events: VecDeque::new(),
            entry_points: Vec::new(),
            rebootstrap_at: None,
            joining: None,
            voters: HashSet::new(),
            votes: HashMap::new(),
            external: None,
            config,
        }
    }

    /// Our id.
    pub fn id(&self) -> NodeId {
        self.table.own_id()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The routing table (for status and saving).
    pub fn table(&self) -> &RoutingTable {
        &self.table
    }

    /// Lookups running.
    pub fn lookups(&self) -> usize {
        self.lookups.len()
    }

    /// Queries awaiting an answer.
    pub fn in_flight(&self) -> usize {
        self.transactions.len()
    }

    /// Info-hashes in the store of announced peers.
    pub fn stored_torrents(&self) -> usize {
        self.peers.torrents()
    }

    /// The routing table's nodes that are not bad, in aria2's `dht.dat` format (see
    /// [`persist`](crate::persist)), stamped `saved_at` (seconds since the Unix epoch).
    pub fn save(&self, now: Instant, saved_at: u64) -> Vec<u8> {
        let nodes: Vec<NodeAddr> = self
            .table
            .nodes()
            .filter(|e| e.liveness(now) != crate::routing::Liveness::Bad)
            .map(|e| e.node)
            .collect();
        crate::persist::save(self.config.family, &self.id(), &nodes, saved_at)
    }

    /// Joins the network: a `find_node` lookup for our own id, starting from the table,
    /// from `known` nodes (a saved table) and from `entry_points` (`--dht-entry-point`).
    /// While the table holds fewer than [`K`] nodes, this is tried again every
    /// [`REBOOTSTRAP_AFTER`].
    pub fn bootstrap(
        &mut self,
        now: Instant,
        entry_points: &[SocketAddr],
        known: &[NodeAddr],
    ) -> Result<LookupId, StartError> {
        if !entry_points.is_empty() {
            self.entry_points = entry_points
                .iter()
                .take(MAX_ENTRY_POINTS)
                .copied()
                .collect();
        }
        self.rebootstrap_at = None;
        let own = self.id();
        let id = self.start(now, own, LookupKind::FindNode, entry_points, known)?;
        self.joining = Some(id);
        Ok(id)
    }

    /// Pings `addr`, a node we heard of outside the DHT (a peer's BEP 5 `PORT` message):
    /// if it answers it joins the table like any node that answers. Nothing is sent for
    /// an address of the other family, one already in the table or one being pinged.
    pub fn ping(&mut self, now: Instant, addr: SocketAddr) {
        let known = self.table.contains_addr(&addr)
            || self
                .transactions
                .values()
                .any(|t| t.purpose == Purpose::Ping && t.dst == addr);
        if Family::of(&addr) == self.config.family && addr.port() != 0 && !known {
            self.send_query(now, addr, None, QueryKind::Ping, Purpose::Ping);
        }
    }

    /// Looks for the nodes closest to `target`.
    pub fn find_node(&mut self, now: Instant, target: NodeId) -> Result<LookupId, StartError> {
        self.start(now, target, LookupKind::FindNode, &[], &[])
    }

    /// Looks for peers of `info_hash`; they arrive as [`Event::Peers`].
    pub fn get_peers(&mut self, now: Instant, info_hash: NodeId) -> Result<LookupId, StartError> {
        self.start(now, info_hash, LookupKind::GetPeers, &[], &[])
    }

    /// Looks for peers of `info_hash`, then announces our peer to the closest nodes: on
    /// `port`, or (with `None`) on whatever port our datagrams come from (`implied_port`).
    pub fn announce(
        &mut self,
        now: Instant,
        info_hash: NodeId,
        port: Option<u16>,
    ) -> Result<LookupId, StartError> {
        let kind = LookupKind::Announce {
            port: port.unwrap_or(0),
            implied_port: port.is_none(),
        };
        self.start(now, info_hash, kind, &[], &[])
    }

    fn start(
        &mut self,
        now: Instant,
        target: NodeId,
        kind: LookupKind,
        entry_points: &[SocketAddr],
        known: &[NodeAddr],
    ) -> Result<LookupId, StartError> {
        if self.lookups.len() >= self.config.max_lookups {
            return Err(StartError::Busy);
        }
        let family = self.config.family;
        let mut seeds = self.table.closest(&target, K, now);
        seeds.extend(known.iter().filter(|n| Family::of(&n.addr) == family));
        let entry_points: Vec<SocketAddr> = entry_points
            .iter()
            .filter(|a| Family::of(a) == family)
            .copied()
            .collect();
        if seeds.is_empty() && entry_points.is_empty() {
            return Err(StartError::NoNodes);
        }
        let id = LookupId(self.next_lookup);
        self.next_lookup += 1;
        let lookup = Lookup::new(id, target, kind, self.config.alpha, &seeds, &entry_points);
        self.lookups.insert(id, lookup);
        self.drive(now, id);
        Ok(id)
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.out.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let query = self.deadlines.peek().map(|Reverse((at, _))| *at);
        let refresh = self
            .table
            .buckets()
            .iter()
            .map(|b| b.last_changed + GOOD_FOR)
            .min()
            .filter(|_| !self.table.is_empty());
        [
            query,
            refresh,
            self.rebootstrap_at,
            Some(self.tokens.next_rotation()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Expires queries, rotates the token secret and refreshes quiet buckets as of `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(Reverse((at, tid))) = self.deadlines.peek().copied() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            let Some(t) = self.transactions.get(&tid) else {
                continue;
            };
            if t.deadline > now {
                continue;
            }
            let t = self.transactions.remove(&tid).expect("just found");
            if let Some(id) = t.node {
                // A node that turns bad gives its place to a replacement, if one waits.
                self.table.failed(&id, now);
            }
            if let Purpose::Lookup(lookup) = t.purpose
                && let Some(l) = self.lookups.get_mut(&lookup)
            {
                l.on_failure(t.dst);
                self.drive(now, lookup);
            }
        }
        if self.rebootstrap_at.is_some_and(|at| at <= now) {
            self.rebootstrap_at = None;
            if self.table.len() < K {
                let entry_points = std::mem::take(&mut self.entry_points);
                let _ = self.bootstrap(now, &entry_points, &[]);
            }
        }
        if now >= self.tokens.next_rotation() {
            let secret = self.rng.bytes();
            self.tokens.rotate(now, secret);
            self.peers.expire(now);
        }
        if !self.table.is_empty() {
            let stale: Vec<usize> = self.table.stale_buckets(now).collect();
            let last = self.table.buckets().len() - 1;
            for index in stale {
                self.table.touch_bucket(index, now);
                if self.lookups.len() < self.config.max_lookups {
                    // The bucket holding our id covers our neighbourhood: look up our
                    // own id there, so nodes that joined near us since are found.
                    let target = if index == last {
                        self.id()
                    } else {
                        self.id().with_prefix_of(index, self.rng.bytes())
                    };
                    let _ = self.find_node(now, target);
                }
            }
        }
    }

    /// Takes one datagram that arrived from `from`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        if Family::of(&from) != self.config.family || from.port() == 0 {
            return;
        }
        match krpc::decode(data) {
            Ok(message) => match message.body {
                Body::Query(query) => {
                    self.on_query(now, from, message.transaction, message.read_only, query)
                }
                Body::Response(response) => {
                    self.on_response(now, from, &message.transaction, message.ip, response)
                }
                Body::Error { .. } => self.on_error(now, from, &message.transaction),
            },
            Err(_) => {
                if let Some(transaction) = krpc::DecodeError::query_transaction(data)
                    && !self.config.read_only
                    && self.limiter.allow(from.ip(), now)
                {
                    self.send_error(from, transaction, code::PROTOCOL, "malformed query");
                }
            }
        }
    }

    fn admissible(&self, node: &NodeAddr) -> bool {
        node.id != self.id()
            && node.addr.port() != 0
            && Family::of(&node.addr) == self.config.family
            && (!self.config.enforce_node_id || secure_id::is_secure(&node.id, &node.addr.ip()))
    }

    fn heard_from(&mut self, now: Instant, node: NodeAddr, contact: Contact) {
        if !self.admissible(&node) {
            return;
        }
        if let Inserted::Pending(questionable) = self.table.heard_from(node, now, contact) {
            for q in questionable {
                let pinging = self
                    .transactions
                    .values()
                    .any(|t| t.purpose == Purpose::Ping && t.dst == q.addr);
                if !pinging {
                    self.send_query(now, q.addr, Some(q.id), QueryKind::Ping, Purpose::Ping);
                }
            }
        }
    }

    fn on_query(
        &mut self,
        now: Instant,
        from: SocketAddr,
        transaction: Vec<u8>,
        sender_read_only: bool,
        query: Query,
    ) {
        if self.config.read_only || !self.limiter.allow(from.ip(), now) {
            return;
        }
        if !sender_read_only {
            self.heard_from(
                now,
                NodeAddr {
                    id: query.id,
                    addr: from,
                },
                Contact::Query,
            );
        }
        let mut response = Response {
            id: self.id(),
            ..Response::default()
        };
        match query.kind {
            QueryKind::Ping => {}
            QueryKind::FindNode { target } => self.fill_nodes(now, &target, &mut response),
            QueryKind::GetPeers { info_hash } => {
                response.token = Some(self.tokens.token(&from.ip()).to_vec());
                response.values = self.peers.get(&info_hash, now, MAX_VALUES);
                self.fill_nodes(now, &info_hash, &mut response);
            }
            QueryKind::AnnouncePeer {
                info_hash,
                port,
                implied_port,
                token,
            } => {
                if !self.tokens.is_valid(&token, &from.ip()) {
                    self.send_error(from, transaction, code::PROTOCOL, "bad token");
                    return;
                }
                let port = if implied_port { from.port() } else { port };
                if port == 0 {
                    self.send_error(from, transaction, code::PROTOCOL, "port 0");
                    return;
                }
                let peer = SocketAddr::new(from.ip(), port);
                self.peers.announce(info_hash, peer, now);
                self.events.push_back(Event::Announced { info_hash, peer });
            }
            QueryKind::Unknown(_) => {
                self.send_error(from, transaction, code::METHOD_UNKNOWN, "method unknown");
                return;
            }
        }
        self.send(
            from,
            Message {
                transaction,
                read_only: false,
                ip: Some(from),
                body: Body::Response(response),
            },
        );
    }

    /// Our closest nodes in the field of our family. (A `want` for the other family is
    /// answered with what this table has: the other family's node has the other table.)
    fn fill_nodes(&self, now: Instant, target: &NodeId, response: &mut Response) {
        let nodes = self.table.closest(target, K, now);
        match self.config.family {
            Family::V4 => response.nodes = nodes,
            Family::V6 => response.nodes6 = nodes,
        }
    }

    fn on_response(
        &mut self,
        now: Instant,
        from: SocketAddr,
        tid: &[u8],
        seen_as: Option<SocketAddr>,
        response: Response,
    ) {
        let Some(t) = self.take_transaction(from, tid) else {
            return;
        };
        if let Some(seen_as) = seen_as {
            self.vote(from.ip(), seen_as.ip());
        }
        if response.id == self.id() {
            return;
        }
        let node = NodeAddr {
            id: response.id,
            addr: from,
        };
        self.heard_from(now, node, Contact::Response);
        let Purpose::Lookup(lookup) = t.purpose else {
            return;
        };
        let family_nodes = match self.config.family {
            Family::V4 => response.nodes,
            Family::V6 => response.nodes6,
        };
        let own = self.id();
        let nodes: Vec<NodeAddr> = family_nodes
            .into_iter()
            .filter(|n| n.id != own && n.addr.port() != 0)
            .take(crate::lookup::MAX_NODES_PER_RESPONSE)
            .collect();
        for node in &nodes {
            self.heard_from(now, *node, Contact::Named);
        }
        let Some(l) = self.lookups.get_mut(&lookup) else {
            return;
        };
        let values: Vec<SocketAddr> = if l.kind == LookupKind::FindNode {
            Vec::new()
        } else {
            response.values
        };
        let peers = l.on_response(from, response.id, &nodes, &values, response.token);
        if !peers.is_empty() {
            self.events.push_back(Event::Peers {
                lookup,
                info_hash: l.target,
                peers,
            });
        }
        self.drive(now, lookup);
    }

    fn on_error(&mut self, now: Instant, from: SocketAddr, tid: &[u8]) {
        let Some(t) = self.take_transaction(from, tid) else {
            return;
        };
        if let Purpose::Lookup(lookup) = t.purpose
            && let Some(l) = self.lookups.get_mut(&lookup)
        {
            l.on_failure(from);
            self.drive(now, lookup);
        }
    }

    fn take_transaction(&mut self, from: SocketAddr, tid: &[u8]) -> Option<Transaction> {
        let key = u32::from_be_bytes(tid.try_into().ok()?);
        match self.transactions.get(&key) {
            Some(t) if t.dst == from => self.transactions.remove(&key),
            _ => None,
        }
    }

    /// Our address as [`EXTERNAL_VOTES`] answering nodes agreed on, if they have.
    pub fn external_ip(&self) -> Option<IpAddr> {
        self.external
    }

    /// Counts `voter`'s (an answering node's) view of our address.
    fn vote(&mut self, voter: IpAddr, ip: IpAddr) {
        if self.voters.len() >= MAX_VOTERS {
            self.voters.clear();
            self.votes.clear();
        }
        if !self.voters.insert(voter) {
            return;
        }
        let count = self.votes.entry(ip).or_default();
        *count += 1;
        if *count >= EXTERNAL_VOTES && self.external != Some(ip) {
            self.external = Some(ip);
            self.events.push_back(Event::ExternalAddress { ip });
        }
    }

    /// Sends what lookup `id` may send now, and finishes it if it is done.
    fn drive(&mut self, now: Instant, id: LookupId) {
        let Some(l) = self.lookups.get_mut(&id) else {
            return;
        };
        let target = l.target;
        let method = match l.kind {
            LookupKind::FindNode => QueryKind::FindNode { target },
            LookupKind::GetPeers | LookupKind::Announce { .. } => {
                QueryKind::GetPeers { info_hash: target }
            }
        };
        let next = l.next_queries();
        for (node, addr) in next {
            if !self.send_query(now, addr, node, method.clone(), Purpose::Lookup(id))
                && let Some(l) = self.lookups.get_mut(&id)
            {
                l.on_failure(addr);
            }
        }
        if !self.lookups.get(&id).is_some_and(Lookup::is_done) {
            return;
        }
        let mut l = self.lookups.remove(&id).expect("just found");
        let closest = l.closest();
        let short = self.table.len() < K;
        if short
            && (!self.entry_points.is_empty() || !self.table.is_empty())
            && self.lookups.is_empty()
        {
            self.rebootstrap_at = Some(now + REBOOTSTRAP_AFTER);
        }
        if self.joining == Some(id) {
            self.joining = None;
            self.refresh_far_buckets(now);
        }
        if let LookupKind::Announce { port, implied_port } = l.kind {
            for (node, token) in &closest {
                let Some(token) = token.clone() else { continue };
                let kind = QueryKind::AnnouncePeer {
                    info_hash: target,
                    port,
                    implied_port,
                    token,
                };
                if self.send_query(now, node.addr, Some(node.id), kind, Purpose::Announce) {
                    l.stats.announces += 1;
                }
            }
        }
        self.events.push_back(Event::LookupDone {
            lookup: id,
            target,
            closest: closest.into_iter().map(|(n, _)| n).collect(),
            stats: l.stats,
        });
    }

    /// Kademlia's join: one `find_node` into each bucket but the one holding our id, so
    /// that the nodes there learn of us and we of them.
    fn refresh_far_buckets(&mut self, now: Instant) {
        let far = self.table.buckets().len().saturating_sub(1);
        for index in 0..far {
            if self.lookups.len() >= self.config.max_lookups {
                break;
            }
            self.table.touch_bucket(index, now);
            let target = self.id().with_prefix_of(index, self.rng.bytes());
            let _ = self.find_node(now, target);
        }
    }

    /// Sends a query and remembers it; false when too many are outstanding.
    fn send_query(
        &mut self,
        now: Instant,
        dst: SocketAddr,
        node: Option<NodeId>,
        kind: QueryKind,
        purpose: Purpose,
    ) -> bool {
        if self.transactions.len() >= self.config.max_in_flight {
            return false;
        }
        let tid = loop {
            let tid = u32::from_be_bytes(self.rng.bytes());
            if !self.transactions.contains_key(&tid) {
                break tid;
            }
        };
        let deadline = now + self.config.message_timeout;
        self.transactions.insert(
            tid,
            Transaction {
                dst,
                node,
                purpose,
                deadline,
            },
        );
        self.deadlines.push(Reverse((deadline, tid)));
        let want = match self.config.family {
            Family::V4 => Want::default(),
            Family::V6 => Want {
                v4: false,
                v6: true,
            },
        };
        let read_only = self.config.read_only;
        let id = self.id();
        self.send(
            dst,
            Message {
                transaction: tid.to_be_bytes().to_vec(),
                read_only,
                ip: None,
                body: Body::Query(Query { id, want, kind }),
            },
        );
        true
    }

    fn send_error(&mut self, dst: SocketAddr, transaction: Vec<u8>, code: i64, message: &str) {
        self.send(
            dst,
            Message {
                transaction,
                read_only: false,
                ip: None,
                body: Body::Error {
                    code,
                    message: message.into(),
                },
            },
        );
    }

    fn send(&mut self, dst: SocketAddr, message: Message) {
        self.out.push_back(Transmit {
            dst,
            payload: message.encode(),
        });
    }
}

#[cfg(test)]
mod tests;
