//! The `Encoder` builder: canonical output whatever order entries are written in.

use swarmget_bencode::{Decoder, Encoder, OwnedValue, decode};

fn build(f: impl FnOnce(&mut Encoder)) -> Vec<u8> {
    let mut encoder = Encoder::new();
    f(&mut encoder);
    encoder.into_bytes()
}

#[test]
fn scalars_are_written_canonically() {
    assert_eq!(build(|e| e.value().int(0)), b"i0e");
    assert_eq!(build(|e| e.value().int(-42)), b"i-42e");
    assert_eq!(build(|e| e.value().int(i64::MAX)), b"i9223372036854775807e");
    assert_eq!(
        build(|e| e.value().int(i64::MIN)),
        b"i-9223372036854775808e"
    );
    assert_eq!(build(|e| e.value().bytes(b"")), b"0:");
    assert_eq!(
        build(|e| e.value().bytes(&[0xff; 10])),
        [&b"10:"[..], &[0xff; 10]].concat()
    );
    assert_eq!(build(|e| e.value().str("spam")), b"4:spam");
}

#[test]
fn dictionary_keys_come_out_sorted() {
    let bytes = build(|e| {
        e.value().dict(|d| {
            d.entry(b"zeta").int(1);
            d.entry(b"alpha").list(|l| {
                l.item().int(1);
                l.item().dict(|inner| {
                    inner.entry(b"y").int(2);
                    inner.entry(b"x").int(1);
                });
            });
            d.entry(b"mid").bytes(b"m");
            d.entry(b"").int(0);
        });
    });
    assert_eq!(bytes, b"d0:i0e5:alphali1ed1:xi1e1:yi2eee3:mid1:m4:zetai1ee");
    assert!(decode(&bytes).is_ok(), "strictly valid");
}

#[test]
fn keys_in_order_need_no_reordering() {
    let bytes = build(|e| {
        e.value().dict(|d| {
            d.entry(b"a").int(1);
            d.entry(b"b").int(2);
        })
    });
    assert_eq!(bytes, b"d1:ai1e1:bi2ee");
}

#[test]
fn a_repeated_key_keeps_the_later_value() {
    let bytes = build(|e| {
        e.value().dict(|d| {
            d.entry(b"b").int(1);
            d.entry(b"a").int(2);
            d.entry(b"b").int(3);
        })
    });
    assert_eq!(bytes, b"d1:ai2e1:bi3ee");
}

#[test]
fn an_unused_slot_writes_nothing() {
    let bytes = build(|e| {
        e.value().dict(|d| {
            let _ = d.entry(b"ghost");
            d.entry(b"real").int(1);
        });
    });
    assert_eq!(bytes, b"d4:reali1ee");
    let bytes = build(|e| {
        e.value().list(|l| {
            let _ = l.item();
        });
    });
    assert_eq!(bytes, b"le");
}

#[test]
fn nested_unsorted_dictionaries_sort_independently() {
    let bytes = build(|e| {
        e.value().dict(|d| {
            d.entry(b"b").dict(|inner| {
                inner.entry(b"q").int(1);
                inner.entry(b"p").dict(|deepest| {
                    deepest.entry(b"2").int(2);
                    deepest.entry(b"1").int(1);
                });
            });
            d.entry(b"a").dict(|inner| {
                inner.entry(b"z").int(0);
                inner.entry(b"y").int(0);
            });
        })
    });
    assert_eq!(bytes, b"d1:ad1:yi0e1:zi0ee1:bd1:pd1:1i1e1:2i2ee1:qi1eee");
    decode(&bytes).unwrap();
}

#[test]
fn decoded_values_can_be_copied_canonically_or_verbatim() {
    let input = b"d4:infod1:bi1e1:ai2eee";
    let decoded = Decoder::new().lenient(true).decode(input).unwrap();
    let info = decoded.value.get("info").unwrap();

    let canonical = build(|e| {
        e.value().dict(|d| d.entry(b"info").value(info));
    });
    assert_eq!(canonical, b"d4:infod1:ai2e1:bi1eee");

    let verbatim = build(|e| {
        e.value().dict(|d| d.entry(b"info").raw_value(info));
    });
    assert_eq!(verbatim, input);
}

#[test]
fn owned_values_and_multiple_top_level_values() {
    let owned = OwnedValue::List(vec![OwnedValue::from(1), OwnedValue::from("x")]);
    let mut encoder = Encoder::with_capacity(16);
    encoder.value().owned(&owned);
    encoder.value().int(2);
    assert_eq!(encoder.as_bytes(), b"li1e1:xei2e");
}
