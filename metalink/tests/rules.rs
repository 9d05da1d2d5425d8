//! One test per parsing rule; each fails if its rule is broken.

use swarmget_metalink::{
    ErrorKind, Format, HashAlgorithm, HashValueError, ParseOptions, Parsed, Priority, UnsafeName,
    WarningKind, parse,
};

const V4: &str = "urn:ietf:params:xml:ns:metalink";
const V3: &str = "http://www.metalinker.org/";

/// A Metalink 4 document around `files`.
fn v4(files: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metalink xmlns=\"{V4}\">\n{files}\n</metalink>"
    )
}

/// A Metalink 3 document around `files`.
fn v3(files: &str) -> String {
    format!("<metalink version=\"3.0\" xmlns=\"{V3}\"><files>{files}</files></metalink>")
}

fn ok(doc: &str) -> Parsed {
    parse(doc.as_bytes(), &ParseOptions::default()).unwrap_or_else(|e| panic!("{e}\n{doc}"))
}

fn err(doc: &str) -> swarmget_metalink::Error {
    match parse(doc.as_bytes(), &ParseOptions::default()) {
        Ok(p) => panic!("accepted: {p:?}\n{doc}"),
        Err(e) => e,
    }
}

fn warnings(p: &Parsed) -> Vec<&WarningKind> {
    p.warnings.iter().map(|w| w.kind()).collect()
}

const SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";

// ---- roots and namespaces ----

