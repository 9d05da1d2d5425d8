//! Web seeds (BEP 19 `url-list`): torrents whose pieces come from HTTP and FTP servers,
//! alone or beside peers, verified by SHA-1 like a peer's.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Dir, bt_opts, torrent_data};
use swarmget_engine::{DownloadState, DownloadStatus, Event, Options};
use swarmget_test_support::{
    Behaviour, FtpConfig, FtpServer, HttpServer, MetadataBehaviour, MetadataPeer, Seeder,
    ServerConfig, Tracker, make_torrent, make_torrent_with_web_seeds, sha256_hex,
};

const PIECE: u64 = 32 << 10;

/// A multi-file torrent's files (170 001 bytes): a name with a space, an empty file,
/// and a piece across the first and last.
const SET_FILES: [(&str, u64); 3] = [
    ("a b.txt", 50_000),
    ("sub/empty", 0),
    ("sub/c.bin", 120_001),
];

/// `bt_opts`, and a download that receives nothing for a while stops (so a web seed
/// that is never fetched fails the test instead of hanging it).
fn opts(dir: &std::path::Path) -> Options {
    Options {
        bt_stop_timeout: Duration::from_secs(20),
        ..bt_opts(dir)
    }
}

/// `make_torrent`'s torrent with `web_seeds` as its `url-list`.
fn with_web_seeds(
    name: &str,
    files: &[(&str, u64)],
    data: &[u8],
    tracker: Option<&str>,
    web_seeds: Vec<String>,
) -> Vec<u8> {
    make_torrent_with_web_seeds(name, files, data, PIECE, tracker, web_seeds)
}

#[test]
fn a_single_file_torrent_downloads_from_its_web_seed_alone() {
    let dir = Dir::new("ws-single");
    let body = torrent_data(300_000, 11);
    let server =
        HttpServer::start(ServerConfig::new().file("/dist/one.bin", body.clone())).unwrap();
    // A URL ending in '/' names the directory holding the file.
    let torrent = with_web_seeds("one.bin", &[], &body, None, vec![server.url("/dist/")]);
    let (st, _) = common::run_torrent(&torrent, opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(
        sha256_hex(&std::fs::read(dir.0.join("one.bin")).unwrap()),
        sha256_hex(&body)
    );
    assert!(st.bitfield.as_ref().unwrap().all());
    assert_eq!(st.files[0].uris.len(), 1);
    assert_eq!(st.files[0].uris[0].uri, server.url("/dist/one.bin"));
    assert!(
        server
            .requests_for("/dist/one.bin")
            .iter()
            .all(|r| r.range().is_some())
    );
}

#[test]
fn web_seed_connections_follow_split_and_max_connection_per_server() {
    let body = torrent_data(400_000, 17);
    for (s, x, want) in [(5, 1, 1), (5, 3, 3), (2, 3, 2)] {
        let dir = Dir::new(&format!("ws-s{s}-x{x}"));
        let server = HttpServer::start(ServerConfig::new().file("/x.bin", body.clone())).unwrap();
        let torrent = with_web_seeds("x.bin", &[], &body, None, vec![server.url("/x.bin")]);
        let o = Options {
            split: s,
            max_connection_per_server: x,
            ..opts(&dir.0)
        };
        let (st, _) = common::run_torrent(&torrent, o);
        assert_eq!(st.state, DownloadState::Complete, "{st:?}");
        assert_eq!(std::fs::read(dir.0.join("x.bin")).unwrap(), body);
        // Thirteen pieces, claimed one at a time: every connection allowed opens at
        // once, each with a piece to fetch.
        assert_eq!(server.connections(), want, "-s{s} -x{x}");
    }
}

#[test]
fn a_multi_file_torrent_downloads_from_its_web_seed_alone() {
    let dir = Dir::new("ws-multi");
    let body = torrent_data(170_001, 12);
    // Path components are percent-encoded; the server matches the raw request path.
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/seed/set/a%20b.txt", body[..50_000].to_vec())
            .file("/seed/set/sub/c.bin", body[50_000..].to_vec()),
    )
    .unwrap();
    let torrent = with_web_seeds("set", &SET_FILES, &body, None, vec![server.url("/seed")]);
    let (st, _) = common::run_torrent(&torrent, opts(&dir.0));
    assert_set(&st, &dir.0, &body, |p| server.url(p));
    // No request crossed a file: the piece across the boundary took one of each.
    assert!(!server.requests_for("/seed/set/a%20b.txt").is_empty());
    assert!(!server.requests_for("/seed/set/sub/c.bin").is_empty());
    assert!(server.requests_for("/seed/set/sub/empty").is_empty());
}

