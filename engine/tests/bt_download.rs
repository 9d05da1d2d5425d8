//! Torrent downloads from in-process seeders over loopback TCP, peers found through an
//! in-process HTTP tracker.

mod common;

use common::{Batch, Dir, bt_opts, torrent_data};
use swarmget_engine::{DownloadSpec, DownloadState, Event, Options, Torrent};
use swarmget_test_support::{
    HttpServer, Seeder, SeederConfig, ServerConfig, TestCa, Tracker, UdpTrackerServer,
    make_torrent, make_v2_torrent, sha256_hex,
};

const PIECE: u64 = 32 << 10;

#[test]
fn single_file_torrent_from_one_seeder() {
    let dir = Dir::new("bt-single");
    let body = torrent_data(300_000, 1);
    let placeholder = make_torrent("one.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("one.bin", &[], &body, PIECE, Some(&tracker.url()));
    let (st, _) = common::run_torrent(&torrent, bt_opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    let got = std::fs::read(dir.0.join("one.bin")).unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&body));
    let bt = st.bittorrent.as_ref().expect("bittorrent status");
    assert_eq!(bt.name, "one.bin");
    assert_eq!(bt.mode, "single");
    assert_eq!(st.num_pieces, body.len().div_ceil(PIECE as usize));
    assert!(st.bitfield.as_ref().unwrap().all());
    // Every block came from the seeder exactly once, and the tracker heard `started`.
    assert_eq!(seeder.requests().len(), body.len().div_ceil(16 << 10));
    let announces = tracker.announces();
    assert_eq!(
        announces[0].get("event").map(String::as_str),
        Some("started")
    );
    assert!(announces[0]["peer_id"].starts_with("-SG0001-"));
}

#[test]
fn a_hybrid_torrent_downloads_through_its_v1_half() {
    let dir = Dir::new("bt-hybrid");
    let body = torrent_data(300_000, 5);
    let placeholder = make_v2_torrent("h.bin", &body, PIECE, None, true);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_v2_torrent("h.bin", &body, PIECE, Some(&tracker.url()), true);
    let meta = swarmget_bt_wire::Metainfo::parse(&torrent).unwrap();
    assert!(
        meta.info_hash.is_some() && meta.info_hash_v2.is_some(),
        "hybrid"
    );
    let (st, _) = common::run_torrent(&torrent, bt_opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    let got = std::fs::read(dir.0.join("h.bin")).unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&body));
    let bt = st.bittorrent.as_ref().expect("bittorrent status");
    let v1: String = meta
        .info_hash
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(bt.info_hash, v1, "the swarm is the v1 one");
}

#[test]
fn a_v2_only_torrent_is_refused_as_a_bad_torrent() {
    let body = torrent_data(100_000, 6);
    let v2 = make_v2_torrent("v.bin", &body, PIECE, None, false);
    // A well-formed v2 torrent: refused for its version, not as malformed.
    let meta = swarmget_bt_wire::Metainfo::parse(&v2).unwrap();
    assert!(meta.info_hash.is_none() && meta.info_hash_v2.is_some());
    let err = Torrent::parse(&v2).unwrap_err();
    assert_eq!(err.code, swarmget_engine::ErrorCode::BtMetainfo, "{err:?}");
    assert!(err.message.contains("v2-only"), "{}", err.message);
}

#[test]
fn multi_file_torrent_lands_under_its_name() {
    let dir = Dir::new("bt-multi");
    let files = [
        ("a.txt", 50_000u64),
        ("sub/b.bin", 0),
        ("sub/c.bin", 120_001),
    ];
    let body = torrent_data(170_001, 2);
    let placeholder = make_torrent("set", &files, &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("set", &files, &body, PIECE, Some(&tracker.url()));
    let (st, _) = common::run_torrent(&torrent, bt_opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    let root = dir.0.join("set");
    assert_eq!(std::fs::read(root.join("a.txt")).unwrap(), body[..50_000]);
    assert_eq!(std::fs::read(root.join("sub/b.bin")).unwrap(), b"");
    assert_eq!(
        std::fs::read(root.join("sub/c.bin")).unwrap(),
        body[50_000..]
    );
    assert_eq!(st.files.len(), 3);
    assert_eq!(st.files[2].completed, 120_001);
    assert_eq!(st.bittorrent.unwrap().mode, "multi");
}

#[test]
fn two_seeders_share_the_work_through_a_tiny_disk_cache() {
    let dir = Dir::new("bt-two");
    let body = torrent_data(600_000, 3);
    let placeholder = make_torrent("two.bin", &[], &body, PIECE, None);
    let a = Seeder::start(&placeholder, body.clone());
    let b = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![a.addr(), b.addr()]);
    let torrent = make_torrent("two.bin", &[], &body, PIECE, Some(&tracker.url()));
    // The smallest disk cache (four buffers): reading pauses while blocks wait for the
    // disk and resumes as writes land.
    let o = Options {
        disk_cache: 0,
        ..bt_opts(&dir.0)
    };
    let (st, _) = common::run_torrent(&torrent, o);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("two.bin")).unwrap(), body);
    assert_eq!((a.connections(), b.connections()), (1, 1));
}

