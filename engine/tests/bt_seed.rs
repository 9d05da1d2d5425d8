//! Seeding: a swarmget download that completed stays to serve its pieces through its
//! listen port until `--seed-ratio` or `--seed-time` is met. A swarmget seeder serves a
//! swarmget leecher, peers found through an in-process tracker in swarm mode; a raw
//! peer checks which requests are served.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Batch, Dir, bt_opts, eventually, torrent_data};
use swarmget_bt_wire::wire::{
    BlockRequest, ExtensionHandshake, FrameDecoder, Handshake, Limits, Message,
};
use swarmget_engine::{DownloadSpec, DownloadState, Event, Gid, Options, Torrent};
use swarmget_test_support::{Seeder, Tracker, make_torrent};

const PIECE: u64 = 32 << 10;

/// A swarmget seeder of `body`: it downloads the torrent from a test seeder first (the
/// tracker names only that one), then seeds with `o`. Returns the engine, its download
/// and its listen port (from its announce).
fn seeder(torrent: &[u8], tracker: &Tracker, o: Options) -> (Batch, Gid, u16) {
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(torrent).unwrap(), o));
    batch.wait_event(0, |e| *e == Event::BtComplete(gid));
    let port = tracker.announces()[0]["port"].parse().unwrap();
    (batch, gid, port)
}

#[test]
fn a_swarmget_seeder_serves_a_swarmget_leecher_until_the_ratio_is_met() {
    let (dir_a, dir_b) = (Dir::new("seed-a"), Dir::new("seed-b"));
    let body = torrent_data(400_000, 7);
    let placeholder = make_torrent("s.bin", &[], &body, PIECE, None);
    let origin = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![origin.addr()]);
    let torrent = make_torrent("s.bin", &[], &body, PIECE, Some(&tracker.url()));
    // A seeds with aria2's defaults: until it has sent the torrent's length once.
    let o = Options {
        seed_time: None,
        ..bt_opts(&dir_a.0)
    };
    let (mut a, gid_a, port) = seeder(&torrent, &tracker, o);
    assert_ne!(port, 0);
    let st = a.handle.tell_status(gid_a).unwrap();
    assert_eq!(st.state, DownloadState::Active, "seeding: {st:?}");
    let bt = st.bittorrent.as_ref().unwrap();
    assert!(bt.seeder);
    assert_eq!(bt.upload_length, 0);
    // From now on the tracker names the peers that announced: B finds only A.
    tracker.set_peers(None);
    let mut b = Batch::new(&bt_opts(&dir_b.0));
    let gid_b = b.add(DownloadSpec::torrent(
        Torrent::parse(&torrent).unwrap(),
        bt_opts(&dir_b.0),
    ));
    b.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) if *g == gid_b),
    );
    let st_b = b.finish().remove(0);
    assert_eq!(st_b.state, DownloadState::Complete, "{st_b:?}");
    assert_eq!(std::fs::read(dir_b.0.join("s.bin")).unwrap(), body);
    // A sent B everything: its ratio is met and it completes on its own.
    let done = a.wait_event(0, |e| *e == Event::Complete(gid_a));
    let bt_done = a.seen.iter().position(|e| *e == Event::BtComplete(gid_a));
    assert!(bt_done < Some(done));
    let st = a.finish().remove(0);
    assert_eq!(st.state, DownloadState::Complete);
    let bt = st.bittorrent.unwrap();
    assert!(bt.upload_length >= body.len() as u64, "{bt:?}");
    // B came to A: an incoming peer; B knew A from the tracker.
    assert!(bt.peer_origins.incoming >= 1, "{bt:?}");
    assert_eq!(st_b.bittorrent.unwrap().peer_origins.tracker, 1);
    // The origin served A's blocks only once: B took nothing from it.
    assert_eq!(origin.requests().len(), body.len().div_ceil(16 << 10));
    let uploaded: Vec<u64> = tracker
        .announces()
        .iter()
        .filter(|q| q["peer_id"] == tracker.announces()[0]["peer_id"])
        .map(|q| q["uploaded"].parse().unwrap())
        .collect();
    assert_eq!(uploaded.first(), Some(&0));
}