/// The torrent of `SET_FILES` (named `set`, web seed `URL/seed`) is complete under
/// `dir`, each file exact, and each lists its own URL under the web seed (aria2's
/// `files[].uris`; `url` makes the server's URL of a path).
fn assert_set(st: &DownloadStatus, dir: &Path, body: &[u8], url: impl Fn(&str) -> String) {
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    let root = dir.join("set");
    assert_eq!(std::fs::read(root.join("a b.txt")).unwrap(), body[..50_000]);
    assert_eq!(std::fs::read(root.join("sub/empty")).unwrap(), b"");
    assert_eq!(
        std::fs::read(root.join("sub/c.bin")).unwrap(),
        body[50_000..]
    );
    let uris: Vec<&str> = st.files.iter().map(|f| f.uris[0].uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            url("/seed/set/a%20b.txt"),
            url("/seed/set/sub/empty"),
            url("/seed/set/sub/c.bin")
        ]
    );
}

/// A v1 multi-file torrent of `a.bin`, a BEP 47 padding file up to the next piece and
/// `b.bin`, with web seed `seed`; returns it and the byte space it hashes.
fn padded_torrent(a: &[u8], b: &[u8], seed: &str) -> (Vec<u8>, Vec<u8>) {
    let pad = PIECE as usize - a.len() % PIECE as usize;
    let mut space = a.to_vec();
    space.extend(std::iter::repeat_n(0u8, pad));
    space.extend_from_slice(b);
    let pieces: Vec<u8> = space
        .chunks(PIECE as usize)
        .flat_map(|c| <[u8; 20]>::from(<sha1::Sha1 as sha1::Digest>::digest(c)))
        .collect();
    let file = |len: usize, path: &str, attr: &str| {
        let mut f = String::new();
        if !attr.is_empty() {
            f += &format!("4:attr{}:{attr}", attr.len());
        }
        f += &format!("6:lengthi{len}e4:pathl{}:{path}e", path.len());
        format!("d{f}e")
    };
    let mut info = format!(
        "d5:filesl{}{}{}e4:name3:pad12:piece lengthi{PIECE}e6:pieces{}:",
        file(a.len(), "a.bin", ""),
        // bt-wire reads a one-component path; real padding files sit in `.pad/`.
        file(pad, "pad0", "p"),
        file(b.len(), "b.bin", ""),
        pieces.len()
    )
    .into_bytes();
    info.extend_from_slice(&pieces);
    info.extend_from_slice(b"e");
    let mut torrent = format!("d8:url-list{}:{seed}4:info", seed.len()).into_bytes();
    torrent.extend_from_slice(&info);
    torrent.extend_from_slice(b"e");
    (torrent, space)
}

#[test]
fn padding_files_are_zeros_never_asked_of_the_web_seed() {
    let dir = Dir::new("ws-pad");
    let data = torrent_data(90_000, 13);
    let (a, b) = data.split_at(40_000);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/w/pad/a.bin", a.to_vec())
            .file("/w/pad/b.bin", b.to_vec()),
    )
    .unwrap();
    let (torrent, _) = padded_torrent(a, b, &server.url("/w/"));
    let (st, _) = common::run_torrent(&torrent, opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("pad/a.bin")).unwrap(), a);
    assert_eq!(std::fs::read(dir.0.join("pad/b.bin")).unwrap(), b);
    assert!(!dir.0.join("pad/pad0").exists());
    assert!(server.requests_for("/w/pad/pad0").is_empty());
}

