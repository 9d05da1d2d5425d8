//! Reading links: every URN kind, every parameter, groups, and each error rule.

use swarmget_magnet_uri::{Encoding, ErrorKind, ExactTopic, Group, Magnet, Multihash, PeerHost};

fn one(link: &str) -> Group {
    let magnet = Magnet::parse(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    assert_eq!(magnet.groups.len(), 1, "{link}");
    magnet.groups.into_iter().next().unwrap()
}

fn topic(urn: &str) -> ExactTopic {
    let group = one(&format!("magnet:?xt={urn}"));
    assert_eq!(group.exact_topics.len(), 1);
    group.exact_topics.into_iter().next().unwrap()
}

fn error(link: &str) -> (Option<String>, usize, ErrorKind) {
    let e = Magnet::parse(link).expect_err(link);
    (
        e.parameter().map(str::to_owned),
        e.offset(),
        e.kind().clone(),
    )
}

const SHA1_EMPTY: [u8; 20] = [
    0xda, 0x39, 0xa3, 0xee, 0x5e, 0x6b, 0x4b, 0x0d, 0x32, 0x55, 0xbf, 0xef, 0x95, 0x60, 0x18, 0x90,
    0xaf, 0xd8, 0x07, 0x09,
];
const TTH_EMPTY: [u8; 24] = [
    0x5d, 0x9e, 0xd0, 0x0a, 0x03, 0x0e, 0x63, 0x8b, 0xdb, 0x75, 0x3a, 0x6a, 0x24, 0xfb, 0x90, 0x0e,
    0x5a, 0x63, 0xb8, 0xe7, 0x3e, 0x6c, 0x25, 0xb6,
];

#[test]
fn btih_in_hex_and_base32_is_the_same_hash() {
    let hex = topic("urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
    let upper = topic("urn:btih:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A");
    let base32 = topic("urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK");
    assert_eq!(hex, upper);
    assert_eq!(hex, base32);
    assert!(matches!(hex, ExactTopic::Btih(h) if h[0] == 0xc1 && h[19] == 0x8a));
    // The scheme, the `urn:` prefix and the kind are case-insensitive too.
    let shouting =
        Magnet::parse("MAGNET:?xt=URN:BTIH:C12FE1C06BBA254A9DC9F519B335AA7C1367A88A").unwrap();
    assert_eq!(shouting.groups[0].exact_topics, [hex]);
}

#[test]
fn btmh_is_a_sha2_256_multihash() {
    let digest: String = "ab".repeat(32);
    let t = topic(&format!("urn:btmh:1220{digest}"));
    assert_eq!(t, ExactTopic::Btmh(Multihash::sha2_256([0xab; 32])));
    let ExactTopic::Btmh(m) = t else {
        unreachable!()
    };
    assert_eq!(m.sha2_256_digest(), Some([0xab; 32]));
    // The length byte must match what follows.
    let (_, _, kind) = error(&format!("magnet:?xt=urn:btmh:1221{digest}"));
    assert!(matches!(kind, ErrorKind::BadMultihash { .. }), "{kind:?}");
    let (_, _, kind) = error("magnet:?xt=urn:btmh:122");
    assert!(
        matches!(
            kind,
            ErrorKind::BadLength {
                what: "btmh multihash",
                found: 3,
                ..
            }
        ),
        "{kind:?}"
    );
}

#[test]
fn sha1_accepts_base32_and_hex() {
    let b32 = topic("urn:sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    assert_eq!(b32, ExactTopic::Sha1(SHA1_EMPTY));
    assert_eq!(
        topic("urn:sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        b32
    );
    assert_eq!(topic("urn:sha1:3i42h3s6nnfq2msvx7xzkyayscx5qbyj"), b32);
}

#[test]
fn tiger_tree_and_its_shareaza_spellings() {
    let t = topic("urn:tree:tiger:LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNQ");
    assert_eq!(t, ExactTopic::TigerTree(TTH_EMPTY));
    assert_eq!(
        topic("urn:tree:tiger/:LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNQ"),
        t
    );
    assert_eq!(
        topic("urn:tree:tiger/1024:LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNQ"),
        t
    );
}

#[test]
fn bitprint_is_sha1_dot_tth() {
    let t = topic(
        "urn:bitprint:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ.LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNQ",
    );
    assert_eq!(
        t,
        ExactTopic::Bitprint {
            sha1: SHA1_EMPTY,
            tth: TTH_EMPTY
        }
    );
    let (_, _, kind) = error(
        "magnet:?xt=urn:bitprint:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJLWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNQ",
    );
    assert!(
        matches!(
            kind,
            ErrorKind::BadLength {
                what: "bitprint hash",
                found: 71,
                ..
            }
        ),
        "{kind:?}"
    );
    // An alphabet error in the TTH half points into the whole value.
    let (_, _, kind) = error(
        "magnet:?xt=urn:bitprint:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ.LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLN1",
    );
    assert_eq!(
        kind,
        ErrorKind::BadAlphabet {
            what: "bitprint hash",
            encoding: Encoding::Base32,
            at: 71,
            found: '1'
        }
    );
}

#[test]
fn ed2k_aich_kazaa_md5() {
    let ed2k = topic("urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C0");
    assert!(matches!(ed2k, ExactTopic::Ed2k(h) if h[0] == 0x31 && h[15] == 0xc0));
    assert_eq!(
        topic("urn:aich:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"),
        ExactTopic::Aich(SHA1_EMPTY)
    );
    assert_eq!(
        topic("urn:kzhash:da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ExactTopic::Kazaa(SHA1_EMPTY)
    );
    let md5 = topic("urn:md5:D41D8CD98F00B204E9800998ECF8427E");
    assert!(matches!(md5, ExactTopic::Md5(h) if h[0] == 0xd4 && h[15] == 0x7e));
    // MD5 in base32 (26 characters) is the same digest.
    assert_eq!(topic("urn:md5:2QOYZWMPACZAJ2MABGMOZ6CCPY"), md5);
}

#[test]
fn crc32_eight_characters_are_hex_others_decimal() {
    assert_eq!(topic("urn:crc32:8cdc1683"), ExactTopic::Crc32(0x8cdc_1683));
    assert_eq!(topic("urn:crc32:00000000"), ExactTopic::Crc32(0));
    assert_eq!(topic("urn:crc32:12345678"), ExactTopic::Crc32(0x1234_5678));
    assert_eq!(topic("urn:crc32:305419896"), ExactTopic::Crc32(0x1234_5678));
    assert_eq!(topic("urn:crc32:4294967295"), ExactTopic::Crc32(u32::MAX));
    assert_eq!(
        error("magnet:?xt=urn:crc32:4294967296").2,
        ErrorKind::OutOfRange {
            what: "crc32 value"
        }
    );
    assert!(matches!(
        error("magnet:?xt=urn:crc32:12ab").2,
        ErrorKind::BadAlphabet {
            encoding: Encoding::Decimal,
            at: 2,
            ..
        }
    ));
    assert!(matches!(
        error("magnet:?xt=urn:crc32:").2,
        ErrorKind::BadLength { found: 0, .. }
    ));
}

#[test]
fn unknown_urn_kinds_are_kept() {
    let t = topic("urn:sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_eq!(
        t,
        ExactTopic::Other {
            urn: "urn:sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .into()
        }
    );
    assert_eq!(t.kind(), None);
    assert_eq!(
        topic("http%3A%2F%2Fexample.org%2Fx"),
        ExactTopic::Other {
            urn: "http://example.org/x".into()
        }
    );
}

#[test]
fn every_parameter_lands_in_its_field() {
    let g = one(
        "magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=A%20b%2Bc&xl=10826029\
         &as=http%3A%2F%2Fa.example%2Ff&xs=dchub://example.org&kt=martin+luther+king%2B&mt=urn:sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\
         &tr=http%3A%2F%2Ft1%2Fannounce&tr=udp%3A%2F%2Ft2%3A80&ws=http%3A%2F%2Fseed%2Ff&so=0,2,4-6\
         &x.pe=10.0.0.1:6881&x.pe=[::1]:51413&x.pe=peer.example:1&x.foo=bar&custom=1&flag",
    );
    assert_eq!(g.display_name.as_deref(), Some("A b+c"));
    assert_eq!(g.exact_length, Some(10_826_029));
    assert_eq!(g.acceptable_sources, ["http://a.example/f"]);
    assert_eq!(g.exact_sources, ["dchub://example.org"]);
    assert_eq!(g.keywords.as_deref(), Some("martin luther king+"));
    assert_eq!(g.manifests, ["urn:sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ"]);
    assert_eq!(g.trackers, ["http://t1/announce", "udp://t2:80"]);
    assert_eq!(g.web_seeds, ["http://seed/f"]);
    assert_eq!(
        g.select_only.as_ref().unwrap().ranges(),
        &[0..=0, 2..=2, 4..=6]
    );
    assert_eq!(g.peers.len(), 3);
    assert_eq!(g.peers[1].host, PeerHost::Ip("::1".parse().unwrap()));
    assert_eq!(g.peers[1].port, 51413);
    assert_eq!(g.peers[2].host, PeerHost::Name("peer.example".into()));
    assert_eq!(
        g.extra,
        [
            ("x.foo".to_owned(), "bar".to_owned()),
            ("custom".into(), "1".into()),
            ("flag".into(), String::new())
        ]
    );
}

#[test]
fn reference_examples_parse() {
    // The reference text's examples, without the spaces its layout added.
    let zero = one(
        "magnet:?xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C0&xl=0&dn=zero_len.fil\
         &xt=urn:bitprint:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ.LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNQ\
         &xt=urn:md5:D41D8CD98F00B204E9800998ECF8427E",
    );
    assert_eq!(zero.exact_topics.len(), 3);
    assert_eq!(zero.display_name.as_deref(), Some("zero_len.fil"));
    let mediawiki = one(
        "magnet:?xt=urn:ed2k:354B15E68FB8F36D7CD88FF94116CDC1&xl=10826029&dn=mediawiki-1.15.1.tar.gz\
         &xt=urn:tree:tiger:7N5OAMRNGMSSEUE3ORHOKWN4WWIQ5X4EBOOTLJY&xt=urn:btih:QHQXPYWMACKDWKP47RRVIV7VOURXFE5Q\
         &tr=http%3A%2F%2Ftracker.example.org%2Fannounce.php%3Fuk%3D1111111111%26\
         &as=http%3A%2F%2Fdownload.wikimedia.org%2Fmediawiki%2F1.15%2Fmediawiki-1.15.1.tar.gz\
         &xs=http%3A%2F%2Fcache.example.org%2FXRX2PEFXOOEJFRVUCX6HMZMKS5TWG4K5&xs=dchub://example.org",
    );
    assert_eq!(
        mediawiki.trackers,
        ["http://tracker.example.org/announce.php?uk=1111111111&"]
    );
    assert_eq!(mediawiki.exact_sources.len(), 2);
    assert!(mediawiki.btih().is_some());
    let pair = Magnet::parse(
        "magnet:?xt.1=urn:sha1:YNCKHTQCWBTRNJIV4WNAE52SJUQCZO5C&xt.2=urn:sha1:TXGCZQTH26NL6OUQAJJPFALHG2LTGBC7",
    )
    .unwrap();
    assert_eq!(pair.groups.len(), 2);
}

#[test]
fn groups_are_ordered_by_number_and_unnumbered_joins_the_first() {
    let m = Magnet::parse(
        "magnet:?tr=http%3A%2F%2Ft&xt.3=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn.3=three\
         &xt.2=urn:sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ&dn.2=two&xl=5&x.pe.3=1.2.3.4:5",
    )
    .unwrap();
    assert_eq!(m.groups.len(), 2);
    assert_eq!(m.groups[0].display_name.as_deref(), Some("two"));
    assert_eq!(m.groups[0].trackers, ["http://t"]);
    assert_eq!(m.groups[0].exact_length, Some(5));
    assert_eq!(m.groups[1].display_name.as_deref(), Some("three"));
    assert_eq!(m.groups[1].peers.len(), 1);
    assert!(m.groups[1].trackers.is_empty());
    assert_eq!(m.exact_topics().count(), 2);
    // `dn` and `dn.1` both name the first file.
    let (param, offset, kind) =
        error("magnet:?dn=a&xt.1=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn.1=b");
    assert_eq!(
        (param.as_deref(), offset, kind),
        (Some("dn.1"), 68, ErrorKind::Repeated)
    );
    assert_eq!(
        error("magnet:?xt.4294967296=x").2,
        ErrorKind::OutOfRange {
            what: "group number"
        }
    );
}

#[test]
fn empty_links_and_empty_items() {
    assert_eq!(Magnet::parse("magnet:?").unwrap(), Magnet::default());
    let g = one("magnet:?&&dn=x&");
    assert_eq!(g.display_name.as_deref(), Some("x"));
}

#[test]
fn errors_name_the_parameter_the_offset_and_the_rule() {
    assert_eq!(
        error("http://example.org/"),
        (None, 0, ErrorKind::MissingPrefix)
    );
    assert_eq!(error("magnet:xt=urn:btih:x").2, ErrorKind::MissingPrefix);
    assert_eq!(error("").2, ErrorKind::MissingPrefix);

    let (param, offset, kind) =
        error("magnet:?dn=ok&xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88");
    assert_eq!((param.as_deref(), offset), (Some("xt"), 14));
    assert_eq!(
        kind,
        ErrorKind::BadLength {
            what: "btih hash",
            expected: "40 hex or 32 base32 characters",
            found: 39
        }
    );

    let (_, _, kind) = error("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88g");
    assert_eq!(
        kind,
        ErrorKind::BadAlphabet {
            what: "btih hash",
            encoding: Encoding::Hex,
            at: 39,
            found: 'g'
        }
    );

    let (_, _, kind) = error("magnet:?xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C");
    assert!(matches!(
        kind,
        ErrorKind::BadLength {
            what: "ed2k hash",
            found: 31,
            ..
        }
    ));

    let (_, _, kind) = error("magnet:?xt=urn:tree:tiger:LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNR");
    assert_eq!(
        kind,
        ErrorKind::NonCanonical {
            what: "tree:tiger hash"
        }
    );

    let (param, offset, kind) = error("magnet:?xl=1&dn=bad%2");
    assert_eq!(
        (param.as_deref(), offset, kind),
        (Some("dn"), 13, ErrorKind::BadPercentEscape { at: 6 })
    );
    let (param, _, kind) = error("magnet:?d%zz=1");
    assert_eq!(
        (param.as_deref(), kind),
        (Some("d%zz"), ErrorKind::BadPercentEscape { at: 1 })
    );
    assert_eq!(error("magnet:?dn=%ff").2, ErrorKind::NotUtf8);

    assert!(matches!(
        error("magnet:?xl=12x").2,
        ErrorKind::BadAlphabet {
            what: "exact length",
            at: 2,
            found: 'x',
            ..
        }
    ));
    assert_eq!(
        error("magnet:?xl=99999999999999999999").2,
        ErrorKind::OutOfRange {
            what: "exact length"
        }
    );
    assert_eq!(error("magnet:?xl=1&xl=1").2, ErrorKind::Repeated);
    assert!(matches!(
        error("magnet:?so=1-").2,
        ErrorKind::BadSelection { at: 2, .. }
    ));
    assert!(matches!(
        error("magnet:?x.pe=::1:80").2,
        ErrorKind::BadPeer { .. }
    ));
}

#[test]
fn error_messages_read_well() {
    let e = Magnet::parse("magnet:?xt=urn:aich:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBY!").unwrap_err();
    assert_eq!(
        e.to_string(),
        "parameter `xt` (byte 8): bad alphabet: aich hash must be base32, found '!' at character 31"
    );
    let e = Magnet::parse("magnet?xt=1").unwrap_err();
    assert_eq!(e.to_string(), "a magnet link must start with `magnet:?`");
}
