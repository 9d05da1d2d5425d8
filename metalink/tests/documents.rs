//! Real-shaped documents of both versions: the RFC 5854 examples' shape, MirrorBrain's
//! Metalink 4 and 3 output, Metalink 3 editor output, multi-file torrents, relative
//! URLs.

use swarmget_metalink::{
    Format, HashAlgorithm, ParseOptions, Parsed, Preferences, Priority, Url, WarningKind, parse,
    write,
};

fn read(doc: &[u8]) -> Parsed {
    parse(doc, &ParseOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn urls(parsed: &Parsed, file: usize) -> Vec<&str> {
    parsed.metalink.files[file]
        .urls
        .iter()
        .map(|r| r.url.as_str())
        .collect()
}

#[test]
fn rfc5854_single_file() {
    let p = read(include_bytes!("fixtures/rfc5854-single.meta4"));
    assert_eq!(p.format, Format::V4);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        p.metalink.published.unwrap().to_string(),
        "2010-05-01T12:15:02Z"
    );
    let f = &p.metalink.files[0];
    assert_eq!(f.name.as_str(), "example.ext");
    assert_eq!(f.size, Some(14_471_447));
    assert_eq!(f.identity.as_deref(), Some("Example"));
    assert_eq!(f.version.as_deref(), Some("1.0"));
    assert_eq!(f.languages, ["en"]);
    // Text content is trimmed of the indentation around it.
    assert_eq!(
        f.description.as_deref(),
        Some("A description of the example file for download.")
    );
    assert_eq!(f.hashes.len(), 1);
    assert_eq!(f.hashes[0].algorithm(), HashAlgorithm::Sha256);
    assert_eq!(
        urls(&p, 0),
        [
            "ftp://ftp.example.com/example.ext",
            "http://example.com/example.ext"
        ]
    );
    assert_eq!(f.urls[0].location.unwrap().as_str(), "de");
    assert_eq!(f.urls[1].priority, Priority::new(1));
    assert_eq!(f.metaurls.len(), 1);
    assert!(f.metaurls[0].is_torrent());
    assert_eq!(f.metaurls[0].priority, Priority::new(2));
}

#[test]
fn rfc5854_every_element_and_extensions() {
    let p = read(include_bytes!("fixtures/rfc5854-full.meta4"));
    let m = &p.metalink;
    assert_eq!(m.generator.as_deref(), Some("MetalinkEditor/2.0dev"));
    let origin = m.origin.as_ref().unwrap();
    assert!(origin.dynamic);
    assert_eq!(origin.url.as_str(), "http://example.com/example.ext.meta4");
    assert_eq!(m.published.unwrap().to_string(), "2009-05-15T12:23:23Z");
    // The +02:00 offset is applied.
    assert_eq!(m.updated.unwrap().to_string(), "2010-05-01T10:15:02Z");
    assert_eq!(m.files.len(), 2);

    let f = &m.files[0];
    assert_eq!(f.languages, ["en", "de"]);
    assert_eq!(f.oses, ["Linux-x86", "Windows-x86"]);
    let publisher = f.publisher.as_ref().unwrap();
    assert_eq!(publisher.name, "Company Name");
    assert_eq!(publisher.url.as_deref(), Some("http://www.example.com"));
    assert_eq!(f.copyright.as_deref(), Some("Copyright 2009 Company Name"));
    // md5, sha-1, sha-256 kept; ed2k skipped with a warning rather than failing.
    let algorithms: Vec<_> = f.hashes.iter().map(|h| h.algorithm()).collect();
    assert_eq!(
        algorithms,
        [
            HashAlgorithm::Md5,
            HashAlgorithm::Sha1,
            HashAlgorithm::Sha256
        ]
    );
    assert!(matches!(
        p.warnings[0].kind(),
        WarningKind::UnknownHashType { name } if name == "ed2k"
    ));
    assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
    assert_eq!(f.pieces.len(), 1);
    assert_eq!(f.pieces[0].len(), 3);
    assert_eq!(f.pieces[0].length().get(), 268_435_456);
    assert_eq!(f.urls.len(), 3);
    let signature = f.signature.as_ref().unwrap();
    assert_eq!(signature.media_type, "application/pgp-signature");
    assert!(
        signature
            .body
            .starts_with("-----BEGIN PGP SIGNATURE-----\nVersion")
    );
    assert!(signature.body.ends_with("-----END PGP SIGNATURE-----"));

    let g = &m.files[1];
    assert_eq!(
        g.name.components().collect::<Vec<_>>(),
        ["subdir", "example3.ext"]
    );
    assert_eq!(g.size, Some(0));
    assert_eq!(
        g.strongest_hash().unwrap().algorithm(),
        HashAlgorithm::Sha512
    );
    assert_eq!(g.urls[0].priority, None);
}

#[test]
fn mirrorbrain_metalink4() {
    let p = read(include_bytes!("fixtures/mirrorbrain.meta4"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let m = &p.metalink;
    assert_eq!(m.generator.as_deref(), Some("MirrorBrain/2.19.0"));
    assert!(m.origin.as_ref().unwrap().dynamic);
    let f = &m.files[0];
    assert_eq!(f.size, Some(13_631_488));
    // MirrorBrain's metalink-level <publisher><name/><url/></publisher> is not
    // RFC 5854's form; it is ignored, not an error.
    assert_eq!(f.publisher, None);
    assert_eq!(
        f.strongest_hash().unwrap().algorithm(),
        HashAlgorithm::Sha256
    );
    let pieces = f.strongest_pieces().unwrap();
    assert_eq!(pieces.len(), 4);
    assert_eq!(pieces.expected_count(13_631_488), 4);
    assert_eq!(f.urls.len(), 6);
    let order: Vec<_> = f
        .ordered_urls(&Preferences::default())
        .iter()
        .map(|r| r.priority.unwrap().get())
        .collect();
    assert_eq!(order, [1, 2, 3, 4, 5, 6]);
    assert_eq!(f.metaurls.len(), 1);
}

#[test]
fn mirrorbrain_metalink3_reads_like_its_metalink4_twin() {
    let v3 = read(include_bytes!("fixtures/mirrorbrain.metalink"));
    let v4 = read(include_bytes!("fixtures/mirrorbrain.meta4"));
    assert_eq!(v3.format, Format::V3);
    assert!(v3.warnings.is_empty(), "{:?}", v3.warnings);
    let (a, b) = (&v3.metalink, &v4.metalink);
    assert_eq!(
        a.generator.as_deref(),
        Some("MirrorBrain 2.19.0 (see http://mirrorbrain.org/)")
    );
    assert_eq!(a.origin.as_ref().map(|o| o.dynamic), Some(true));
    assert_eq!(a.published, b.published);
    assert_eq!(a.updated, b.published);
    let (f3, f4) = (&a.files[0], &b.files[0]);
    assert_eq!(f3.name, f4.name);
    assert_eq!(f3.size, f4.size);
    // sha1/sha256 (Metalink 3 names) are the same digests as sha-1/sha-256.
    assert_eq!(f3.hashes, f4.hashes);
    assert_eq!(f3.pieces, f4.pieces);
    // preference 100, 99, 98, 97 become priority 1, 2, 3, 4.
    let priorities: Vec<_> = f3.urls.iter().map(|r| r.priority.unwrap().get()).collect();
    assert_eq!(priorities, [1, 2, 3, 4]);
    assert_eq!(f3.urls[..], f4.urls[..4]);
    // type="bittorrent" is a torrent metaurl, not a URL to fetch the file from.
    assert_eq!(f3.metaurls.len(), 1);
    assert!(f3.metaurls[0].is_torrent());
    assert_eq!(f3.metaurls[0].url, f4.metaurls[0].url);
}

#[test]
fn metalink3_editor_output_with_variants() {
    let p = read(include_bytes!("fixtures/variants.metalink"));
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    let m = &p.metalink;
    assert_eq!(m.files.len(), 4);
    let f = &m.files[0];
    assert_eq!(f.version.as_deref(), Some("2.1"));
    assert_eq!(f.oses, ["Windows-x86"]);
    let sig = f.signature.as_ref().unwrap();
    assert_eq!(sig.media_type, "application/pgp-signature");
    // piece="1" came first in the document; the list is in index order.
    let pieces = &f.pieces[0];
    assert_eq!(pieces.len(), 2);
    let piece0 =
        swarmget_metalink::Hash::from_hex(HashAlgorithm::Sha1, &hex_of_sha1_piece()).unwrap();
    assert_eq!(pieces.get(0).unwrap(), piece0.bytes());
    // The highest preference (https, 100) is tried first; equal preferences keep
    // document order.
    let order: Vec<_> = f
        .ordered_urls(&Preferences::default())
        .iter()
        .map(|r| r.url.scheme())
        .collect();
    assert_eq!(order, ["https", "http", "ftp"]);
    assert_eq!(m.files[3].urls[0].priority, None);
}

/// SHA-1 of "en win 0", as the fixture generator wrote it.
fn hex_of_sha1_piece() -> String {
    let doc = include_str!("fixtures/variants.metalink");
    let start = doc.find("<hash piece=\"0\">").unwrap() + "<hash piece=\"0\">".len();
    doc[start..start + 40].to_owned()
}

#[test]
fn multi_file_torrent_members_are_named() {
    let p = read(include_bytes!("fixtures/torrent-multifile.meta4"));
    let names: Vec<_> = p
        .metalink
        .files
        .iter()
        .map(|f| f.metaurls[0].name.as_ref().unwrap().as_str())
        .collect();
    assert_eq!(names, ["album/summer/beach.jpg", "album/winter/snow.jpg"]);
    assert_eq!(p.metalink.files[1].urls.len(), 0);
}

#[test]
fn relative_urls_resolve_against_the_base() {
    let base = Url::parse("http://example.com/dist/v1/example.ext.meta4").unwrap();
    let options = ParseOptions {
        base_uri: Some(base),
        ..ParseOptions::default()
    };
    let p = parse(include_bytes!("fixtures/relative-urls.meta4"), &options).unwrap();
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(
        urls(&p, 0),
        [
            "http://example.com/dist/v1/example.ext",
            "http://example.com/dist/mirror/example.ext",
            "http://cdn.example.net/example.ext",
            "http://absolute.example.org/example.ext",
        ]
    );
    assert_eq!(
        p.metalink.files[0].metaurls[0].url.as_str(),
        "http://example.com/torrents/example.ext.torrent"
    );
    assert_eq!(
        p.metalink.origin.as_ref().unwrap().url.as_str(),
        "http://example.com/dist/v1/example.ext.meta4"
    );
}

#[test]
fn relative_urls_without_a_base_are_dropped_with_warnings() {
    let p = read(include_bytes!("fixtures/relative-urls.meta4"));
    assert_eq!(urls(&p, 0), ["http://absolute.example.org/example.ext"]);
    assert!(p.metalink.files[0].metaurls.is_empty());
    assert_eq!(p.metalink.origin, None);
    let dropped: Vec<_> = p
        .warnings
        .iter()
        .map(|w| match w.kind() {
            WarningKind::RelativeUrlWithoutBase { url } => url.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        dropped,
        [
            "example.ext.meta4",
            "example.ext",
            "../mirror/example.ext",
            "//cdn.example.net/example.ext",
            "/torrents/example.ext.torrent",
        ]
    );
    // Each warning names its file entry, except the document-level origin.
    assert!(p.warnings[0].file().is_none());
    assert_eq!(p.warnings[1].file().unwrap().name, "example.ext");
    assert!(p.warnings[1].to_string().contains("--metalink-base-uri"));
}

#[test]
fn every_fixture_survives_write_then_parse() {
    let fixtures: [&[u8]; 7] = [
        include_bytes!("fixtures/rfc5854-single.meta4"),
        include_bytes!("fixtures/rfc5854-full.meta4"),
        include_bytes!("fixtures/mirrorbrain.meta4"),
        include_bytes!("fixtures/mirrorbrain.metalink"),
        include_bytes!("fixtures/variants.metalink"),
        include_bytes!("fixtures/torrent-multifile.meta4"),
        include_bytes!("fixtures/relative-urls.meta4"),
    ];
    for doc in fixtures {
        let first = read(doc).metalink;
        let xml = write(&first).unwrap();
        let second = read(xml.as_bytes());
        assert_eq!(second.format, Format::V4);
        assert_eq!(second.metalink, first, "{xml}");
    }
}
