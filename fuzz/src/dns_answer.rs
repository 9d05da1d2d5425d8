//! Arbitrary bytes as a DNS answer to `--async-dns-server` queries.
//!
//! Invariants checked besides "never panics":
//! - the ID and flags decide first: an answer to another ID is never read further;
//! - no answer yields more addresses than [`MAX_ANSWERS`] records, nor more than its
//!   length allows (each address takes at least 16 bytes of record).

use swarmget_engine::dns_message::{DnsError, MAX_ANSWERS, addresses};

/// The target body.
pub fn run(data: &[u8]) {
    if data.len() < 2 {
        assert!(addresses(0, data).is_err());
        return;
    }
    let id = u16::from_be_bytes([data[0], data[1]]);
    if let Ok(ips) = addresses(id, data) {
        assert!(ips.len() <= MAX_ANSWERS);
        assert!(
            ips.len() * 16 <= data.len(),
            "{} addresses from {} bytes",
            ips.len(),
            data.len()
        );
    }
    // With another ID nothing past the header is read.
    match addresses(id.wrapping_add(1), data) {
        Err(DnsError::NotOurs) => {}
        Err(DnsError::Malformed(_)) if data.len() < 4 => {}
        other => panic!("another ID gave {other:?}"),
    }
}
