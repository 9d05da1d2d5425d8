//! Differential test: the info-hash equals SHA-1 over the `info` bytes as `bendy` (an
//! independent bencode decoder) delimits them, for random torrents from the writer.

use bendy::decoding::{Decoder, Object};
use proptest::prelude::*;
use sha1::{Digest, Sha1};
use swarmget_bt_wire::metainfo::{Metainfo, TorrentBuilder};

/// The raw `info` dictionary, found by bendy.
fn bendy_info(torrent: &[u8]) -> Vec<u8> {
    let mut decoder = Decoder::new(torrent);
    let Some(Object::Dict(mut top)) = decoder.next_object().unwrap() else {
        panic!("not a dictionary");
    };
    while let Some((key, value)) = top.next_pair().unwrap() {
        if key == b"info" {
            let Object::Dict(info) = value else {
                panic!("info is not a dictionary")
            };
            return info.into_raw().unwrap().to_vec();
        }
    }
    panic!("no info");
}

fn component() -> impl Strategy<Value = String> {
    "[a-z0-9_ ]{1,8}".prop_filter("reserved names", |c| {
        swarmget_bt_wire::metainfo::path_problem(c).is_none()
    })
}

prop_compose! {
    fn torrent()(
        files in prop::collection::vec((prop::collection::vec(component(), 1..4), 0u64..200_000), 1..6),
        shift in 14u32..18,
        private in any::<bool>(),
        trackers in prop::collection::vec("http://[a-z]{1,5}/announce", 0..3),
    ) -> Vec<u8> {
        // Distinct paths: suffix each file's last component with its index.
        let files: Vec<(Vec<String>, u64)> = files
            .into_iter()
            .enumerate()
            .map(|(i, (mut p, len))| {
                let last = p.pop().unwrap();
                p.push(format!("{last}.{i}"));
                (p, len)
            })
            .collect();
        let piece_length = 1u64 << shift;
        // A torrent of empty files only is refused; give it one byte.
        let mut files = files;
        if files.iter().all(|f| f.1 == 0) {
            files[0].1 = 1;
        }
        let total = files.iter().try_fold(0u64, |t, f| t.checked_add(f.1)).unwrap();
        let count = usize::try_from(total.div_ceil(piece_length)).unwrap();
        let hashes = (0..count).map(|i| [(i % 251) as u8; 20]).collect();
        TorrentBuilder::multi("t", files, piece_length, hashes)
            .trackers(trackers.into_iter().map(|t| vec![t]).collect())
            .private(private)
            .build()
            .unwrap()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn info_hash_matches_bendys_span(bytes in torrent()) {
        let m = Metainfo::parse(&bytes).unwrap();
        let raw = bendy_info(&bytes);
        prop_assert_eq!(&m.info_bytes, &raw);
        prop_assert_eq!(m.info_hash, Some(Sha1::digest(&raw).into()));
    }
}
