//! Peer exchange (BEP 11): peers a peer names by `ut_pex` become sources, and swarmget
//! tells its peers about the others; `--enable-peer-exchange=false` turns both off.

mod common;

use common::{Batch, Dir, bt_opts, eventually, torrent_data};
use swarmget_engine::{DownloadSpec, DownloadState, Event, Torrent};
use swarmget_test_support::{PexSource, Seeder, Tracker, make_torrent};

const PIECE: u64 = 32 << 10;

#[test]
fn peers_named_by_pex_serve_the_download_and_are_passed_on() {
    let dir = Dir::new("pex-learn");
    let body = torrent_data(120_000, 11);
    let placeholder = make_torrent("p.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&placeholder).unwrap().info_hash();
    let seeder = Seeder::start(&placeholder, body.clone());
    let source = PexSource::start(info_hash, vec![seeder.addr()]);
    // A peer with nothing, which stays connected (the seeder goes once we are a seed).
    let other = PexSource::start(info_hash, Vec::new());
    // The tracker names only the PEX peers: the seeder is known through PEX alone.
    let tracker = Tracker::start(vec![source.addr(), other.addr()]);
    let torrent = make_torrent("p.bin", &[], &body, PIECE, Some(&tracker.url()));
    let mut o = bt_opts(&dir.0);
    o.dht.enable = false;
    o.seed_time = None;
    o.seed_ratio = 0.0;
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    batch.wait_event(0, |e| *e == Event::BtComplete(gid));
    assert_eq!(std::fs::read(dir.0.join("p.bin")).unwrap(), body);
    let offered = source.handshakes();
    assert!(
        offered.iter().all(|h| h.id_of("ut_pex").is_some()),
        "{offered:?}"
    );
    // And each of the two hears of the other from us.
    for (to, of) in [(&source, &other), (&other, &source)] {
        eventually("a PEX message naming the other peer", || {
            to.received()
                .iter()
                .any(|m| m.added.iter().any(|p| p.addr == of.addr()))
        });
    }
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.state, DownloadState::Active, "still seeding: {st:?}");
    // Two peers from the tracker, the seeder from PEX alone.
    let origins = st.bittorrent.unwrap().peer_origins;
    assert_eq!((origins.tracker, origins.pex), (2, 1), "{origins:?}");
    batch.handle.shutdown().unwrap();
}

#[test]
fn with_peer_exchange_off_ut_pex_is_not_offered() {
    let dir = Dir::new("pex-off");
    let body = torrent_data(40_000, 12);
    let placeholder = make_torrent("q.bin", &[], &body, PIECE, None);
    let info_hash = Torrent::parse(&placeholder).unwrap().info_hash();
    let seeder = Seeder::start(&placeholder, body.clone());
    let source = PexSource::start(info_hash, vec![seeder.addr()]);
    let tracker = Tracker::start(vec![source.addr()]);
    let torrent = make_torrent("q.bin", &[], &body, PIECE, Some(&tracker.url()));
    let mut o = bt_opts(&dir.0);
    o.dht.enable = false;
    o.set("enable-peer-exchange", "false").unwrap();
    let batch = Batch::new(&o);
    batch
        .handle
        .add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o))
        .unwrap();
    eventually("our extension handshake", || {
        !source.handshakes().is_empty()
    });
    let offered = source.handshakes();
    assert!(
        offered.iter().all(|h| h.id_of("ut_pex").is_none()),
        "{offered:?}"
    );
    batch.handle.shutdown().unwrap();
    assert_eq!(seeder.connections(), 0, "the seeder was named only by PEX");
}