#[test]
fn a_peer_and_a_web_seed_both_fill_the_torrent() {
    let dir = Dir::new("ws-both");
    let body = torrent_data(1_000_000, 14);
    let placeholder = make_torrent("both.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    // A slow web seed: the run it claims first is its own (peers never take bytes a
    // run holds), and the peer is done with the rest long before the web seed could be.
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/both.bin", body.clone())
            .trickle(256 << 10),
    )
    .unwrap();
    let torrent = with_web_seeds(
        "both.bin",
        &[],
        &body,
        Some(&tracker.url()),
        vec![server.url("/both.bin")],
    );
    let (st, _) = common::run_torrent(&torrent, opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("both.bin")).unwrap(), body);
    assert!(server.body_bytes_sent() > 0, "the web seed sent nothing");
    assert!(
        !seeder.requests().is_empty(),
        "the peer was asked for nothing"
    );
}

#[test]
fn a_web_seed_serving_wrong_bytes_is_dropped_and_the_peer_completes() {
    let dir = Dir::new("ws-bad");
    let body = torrent_data(600_000, 15);
    let placeholder = make_torrent("bad.bin", &[], &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let server =
        HttpServer::start(ServerConfig::new().file("/bad.bin", torrent_data(600_000, 99))).unwrap();
    let seed_url = server.url("/bad.bin");
    let torrent = with_web_seeds(
        "bad.bin",
        &[],
        &body,
        Some(&tracker.url()),
        vec![seed_url.clone()],
    );
    let (st, events) = common::run_torrent(&torrent, opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("bad.bin")).unwrap(), body);
    let dropped = events.iter().any(|e| {
        matches!(e, Event::Notice(_, m) if m.starts_with(&seed_url) && m.contains("giving up on this URI"))
    });
    assert!(dropped, "the web seed was not dropped: {events:?}");
}

#[test]
fn get_servers_names_the_file_a_web_seed_connection_fetches() {
    let dir = Dir::new("ws-servers");
    let files = [("a.txt", 50_000u64), ("b.bin", 120_001)];
    let body = torrent_data(170_001, 16);
    // b.bin is redirected elsewhere, where it stalls: the connection stays on it.
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/seed/set/a.txt", body[..50_000].to_vec())
            .file("/moved/b.bin", body[50_000..].to_vec())
            .redirect("/seed/set/b.bin", "/moved/b.bin", 302)
            .behaviour_for("/moved/b.bin", Behaviour::StallAfter { bytes: 1000 }),
    )
    .unwrap();
    let torrent = with_web_seeds("set", &files, &body, None, vec![server.url("/seed/")]);
    let o = opts(&dir.0);
    let mut batch = common::Batch::new(&o);
    let gid = batch.add(swarmget_engine::DownloadSpec::torrent(
        swarmget_engine::Torrent::parse(&torrent).unwrap(),
        o,
    ));
    // Once the server has the request for the moved file, the connection is on it
    // (its URL is set before the request goes out).
    while server.requests_for("/moved/b.bin").is_empty() {
        let st = batch.handle.tell_status(gid).unwrap();
        assert!(!st.state.is_stopped(), "{st:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let servers = batch.handle.get_servers(gid).unwrap();
    assert_eq!(servers[0].index, 2, "{servers:?}");
    assert_eq!(servers.len(), 1, "{servers:?}");
    assert_eq!(servers[0].servers[0].uri, server.url("/seed/set/b.bin"));
    assert_eq!(
        servers[0].servers[0].current_uri,
        server.url("/moved/b.bin")
    );
    let uris = batch.handle.get_uris(gid).unwrap();
    assert_eq!(uris.len(), 1);
    assert_eq!(uris[0].uri, server.url("/seed/set/a.txt"));
    assert!(uris[0].used);
    batch.handle.remove(gid).unwrap();
    batch.finish();
}

#[test]
fn a_magnet_link_s_ws_web_seed_fills_the_torrent_its_metadata_peer_cannot() {
    let dir = Dir::new("ws-magnet");
    let files = [("a.txt", 70_000u64), ("b.bin", 90_000)];
    let body = torrent_data(160_000, 18);
    let torrent = make_torrent("mag", &files, &body, PIECE, None);
    let meta = swarmget_bt_wire::Metainfo::parse(&torrent).unwrap();
    let info_hash = meta.info_hash.unwrap();
    // The peer serves the metadata and no piece at all.
    let peer = MetadataPeer::start(
        info_hash,
        meta.info_bytes.clone(),
        MetadataBehaviour::Honest { gate: None },
        None,
    );
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/ws/mag/a.txt", body[..70_000].to_vec())
            .file("/ws/mag/b.bin", body[70_000..].to_vec()),
    )
    .unwrap();
    let link = swarmget_engine::MagnetLink {
        info_hash,
        name: None,
        trackers: Vec::new(),
        peers: vec![peer.addr()],
        peer_names: Vec::new(),
        length: None,
        keywords: None,
        web_seeds: vec![server.url("/ws/")],
    };
    let o = opts(&dir.0);
    let mut batch = common::Batch::new(&o);
    let magnet = batch.add(swarmget_engine::DownloadSpec::magnet(link, o));
    batch.wait_event(0, |e| matches!(e, Event::Complete(g) if *g == magnet));
    let st = batch.handle.tell_status(magnet).unwrap();
    let follower = st.followed_by[0];
    batch.gids.push(follower);
    let done = batch.finish();
    assert_eq!(done[1].state, DownloadState::Complete, "{:?}", done[1]);
    assert_eq!(
        std::fs::read(dir.0.join("mag/a.txt")).unwrap(),
        body[..70_000]
    );
    assert_eq!(
        std::fs::read(dir.0.join("mag/b.bin")).unwrap(),
        body[70_000..]
    );
    assert_eq!(done[1].files[0].uris[0].uri, server.url("/ws/mag/a.txt"));
}

