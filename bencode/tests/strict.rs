//! Strict decoding: every BEP 3 rule, every error kind, every offset.

use swarmget_bencode::{Decoder, ErrorKind, decode};

/// Inputs strict decoding must reject, the kind it must name, and the offset.
const REJECTED: &[(&[u8], ErrorKind, usize)] = &[
    // Truncation, wherever it happens.
    (b"", ErrorKind::UnexpectedEof, 0),
    (b"i", ErrorKind::UnexpectedEof, 1),
    (b"i42", ErrorKind::UnexpectedEof, 3),
    (b"i-", ErrorKind::UnexpectedEof, 2),
    (b"5", ErrorKind::UnexpectedEof, 1),
    (b"l", ErrorKind::UnexpectedEof, 1),
    (b"li1e", ErrorKind::UnexpectedEof, 4),
    (b"d", ErrorKind::UnexpectedEof, 1),
    (b"d1:a", ErrorKind::UnexpectedEof, 4),
    (b"d1:ai1e", ErrorKind::UnexpectedEof, 7),
    // Bytes that cannot start a value.
    (b"x", ErrorKind::InvalidValueStart(b'x'), 0),
    (b"e", ErrorKind::InvalidValueStart(b'e'), 0),
    (b" i1e", ErrorKind::InvalidValueStart(b' '), 0),
    (b"l-1:ae", ErrorKind::InvalidValueStart(b'-'), 1),
    (b"lxe", ErrorKind::InvalidValueStart(b'x'), 1),
    (b"dxe", ErrorKind::InvalidValueStart(b'x'), 1),
    (b"d1:a\xffe", ErrorKind::InvalidValueStart(0xff), 4),
    // Integers.
    (b"i1x2e", ErrorKind::InvalidIntegerByte(b'x'), 2),
    (b"i1-e", ErrorKind::InvalidIntegerByte(b'-'), 2),
    (b"i--1e", ErrorKind::InvalidIntegerByte(b'-'), 2),
    (b"i+1e", ErrorKind::InvalidIntegerByte(b'+'), 1),
    (b"i 1e", ErrorKind::InvalidIntegerByte(b' '), 1),
    (b"i1.5e", ErrorKind::InvalidIntegerByte(b'.'), 2),
    (b"ie", ErrorKind::EmptyInteger, 0),
    (b"i-e", ErrorKind::EmptyInteger, 0),
    (b"li1eiee", ErrorKind::EmptyInteger, 4),
    (b"i03e", ErrorKind::IntegerLeadingZero, 0),
    (b"i00e", ErrorKind::IntegerLeadingZero, 0),
    (b"i-03e", ErrorKind::IntegerLeadingZero, 0),
    (b"i-00e", ErrorKind::IntegerLeadingZero, 0),
    (b"i-0e", ErrorKind::NegativeZero, 0),
    (b"l0:i-0ee", ErrorKind::NegativeZero, 3),
    (b"i9223372036854775808e", ErrorKind::IntegerOverflow, 0),
    (b"i-9223372036854775809e", ErrorKind::IntegerOverflow, 0),
    (
        b"i99999999999999999999999999e",
        ErrorKind::IntegerOverflow,
        0,
    ),
    (
        b"li1ei18446744073709551616ee",
        ErrorKind::IntegerOverflow,
        4,
    ),
    // String lengths.
    (b"3x:abc", ErrorKind::InvalidLengthByte(b'x'), 1),
    (b"3-:abc", ErrorKind::InvalidLengthByte(b'-'), 1),
    (b"3 :abc", ErrorKind::InvalidLengthByte(b' '), 1),
    (b"03:abc", ErrorKind::LengthLeadingZero, 0),
    (b"00:", ErrorKind::LengthLeadingZero, 0),
    (b"99999999999999999999999:", ErrorKind::LengthOverflow, 0),
    (
        b"4:spa",
        ErrorKind::StringBeyondInput {
            declared: 4,
            available: 3,
        },
        0,
    ),
    (
        b"1:",
        ErrorKind::StringBeyondInput {
            declared: 1,
            available: 0,
        },
        0,
    ),
    (
        b"99999999999:abc",
        ErrorKind::StringBeyondInput {
            declared: 99_999_999_999,
            available: 3,
        },
        0,
    ),
    (
        b"l1:a5:abce",
        ErrorKind::StringBeyondInput {
            declared: 5,
            available: 4,
        },
        4,
    ),
    // Dictionaries.
    (b"di1ei2ee", ErrorKind::NonStringKey, 1),
    (b"dlei1ee", ErrorKind::NonStringKey, 1),
    (b"dd1:ai1eei1ee", ErrorKind::NonStringKey, 1),
    (b"d1:ai1ei2ei3ee", ErrorKind::NonStringKey, 7),
    (b"d3:fooe", ErrorKind::MissingDictValue, 6),
    (b"d1:ai1e1:be", ErrorKind::MissingDictValue, 10),
    (b"d1:bi1e1:ai2ee", ErrorKind::UnsortedKey, 7),
    (b"d2:aai1e1:ai2ee", ErrorKind::UnsortedKey, 8),
    (b"d1:bi1e0:i2ee", ErrorKind::UnsortedKey, 7),
    (b"d1:ai1e1:ai2ee", ErrorKind::DuplicateKey, 7),
    (b"d0:i1e0:i2ee", ErrorKind::DuplicateKey, 6),
    (b"ld1:xi1e1:xi1eee", ErrorKind::DuplicateKey, 8),
    // Byte order, not text order: 'Z' (0x5a) sorts before 'a' (0x61), 0xff after both.
    (b"d1:ai1e1:Zi2ee", ErrorKind::UnsortedKey, 7),
    (b"d1:\xffi1e1:ai2ee", ErrorKind::UnsortedKey, 7),
    // Trailing data.
    (b"i1ei2e", ErrorKind::TrailingData, 3),
    (b"lee", ErrorKind::TrailingData, 2),
    (b"de\n", ErrorKind::TrailingData, 2),
    (b"0:0:", ErrorKind::TrailingData, 2),
];