#[test]
fn seeding_ends_after_seed_time_without_any_upload() {
    let dir = Dir::new("seed-time");
    let body = torrent_data(100_000, 8);
    let placeholder = make_torrent("t.bin", &[], &body, PIECE, None);
    let origin = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![origin.addr()]);
    let torrent = make_torrent("t.bin", &[], &body, PIECE, Some(&tracker.url()));
    // No ratio condition: only the time (0.01 min) can end it.
    let o = Options {
        seed_ratio: 0.0,
        seed_time: Some(Duration::from_millis(600)),
        ..bt_opts(&dir.0)
    };
    let (mut a, gid, _) = seeder(&torrent, &tracker, o);
    a.wait_event(0, |e| *e == Event::Complete(gid));
    let st = a.finish().remove(0);
    assert_eq!(st.state, DownloadState::Complete);
    assert_eq!(st.bittorrent.unwrap().upload_length, 0);
    let events: Vec<String> = tracker
        .announces()
        .iter()
        .map(|a| a.get("event").cloned().unwrap_or_default())
        .collect();
    assert_eq!(events.first().map(String::as_str), Some("started"));
    assert!(events.iter().any(|e| e == "completed"), "{events:?}");
}

/// A raw peer: handshakes with the fast extension, says it is interested, and waits to
/// be unchoked.
struct RawPeer {
    sock: TcpStream,
    decoder: FrameDecoder,
    /// The seeder's extension handshake (BEP 10), once seen.
    extensions: Option<ExtensionHandshake>,
}

impl RawPeer {
    fn connect(port: u16, info_hash: [u8; 20], pieces: u32) -> RawPeer {
        let mut sock = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut out = Handshake::new(info_hash, *b"-TS0001-rawpeerraw00", false)
            .encode()
            .to_vec();
        Message::Interested.encode(&mut out);
        sock.write_all(&out).unwrap();
        let mut peer = RawPeer {
            sock,
            decoder: FrameDecoder::new(Limits::default().with_piece_count(pieces)),
            extensions: None,
        };
        let hs = loop {
            if let Some(hs) = peer.decoder.handshake().unwrap() {
                break hs;
            }
            peer.fill();
        };
        assert_eq!(hs.info_hash, info_hash);
        assert!(hs.fast());
        peer.until(|m| matches!(m, Message::Unchoke));
        peer
    }

    fn fill(&mut self) {
        let mut buf = [0u8; 65536];
        let n = self.sock.read(&mut buf).unwrap();
        assert!(n > 0, "the seeder closed the connection");
        self.decoder.extend(&buf[..n]);
    }

    /// Reads messages until `want` accepts one; returns it re-encoded.
    fn until(&mut self, want: impl Fn(&Message<'_>) -> bool) -> Vec<u8> {
        loop {
            while let Some(m) = self.decoder.next().unwrap() {
                if let Message::Extended { id: 0, payload } = m {
                    self.extensions = Some(ExtensionHandshake::parse(payload).unwrap());
                }
                if want(&m) {
                    let mut e = Vec::new();
                    m.encode(&mut e);
                    return e;
                }
            }
            self.fill();
        }
    }

    /// Reads until the other side closes; `false` if a message other than a keep-alive,
    /// choke, unchoke or have came first.
    fn closes(&mut self) -> bool {
        let mut buf = [0u8; 65536];
        loop {
            while let Some(m) = self.decoder.next().unwrap() {
                if !matches!(
                    m,
                    Message::KeepAlive | Message::Choke | Message::Unchoke | Message::Have(_)
                ) {
                    return false;
                }
            }
            match self.sock.read(&mut buf) {
                Ok(0) | Err(_) => return true,
                Ok(n) => self.decoder.extend(&buf[..n]),
            }
        }
    }

    fn send(&mut self, m: Message<'_>) {
        let mut out = Vec::new();
        m.encode(&mut out);
        self.sock.write_all(&out).unwrap();
    }
}

fn enc(m: Message<'_>) -> Vec<u8> {
    let mut e = Vec::new();
    m.encode(&mut e);
    e
}

#[test]
fn requests_outside_the_piece_are_rejected_too_long_ones_dropped_and_good_ones_served() {
    let dir = Dir::new("seed-raw");
    // Two pieces of 32 KiB and a last one of 1,000 bytes.
    let body = torrent_data(2 * PIECE as usize + 1_000, 9);
    let placeholder = make_torrent("r.bin", &[], &body, PIECE, None);
    let origin = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![origin.addr()]);
    let torrent = make_torrent("r.bin", &[], &body, PIECE, Some(&tracker.url()));
    let parsed = Torrent::parse(&torrent).unwrap();
    let o = Options {
        seed_time: None,
        seed_ratio: 0.0,
        ..bt_opts(&dir.0)
    };
    let (a, gid, port) = seeder(&torrent, &tracker, o);
    // A request for more than 16 KiB breaks the protocol (aria2 and libtorrent drop
    // such a peer too): the connection ends, the seeder goes on.
    let mut rude = RawPeer::connect(port, parsed.info_hash(), 3);
    rude.send(Message::Request(BlockRequest {
        index: 0,
        begin: 0,
        length: 32 << 10,
    }));
    assert!(rude.closes());
    // Requests of a good length outside their piece are rejected (BEP 6).
    let mut peer = RawPeer::connect(port, parsed.info_hash(), 3);
    let rejected = |r: BlockRequest| enc(Message::Reject(r));
    let past_the_piece = BlockRequest {
        index: 2,
        begin: 0,
        length: 16 << 10,
    };
    let empty = BlockRequest {
        index: 0,
        begin: 0,
        length: 0,
    };
    let past_the_end = BlockRequest {
        index: 0,
        begin: 32 << 10,
        length: 16 << 10,
    };
    let good = BlockRequest {
        index: 1,
        begin: 16 << 10,
        length: 16 << 10,
    };
    for r in [past_the_piece, empty, past_the_end] {
        peer.send(Message::Request(r));
        let got = peer.until(|m| matches!(m, Message::Reject(_) | Message::Piece { .. }));
        assert_eq!(got, rejected(r), "{r:?}");
    }
    peer.send(Message::Request(good));
    let got = peer.until(|m| matches!(m, Message::Reject(_) | Message::Piece { .. }));
    let at = (PIECE + (16 << 10)) as usize;
    assert_eq!(
        got,
        enc(Message::Piece {
            index: 1,
            begin: 16 << 10,
            data: &body[at..at + (16 << 10)],
        })
    );
    eventually("the upload counted", || {
        a.handle
            .tell_status(gid)
            .unwrap()
            .bittorrent
            .is_some_and(|bt| bt.upload_length == 16 << 10)
    });
}

