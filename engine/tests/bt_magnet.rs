//! Magnet links: a swarmget seeder of a torrent gives a swarmget magnet leecher the
//! metadata (BEP 9) and then the content, the peers found through an in-process DHT
//! node or named by the link's `x.pe`.

mod common;

use std::net::SocketAddr;

use common::{Batch, Dir, bt_opts, eventually, torrent_data};
use swarmget_engine::{
    DownloadSpec, DownloadState, DownloadStatus, Event, Gid, MagnetLink, Options, Torrent,
};
use swarmget_test_support::{DhtNode, make_torrent, sha256_hex};

const PIECE: u64 = 32 << 10;

/// A free TCP port on loopback (bound and let go: the engine binds it next).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Options with the DHT joined through `node` (or off), its table in `dir`.
fn opts(dir: &std::path::Path, node: Option<&DhtNode>) -> Options {
    let mut o = bt_opts(dir);
    o.dht.enable = node.is_some();
    o.dht.listen_port = vec![0];
    o.dht.entry_point = node.map(|n| n.addr().into());
    o.dht.file_path = Some(dir.join("dht.dat"));
    o
}

/// A swarmget engine seeding `torrent` (its data written to `dir` beforehand).
fn seeder(torrent: &[u8], body: &[u8], dir: &std::path::Path, mut o: Options) -> Batch {
    for f in &Torrent::parse(torrent).unwrap().metainfo().info.files {
        let mut path = dir.to_path_buf();
        path.extend(&f.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let range = f.offset as usize..(f.offset + f.length) as usize;
        std::fs::write(path, &body[range]).unwrap();
    }
    o.seed_time = None;
    o.seed_ratio = 0.0;
    o.bt_seed_unverified = true;
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::torrent(Torrent::parse(torrent).unwrap(), o));
    batch
}

/// A seeder without DHT on a known port, once it listens (a refused connection would
/// be tried again only after 30 s); returns it and the port.
fn listening_seeder(torrent: &[u8], body: &[u8], dir: &std::path::Path) -> (Batch, u16) {
    let port = free_port();
    let mut o = opts(dir, None);
    o.listen_port = vec![port];
    let batch = seeder(torrent, body, dir, o);
    eventually("the seeder listening", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (batch, port)
}

fn link(info_hash: [u8; 20], peers: Vec<SocketAddr>) -> MagnetLink {
    MagnetLink {
        info_hash,
        name: Some("from the link".into()),
        trackers: Vec::new(),
        peers,
        peer_names: Vec::new(),
        length: None,
        keywords: None,
        web_seeds: Vec::new(),
    }
}

/// Waits for `gid` to stop and returns its status.
fn stopped(batch: &mut Batch, gid: Gid) -> DownloadStatus {
    batch.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) | Event::Stop(g) if *g == gid),
    );
    batch.handle.tell_status(gid).unwrap()
}

#[test]
fn a_magnet_link_with_only_an_info_hash_downloads_through_the_dht() {
    let (dir_s, dir_l) = (Dir::new("magnet-dht-s"), Dir::new("magnet-dht-l"));
    let body = torrent_data(300_000, 3);
    let torrent = make_torrent("m.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
    let node = DhtNode::start();
    let _seeder = seeder(&torrent, &body, &dir_s.0, opts(&dir_s.0, Some(&node)));
    eventually("the seeder's DHT announce", || {
        node.announces().iter().any(|(h, _)| *h == info_hash)
    });

    let o = opts(&dir_l.0, Some(&node));
    let mut leecher = Batch::new(&o);
    let gid = leecher.add(DownloadSpec::magnet(link(info_hash, Vec::new()), o));
    let before = leecher.handle.tell_status(gid).unwrap();
    let bt = before
        .bittorrent
        .as_ref()
        .expect("a metadata download's bittorrent");
    assert_eq!(bt.info_hash, hex(&info_hash));
    assert_eq!(bt.name, "[METADATA]from the link");
    let st = stopped(&mut leecher, gid);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    // aria2's shape: the metadata download is followed by the torrent download.
    let [follower] = st.followed_by[..] else {
        panic!("followed by {:?}", st.followed_by)
    };
    let st = stopped(&mut leecher, follower);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(st.following, Some(gid));
    assert_eq!(st.bittorrent.as_ref().unwrap().name, "m.bin");
    // The torrent download knows where the metadata download's peers came from.
    assert!(
        st.bittorrent.as_ref().unwrap().peer_origins.dht >= 1,
        "{st:?}"
    );
    let got = std::fs::read(dir_l.0.join("m.bin")).unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&body));
    let magnet = leecher.handle.tell_status(gid).unwrap().magnet.unwrap();
    assert!(magnet.origins.dht >= 1, "{magnet:?}");
    assert!(
        !dir_l
            .0
            .join(format!("{}.torrent", hex(&info_hash)))
            .exists()
    );
}

