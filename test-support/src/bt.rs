//! An in-process BitTorrent swarm for tests: a seeder serving a torrent's pieces over
//! real loopback TCP (built from bt-wire's codec), and an HTTP tracker answering compact
//! peer lists.
//!
//! The seeder has every piece (and its own peer id, `-TS0001-seeder` and its port in six
//! digits): it answers the handshake with its own, sends a full
//! bitfield and an unchoke, then serves every request. It records the requests it got,
//! can corrupt one chosen piece or all of them (blocks sent with their bytes flipped),
//! can hold its unchoke until another seeder was asked for some blocks, and counts its
//! connections. The tracker records each announce's query string.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

use sha1::{Digest, Sha1};
use swarmget_bt_wire::Metainfo;
use swarmget_bt_wire::metainfo::TorrentBuilder;
use swarmget_bt_wire::wire::{
    BlockRequest, ExtensionHandshake, FrameDecoder, Handshake, Limits, Message,
};

/// A v1 torrent of `files` (paths below `name`, with their bytes laid end to end in
/// `data`) or, with `files` empty, of the single file `name` holding `data`; announcing
/// to `tracker` if given.
pub fn make_torrent(
    name: &str,
    files: &[(&str, u64)],
    data: &[u8],
    piece_len: u64,
    tracker: Option<&str>,
) -> Vec<u8> {
    make_torrent_with_web_seeds(name, files, data, piece_len, tracker, Vec::new())
}

/// [`make_torrent`] with `web_seeds` as its BEP 19 `url-list`.
pub fn make_torrent_with_web_seeds(
    name: &str,
    files: &[(&str, u64)],
    data: &[u8],
    piece_len: u64,
    tracker: Option<&str>,
    web_seeds: Vec<String>,
) -> Vec<u8> {
    let hashes = data
        .chunks(piece_len as usize)
        .map(|c| Sha1::digest(c).into())
        .collect();
    let builder = if files.is_empty() {
        TorrentBuilder::single(name, data.len() as u64, piece_len, hashes)
    } else {
        let files = files
            .iter()
            .map(|(p, l)| (p.split('/').map(str::to_string).collect(), *l))
            .collect();
        TorrentBuilder::multi(name, files, piece_len, hashes)
    };
    let builder = match tracker {
        Some(t) => builder.trackers(vec![vec![t.to_string()]]),
        None => builder,
    };
    builder
        .web_seeds(web_seeds)
        .build()
        .expect("a valid torrent")
}

/// A single-file BEP 52 torrent of `data`: v2 alone (`hybrid` false: a file tree and
/// piece layers, no `pieces`) or hybrid (the v1 `length` and SHA-1 `pieces` too), with
/// `piece_len` a power of two of at least 16 KiB.
pub fn make_v2_torrent(
    name: &str,
    data: &[u8],
    piece_len: u64,
    tracker: Option<&str>,
    hybrid: bool,
) -> Vec<u8> {
    use swarmget_bt_wire::metainfo::merkle::{BLOCK_SIZE, root, zero_subtree_root};
    let blocks_per_piece = piece_len / BLOCK_SIZE;
    let layer: Vec<[u8; 32]> = data
        .chunks(piece_len as usize)
        .map(|piece| {
            let leaves: Vec<[u8; 32]> = piece
                .chunks(BLOCK_SIZE as usize)
                .map(|b| sha2::Sha256::digest(b).into())
                .collect();
            // Every piece's subtree is full width: its missing leaves are zeros.
            let mut padded = leaves;
            padded.resize(blocks_per_piece as usize, [0; 32]);
            root(&padded, [0; 32])
        })
        .collect();
    let pieces_root = if layer.len() == 1 {
        // A file of one piece has no layer: its root is that piece's tree, cut to
        // the blocks it has.
        let leaves: Vec<[u8; 32]> = data
            .chunks(BLOCK_SIZE as usize)
            .map(|b| sha2::Sha256::digest(b).into())
            .collect();
        root(&leaves, [0; 32])
    } else {
        root(&layer, zero_subtree_root(blocks_per_piece))
    };
    let mut e = swarmget_bencode::Encoder::new();
    e.value().dict(|t| {
        if let Some(url) = tracker {
            t.entry(b"announce").str(url);
        }
        t.entry(b"info").dict(|i| {
            i.entry(b"file tree").dict(|tree| {
                tree.entry(name.as_bytes()).dict(|f| {
                    f.entry(b"").dict(|leaf| {
                        leaf.entry(b"length").int(data.len() as i64);
                        leaf.entry(b"pieces root").bytes(&pieces_root);
                    })
                })
            });
            if hybrid {
                i.entry(b"length").int(data.len() as i64);
            }
            i.entry(b"meta version").int(2);
            i.entry(b"name").str(name);
            i.entry(b"piece length").int(piece_len as i64);
            if hybrid {
                let sha1: Vec<u8> = data
                    .chunks(piece_len as usize)
                    .flat_map(|c| <[u8; 20]>::from(Sha1::digest(c)))
                    .collect();
                i.entry(b"pieces").bytes(&sha1);
            }
        });
        if layer.len() > 1 {
            t.entry(b"piece layers")
                .dict(|l| l.entry(&pieces_root).bytes(&layer.concat()));
        }
    });
    e.into_bytes()
}

