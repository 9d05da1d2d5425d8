//! Arbitrary bytes as a BEP 14 local service discovery datagram.
//!
//! Invariants checked besides "never panics": an announce that parses has a port and
//! at most `MAX_INFOHASHES` info-hashes, and re-encodes to bytes that parse to it.

use std::net::SocketAddr;

use swarmget_bt_wire::lpd::{GROUP_V4, LpdAnnounce, MAX_INFOHASHES};

/// Parses `data` as described in the module documentation.
pub fn run(data: &[u8]) {
    let Ok(announce) = LpdAnnounce::parse(data) else {
        return;
    };
    assert_ne!(announce.port, 0);
    assert!(!announce.info_hashes.is_empty() && announce.info_hashes.len() <= MAX_INFOHASHES);
    let again = LpdAnnounce::parse(&announce.encode(SocketAddr::V4(GROUP_V4)));
    // A cookie with a line break cannot come back (the parser splits lines first).
    if announce
        .cookie
        .as_deref()
        .is_none_or(|c| !c.contains(['\r', '\n']))
    {
        assert_eq!(again, Ok(announce));
    }
}
