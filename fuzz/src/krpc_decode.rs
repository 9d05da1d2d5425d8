//! Arbitrary bytes as a KRPC datagram, decoded and then fed to a DHT node.
//!
//! Invariants checked besides "never panics":
//! - a datagram that decodes re-encodes to one that decodes to the same message;
//! - a node that takes the datagram (from an address it queried, and from a stranger)
//!   sends only datagrams that decode, never more than two answers for one datagram, and
//!   keeps its lookups and in-flight queries within its bounds.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use swarmget_bt_dht::krpc::{self, MAX_MESSAGE};
use swarmget_bt_dht::{Config, Dht, Family, NodeId};

/// Decodes `data` as described in the module documentation.
pub fn run(data: &[u8]) {
    if let Ok(message) = krpc::decode(data) {
        let again = message.encode();
        assert_eq!(
            krpc::decode(&again),
            Ok(message),
            "re-encoding changed the message"
        );
    } else if data.len() > MAX_MESSAGE {
        return;
    }

    let t0 = Instant::now();
    let entry: SocketAddr = "192.0.2.1:6881".parse().expect("an address");
    let stranger: SocketAddr = "198.51.100.9:51413".parse().expect("an address");
    let mut dht = Dht::new(Config::new(Family::V4), NodeId([0x55; 20]), [3; 32], t0);
    dht.bootstrap(t0, &[entry], &[]).expect("an entry point");
    let query = dht.poll_transmit().expect("a find_node to the entry point");
    // Let the input answer the bootstrap query, whatever transaction id it names.
    let mut answer = data.to_vec();
    if let Ok(mut m) = krpc::decode(data) {
        m.transaction = krpc::decode(&query.payload)
            .expect("our own query decodes")
            .transaction;
        answer = m.encode();
    }
    for (from, bytes) in [(entry, &answer[..]), (stranger, data)] {
        dht.handle_datagram(t0, from, bytes);
        let mut sent = 0;
        while let Some(t) = dht.poll_transmit() {
            assert!(krpc::decode(&t.payload).is_ok(), "we sent bad KRPC");
            sent += 1;
        }
        assert!(sent <= 8, "{sent} datagrams for one input");
    }
    dht.handle_timeout(t0 + Duration::from_secs(3600));
    while dht.poll_transmit().is_some() {}
    while dht.poll_event().is_some() {}
    assert!(dht.lookups() <= dht.config().max_lookups);
    assert!(dht.in_flight() <= dht.config().max_in_flight);
}
