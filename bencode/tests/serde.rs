//! The serde layer: the data model mapping, both directions, and errors with offsets.
#![cfg(feature = "serde")]

mod common;

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use swarmget_bencode::{
    Decoder, OwnedValue, SerdeErrorKind, Value, decode, from_bytes, from_value, to_bytes,
};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Torrent {
    announce: String,
    #[serde(rename = "announce-list", default)]
    announce_list: Vec<Vec<String>>,
    info: Info,
    #[serde(rename = "creation date")]
    creation_date: Option<i64>,
    comment: Option<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Info {
    name: String,
    #[serde(rename = "piece length")]
    piece_length: u32,
    #[serde(with = "serde_bytes")]
    pieces: Vec<u8>,
    length: Option<u64>,
    files: Option<Vec<File>>,
    private: Option<bool>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct File {
    length: u64,
    path: Vec<String>,
}

fn sample() -> Torrent {
    Torrent {
        announce: "http://tracker.example/announce".into(),
        announce_list: vec![vec!["http://a".into()], vec!["udp://b".into()]],
        info: Info {
            name: "dir".into(),
            piece_length: 16384,
            pieces: vec![0xab; 40],
            length: None,
            files: Some(vec![
                File {
                    length: 3,
                    path: vec!["a".into(), "b.txt".into()],
                },
                File {
                    length: 4,
                    path: vec!["c".into()],
                },
            ]),
            private: Some(true),
        },
        creation_date: Some(1_700_000_000),
        comment: None,
    }
}

#[test]
fn structs_round_trip_with_sorted_keys_and_absent_nones() {
    let torrent = sample();
    let bytes = to_bytes(&torrent).unwrap();
    // Strictly valid (so keys are sorted), and `None` fields are not written at all.
    let value = decode(&bytes).unwrap();
    assert!(value.get("comment").is_none());
    assert!(value.get("info").unwrap().get("length").is_none());
    assert_eq!(
        value.get("creation date").and_then(Value::as_int),
        Some(1_700_000_000)
    );
    assert_eq!(
        value
            .get("info")
            .unwrap()
            .get("private")
            .and_then(Value::as_int),
        Some(1)
    );
    assert_eq!(from_bytes::<Torrent>(&bytes).unwrap(), torrent);
}

#[test]
fn output_matches_serde_bencode_and_reads_its_output() {
    let mut torrent = sample();
    // serde_bencode writes `bool` as an integer, as we do, but cannot read it back.
    torrent.info.private = None;
    let ours = to_bytes(&torrent).unwrap();
    let theirs = serde_bencode::to_bytes(&torrent).unwrap();
    assert_eq!(ours, theirs);
    let back: Torrent = serde_bencode::from_bytes(&ours).unwrap();
    assert_eq!(back, torrent);
}

#[test]
fn strings_and_bytes_borrow_from_the_input() {
    #[derive(Deserialize)]
    struct Borrowed<'a> {
        name: &'a str,
        #[serde(with = "serde_bytes")]
        hash: &'a [u8],
    }
    let input = b"d4:hash3:\x00\x01\x024:name4:spame";
    let borrowed: Borrowed<'_> = from_bytes(input).unwrap();
    assert_eq!(borrowed.name, "spam");
    assert_eq!(borrowed.hash, b"\x00\x01\x02");
    assert_eq!(borrowed.name.as_ptr(), input[20..].as_ptr());
}

#[test]
fn byte_strings_fill_byte_arrays_and_vectors() {
    let id: [u8; 4] = from_bytes(b"4:\x01\x02\x03\x04").unwrap();
    assert_eq!(id, [1, 2, 3, 4]);
    let bytes: Vec<u8> = from_bytes(b"3:abc").unwrap();
    assert_eq!(bytes, b"abc");
    let error = from_bytes::<[u8; 4]>(b"5:abcde").unwrap_err();
    assert_eq!(error.offset(), Some(0));
    let error = from_bytes::<[u8; 4]>(b"3:abc").unwrap_err();
    assert!(matches!(error.kind(), SerdeErrorKind::Custom(_)));
    let buf: serde_bytes::ByteBuf = from_bytes(b"2:\xff\x00").unwrap();
    assert_eq!(buf.as_slice(), b"\xff\x00");
    assert_eq!(
        to_bytes(&serde_bytes::Bytes::new(b"\xff")).unwrap(),
        b"1:\xff"
    );
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum Message {
    Ping,
    Have(u32),
    Request(u32, u32, u32),
    Piece { index: u32, begin: u32 },
}

#[test]
fn enums_follow_serde_bencode_conventions() {
    let cases: [(Message, &[u8]); 4] = [
        (Message::Ping, b"4:Ping"),
        (Message::Have(7), b"d4:Havei7ee"),
        (Message::Request(1, 2, 3), b"d7:Requestli1ei2ei3eee"),
        (
            Message::Piece { index: 1, begin: 0 },
            b"d5:Pieced5:begini0e5:indexi1eee",
        ),
    ];
    for (message, bytes) in cases {
        assert_eq!(to_bytes(&message).unwrap(), bytes);
        assert_eq!(from_bytes::<Message>(bytes).unwrap(), message);
        assert_eq!(serde_bencode::to_bytes(&message).unwrap(), bytes);
    }
    // A variant dictionary must have exactly one entry.
    assert!(from_bytes::<Message>(b"d4:Havei1e4:Pingi1ee").is_err());
    assert!(from_bytes::<Message>(b"de").is_err());
    assert!(from_bytes::<Message>(b"7:Unknown").is_err());
    assert!(from_bytes::<Message>(b"i1e").is_err());
    assert!(from_bytes::<Message>(b"d4:Pingi1ee").is_err());
}

#[test]
fn maps_need_text_or_byte_keys_and_come_out_sorted() {
    let map: HashMap<String, i64> = (0..20).map(|i| (format!("k{i:02}"), i)).collect();
    let bytes = to_bytes(&map).unwrap();
    assert!(
        decode(&bytes).is_ok(),
        "strict decoding accepts: keys sorted"
    );
    assert_eq!(from_bytes::<HashMap<String, i64>>(&bytes).unwrap(), map);

    let by_number: BTreeMap<u32, i64> = BTreeMap::from([(1, 1)]);
    assert_eq!(
        to_bytes(&by_number).unwrap_err().kind(),
        &SerdeErrorKind::KeyNotBytes
    );

    #[derive(Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Debug)]
    enum Key {
        Alpha,
        Beta,
    }
    let by_variant = BTreeMap::from([(Key::Beta, 2), (Key::Alpha, 1)]);
    let bytes = to_bytes(&by_variant).unwrap();
    assert_eq!(bytes, b"d5:Alphai1e4:Betai2ee");
    assert_eq!(
        from_bytes::<BTreeMap<Key, i32>>(&bytes).unwrap(),
        by_variant
    );

    let none_values: BTreeMap<&str, Option<i32>> = BTreeMap::from([("a", None), ("b", Some(1))]);
    assert_eq!(to_bytes(&none_values).unwrap(), b"d1:bi1ee");
}

#[test]
fn a_key_written_twice_is_an_error() {
    struct Twice;
    impl Serialize for Twice {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(None)?;
            map.serialize_entry("b", &1)?;
            map.serialize_entry("a", &2)?;
            map.serialize_entry("b", &3)?;
            map.end()
        }
    }
    assert_eq!(
        to_bytes(&Twice).unwrap_err().kind(),
        &SerdeErrorKind::DuplicateKey(b"b".to_vec())
    );
}

#[test]
fn scalars_map_to_integers_and_strings() {
    assert_eq!(to_bytes(&true).unwrap(), b"i1e");
    assert_eq!(to_bytes(&false).unwrap(), b"i0e");
    assert!(from_bytes::<bool>(b"i1e").unwrap());
    assert!(from_bytes::<bool>(b"i2e").is_err());
    assert_eq!(to_bytes(&'é').unwrap(), "2:é".as_bytes());
    assert_eq!(from_bytes::<char>("2:é".as_bytes()).unwrap(), 'é');
    assert_eq!(
        to_bytes(&u64::MAX).unwrap_err().kind(),
        &SerdeErrorKind::IntegerOutOfRange
    );
    assert_eq!(
        to_bytes(&(i64::MAX as u64)).unwrap(),
        b"i9223372036854775807e"
    );
    assert_eq!(to_bytes(&-5i128).unwrap(), b"i-5e");
    assert_eq!(from_bytes::<u8>(b"i255e").unwrap(), 255);
    assert!(from_bytes::<u8>(b"i256e").is_err());
    assert!(from_bytes::<u64>(b"i-1e").is_err());
    assert_eq!(
        from_bytes::<(i32, String)>(b"li1e1:xe").unwrap(),
        (1, "x".into())
    );
    assert!(
        from_bytes::<(i32,)>(b"li1ei2ee").is_err(),
        "a longer list than the tuple"
    );
    assert!(from_bytes::<String>(b"1:\xff").is_err(), "not UTF-8");
}

#[test]
fn what_bencode_cannot_express_is_refused() {
    let unsupported = |result: Result<Vec<u8>, swarmget_bencode::SerdeError>| {
        matches!(result.unwrap_err().kind(), SerdeErrorKind::Unsupported(_))
    };
    assert!(unsupported(to_bytes(&1.5f64)));
    assert!(unsupported(to_bytes(&())));
    assert!(unsupported(to_bytes(&None::<i32>)));
    assert!(unsupported(to_bytes(&vec![Some(1), None])));
    assert_eq!(to_bytes(&Some(1)).unwrap(), b"i1e");
}

#[test]
fn errors_name_the_offset_of_the_value_at_fault() {
    // `piece length` holds a string where a number belongs.
    let bytes = b"d4:name1:x12:piece length3:big6:pieces0:e";
    let error = from_bytes::<Info>(bytes).unwrap_err();
    assert_eq!(error.offset(), Some(25));
    assert!(error.to_string().contains("at byte offset 25"), "{error}");

    // A missing field is reported at its dictionary.
    let error = from_bytes::<File>(b"d6:lengthi1ee").unwrap_err();
    assert_eq!(error.offset(), Some(0));
    assert!(error.to_string().contains("path"), "{error}");

    // Bytes that are not bencode at all fail with the decoder's error.
    let error = from_bytes::<File>(b"d6:lengthi01ee").unwrap_err();
    assert!(matches!(error.kind(), SerdeErrorKind::Decode(_)));
    assert_eq!(error.offset(), Some(9));
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn lenient_values_deserialize_with_first_occurrence_semantics() {
    let input = b"d4:pathl1:ae6:lengthi1e6:lengthi2ee";
    assert!(
        from_bytes::<File>(input).is_err(),
        "strict rejects unsorted keys"
    );
    let decoded = Decoder::new().lenient(true).decode(input).unwrap();
    let file: File = from_value(&decoded.value).unwrap();
    assert_eq!(
        file,
        File {
            length: 1,
            path: vec!["a".into()]
        }
    );
}

#[test]
fn part_of_a_tree_deserializes_on_its_own() {
    let bytes = to_bytes(&sample()).unwrap();
    let value = decode(&bytes).unwrap();
    let info_value = value.get("info").unwrap();
    let info: Info = from_value(info_value).unwrap();
    assert_eq!(info, sample().info);
}

#[test]
fn deep_nesting_within_the_limit_does_not_overflow() {
    let depth = swarmget_bencode::Decoder::DEFAULT_MAX_DEPTH;
    let input = [vec![b'l'; depth], vec![b'e'; depth]].concat();
    let owned: OwnedValue = from_bytes(&input).unwrap();
    assert_eq!(to_bytes(&owned).unwrap(), input);
}

#[test]
fn untagged_and_flattened_types_see_text_as_strings() {
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(untagged)]
    enum Either {
        Number(i64),
        Text(String),
    }
    assert_eq!(from_bytes::<Either>(b"i3e").unwrap(), Either::Number(3));
    assert_eq!(
        from_bytes::<Either>(b"2:hi").unwrap(),
        Either::Text("hi".into())
    );

    #[derive(Debug, PartialEq, Deserialize)]
    struct WithExtra {
        name: String,
        #[serde(flatten)]
        extra: BTreeMap<String, OwnedValue>,
    }
    let parsed: WithExtra = from_bytes(b"d4:name1:n1:xi1ee").unwrap();
    assert_eq!(parsed.name, "n");
    assert_eq!(parsed.extra.get("x"), Some(&OwnedValue::Int(1)));
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Values survive serde in both directions and serde output is the canonical encoding.
    #[test]
    fn owned_values_round_trip_through_serde(value in common::value()) {
        let bytes = to_bytes(&value).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&bytes, &value.encode());
        let back: OwnedValue = from_bytes(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &value);
        // A borrowed value serializes to the same bytes.
        let borrowed = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(to_bytes(&borrowed).map_err(|e| TestCaseError::fail(e.to_string()))?, bytes);
    }
}