#[test]
fn metadata_only_saves_the_torrent_from_an_x_pe_peer() {
    let (dir_s, dir_l) = (Dir::new("magnet-xpe-s"), Dir::new("magnet-xpe-l"));
    let body = torrent_data(100_000, 4);
    let torrent = make_torrent("x.bin", &[("a", 60_000), ("b", 40_000)], &body, PIECE, None);
    let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
    let (_seeder, port) = listening_seeder(&torrent, &body, &dir_s.0);

    let mut o = opts(&dir_l.0, None);
    o.set("bt-metadata-only", "true").unwrap();
    o.set("bt-save-metadata", "true").unwrap();
    let mut leecher = Batch::new(&o);
    let peer = SocketAddr::from(([127, 0, 0, 1], port));
    let gid = leecher.add(DownloadSpec::magnet(link(info_hash, vec![peer]), o));
    let st = stopped(&mut leecher, gid);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert!(st.followed_by.is_empty(), "{st:?}");
    assert_eq!(st.magnet.unwrap().origins.magnet, 1);
    let saved = std::fs::read(dir_l.0.join(format!("{}.torrent", hex(&info_hash)))).unwrap();
    let t = Torrent::parse(&saved).unwrap();
    assert_eq!(t.info_hash(), info_hash);
    assert_eq!(t.metainfo().info.files.len(), 2);
    // Nothing of the content was written.
    assert!(!dir_l.0.join("x.bin").exists());
}

/// An `x.pe` host name is looked up by the engine's resolver (here the test's own DNS
/// server, through `--async-dns-server`) and every address of it becomes a peer; a
/// name that does not resolve is told as a notice and the other peers carry on.
#[test]
fn x_pe_host_names_are_resolved_into_peers() {
    use swarmget_test_support::DnsServer;
    let (dir_s, dir_l) = (Dir::new("magnet-xpe-name-s"), Dir::new("magnet-xpe-name-l"));
    let body = torrent_data(80_000, 6);
    let torrent = make_torrent("n.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
    let (_seeder, port) = listening_seeder(&torrent, &body, &dir_s.0);
    let dns = DnsServer::start(&[("seed.test", [127, 0, 0, 1].into())]).unwrap();

    let mut o = opts(&dir_l.0, None);
    o.async_dns_server = vec![dns.addr()];
    let mut leecher = Batch::new(&o);
    let mut l = link(info_hash, Vec::new());
    l.peer_names = vec![("seed.test".into(), port), ("nowhere.test".into(), 1)];
    let gid = leecher.add(DownloadSpec::magnet(l, o));
    let st = stopped(&mut leecher, gid);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(st.magnet.unwrap().origins.magnet, 1);
    let [follower] = st.followed_by[..] else {
        panic!("followed by {:?}", st.followed_by)
    };
    let st = stopped(&mut leecher, follower);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(st.bittorrent.unwrap().peer_origins.magnet, 1);
    let got = std::fs::read(dir_l.0.join("n.bin")).unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&body));
    let asked = dns.asked();
    assert!(asked.iter().any(|n| n == "seed.test"), "{asked:?}");
    leecher.wait_event(
        0,
        |e| matches!(e, Event::Notice(g, m) if *g == gid && m.contains("cannot resolve nowhere.test")),
    );
}

