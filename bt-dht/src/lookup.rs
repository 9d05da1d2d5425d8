//! Iterative lookups (Kademlia's node lookup, as BEP 5 uses it for `find_node` and
//! `get_peers`): query the closest nodes known, learn closer ones from their answers,
//! and stop when the [`K`] closest nodes heard of have all answered or failed.
//!
//! Invariants:
//! - at most `alpha` queries of one lookup are in flight at a time;
//! - candidates are kept sorted by distance to the target (addresses given without an
//!   id, such as entry points, sort first) and at most [`MAX_CANDIDATES`] are kept, so a
//!   node that answers with thousands of bogus nodes cannot grow a lookup's memory; a
//!   response contributes at most [`MAX_NODES_PER_RESPONSE`] nodes. Past the limit the
//!   farthest candidate that failed goes first, then the farthest one an answer named;
//!   the nodes the lookup started from (the table's, the entry points: at most `K` and
//!   16) and those in flight are never dropped, so bogus nodes closer to the target
//!   cannot push out an honest node we already knew before it is asked;
//! - every candidate is queried at most once, and an address appears at most once;
//! - a lookup is done exactly when nothing is in flight and each of the `K` closest
//!   candidates that did not fail has answered, so it terminates: each step either sends
//!   a query to a fresh candidate or waits on one in flight, and in-flight queries end
//!   by answer or by timeout.

use std::collections::HashSet;
use std::net::SocketAddr;

use crate::compact::NodeAddr;
use crate::id::{ID_LEN, NodeId};
use crate::routing::K;

/// Candidates kept per lookup.
pub const MAX_CANDIDATES: usize = K * 8;
/// Nodes taken from one response.
pub const MAX_NODES_PER_RESPONSE: usize = K * 2;
/// Distinct peers one lookup collects.
pub const MAX_PEERS: usize = 2000;

/// Names one lookup, in events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LookupId(pub u64);

/// What a lookup is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LookupKind {
    /// `find_node`: nodes near the target (bootstrap, bucket refresh).
    FindNode,
    /// `get_peers`: peers for the info-hash.
    GetPeers,
    /// `get_peers`, then `announce_peer` to the closest nodes that gave a token.
    Announce {
        /// Our peer's port (ignored when `implied_port`).
        port: u16,
        /// Ask nodes to use our datagrams' source port.
        implied_port: bool,
    },
}

/// What one lookup cost, for status and for the simulation test.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookupStats {
    /// Queries sent.
    pub queries: u32,
    /// Answers received.
    pub responses: u32,
    /// Queries that timed out or were answered with an error.
    pub failures: u32,
    /// The longest chain of answers: 1 when only nodes we knew at the start answered, 2
    /// when a node one of them named answered, and so on.
    pub rounds: u32,
    /// `announce_peer` queries sent when it finished.
    pub announces: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Fresh,
    InFlight,
    Responded { token: Option<Vec<u8>> },
    Failed,
}

#[derive(Clone, Debug)]
struct Candidate {
    id: Option<NodeId>,
    addr: SocketAddr,
    key: [u8; ID_LEN],
    depth: u32,
    state: State,
}

/// One lookup in progress.
#[derive(Clone, Debug)]
pub struct Lookup {
    /// Its id.
    pub id: LookupId,
    /// The key looked for.
    pub target: NodeId,
    /// What for.
    pub kind: LookupKind,
    candidates: Vec<Candidate>,
    peers: HashSet<SocketAddr>,
    /// Its costs so far.
    pub stats: LookupStats,
    alpha: usize,
}

impl Lookup {
    /// A lookup for `target` starting from `known` nodes and `entry_points` (addresses
    /// whose ids we do not know).
    pub fn new(
        id: LookupId,
        target: NodeId,
        kind: LookupKind,
        alpha: usize,
        known: &[NodeAddr],
        entry_points: &[SocketAddr],
    ) -> Self {
        let mut lookup = Lookup {
            id,
            target,
            kind,
            candidates: Vec::new(),
            peers: HashSet::new(),
            stats: LookupStats::default(),
            alpha: alpha.max(1),
        };
        for addr in entry_points {
            lookup.add(None, *addr, 1);
        }
        for node in known {
            lookup.add(Some(node.id), node.addr, 1);
        }
        lookup
    }