/// What a seeder saw.
#[derive(Debug, Default)]
pub struct SeederLog {
    requests: Vec<BlockRequest>,
    connections: usize,
    /// Connections that ended (the downloader closed them, or they failed).
    closed: usize,
    /// Each connection's peer address, in accept order.
    peers: Vec<SocketAddr>,
    /// The client names (`v`) of the extension handshakes received.
    agents: Vec<String>,
}

/// How a seeder behaves.
#[derive(Clone, Default)]
pub struct SeederConfig {
    /// Pieces whose blocks go out with every byte flipped: `Some(None)` spoils every
    /// piece, `Some(Some(i))` piece `i` only.
    pub corrupt: Option<Option<u32>>,
    /// Stay choking until this other seeder has been asked for this many blocks (so a
    /// test decides who serves first without a clock).
    pub unchoke_after: Option<(Arc<Mutex<SeederLog>>, usize)>,
    /// After its handshake, announce a `piece` message 4 GiB long and send nothing else.
    pub huge_frame: bool,
}

/// A seeder of one torrent on a loopback port.
pub struct Seeder {
    addr: SocketAddr,
    log: Arc<Mutex<SeederLog>>,
}

impl Seeder {
    /// Serves `data` (the torrent's whole byte space) for `torrent`, honestly.
    pub fn start(torrent: &[u8], data: Vec<u8>) -> Seeder {
        Seeder::with(torrent, data, SeederConfig::default())
    }

    /// A [`SeederConfig::unchoke_after`] waiting for `self` to get `blocks` requests.
    pub fn after(&self, blocks: usize) -> Option<(Arc<Mutex<SeederLog>>, usize)> {
        Some((self.log.clone(), blocks))
    }

    /// Serves `data` for `torrent` as `config` says.
    pub fn with(torrent: &[u8], data: Vec<u8>, config: SeederConfig) -> Seeder {
        let meta = Metainfo::parse(torrent).expect("a valid torrent");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(SeederLog::default()));
        // Each seeder its own id (as real clients), so a downloader that drops a second
        // connection to the same peer id keeps both seeders.
        let mut id = *b"-TS0001-seeder000000";
        id[14..].copy_from_slice(format!("{:06}", addr.port()).as_bytes());
        let shared = Arc::new((meta, data, config, id));
        let l = log.clone();
        thread::spawn(move || {
            for sock in listener.incoming().flatten() {
                {
                    let mut log = l.lock().unwrap();
                    log.connections += 1;
                    log.peers.extend(sock.peer_addr());
                }
                let (l, shared) = (l.clone(), shared.clone());
                thread::spawn(move || {
                    let _ = serve(sock, &shared.0, &shared.1, &shared.2, shared.3, &l);
                    l.lock().unwrap().closed += 1;
                });
            }
        });
        Seeder { addr, log }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every block request received, in order.
    pub fn requests(&self) -> Vec<BlockRequest> {
        self.log.lock().unwrap().requests.clone()
    }

    /// Connections accepted.
    pub fn connections(&self) -> usize {
        self.log.lock().unwrap().connections
    }

    /// Each accepted connection's peer address, in accept order.
    pub fn peers(&self) -> Vec<SocketAddr> {
        self.log.lock().unwrap().peers.clone()
    }

    /// Connections that have ended.
    pub fn closed(&self) -> usize {
        self.log.lock().unwrap().closed
    }

    /// The client names (`v`) the downloaders' extension handshakes gave.
    pub fn agents(&self) -> Vec<String> {
        self.log.lock().unwrap().agents.clone()
    }
}

