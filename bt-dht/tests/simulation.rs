//! A deterministic simulation of a DHT of 2,000 nodes in one process: a fake network
//! with 5% loss and 10-200 ms latency, a fake clock, a seeded random generator. The nodes
//! join one by one (every 50 ms, so hundreds are joining at once) through node 0 and a
//! random earlier node; then random nodes look up random targets, and some announce a
//! torrent that others then look for.
//!
//! It prints rounds and queries per lookup against log2(n) and fails if lookups stop
//! converging: too few find the node truly closest to their target, the rounds grow
//! past log2(n), or a lookup never ends.
//!
//! `cargo test -p swarmget-bt-dht --test simulation` runs 2,000 nodes (a few seconds in a
//! debug build); `-- --ignored` adds a run of 10,000.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use swarmget_bt_dht::secure_id::secure_id;
use swarmget_bt_dht::{Config, Dht, Event, Family, LookupId, LookupStats, NodeId};

/// splitmix64: small, seeded, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for chunk in out.chunks_mut(8) {
            let word = self.next().to_be_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        out
    }
}

struct Params {
    nodes: usize,
    /// Per mille of datagrams lost.
    loss_per_mille: u64,
    min_latency_ms: u64,
    max_latency_ms: u64,
    join_interval: Duration,
    lookups: usize,
    announcers: usize,
    seekers: usize,
}

struct Packet {
    from: usize,
    to: SocketAddr,
    payload: Vec<u8>,
}

struct Sim {
    rng: Rng,
    params: Params,
    base: Instant,
    now: Duration,
    nodes: Vec<Dht>,
    by_addr: HashMap<SocketAddr, usize>,
    addrs: Vec<SocketAddr>,
    /// (delivery time, sequence) → packet.
    network: BinaryHeap<Reverse<(Duration, u64)>>,
    packets: HashMap<u64, Packet>,
    seq: u64,
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    done: HashMap<(usize, LookupId), (Vec<NodeId>, LookupStats)>,
    peers_found: HashMap<(usize, LookupId), HashSet<SocketAddr>>,
    sent: u64,
    lost: u64,
}

fn addr_of(i: usize) -> SocketAddr {
    // Public addresses, so that BEP 42 applies to every node.
    let ip = Ipv4Addr::new(11, (i >> 16) as u8, (i >> 8) as u8, i as u8);
    SocketAddr::new(IpAddr::V4(ip), 6881)
}

impl Sim {
    fn new(seed: u64, params: Params) -> Self {
        Sim {
            rng: Rng(seed),
            params,
            base: Instant::now(),
            now: Duration::ZERO,
            nodes: Vec::new(),
            by_addr: HashMap::new(),
            addrs: Vec::new(),
            network: BinaryHeap::new(),
            packets: HashMap::new(),
            seq: 0,
            timers: BinaryHeap::new(),
            done: HashMap::new(),
            peers_found: HashMap::new(),
            sent: 0,
            lost: 0,
        }
    }

    fn instant(&self) -> Instant {
        self.base + self.now
    }

    fn add_node(&mut self) -> usize {
        let i = self.nodes.len();
        let addr = addr_of(i);
        let mut config = Config::new(Family::V4);
        config.enforce_node_id = true;
        let id = secure_id(&addr.ip(), self.rng.bytes());
        let dht = Dht::new(config, id, self.rng.bytes(), self.instant());
        self.nodes.push(dht);
        self.addrs.push(addr);
        self.by_addr.insert(addr, i);
        i
    }

    /// Moves what node `i` wants to send onto the network, collects its events and
    /// re-arms its timer.
    fn flush(&mut self, i: usize) {
        while let Some(t) = self.nodes[i].poll_transmit() {
            self.sent += 1;
            if self.rng.below(1000) < self.params.loss_per_mille {
                self.lost += 1;
                continue;
            }
            let span = self.params.max_latency_ms - self.params.min_latency_ms + 1;
            let latency = self.params.min_latency_ms + self.rng.below(span);
            let at = self.now + Duration::from_millis(latency);
            self.seq += 1;
            self.network.push(Reverse((at, self.seq)));
            self.packets.insert(
                self.seq,
                Packet {
                    from: i,
                    to: t.dst,
                    payload: t.payload,
                },
            );
        }
        while let Some(event) = self.nodes[i].poll_event() {
            match event {
                Event::LookupDone {
                    lookup,
                    closest,
                    stats,
                    ..
                } => {
                    let ids = closest.iter().map(|n| n.id).collect();
                    self.done.insert((i, lookup), (ids, stats));
                }
                Event::ExternalAddress { ip } => {
                    assert_eq!(ip, self.addrs[i].ip(), "node {i} misled about its address");
                }
                Event::Peers { lookup, peers, .. } => {
                    self.peers_found
                        .entry((i, lookup))
                        .or_default()
                        .extend(peers);
                }
                // Announces to a node are checked through the lookups that find them.
                Event::Announced { .. } => {}
            }
        }
        if let Some(at) = self.nodes[i].poll_timeout() {
            self.timers.push(Reverse((at, i)));
        }
    }

