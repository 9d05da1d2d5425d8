//! aria2's `--bt-*` options on torrent downloads from in-process seeders and trackers:
//! each test fails when its option is ignored.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::{Batch, Dir, assert_err, bt_opts, torrent_data};
use swarmget_engine::{DownloadSpec, DownloadState, ErrorCode, Event, Options, Torrent};
use swarmget_test_support::{Seeder, Tracker, make_torrent};

const PIECE: u64 = 32 << 10;

#[test]
fn bt_max_peers_caps_the_connections() {
    let dir = Dir::new("bt-max-peers");
    let body = torrent_data(200_000, 11);
    let placeholder = make_torrent("p.bin", &[], &body, PIECE, None);
    let a = Seeder::start(&placeholder, body.clone());
    let b = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![a.addr(), b.addr()]);
    let torrent = make_torrent("p.bin", &[], &body, PIECE, Some(&tracker.url()));
    let o = Options {
        bt_max_peers: 1,
        ..bt_opts(&dir.0)
    };
    let (st, _) = common::run_torrent(&torrent, o);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("p.bin")).unwrap(), body);
    assert_eq!(
        a.connections() + b.connections(),
        1,
        "a {} b {} closed {} {}",
        a.connections(),
        b.connections(),
        a.closed(),
        b.closed()
    );
}

#[test]
fn bt_tracker_replaces_excluded_trackers_and_announces_carry_ip_and_prefix() {
    let dir = Dir::new("bt-tracker");
    let body = torrent_data(100_000, 12);
    let placeholder = make_torrent("t.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    // The torrent's own tracker knows no peer; the added one knows the seeder.
    let excluded = Tracker::start(Vec::new());
    let added = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("t.bin", &[], &body, PIECE, Some(&excluded.url()));
    let mut o = bt_opts(&dir.0);
    o.set("bt-exclude-tracker", &excluded.url()).unwrap();
    o.set("bt-tracker", &added.url()).unwrap();
    o.set("bt-external-ip", "192.0.2.7").unwrap();
    o.set("peer-id-prefix", "A2-1-37-0-").unwrap();
    let (st, _) = common::run_torrent(&torrent, o);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert!(excluded.announces().is_empty());
    let announces = added.announces();
    assert_eq!(announces[0]["ip"], "192.0.2.7");
    assert!(
        announces[0]["peer_id"].starts_with("A2-1-37-0-"),
        "{announces:?}"
    );
}

#[test]
fn peer_agent_names_us_in_the_extension_handshake() {
    let dir = Dir::new("bt-peer-agent");
    let body = torrent_data(50_000, 17);
    let placeholder = make_torrent("g.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("g.bin", &[], &body, PIECE, Some(&tracker.url()));
    let mut o = bt_opts(&dir.0);
    o.set("peer-agent", "tester/9").unwrap();
    let (st, _) = common::run_torrent(&torrent, o);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(seeder.agents(), ["tester/9"]);
    let (_, _) = common::run_torrent(&torrent, bt_opts(&Dir::new("bt-peer-agent-default").0));
    assert_eq!(
        seeder.agents()[1],
        concat!("swarmget/", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bt_stop_timeout_stops_a_torrent_that_gets_nothing() {
    let dir = Dir::new("bt-stop-timeout");
    let body = torrent_data(100_000, 13);
    let tracker = Tracker::start(Vec::new());
    let torrent = make_torrent("s.bin", &[], &body, PIECE, Some(&tracker.url()));
    let o = Options {
        bt_stop_timeout: Duration::from_secs(1),
        ..bt_opts(&dir.0)
    };
    let (st, _) = common::run_torrent(&torrent, o);
    assert_err(&st, ErrorCode::Unfinished);
}

#[test]
fn bt_tracker_timeout_ends_an_announce_nobody_answers() {
    let dir = Dir::new("bt-tracker-timeout");
    let body = torrent_data(100_000, 14);
    // Connections complete in the backlog and are never answered.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/announce", silent.local_addr().unwrap());
    let torrent = make_torrent("q.bin", &[], &body, PIECE, Some(&url));
    let o = Options {
        bt_tracker_timeout: Duration::from_secs(1),
        ..bt_opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    let i = batch.wait_event(
        0,
        |e| matches!(e, Event::Notice(_, m) if m.contains("tracker announce failed")),
    );
    let Event::Notice(_, message) = &batch.seen[i] else {
        unreachable!()
    };
    assert!(
        message.contains("no answer within 1 s (--bt-tracker-timeout)"),
        "{message}"
    );
    batch.handle.shutdown().unwrap();
}

#[test]
fn bt_tracker_connect_timeout_ends_a_connection_nobody_accepts() {
    let dir = Dir::new("bt-tracker-connect-timeout");
    let body = torrent_data(100_000, 15);
    // A listener whose accept queue (backlog 0: one connection) is full: further SYNs
    // are dropped and connecting hangs.
    let full = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    full.bind(
        &"127.0.0.1:0"
            .parse::<std::net::SocketAddr>()
            .unwrap()
            .into(),
    )
    .unwrap();
    full.listen(0).unwrap();
    let addr = full.local_addr().unwrap().as_socket().unwrap();
    let _queued: Vec<_> = (0..2)
        .filter_map(|_| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()
        })
        .collect();
    let url = format!("http://{addr}/announce");
    let torrent = make_torrent("r.bin", &[], &body, PIECE, Some(&url));
    let o = Options {
        bt_tracker_connect_timeout: Duration::from_secs(1),
        ..bt_opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    let i = batch.wait_event(
        0,
        |e| matches!(e, Event::Notice(_, m) if m.contains("tracker announce failed")),
    );
    let Event::Notice(_, message) = &batch.seen[i] else {
        unreachable!()
    };
    assert!(
        message.contains("no connection within 1 s (--bt-tracker-connect-timeout)"),
        "{message}"
    );
    batch.handle.shutdown().unwrap();
}

/// Descriptors of this process open on files under `dir`.
fn open_files_under(dir: &std::path::Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|target| target.starts_with(dir))
        .count()
}

#[test]
fn bt_max_open_files_bounds_the_open_files() {
    let dir = Dir::new("bt-max-open-files");
    let files = [
        ("a", 40_000u64),
        ("b", 40_000),
        ("c", 40_000),
        ("d", 40_000),
    ];
    let body = torrent_data(160_000, 16);
    let placeholder = make_torrent("set", &files, &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("set", &files, &body, PIECE, Some(&tracker.url()));
    // Seeding on after the data is whole, so the files stay in use.
    let o = Options {
        bt_max_open_files: 2,
        seed_time: None,
        seed_ratio: 0.0,
        ..bt_opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    batch.wait_event(0, |e| matches!(e, Event::BtComplete(g) if *g == gid));
    assert_eq!(std::fs::read(dir.0.join("set/d")).unwrap(), body[120_000..]);
    let data = dir.0.join("set");
    let open = open_files_under(&data);
    assert!((1..=2).contains(&open), "{open} files open");
    // Fewer at run time (changeGlobalOption): the disk thread closes the rest.
    batch
        .handle
        .change_global_option(vec![("bt-max-open-files".into(), "1".into())])
        .unwrap();
    // Nothing answers the change: look until it shows (ten seconds at most).
    let closed = (0..1000).any(|_| {
        std::thread::sleep(Duration::from_millis(10));
        open_files_under(&data) <= 1
    });
    assert!(closed, "{} files open", open_files_under(&data));
    batch.handle.shutdown().unwrap();
}
