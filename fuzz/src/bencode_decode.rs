//! Fuzz body: decoding any bytes, strictly or leniently, never panics; whatever strict mode
//! accepts, lenient mode accepts identically and without warnings; and every decoded value's
//! span frames its raw bytes.

use swarmget_bencode::{Decoder, Kind, Value};

/// Decodes `data` both ways and checks that the modes and the spans agree.
pub fn run(data: &[u8]) {
    let strict = Decoder::new().decode(data);
    let lenient = Decoder::new().lenient(true).decode(data);
    match (&strict, &lenient) {
        (Ok(strict), Ok(lenient)) => {
            assert!(
                lenient.warnings.is_empty(),
                "warnings on strictly valid input: {:?}",
                lenient.warnings
            );
            assert_eq!(strict.value, lenient.value);
            assert_eq!(strict.value.span(), lenient.value.span());
        }
        (Ok(_), Err(error)) => panic!("lenient mode rejects strictly valid input: {error}"),
        (Err(error), Ok(lenient)) => {
            // Only something lenient mode reports can have made strict mode fail, and it
            // fails at the first such report.
            let first = lenient.warnings.first().map(|w| w.offset());
            assert_eq!(first, Some(error.offset()), "strict failed with {error}");
        }
        (Err(strict), Err(lenient)) => {
            assert!(strict.offset() <= data.len(), "{strict}");
            assert!(lenient.offset() <= data.len(), "{lenient}");
            let _ = strict.to_string();
        }
    }
    if let Ok(decoded) = &lenient {
        check_spans(data, &decoded.value);
        assert_eq!(decoded.value.span(), 0..data.len());
    }

    // The same input as a prefix: whatever follows the first value is handed back intact.
    if let Ok((decoded, rest)) = Decoder::new().lenient(true).decode_prefix(data) {
        assert_eq!(decoded.value.span().end + rest.len(), data.len());
    }
}

/// Every sub-value's raw bytes sit at its span, and its accessors agree with its kind.
fn check_spans(data: &[u8], value: &Value<'_>) {
    assert_eq!(data.get(value.span()), Some(value.raw()));
    match value.kind() {
        Kind::Int(n) => assert_eq!(value.as_int(), Some(*n)),
        Kind::Bytes(bytes) => {
            assert_eq!(value.as_bytes(), Some(*bytes));
            assert!(value.raw().ends_with(bytes));
        }
        Kind::List(items) => items.iter().for_each(|item| check_spans(data, item)),
        Kind::Dict(dict) => {
            for (key, item) in dict {
                check_spans(data, item);
                // Lookups find the first entry under each key.
                let first = dict.get_all(key).next();
                assert_eq!(dict.get(key).map(Value::span), first.map(Value::span));
            }
        }
    }
}
