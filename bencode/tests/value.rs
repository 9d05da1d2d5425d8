//! The borrowed tree: accessors, spans, lookups, equality, debug output, owned copies.

use std::collections::BTreeMap;

use swarmget_bencode::{Decoder, Kind, OwnedValue, Value, decode};

const TORRENT: &[u8] = b"d8:announce16:http://t.example4:infod5:filesld6:lengthi3e4:pathl1:a1:beed6:lengthi4e4:pathl1:ceee4:name3:dir12:piece lengthi16384e6:pieces20:AAAAAAAAAAAAAAAAAAAAee";

/// Visits every value of a tree, depth first.
fn walk<'v, 'a>(value: &'v Value<'a>, seen: &mut Vec<&'v Value<'a>>) {
    seen.push(value);
    match value.kind() {
        Kind::List(items) => items.iter().for_each(|item| walk(item, seen)),
        Kind::Dict(dict) => dict.iter().for_each(|(_, item)| walk(item, seen)),
        Kind::Int(_) | Kind::Bytes(_) => {}
    }
}

#[test]
fn typed_accessors_reach_into_a_torrent() {
    let torrent = decode(TORRENT).unwrap();
    let root = torrent.as_dict().unwrap();
    assert_eq!(
        root.get(b"announce").and_then(Value::as_str),
        Some("http://t.example")
    );
    let info = root.get(b"info").and_then(Value::as_dict).unwrap();
    assert_eq!(info.get("name").and_then(Value::as_str), Some("dir"));
    assert_eq!(
        info.get("piece length").and_then(Value::as_int),
        Some(16384)
    );
    assert_eq!(
        info.get("pieces")
            .and_then(Value::as_bytes)
            .map(<[u8]>::len),
        Some(20)
    );
    let files = info.get("files").and_then(Value::as_list).unwrap();
    let lengths: Vec<_> = files
        .iter()
        .filter_map(|f| f.get("length")?.as_int())
        .collect();
    assert_eq!(lengths, [3, 4]);
    let path: Vec<_> = files[0]
        .get("path")
        .and_then(Value::as_list)
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(path, ["a", "b"]);

    // Wrong-type accessors say so with None.
    let name = info.get("name").unwrap();
    assert_eq!(name.as_int(), None);
    assert!(name.as_list().is_none());
    assert!(name.as_dict().is_none());
    assert!(name.get("x").is_none());
    assert_eq!(info.get("piece length").unwrap().as_bytes(), None);
}

#[test]
fn every_span_frames_the_raw_bytes_it_came_from() {
    let torrent = decode(TORRENT).unwrap();
    let mut seen = Vec::new();
    walk(&torrent, &mut seen);
    assert_eq!(seen.len(), 16);
    for value in seen {
        assert_eq!(&TORRENT[value.span()], value.raw());
        // Each raw slice is itself one complete value equal to the sub-tree.
        assert_eq!(&decode(value.raw()).unwrap(), value);
    }
    let info = torrent.get("info").unwrap();
    assert_eq!(info.span(), 36..TORRENT.len() - 1);
    assert!(info.raw().starts_with(b"d5:files"));
}

#[test]
fn byte_strings_borrow_the_input() {
    let input = b"l4:spame".to_vec();
    let value = decode(&input).unwrap();
    let spam = value.as_list().unwrap()[0].as_bytes().unwrap();
    assert_eq!(spam.as_ptr(), input[3..].as_ptr());
}

#[test]
fn non_utf8_strings_are_bytes_but_not_str() {
    let value = decode(b"2:\xff\xfe").unwrap();
    assert_eq!(value.as_bytes(), Some(&b"\xff\xfe"[..]));
    assert_eq!(value.as_str(), None);
}

#[test]
fn type_names_describe_each_kind() {
    let names: Vec<_> = decode(b"li1e0:ledee")
        .unwrap()
        .as_list()
        .unwrap()
        .iter()
        .map(Value::type_name)
        .collect();
    assert_eq!(names, ["integer", "byte string", "list", "dictionary"]);
}