#[test]
fn the_seeder_names_its_request_queue_and_rejects_requests_beyond_it_without_hanging_up() {
    let dir = Dir::new("seed-reqq");
    let body = torrent_data(2 * PIECE as usize + 1_000, 13);
    let placeholder = make_torrent("q.bin", &[], &body, PIECE, None);
    let origin = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![origin.addr()]);
    let torrent = make_torrent("q.bin", &[], &body, PIECE, Some(&tracker.url()));
    let parsed = Torrent::parse(&torrent).unwrap();
    let o = Options {
        seed_time: None,
        seed_ratio: 0.0,
        ..bt_opts(&dir.0)
    };
    let (_a, _gid, port) = seeder(&torrent, &tracker, o);
    let mut peer = RawPeer::connect(port, parsed.info_hash(), 3);
    // Transmission sizes its pipeline by the rate it measures unless told a queue.
    let reqq = peer.extensions.as_ref().and_then(|e| e.reqq);
    assert_eq!(reqq, Some(500), "reqq in the extension handshake");
    // 600 requests in one write: the queue takes 500, the rest are rejected, and the
    // connection stays (it used to end at the 501st, stalling Transmission).
    let good = BlockRequest {
        index: 0,
        begin: 0,
        length: 16 << 10,
    };
    let mut burst = Vec::new();
    for _ in 0..600 {
        Message::Request(good).encode(&mut burst);
    }
    peer.sock.write_all(&burst).unwrap();
    let (mut served, mut rejected) = (0, 0);
    while served + rejected < 600 {
        let got = peer.until(|m| matches!(m, Message::Reject(_) | Message::Piece { .. }));
        if got == enc(Message::Reject(good)) {
            rejected += 1;
        } else {
            served += 1;
        }
    }
    assert!(
        rejected > 0 && served >= 500,
        "{served} served, {rejected} rejected"
    );
    // Still connected and served.
    peer.send(Message::Request(good));
    let got = peer.until(|m| matches!(m, Message::Reject(_) | Message::Piece { .. }));
    assert_eq!(
        got,
        enc(Message::Piece {
            index: 0,
            begin: 0,
            data: &body[..16 << 10],
        })
    );
}

#[test]
fn listen_port_binds_the_first_free_port_of_its_list() {
    let dir = Dir::new("seed-port");
    let body = torrent_data(50_000, 11);
    let placeholder = make_torrent("p.bin", &[], &body, PIECE, None);
    let origin = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![origin.addr()]);
    let torrent = make_torrent("p.bin", &[], &body, PIECE, Some(&tracker.url()));
    // The first port of the list is held by another listener; the second is free: one
    // found below the ephemeral range (Linux: 32768-60999), so that no other test
    // binding port 0 is handed it between its release here and the engine's bind.
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let busy = taken.local_addr().unwrap().port();
    // Where the search starts varies, so test processes running at once differ.
    let nanos = std::time::UNIX_EPOCH.elapsed().unwrap().subsec_nanos();
    let start = (std::process::id() ^ nanos) % 10_000;
    let free = (0..10_000)
        .map(|i| 20_000 + ((start + i) % 10_000) as u16)
        .find(|&p| std::net::TcpListener::bind(("0.0.0.0", p)).is_ok())
        .expect("a free port below the ephemeral range");
    let o = Options {
        listen_port: vec![busy, free],
        seed_time: None,
        seed_ratio: 0.0,
        ..bt_opts(&dir.0)
    };
    let (_a, _gid, port) = seeder(&torrent, &tracker, o);
    assert_eq!(port, free);
    // And peers reach it there.
    let parsed = Torrent::parse(&torrent).unwrap();
    RawPeer::connect(free, parsed.info_hash(), 2);
}

