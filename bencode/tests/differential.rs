//! Differential test against `bendy`: on random and mutated input, wherever both decoders
//! accept, they must read the same structure; on canonical input, both must accept.

mod common;

use std::collections::BTreeMap;

use bendy::decoding::{Decoder as BendyDecoder, Object};
use proptest::prelude::*;
use swarmget_bencode::{OwnedValue, decode};

/// bendy's reading of `input` as one complete value, or `None` if it rejects it.
fn bendy_decode(input: &[u8]) -> Option<OwnedValue> {
    let mut decoder = BendyDecoder::new(input).with_max_depth(256);
    let value = {
        let object = decoder.next_object().ok()??;
        convert(object)?
    };
    // bendy reads a stream; a single document has nothing after its value.
    match decoder.next_object() {
        Ok(None) => Some(value),
        _ => None,
    }
}

fn convert(object: Object<'_, '_>) -> Option<OwnedValue> {
    Some(match object {
        Object::Integer(text) => OwnedValue::Int(text.parse().ok()?),
        Object::Bytes(bytes) => OwnedValue::Bytes(bytes.to_vec()),
        Object::List(mut list) => {
            let mut items = Vec::new();
            while let Some(item) = list.next_object().ok()? {
                items.push(convert(item)?);
            }
            OwnedValue::List(items)
        }
        Object::Dict(mut dict) => {
            let mut entries = BTreeMap::new();
            while let Some((key, item)) = dict.next_pair().ok()? {
                entries.insert(key.to_vec(), convert(item)?);
            }
            OwnedValue::Dict(entries)
        }
    })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn both_accept_canonical_input_and_agree(value in common::value()) {
        let bytes = value.encode();
        let ours = decode(&bytes).map(|v| v.to_owned_value()).ok();
        prop_assert_eq!(ours.as_ref(), Some(&value));
        prop_assert_eq!(bendy_decode(&bytes), Some(value));
    }

    #[test]
    fn where_both_accept_they_agree(
        input in prop_oneof![common::mutated(), common::noise()]
    ) {
        let ours = decode(&input).ok().map(|v| v.to_owned_value());
        let theirs = bendy_decode(&input);
        if let (Some(ours), Some(theirs)) = (&ours, &theirs) {
            prop_assert_eq!(ours, theirs);
        }
        // Both are strict BEP 3 decoders with the same depth limit: they should also agree on
        // what to accept.
        prop_assert_eq!(ours.is_some(), theirs.is_some(), "input {:?}", input.escape_ascii().to_string());
    }
}

#[test]
fn known_inputs_are_read_alike() {
    for input in [
        &b"d8:announce3:url4:infod6:lengthi5e4:name1:xee"[..],
        b"li-9223372036854775808ei9223372036854775807ee",
        b"d0:0:e",
        b"lllleeee",
    ] {
        assert_eq!(
            decode(input).ok().map(|v| v.to_owned_value()),
            bendy_decode(input)
        );
    }
}
