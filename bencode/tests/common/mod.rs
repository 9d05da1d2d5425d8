//! Generators shared by the property tests.

#![allow(dead_code)] // Each test binary uses a different subset.

use proptest::prelude::*;
use swarmget_bencode::OwnedValue;

/// Keys from a small alphabet, so that dictionaries often share prefixes and collide.
pub fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![Just(b'a'), Just(b'b'), Just(b'Z'), any::<u8>()],
        0..4,
    )
}

/// Any bencode value, a few levels deep.
pub fn value() -> impl Strategy<Value = OwnedValue> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(OwnedValue::Int),
        (-20i64..20).prop_map(OwnedValue::Int),
        prop::collection::vec(any::<u8>(), 0..12).prop_map(OwnedValue::Bytes),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(OwnedValue::List),
            prop::collection::btree_map(key(), inner, 0..6).prop_map(OwnedValue::Dict),
        ]
    })
}

/// One edit to a byte string.
#[derive(Clone, Debug)]
pub enum Edit {
    Flip(usize, u8),
    Insert(usize, u8),
    Remove(usize),
    Truncate(usize),
}

/// Bytes that bencode gives meaning to, and a few it does not.
pub fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        prop::sample::select(b"ilde0123456789:-".to_vec()),
        any::<u8>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), interesting_byte()).prop_map(|(at, b)| Edit::Flip(at, b)),
        (any::<usize>(), interesting_byte()).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Remove),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

pub fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        let len = bytes.len();
        match *edit {
            Edit::Flip(at, b) if len > 0 => bytes[at % len] = b,
            Edit::Insert(at, b) => bytes.insert(at % (len + 1), b),
            Edit::Remove(at) if len > 0 => {
                bytes.remove(at % len);
            }
            Edit::Truncate(at) => bytes.truncate(at % (len + 1)),
            _ => {}
        }
    }
    bytes
}

/// Canonical encodings of random values with a few random edits: mostly near-valid input.
pub fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (value(), prop::collection::vec(edit(), 1..4))
        .prop_map(|(value, edits)| apply(value.encode(), &edits))
}

/// Short strings over bencode's own alphabet.
pub fn noise() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(interesting_byte(), 0..40)
}

/// Encodes `value` with every dictionary's entries in reverse order (not canonical), and
/// counts the keys that then arrive out of order.
pub fn encode_reversed(value: &OwnedValue, out: &mut Vec<u8>) -> usize {
    match value {
        OwnedValue::Int(n) => {
            out.extend_from_slice(format!("i{n}e").as_bytes());
            0
        }
        OwnedValue::Bytes(bytes) => {
            out.extend_from_slice(format!("{}:", bytes.len()).as_bytes());
            out.extend_from_slice(bytes);
            0
        }
        OwnedValue::List(items) => {
            out.push(b'l');
            let n = items.iter().map(|item| encode_reversed(item, out)).sum();
            out.push(b'e');
            n
        }
        OwnedValue::Dict(dict) => {
            out.push(b'd');
            let mut n = dict.len().saturating_sub(1);
            for (key, item) in dict.iter().rev() {
                out.extend_from_slice(format!("{}:", key.len()).as_bytes());
                out.extend_from_slice(key);
                n += encode_reversed(item, out);
            }
            out.push(b'e');
            n
        }
    }
}
