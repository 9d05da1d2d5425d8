//! Property tests for the routing table: whatever sequence of contacts, failures and
//! clock steps it sees, the invariants in `src/routing.rs` hold.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use swarmget_bt_dht::routing::{Contact, K, Liveness, RoutingTable};
use swarmget_bt_dht::{NodeAddr, NodeId};

#[derive(Clone, Debug)]
enum Op {
    Heard { node: u16, contact: u8 },
    Failed { node: u16 },
    Wait { secs: u16 },
}

/// A pool of ids, many of them close to our id so that deep buckets split.
fn id_of(own: &NodeId, node: u16, seed: u64) -> NodeId {
    let mut bytes = [0u8; 20];
    let mut x = seed ^ u64::from(node).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in &mut bytes {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        *b = (x >> 56) as u8;
    }
    own.with_prefix_of(usize::from(node % 40), bytes)
}

fn addr_of(node: u16) -> SocketAddr {
    SocketAddr::from(([10, 1, (node >> 8) as u8, node as u8], 6881))
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u16..400, 0u8..3).prop_map(|(node, contact)| Op::Heard { node, contact }),
        2 => (0u16..400).prop_map(|node| Op::Failed { node }),
        1 => (0u16..1200).prop_map(|secs| Op::Wait { secs }),
    ]
}

fn check(table: &RoutingTable, own: &NodeId, now: Instant) {
    let buckets = table.buckets();
    assert!(!buckets.is_empty() && buckets.len() <= 160);
    let mut seen = HashSet::new();
    for (index, bucket) in buckets.iter().enumerate() {
        assert!(bucket.nodes().len() <= K, "bucket {index} over K");
        assert!(
            bucket.replacements().len() <= K,
            "replacements {index} over K"
        );
        for entry in bucket.nodes().iter().chain(bucket.replacements()) {
            let id = entry.node.id;
            assert_ne!(id, *own, "our own id in the table");
            assert!(seen.insert(id), "{id} twice");
            assert_eq!(table.bucket_index(&id), index, "{id} in the wrong bucket");
        }
    }
    // closest() is the brute-force answer over the nodes that are not bad.
    let target = NodeId([0x3c; 20]);
    let mut live: Vec<NodeAddr> = buckets
        .iter()
        .flat_map(|b| b.nodes())
        .filter(|e| e.liveness(now) != Liveness::Bad)
        .map(|e| e.node)
        .collect();
    live.sort_by_key(|n| n.id.distance(&target));
    live.truncate(K);
    assert_eq!(table.closest(&target, K, now), live);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn invariants_hold_under_any_sequence(
        seed in any::<u64>(),
        own_bytes in any::<[u8; 20]>(),
        ops in prop::collection::vec(op(), 1..400),
    ) {
        let own = NodeId(own_bytes);
        let t0 = Instant::now();
        let mut now = t0;
        let mut table = RoutingTable::new(own, t0);
        for op in ops {
            match op {
                Op::Heard { node, contact } => {
                    let contact = [Contact::Response, Contact::Query, Contact::Named]
                        [usize::from(contact)];
                    let n = NodeAddr { id: id_of(&own, node, seed), addr: addr_of(node) };
                    table.heard_from(n, now, contact);
                }
                Op::Failed { node } => {
                    table.failed(&id_of(&own, node, seed), now);
                }
                Op::Wait { secs } => now += Duration::from_secs(u64::from(secs)),
            }
            check(&table, &own, now);
        }
    }

    #[test]
    fn a_node_that_answered_is_found_while_its_bucket_has_room(
        own_bytes in any::<[u8; 20]>(),
        nodes in prop::collection::vec(0u16..400, 1..60),
    ) {
        let own = NodeId(own_bytes);
        let t0 = Instant::now();
        let mut table = RoutingTable::new(own, t0);
        for node in nodes {
            let n = NodeAddr { id: id_of(&own, node, 7), addr: addr_of(node) };
            let index_before = table.bucket_index(&n.id);
            let room = table.buckets()[index_before].nodes().len() < K
                || index_before == table.buckets().len() - 1;
            table.heard_from(n, t0, Contact::Response);
            if room {
                prop_assert!(table.get(&n.id).is_some(), "{} not added", n.id);
            }
        }
    }
}

#[test]
fn only_the_bucket_holding_our_id_splits() {
    let own = NodeId([0; 20]);
    let t0 = Instant::now();
    let mut table = RoutingTable::new(own, t0);
    // Twenty nodes that share no prefix with us: one bucket of K, the rest dropped.
    for i in 0..20u8 {
        let mut id = [0xff; 20];
        id[19] = i;
        let n = NodeAddr {
            id: NodeId(id),
            addr: addr_of(u16::from(i)),
        };
        table.heard_from(n, t0, Contact::Response);
    }
    assert_eq!(
        table.buckets().len(),
        2,
        "one split to make room near our id"
    );
    assert_eq!(table.buckets()[0].nodes().len(), K);
    assert_eq!(table.len(), K);
}

#[test]
fn a_bad_node_gives_its_place_to_a_waiting_replacement() {
    let own = NodeId([0; 20]);
    let t0 = Instant::now();
    let mut table = RoutingTable::new(own, t0);
    let far = |i: u8| {
        let mut id = [0x80; 20];
        id[19] = i;
        NodeAddr {
            id: NodeId(id),
            addr: addr_of(u16::from(i)),
        }
    };
    // Fill the far bucket (splitting once), then let the nodes go quiet.
    for i in 0..K as u8 {
        table.heard_from(far(i), t0, Contact::Response);
    }
    table.heard_from(
        NodeAddr {
            id: NodeId([0x01; 20]),
            addr: addr_of(999),
        },
        t0,
        Contact::Response,
    );
    let later = t0 + Duration::from_secs(16 * 60);
    let newcomer = far(100);
    let outcome = table.heard_from(newcomer, later, Contact::Response);
    assert!(matches!(outcome, swarmget_bt_dht::routing::Inserted::Pending(ref q) if q.len() == K));
    assert!(table.get(&newcomer.id).is_none());
    // The first node fails twice: it is bad and the newcomer takes its place.
    assert!(!table.failed(&far(0).id, later));
    assert!(table.failed(&far(0).id, later));
    assert!(table.get(&far(0).id).is_none());
    assert!(table.get(&newcomer.id).is_some());
}
