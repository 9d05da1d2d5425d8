//! Writing links: canonical output, and format/parse round trips.

use swarmget_magnet_uri::{ExactTopic, Group, Magnet, Multihash, SelectOnly};

/// `format(parse(x))` parses back to the same value and formats to the same string.
fn assert_round_trip(link: &str) -> String {
    let parsed = Magnet::parse(link).unwrap_or_else(|e| panic!("{link}: {e}"));
    let formatted = parsed.to_string();
    let reparsed = Magnet::parse(&formatted).unwrap_or_else(|e| panic!("{formatted}: {e}"));
    assert_eq!(reparsed, parsed, "{link} -> {formatted}");
    assert_eq!(reparsed.to_string(), formatted);
    formatted
}

#[test]
fn canonical_form_is_lowercase_and_rhash_ordered() {
    let out = assert_round_trip(
        "magnet:?xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C0&dn=zero_len.fil&xl=0\
         &xt=urn:bitprint:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ.LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNQ",
    );
    assert_eq!(
        out,
        "magnet:?xl=0&dn=zero_len.fil&xt=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0\
         &xt=urn:bitprint:3i42h3s6nnfq2msvx7xzkyayscx5qbyj.lwpnacqdbzryxw3vhjvcj64qbznghohhhzwclnq"
    );
}

#[test]
fn every_urn_kind_formats_and_round_trips() {
    let digest = "cd".repeat(32);
    for (input, output) in [
        (
            "urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK",
            "urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a",
        ),
        (
            &format!("urn:btmh:1220{}", digest.to_uppercase()),
            &format!("urn:btmh:1220{digest}"),
        ),
        (
            "urn:sha1:da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "urn:sha1:3i42h3s6nnfq2msvx7xzkyayscx5qbyj",
        ),
        (
            "urn:tree:tiger/1024:LWPNACQDBZRYXW3VHJVCJ64QBZNGHOHHHZWCLNQ",
            "urn:tree:tiger:lwpnacqdbzryxw3vhjvcj64qbznghohhhzwclnq",
        ),
        (
            "urn:aich:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ",
            "urn:aich:3i42h3s6nnfq2msvx7xzkyayscx5qbyj",
        ),
        (
            "urn:kzhash:DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
            "urn:kzhash:da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        (
            "urn:md5:2QOYZWMPACZAJ2MABGMOZ6CCPY",
            "urn:md5:d41d8cd98f00b204e9800998ecf8427e",
        ),
        ("urn:crc32:305419896", "urn:crc32:12345678"),
        ("urn:crc32:7", "urn:crc32:00000007"),
        ("urn:x-custom:a%20b", "urn:x-custom:a%20b"),
    ] {
        let out = assert_round_trip(&format!("magnet:?xt={input}"));
        assert_eq!(out, format!("magnet:?xt={output}"), "{input}");
    }
}

#[test]
fn values_are_percent_encoded_and_kt_uses_plus() {
    let out = assert_round_trip(
        "magnet:?dn=a%20b%2Bc%C3%A9&kt=two+words%2Bplus&tr=udp%3A%2F%2Ft%3A80&so=4-4,1&x.pe=[::1]:2&x.y=%26%3D",
    );
    assert_eq!(
        out,
        "magnet:?dn=a%20b%2Bc%C3%A9&kt=two+words%2Bplus&tr=udp%3A%2F%2Ft%3A80&so=4,1&x.pe=%5B::1%5D:2&x.y=%26%3D"
    );
}

#[test]
fn groups_are_renumbered_from_one() {
    let out = assert_round_trip("magnet:?dn.7=b&dn.3=a&tr=t&xl.7=1");
    assert_eq!(out, "magnet:?dn.1=a&tr.1=t&xl.2=1&dn.2=b");
    // A single numbered group is written without numbers.
    assert_eq!(assert_round_trip("magnet:?dn.5=a"), "magnet:?dn=a");
}

#[test]
fn names_ending_in_digits_keep_their_suffix() {
    // `foo.3.2` is parameter `foo.3` of group 2; alone, it must still be written numbered.
    let m = Magnet::parse("magnet:?foo.3.2=v").unwrap();
    assert_eq!(m.groups[0].extra, [("foo.3".to_owned(), "v".to_owned())]);
    assert_eq!(assert_round_trip("magnet:?foo.3.2=v"), "magnet:?foo.3.1=v");
    assert_round_trip("magnet:?foo.3.2=v&bar.1=w&dn.2=x");
}

#[test]
fn built_values_format_as_expected() {
    let mut group = Group::default();
    group
        .exact_topics
        .push(ExactTopic::Btmh(Multihash::sha2_256([0; 32])));
    group.select_only = SelectOnly::new(vec![0..=2, 5..=5]);
    group.peers.push("[2001:db8::1]:6881".parse().unwrap());
    let magnet = Magnet {
        groups: vec![Group::default(), group],
    };
    // The empty group is dropped, so the other is written without a number.
    let text = magnet.to_string();
    assert_eq!(
        text,
        format!(
            "magnet:?xt=urn:btmh:1220{}&so=0-2,5&x.pe=%5B2001:db8::1%5D:6881",
            "0".repeat(64)
        )
    );
    assert_eq!(Magnet::parse(&text).unwrap().groups, &magnet.groups[1..]);
}