    fn add(&mut self, id: Option<NodeId>, addr: SocketAddr, depth: u32) {
        if self
            .candidates
            .iter()
            .any(|c| c.addr == addr || (id.is_some() && c.id == id))
        {
            return;
        }
        let key = id.map_or([0; ID_LEN], |id| id.distance(&self.target));
        let at = self.candidates.partition_point(|c| c.key <= key);
        if at >= MAX_CANDIDATES && depth > 1 {
            return;
        }
        self.candidates.insert(
            at,
            Candidate {
                id,
                addr,
                key,
                depth,
                state: State::Fresh,
            },
        );
        // Drop the farthest candidate that failed, else the farthest one an answer
        // named that is not in flight (one in flight stays until it ends, so that its
        // answer still finds it; a starting node stays until it is asked).
        if self.candidates.len() > MAX_CANDIDATES {
            let failed = self
                .candidates
                .iter()
                .rposition(|c| c.state == State::Failed);
            let learnt = || {
                self.candidates
                    .iter()
                    .rposition(|c| c.state != State::InFlight && c.depth > 1)
            };
            if let Some(at) = failed.or_else(learnt) {
                self.candidates.remove(at);
            }
        }
    }

    /// The next nodes to query (at most `alpha` in flight in all); each is marked in
    /// flight and counted.
    pub fn next_queries(&mut self) -> Vec<(Option<NodeId>, SocketAddr)> {
        let mut in_flight = self
            .candidates
            .iter()
            .filter(|c| c.state == State::InFlight)
            .count();
        let mut out = Vec::new();
        let mut settled = 0;
        for c in &mut self.candidates {
            if in_flight >= self.alpha || settled >= K {
                break;
            }
            match c.state {
                State::Fresh => {
                    c.state = State::InFlight;
                    in_flight += 1;
                    self.stats.queries += 1;
                    out.push((c.id, c.addr));
                }
                State::Responded { .. } => settled += 1,
                State::InFlight | State::Failed => {}
            }
        }
        out
    }

    /// Whether the lookup has finished.
    pub fn is_done(&self) -> bool {
        let mut settled = 0;
        for c in &self.candidates {
            match c.state {
                State::InFlight => return false,
                State::Fresh if settled < K => return false,
                State::Responded { .. } => settled += 1,
                _ => {}
            }
        }
        true
    }

    fn position(&self, addr: &SocketAddr) -> Option<usize> {
        self.candidates
            .iter()
            .position(|c| c.addr == *addr && c.state == State::InFlight)
    }

    /// `addr` answered as node `id`, naming `nodes` and `values`; returns the peers not
    /// seen before in this lookup.
    pub fn on_response(
        &mut self,
        addr: SocketAddr,
        id: NodeId,
        nodes: &[NodeAddr],
        values: &[SocketAddr],
        token: Option<Vec<u8>>,
    ) -> Vec<SocketAddr> {
        let Some(at) = self.position(&addr) else {
            return Vec::new();
        };
        self.stats.responses += 1;
        let mut c = self.candidates.remove(at);
        let depth = c.depth;
        self.stats.rounds = self.stats.rounds.max(depth);
        c.state = State::Responded { token };
        if c.id.is_none_or(|known| known == id) {
            c.id = Some(id);
            c.key = id.distance(&self.target);
        }
        let at = self.candidates.partition_point(|x| x.key <= c.key);
        self.candidates.insert(at, c);
        for node in nodes.iter().take(MAX_NODES_PER_RESPONSE) {
            self.add(Some(node.id), node.addr, depth + 1);
        }
        let mut new = Vec::new();
        for peer in values {
            if self.peers.len() < MAX_PEERS && self.peers.insert(*peer) {
                new.push(*peer);
            }
        }
        new
    }

    /// The query to `addr` timed out or was refused.
    pub fn on_failure(&mut self, addr: SocketAddr) {
        if let Some(at) = self.position(&addr) {
            self.candidates[at].state = State::Failed;
            self.stats.failures += 1;
        }
    }

    /// The `K` closest nodes that answered, with the token each gave.
    pub fn closest(&self) -> Vec<(NodeAddr, Option<Vec<u8>>)> {
        self.candidates
            .iter()
            .filter_map(|c| match (&c.state, c.id) {
                (State::Responded { token }, Some(id)) => {
                    Some((NodeAddr { id, addr: c.addr }, token.clone()))
                }
                _ => None,
            })
            .take(K)
            .collect()
    }

