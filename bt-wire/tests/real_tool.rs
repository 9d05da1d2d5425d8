//! Torrents made by a real tool (torf 4.3.1, Python): `tests/data/torf-*.torrent` were
//! written from files whose bytes the functions below regenerate, and the info-hashes
//! below are the ones torf printed. The parser must agree with both.

use sha1::{Digest, Sha1};
use swarmget_bt_wire::metainfo::{Metainfo, Version};

fn a_bin() -> Vec<u8> {
    (0..30000u32).map(|i| (i * 7 % 251) as u8).collect()
}

fn b_dat() -> Vec<u8> {
    (0..5000u32).map(|i| ((i * 13 + 5) % 256) as u8).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn piece_hashes(data: &[u8], piece_length: usize) -> Vec<[u8; 20]> {
    data.chunks(piece_length)
        .map(|p| Sha1::digest(p).into())
        .collect()
}

#[test]
fn torf_multi_file_private_with_tiers_and_web_seeds() {
    let m = Metainfo::parse(include_bytes!("data/torf-multi.torrent")).unwrap();
    assert_eq!(
        hex(&m.info_hash.unwrap()),
        "decbe86b17c7e330ea81c8f85b4af50609886bac"
    );
    assert_eq!(m.info.version, Version::V1);
    assert!(m.info.private && m.info.multi_file);
    let files: Vec<(String, u64)> = m
        .info
        .files
        .iter()
        .map(|f| (f.path.join("/"), f.length))
        .collect();
    assert_eq!(
        files,
        [
            ("pack/a.bin".to_string(), 30000),
            ("pack/sub/b.dat".to_string(), 5000)
        ]
    );
    assert_eq!(
        m.tracker_tiers(),
        [
            vec!["http://t1.example/announce", "http://t2.example/announce"],
            vec!["udp://t3.example:6969/announce"]
        ]
    );
    assert_eq!(m.url_list, ["http://seed.example/files/"]);
    assert_eq!(m.comment.as_deref(), Some("made by torf"));
    assert_eq!(m.creation_date, Some(1_700_000_000));
    let data = [a_bin(), b_dat()].concat();
    assert_eq!(m.info.piece_hashes, piece_hashes(&data, 16384));
}

#[test]
fn torf_single_file() {
    let m = Metainfo::parse(include_bytes!("data/torf-single.torrent")).unwrap();
    assert_eq!(
        hex(&m.info_hash.unwrap()),
        "de9e16a2eeccb137591bb93efab9a6b8c459e39a"
    );
    assert!(!m.info.multi_file && !m.info.private);
    assert_eq!(m.info.files[0].path, ["single.bin"]);
    assert_eq!(m.info.piece_hashes, piece_hashes(&a_bin()[..20000], 16384));
    assert_eq!(m.tracker_tiers(), [vec!["http://t1.example/announce"]]);
}
