//! Hostile and broken input: each gets a clear error or a bounded result.
//!
//! No test here times the parser: each asserts the error that shows where the work was
//! cut off (the size check before parsing, the node limit, the DTD ban, the length check
//! before decoding), which holds however loaded the machine is. Speed is for benchmarks.

use std::fmt::Write as _;

use swarmget_metalink::{ErrorKind, HashAlgorithm, HashValueError, Limits, ParseOptions, parse};

const V4: &str = "urn:ietf:params:xml:ns:metalink";

fn parse_default(doc: &[u8]) -> Result<swarmget_metalink::Parsed, swarmget_metalink::Error> {
    parse(doc, &ParseOptions::default())
}

fn with_limits(limits: Limits) -> ParseOptions {
    ParseOptions {
        limits,
        ..ParseOptions::default()
    }
}

#[test]
fn malformed_xml_reports_line_and_column() {
    let doc = format!("<metalink xmlns=\"{V4}\">\n  <file name=\"a\">\n  </fil>\n</metalink>");
    let e = parse_default(doc.as_bytes()).unwrap_err();
    match e.kind() {
        ErrorKind::Xml { line, .. } => assert_eq!(*line, 3),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("malformed XML at line 3"), "{e}");
}

#[test]
fn truncated_and_empty_input_are_errors() {
    let full =
        format!("<metalink xmlns=\"{V4}\"><file name=\"a\"><size>1</size></file></metalink>");
    for end in 0..full.len() {
        let e = parse_default(&full.as_bytes()[..end]).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Xml { .. }), "{end}: {e:?}");
    }
}

#[test]
fn input_that_is_not_utf8_is_refused_at_its_offset() {
    let mut doc = format!("<metalink xmlns=\"{V4}\"><file name=\"caf").into_bytes();
    let offset = doc.len();
    doc.extend_from_slice(b"\xe9\"/></metalink>");
    let e = parse_default(&doc).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::NotUtf8);
    assert_eq!(e.offset(), Some(offset));
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let doc = format!("<metalink xmlns=\"{V4}\"><file name=\"a\"><size>7</size></file></metalink>");
    let with_bom = format!("\u{feff}{doc}");
    let plain = parse_default(doc.as_bytes()).unwrap();
    let marked = parse_default(with_bom.as_bytes()).unwrap();
    assert_eq!(
        marked.metalink, plain.metalink,
        "the mark changed what was read"
    );
    assert_eq!(marked.metalink.files[0].name.as_ref(), "a");
    assert_eq!(marked.metalink.files[0].size, Some(7));
}

const BILLION_LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE metalink [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="a"><description>&lol9;</description></file></metalink>"#;

#[test]
fn billion_laughs_is_refused_because_dtds_are() {
    let e = parse_default(BILLION_LAUGHS.as_bytes()).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::DtdNotAllowed);
    assert!(e.to_string().contains("DTD"), "{e}");
}

#[test]
fn external_entities_are_refused_because_dtds_are() {
    let doc = format!(
        "<!DOCTYPE metalink [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<metalink xmlns=\"{V4}\"><file name=\"&x;\"/></metalink>"
    );
    assert_eq!(
        parse_default(doc.as_bytes()).unwrap_err().kind(),
        &ErrorKind::DtdNotAllowed
    );
}

/// The defence in depth the DTD ban sits on: roxmltree itself stops entity
/// expansion (10 levels of nesting, 255 references per entity). If a roxmltree
/// upgrade loosened that, this test says so.
#[test]
fn roxmltree_bounds_entity_expansion_even_with_dtds_on() {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..roxmltree::ParsingOptions::default()
    };
    let result = roxmltree::Document::parse_with_options(BILLION_LAUGHS, options).map(|_| ());
    assert!(
        matches!(result, Err(roxmltree::Error::EntityReferenceLoop(_))),
        "{result:?}"
    );
}

#[test]
fn a_100_mb_document_is_refused_before_parsing() {
    let mut doc = format!("<metalink xmlns=\"{V4}\"><file name=\"a\"><description>").into_bytes();
    doc.resize(100 * 1024 * 1024, b'x');
    let e = parse_default(&doc).unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::DocumentTooLarge {
            len: 100 * 1024 * 1024,
            limit: Limits::DEFAULT.max_document_bytes
        }
    );
}

