//! Metalink/HTTP (RFC 6249) `Link` headers and RFC 3230 `Digest` headers.

use swarmget_metalink::http::{
    HeaderErrorKind, MetalinkLinks, format_digest_header, parse_digest_header, parse_link_header,
};
use swarmget_metalink::{Hash, HashAlgorithm, HashValueError, Preferences, Url};

fn base() -> Url {
    Url::parse("http://example.com/dir/example.ext").unwrap()
}

/// The headers an RFC 6249 server sends for one file, written as one joined value.
const RESPONSE_LINKS: &str = concat!(
    "<http://www2.example.com/example.ext>; rel=duplicate; pri=1; geo=de, ",
    "<ftp://ftp.example.com/example.ext>; rel=duplicate; pri=2; geo=us; depth=1, ",
    "<http://example.com/example.ext.torrent>; rel=describedby; type=\"application/x-bittorrent\", ",
    "<example.ext.meta4>; rel=describedby; type=\"application/metalink4+xml\", ",
    "<http://www3.example.com/example.ext>; rel=\"duplicate\"; pri=3; pref, ",
    "</example.ext.asc>; rel=describedby; type=\"application/pgp-signature\", ",
    "<http://example.com/style.css>; rel=stylesheet",
);

#[test]
fn rfc6249_links_are_read() {
    let links = parse_link_header(RESPONSE_LINKS, &base()).unwrap();
    assert_eq!(links.len(), 7);
    let m = MetalinkLinks::from_links(&links);
    assert_eq!(m.mirrors.len(), 3);
    let first = &m.mirrors[0];
    assert_eq!(first.url.as_str(), "http://www2.example.com/example.ext");
    assert_eq!(first.priority.unwrap().get(), 1);
    assert_eq!(first.location.unwrap().as_str(), "de");
    assert!(!first.preferred);
    assert_eq!(m.mirrors[1].depth, Some(1));
    assert!(m.mirrors[2].preferred);

    assert_eq!(m.described_by.len(), 3);
    let metalink = m.metalink_document().unwrap();
    // Relative targets are resolved against the request URI.
    assert_eq!(
        metalink.url.as_str(),
        "http://example.com/dir/example.ext.meta4"
    );
    assert_eq!(
        m.described_by[2].url.as_str(),
        "http://example.com/example.ext.asc"
    );
    assert_eq!(
        m.described_by[0].media_type.as_deref(),
        Some("application/x-bittorrent")
    );
}

