//! Torrent peers found through the Mainline DHT: an in-process one-node DHT on loopback
//! is the entry point (`--dht-entry-point`), and the routing table goes to a file in the
//! test's directory (`--dht-file-path`), never to the user's.

mod common;

use std::net::Ipv6Addr;

use common::{Batch, Dir, bt_opts, eventually, run_torrent, torrent_data};
use swarmget_bt_dht::{Family, persist};
use swarmget_engine::options::EntryPoint;
use swarmget_engine::{DownloadSpec, DownloadState, Event, Options, Torrent};
use swarmget_test_support::{DhtNode, DnsServer, Seeder, Tracker, make_torrent, sha256_hex};

const PIECE: u64 = 32 << 10;

fn dht_opts(dir: &std::path::Path, node: Option<&DhtNode>) -> Options {
    let mut o = bt_opts(dir);
    o.dht.listen_port = vec![0];
    o.dht.entry_point = node.map(|n| n.addr().into());
    o.dht.file_path = Some(dir.join("dht.dat"));
    o
}

fn run(torrent: &[u8], o: Options) -> swarmget_engine::DownloadStatus {
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::torrent(Torrent::parse(torrent).unwrap(), o));
    batch.finish().remove(0)
}

#[test]
fn a_torrent_without_trackers_finds_its_seeder_through_the_dht() {
    let dir = Dir::new("dht-find");
    let body = torrent_data(200_000, 7);
    let torrent = make_torrent("dht.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
    let seeder = Seeder::start(&torrent, body.clone());
    let node = DhtNode::start();
    node.add_peer(info_hash, seeder.addr());

    let st = run(&torrent, dht_opts(&dir.0, Some(&node)));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    let got = std::fs::read(dir.0.join("dht.bin")).unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&body));
    let queries = node.queries();
    assert!(queries.iter().any(|q| q == "get_peers"), "{queries:?}");
    // Our listen port was announced to the node that gave the token.
    let announces = node.announces();
    assert!(
        announces
            .iter()
            .any(|(h, a)| *h == info_hash && a.ip().is_loopback() && a.port() != 0),
        "{announces:?}"
    );
    // The table was saved at exit with the node in it, in aria2's format.
    let saved = persist::load(Family::V4, &std::fs::read(dir.0.join("dht.dat")).unwrap())
        .expect("a dht.dat");
    assert!(
        saved.nodes.iter().any(|n| n.addr == node.addr()),
        "{saved:?}"
    );
}

/// A `--dht-entry-point` given by name is looked up by the engine's resolver, off the
/// loop (here through `--async-dns-server`, so the test's own DNS server is the one
/// asked), and the node joins through the answer.
#[test]
fn a_named_entry_point_is_resolved_and_joined_through() {
    let dir = Dir::new("dht-named");
    let body = torrent_data(100_000, 8);
    let torrent = make_torrent("named.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
    let seeder = Seeder::start(&torrent, body.clone());
    let node = DhtNode::start();
    node.add_peer(info_hash, seeder.addr());
    let dns = DnsServer::start(&[("dht-entry.test", [127, 0, 0, 1].into())]).unwrap();

    let mut o = dht_opts(&dir.0, None);
    o.dht.entry_point = Some(EntryPoint {
        host: "dht-entry.test".into(),
        port: node.addr().port(),
    });
    o.async_dns_server = vec![dns.addr()];
    let st = run(&torrent, o);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    let got = std::fs::read(dir.0.join("named.bin")).unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&body));
    assert!(
        dns.asked().iter().any(|n| n == "dht-entry.test"),
        "{:?}",
        dns.asked()
    );
    assert!(node.queries().iter().any(|q| q == "get_peers"));
}