    /// Runs the network and the timers until `until`.
    fn run_until(&mut self, until: Duration) {
        loop {
            let packet_at = self.network.peek().map(|Reverse((at, _))| *at);
            let timer_at = self
                .timers
                .peek()
                .map(|Reverse((at, _))| at.saturating_duration_since(self.base));
            let next = match (packet_at, timer_at) {
                (Some(p), Some(t)) => p.min(t),
                (Some(p), None) => p,
                (None, Some(t)) => t,
                (None, None) => break,
            };
            if next > until {
                break;
            }
            self.now = self.now.max(next);
            if packet_at == Some(next) {
                let Reverse((_, seq)) = self.network.pop().expect("peeked");
                let packet = self.packets.remove(&seq).expect("queued");
                if let Some(&to) = self.by_addr.get(&packet.to) {
                    let from = self.addrs[packet.from];
                    let now = self.instant();
                    self.nodes[to].handle_datagram(now, from, &packet.payload);
                    self.flush(to);
                }
            } else {
                let Reverse((at, i)) = self.timers.pop().expect("peeked");
                // A timer armed before later work may be stale: act only if it is still
                // the node's deadline.
                if self.nodes[i].poll_timeout() == Some(at) {
                    let now = self.instant();
                    self.nodes[i].handle_timeout(now);
                    self.flush(i);
                }
            }
        }
        self.now = self.now.max(until);
    }

    fn random_node(&mut self) -> usize {
        self.rng.below(self.nodes.len() as u64) as usize
    }

    fn true_closest(&self, target: &NodeId) -> NodeId {
        self.nodes
            .iter()
            .map(|n| n.id())
            .min_by_key(|id| id.distance(target))
            .expect("nodes")
    }
}

struct Report {
    lookups: usize,
    found_closest: usize,
    mean_rounds: f64,
    max_rounds: u32,
    mean_queries: f64,
    seekers_with_peers: usize,
    seekers: usize,
}

