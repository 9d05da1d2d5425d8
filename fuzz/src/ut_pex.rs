//! Arbitrary bytes as a BEP 11 `ut_pex` message.
//!
//! Invariants checked besides "never panics": no list exceeds its bound, and a message
//! that parses re-encodes to bytes that parse to the same message.

use swarmget_bt_wire::extension::PexMessage;
use swarmget_bt_wire::extension::ut_pex::MAX_PEERS;

/// Parses `data` as described in the module documentation.
pub fn run(data: &[u8]) {
    let Ok(message) = PexMessage::parse(data) else {
        return;
    };
    assert!(message.added.len() <= 2 * MAX_PEERS);
    assert!(message.dropped.len() <= 2 * MAX_PEERS);
    assert_eq!(PexMessage::parse(&message.encode()), Ok(message));
}
