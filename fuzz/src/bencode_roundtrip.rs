//! Fuzz body: any value decoding accepts re-encodes canonically, and the canonical bytes
//! decode strictly to the same content; strictly valid input re-encodes byte for byte; the
//! owned tree and serde produce the same bytes.

use swarmget_bencode::{Decoder, OwnedValue, decode, from_bytes, to_bytes};

/// Decodes `data` leniently; if it decodes, checks the encode/decode round trips.
pub fn run(data: &[u8]) {
    let Ok(decoded) = Decoder::new().lenient(true).decode(data) else {
        return;
    };
    let owned = decoded.value.to_owned_value();
    let canonical = decoded.value.encode();

    if decoded.warnings.is_empty() {
        assert_eq!(
            canonical, data,
            "strictly valid input re-encodes differently"
        );
    }

    let again = match decode(&canonical) {
        Ok(again) => again,
        Err(error) => panic!("the canonical encoding does not decode strictly: {error}"),
    };
    assert_eq!(
        again.to_owned_value(),
        owned,
        "content changed in the round trip"
    );
    assert_eq!(again.encode(), canonical, "encoding is not idempotent");
    assert_eq!(
        owned.encode(),
        canonical,
        "owned and borrowed trees encode differently"
    );

    // serde sees the same content and writes the same bytes.
    match to_bytes(&decoded.value) {
        Ok(bytes) => assert_eq!(bytes, canonical, "serde writes different bytes"),
        Err(error) => panic!("serde cannot write a decoded value: {error}"),
    }
    match from_bytes::<OwnedValue>(&canonical) {
        Ok(back) => assert_eq!(back, owned, "serde reads different content"),
        Err(error) => panic!("serde cannot read canonical bytes: {error}"),
    }
}