#[test]
fn mirrors_are_ordered_pref_then_location_then_priority() {
    let links = parse_link_header(RESPONSE_LINKS, &base()).unwrap();
    let m = MetalinkLinks::from_links(&links);
    let hosts = |prefs: &Preferences| -> Vec<String> {
        m.ordered_mirrors(prefs)
            .iter()
            .map(|m| m.url.host_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        hosts(&Preferences::default()),
        ["www3.example.com", "www2.example.com", "ftp.example.com"]
    );
    let prefs = Preferences {
        locations: Preferences::parse_locations("us").unwrap(),
        ..Preferences::default()
    };
    assert_eq!(
        hosts(&prefs),
        ["www3.example.com", "ftp.example.com", "www2.example.com"]
    );
}

#[test]
fn link_parameters_follow_rfc8288_syntax() {
    let links = parse_link_header(
        r#"<http://a/>;REL="Duplicate DescribedBy" ; title="a, \"quoted\"; value";pri = 7;rel=other,,<http://b/>"#,
        &base(),
    )
    .unwrap();
    assert_eq!(links.len(), 2);
    let a = &links[0];
    // Only the first rel counts; names and relation types are case-insensitive.
    assert_eq!(a.relations, ["duplicate", "describedby"]);
    assert_eq!(a.param("title"), Some(Some(r#"a, "quoted"; value"#)));
    assert_eq!(a.param("pri"), Some(Some("7")));
    assert_eq!(a.param("missing"), None);
    assert!(links[1].relations.is_empty());
    let m = MetalinkLinks::from_links(&links);
    assert_eq!(m.mirrors.len(), 1);
    assert_eq!(m.described_by.len(), 1);
    assert_eq!(m.described_by[0].media_type, None);
}

#[test]
fn bad_metalink_parameters_are_ignored_like_aria2_does() {
    let links = parse_link_header(
        "<http://a/>; rel=duplicate; pri=0; geo=europe; depth=-1, <http://b/>; rel=duplicate; pri=1000000",
        &base(),
    )
    .unwrap();
    let m = MetalinkLinks::from_links(&links);
    for mirror in &m.mirrors {
        assert_eq!(mirror.priority, None);
        assert_eq!(mirror.location, None);
        assert_eq!(mirror.depth, None);
    }
}

#[test]
fn malformed_link_headers_are_errors_at_an_offset() {
    let cases = [
        (
            "http://a/; rel=duplicate",
            0,
            HeaderErrorKind::ExpectedTarget,
        ),
        (
            "<http://a/; rel=duplicate",
            0,
            HeaderErrorKind::UnterminatedTarget,
        ),
        (
            "<http://a/> rel=duplicate",
            12,
            HeaderErrorKind::ExpectedSeparator,
        ),
        (
            "<http://a/>; =x",
            13,
            HeaderErrorKind::ExpectedParameterName,
        ),
        (
            "<http://a/>; title=\"open",
            19,
            HeaderErrorKind::UnterminatedQuotedString,
        ),
        (
            "<http://[::1/>; rel=duplicate",
            0,
            HeaderErrorKind::InvalidTarget(swarmget_metalink::url::ParseError::InvalidIpv6Address),
        ),
    ];
    for (value, offset, kind) in cases {
        let e = parse_link_header(value, &base()).unwrap_err();
        assert_eq!((e.offset, &e.kind), (offset, &kind), "{value}");
        assert!(e.to_string().contains(&format!("byte {offset}")));
    }
}

#[test]
fn digest_headers_decode_base64_per_algorithm() {
    // The digests of the empty input.
    let md5 = Hash::from_hex(HashAlgorithm::Md5, "d41d8cd98f00b204e9800998ecf8427e").unwrap();
    let sha1 = Hash::from_hex(
        HashAlgorithm::Sha1,
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    )
    .unwrap();
    let sha256 = Hash::from_hex(
        HashAlgorithm::Sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    )
    .unwrap();
    let parsed = parse_digest_header(
        "md5=1B2M2Y8AsgTpgAmY7PhCfg==,SHA=2jmj7l5rSw0yVb/vlWAYkK/YBwk=, SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
    )
    .unwrap();
    assert_eq!(parsed, [sha256.clone(), sha1.clone(), md5.clone()]);
    let formatted = format_digest_header(&parsed);
    assert_eq!(
        formatted,
        "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=, SHA=2jmj7l5rSw0yVb/vlWAYkK/YBwk=, MD5=1B2M2Y8AsgTpgAmY7PhCfg=="
    );
    assert_eq!(parse_digest_header(&formatted).unwrap(), parsed);
}

#[test]
fn digest_values_of_the_wrong_length_or_encoding_are_errors() {
    let e = parse_digest_header("UNIXsum=30637, SHA-256=1B2M2Y8AsgTpgAmY7PhCfg==").unwrap_err();
    assert_eq!(e.offset, 23);
    assert_eq!(
        e.kind,
        HeaderErrorKind::InvalidDigest {
            algorithm: HashAlgorithm::Sha256,
            reason: HashValueError::WrongLength {
                expected: 32,
                found: 16
            }
        }
    );
    let e = parse_digest_header("MD5=!!!!!!!!!!!!!!!!!!!!!!!!").unwrap_err();
    assert!(matches!(
        e.kind,
        HeaderErrorKind::InvalidDigest {
            reason: HashValueError::NotBase64,
            ..
        }
    ));
    let huge = format!("SHA-512={}", "A".repeat(1_000_000));
    assert!(matches!(
        parse_digest_header(&huge).unwrap_err().kind,
        HeaderErrorKind::InvalidDigest {
            reason: HashValueError::WrongLength { .. },
            ..
        }
    ));
    assert_eq!(
        parse_digest_header("SHA-256").unwrap_err().kind,
        HeaderErrorKind::ExpectedEquals
    );
}

#[test]
fn unknown_digest_algorithms_are_skipped() {
    assert_eq!(
        parse_digest_header("UNIXsum=30637, CRC32C=AAAAAA==, , ").unwrap(),
        []
    );
}