#[test]
fn a_peer_sending_bad_pieces_is_charged_banned_and_its_pieces_fetched_again() {
    let dir = Dir::new("bt-corrupt");
    let body = torrent_data(400_000, 4);
    let placeholder = make_torrent("c.bin", &[], &body, PIECE, None);
    // The liar spoils every piece; the honest seeder unchokes only once the liar was
    // asked for four blocks. Requests start two deep and pieces are two blocks, so the
    // liar alone was asked for two whole pieces: two failures, each its own, and the
    // second bans it (which cannot come before the honest seeder unchokes).
    let bad = Seeder::with(
        &placeholder,
        body.clone(),
        SeederConfig {
            corrupt: Some(None),
            ..SeederConfig::default()
        },
    );
    let good = Seeder::with(
        &placeholder,
        body.clone(),
        SeederConfig {
            unchoke_after: bad.after(4),
            ..SeederConfig::default()
        },
    );
    let tracker = Tracker::start(vec![bad.addr(), good.addr()]);
    let torrent = make_torrent("c.bin", &[], &body, PIECE, Some(&tracker.url()));
    let (st, seen) = common::run_torrent(&torrent, bt_opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("c.bin")).unwrap(), body);
    let bad_addr = bad.addr().to_string();
    let notices: Vec<&String> = seen
        .iter()
        .filter_map(|e| match e {
            Event::Notice(_, m) if m.contains(&format!("peer {bad_addr}:")) => Some(m),
            _ => None,
        })
        .collect();
    assert!(notices.len() >= 2, "{seen:?}");
    assert!(notices[0].contains("failed its checksum; fetching it again"));
    assert!(!notices[0].contains("banning"));
    assert!(notices[1].ends_with("; banning this peer"), "{notices:?}");
    // Banned for good: never connected again.
    assert_eq!(bad.connections(), 1);
}

/// Polls `cond` (a hang guard, not a timing assertion: it only bounds a broken run).
fn eventually(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..6000 {
        if cond() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("{what} never happened");
}

#[test]
fn removing_a_torrent_download_tells_the_tracker_it_stopped() {
    let dir = Dir::new("bt-stopped");
    let body = torrent_data(100_000, 5);
    let placeholder = make_torrent("s.bin", &[], &body, PIECE, None);
    // `stingy` never unchokes (it waits for `idle`, whom nobody asks for anything), so
    // the download stays active with one peer until it is removed.
    let idle = Seeder::start(&placeholder, body.clone());
    let stingy = Seeder::with(
        &placeholder,
        body.clone(),
        SeederConfig {
            unchoke_after: idle.after(1),
            ..SeederConfig::default()
        },
    );
    let tracker = Tracker::start(vec![stingy.addr()]);
    let torrent = make_torrent("s.bin", &[], &body, PIECE, Some(&tracker.url()));
    let o = bt_opts(&dir.0);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    eventually("the connection to the seeder", || stingy.connections() == 1);
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.connections, 1, "{st:?}");
    assert_eq!(st.bittorrent.as_ref().unwrap().info_hash.len(), 40);
    batch.handle.remove(gid).unwrap();
    eventually("the stopped announce", || {
        tracker
            .announces()
            .iter()
            .any(|a| a.get("event").map(String::as_str) == Some("stopped"))
    });
    let events: Vec<_> = tracker
        .announces()
        .iter()
        .map(|a| a.get("event").cloned().unwrap_or_default())
        .collect();
    assert_eq!(events, ["started", "stopped"]);
}

#[test]
fn a_peer_announcing_a_4_gib_message_is_dropped() {
    let dir = Dir::new("bt-huge");
    let body = torrent_data(200_000, 6);
    let placeholder = make_torrent("h.bin", &[], &body, PIECE, None);
    let liar = Seeder::with(
        &placeholder,
        body.clone(),
        SeederConfig {
            huge_frame: true,
            ..SeederConfig::default()
        },
    );
    // The liar is the only peer, so the download stays active: the connection can only
    // end because the engine refused the length prefix.
    let tracker = Tracker::start(vec![liar.addr()]);
    let torrent = make_torrent("h.bin", &[], &body, PIECE, Some(&tracker.url()));
    let o = bt_opts(&dir.0);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    eventually("the liar's connection closed", || liar.closed() == 1);
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.state, DownloadState::Active);
    assert_eq!(st.connections, 0, "{st:?}");
    assert!(liar.requests().is_empty());
}

#[test]
fn a_udp_tracker_introduces_the_seeder() {
    let dir = Dir::new("bt-udp");
    let body = torrent_data(150_000, 7);
    let placeholder = make_torrent("u.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = UdpTrackerServer::start(vec![seeder.addr()]);
    let torrent = make_torrent("u.bin", &[], &body, PIECE, Some(&tracker.url()));
    let (st, _) = common::run_torrent(&torrent, bt_opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("u.bin")).unwrap(), body);
    // `started` (2) first, with the port the engine listens on.
    let announces = tracker.announces();
    assert_eq!(announces[0].0, 2, "{announces:?}");
    assert_ne!(announces[0].1, 0);
}

#[test]
fn an_https_tracker_is_checked_with_the_download_s_ca() {
    let dir = Dir::new("bt-https");
    let body = torrent_data(100_000, 8);
    let placeholder = make_torrent("h.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let std::net::SocketAddr::V4(v4) = seeder.addr() else {
        unreachable!("the seeder listens on 127.0.0.1")
    };
    let mut answer = b"d8:intervali1800e5:peers6:".to_vec();
    answer.extend_from_slice(&v4.ip().octets());
    answer.extend_from_slice(&v4.port().to_be_bytes());
    answer.push(b'e');
    let ca = TestCa::new();
    let server =
        HttpServer::start_tls(ServerConfig::new().file("/announce", answer).tls_ca(&ca)).unwrap();
    let torrent = make_torrent("h.bin", &[], &body, PIECE, Some(&server.url("/announce")));
    let ca_path = dir.0.join("ca.pem");
    std::fs::write(&ca_path, ca.cert_pem()).unwrap();
    let o = Options {
        ca_certificate: Some(ca_path),
        ..bt_opts(&dir.0)
    };
    let (st, _) = common::run_torrent(&torrent, o);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("h.bin")).unwrap(), body);
    assert!(
        server.requests_for("/announce")[0]
            .target
            .contains("info_hash=")
    );
}
