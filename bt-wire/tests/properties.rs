//! Properties over generated input: path checking decides exactly which torrents are
//! refused, and announce URLs carry the info-hash and peer id bytes exactly.

use proptest::prelude::*;
use swarmget_bt_wire::metainfo::{Metainfo, MetainfoError, PathProblem, TorrentBuilder};
use swarmget_bt_wire::tracker::{Announce, Event, announce_url};

/// Components mixing ordinary text with every unsafe shape, each with the problem it has
/// by construction (an oracle independent of the code under test).
fn component() -> impl Strategy<Value = (String, Option<PathProblem>)> {
    let bad = |s: BoxedStrategy<String>, p: PathProblem| s.prop_map(move |c| (c, Some(p)));
    prop_oneof![
        "[a-z]{1,6}"
            .prop_filter("device names", |c| !["con", "prn", "aux", "nul"]
                .contains(&c.as_str()))
            .prop_map(|c| (c, None)),
        bad(Just(String::new()).boxed(), PathProblem::Empty),
        bad(Just(".".to_string()).boxed(), PathProblem::Dot),
        bad(Just("..".to_string()).boxed(), PathProblem::DotDot),
        bad(
            "[a-z]{0,2}[/\\\\][a-z]{0,2}".boxed(),
            PathProblem::Separator
        ),
        bad("[A-Za-z]:[a-z]{0,3}".boxed(), PathProblem::DriveLetter),
        bad("[a-z]{0,2}\u{0}".boxed(), PathProblem::Nul),
        bad(
            prop_oneof![Just("CON"), Just("nul.txt"), Just("Com3"), Just("LPT1.x")]
                .prop_map(String::from)
                .boxed(),
            PathProblem::ReservedName
        ),
    ]
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_torrent_is_refused_exactly_when_a_component_is_unsafe(
        paths in prop::collection::vec(prop::collection::vec(component(), 1..4), 1..4)
    ) {
        let files: Vec<(Vec<String>, u64)> = paths
            .iter()
            .enumerate()
            .map(|(i, p)| {
                // A distinct, safe last component keeps paths from colliding.
                let mut p: Vec<String> = p.iter().map(|(c, _)| c.clone()).collect();
                p.push(format!("f{i}"));
                (p, 1)
            })
            .collect();
        let unsafe_component = paths.iter().flatten().find_map(|(_, problem)| *problem);
        let hashes = vec![[0u8; 20]; 1];
        let result = TorrentBuilder::multi("top", files, 16 * 1024, hashes).build();
        match (unsafe_component, result) {
            (None, Ok(_)) => {}
            (Some(problem), Err(MetainfoError::UnsafePath { problem: p, .. })) => {
                // The first problem in file order is the one reported.
                prop_assert_eq!(p, problem);
            }
            (expected, got) => prop_assert!(false, "expected {:?}, got {:?}", expected, got),
        }
    }

    #[test]
    fn announce_urls_carry_the_exact_bytes(
        info_hash in any::<[u8; 20]>(),
        peer_id in any::<[u8; 20]>(),
    ) {
        let a = Announce {
            info_hash,
            peer_id,
            port: 1,
            uploaded: 0,
            downloaded: 0,
            left: 0,
            event: Event::None,
            numwant: None,
            key: 0,
            tracker_id: None,
            ip: None,
        };
        let url = announce_url("http://t/announce", &a);
        let query = url.split_once('?').unwrap().1;
        let field = |name: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
                .unwrap()
                .to_string()
        };
        prop_assert_eq!(percent_decode(&field("info_hash")), info_hash.to_vec());
        prop_assert_eq!(percent_decode(&field("peer_id")), peer_id.to_vec());
        prop_assert!(url.is_ascii() && !url.contains(' ') && !url.contains('#'));
    }

    /// Walking every piece's spans in order visits every byte of every file once, in
    /// order: the map from pieces to files loses and repeats nothing.
    #[test]
    fn piece_spans_tile_the_files(
        lengths in prop::collection::vec(0u64..100_000, 1..8),
        shift in 14u32..17,
    ) {
        let mut lengths = lengths;
        if lengths.iter().all(|&l| l == 0) {
            lengths[0] = 1;
        }
        let files: Vec<(Vec<String>, u64)> =
            lengths.iter().enumerate().map(|(i, &l)| (vec![format!("f{i}")], l)).collect();
        let piece_length = 1u64 << shift;
        let total = lengths.iter().try_fold(0u64, |t, &l| t.checked_add(l)).unwrap();
        let count = usize::try_from(total.div_ceil(piece_length)).unwrap();
        let bytes = TorrentBuilder::multi("t", files, piece_length, vec![[0; 20]; count])
            .build()
            .unwrap();
        let info = Metainfo::parse(&bytes).unwrap().info;
        // (file, next offset expected) as the walk goes.
        let mut walked: Vec<u64> = vec![0; lengths.len()];
        let mut last_file = 0;
        for piece in 0..info.piece_count() {
            let spans = info.piece_spans(piece);
            let size: u64 = spans.iter().map(|s| s.length).sum();
            prop_assert_eq!(Some(size), info.piece_size(piece));
            prop_assert!(size == piece_length || piece + 1 == info.piece_count());
            for s in spans {
                prop_assert!(s.file >= last_file, "files out of order");
                prop_assert_eq!(s.offset, walked[s.file], "gap or overlap in file {}", s.file);
                walked[s.file] += s.length;
                last_file = s.file;
            }
        }
        prop_assert_eq!(walked, lengths);
    }
}
