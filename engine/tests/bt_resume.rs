//! Where a torrent starts when it runs again: its control file (no hashing), `-V`
//! (every piece on disk hashed, a bad one fetched again, a complete set seeded at
//! once) and `--bt-seed-unverified` (complete files taken as they are).

mod common;

use std::time::Duration;

use common::{Batch, Dir, bt_opts, torrent_data};
use swarmget_engine::control::ControlState;
use swarmget_engine::{DownloadSpec, DownloadState, Event, Gid, Options, Torrent};
use swarmget_test_support::{Seeder, SeederConfig, Tracker, make_torrent};

const PIECE: u64 = 32 << 10;
const BLOCKS_PER_PIECE: usize = 2;

/// Any free listen port; seeding until stopped (no ratio, no time).
fn seeding_opts(dir: &std::path::Path) -> Options {
    Options {
        seed_ratio: 0.0,
        seed_time: None,
        ..bt_opts(dir)
    }
}

/// A torrent of `body` whose tracker names a test seeder of it (see
/// [`Tracker::set_peers`] to hide it).
fn swarm(name: &str, body: &[u8]) -> (Seeder, Tracker, Vec<u8>) {
    let placeholder = make_torrent(name, &[], body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.to_vec());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent(name, &[], body, PIECE, Some(&tracker.url()));
    (seeder, tracker, torrent)
}

/// Runs torrent `torrent` with `o` until its pieces are all there (`BtComplete`);
/// returns the engine and the download.
fn until_complete(torrent: &[u8], o: Options) -> (Batch, Gid) {
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(torrent).unwrap(), o));
    batch.wait_event(
        0,
        |e| matches!(e, Event::BtComplete(g) | Event::Error(g) if *g == gid),
    );
    (batch, gid)
}

/// Stops the engine as an interrupt does (control files saved) and shuts it down.
fn interrupt(mut batch: Batch) {
    batch.handle.interrupter().interrupt();
    batch.wait_event(0, |e| *e == Event::Halted);
    batch.handle.shutdown().unwrap();
}

fn flip_byte(path: &std::path::Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0xff;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_seeding_torrent_restarts_from_its_control_file_without_hashing_and_v_rehashes() {
    let dir = Dir::new("bt-resume");
    let body = torrent_data(5 * PIECE as usize, 1);
    let (seeder, tracker, torrent) = swarm("r.bin", &body);
    let (batch, gid) = until_complete(&torrent, seeding_opts(&dir.0));
    assert_eq!(
        batch.handle.tell_status(gid).unwrap().state,
        DownloadState::Active
    );
    interrupt(batch);
    let file = dir.0.join("r.bin");
    assert!(
        dir.0.join("r.bin.swarmget").exists(),
        "the control file stays"
    );
    let fetched = seeder.requests().len();
    assert_eq!(fetched, 5 * BLOCKS_PER_PIECE);
    // A byte of piece 3 goes bad on disk. The control file says every piece verified:
    // a restart believes it, seeds at once and asks nobody for anything.
    flip_byte(&file, 3 * PIECE as usize + 7);
    tracker.set_peers(Some(Vec::new()));
    let (batch, gid) = until_complete(&torrent, seeding_opts(&dir.0));
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.state, DownloadState::Active, "{st:?}");
    assert!(st.bittorrent.as_ref().unwrap().seeder);
    interrupt(batch);
    // -V reads every piece instead: piece 3 fails and only it is fetched again.
    tracker.set_peers(Some(vec![seeder.addr()]));
    let o = Options {
        check_integrity: true,
        seed_time: Some(Duration::ZERO),
        ..seeding_opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    let st = batch.finish().remove(0);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(&file).unwrap(), body);
    let again: Vec<_> = seeder.requests()[fetched..].to_vec();
    assert_eq!(again.len(), BLOCKS_PER_PIECE, "{again:?}");
    assert!(again.iter().all(|r| r.index == 3));
    assert!(!dir.0.join("r.bin.swarmget").exists(), "gone once complete");
    let _ = gid;
}

