//! `swarmget scrape`: each tracker's counts for a torrent from a BEP 48 scrape, trackers
//! that cannot answer named with the reason, and aria2-style exit codes.

mod common;

use std::time::Duration;

use common::{RefusingPort, TempDir, run, swarmget};
use swarmget_bt_wire::metainfo::TorrentBuilder;
use swarmget_test_support::{HttpServer, ServerConfig};

const LIMIT: Duration = Duration::from_secs(60);

fn torrent(dir: &TempDir, trackers: Vec<Vec<String>>) -> (String, [u8; 20]) {
    let bytes = TorrentBuilder::single("s.bin", 10, 16384, vec![[7; 20]])
        .trackers(trackers)
        .build()
        .unwrap();
    let hash = swarmget_bt_wire::Metainfo::parse(&bytes)
        .unwrap()
        .info_hash
        .unwrap();
    let path = dir.join("s.torrent");
    std::fs::write(&path, bytes).unwrap();
    (path.to_string_lossy().into_owned(), hash)
}

#[test]
fn each_tracker_s_counts_or_why_it_gave_none() {
    let dir = TempDir::new("scrape-counts");
    let (_, hash) = torrent(&dir, Vec::new());
    let mut body = b"d5:filesd20:".to_vec();
    body.extend_from_slice(&hash);
    body.extend_from_slice(b"d8:completei3e10:downloadedi7e10:incompletei2eeee");
    let server = HttpServer::start(ServerConfig::new().file("/t/scrape", body)).unwrap();
    let refusing = RefusingPort::new();
    let trackers = vec![
        vec![server.url("/t/announce")],
        vec![server.url("/t/a")],
        vec![refusing.url("/announce")],
    ];
    let (path, _) = torrent(&dir, trackers.clone());
    let out = run(swarmget(dir.path()).args(["scrape", &path]), LIMIT);
    out.expect_code(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", out.stdout);
    assert_eq!(
        lines[0],
        format!("{}: 3 seeders, 2 leechers, 7 completed", trackers[0][0])
    );
    assert!(lines[1].contains("cannot be scraped"), "{}", lines[1]);
    assert!(lines[2].starts_with(&trackers[2][0]), "{}", lines[2]);
    // The scrape URL of BEP 48 carried the info-hash.
    let asked = server.requests_for("/t/scrape");
    assert_eq!(asked.len(), 1);
    let encoded = swarmget_bt_wire::tracker::percent_encode(&hash);
    assert_eq!(asked[0].target, format!("/t/scrape?info_hash={encoded}"));
    let json = run(
        swarmget(dir.path()).args(["scrape", "--json", &path]),
        LIMIT,
    );
    json.expect_code(0);
    assert!(
        json.stdout
            .contains(r#""complete":3,"downloaded":7,"incomplete":2"#),
        "{}",
        json.stdout
    );
}

#[test]
fn no_answer_is_exit_6_a_bad_torrent_26_bad_arguments_28() {
    let dir = TempDir::new("scrape-codes");
    let refusing = RefusingPort::new();
    let (path, _) = torrent(&dir, vec![vec![refusing.url("/announce")]]);
    run(swarmget(dir.path()).args(["scrape", &path]), LIMIT).expect_code(6);
    let bad = dir.join("bad.torrent");
    std::fs::write(&bad, b"not bencode").unwrap();
    run(
        swarmget(dir.path()).args(["scrape", &bad.to_string_lossy()]),
        LIMIT,
    )
    .expect_code(26);
    run(swarmget(dir.path()).args(["scrape"]), LIMIT).expect_code(28);
    run(swarmget(dir.path()).args(["scrape", "--x", &path]), LIMIT).expect_code(28);
}