/// A file with `count` `url` entries, one per line.
fn many_urls(count: usize) -> String {
    let mut doc = format!("<metalink xmlns=\"{V4}\"><file name=\"a\">\n");
    for i in 0..count {
        let _ = writeln!(doc, "<url>http://m{i}/a</url>");
    }
    doc.push_str("</file></metalink>");
    doc
}

#[test]
fn a_million_urls_are_refused_within_the_node_limit() {
    let doc = many_urls(1_000_000);
    assert!(doc.len() < Limits::DEFAULT.max_document_bytes);
    let e = parse_default(doc.as_bytes()).unwrap_err();
    assert_eq!(
        e.kind(),
        &ErrorKind::TooManyNodes {
            limit: Limits::DEFAULT.max_nodes
        }
    );
}

#[test]
fn the_per_file_source_limit_holds_when_the_tree_fits() {
    let doc = many_urls(1_000);
    let limits = Limits {
        max_sources_per_file: 999,
        ..Limits::DEFAULT
    };
    let e = parse(doc.as_bytes(), &with_limits(limits)).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::TooManySources { limit: 999 });
    assert_eq!(e.file().unwrap().name, "a");
    let limits = Limits {
        max_sources_per_file: 1_000,
        ..Limits::DEFAULT
    };
    let p = parse(doc.as_bytes(), &with_limits(limits)).unwrap();
    assert_eq!(p.metalink.files[0].urls.len(), 1_000);
}

#[test]
fn the_file_limit_holds() {
    let mut doc = format!("<metalink xmlns=\"{V4}\">");
    for i in 0..11 {
        let _ = write!(doc, "<file name=\"f{i}\"/>");
    }
    doc.push_str("</metalink>");
    let limits = Limits {
        max_files: 10,
        ..Limits::DEFAULT
    };
    let e = parse(doc.as_bytes(), &with_limits(limits)).unwrap_err();
    assert_eq!(e.kind(), &ErrorKind::TooManyFiles { limit: 10 });
    assert_eq!(e.file().map(|f| f.number), None);
}

#[test]
fn the_size_limit_is_configurable() {
    let doc = format!("<metalink xmlns=\"{V4}\"><file name=\"a\"/></metalink>");
    let limits = Limits {
        max_document_bytes: doc.len() - 1,
        ..Limits::DEFAULT
    };
    assert!(matches!(
        parse(doc.as_bytes(), &with_limits(limits))
            .unwrap_err()
            .kind(),
        ErrorKind::DocumentTooLarge { .. }
    ));
}

#[test]
fn deeply_nested_extensions_do_not_exhaust_the_stack() {
    let depth = 100_000;
    let mut doc = format!("<metalink xmlns=\"{V4}\"><file name=\"a\">");
    doc.push_str(&"<x>".repeat(depth));
    doc.push_str(&"</x>".repeat(depth));
    doc.push_str("<size>3</size></file></metalink>");
    let p = parse_default(doc.as_bytes()).unwrap();
    assert_eq!(p.metalink.files[0].size, Some(3));
}

#[test]
fn huge_bad_values_give_short_error_messages() {
    let doc = format!(
        "<metalink xmlns=\"{V4}\"><file name=\"a\"><size>{}</size></file></metalink>",
        "9".repeat(1_000_000)
    );
    let e = parse_default(doc.as_bytes()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::InvalidSize { .. }));
    assert!(e.to_string().len() < 300, "{} bytes", e.to_string().len());
}

#[test]
fn a_huge_hash_value_is_refused_without_decoding_it() {
    let doc = format!(
        "<metalink xmlns=\"{V4}\"><file name=\"a\"><hash type=\"md5\">{}</hash></file></metalink>",
        "ab".repeat(5_000_000)
    );
    let e = parse_default(doc.as_bytes()).unwrap_err();
    // The length check comes before any decoding, so the error counts the value's bytes
    // without a decoded buffer ever holding them.
    assert_eq!(
        e.kind(),
        &ErrorKind::InvalidHash {
            algorithm: HashAlgorithm::Md5,
            reason: HashValueError::WrongLength {
                expected: 16,
                found: 5_000_000
            }
        },
        "{e:?}"
    );
}