    /// Peers collected.
    pub fn peer_count(&self) -> usize {
        self.peers.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(byte: u8) -> NodeAddr {
        NodeAddr {
            id: NodeId([byte; 20]),
            addr: SocketAddr::from(([10, 0, 0, byte], 6881)),
        }
    }

    #[test]
    fn keeps_alpha_in_flight_and_ends_when_the_closest_answered() {
        let known: Vec<NodeAddr> = (1..=5).map(node).collect();
        let mut l = Lookup::new(
            LookupId(1),
            NodeId([0; 20]),
            LookupKind::FindNode,
            3,
            &known,
            &[],
        );
        let first = l.next_queries();
        assert_eq!(first.len(), 3);
        assert!(l.next_queries().is_empty(), "three already in flight");
        for (id, addr) in first {
            l.on_response(addr, id.unwrap(), &[], &[], None);
        }
        assert!(!l.is_done());
        let second = l.next_queries();
        assert_eq!(second.len(), 2);
        l.on_failure(second[0].1);
        assert!(!l.is_done());
        l.on_response(second[1].1, second[1].0.unwrap(), &[], &[], None);
        assert!(l.is_done());
        assert_eq!(l.closest().len(), 4);
        assert_eq!(l.stats.failures, 1);
    }

    #[test]
    fn a_flood_of_bogus_nodes_stays_bounded() {
        let mut l = Lookup::new(
            LookupId(1),
            NodeId([0; 20]),
            LookupKind::FindNode,
            3,
            &[node(1)],
            &[],
        );
        let (id, addr) = l.next_queries()[0];
        let bogus: Vec<NodeAddr> = (0..5000u32)
            .map(|i| NodeAddr {
                id: NodeId([(i % 250) as u8 + 2; 20]),
                addr: SocketAddr::from((i.to_be_bytes(), 1)),
            })
            .collect();
        l.on_response(addr, id.unwrap(), &bogus, &[], None);
        assert!(l.candidates.len() <= MAX_CANDIDATES);
        assert_eq!(l.candidates.len(), 1 + MAX_NODES_PER_RESPONSE);
    }

    /// Liars name nodes closer to the target than an honest node we started from, more
    /// than a lookup keeps: the honest node is still asked once the bogus ones fail.
    #[test]
    fn bogus_nodes_closer_to_the_target_do_not_push_out_a_starting_node() {
        let honest = NodeAddr {
            id: NodeId([0xf0; 20]),
            addr: SocketAddr::from(([10, 0, 0, 1], 1)),
        };
        let liars: Vec<NodeAddr> = (0..6).map(|i| node(i + 1)).collect();
        let mut known = liars.clone();
        known.push(honest);
        let mut l = Lookup::new(
            LookupId(1),
            NodeId([0; 20]),
            LookupKind::FindNode,
            3,
            &known,
            &[],
        );
        let mut serial = 0u32;
        let mut asked_honest = false;
        for _ in 0..10_000 {
            let next = l.next_queries();
            if next.is_empty() {
                break;
            }
            for (id, addr) in next {
                if addr == honest.addr {
                    asked_honest = true;
                    l.on_response(addr, honest.id, &[], &[], None);
                } else if liars.iter().any(|n| n.addr == addr) {
                    // Each answer: fresh nodes, all closer than the honest one.
                    let bogus: Vec<NodeAddr> = (0..MAX_NODES_PER_RESPONSE)
                        .map(|_| {
                            serial += 1;
                            let mut b = [0x10; 20];
                            b[16..].copy_from_slice(&serial.to_be_bytes());
                            NodeAddr {
                                id: NodeId(b),
                                addr: SocketAddr::from(([127, 9, 0, 0], serial as u16)),
                            }
                        })
                        .collect();
                    l.on_response(addr, id.unwrap(), &bogus, &[], None);
                } else {
                    l.on_failure(addr);
                }
                assert!(l.candidates.len() <= MAX_CANDIDATES + known.len());
            }
        }
        assert!(asked_honest, "the honest node was pushed out");
        assert!(l.is_done());
    }
}