/// aria2's `changeUri` on a torrent: its URIs are the web seeds' places of each file.
/// The web seed the torrent names stalls; deleting its URI of the second file takes it
/// out, and the second file's place under another base, added, is a web seed of every
/// file, from which the torrent completes.
#[test]
fn change_uri_takes_a_web_seed_out_and_puts_another_in() {
    let dir = Dir::new("ws-change-uri");
    let files = [("a.txt", 50_000u64), ("sub/b.bin", 120_001)];
    let body = torrent_data(170_001, 18);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/old/set/a.txt", body[..50_000].to_vec())
            .file("/old/set/sub/b.bin", body[50_000..].to_vec())
            .behaviour_for("/old/set/a.txt", Behaviour::StallAfter { bytes: 1000 })
            .behaviour_for("/old/set/sub/b.bin", Behaviour::StallAfter { bytes: 1000 })
            .file("/new/set/a.txt", body[..50_000].to_vec())
            .file("/new/set/sub/b.bin", body[50_000..].to_vec()),
    )
    .unwrap();
    let torrent = with_web_seeds("set", &files, &body, None, vec![server.url("/old")]);
    let o = opts(&dir.0);
    let mut batch = common::Batch::new(&o);
    let gid = batch.add(swarmget_engine::DownloadSpec::torrent(
        swarmget_engine::Torrent::parse(&torrent).unwrap(),
        o,
    ));
    let change = |file_index, delete: &[String], add: &[String]| {
        batch.handle.change_uri(
            gid,
            swarmget_engine::UriChange {
                file_index,
                delete: delete.to_vec(),
                add: add.to_vec(),
                position: None,
            },
        )
    };
    // Files are 1 and 2; a URI that is not file 2's place under a base is not counted.
    assert!(change(3, &[], &[]).is_err());
    assert!(change(0, &[], &[]).is_err());
    let r = change(
        2,
        &[
            server.url("/old/set/a.txt"),
            server.url("/old/set/sub/b.bin"),
        ],
        &[
            server.url("/new/set/a.txt"),
            server.url("/new/set/sub/b.bin"),
        ],
    );
    assert_eq!(r.unwrap(), (1, 1));
    let st = common::wait_status(&batch.handle, gid, |st| st.state.is_stopped());
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    let root = dir.0.join("set");
    assert_eq!(std::fs::read(root.join("a.txt")).unwrap(), body[..50_000]);
    assert_eq!(
        std::fs::read(root.join("sub/b.bin")).unwrap(),
        body[50_000..]
    );
    let uris: Vec<Vec<&str>> = st
        .files
        .iter()
        .map(|f| f.uris.iter().map(|u| u.uri.as_str()).collect())
        .collect();
    assert_eq!(
        uris,
        [
            vec![server.url("/new/set/a.txt")],
            vec![server.url("/new/set/sub/b.bin")]
        ]
    );
    batch.finish();
}