fn hex(h: &[u8; 20]) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn lying_and_oversized_metadata_peers_are_dropped_and_an_honest_one_finishes() {
    use std::sync::mpsc::channel;
    use swarmget_test_support::{MetadataBehaviour, MetadataPeer};
    let dir = Dir::new("magnet-liars");
    let body = torrent_data(50_000, 5);
    let torrent = make_torrent("l.bin", &[], &body, PIECE, None);
    let parsed = Torrent::parse(&torrent).unwrap();
    let (info_hash, info) = (parsed.info_hash(), parsed.metainfo().info_bytes.clone());
    let (done_tx, done_rx) = channel();
    let liar = MetadataPeer::start(
        info_hash,
        info.clone(),
        MetadataBehaviour::Liar,
        Some(done_tx.clone()),
    );
    let huge = MetadataPeer::start(
        info_hash,
        info.clone(),
        MetadataBehaviour::Size(100 << 20),
        Some(done_tx),
    );
    // The honest peer says what it has only once the other two were dropped, so the
    // liar is certainly asked first.
    let (gate_tx, gate_rx) = channel();
    std::thread::spawn(move || {
        let _ = (done_rx.recv(), done_rx.recv());
        let _ = gate_tx.send(());
    });
    let honest = MetadataPeer::start(
        info_hash,
        info,
        MetadataBehaviour::Honest {
            gate: Some(gate_rx),
        },
        None,
    );
    let mut o = opts(&dir.0, None);
    o.set("bt-metadata-only", "true").unwrap();
    o.set("bt-save-metadata", "true").unwrap();
    let mut leecher = Batch::new(&o);
    let peers = vec![liar.addr(), huge.addr(), honest.addr()];
    let gid = leecher.add(DownloadSpec::magnet(link(info_hash, peers), o));
    let st = stopped(&mut leecher, gid);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    let notices: Vec<&String> = leecher
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::Notice(g, m) if *g == gid => Some(m),
            _ => None,
        })
        .collect();
    let liar_said = format!("metadata from {} does not match the info-hash", liar.addr());
    assert!(
        notices.iter().any(|m| m.contains(&liar_said)),
        "{notices:?}"
    );
    let huge_said = format!("peer {}: ", huge.addr());
    assert!(
        notices
            .iter()
            .any(|m| m.starts_with(&huge_said) && m.contains("104857600")),
        "{notices:?}"
    );
    assert_eq!(liar.served(), 1, "the liar is asked once and never again");
    assert_eq!(honest.served(), 1);
    let saved = std::fs::read(dir.0.join(format!("{}.torrent", hex(&info_hash)))).unwrap();
    assert_eq!(Torrent::parse(&saved).unwrap().info_hash(), info_hash);
}

#[test]
fn metadata_describing_another_length_than_xl_fails_the_download() {
    use swarmget_test_support::{MetadataBehaviour, MetadataPeer};
    let dir = Dir::new("magnet-xl");
    let body = torrent_data(50_000, 6);
    let torrent = make_torrent("xl.bin", &[], &body, PIECE, None);
    let parsed = Torrent::parse(&torrent).unwrap();
    let (info_hash, info) = (parsed.info_hash(), parsed.metainfo().info_bytes.clone());
    let peer = MetadataPeer::start(
        info_hash,
        info,
        MetadataBehaviour::Honest { gate: None },
        None,
    );
    let o = opts(&dir.0, None);
    let mut leecher = Batch::new(&o);
    let mut link = link(info_hash, vec![peer.addr()]);
    link.length = Some(50_001);
    let gid = leecher.add(DownloadSpec::magnet(link, o));
    let st = stopped(&mut leecher, gid);
    let DownloadState::Error(e) = &st.state else {
        panic!("{st:?}")
    };
    assert_eq!(e.code, swarmget_engine::ErrorCode::BtMetainfo);
    assert_eq!(
        e.message,
        "the metadata describes 50000 bytes, the magnet link's xl 50001"
    );
    assert!(st.followed_by.is_empty());
}