fn serve(
    mut sock: TcpStream,
    meta: &Metainfo,
    data: &[u8],
    config: &SeederConfig,
    peer_id: [u8; 20],
    log: &Mutex<SeederLog>,
) -> std::io::Result<()> {
    let pieces = meta.info.piece_count() as u32;
    let piece_len = meta.info.piece_length;
    let Some(info_hash) = meta.info_hash else {
        return Ok(());
    };
    let mut hs = [0u8; Handshake::LEN];
    sock.read_exact(&mut hs)?;
    let theirs = Handshake::parse(&hs).ok().flatten();
    if theirs.is_none_or(|h| h.info_hash != info_hash) {
        return Ok(());
    }
    let mut out = Handshake::new(info_hash, peer_id, false).encode().to_vec();
    let mut bits = vec![0u8; pieces.div_ceil(8) as usize];
    for i in 0..pieces {
        bits[(i / 8) as usize] |= 0x80 >> (i % 8);
    }
    if config.huge_frame {
        out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 7]);
        sock.write_all(&out)?;
        // Hold the connection until the downloader drops it.
        let mut sink = [0u8; 1024];
        while sock.read(&mut sink)? > 0 {}
        return Ok(());
    }
    Message::Bitfield(&bits).encode(&mut out);
    sock.write_all(&out)?;
    if let Some((other, blocks)) = &config.unchoke_after {
        while other.lock().unwrap().requests.len() < *blocks {
            thread::sleep(std::time::Duration::from_millis(2));
        }
    }
    out.clear();
    Message::Unchoke.encode(&mut out);
    sock.write_all(&out)?;
    let mut decoder = FrameDecoder::new(Limits::default().with_piece_count(pieces));
    let mut buf = vec![0u8; 64 << 10];
    loop {
        let n = sock.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        decoder.extend(&buf[..n]);
        let mut out = Vec::new();
        while let Some(msg) = decoder.next().map_err(std::io::Error::other)? {
            if let Message::Extended { id: 0, payload } = msg
                && let Ok(hs) = ExtensionHandshake::parse(payload)
            {
                log.lock().unwrap().agents.extend(hs.v);
            }
            let Message::Request(r) = msg else { continue };
            log.lock().unwrap().requests.push(r);
            let start = r.index as u64 * piece_len + u64::from(r.begin);
            let end = start + u64::from(r.length);
            let Some(block) = data.get(start as usize..end as usize) else {
                return Ok(());
            };
            let mut block = block.to_vec();
            if config
                .corrupt
                .is_some_and(|c| c.is_none_or(|i| i == r.index))
            {
                block.iter_mut().for_each(|b| *b ^= 0xff);
            }
            Message::Piece {
                index: r.index,
                begin: r.begin,
                data: &block,
            }
            .encode(&mut out);
        }
        sock.write_all(&out)?;
    }
}

/// An HTTP tracker: it answers with a fixed list of peers, or (in swarm mode) with
/// every peer that announced itself and has not said `stopped`, as a real tracker does.
pub struct Tracker {
    addr: SocketAddr,
    announces: Arc<Mutex<Vec<HashMap<String, String>>>>,
    /// `Some`: the fixed answer; `None`: swarm mode.
    peers: Arc<Mutex<Option<Vec<SocketAddr>>>>,
    /// Where each announce came from.
    from: Arc<Mutex<Vec<std::net::IpAddr>>>,
}

impl Tracker {
    /// A tracker naming `peers` (IPv4) with an interval of 1800 s.
    pub fn start(peers: Vec<SocketAddr>) -> Tracker {
        Tracker::with(Some(peers))
    }

    /// A tracker in swarm mode: each announce is answered with the other peers that
    /// announced (the address the request came from, with its `port`).
    pub fn swarm() -> Tracker {
        Tracker::with(None)
    }

    /// Switches to swarm mode (`None`) or to a fixed answer.
    pub fn set_peers(&self, peers: Option<Vec<SocketAddr>>) {
        *self.peers.lock().unwrap() = peers;
    }