fn simulate(seed: u64, params: Params) -> Report {
    let n = params.nodes;
    let mut sim = Sim::new(seed, params);

    // Join one by one through node 0 (the well-known router every client is configured
    // with) and a random earlier node. With only a random earlier node, nodes that joined
    // through a node whose own bootstrap was lost form islands that never merge.
    sim.add_node();
    for i in 1..n {
        let join_at = sim.params.join_interval * i as u32;
        sim.run_until(join_at);
        let entry = sim.addrs[sim.rng.below(i as u64) as usize];
        let new = sim.add_node();
        let now = sim.instant();
        sim.nodes[new]
            .bootstrap(now, &[sim.addrs[0], entry], &[])
            .expect("an entry point");
        sim.flush(new);
    }
    // Long enough for a node whose bootstrap was lost to try again.
    let settle = sim.now + Duration::from_secs(90);
    sim.run_until(settle);
    let sizes: usize = sim.nodes.iter().map(|d| d.table().len()).sum();
    let mean_table = sizes as f64 / n as f64;
    // A node whose bootstrap was lost retries after REBOOTSTRAP_AFTER; give it time.
    for _ in 0..10 {
        if sim
            .nodes
            .iter()
            .all(|d| d.lookups() == 0 && !d.table().is_empty())
        {
            break;
        }
        let later = sim.now + Duration::from_secs(30);
        sim.run_until(later);
    }
    let lonely = sim.nodes.iter().filter(|d| d.table().is_empty()).count();
    assert_eq!(lonely, 0, "nodes with an empty table after joining");
    // BEP 42: the nodes that answered each node told it its address.
    let informed = (0..n)
        .filter(|&i| sim.nodes[i].external_ip() == Some(sim.addrs[i].ip()))
        .count();
    assert!(
        informed * 100 >= n * 99,
        "only {informed} of {n} nodes learned their address"
    );
    let running: usize = sim.nodes.iter().map(Dht::lookups).sum();
    assert_eq!(running, 0, "bootstrap lookups still running");

    // Lookups of random targets from random nodes, all at once.
    let mut started = Vec::new();
    for _ in 0..sim.params.lookups {
        let from = sim.random_node();
        let target = NodeId(sim.rng.bytes());
        let now = sim.instant();
        let id = sim.nodes[from].find_node(now, target).expect("a lookup");
        sim.flush(from);
        started.push((from, id, target));
    }
    let deadline = sim.now + Duration::from_secs(120);
    sim.run_until(deadline);
    let mut found_closest = 0;
    let mut rounds = Vec::new();
    let mut queries = Vec::new();
    for (from, id, target) in &started {
        let (closest, stats) = sim
            .done
            .get(&(*from, *id))
            .unwrap_or_else(|| panic!("lookup {id:?} of node {from} never ended"));
        if closest.first() == Some(&sim.true_closest(target)) {
            found_closest += 1;
        }
        rounds.push(stats.rounds);
        queries.push(stats.queries);
    }

    // Announce one torrent from a few nodes; others look for it.
    let info_hash = NodeId(sim.rng.bytes());
    let mut announcers = HashSet::new();
    for _ in 0..sim.params.announcers {
        let from = sim.random_node();
        announcers.insert(sim.addrs[from]);
        let now = sim.instant();
        sim.nodes[from]
            .announce(now, info_hash, None)
            .expect("an announce");
        sim.flush(from);
    }
    let deadline = sim.now + Duration::from_secs(60);
    sim.run_until(deadline);
    let mut seeking = Vec::new();
    for _ in 0..sim.params.seekers {
        let from = sim.random_node();
        let now = sim.instant();
        let id = sim.nodes[from].get_peers(now, info_hash).expect("a lookup");
        sim.flush(from);
        seeking.push((from, id));
    }
    let deadline = sim.now + Duration::from_secs(60);
    sim.run_until(deadline);
    let mut seekers_with_peers = 0;
    for (from, id) in &seeking {
        assert!(
            sim.done.contains_key(&(*from, *id)),
            "get_peers never ended"
        );
        let found = sim
            .peers_found
            .get(&(*from, *id))
            .cloned()
            .unwrap_or_default();
        assert!(
            found.is_subset(&announcers),
            "a peer nobody announced: {found:?}"
        );
        if !found.is_empty() {
            seekers_with_peers += 1;
        }
    }

    let mean = |v: &[u32]| v.iter().map(|&x| f64::from(x)).sum::<f64>() / v.len() as f64;
    println!("mean routing table after joining: {mean_table:.1} nodes");
    let report = Report {
        lookups: started.len(),
        found_closest,
        mean_rounds: mean(&rounds),
        max_rounds: rounds.iter().copied().max().unwrap_or(0),
        mean_queries: mean(&queries),
        seekers_with_peers,
        seekers: seeking.len(),
    };
    let log2n = (n as f64).log2();
    println!(
        "{n} nodes, {} datagrams ({} lost): {} lookups, {} found the closest node; \
         rounds mean {:.2} max {} (log2 n = {log2n:.1}); queries mean {:.1} \
         ({:.1} per log2 n); get_peers found announced peers in {}/{}",
        sim.sent,
        sim.lost,
        report.lookups,
        report.found_closest,
        report.mean_rounds,
        report.max_rounds,
        report.mean_queries,
        report.mean_queries / log2n,
        report.seekers_with_peers,
        report.seekers,
    );
    report
}

fn assert_converges(n: usize, report: &Report) {
    let log2n = (n as f64).log2();
    assert!(
        report.found_closest * 100 >= report.lookups * 85,
        "only {}/{} lookups found the node closest to their target",
        report.found_closest,
        report.lookups
    );
    assert!(
        report.mean_rounds <= log2n / 2.0,
        "lookups take {:.2} rounds on average; O(log n) allows {:.1}",
        report.mean_rounds,
        log2n / 2.0
    );
    assert!(
        report.mean_queries <= 8.0 * log2n,
        "lookups send {:.1} queries on average; O(log n) allows {:.1}",
        report.mean_queries,
        8.0 * log2n
    );
    assert!(
        report.seekers_with_peers * 100 >= report.seekers * 90,
        "only {}/{} get_peers lookups found the announced peers",
        report.seekers_with_peers,
        report.seekers
    );
}

#[test]
fn two_thousand_nodes_with_loss_and_latency_converge_in_log_n_rounds() {
    let n = 2000;
    let report = simulate(
        0x5eed,
        Params {
            nodes: n,
            loss_per_mille: 50,
            min_latency_ms: 10,
            max_latency_ms: 200,
            join_interval: Duration::from_millis(50),
            lookups: 200,
            announcers: 8,
            seekers: 50,
        },
    );
    assert_converges(n, &report);
}

#[test]
#[ignore = "a larger run (about a minute): cargo test -p swarmget-bt-dht --test simulation -- --ignored"]
fn ten_thousand_nodes_converge_in_log_n_rounds() {
    let n = 10_000;
    let report = simulate(
        0xb16,
        Params {
            nodes: n,
            loss_per_mille: 50,
            min_latency_ms: 10,
            max_latency_ms: 200,
            join_interval: Duration::from_millis(20),
            lookups: 500,
            announcers: 8,
            seekers: 100,
        },
    );
    assert_converges(n, &report);
}