#[test]
fn max_upload_limit_and_max_overall_upload_limit_pace_what_a_seeder_sends() {
    const RATE: u64 = 64 << 10;
    paced(Options {
        max_upload_limit: RATE,
        ..Options::default()
    });
    paced(Options {
        max_overall_upload_limit: RATE,
        ..Options::default()
    });
}

/// A seeder whose upload is limited to 64 KiB/s by `limits` serves twelve blocks no
/// faster than that.
fn paced(limits: Options) {
    const RATE: u64 = 64 << 10;
    let dir = Dir::new("seed-limit");
    let body = torrent_data(10 * PIECE as usize, 10);
    let placeholder = make_torrent("l.bin", &[], &body, PIECE, None);
    let origin = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![origin.addr()]);
    let torrent = make_torrent("l.bin", &[], &body, PIECE, Some(&tracker.url()));
    let parsed = Torrent::parse(&torrent).unwrap();
    let o = Options {
        seed_time: None,
        seed_ratio: 0.0,
        max_upload_limit: limits.max_upload_limit,
        max_overall_upload_limit: limits.max_overall_upload_limit,
        ..bt_opts(&dir.0)
    };
    let (_a, _gid, port) = seeder(&torrent, &tracker, o);
    let mut peer = RawPeer::connect(port, parsed.info_hash(), 10);
    // Twelve blocks (192 KiB) asked for at once: past the first 16 KiB the bucket
    // holds, the rest cannot leave faster than 64 KiB/s. A lower bound only, so a slow
    // machine cannot fail it.
    let started = Instant::now();
    for i in 0..12u32 {
        peer.send(Message::Request(BlockRequest {
            index: i / 2,
            begin: (i % 2) * (16 << 10),
            length: 16 << 10,
        }));
    }
    for _ in 0..12 {
        peer.until(|m| matches!(m, Message::Piece { .. }));
    }
    let least = Duration::from_secs_f64((11 * (16 << 10)) as f64 / RATE as f64);
    assert!(
        started.elapsed() >= least,
        "12 blocks in {:?} at 64 KiB/s",
        started.elapsed()
    );
}

#[test]
fn bt_detach_seed_only_frees_the_slot_of_a_seeding_torrent() {
    let dir = Dir::new("bt-detach");
    let first = torrent_data(70_000, 21);
    let second = torrent_data(90_000, 22);
    let torrents: Vec<(Seeder, Tracker, Vec<u8>)> =
        [("first.bin", &first), ("second.bin", &second)]
            .into_iter()
            .map(|(name, body)| {
                let placeholder = make_torrent(name, &[], body, PIECE, None);
                let seeder = Seeder::start(&placeholder, body.clone());
                let tracker = Tracker::start(vec![seeder.addr()]);
                let torrent = make_torrent(name, &[], body, PIECE, Some(&tracker.url()));
                (seeder, tracker, torrent)
            })
            .collect();
    // One download at a time; the first seeds until stopped.
    let o = Options {
        max_concurrent_downloads: 1,
        bt_detach_seed_only: true,
        seed_ratio: 0.0,
        seed_time: None,
        ..bt_opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    let a = batch.add(DownloadSpec::torrent(
        Torrent::parse(&torrents[0].2).unwrap(),
        o.clone(),
    ));
    let b = batch.add(DownloadSpec::torrent(
        Torrent::parse(&torrents[1].2).unwrap(),
        Options {
            seed_time: Some(std::time::Duration::ZERO),
            ..o.clone()
        },
    ));
    batch.wait_event(0, |e| matches!(e, Event::Complete(g) if *g == b));
    assert_eq!(std::fs::read(dir.0.join("second.bin")).unwrap(), second);
    let st = batch.handle.tell_status(a).unwrap();
    assert!(st.bittorrent.unwrap().seeder, "the first still seeds");
    batch.handle.shutdown().unwrap();
}