#[test]
fn equality_ignores_position() {
    let a = decode(b"li1ei1ee").unwrap();
    let items = a.as_list().unwrap();
    assert_ne!(items[0].span(), items[1].span());
    assert_eq!(items[0], items[1]);
    assert_ne!(decode(b"i1e").unwrap(), decode(b"i2e").unwrap());
    assert_ne!(decode(b"1:a").unwrap(), decode(b"le").unwrap());
}

#[test]
fn dict_iteration_and_lookup() {
    let value = decode(b"d1:ai1e1:bi2e1:ci3ee").unwrap();
    let dict = value.as_dict().unwrap();
    assert_eq!(dict.len(), 3);
    assert!(!dict.is_empty());
    assert!(dict.is_canonical());
    assert!(dict.contains_key("b"));
    assert!(!dict.contains_key("d"));
    let pairs: Vec<_> = dict.iter().map(|(k, v)| (k, v.as_int().unwrap())).collect();
    assert_eq!(pairs, [(&b"a"[..], 1), (b"b", 2), (b"c", 3)]);
    let backwards: Vec<_> = dict.iter().rev().map(|(k, _)| k).collect();
    assert_eq!(backwards, [b"c", b"b", b"a"]);
    assert_eq!(dict.iter().len(), 3);
    let mut count = 0;
    for (key, value) in dict {
        assert_eq!(dict.get(key), Some(value));
        count += 1;
    }
    assert_eq!(count, 3);
    assert_eq!(dict.entries().len(), 3);
    // Lookups in an empty dictionary and for keys sorting outside the range.
    assert!(decode(b"de").unwrap().as_dict().unwrap().is_empty());
    assert_eq!(dict.get(""), None);
    assert_eq!(dict.get("zz"), None);
}

#[test]
fn lookups_agree_between_sorted_and_unsorted_dictionaries() {
    let sorted = decode(b"d1:ai1e1:bi2e1:ci3ee").unwrap();
    let unsorted = Decoder::new()
        .lenient(true)
        .decode(b"d1:ci3e1:ai1e1:bi2ee")
        .unwrap()
        .value;
    for key in ["a", "b", "c", "d", ""] {
        assert_eq!(sorted.get(key), unsorted.get(key), "key {key}");
    }
    assert_eq!(sorted.to_owned_value(), unsorted.to_owned_value());
    assert_ne!(sorted, unsorted, "entries differ in order");
}

#[test]
fn debug_output_reads_like_bencode_content() {
    let value = decode(b"d3:keyli1e2:\xffxee").unwrap();
    assert_eq!(format!("{value:?}"), r#"{b"key": [1, b"\xffx"]}"#);
    let owned = value.to_owned_value();
    assert_eq!(format!("{owned:?}"), r#"{b"key": [1, b"\xffx"]}"#);
}

#[test]
fn owned_values_copy_the_content() {
    let owned = {
        let input = b"d1:ai-5e1:bl1:xee".to_vec();
        decode(&input).unwrap().to_owned_value()
    };
    let expected = OwnedValue::Dict(BTreeMap::from([
        (b"a".to_vec(), OwnedValue::Int(-5)),
        (b"b".to_vec(), OwnedValue::List(vec![OwnedValue::from("x")])),
    ]));
    assert_eq!(owned, expected);
    assert_eq!(owned.get("a").and_then(OwnedValue::as_int), Some(-5));
    assert_eq!(
        owned
            .get("b")
            .and_then(OwnedValue::as_list)
            .map(|items| items[0].as_str()),
        Some(Some("x"))
    );
    assert_eq!(owned.as_bytes(), None);
    assert_eq!(owned.type_name(), "dictionary");
    assert_eq!(owned.encode(), b"d1:ai-5e1:bl1:xee");
}

#[test]
fn into_kind_and_into_value_hand_over_the_content() {
    let decoded = Decoder::new().decode(b"l1:ae").unwrap();
    match decoded.into_value().into_kind() {
        Kind::List(items) => assert_eq!(items[0].as_bytes(), Some(&b"a"[..])),
        other => panic!("not a list: {other:?}"),
    }
}
