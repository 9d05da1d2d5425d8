//! Arbitrary bytes as a saved DHT routing table (aria2's `dht.dat`), read as IPv4 and as
//! IPv6.
//!
//! Invariants checked besides "never panics": no more nodes are read than the input has
//! 56-byte records for, and a table that loads saves to bytes that load to the same
//! table.

use swarmget_bt_dht::Family;
use swarmget_bt_dht::persist::{load, save};

/// Loads `data` as described in the module documentation.
pub fn run(data: &[u8]) {
    for family in [Family::V4, Family::V6] {
        let Ok(table) = load(family, data) else {
            continue;
        };
        assert!(table.nodes.len() <= data.len() / 56);
        let again = save(family, &table.id, &table.nodes, table.saved_at);
        assert_eq!(load(family, &again), Ok(table));
    }
}
