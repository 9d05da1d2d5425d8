//! Property tests: decoding and encoding are inverse, and the two modes agree.

mod common;

use proptest::prelude::*;
use swarmget_bencode::{Decoder, Encoder, Kind, OwnedValue, Value, WarningKind, decode};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Every sub-value's raw bytes are where its span says, and decode to the same sub-value.
fn check_spans(input: &[u8], value: &Value<'_>) -> Result<(), TestCaseError> {
    prop_assert_eq!(&input[value.span()], value.raw());
    let again = Decoder::new()
        .lenient(true)
        .decode(value.raw())
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&again.value, value);
    match value.kind() {
        Kind::List(items) => items.iter().try_for_each(|item| check_spans(input, item)),
        Kind::Dict(dict) => dict
            .iter()
            .try_for_each(|(_, item)| check_spans(input, item)),
        Kind::Int(_) | Kind::Bytes(_) => Ok(()),
    }
}

/// Writes `value` through the builder, dictionary entries in reverse order.
fn build_reversed(slot: swarmget_bencode::ValueEncoder<'_>, value: &OwnedValue) {
    match value {
        OwnedValue::Int(n) => slot.int(*n),
        OwnedValue::Bytes(bytes) => slot.bytes(bytes),
        OwnedValue::List(items) => slot.list(|l| {
            for item in items {
                build_reversed(l.item(), item);
            }
        }),
        OwnedValue::Dict(dict) => slot.dict(|d| {
            for (key, item) in dict.iter().rev() {
                build_reversed(d.entry(key), item);
            }
        }),
    }
}

proptest! {
    #![proptest_config(config())]

    /// decode ∘ encode = id on values.
    #[test]
    fn decoding_an_encoding_gives_the_value_back(value in common::value()) {
        let bytes = value.encode();
        let decoded = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded.to_owned_value(), value);
        prop_assert_eq!(decoded.span(), 0..bytes.len());
        check_spans(&bytes, &decoded)?;
    }

    /// encode ∘ decode = id on canonical bytes.
    #[test]
    fn encoding_a_decoding_gives_the_bytes_back(value in common::value()) {
        let canonical = value.encode();
        let decoded = decode(&canonical).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded.encode(), canonical.clone());
        prop_assert_eq!(decoded.raw(), &canonical[..]);
    }

    /// The builder sorts whatever order entries arrive in.
    #[test]
    fn the_builder_is_canonical_in_any_order(value in common::value()) {
        let mut encoder = Encoder::new();
        build_reversed(encoder.value(), &value);
        prop_assert_eq!(encoder.into_bytes(), value.encode());
    }

    /// Lenient decoding of unsorted input finds every misplaced key and the same content.
    #[test]
    fn lenient_decoding_reports_each_unsorted_key(value in common::value()) {
        let mut bytes = Vec::new();
        let misplaced = common::encode_reversed(&value, &mut bytes);
        let decoded = Decoder::new()
            .lenient(true)
            .decode(&bytes)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(decoded.warnings.len(), misplaced);
        prop_assert!(decoded.warnings.iter().all(|w| w.kind() == WarningKind::UnsortedKey));
        prop_assert_eq!(decoded.value.to_owned_value(), value.clone());
        prop_assert_eq!(decoded.value.encode(), value.encode());
        check_spans(&bytes, &decoded.value)?;
        prop_assert_eq!(decode(&bytes).is_ok(), misplaced == 0);
    }

    /// On arbitrary input: no panic, offsets in range, and strict acceptance is exactly
    /// lenient acceptance without warnings, with the same value.
    #[test]
    fn strict_and_lenient_agree_on_any_input(
        input in prop_oneof![common::mutated(), common::noise()]
    ) {
        let strict = decode(&input);
        let lenient = Decoder::new().lenient(true).decode(&input);
        match (&strict, &lenient) {
            (Ok(strict), Ok(lenient)) => {
                prop_assert!(lenient.warnings.is_empty());
                prop_assert_eq!(strict, &lenient.value);
                prop_assert_eq!(strict.encode(), input.clone());
            }
            (Err(error), Ok(lenient)) => {
                prop_assert!(!lenient.warnings.is_empty());
                prop_assert_eq!(lenient.warnings[0].offset(), error.offset());
                // The canonical form of what lenient read is strictly valid.
                let canonical = lenient.value.encode();
                let again = decode(&canonical).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(again.to_owned_value(), lenient.value.to_owned_value());
            }
            (Ok(_), Err(error)) => prop_assert!(false, "lenient rejected strict input: {}", error),
            (Err(strict), Err(lenient)) => {
                prop_assert!(strict.offset() <= input.len());
                prop_assert!(lenient.offset() <= input.len());
                prop_assert!(!strict.to_string().is_empty());
            }
        }
    }
}