/// A multi-file FTP web seed whose server sends each `226` before the file's data: the
/// end of a file's data releases the held-back reply and the next file follows at once
/// (before the fix it waited for the data timeout and a new connection).
#[test]
fn an_ftp_web_seed_replying_before_its_data_goes_on_to_the_next_file() {
    let dir = Dir::new("ws-ftp-reply-first");
    let body = torrent_data(170_001, 23);
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/seed/set/a b.txt", body[..50_000].to_vec())
            .file("/seed/set/sub/c.bin", body[50_000..].to_vec())
            .reply_before_data(),
    )
    .unwrap();
    let multi = with_web_seeds("set", &SET_FILES, &body, None, vec![server.url("/seed")]);
    let (st, events) = common::run_torrent(&multi, opts(&dir.0));
    assert_set(&st, &dir.0, &body, |p| server.url(p));
    let troubles: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::Notice(..)))
        .collect();
    assert_eq!(troubles, Vec::<&Event>::new());
    assert_eq!(server.connections(), 1, "{:?}", server.command_lines());
}

/// An `ftp://` web seed fetched through the engine's FTP source, with the byte-space
/// mapping of an HTTP one: a single-file torrent's directory URL with the name
/// appended; a multi-file torrent's files at `URL/name/path` (a space, an empty file
/// and a piece across files), one `REST`+`RETR` per file and never a byte past it;
/// padding files never asked for.
#[test]
fn ftp_web_seeds_fill_single_and_multi_file_torrents() {
    let dir = Dir::new("ws-ftp");
    let body = torrent_data(170_001, 19);
    let (a, b) = body[..90_000].split_at(40_000);
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/pub/one.bin", body.clone())
            .file("/seed/set/a b.txt", body[..50_000].to_vec())
            .file("/seed/set/sub/c.bin", body[50_000..].to_vec())
            .file("/w/pad/a.bin", a.to_vec())
            .file("/w/pad/b.bin", b.to_vec()),
    )
    .unwrap();

    let single = with_web_seeds("one.bin", &[], &body, None, vec![server.url("/pub/")]);
    let (st, _) = common::run_torrent(&single, opts(&dir.0.join("single")));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("single/one.bin")).unwrap(), body);
    assert_eq!(st.files[0].uris[0].uri, server.url("/pub/one.bin"));

    let multi = with_web_seeds("set", &SET_FILES, &body, None, vec![server.url("/seed")]);
    let (st, events) = common::run_torrent(&multi, opts(&dir.0.join("multi")));
    assert_set(&st, &dir.0.join("multi"), &body, |p| server.url(p));
    // A file's end ends its transfer; the run goes on in the next file, no error.
    let troubles: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::Notice(..)))
        .collect();
    assert_eq!(troubles, Vec::<&Event>::new());

    let (padded, _) = padded_torrent(a, b, &server.url("/w/"));
    let (st, _) = common::run_torrent(&padded, opts(&dir.0.join("pad")));
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("pad/pad/a.bin")).unwrap(), a);
    assert_eq!(std::fs::read(dir.0.join("pad/pad/b.bin")).unwrap(), b);

    // Each file was retrieved by its own path (the server's log shows the CWDs and
    // the name); no SIZE or MDTM was asked, and neither the empty file nor padding.
    let lines = server.command_lines();
    for name in ["one.bin", "a b.txt", "c.bin", "a.bin", "b.bin"] {
        assert!(
            lines.iter().any(|l| *l == format!("RETR {name}")),
            "no RETR {name}: {lines:?}"
        );
    }
    assert!(
        !lines.iter().any(|l| l.contains("empty")
            || l.contains("pad0")
            || l.starts_with("SIZE")
            || l.starts_with("MDTM")),
        "{lines:?}"
    );
}