#[test]
fn both_namespaces_are_recognised() {
    let a = ok(&v4(r#"<file name="a"><url>http://x/a</url></file>"#));
    assert_eq!(a.format, Format::V4);
    let b = ok(&v3(
        r#"<file name="a"><resources><url type="http">http://x/a</url></resources></file>"#,
    ));
    assert_eq!(b.format, Format::V3);
    assert_eq!(a.metalink, b.metalink);
}

#[test]
fn a_root_that_is_not_metalink_is_refused() {
    for (doc, root) in [
        ("<rss version=\"2.0\"><channel/></rss>", "rss"),
        ("<metalink version=\"3.0\"><files/></metalink>", "metalink"),
        (
            "<metalink xmlns=\"http://example.com/other\"/>",
            "{http://example.com/other}metalink",
        ),
        (
            "<m:file xmlns:m=\"urn:ietf:params:xml:ns:metalink\" name=\"a\"/>",
            "{urn:ietf:params:xml:ns:metalink}file",
        ),
    ] {
        let e = err(doc);
        assert_eq!(
            e.kind(),
            &ErrorKind::NotMetalink { root: root.into() },
            "{doc}"
        );
        assert!(e.to_string().contains("not a Metalink 4"), "{e}");
    }
}

#[test]
fn a_prefixed_namespace_works_like_the_default_one() {
    let p = ok(&format!(
        "<ml:metalink xmlns:ml=\"{V4}\"><ml:file name=\"a\"><ml:size>5</ml:size></ml:file></ml:metalink>"
    ));
    assert_eq!(p.metalink.files[0].size, Some(5));
}

#[test]
fn a_document_without_files_is_refused() {
    assert_eq!(err(&v4("")).kind(), &ErrorKind::NoFiles);
    assert_eq!(err(&v3("")).kind(), &ErrorKind::NoFiles);
}

// ---- extensions ----

#[test]
fn elements_and_attributes_of_other_namespaces_are_ignored() {
    let p = ok(&v4(r#"
      <x:file xmlns:x="http://vendor.example/ns" name="/etc/passwd"/>
      <file name="a" x:flag="1" xmlns:x="http://vendor.example/ns" unknown="yes">
        <x:url>http://vendor.example/ignored</x:url>
        <x:size>99</x:size>
        <size>5</size>
        <url x:speed="fast" bogus="1">http://example.com/a</url>
      </file>"#));
    let files = &p.metalink.files;
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].size, Some(5));
    assert_eq!(files[0].urls.len(), 1);
    assert!(p.warnings.is_empty());
}

#[test]
fn unknown_elements_in_the_metalink_namespace_are_ignored() {
    let p = ok(&v4(r#"
      <futurething version="9"><file name="nested-not-a-file"/></futurething>
      <file name="a"><mtime>1384354800</mtime><logo>http://x/l.png</logo><size>1</size></file>"#));
    assert_eq!(p.metalink.files.len(), 1);
    assert_eq!(p.metalink.files[0].size, Some(1));
}

#[test]
fn text_split_by_comments_and_cdata_is_joined() {
    let p = ok(&v4(
        r#"<file name="a"><url>http://example.com/<!-- mirror -->a<![CDATA[&b]]></url></file>"#,
    ));
    assert_eq!(
        p.metalink.files[0].urls[0].url.as_str(),
        "http://example.com/a&b"
    );
}

// ---- file names ----

#[test]
fn unsafe_file_names_are_refused_naming_the_entry() {
    let cases = [
        ("/etc/passwd", UnsafeName::Absolute),
        ("../../.bashrc", UnsafeName::ParentComponent),
        ("dir/../../x", UnsafeName::ParentComponent),
        ("C:\\Windows\\evil.dll", UnsafeName::DriveLetter),
        ("d:evil", UnsafeName::DriveLetter),
        ("\\\\host\\share\\x", UnsafeName::Absolute),
        ("a\\..\\..\\x", UnsafeName::ParentComponent),
        ("./x", UnsafeName::CurrentComponent),
        ("", UnsafeName::Empty),
        ("line&#10;break", UnsafeName::ControlCharacter),
        ("tab&#9;name", UnsafeName::ControlCharacter),
        ("next\u{85}line", UnsafeName::ControlCharacter),
    ];
    for (name, reason) in cases {
        for doc in [
            v4(&format!(
                r#"<file name="ok"/><file name="{name}"><size>1</size></file>"#
            )),
            v3(&format!(
                r#"<file name="ok"/><file name="{name}"><size>1</size></file>"#
            )),
        ] {
            let e = err(&doc);
            match e.kind() {
                ErrorKind::UnsafeFileName { reason: r, .. } => assert_eq!(*r, reason, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
            let file = e.file().expect("error names the file entry");
            assert_eq!(file.number, 2);
            assert!(e.to_string().contains("file #2"), "{e}");
            assert!(e.offset().is_some());
        }
    }
}

#[test]
fn nul_cannot_even_reach_the_name_check() {
    // XML 1.0 has no way to write U+0000, so the XML parser refuses it first.
    let e = err(&v4(r#"<file name="a&#0;b"/>"#));
    assert!(matches!(e.kind(), ErrorKind::Xml { .. }), "{e:?}");
    let e = err(&v4("<file name=\"a\0b\"/>"));
    assert!(matches!(e.kind(), ErrorKind::Xml { .. }), "{e:?}");
}

#[test]
fn metaurl_member_names_are_checked_too() {
    let e = err(&v4(
        r#"<file name="a"><metaurl mediatype="torrent" name="../../x">http://t/x.torrent</metaurl></file>"#,
    ));
    assert!(matches!(
        e.kind(),
        ErrorKind::UnsafeFileName { reason: UnsafeName::ParentComponent, name } if name == "../../x"
    ));
    assert_eq!(e.file().unwrap().name, "a");
}

#[test]
fn a_file_without_a_name_is_refused() {
    let e = err(&v4("<file><size>1</size></file>"));
    assert_eq!(
        e.kind(),
        &ErrorKind::MissingAttribute {
            element: "file",
            attribute: "name"
        }
    );
    assert_eq!(e.file().unwrap().number, 1);
}

// ---- sizes ----

#[test]
fn sizes_must_be_unsigned_64_bit_decimals() {
    let p = ok(&v4(
        "<file name=\"a\"><size> 18446744073709551615 </size></file>",
    ));
    assert_eq!(p.metalink.files[0].size, Some(u64::MAX));
    for bad in [
        "-1",
        "+5",
        "1e6",
        "0x10",
        "",
        "18446744073709551616",
        "12 34",
    ] {
        let e = err(&v4(&format!("<file name=\"a\"><size>{bad}</size></file>")));
        assert_eq!(e.kind(), &ErrorKind::InvalidSize { value: bad.into() });
        assert_eq!(e.file().unwrap().number, 1);
    }
}

// ---- whole-file hashes ----

#[test]
fn every_algorithm_is_read_under_both_versions_names() {
    let cases = [
        ("md5", "md5", HashAlgorithm::Md5),
        ("sha-1", "sha1", HashAlgorithm::Sha1),
        ("sha-224", "sha224", HashAlgorithm::Sha224),
        ("sha-256", "sha256", HashAlgorithm::Sha256),
        ("sha-384", "sha384", HashAlgorithm::Sha384),
        ("sha-512", "sha512", HashAlgorithm::Sha512),
    ];
    for (name4, name3, algorithm) in cases {
        let hex = "ab".repeat(algorithm.digest_len());
        let a = ok(&v4(&format!(
            "<file name=\"a\"><hash type=\"{name4}\">{hex}</hash></file>"
        )));
        let b = ok(&v3(&format!(
            "<file name=\"a\"><verification><hash type=\"{name3}\">{hex}</hash></verification></file>"
        )));
        for p in [a, b] {
            let h = &p.metalink.files[0].hashes[0];
            assert_eq!(h.algorithm(), algorithm);
            assert_eq!(h.bytes(), vec![0xab; algorithm.digest_len()]);
        }
    }
}

#[test]
fn hash_values_of_the_wrong_length_are_refused() {
    for algorithm in HashAlgorithm::STRONGEST_FIRST {
        let name = algorithm.metalink4_name();
        for digits in [
            algorithm.digest_len() * 2 - 2,
            algorithm.digest_len() * 2 + 2,
        ] {
            let e = err(&v4(&format!(
                "<file name=\"a\"><hash type=\"{name}\">{}</hash></file>",
                "0".repeat(digits)
            )));
            assert_eq!(
                e.kind(),
                &ErrorKind::InvalidHash {
                    algorithm,
                    reason: HashValueError::WrongLength {
                        expected: algorithm.digest_len(),
                        found: digits / 2
                    }
                }
            );
            assert_eq!(e.file().unwrap().name, "a");
        }
    }
}

#[test]
fn hash_values_that_are_not_hex_are_refused() {
    let e = err(&v4(&format!(
        "<file name=\"a\"><hash type=\"sha-1\">{}g</hash></file>",
        &SHA1[1..]
    )));
    assert!(matches!(
        e.kind(),
        ErrorKind::InvalidHash {
            reason: HashValueError::NotHex { index: 39 },
            ..
        }
    ));
    let e = err(&v4("<file name=\"a\"><hash type=\"md5\">abc</hash></file>"));
    assert!(matches!(
        e.kind(),
        ErrorKind::InvalidHash {
            reason: HashValueError::OddLength,
            ..
        }
    ));
}

#[test]
fn unknown_or_untyped_hashes_are_skipped_with_a_warning() {
    let p = ok(&v4(&format!(
        r#"<file name="a"><hash type="tiger">zz</hash><hash>{SHA1}</hash><hash type="SHA-1">{SHA1}</hash></file>"#
    )));
    assert_eq!(p.metalink.files[0].hashes.len(), 1);
    assert_eq!(
        warnings(&p),
        [
            &WarningKind::UnknownHashType {
                name: "tiger".into()
            },
            &WarningKind::MissingAttribute {
                element: "hash",
                attribute: "type"
            }
        ]
    );
}

// ---- piece hashes ----

fn pieces_v4(length: &str, size: u64, hashes: &[&str]) -> String {
    let list: String = hashes.iter().map(|h| format!("<hash>{h}</hash>")).collect();
    v4(&format!(
        r#"<file name="a"><size>{size}</size><pieces length="{length}" type="sha-1">{list}</pieces></file>"#
    ))
}

#[test]
fn piece_hashes_are_read_in_order() {
    let other = "0".repeat(40);
    let p = ok(&pieces_v4("10", 15, &[SHA1, &other]));
    let pieces = &p.metalink.files[0].pieces[0];
    assert_eq!(pieces.len(), 2);
    assert_eq!(pieces.length().get(), 10);
    assert_eq!(pieces.get(1).unwrap(), [0; 20]);
}

#[test]
fn piece_hashes_of_the_wrong_length_are_refused() {
    let e = err(&pieces_v4("10", 15, &[SHA1, &SHA1[2..]]));
    assert!(matches!(
        e.kind(),
        ErrorKind::InvalidHash {
            algorithm: HashAlgorithm::Sha1,
            reason: HashValueError::WrongLength {
                expected: 20,
                found: 19
            }
        }
    ));
}

#[test]
fn piece_lengths_must_be_positive_integers() {
    for bad in ["0", "-4", "4k", ""] {
        let e = err(&pieces_v4(bad, 15, &[SHA1]));
        assert_eq!(
            e.kind(),
            &ErrorKind::InvalidPieceLength { value: bad.into() }
        );
    }
}

#[test]
fn piece_lists_that_do_not_fit_the_size_are_dropped_with_a_warning() {
    let p = ok(&pieces_v4("10", 25, &[SHA1, SHA1]));
    assert!(p.metalink.files[0].pieces.is_empty());
    assert_eq!(
        warnings(&p),
        [&WarningKind::PieceCountMismatch {
            expected: 3,
            found: 2
        }]
    );
    // Without a size there is nothing to check against.
    let p = ok(&v4(&format!(
        r#"<file name="a"><pieces length="10" type="sha-1"><hash>{SHA1}</hash></pieces></file>"#
    )));
    assert_eq!(p.metalink.files[0].pieces.len(), 1);
}

#[test]
fn metalink3_piece_indexes_order_the_list_and_must_cover_it() {
    let a = "1".repeat(40);
    let b = "2".repeat(40);
    let doc = |i: &str, j: &str| {
        v3(&format!(
            r#"<file name="f"><verification><pieces length="1" type="sha1"><hash piece="{i}">{a}</hash><hash piece="{j}">{b}</hash></pieces></verification></file>"#
        ))
    };
    let p = ok(&doc("1", "0"));
    let pieces = &p.metalink.files[0].pieces[0];
    assert_eq!(pieces.get(0).unwrap(), [0x22; 20]);
    assert_eq!(pieces.get(1).unwrap(), [0x11; 20]);
    for (i, j, bad) in [
        ("0", "0", "0"),
        ("0", "2", "2"),
        ("0", "x", "x"),
        ("-1", "0", "-1"),
    ] {
        let e = err(&doc(i, j));
        assert_eq!(
            e.kind(),
            &ErrorKind::InvalidPieceIndex { value: bad.into() },
            "{i} {j}"
        );
    }
}

// ---- URLs ----

#[test]
fn priorities_out_of_range_are_ignored_with_a_warning() {
    let p = ok(&v4(r#"<file name="a">
        <url priority="0">http://a/0</url>
        <url priority="1000000">http://a/1</url>
        <url priority="high">http://a/2</url>
        <url priority="999999">http://a/3</url>
        <metaurl mediatype="torrent" priority="-3">http://a/t</metaurl></file>"#));
    let f = &p.metalink.files[0];
    let priorities: Vec<_> = f.urls.iter().map(|r| r.priority).collect();
    assert_eq!(priorities, [None, None, None, Some(Priority::LOWEST)]);
    assert_eq!(f.metaurls[0].priority, None);
    assert_eq!(p.warnings.len(), 4);
    assert!(
        p.warnings
            .iter()
            .all(|w| matches!(w.kind(), WarningKind::InvalidPriority { .. }))
    );
}

#[test]
fn metalink3_preference_maps_to_priority() {
    let p = ok(&v3(r#"<file name="a"><resources>
        <url type="http" preference="100">http://a/100</url>
        <url type="http" preference="0">http://a/0</url>
        <url type="http" preference="250">http://a/250</url>
        <url type="http" preference="x">http://a/x</url>
        <url type="http">http://a/none</url></resources></file>"#));
    let priorities: Vec<_> = p.metalink.files[0]
        .urls
        .iter()
        .map(|r| r.priority.map(Priority::get))
        .collect();
    assert_eq!(priorities, [Some(1), Some(101), Some(1), None, None]);
    assert_eq!(
        warnings(&p),
        [&WarningKind::InvalidPriority { value: "x".into() }]
    );
}

#[test]
fn locations_are_two_letter_codes_in_lowercase() {
    let p = ok(&v4(r#"<file name="a">
        <url location="JP">http://a/1</url>
        <url location="europe">http://a/2</url></file>"#));
    let f = &p.metalink.files[0];
    assert_eq!(f.urls[0].location.unwrap().as_str(), "jp");
    assert_eq!(f.urls[1].location, None);
    assert_eq!(
        warnings(&p),
        [&WarningKind::InvalidLocation {
            value: "europe".into()
        }]
    );
}

#[test]
fn urls_that_do_not_parse_are_dropped_with_a_warning() {
    let p = ok(&v4(r#"<file name="a">
        <url>http://[::1/broken</url>
        <url>http://fine.example/a</url></file>"#));
    assert_eq!(p.metalink.files[0].urls.len(), 1);
    assert!(matches!(
        warnings(&p)[..],
        [WarningKind::InvalidUrl {
            reason: swarmget_metalink::url::ParseError::InvalidIpv6Address,
            ..
        }]
    ));
}

#[test]
fn metaurls_need_a_media_type() {
    let p = ok(&v4(
        r#"<file name="a"><metaurl>http://a/t</metaurl></file>"#,
    ));
    assert!(p.metalink.files[0].metaurls.is_empty());
    assert_eq!(
        warnings(&p),
        [&WarningKind::MissingAttribute {
            element: "metaurl",
            attribute: "mediatype"
        }]
    );
}

// ---- document fields ----

#[test]
fn origin_dynamic_flag_and_dates() {
    let p = ok(&format!(
        r#"<metalink xmlns="{V4}"><origin dynamic="false">http://o/m.meta4</origin>
           <published>yesterday</published><updated>2011-01-01T00:00:00Z</updated>
           <file name="a"/></metalink>"#
    ));
    let m = &p.metalink;
    assert!(!m.origin.as_ref().unwrap().dynamic);
    assert_eq!(m.published, None);
    assert_eq!(m.updated.unwrap().unix_seconds(), 1_293_840_000);
    assert_eq!(
        warnings(&p),
        [&WarningKind::InvalidTimestamp {
            element: "published",
            value: "yesterday".into()
        }]
    );
    let p = ok(&format!(
        r#"<metalink version="3.0" xmlns="{V3}" origin="http://o/m.metalink" type="static"><files><file name="a"/></files></metalink>"#
    ));
    assert!(!p.metalink.origin.unwrap().dynamic);
}

#[test]
fn metalink3_publisher_and_signature_types() {
    let p = ok(&v3(r#"<file name="a">
        <publisher><name>Pub</name><url>http://pub.example</url></publisher>
        <verification><signature type="x509">MIIB</signature></verification></file>"#));
    let f = &p.metalink.files[0];
    let publisher = f.publisher.as_ref().unwrap();
    assert_eq!(
        (publisher.name.as_str(), publisher.url.as_deref()),
        ("Pub", Some("http://pub.example"))
    );
    assert_eq!(f.signature.as_ref().unwrap().media_type, "x509");
}

#[test]
fn metalink3_urls_without_a_type_are_kept_and_bittorrent_ones_become_metaurls() {
    let p = ok(&v3(r#"<file name="a"><resources>
        <url>ftp://a/untyped</url>
        <url type="BitTorrent" preference="10">http://a/a.torrent</url></resources></file>"#));
    let f = &p.metalink.files[0];
    assert_eq!(f.urls.len(), 1);
    assert_eq!(f.urls[0].url.scheme(), "ftp");
    assert_eq!(f.metaurls.len(), 1);
    assert_eq!(f.metaurls[0].media_type, "torrent");
    assert_eq!(f.metaurls[0].priority.map(Priority::get), Some(91));
}