#[test]
fn each_broken_rule_is_named_with_its_offset() {
    for (input, kind, offset) in REJECTED {
        let error = match decode(input) {
            Ok(value) => panic!(
                "{:?} decoded as {value:?}",
                input.escape_ascii().to_string()
            ),
            Err(error) => error,
        };
        assert_eq!(
            (error.kind(), error.offset()),
            (kind, *offset),
            "input {:?}",
            input.escape_ascii().to_string()
        );
        assert!(error.offset() <= input.len());
    }
}

#[test]
fn every_error_kind_is_covered_by_the_table() {
    let kinds: Vec<_> = REJECTED.iter().map(|(_, kind, _)| kind).collect();
    let has = |pred: fn(&ErrorKind) -> bool| kinds.iter().any(|kind| pred(kind));
    assert!(has(|k| matches!(k, ErrorKind::UnexpectedEof)));
    assert!(has(|k| matches!(k, ErrorKind::InvalidValueStart(_))));
    assert!(has(|k| matches!(k, ErrorKind::InvalidIntegerByte(_))));
    assert!(has(|k| matches!(k, ErrorKind::EmptyInteger)));
    assert!(has(|k| matches!(k, ErrorKind::IntegerLeadingZero)));
    assert!(has(|k| matches!(k, ErrorKind::NegativeZero)));
    assert!(has(|k| matches!(k, ErrorKind::IntegerOverflow)));
    assert!(has(|k| matches!(k, ErrorKind::InvalidLengthByte(_))));
    assert!(has(|k| matches!(k, ErrorKind::LengthLeadingZero)));
    assert!(has(|k| matches!(k, ErrorKind::LengthOverflow)));
    assert!(has(|k| matches!(k, ErrorKind::StringBeyondInput { .. })));
    assert!(has(|k| matches!(k, ErrorKind::NonStringKey)));
    assert!(has(|k| matches!(k, ErrorKind::MissingDictValue)));
    assert!(has(|k| matches!(k, ErrorKind::UnsortedKey)));
    assert!(has(|k| matches!(k, ErrorKind::DuplicateKey)));
    assert!(has(|k| matches!(k, ErrorKind::TrailingData)));
    // DepthLimitExceeded has its own tests in limits.rs.
}

#[test]
fn canonical_inputs_are_accepted() {
    let accepted: &[&[u8]] = &[
        b"i0e",
        b"i-1e",
        b"i42e",
        b"i9223372036854775807e",
        b"i-9223372036854775808e",
        b"0:",
        b"3:abc",
        b"10:0123456789",
        b"le",
        b"de",
        b"d0:i0ee",
        b"d0:i0e1:ai1e2:aai2e1:bi3ee",
        b"d1:Zi1e1:ai2e1:\xffi3ee",
        b"lli1eeld1:ald1:aleeeeee",
        b"d4:spaml1:a1:bee",
    ];
    for input in accepted {
        let value = decode(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
        assert_eq!(value.raw(), *input);
        assert_eq!(value.span(), 0..input.len());
        assert_eq!(
            value.encode(),
            *input,
            "canonical input re-encodes unchanged"
        );
    }
}

#[test]
fn integers_decode_to_their_values() {
    let cases: &[(&[u8], i64)] = &[
        (b"i0e", 0),
        (b"i7e", 7),
        (b"i-7e", -7),
        (b"i10e", 10),
        (b"i9223372036854775807e", i64::MAX),
        (b"i-9223372036854775808e", i64::MIN),
    ];
    for (input, expected) in cases {
        assert_eq!(decode(input).unwrap().as_int(), Some(*expected));
    }
}

#[test]
fn errors_display_kind_and_offset() {
    let error = decode(b"d1:bi1e1:ai2ee").unwrap_err();
    assert_eq!(
        error.to_string(),
        "dictionary key is out of order at byte offset 7"
    );
    let error = decode(b"lxe").unwrap_err();
    assert_eq!(
        error.to_string(),
        "byte 'x' cannot start a value (expected 'i', 'l', 'd' or a digit) at byte offset 1"
    );
    let error = decode(b"i1\x01e").unwrap_err();
    assert_eq!(
        error.to_string(),
        "byte 0x01 inside an integer (expected a digit or 'e') at byte offset 2"
    );
    let error = decode(b"9:abc").unwrap_err();
    assert_eq!(
        error.to_string(),
        "string declares 9 bytes but only 3 remain at byte offset 0"
    );
}

#[test]
fn lenient_mode_still_rejects_what_it_cannot_read() {
    // Leniency covers key order and non-canonical numbers only; structural errors stay
    // errors, with the same kind and offset.
    let lenient = Decoder::new().lenient(true);
    for (input, kind, offset) in REJECTED {
        let tolerated = matches!(
            kind,
            ErrorKind::UnsortedKey
                | ErrorKind::DuplicateKey
                | ErrorKind::IntegerLeadingZero
                | ErrorKind::NegativeZero
                | ErrorKind::LengthLeadingZero
        );
        match lenient.decode(input) {
            Ok(decoded) => {
                assert!(tolerated, "lenient accepted {input:?} despite {kind:?}");
                assert!(!decoded.warnings.is_empty());
                assert_eq!(decoded.warnings[0].offset(), *offset);
            }
            Err(error) => {
                assert!(!tolerated, "lenient rejected {input:?}: {error}");
                assert_eq!((error.kind(), error.offset()), (kind, *offset));
            }
        }
    }
}
