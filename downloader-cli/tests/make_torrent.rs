//! `swarmget make-torrent`: the torrent it writes describes the files exactly (every
//! piece hash checked here against the bytes), carries the trackers, web seeds and
//! private flag asked for, and downloads from a seeder of those bytes.

mod common;

use std::time::Duration;

use common::{TempDir, assert_download, run, swarmget};
use sha1::{Digest, Sha1};
use swarmget_bt_wire::Metainfo;
use swarmget_test_support::{Seeder, Tracker};

const LIMIT: Duration = Duration::from_secs(60);

fn bytes(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(seed) >> 13) as u8)
        .collect()
}

#[test]
fn a_directory_becomes_a_multi_file_torrent_whose_pieces_match_its_bytes() {
    let dir = TempDir::new("make-torrent-dir");
    let root = dir.join("set");
    std::fs::create_dir_all(root.join("sub")).unwrap();
    let (a, b, c) = (bytes(100_000, 1), bytes(0, 2), bytes(70_001, 3));
    std::fs::write(root.join("z.bin"), &a).unwrap();
    std::fs::write(root.join("sub/empty"), &b).unwrap();
    std::fs::write(root.join("sub/c.bin"), &c).unwrap();
    let out = dir.join("set.torrent");
    let made = run(
        swarmget(dir.path())
            .args([
                "make-torrent",
                "-a",
                "http://t1/announce,http://t2/announce",
                "-a",
                "udp://t3:80",
                "-w",
                "http://seed/set/",
                "-l",
                "32K",
                "-p",
                "-c",
                "made here",
                "-o",
            ])
            .arg(&out)
            .arg(&root),
        LIMIT,
    );
    made.expect_code(0);
    let meta = Metainfo::parse(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(meta.info.name, "set");
    assert!(meta.info.private);
    assert_eq!(meta.comment.as_deref(), Some("made here"));
    assert_eq!(
        meta.tracker_tiers(),
        [
            vec!["http://t1/announce", "http://t2/announce"],
            vec!["udp://t3:80"]
        ]
    );
    assert_eq!(meta.url_list, ["http://seed/set/"]);
    // Files in path order: sub/c.bin, sub/empty, z.bin.
    let paths: Vec<String> = meta.info.files.iter().map(|f| f.path.join("/")).collect();
    assert_eq!(paths, ["set/sub/c.bin", "set/sub/empty", "set/z.bin"]);
    let all = [c, b, a].concat();
    assert_eq!(meta.info.total_length, all.len() as u64);
    assert_eq!(meta.info.piece_length, 32 << 10);
    let want: Vec<[u8; 20]> = all
        .chunks(32 << 10)
        .map(|piece| Sha1::digest(piece).into())
        .collect();
    assert_eq!(meta.info.piece_hashes, want);
}

#[test]
fn a_made_torrent_downloads_from_a_seeder_of_the_file() {
    let dir = TempDir::new("make-torrent-file");
    let body = bytes(300_000, 9);
    let file = dir.join("one.bin");
    std::fs::write(&file, &body).unwrap();
    let plain = dir.join("plain.torrent");
    run(
        swarmget(dir.path())
            .args(["make-torrent", "-o"])
            .arg(&plain)
            .arg(&file),
        LIMIT,
    )
    .expect_code(0);
    let seeder = Seeder::start(&std::fs::read(&plain).unwrap(), body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let announced = dir.join("one.torrent");
    run(
        swarmget(dir.path())
            .args(["make-torrent", "-a", &tracker.url(), "-o"])
            .arg(&announced)
            .arg(&file),
        LIMIT,
    )
    .expect_code(0);
    let out = dir.join("out");
    run(
        swarmget(dir.path())
            .args(["--listen-port=0", "--seed-time=0", "-d"])
            .arg(&out)
            .arg(&announced),
        LIMIT,
    )
    .expect_code(0);
    assert_download(&out.join("one.bin"), &body);
}

#[test]
fn bad_arguments_exit_28_and_an_unreadable_path_1() {
    let dir = TempDir::new("make-torrent-bad");
    run(
        swarmget(dir.path()).args(["make-torrent", "-l", "3000", "x"]),
        LIMIT,
    )
    .expect_code(28);
    run(
        swarmget(dir.path()).args(["make-torrent", "/nonexistent/swarmget"]),
        LIMIT,
    )
    .expect_code(1);
}