/// The routing table file is read on the disk thread: while it cannot be read (a FIFO
/// whose reader waits for data) the loop still answers, and once the read ends (an
/// empty file, not a table) the DHT starts without it and the torrent downloads.
#[test]
fn a_stuck_table_file_leaves_the_loop_answering() {
    let dir = Dir::new("dht-stuck");
    let body = torrent_data(100_000, 10);
    let torrent = make_torrent("t.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
    let seeder = Seeder::start(&torrent, body.clone());
    let node = DhtNode::start();
    node.add_peer(info_hash, seeder.addr());
    let o = dht_opts(&dir.0, Some(&node));
    let fifo = o.dht.file_path.clone().unwrap();
    common::mkfifo(&fifo);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    let writer = common::hold_fifo(&fifo);
    let st = common::status_while_blocked(&batch.handle, gid);
    assert_eq!(st.state, DownloadState::Active);
    assert!(node.queries().is_empty(), "{:?}", node.queries());
    drop(writer);
    let st = batch.finish().remove(0);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(
        sha256_hex(&std::fs::read(dir.0.join("t.bin")).unwrap()),
        sha256_hex(&body)
    );
}

#[test]
fn the_saved_table_is_where_the_next_run_starts() {
    let dir = Dir::new("dht-saved");
    let body = torrent_data(70_000, 8);
    let torrent = make_torrent("again.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
    let seeder = Seeder::start(&torrent, body.clone());
    let node = DhtNode::start();
    node.add_peer(info_hash, seeder.addr());
    // A table naming the node, as a previous run would have left it; no entry point.
    let table = persist::save(
        Family::V4,
        &swarmget_bt_dht::NodeId([1; 20]),
        &[swarmget_bt_dht::NodeAddr {
            id: swarmget_bt_dht::NodeId([0x77; 20]),
            addr: node.addr(),
        }],
        0,
    );
    std::fs::write(dir.0.join("dht.dat"), table).unwrap();
    let st = run(&torrent, dht_opts(&dir.0, None));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert!(node.queries().iter().any(|q| q == "get_peers"));
}

/// Twenty nodes answer every `find_node` and `get_peers` with a flood of bogus nodes
/// (addresses where nothing runs) and bogus peers (each answer new ones); one honest
/// node, closest to the info-hash, names the seeder. The lookups end (the last one's
/// `announce_peer` reaches the honest node) and the download finishes from the seeder.
/// The bounds themselves (a lookup's candidates, the starting nodes kept, a torrent's
/// known peers) are unit tests of bt-dht's lookup and of the engine's swarm.
#[test]
fn floods_of_bogus_nodes_and_peers_leave_the_lookup_and_the_download_going() {
    use swarmget_test_support::DhtLiar;
    let dir = Dir::new("dht-liars");
    let body = torrent_data(90_000, 12);
    let torrent = make_torrent("liars.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
    let seeder = Seeder::start(&torrent, body.clone());
    let node = DhtNode::start_as("127.0.0.1:0", swarmget_bt_dht::NodeId(info_hash));
    node.add_peer(info_hash, seeder.addr());
    let liars = DhtLiar::start(20);
    let mut known = vec![swarmget_bt_dht::NodeAddr {
        id: swarmget_bt_dht::NodeId(info_hash),
        addr: node.addr(),
    }];
    known.extend_from_slice(liars.nodes());
    // Our id next to the info-hash: the honest node is the closest to both the join's
    // target and the torrent's, the liars' answers crowd around it.
    let mut own = info_hash;
    own[19] ^= 1;
    let table = persist::save(Family::V4, &swarmget_bt_dht::NodeId(own), &known, 0);
    std::fs::write(dir.0.join("dht.dat"), table).unwrap();
    let mut o = dht_opts(&dir.0, None);
    // Bogus nodes never answer: each costs one timeout.
    o.set("dht-message-timeout", "1").unwrap();
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    batch.wait_event(0, |e| *e == Event::BtComplete(gid));
    let got = std::fs::read(dir.0.join("liars.bin")).unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&body));
    common::eventually(
        "the lookup to end with an announce to the honest node",
        || node.announces().iter().any(|(h, _)| *h == info_hash),
    );
    // The liars were asked (the join asks every node of the table); whatever bogus
    // peers their get_peers answers brought, the torrent keeps at most 2,000.
    assert!(liars.answers() >= 1);
    let st = batch.handle.tell_status(gid).unwrap();
    let dht_peers = st.bittorrent.unwrap().peer_origins.dht;
    assert!(
        (1..=2000).contains(&dht_peers),
        "{dht_peers} peers from the DHT"
    );
    batch.handle.shutdown().unwrap();
}

#[test]
fn with_enable_dht_false_the_dht_is_never_asked() {
    let dir = Dir::new("dht-off");
    let body = torrent_data(70_000, 9);
    let placeholder = make_torrent("off.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("off.bin", &[], &body, PIECE, Some(&tracker.url()));
    let node = DhtNode::start();
    let mut o = dht_opts(&dir.0, Some(&node));
    o.set("enable-dht", "false").unwrap();
    let st = run(&torrent, o);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(node.queries(), Vec::<String>::new());
    assert!(!dir.0.join("dht.dat").exists());
}

#[test]
fn a_private_torrent_never_uses_the_dht() {
    let dir = Dir::new("dht-private");
    let body = torrent_data(70_000, 10);
    let hashes: Vec<[u8; 20]> = body
        .chunks(PIECE as usize)
        .map(|c| {
            use sha1::Digest;
            sha1::Sha1::digest(c).into()
        })
        .collect();
    let private = |tracker: Option<String>| {
        let b = swarmget_bt_wire::metainfo::TorrentBuilder::single(
            "p.bin",
            body.len() as u64,
            PIECE,
            hashes.clone(),
        )
        .private(true);
        match tracker {
            Some(t) => b.trackers(vec![vec![t]]),
            None => b,
        }
        .build()
        .unwrap()
    };
    let seeder = Seeder::start(&private(None), body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = private(Some(tracker.url()));
    let node = DhtNode::start();
    let st = run(&torrent, dht_opts(&dir.0, Some(&node)));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(node.queries(), Vec::<String>::new());
}

#[test]
fn the_ipv6_dht_and_the_listen_port_follow_their_options() {
    let dir = Dir::new("dht-six");
    let body = torrent_data(70_000, 13);
    let placeholder = make_torrent("six.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("six.bin", &[], &body, PIECE, Some(&tracker.url()));
    let node4 = DhtNode::start();
    let node6 = DhtNode::start_on("[::1]:0");
    let port = std::net::UdpSocket::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = dht_opts(&dir.0, Some(&node4));
    o.set("dht-listen-port", &port.to_string()).unwrap();
    o.set("enable-dht6", "true").unwrap();
    o.set("dht-entry-point6", &node6.addr().to_string())
        .unwrap();
    o.set("dht-file-path6", dir.0.join("dht6.dat").to_str().unwrap())
        .unwrap();
    let st = run(&torrent, o);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    // Each family's node was asked from --dht-listen-port, and the IPv6 table saved.
    let from4 = node4.sources();
    assert!(
        !from4.is_empty() && from4.iter().all(|a| a.port() == port),
        "{from4:?}"
    );
    let from6 = node6.sources();
    assert!(
        !from6.is_empty() && from6.iter().all(|a| a.is_ipv6()),
        "{from6:?}"
    );
    let saved = persist::load(Family::V6, &std::fs::read(dir.0.join("dht6.dat")).unwrap())
        .expect("a dht6.dat");
    assert!(
        saved.nodes.iter().any(|n| n.addr == node6.addr()),
        "{saved:?}"
    );
}

#[test]
fn a_krpc_flood_does_not_stop_the_download() {
    use swarmget_bt_dht::krpc::{Body, Message, Query, QueryKind, Want};
    let dir = Dir::new("dht-flood");
    let body = torrent_data(200_000, 14);
    let torrent = make_torrent("flood.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
    let seeder = Seeder::start(&torrent, body.clone());
    let node = DhtNode::start();
    node.add_peer(info_hash, seeder.addr());
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut o = dht_opts(&dir.0, Some(&node));
    o.dht.listen_port = vec![port];
    // 40,000 datagrams from one address as fast as a thread can send them: queries and
    // garbage. Answers to our lookups lost in it are asked for again.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flooding = stop.clone();
    let flood = std::thread::spawn(move || {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut sent = 0u64;
        for i in 0u32..20_000 {
            if flooding.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let query = Message {
                transaction: i.to_be_bytes().to_vec(),
                read_only: false,
                ip: None,
                body: Body::Query(Query {
                    id: swarmget_bt_dht::NodeId([(i % 251) as u8; 20]),
                    want: Want::default(),
                    kind: QueryKind::GetPeers {
                        info_hash: swarmget_bt_dht::NodeId([7; 20]),
                    },
                }),
            };
            let _ = sock.send_to(&query.encode(), ("127.0.0.1", port));
            let _ = sock.send_to(b"d1:y1:qe garbage", ("127.0.0.1", port));
            sent += 2;
        }
        sent
    });
    let st = run(&torrent, o);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = flood.join().unwrap();
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("flood.bin")).unwrap(), body);
    assert!(sent > 1000, "the flood was a flood: {sent} datagrams");
}

/// `--dht-listen-addr6` is the address the IPv6 node binds: an address this host does
/// not have (2001:db8::/32 is documentation's) cannot be bound, so the IPv6 DHT is off
/// with a notice saying why and its entry point is never asked; `::1` binds, and the
/// entry point is asked from there. Ignored, the first would bind the wildcard.
#[test]
fn dht_listen_addr6_is_the_address_the_ipv6_node_binds() {
    let dir = Dir::new("dht-addr6");
    let body = torrent_data(40_000, 15);
    let placeholder = make_torrent("a6.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("a6.bin", &[], &body, PIECE, Some(&tracker.url()));
    for (addr, binds) in [("2001:db8::1", false), ("::1", true)] {
        let node6 = DhtNode::start_on("[::1]:0");
        let mut o = dht_opts(&dir.0, None);
        o.set("enable-dht", "false").unwrap();
        o.set("enable-dht6", "true").unwrap();
        o.set("dht-listen-addr6", addr).unwrap();
        o.set("dht-entry-point6", &node6.addr().to_string())
            .unwrap();
        let _ = std::fs::remove_file(dir.0.join("a6.bin"));
        let (st, events) = run_torrent(&torrent, o);
        assert_eq!(st.state, DownloadState::Complete, "{addr}: {st:?}");
        let refused = events
            .iter()
            .any(|e| matches!(e, Event::Notice(_, m) if m.contains("DHT (V6): cannot bind")));
        assert_eq!(refused, !binds, "{addr}: {events:?}");
        if binds {
            // The node thread may not have taken the query in yet.
            eventually("the IPv6 entry point asked from ::1", || {
                let from6 = node6.sources();
                !from6.is_empty() && from6.iter().all(|a| a.ip() == Ipv6Addr::LOCALHOST)
            });
        } else {
            assert_eq!(node6.sources(), Vec::new(), "{addr}");
        }
    }
}
