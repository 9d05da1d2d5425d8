//! File filters, URL order and hash choice: aria2's `--metalink-*` semantics.

use swarmget_metalink::{HashAlgorithm, ParseOptions, Parsed, Preferences, Protocol, parse};

fn read(doc: &[u8]) -> Parsed {
    parse(doc, &ParseOptions::default()).unwrap()
}

fn variants() -> Parsed {
    read(include_bytes!("fixtures/variants.metalink"))
}

fn selected(p: &Parsed, prefs: &Preferences) -> Vec<usize> {
    p.metalink.select_files(prefs).map(|(i, _)| i).collect()
}

#[test]
fn no_preferences_keep_every_file() {
    let p = variants();
    assert_eq!(selected(&p, &Preferences::default()), [0, 1, 2, 3]);
}

#[test]
fn version_filters_exactly() {
    let p = variants();
    let prefs = Preferences {
        version: Some("2.0".into()),
        ..Preferences::default()
    };
    assert_eq!(selected(&p, &prefs), [3]);
    let prefs = Preferences {
        version: Some("2".into()),
        ..Preferences::default()
    };
    assert_eq!(selected(&p, &prefs), [] as [usize; 0]);
}

#[test]
fn language_and_os_filter_and_combine() {
    let p = variants();
    let prefs = Preferences {
        language: Some("de".into()),
        ..Preferences::default()
    };
    assert_eq!(selected(&p, &prefs), [1]);
    let prefs = Preferences {
        language: Some("EN".into()),
        os: Some("linux-x86".into()),
        version: Some("2.1".into()),
        ..Preferences::default()
    };
    assert_eq!(selected(&p, &prefs), [2]);
}

#[test]
fn files_that_name_no_language_are_dropped_when_one_is_asked_for() {
    let p = read(include_bytes!("fixtures/mirrorbrain.meta4"));
    let prefs = Preferences {
        language: Some("en".into()),
        ..Preferences::default()
    };
    assert_eq!(selected(&p, &prefs), [] as [usize; 0]);
}

/// Six mirrors with priorities 1..=6 in de, de, de, nl, cz, us; schemes http, http,
/// ftp, https, http, http.
fn mirrorbrain_order(prefs: &Preferences) -> Vec<String> {
    let p = read(include_bytes!("fixtures/mirrorbrain.meta4"));
    p.metalink.files[0]
        .ordered_urls(prefs)
        .iter()
        .map(|r| {
            format!(
                "{}{}:{}",
                r.location.unwrap(),
                r.priority.unwrap(),
                r.url.scheme()
            )
        })
        .collect()
}

#[test]
fn urls_go_by_priority_without_preferences() {
    assert_eq!(
        mirrorbrain_order(&Preferences::default()),
        [
            "de1:http",
            "de2:http",
            "de3:ftp",
            "nl4:https",
            "cz5:http",
            "us6:http"
        ]
    );
}

#[test]
fn preferred_locations_come_first_keeping_priority_among_them() {
    let prefs = Preferences {
        locations: Preferences::parse_locations("us,CZ").unwrap(),
        ..Preferences::default()
    };
    assert_eq!(
        mirrorbrain_order(&prefs),
        [
            "cz5:http",
            "us6:http",
            "de1:http",
            "de2:http",
            "de3:ftp",
            "nl4:https"
        ]
    );
}

#[test]
fn preferred_protocol_counts_like_a_location() {
    let prefs = Preferences {
        protocol: Some(Protocol::Ftp),
        ..Preferences::default()
    };
    assert_eq!(
        mirrorbrain_order(&prefs),
        [
            "de3:ftp",
            "de1:http",
            "de2:http",
            "nl4:https",
            "cz5:http",
            "us6:http"
        ]
    );
    // A location match and a protocol match weigh the same: priority decides
    // between them.
    let prefs = Preferences {
        protocol: Some(Protocol::Ftp),
        locations: Preferences::parse_locations("us").unwrap(),
        ..Preferences::default()
    };
    assert_eq!(
        mirrorbrain_order(&prefs),
        [
            "de3:ftp",
            "us6:http",
            "de1:http",
            "de2:http",
            "nl4:https",
            "cz5:http"
        ]
    );
    // Matching both beats matching either.
    let prefs = Preferences {
        protocol: Some(Protocol::Http),
        locations: Preferences::parse_locations("cz").unwrap(),
        ..Preferences::default()
    };
    assert_eq!(
        mirrorbrain_order(&prefs),
        [
            "cz5:http",
            "de1:http",
            "de2:http",
            "us6:http",
            "de3:ftp",
            "nl4:https"
        ]
    );
}

#[test]
fn equal_priorities_keep_document_order_and_missing_priority_is_last() {
    let doc = br#"<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="a">
        <url>http://none/</url>
        <url priority="5">http://b/</url>
        <url priority="5">http://a/</url>
        <url priority="999999">http://lowest/</url>
        <url priority="2">http://c/</url></file></metalink>"#;
    let p = read(doc);
    let order: Vec<_> = p.metalink.files[0]
        .ordered_urls(&Preferences::default())
        .iter()
        .map(|r| r.url.host_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, ["c", "b", "a", "none", "lowest"]);
}

#[test]
fn metaurls_go_by_priority() {
    let doc = br#"<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="a">
        <metaurl mediatype="torrent">http://t3/</metaurl>
        <metaurl mediatype="torrent" priority="2">http://t2/</metaurl>
        <metaurl mediatype="torrent" priority="1">http://t1/</metaurl></file></metalink>"#;
    let p = read(doc);
    let order: Vec<_> = p.metalink.files[0]
        .ordered_metaurls()
        .iter()
        .map(|m| m.url.host_str().unwrap().to_owned())
        .collect();
    assert_eq!(order, ["t1", "t2", "t3"]);
}

#[test]
fn the_strongest_hash_wins_whatever_the_order() {
    let hex = |a: HashAlgorithm| "1".repeat(a.digest_len() * 2);
    let all = HashAlgorithm::STRONGEST_FIRST;
    for strongest in 0..all.len() {
        // Present: `strongest` and everything weaker, listed weakest first.
        let mut hashes = String::new();
        for a in all[strongest..].iter().rev() {
            hashes.push_str(&format!(
                "<hash type=\"{}\">{}</hash>",
                a.metalink4_name(),
                hex(*a)
            ));
        }
        let doc = format!(
            "<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\"><file name=\"a\">{hashes}</file></metalink>"
        );
        let p = read(doc.as_bytes());
        assert_eq!(
            p.metalink.files[0].strongest_hash().unwrap().algorithm(),
            all[strongest]
        );
    }
    let p = read(include_bytes!("fixtures/rfc5854-single.meta4"));
    assert!(p.metalink.files[0].strongest_pieces().is_none());
}

#[test]
fn the_strongest_piece_list_wins() {
    let doc = format!(
        r#"<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="a">
        <pieces length="1" type="sha-256"><hash>{}</hash></pieces>
        <pieces length="1" type="sha-1"><hash>{}</hash></pieces>
        <pieces length="1" type="md5"><hash>{}</hash></pieces></file></metalink>"#,
        "2".repeat(64),
        "1".repeat(40),
        "0".repeat(32)
    );
    let p = read(doc.as_bytes());
    assert_eq!(
        p.metalink.files[0].strongest_pieces().unwrap().algorithm(),
        HashAlgorithm::Sha256
    );
}
