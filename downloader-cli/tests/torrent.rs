//! `swarmget FILE.torrent`, `-T FILE`, `-S` of a torrent, and a magnet link started from
//! its saved torrent, against an in-process seeder and tracker on loopback.

mod common;

use std::time::Duration;

use common::{TempDir, assert_download, run, swarmget};
use swarmget_test_support::{
    DnsServer, HttpServer, Seeder, ServerConfig, Tracker, make_torrent, make_v2_torrent,
};

const LIMIT: Duration = Duration::from_secs(60);
const PIECE: u64 = 32 << 10;

fn body() -> Vec<u8> {
    (0..200_000u32)
        .map(|i| (i.wrapping_mul(31) >> 3) as u8)
        .collect()
}

/// A seeder of `x.bin`, a tracker naming it, and `x.torrent` in `dir`.
fn swarm(dir: &TempDir) -> (Seeder, Tracker, String) {
    let body = body();
    let seeder = Seeder::start(
        &make_torrent("x.bin", &[], &body, PIECE, None),
        body.clone(),
    );
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("x.bin", &[], &body, PIECE, Some(&tracker.url()));
    let path = dir.join("x.torrent");
    std::fs::write(&path, torrent).unwrap();
    (seeder, tracker, path.display().to_string())
}

#[test]
fn a_torrent_argument_is_downloaded_from_its_swarm() {
    let dir = TempDir::new("torrent-arg");
    let (_seeder, tracker, path) = swarm(&dir);
    let out = dir.join("out");
    run(
        swarmget(dir.path())
            .args(["--listen-port=0", "--seed-time=0", "-d"])
            .arg(&out)
            .arg(&path),
        LIMIT,
    )
    .expect_code(0);
    assert_download(&out.join("x.bin"), &body());
    assert_eq!(tracker.announces()[0]["event"], "started");
}

#[test]
fn interface_binds_peer_and_tracker_connections_too() {
    let dir = TempDir::new("torrent-interface");
    let (seeder, tracker, path) = swarm(&dir);
    let out = dir.join("out");
    run(
        swarmget(dir.path())
            .args([
                "--listen-port=0",
                "--seed-time=0",
                "--interface=127.0.0.2",
                "-d",
            ])
            .arg(&out)
            .arg(&path),
        LIMIT,
    )
    .expect_code(0);
    assert_download(&out.join("x.bin"), &body());
    let ips: Vec<_> = seeder.peers().iter().map(|p| p.ip()).collect();
    assert!(!ips.is_empty());
    assert!(
        ips.iter()
            .all(|ip| *ip == std::net::IpAddr::from([127, 0, 0, 2])),
        "{ips:?}"
    );
    assert_eq!(tracker.sources()[0], std::net::IpAddr::from([127, 0, 0, 2]));
}

/// The tracker's host is a name only the test's DNS server knows: announces resolve it
/// through `--async-dns-server` as downloads do.
#[test]
fn async_dns_server_resolves_tracker_names_too() {
    let dir = TempDir::new("torrent-dns");
    let body = body();
    let seeder = Seeder::start(
        &make_torrent("x.bin", &[], &body, PIECE, None),
        body.clone(),
    );
    let tracker = Tracker::start(vec![seeder.addr()]);
    let dns = DnsServer::start(&[("tracker.swarmget.test", [127, 0, 0, 1].into())]).unwrap();
    let port = tracker
        .url()
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let url = format!("http://tracker.swarmget.test:{port}/announce");
    let path = dir.join("x.torrent");
    std::fs::write(&path, make_torrent("x.bin", &[], &body, PIECE, Some(&url))).unwrap();
    let out = dir.join("out");
    run(
        swarmget(dir.path())
            .args(["--listen-port=0", "--seed-time=0", "-d"])
            .arg(&out)
            .arg(format!("--async-dns-server={}", dns.addr()))
            .arg(&path),
        LIMIT,
    )
    .expect_code(0);
    assert_download(&out.join("x.bin"), &body);
    assert!(dns.asked().contains(&"tracker.swarmget.test".to_string()));
    assert_eq!(tracker.announces()[0]["event"], "started");
}

