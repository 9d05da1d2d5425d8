//! A one-node DHT on a loopback UDP port, for tests that find peers through the DHT:
//! it answers `ping` and `find_node` (it knows no other node), answers `get_peers` with
//! a token and the peers it knows of that info-hash (given by the test or announced to
//! it), and stores `announce_peer`s that carry its token, recording each query.

use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::thread;

use swarmget_bt_dht::NodeId;
use swarmget_bt_dht::krpc::{self, Body, Message, QueryKind, Response};

const TOKEN: &[u8] = b"test-token";

#[derive(Default)]
struct State {
    peers: HashMap<[u8; 20], Vec<SocketAddr>>,
    /// Method names of the queries received, in order.
    queries: Vec<String>,
    /// Where they came from.
    sources: Vec<SocketAddr>,
    /// `announce_peer`s accepted: info-hash and the announced address.
    announces: Vec<([u8; 20], SocketAddr)>,
}

/// The node. It runs until the process ends.
pub struct DhtNode {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl DhtNode {
    /// A node on a free IPv4 loopback port.
    pub fn start() -> DhtNode {
        DhtNode::start_on("127.0.0.1:0")
    }

    /// A node on `addr` (`[::1]:0` for an IPv6 one).
    pub fn start_on(addr: &str) -> DhtNode {
        DhtNode::start_as(addr, NodeId([0x77; 20]))
    }

    /// A node on `addr` answering as node `id`.
    pub fn start_as(addr: &str, id: NodeId) -> DhtNode {
        let sock = UdpSocket::bind(addr).unwrap();
        let addr = sock.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = state.clone();
        serve(sock, move |kind, from| {
            let mut response = Response {
                id,
                ..Response::default()
            };
            let mut s = shared.lock().unwrap();
            s.queries.push(kind.method().to_string());
            s.sources.push(from);
            match kind {
                QueryKind::GetPeers { info_hash } => {
                    response.token = Some(TOKEN.to_vec());
                    response.values = s.peers.get(&info_hash.0).cloned().unwrap_or_default();
                }
                QueryKind::AnnouncePeer {
                    info_hash,
                    port,
                    implied_port,
                    token,
                } if token == TOKEN => {
                    let peer =
                        SocketAddr::new(from.ip(), if implied_port { from.port() } else { port });
                    s.announces.push((info_hash.0, peer));
                    let known = s.peers.entry(info_hash.0).or_default();
                    if !known.contains(&peer) {
                        known.push(peer);
                    }
                }
                QueryKind::AnnouncePeer { .. } => return None,
                _ => {}
            }
            Some(response)
        });
        DhtNode { addr, state }
    }

    /// Its address, for `--dht-entry-point`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Makes `peer` a peer of `info_hash` in `get_peers` answers.
    pub fn add_peer(&self, info_hash: [u8; 20], peer: SocketAddr) {
        self.state
            .lock()
            .unwrap()
            .peers
            .entry(info_hash)
            .or_default()
            .push(peer);
    }

    /// The methods of the queries received, in order.
    pub fn queries(&self) -> Vec<String> {
        self.state.lock().unwrap().queries.clone()
    }

    /// Where the queries came from, in order.
    pub fn sources(&self) -> Vec<SocketAddr> {
        self.state.lock().unwrap().sources.clone()
    }

    /// The `announce_peer`s accepted: info-hash and announced address.
    pub fn announces(&self) -> Vec<([u8; 20], SocketAddr)> {
        self.state.lock().unwrap().announces.clone()
    }
}

/// Lying DHT nodes on loopback UDP ports: each answers every `find_node` and
/// `get_peers` with [`DhtLiar::NODES`] nodes nobody runs (fresh ids, addresses in
/// 127.3.0.0/16 where nothing listens) and, to `get_peers`, [`DhtLiar::PEERS`] peers
/// nobody is (fresh addresses in 127.4.0.0/16, port 9) and a token: a flood of bogus
/// nodes and peers, each answer new ones. They run until the process ends.
pub struct DhtLiar {
    nodes: Vec<swarmget_bt_dht::NodeAddr>,
    answers: Arc<std::sync::atomic::AtomicUsize>,
}

impl DhtLiar {
    /// Nodes per answer (bt-dht's limit per response).
    pub const NODES: usize = 16;
    /// Peers per `get_peers` answer (within a 2,048-byte KRPC message).
    pub const PEERS: usize = 150;

    /// `count` liars, each on a free port of 127.0.0.1.
    pub fn start(count: usize) -> DhtLiar {
        use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
        let answers = Arc::new(AtomicUsize::new(0));
        let serial = Arc::new(AtomicU32::new(1));
        let mut nodes = Vec::new();
        for i in 0..count {
            let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
            // Each its own id, as distinct nodes of a routing table.
            let own = NodeId([0x60 ^ i as u8; 20]);
            nodes.push(swarmget_bt_dht::NodeAddr {
                id: own,
                addr: sock.local_addr().unwrap(),
            });
            let (answers, serial) = (answers.clone(), serial.clone());
            // A fresh address (and id) each time: 127.NET.x.y.
            let fresh = move |net: u8| {
                let n = serial.fetch_add(1, Ordering::Relaxed).to_be_bytes();
                (std::net::Ipv4Addr::new(127, net, n[2], n[3]), n)
            };
            serve(sock, move |kind, _| {
                let mut response = Response {
                    id: own,
                    ..Response::default()
                };
                let lookup = matches!(
                    kind,
                    QueryKind::FindNode { .. } | QueryKind::GetPeers { .. }
                );
                if lookup {
                    answers.fetch_add(1, Ordering::Relaxed);
                    response.nodes = (0..Self::NODES)
                        .map(|_| {
                            let (ip, n) = fresh(3);
                            let mut id = [0x55; 20];
                            id[16..].copy_from_slice(&n);
                            swarmget_bt_dht::NodeAddr {
                                id: NodeId(id),
                                addr: SocketAddr::new(ip.into(), 7),
                            }
                        })
                        .collect();
                }
                if let QueryKind::GetPeers { .. } = kind {
                    response.token = Some(TOKEN.to_vec());
                    response.values = (0..Self::PEERS)
                        .map(|_| SocketAddr::new(fresh(4).0.into(), 9))
                        .collect();
                }
                Some(response)
            });
        }
        DhtLiar { nodes, answers }
    }

    /// Their ids and addresses.
    pub fn nodes(&self) -> &[swarmget_bt_dht::NodeAddr] {
        &self.nodes
    }

    /// How many `find_node` and `get_peers` queries they answered.
    pub fn answers(&self) -> usize {
        self.answers.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Answers each KRPC query arriving on `sock`, on a thread of its own, with what
/// `answer` makes of it (`None`: no reply).
fn serve(
    sock: UdpSocket,
    mut answer: impl FnMut(QueryKind, SocketAddr) -> Option<Response> + Send + 'static,
) {
    thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let Ok(message) = krpc::decode(&buf[..n]) else {
                continue;
            };
            let Body::Query(query) = message.body else {
                continue;
            };
            let Some(response) = answer(query.kind, from) else {
                continue;
            };
            let reply = Message {
                transaction: message.transaction,
                read_only: false,
                ip: Some(from),
                body: Body::Response(response),
            };
            let _ = sock.send_to(&reply.encode(), from);
        }
    });
}
