use sha1::{Digest, Sha1};
use sha2::Sha256;
use swarmget_bencode::{Encoder, OwnedValue};

use super::*;

const PL: u64 = 16 * 1024;

/// One hash per piece of `total` bytes, refusing (not panicking on) counts that cannot exist.
fn hashes(total: u64, piece_length: u64) -> Vec<[u8; 20]> {
    let count = usize::try_from(total.div_ceil(piece_length)).expect("test sizes fit usize");
    (0..count).map(|i| [i as u8; 20]).collect()
}

/// A torrent from an `info` written by `info`, with `extra` top-level entries written by
/// `top` (keys are sorted by the encoder).
fn torrent(
    info: impl FnOnce(&mut swarmget_bencode::DictEncoder<'_>),
    top: impl FnOnce(&mut swarmget_bencode::DictEncoder<'_>),
) -> Vec<u8> {
    let mut e = Encoder::new();
    e.value().dict(|d| {
        d.entry(b"info").dict(info);
        top(d);
    });
    e.into_bytes()
}

fn v1_single(name: &str, length: i64, piece_length: i64, pieces: &[[u8; 20]]) -> Vec<u8> {
    torrent(
        |i| {
            i.entry(b"length").int(length);
            i.entry(b"name").str(name);
            i.entry(b"piece length").int(piece_length);
            i.entry(b"pieces").bytes(&pieces.concat());
        },
        |_| {},
    )
}

fn v1_multi(files: &[(&[&str], i64, &str)], pieces: &[[u8; 20]]) -> Vec<u8> {
    torrent(
        |i| {
            i.entry(b"files").list(|l| {
                for (path, len, attr) in files {
                    l.item().dict(|f| {
                        if !attr.is_empty() {
                            f.entry(b"attr").str(attr);
                        }
                        f.entry(b"length").int(*len);
                        f.entry(b"path")
                            .list(|p| path.iter().for_each(|c| p.item().str(c)));
                    })
                }
            });
            i.entry(b"name").str("dir");
            i.entry(b"piece length").int(PL as i64);
            i.entry(b"pieces").bytes(&pieces.concat());
        },
        |_| {},
    )
}

#[test]
fn single_file_fields_and_info_hash_over_the_raw_bytes() {
    let bytes = v1_single("a.bin", 40_000, PL as i64, &hashes(40_000, PL));
    let m = Metainfo::parse(&bytes).unwrap();
    assert_eq!(m.info.name, "a.bin");
    assert_eq!(m.info.version, Version::V1);
    assert!(!m.info.multi_file);
    assert_eq!(m.info.files.len(), 1);
    assert_eq!(m.info.files[0].path, vec!["a.bin"]);
    assert_eq!(m.info.total_length, 40_000);
    assert_eq!(m.info.piece_count(), 3);
    assert_eq!(m.info.piece_size(2), Some(40_000 - 2 * PL));
    assert_eq!(m.info.piece_size(3), None);
    // The info dictionary starts after "d4:info" and runs to the torrent's last byte but one.
    let raw = &bytes[7..bytes.len() - 1];
    assert_eq!(m.info_bytes, raw);
    assert_eq!(m.info_hash, Some(Sha1::digest(raw).into()));
    assert_eq!(m.info_hash_v2, None);
    assert_eq!(m.wire_info_hash(), m.info_hash);
}

#[test]
fn unsorted_keys_are_hashed_as_written() {
    // `name` before `length`: not canonical, but real; the hash covers these bytes.
    let info = b"d4:name1:a6:lengthi5e12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
    let mut bytes = b"d4:info".to_vec();
    bytes.extend_from_slice(info);
    bytes.push(b'e');
    let m = Metainfo::parse(&bytes).unwrap();
    assert_eq!(m.info_hash, Some(Sha1::digest(info).into()));
}

#[test]
fn multi_file_tiers_web_seeds_private_and_padding() {
    let files: &[(&[&str], i64, &str)] = &[
        (&["a"], 1000, ""),
        (&[".pad", "15384"], 15384, "p"),
        (&["sub", "b"], 20_000, "x"),
        (&[".pad", "15384"], 2616, "p"),
        (&["c"], 1, "h"),
    ];
    let total: i64 = files.iter().map(|f| f.1).sum();
    let mut bytes = v1_multi(files, &hashes(total as u64, PL));
    // Add the top-level keys by re-encoding with them.
    let mut top = match OwnedValue::from(&swarmget_bencode::decode(&bytes).unwrap()) {
        OwnedValue::Dict(d) => d,
        _ => unreachable!(),
    };
    let s = |t: &str| OwnedValue::Bytes(t.as_bytes().to_vec());
    top.insert(b"announce".to_vec(), s("http://t1/a"));
    top.insert(
        b"announce-list".to_vec(),
        OwnedValue::List(vec![
            OwnedValue::List(vec![s("http://t1/a"), s("udp://t2:80")]),
            OwnedValue::List(vec![]),
            OwnedValue::List(vec![s("http://t3/a")]),
        ]),
    );
    top.insert(b"url-list".to_vec(), s("http://seed/"));
    top.insert(b"comment".to_vec(), s("hi"));
    top.insert(b"creation date".to_vec(), OwnedValue::Int(1_700_000_000));
    if let Some(OwnedValue::Dict(info)) = top.get_mut(b"info".as_slice()) {
        info.insert(b"private".to_vec(), OwnedValue::Int(1));
    }
    bytes = OwnedValue::Dict(top).encode();
    let m = Metainfo::parse(&bytes).unwrap();
    assert!(m.info.multi_file && m.info.private);
    assert_eq!(m.info.files.len(), 5);
    assert_eq!(m.info.files[2].path, vec!["dir", "sub", "b"]);
    assert_eq!(m.info.files[2].offset, 1000 + 15384);
    assert!(m.info.files[1].padding && m.info.files[3].padding && !m.info.files[2].padding);
    assert!(m.info.files[2].executable && m.info.files[4].hidden);
    assert_eq!(
        m.tracker_tiers(),
        vec![vec!["http://t1/a", "udp://t2:80"], vec!["http://t3/a"]]
    );
    assert_eq!(m.url_list, vec!["http://seed/"]);
    assert_eq!(m.comment.as_deref(), Some("hi"));
    assert_eq!(m.creation_date, Some(1_700_000_000));
}

#[test]
fn url_list_as_a_list_and_announce_alone() {
    let m = Metainfo::parse(&torrent(
        |i| {
            i.entry(b"length").int(1);
            i.entry(b"name").str("x");
            i.entry(b"piece length").int(PL as i64);
            i.entry(b"pieces").bytes(&[0; 20]);
        },
        |t| {
            t.entry(b"announce").str("http://only/");
            t.entry(b"url-list").list(|l| {
                l.item().str("http://a/");
                l.item().str("http://b/");
            });
        },
    ))
    .unwrap();
    assert_eq!(m.url_list, vec!["http://a/", "http://b/"]);
    assert_eq!(m.tracker_tiers(), vec![vec!["http://only/"]]);
}

#[test]
fn names_that_would_escape_are_refused() {
    let cases: &[(&[&str], PathProblem)] = &[
        (&["..", "etc", "passwd"], PathProblem::DotDot),
        (&["a", "."], PathProblem::Dot),
        (&["/etc"], PathProblem::Separator),
        (&["a\\..\\..\\b"], PathProblem::Separator),
        (&["C:", "x"], PathProblem::DriveLetter),
        (&["a\0"], PathProblem::Nul),
        (&["aux.txt"], PathProblem::ReservedName),
        (&[""], PathProblem::Empty),
    ];
    for (path, problem) in cases {
        let bytes = v1_multi(&[(path, 1, "")], &hashes(1, PL));
        match Metainfo::parse(&bytes) {
            Err(MetainfoError::UnsafePath { problem: p, .. }) => {
                assert_eq!(p, *problem, "{path:?}")
            }
            other => panic!("{path:?}: {other:?}"),
        }
    }
    let bytes = v1_multi(&[(&[], 1, "")], &hashes(1, PL));
    // An empty `path` list leaves only the torrent's name: a file named like the directory.
    assert!(Metainfo::parse(&bytes).is_ok());
    let bad_name = v1_single("../up", 1, PL as i64, &hashes(1, PL));
    assert!(matches!(
        Metainfo::parse(&bad_name),
        Err(MetainfoError::UnsafePath {
            problem: PathProblem::Separator,
            ..
        })
    ));
    let dot_name = v1_single("..", 1, PL as i64, &hashes(1, PL));
    assert!(matches!(
        Metainfo::parse(&dot_name),
        Err(MetainfoError::UnsafePath {
            problem: PathProblem::DotDot,
            ..
        })
    ));
}

#[test]
fn colliding_paths_are_refused() {
    let same = v1_multi(&[(&["a"], 1, ""), (&["a"], 1, "")], &hashes(2, PL));
    assert_eq!(
        Metainfo::parse(&same),
        Err(MetainfoError::DuplicatePath("dir/a".into()))
    );
    let file_and_dir = v1_multi(&[(&["a", "b"], 1, ""), (&["a"], 1, "")], &hashes(2, PL));
    assert_eq!(
        Metainfo::parse(&file_and_dir),
        Err(MetainfoError::DuplicatePath("dir/a".into()))
    );
    let siblings = v1_multi(&[(&["a", "b"], 1, ""), (&["ab"], 1, "")], &hashes(2, PL));
    assert!(Metainfo::parse(&siblings).is_ok());
}

#[test]
fn lengths_and_counts_are_checked() {
    let n = |t: &[u8]| Metainfo::parse(t);
    assert_eq!(
        n(&v1_single("a", 40_000, PL as i64, &hashes(20_000, PL))),
        Err(MetainfoError::PieceCountMismatch {
            found: 2,
            expected: 3,
            total_length: 40_000,
            piece_length: PL
        })
    );
    // A total at the limit needs ~5.6e14 hashes: refused by count, without allocating.
    assert!(matches!(
        n(&v1_single("a", i64::MAX, PL as i64, &hashes(1, PL))),
        Err(MetainfoError::PieceCountMismatch {
            expected: 562_949_953_421_312,
            ..
        })
    ));
    let over = v1_multi(&[(&["a"], i64::MAX, ""), (&["b"], 1, "")], &hashes(1, PL));
    assert_eq!(n(&over), Err(MetainfoError::TotalTooLarge));
    assert!(matches!(
        n(&v1_single("a", -1, PL as i64, &hashes(1, PL))),
        Err(MetainfoError::OutOfRange {
            key: "info.length",
            value: -1,
            ..
        })
    ));
    for bad in [0, 1000, 128 * 1024 * 1024, -(PL as i64)] {
        assert!(
            matches!(
                n(&v1_single("a", 1, bad, &hashes(1, PL))),
                Err(MetainfoError::OutOfRange {
                    key: "info.piece length",
                    ..
                })
            ),
            "{bad}"
        );
    }
    let mut odd = v1_single("a", 1, PL as i64, &[]);
    odd = String::from_utf8(odd)
        .unwrap()
        .replace("6:pieces0:", "6:pieces3:abc")
        .into_bytes();
    assert_eq!(n(&odd), Err(MetainfoError::PiecesNotMultipleOf20(3)));
    assert_eq!(
        n(&v1_single("a", 0, PL as i64, &[])),
        Err(MetainfoError::Empty)
    );
    assert_eq!(n(b"le"), Err(MetainfoError::NotADictionary));
    assert_eq!(n(b"de"), Err(MetainfoError::Missing("info")));
    assert!(matches!(n(b"d4:info"), Err(MetainfoError::Bencode(_))));
}

/// A v2 info with one file of `length` bytes whose piece layer is `layer`.
fn v2_torrent(length: i64, piece_length: i64, root: [u8; 32], layer: Option<Vec<u8>>) -> Vec<u8> {
    torrent(
        |i| {
            i.entry(b"file tree").dict(|t| {
                t.entry(b"d").dict(|d| {
                    d.entry(b"f.bin").dict(|f| {
                        f.entry(b"").dict(|leaf| {
                            leaf.entry(b"length").int(length);
                            leaf.entry(b"pieces root").bytes(&root);
                        })
                    });
                    d.entry(b"small").dict(|f| {
                        f.entry(b"").dict(|leaf| {
                            leaf.entry(b"length").int(10);
                            leaf.entry(b"pieces root").bytes(&[7; 32]);
                        })
                    });
                })
            });
            i.entry(b"meta version").int(2);
            i.entry(b"name").str("v2");
            i.entry(b"piece length").int(piece_length);
        },
        |t| {
            if let Some(layer) = &layer {
                t.entry(b"piece layers")
                    .dict(|l| l.entry(&root).bytes(layer));
            }
        },
    )
}

fn layer_of(pieces: usize, piece_length: u64) -> (Vec<[u8; 32]>, [u8; 32]) {
    let hashes: Vec<[u8; 32]> = (0..pieces)
        .map(|i| Sha256::digest([i as u8]).into())
        .collect();
    let root = merkle::root(
        &hashes,
        merkle::zero_subtree_root(piece_length / merkle::BLOCK_SIZE),
    );
    (hashes, root)
}

#[test]
fn v2_layers_are_checked_against_the_pieces_root() {
    let pl = 4 * PL;
    let len = (2 * pl + 5) as i64;
    let (layer, root) = layer_of(3, pl);
    let bytes = v2_torrent(len, pl as i64, root, Some(layer.concat()));
    let m = Metainfo::parse(&bytes).unwrap();
    assert_eq!(m.info.version, Version::V2);
    assert_eq!(m.info_hash, None);
    let raw = &m.info_bytes;
    assert_eq!(m.info_hash_v2, Some(Sha256::digest(raw).into()));
    assert_eq!(
        m.wire_info_hash().unwrap()[..],
        m.info_hash_v2.unwrap()[..20]
    );
    assert_eq!(m.info.files[0].path, vec!["v2", "d", "f.bin"]);
    assert_eq!(m.info.files[0].piece_layer, layer);
    assert_eq!(
        m.info.files[1].offset,
        3 * pl,
        "v2 files start on piece boundaries"
    );
    assert_eq!(m.info.piece_count(), 4);

    let mut wrong = layer.clone();
    wrong[2][0] ^= 1;
    assert_eq!(
        Metainfo::parse(&v2_torrent(len, pl as i64, root, Some(wrong.concat()))),
        Err(MetainfoError::PieceLayerRootMismatch("v2/d/f.bin".into()))
    );
    assert_eq!(
        Metainfo::parse(&v2_torrent(len, pl as i64, root, None)),
        Err(MetainfoError::MissingPieceLayer("v2/d/f.bin".into()))
    );
    assert_eq!(
        Metainfo::parse(&v2_torrent(len, pl as i64, root, Some(layer[..2].concat()))),
        Err(MetainfoError::PieceLayerLength {
            path: "v2/d/f.bin".into(),
            found: 64,
            expected: 96
        })
    );
    assert_eq!(
        Metainfo::parse(&v2_torrent(len, 3 * PL as i64, root, None)),
        Err(MetainfoError::PieceLengthNotPowerOfTwo(3 * PL))
    );
    // The same info without its layers is fine as ut_metadata would deliver it.
    let info_only = Metainfo::from_info_bytes(&m.info_bytes).unwrap();
    assert_eq!(info_only.info_hash_v2, m.info_hash_v2);
}

#[test]
fn hybrid_files_must_agree() {
    let build = |v1_len: i64| {
        let (layer, root) = layer_of(2, PL);
        torrent(
            |i| {
                i.entry(b"file tree").dict(|t| {
                    t.entry(b"a").dict(|f| {
                        f.entry(b"").dict(|leaf| {
                            leaf.entry(b"length").int(2 * PL as i64);
                            leaf.entry(b"pieces root").bytes(&root);
                        })
                    });
                    t.entry(b"b").dict(|f| {
                        f.entry(b"").dict(|leaf| {
                            leaf.entry(b"length").int(3);
                            leaf.entry(b"pieces root").bytes(&[1; 32]);
                        })
                    });
                });
                i.entry(b"files").list(|l| {
                    for (p, len, attr) in [("a", v1_len, ""), ("b", 3, "")] {
                        l.item().dict(|f| {
                            if !attr.is_empty() {
                                f.entry(b"attr").str(attr);
                            }
                            f.entry(b"length").int(len);
                            f.entry(b"path").list(|x| x.item().str(p));
                        });
                    }
                });
                i.entry(b"meta version").int(2);
                i.entry(b"name").str("h");
                i.entry(b"piece length").int(PL as i64);
                let total = (v1_len + 3) as u64;
                i.entry(b"pieces").bytes(&hashes(total, PL).concat());
            },
            |t| {
                t.entry(b"piece layers")
                    .dict(|l| l.entry(&root).bytes(&layer.concat()))
            },
        )
    };
    let m = Metainfo::parse(&build(2 * PL as i64)).unwrap();
    assert_eq!(m.info.version, Version::Hybrid);
    assert!(m.info_hash.is_some() && m.info_hash_v2.is_some());
    assert_eq!(m.info.files[1].pieces_root, Some([1; 32]));
    assert_eq!(
        Metainfo::parse(&build(2 * PL as i64 - 1)),
        Err(MetainfoError::HybridMismatch("h/a".into()))
    );
}

#[test]
fn v2_tree_shape_is_checked() {
    let tree = |f: &dyn Fn(&mut swarmget_bencode::DictEncoder<'_>)| {
        torrent(
            |i| {
                i.entry(b"file tree").dict(f);
                i.entry(b"meta version").int(2);
                i.entry(b"name").str("n");
                i.entry(b"piece length").int(PL as i64);
            },
            |_| {},
        )
    };
    let escape = tree(&|t| {
        t.entry(b"..")
            .dict(|f| f.entry(b"").dict(|l| l.entry(b"length").int(0)))
    });
    assert!(matches!(
        Metainfo::parse(&escape),
        Err(MetainfoError::UnsafePath {
            problem: PathProblem::DotDot,
            ..
        })
    ));
    let empty_dir = tree(&|t| t.entry(b"d").dict(|_| {}));
    assert_eq!(
        Metainfo::parse(&empty_dir),
        Err(MetainfoError::MalformedFileTree("n/d".into()))
    );
    let no_root = tree(&|t| {
        t.entry(b"f")
            .dict(|f| f.entry(b"").dict(|l| l.entry(b"length").int(5)))
    });
    assert_eq!(
        Metainfo::parse(&no_root),
        Err(MetainfoError::Missing("info.file tree pieces root"))
    );
    let single = tree(&|t| {
        t.entry(b"only").dict(|f| {
            f.entry(b"").dict(|l| {
                l.entry(b"length").int(5);
                l.entry(b"pieces root").bytes(&[3; 32]);
            })
        })
    });
    let m = Metainfo::parse(&single).unwrap();
    assert!(!m.info.multi_file);
    assert_eq!(m.info.files[0].path, vec!["only"]);
    let v3 = torrent(
        |i| {
            i.entry(b"meta version").int(3);
            i.entry(b"name").str("n");
            i.entry(b"piece length").int(PL as i64);
        },
        |_| {},
    );
    assert_eq!(
        Metainfo::parse(&v3),
        Err(MetainfoError::UnsupportedVersion(3))
    );
}

#[test]
fn the_writer_round_trips() {
    let files = vec![
        (vec!["a".to_string()], 20_000u64),
        (vec!["s".to_string(), "b".to_string()], 30_000),
    ];
    let bytes = TorrentBuilder::multi("top", files, PL, hashes(50_000, PL))
        .trackers(vec![vec!["http://a/".into()], vec!["http://b/".into()]])
        .web_seeds(vec!["http://w/".into()])
        .private(true)
        .comment("c")
        .created_by("swarmget")
        .creation_date(5)
        .build()
        .unwrap();
    let m = Metainfo::parse(&bytes).unwrap();
    assert_eq!(m.info.files[1].path, vec!["top", "s", "b"]);
    assert_eq!(m.info.piece_hashes, hashes(50_000, PL));
    assert_eq!(m.announce.as_deref(), Some("http://a/"));
    assert_eq!(m.announce_list.len(), 2);
    assert_eq!(m.url_list, vec!["http://w/"]);
    assert!(m.info.private);
    assert_eq!(m.created_by.as_deref(), Some("swarmget"));
    assert!(
        swarmget_bencode::Decoder::new()
            .decode(&bytes)
            .unwrap()
            .is_canonical()
    );

    let single = TorrentBuilder::single("f", 1, PL, hashes(1, PL))
        .build()
        .unwrap();
    assert_eq!(Metainfo::parse(&single).unwrap().info.total_length, 1);
    // The writer refuses what the parser would refuse.
    let wrong_count = TorrentBuilder::single("f", PL + 1, PL, hashes(1, PL)).build();
    assert!(matches!(
        wrong_count,
        Err(MetainfoError::PieceCountMismatch { .. })
    ));
    let escape =
        TorrentBuilder::multi("f", vec![(vec!["..".into()], 1)], PL, hashes(1, PL)).build();
    assert!(matches!(escape, Err(MetainfoError::UnsafePath { .. })));
    let huge = TorrentBuilder::single("f", u64::MAX, PL, vec![]).build();
    assert_eq!(huge, Err(MetainfoError::TotalTooLarge));
}

#[test]
fn hybrid_files_must_start_on_piece_boundaries() {
    let build = |pad: bool| {
        torrent(
            |i| {
                i.entry(b"file tree").dict(|t| {
                    for (name, len, root) in [(b"a", 100, [1u8; 32]), (b"b", 3, [2; 32])] {
                        t.entry(name).dict(|f| {
                            f.entry(b"").dict(|leaf| {
                                leaf.entry(b"length").int(len);
                                leaf.entry(b"pieces root").bytes(&root);
                            })
                        });
                    }
                });
                let mut files = vec![("a", 100, "")];
                if pad {
                    files.push((".pad", PL as i64 - 100, "p"));
                }
                files.push(("b", 3, ""));
                let total: i64 = files.iter().map(|f| f.1).sum();
                i.entry(b"files").list(|l| {
                    for (p, len, attr) in &files {
                        l.item().dict(|f| {
                            if !attr.is_empty() {
                                f.entry(b"attr").str(attr);
                            }
                            f.entry(b"length").int(*len);
                            f.entry(b"path").list(|x| x.item().str(p));
                        });
                    }
                });
                i.entry(b"meta version").int(2);
                i.entry(b"name").str("h");
                i.entry(b"piece length").int(PL as i64);
                i.entry(b"pieces").bytes(&hashes(total as u64, PL).concat());
            },
            |_| {},
        )
    };
    assert_eq!(
        Metainfo::parse(&build(true)).unwrap().info.files[2].offset,
        PL
    );
    assert_eq!(
        Metainfo::parse(&build(false)),
        Err(MetainfoError::HybridMismatch("h/b".into()))
    );
}

#[test]
fn piece_spans_cross_v1_files_and_stop_at_v2_files() {
    let files: &[(&[&str], i64, &str)] =
        &[(&["a"], 20_000, ""), (&["b"], 5, ""), (&["c"], 30_000, "")];
    let m = Metainfo::parse(&v1_multi(files, &hashes(50_005, PL))).unwrap();
    let span = |file, offset, length| FileSpan {
        file,
        offset,
        length,
    };
    assert_eq!(m.info.piece_spans(0), [span(0, 0, PL)]);
    assert_eq!(
        m.info.piece_spans(1),
        [
            span(0, PL, 20_000 - PL),
            span(1, 0, 5),
            span(2, 0, 2 * PL - 20_005)
        ]
    );
    assert_eq!(
        m.info.piece_spans(3),
        [span(2, 3 * PL - 20_005, 50_005 - 3 * PL)]
    );
    assert_eq!(m.info.piece_size(3), Some(50_005 - 3 * PL));
    assert!(m.info.piece_spans(4).is_empty());
    assert_eq!(m.info.piece_size(4), None);

    let pl = 4 * PL;
    let (layer, root) = layer_of(3, pl);
    let v2 = Metainfo::parse(&v2_torrent(
        (2 * pl + 5) as i64,
        pl as i64,
        root,
        Some(layer.concat()),
    ))
    .unwrap();
    // f.bin: pieces 0..=2, the last 5 bytes long; small: piece 3, 10 bytes.
    assert_eq!(v2.info.piece_spans(2), [span(0, 2 * pl, 5)]);
    assert_eq!(v2.info.piece_spans(3), [span(1, 0, 10)]);
    assert_eq!(v2.info.piece_size(3), Some(10));
    assert!(v2.info.piece_spans(4).is_empty());
}

#[test]
fn repeated_keys_that_shape_the_torrent_are_refused() {
    let info = "d6:lengthi5e4:name1:a12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaae";
    let twice = format!("d4:info{info}4:info{info}e");
    assert_eq!(
        Metainfo::parse(twice.as_bytes()),
        Err(MetainfoError::DuplicateKey("info"))
    );
    let two_names = "d4:infod6:lengthi5e4:name1:a4:name2:..12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee";
    assert_eq!(
        Metainfo::parse(two_names.as_bytes()),
        Err(MetainfoError::DuplicateKey("info.name"))
    );
    // A repeated key of no consequence is tolerated, as lenient decoding intends.
    let two_comments = format!("d7:comment1:x7:comment1:y4:info{info}e");
    assert!(Metainfo::parse(two_comments.as_bytes()).is_ok());
}