    fn with(peers: Option<Vec<SocketAddr>>) -> Tracker {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let announces = Arc::new(Mutex::new(Vec::new()));
        let peers = Arc::new(Mutex::new(peers));
        let (log, fixed) = (announces.clone(), peers.clone());
        let from = Arc::new(Mutex::new(Vec::new()));
        let from_log = from.clone();
        // The swarm: peer id → address, for peers that have not stopped.
        let mut swarm: Vec<(String, SocketAddr)> = Vec::new();
        thread::spawn(move || {
            for mut sock in listener.incoming().flatten() {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 16 << 10 {
                    if sock.read(&mut byte).unwrap_or(0) == 0 {
                        break;
                    }
                    head.push(byte[0]);
                }
                let line = String::from_utf8_lossy(&head)
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_string();
                let query = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|t| t.split_once('?'))
                    .map(|(_, q)| q.to_string())
                    .unwrap_or_default();
                let fields: HashMap<String, String> = query
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                let id = fields.get("peer_id").cloned().unwrap_or_default();
                swarm.retain(|(p, _)| *p != id);
                let port = fields.get("port").and_then(|p| p.parse::<u16>().ok());
                if let (Some(port), Ok(from)) = (port, sock.peer_addr())
                    && fields.get("event").map(String::as_str) != Some("stopped")
                {
                    swarm.push((id.clone(), SocketAddr::new(from.ip(), port)));
                }
                if let Ok(from) = sock.peer_addr() {
                    from_log.lock().unwrap().push(from.ip());
                }
                log.lock().unwrap().push(fields);
                let answer = fixed.lock().unwrap().clone().unwrap_or_else(|| {
                    swarm
                        .iter()
                        .filter(|(p, _)| *p != id)
                        .map(|(_, a)| *a)
                        .collect()
                });
                let mut compact = Vec::new();
                for p in &answer {
                    if let SocketAddr::V4(v4) = p {
                        compact.extend_from_slice(&v4.ip().octets());
                        compact.extend_from_slice(&v4.port().to_be_bytes());
                    }
                }
                let mut body = format!("d8:intervali1800e5:peers{}:", compact.len()).into_bytes();
                body.extend_from_slice(&compact);
                body.push(b'e');
                let mut resp = format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                resp.extend_from_slice(&body);
                let _ = sock.write_all(&resp);
            }
        });
        Tracker {
            addr,
            announces,
            peers,
            from,
        }
    }

    /// The announce URL.
    pub fn url(&self) -> String {
        format!("http://{}/announce", self.addr)
    }

    /// Each announce's query fields, in order.
    pub fn announces(&self) -> Vec<HashMap<String, String>> {
        self.announces.lock().unwrap().clone()
    }

    /// The address each announce came from, in order.
    pub fn sources(&self) -> Vec<std::net::IpAddr> {
        self.from.lock().unwrap().clone()
    }
}

/// A UDP tracker (BEP 15) on a loopback port answering every announce with the same
/// IPv4 peers, after a connect handshake. It records each announce's event
/// (0 none, 1 completed, 2 started, 3 stopped) and port.
pub struct UdpTrackerServer {
    addr: SocketAddr,
    announces: Arc<Mutex<Vec<(u32, u16)>>>,
}

impl UdpTrackerServer {
    /// A tracker naming `peers`, with an interval of 1800 s.
    pub fn start(peers: Vec<SocketAddr>) -> UdpTrackerServer {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = sock.local_addr().unwrap();
        let announces = Arc::new(Mutex::new(Vec::new()));
        let log = announces.clone();
        const CONNECTION_ID: u64 = 0x5eed_0000_cafe_f00d;
        thread::spawn(move || {
            let mut buf = [0u8; 2048];
            loop {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    return;
                };
                let d = &buf[..n];
                if n < 16 {
                    continue;
                }
                let action = u32::from_be_bytes(d[8..12].try_into().unwrap());
                let tid = &d[12..16];
                let mut out = Vec::new();
                match action {
                    0 if d[..8] == 0x0417_2710_1980u64.to_be_bytes() => {
                        out.extend_from_slice(&0u32.to_be_bytes());
                        out.extend_from_slice(tid);
                        out.extend_from_slice(&CONNECTION_ID.to_be_bytes());
                    }
                    1 if n >= 98 && d[..8] == CONNECTION_ID.to_be_bytes() => {
                        let event = u32::from_be_bytes(d[80..84].try_into().unwrap());
                        let port = u16::from_be_bytes([d[96], d[97]]);
                        log.lock().unwrap().push((event, port));
                        out.extend_from_slice(&1u32.to_be_bytes());
                        out.extend_from_slice(tid);
                        out.extend_from_slice(&1800u32.to_be_bytes());
                        out.extend_from_slice(&0u32.to_be_bytes());
                        out.extend_from_slice(&(peers.len() as u32).to_be_bytes());
                        for p in &peers {
                            if let SocketAddr::V4(v4) = p {
                                out.extend_from_slice(&v4.ip().octets());
                                out.extend_from_slice(&v4.port().to_be_bytes());
                            }
                        }
                    }
                    _ => {
                        out.extend_from_slice(&3u32.to_be_bytes());
                        out.extend_from_slice(tid);
                        out.extend_from_slice(b"bad request");
                    }
                }
                let _ = sock.send_to(&out, from);
            }
        });
        UdpTrackerServer { addr, announces }
    }

    /// The announce URL.
    pub fn url(&self) -> String {
        format!("udp://{}/announce", self.addr)
    }

    /// Each announce's (event, port), in order.
    pub fn announces(&self) -> Vec<(u32, u16)> {
        self.announces.lock().unwrap().clone()
    }
}