#[test]
fn an_interrupted_download_resumes_its_verified_pieces() {
    let dir = Dir::new("bt-interrupted");
    let body = torrent_data(6 * PIECE as usize, 2);
    let (honest, tracker, torrent) = swarm("i.bin", &body);
    // The first run's only peer spoils piece 2 every time: it is banned after the
    // second try, and the download stays active with the five other pieces.
    let placeholder = make_torrent("i.bin", &[], &body, PIECE, None);
    let liar = Seeder::with(
        &placeholder,
        body.clone(),
        SeederConfig {
            corrupt: Some(Some(2)),
            ..SeederConfig::default()
        },
    );
    tracker.set_peers(Some(vec![liar.addr()]));
    let o = Options {
        seed_time: Some(Duration::ZERO),
        ..seeding_opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(
        Torrent::parse(&torrent).unwrap(),
        o.clone(),
    ));
    // Which pieces arrive before the ban depends on the picker's order: wait for the
    // ban (the liar's connection closes), then read what the control file kept.
    common::wait_status(&batch.handle, gid, |_| liar.closed() > 0);
    interrupt(batch);
    let kept = ControlState::load(&dir.0.join("i.bin.swarmget"))
        .unwrap()
        .expect("a control file");
    assert!(!kept.verified.get(2), "the spoiled piece never counts");
    let missing: Vec<u32> = (0..6u32)
        .filter(|&i| !kept.verified.get(i as usize))
        .collect();
    // The second run asks the honest seeder for the missing pieces alone, each once.
    tracker.set_peers(Some(vec![honest.addr()]));
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    let st = batch.finish().remove(0);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("i.bin")).unwrap(), body);
    let asked = honest.requests();
    assert_eq!(asked.len(), missing.len() * BLOCKS_PER_PIECE, "{asked:?}");
    assert!(
        asked.iter().all(|r| missing.contains(&r.index)),
        "{missing:?} {asked:?}"
    );
}

#[test]
fn v_over_a_complete_file_goes_straight_to_seeding() {
    let dir = Dir::new("bt-v-seed");
    let body = torrent_data(4 * PIECE as usize + 100, 3);
    let (seeder, tracker, torrent) = swarm("v.bin", &body);
    tracker.set_peers(Some(Vec::new()));
    std::fs::write(dir.0.join("v.bin"), &body).unwrap();
    let o = Options {
        check_integrity: true,
        ..seeding_opts(&dir.0)
    };
    let (batch, gid) = until_complete(&torrent, o);
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.state, DownloadState::Active, "seeding: {st:?}");
    assert_eq!(st.completed, body.len() as u64);
    assert!(st.bittorrent.unwrap().seeder);
    assert!(seeder.requests().is_empty());
    interrupt(batch);
}

#[test]
fn bt_seed_unverified_takes_complete_files_as_they_are() {
    let dir = Dir::new("bt-unverified");
    let body = torrent_data(3 * PIECE as usize, 4);
    let (seeder, tracker, torrent) = swarm("u.bin", &body);
    tracker.set_peers(Some(Vec::new()));
    // Even a wrong byte is not noticed: nothing is read.
    let mut on_disk = body.clone();
    on_disk[10] ^= 1;
    std::fs::write(dir.0.join("u.bin"), &on_disk).unwrap();
    let o = Options {
        bt_seed_unverified: true,
        ..seeding_opts(&dir.0)
    };
    let (batch, gid) = until_complete(&torrent, o);
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.state, DownloadState::Active, "seeding: {st:?}");
    assert_eq!(st.completed, body.len() as u64);
    assert!(seeder.requests().is_empty());
    interrupt(batch);
}

#[test]
fn v_over_a_complete_file_without_hash_check_seed_completes_and_can_skip_the_hook() {
    let dir = Dir::new("bt-v-noseed");
    let body = torrent_data(3 * PIECE as usize + 7, 5);
    let (_seeder, tracker, torrent) = swarm("n.bin", &body);
    tracker.set_peers(Some(Vec::new()));
    std::fs::write(dir.0.join("n.bin"), &body).unwrap();
    let o = Options {
        check_integrity: true,
        bt_hash_check_seed: false,
        bt_enable_hook_after_hash_check: false,
        ..seeding_opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    // Seeding until stopped otherwise: completing at all shows it did not seed.
    batch.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) if *g == gid),
    );
    assert!(
        !batch.seen.contains(&Event::BtComplete(gid)),
        "{:?}",
        batch.seen
    );
    let st = batch.finish().remove(0);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
}

/// A torrent's first look at its files (its control file read, each file's length) is
/// done by the disk thread: while the control file cannot be read (a FIFO whose
/// reader waits for data), the loop still answers, no peer is asked yet, and once the
/// read ends (an empty record, ignored) the torrent downloads.
#[test]
fn a_stuck_control_file_read_leaves_the_loop_answering() {
    let dir = Dir::new("bt-stuck");
    let body = torrent_data(100_000, 9);
    let (seeder, _tracker, torrent) = swarm("stuck.bin", &body);
    let fifo = swarmget_engine::control::control_path(&dir.0.join("stuck.bin"));
    common::mkfifo(&fifo);
    let o = bt_opts(&dir.0);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    // The disk thread is in the middle of reading the control file, and stays there.
    let writer = common::hold_fifo(&fifo);
    let st = common::status_while_blocked(&batch.handle, gid);
    assert_eq!(st.state, DownloadState::Active);
    assert_eq!(st.completed, 0);
    assert_eq!(
        seeder.connections(),
        0,
        "no peer before the torrent is resumed"
    );
    drop(writer);
    let st = batch.finish().remove(0);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(dir.0.join("stuck.bin")).unwrap(), body);
}
