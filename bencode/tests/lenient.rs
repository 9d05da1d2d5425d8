//! Lenient decoding: what it accepts, what it reports, and how lookups treat the result.

use swarmget_bencode::{Decoded, Decoder, OwnedValue, WarningKind, decode};

fn lenient(input: &[u8]) -> Decoded<'_> {
    Decoder::new()
        .lenient(true)
        .decode(input)
        .unwrap_or_else(|e| panic!("{}: {e}", input.escape_ascii()))
}

fn warnings(decoded: &Decoded<'_>) -> Vec<(WarningKind, usize)> {
    decoded
        .warnings
        .iter()
        .map(|w| (w.kind(), w.offset()))
        .collect()
}

#[test]
fn unsorted_keys_are_accepted_reported_and_found() {
    let decoded = lenient(b"d1:bi1e1:ai2ee");
    assert_eq!(warnings(&decoded), [(WarningKind::UnsortedKey, 7)]);
    assert!(!decoded.is_canonical());
    let dict = decoded.value.as_dict().unwrap();
    assert!(!dict.is_canonical());
    assert_eq!(dict.get("a").and_then(|v| v.as_int()), Some(2));
    assert_eq!(dict.get("b").and_then(|v| v.as_int()), Some(1));
    assert_eq!(dict.get("c"), None);
    // Input order is kept; the canonical view and the encoding are sorted.
    assert_eq!(dict.keys().collect::<Vec<_>>(), [b"b", b"a"]);
    let canonical: Vec<_> = dict.canonical().map(|(k, _)| k).collect();
    assert_eq!(canonical, [b"a", b"b"]);
    assert_eq!(decoded.value.encode(), b"d1:ai2e1:bi1ee");
    // The raw bytes are the input's, unsorted.
    assert_eq!(decoded.value.raw(), b"d1:bi1e1:ai2ee");
}

#[test]
fn repeated_keys_keep_the_first_occurrence() {
    let decoded = lenient(b"d1:ai1e1:ai2ee");
    assert_eq!(warnings(&decoded), [(WarningKind::DuplicateKey, 7)]);
    let dict = decoded.value.as_dict().unwrap();
    assert_eq!(dict.len(), 2);
    assert_eq!(dict.get("a").and_then(|v| v.as_int()), Some(1));
    let all: Vec<_> = dict.get_all(b"a").filter_map(|v| v.as_int()).collect();
    assert_eq!(all, [1, 2]);
    assert_eq!(decoded.value.encode(), b"d1:ai1ee");
    let owned = decoded.value.to_owned_value();
    assert_eq!(owned.get("a"), Some(&OwnedValue::Int(1)));
}

#[test]
fn repeats_that_are_not_neighbours_are_found() {
    // 'a' comes back after 'b': out of order, and a repeat of the first 'a'.
    let decoded = lenient(b"d1:ai1e1:bi2e1:ai3ee");
    assert_eq!(
        warnings(&decoded),
        [
            (WarningKind::UnsortedKey, 13),
            (WarningKind::DuplicateKey, 13)
        ]
    );
    let dict = decoded.value.as_dict().unwrap();
    assert_eq!(dict.get("a").and_then(|v| v.as_int()), Some(1));
    assert_eq!(decoded.value.encode(), b"d1:ai1e1:bi2ee");

    // Neighbouring repeats are reported once, not again when the dictionary closes.
    let decoded = lenient(b"d1:bi0e1:ai1e1:ai2ee");
    assert_eq!(
        warnings(&decoded),
        [
            (WarningKind::UnsortedKey, 7),
            (WarningKind::DuplicateKey, 13)
        ]
    );
    assert_eq!(decoded.value.get("a").and_then(|v| v.as_int()), Some(1));
}

#[test]
fn non_canonical_numbers_are_read_and_reported() {
    let decoded = lenient(b"i007e");
    assert_eq!(decoded.value.as_int(), Some(7));
    assert_eq!(warnings(&decoded), [(WarningKind::IntegerLeadingZero, 0)]);

    let decoded = lenient(b"i-0e");
    assert_eq!(decoded.value.as_int(), Some(0));
    assert_eq!(warnings(&decoded), [(WarningKind::NegativeZero, 0)]);

    let decoded = lenient(b"i-00e");
    assert_eq!(decoded.value.as_int(), Some(0));
    assert_eq!(
        warnings(&decoded),
        [
            (WarningKind::IntegerLeadingZero, 0),
            (WarningKind::NegativeZero, 0)
        ]
    );

    let decoded = lenient(b"l003:abce");
    assert_eq!(
        decoded.value.as_list().unwrap()[0].as_bytes(),
        Some(&b"abc"[..])
    );
    assert_eq!(warnings(&decoded), [(WarningKind::LengthLeadingZero, 1)]);
    assert_eq!(decoded.value.encode(), b"l3:abce");
}

#[test]
fn warnings_come_in_input_order_across_nesting() {
    let input = b"d1:bd1:yi0e1:xi0ee1:ai01ee";
    let decoded = lenient(input);
    assert_eq!(
        warnings(&decoded),
        [
            (WarningKind::UnsortedKey, 11),
            (WarningKind::UnsortedKey, 18),
            (WarningKind::IntegerLeadingZero, 21),
        ]
    );
    for warning in &decoded.warnings {
        assert!(!warning.to_string().is_empty());
    }
}

#[test]
fn canonical_input_decodes_the_same_in_both_modes() {
    let input = b"d4:infod6:lengthi5e4:name1:xe3:urll1:a1:bee";
    let strict = decode(input).unwrap();
    let decoded = lenient(input);
    assert!(decoded.is_canonical());
    assert_eq!(decoded.value, strict);
    assert_eq!(decoded.value.span(), strict.span());
}

#[test]
fn raw_spans_keep_non_canonical_bytes_for_hashing() {
    // The info dictionary is unsorted: its hash must cover these exact bytes.
    let torrent = b"d4:infod4:name1:x6:lengthi5eee";
    let decoded = lenient(torrent);
    let info = decoded.value.get("info").unwrap();
    assert_eq!(info.raw(), b"d4:name1:x6:lengthi5ee");
    assert_eq!(&torrent[info.span()], info.raw());
    assert_ne!(info.encode(), info.raw());
}
