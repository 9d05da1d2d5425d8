//! Fuzz body: a control file from disk (damaged, truncated, written by another
//! version) never panics the decoder, never makes it allocate beyond its bounds, and
//! one that decodes encodes back to bytes that decode to the same record.
//!
//! A random input almost never carries a valid CRC, which the decoder checks before
//! it reads any section; so each input is also tried with its last four bytes replaced
//! by the right CRC, which sends the fuzzer into the section parser.

use swarmget_engine::control::ControlState;

/// Decodes `data` as it is and with its CRC made right; checks every record that
/// decodes for the encode/decode round trip.
pub fn run(data: &[u8]) {
    round_trip(data);
    if let Some(body_len) = data.len().checked_sub(4) {
        let mut fixed = data[..body_len].to_vec();
        fixed.extend_from_slice(&crc32fast::hash(&fixed).to_be_bytes());
        round_trip(&fixed);
    }
}

fn round_trip(data: &[u8]) {
    let Ok(state) = ControlState::decode(data) else {
        return;
    };
    let bytes = state.encode();
    match ControlState::decode(&bytes) {
        Ok(again) => assert_eq!(again, state, "re-encoded record reads back differently"),
        Err(e) => panic!("a decoded record encodes to bytes that do not decode: {e}"),
    }
}