#[test]
fn dash_t_downloads_the_torrent_and_takes_uris_beside_it_as_web_seeds() {
    let dir = TempDir::new("torrent-t");
    let (_seeder, _tracker, path) = swarm(&dir);
    let out = dir.join("out");
    run(
        swarmget(dir.path())
            .args(["--listen-port=0", "--seed-time=0", "-d"])
            .arg(&out)
            .arg("-T")
            .arg(&path),
        LIMIT,
    )
    .expect_code(0);
    assert_download(&out.join("x.bin"), &body());
    // A torrent with no tracker and no peer: the URI beside -T is its only source.
    let alone = dir.join("alone.torrent");
    std::fs::write(&alone, make_torrent("x.bin", &[], &body(), PIECE, None)).unwrap();
    let server = HttpServer::start(ServerConfig::new().file("/x.bin", body())).unwrap();
    let seeded = dir.join("seeded");
    run(
        swarmget(dir.path())
            .args([
                "--listen-port=0",
                "--seed-time=0",
                "--enable-dht=false",
                "-d",
            ])
            .arg(&seeded)
            .arg("-T")
            .arg(&alone)
            .arg(server.url("/x.bin")),
        LIMIT,
    )
    .expect_code(0);
    assert_download(&seeded.join("x.bin"), &body());
    assert!(!server.requests_for("/x.bin").is_empty());
    // Web seeds are fetched over HTTP(S) and FTP only: another scheme is refused, not
    // unused.
    let refused = run(
        swarmget(dir.path()).args(["-T", &path, "sftp://127.0.0.1:9/x.bin"]),
        LIMIT,
    );
    refused.expect_code(28);
    assert!(
        refused
            .stderr
            .contains("web seeds must be http, https or ftp URLs"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_corrupt_torrent_file_is_refused_with_code_26() {
    let dir = TempDir::new("torrent-bad");
    let path = dir.join("bad.torrent");
    std::fs::write(&path, b"d4:infod4:name1:xee").unwrap();
    let r = run(swarmget(dir.path()).arg(&path), LIMIT);
    r.expect_code(26);
    assert!(r.stderr.contains("bad torrent"), "{}", r.stderr);
}

#[test]
fn a_v2_only_torrent_is_refused_with_code_26() {
    let dir = TempDir::new("torrent-v2");
    let path = dir.join("v2.torrent");
    std::fs::write(&path, make_v2_torrent("v.bin", &body(), PIECE, None, false)).unwrap();
    let r = run(swarmget(dir.path()).arg(&path), LIMIT);
    r.expect_code(26);
    assert!(r.stderr.contains("v2-only"), "{}", r.stderr);
    assert!(!dir.join("v.bin").exists());
}

#[test]
fn show_files_prints_the_torrent() {
    let dir = TempDir::new("torrent-show");
    let (_seeder, _tracker, path) = swarm(&dir);
    let r = run(swarmget(dir.path()).args(["-S", &path]), LIMIT);
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("*** BitTorrent File Information ***\nMode: single\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("  1|./x.bin\n   |195KiB (200,000)\n"),
        "{}",
        r.stdout
    );
}

/// `--bt-load-saved-metadata`: a magnet link naming only the info-hash (no tracker, no
/// peer, DHT off) starts from `DIR/HASH.torrent` when it is there, so the saved
/// torrent's tracker brings the seeder. Ignored, the link would have no source at all
/// and wait for metadata until killed.
#[test]
fn bt_load_saved_metadata_starts_a_magnet_link_from_its_saved_torrent() {
    let dir = TempDir::new("torrent-saved-metadata");
    let (_seeder, tracker, path) = swarm(&dir);
    let torrent = std::fs::read(&path).unwrap();
    let hash = swarmget_engine::Torrent::parse(&torrent)
        .unwrap()
        .info_hash();
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join(format!("{hex}.torrent")), &torrent).unwrap();
    run(
        swarmget(dir.path())
            .args([
                "--listen-port=0",
                "--seed-time=0",
                "--enable-dht=false",
                "--bt-load-saved-metadata",
                "-d",
            ])
            .arg(&out)
            .arg(format!("magnet:?xt=urn:btih:{hex}")),
        LIMIT,
    )
    .expect_code(0);
    assert_download(&out.join("x.bin"), &body());
    assert_eq!(tracker.announces()[0]["event"], "started");
}
