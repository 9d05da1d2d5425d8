use super::*;
use crate::EXTERNAL_VOTES;

fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, last], 6881))
}

fn node(byte: u8) -> Dht {
    node_with(byte, Config::new(Family::V4))
}

fn node_with(byte: u8, config: Config) -> Dht {
    Dht::new(config, NodeId([byte; 20]), [byte; 32], Instant::now())
}

fn decode_all(dht: &mut Dht) -> Vec<(SocketAddr, Message)> {
    std::iter::from_fn(|| dht.poll_transmit())
        .map(|t| (t.dst, krpc::decode(&t.payload).expect("we send valid KRPC")))
        .collect()
}

fn query(kind: QueryKind, id: u8) -> Vec<u8> {
    Message {
        transaction: b"tx".to_vec(),
        read_only: false,
        ip: None,
        body: Body::Query(Query {
            id: NodeId([id; 20]),
            want: Want::default(),
            kind,
        }),
    }
    .encode()
}

fn answer(dht: &mut Dht, now: Instant, from: SocketAddr, kind: QueryKind) -> Message {
    dht.handle_datagram(now, from, &query(kind, from.ip().to_string().len() as u8));
    let mut out = decode_all(dht);
    assert_eq!(out.len(), 1, "one answer: {out:?}");
    let (dst, message) = out.pop().unwrap();
    assert_eq!(dst, from);
    message
}

#[test]
fn announce_needs_the_token_given_to_that_address() {
    let now = Instant::now();
    let mut dht = node(1);
    let info_hash = NodeId([0x42; 20]);
    let peer = addr(10);
    let Body::Response(r) = answer(&mut dht, now, peer, QueryKind::GetPeers { info_hash }).body
    else {
        panic!("get_peers not answered")
    };
    let token = r.token.expect("a token");
    assert!(r.values.is_empty());

    let wrong = answer(
        &mut dht,
        now,
        addr(11),
        QueryKind::AnnouncePeer {
            info_hash,
            port: 5000,
            implied_port: false,
            token: token.clone(),
        },
    );
    assert!(
        matches!(
            wrong.body,
            Body::Error {
                code: code::PROTOCOL,
                ..
            }
        ),
        "a token given to another address is refused: {wrong:?}"
    );

    let ok = answer(
        &mut dht,
        now,
        peer,
        QueryKind::AnnouncePeer {
            info_hash,
            port: 5000,
            implied_port: true,
            token,
        },
    );
    assert!(matches!(ok.body, Body::Response(_)));
    // Only the accepted announce is told to the caller.
    let announced: Vec<Event> = std::iter::from_fn(|| dht.poll_event()).collect();
    assert_eq!(announced, [Event::Announced { info_hash, peer }]);
    let Body::Response(r) = answer(&mut dht, now, addr(12), QueryKind::GetPeers { info_hash }).body
    else {
        panic!("get_peers not answered")
    };
    assert_eq!(r.values, vec![peer], "implied_port stores the source port");
}

#[test]
fn unknown_methods_get_error_204_and_malformed_queries_203() {
    let now = Instant::now();
    let mut dht = node(1);
    let m = answer(&mut dht, now, addr(5), QueryKind::Unknown("vote".into()));
    assert!(matches!(
        m.body,
        Body::Error {
            code: code::METHOD_UNKNOWN,
            ..
        }
    ));

    dht.handle_datagram(now, addr(5), b"d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe");
    let out = decode_all(&mut dht);
    assert!(matches!(
        out[0].1.body,
        Body::Error {
            code: code::PROTOCOL,
            ..
        }
    ));
    assert_eq!(out[0].1.transaction, b"xy");
}

#[test]
fn a_read_only_node_answers_nothing_and_marks_its_queries() {
    let now = Instant::now();
    let mut config = Config::new(Family::V4);
    config.read_only = true;
    let mut ro = node_with(1, config);
    ro.handle_datagram(now, addr(5), &query(QueryKind::Ping, 5));
    assert!(ro.poll_transmit().is_none());

    ro.bootstrap(now, &[addr(2)], &[]).unwrap();
    let (dst, q) = decode_all(&mut ro).pop().unwrap();
    assert!(q.read_only);
    let mut other = node(2);
    other.handle_datagram(now, addr(1), &q.encode());
    assert!(
        other.poll_transmit().is_some(),
        "a read-only node is answered"
    );
    assert_eq!(dst, addr(2));
    assert!(
        other.table().is_empty(),
        "but never added to the table (BEP 43)"
    );
}

#[test]
fn a_query_flood_from_one_address_is_cut_to_its_rate() {
    let now = Instant::now();
    let mut dht = node(1);
    for _ in 0..500 {
        dht.handle_datagram(now, addr(66), &query(QueryKind::Ping, 66));
    }
    assert_eq!(decode_all(&mut dht).len(), 20);
    dht.handle_datagram(now, addr(67), &query(QueryKind::Ping, 67));
    assert_eq!(
        decode_all(&mut dht).len(),
        1,
        "other addresses still answered"
    );
}

#[test]
fn answers_from_another_address_than_queried_are_dropped() {
    let now = Instant::now();
    let mut dht = node(1);
    dht.bootstrap(now, &[addr(2)], &[]).unwrap();
    let (_, q) = decode_all(&mut dht).pop().unwrap();
    let reply = Message {
        transaction: q.transaction.clone(),
        read_only: false,
        ip: None,
        body: Body::Response(Response {
            id: NodeId([2; 20]),
            ..Response::default()
        }),
    }
    .encode();
    dht.handle_datagram(now, addr(3), &reply);
    assert!(dht.table().is_empty());
    assert_eq!(dht.in_flight(), 1);
    dht.handle_datagram(now, addr(2), &reply);
    assert_eq!(dht.table().len(), 1);
    assert_eq!(dht.in_flight(), 0);
}

#[test]
fn an_unanswered_lookup_ends_at_the_message_timeout() {
    let now = Instant::now();
    let mut dht = node(1);
    let id = dht.bootstrap(now, &[addr(2), addr(3)], &[]).unwrap();
    assert_eq!(decode_all(&mut dht).len(), 2);
    let deadline = dht.poll_timeout().unwrap();
    assert_eq!(deadline, now + Duration::from_secs(10));
    dht.handle_timeout(deadline - Duration::from_millis(1));
    assert!(dht.poll_event().is_none());
    dht.handle_timeout(deadline);
    match dht.poll_event() {
        Some(Event::LookupDone { lookup, stats, .. }) => {
            assert_eq!(lookup, id);
            assert_eq!((stats.queries, stats.failures), (2, 2));
        }
        other => panic!("lookup not finished: {other:?}"),
    }
}

#[test]
fn an_enforcing_node_keeps_non_bep42_ids_out_of_its_table() {
    let now = Instant::now();
    let mut config = Config::new(Family::V4);
    config.enforce_node_id = true;
    let mut dht = node_with(1, config);
    let public: SocketAddr = "124.31.75.21:6881".parse().unwrap();
    dht.handle_datagram(now, public, &query(QueryKind::Ping, 7));
    assert!(dht.poll_transmit().is_some(), "still answered");
    assert!(dht.table().is_empty());

    let good = secure_id::secure_id(&public.ip(), [7; 20]);
    let ping = Message {
        transaction: b"tx".to_vec(),
        read_only: false,
        ip: None,
        body: Body::Query(Query {
            id: good,
            want: Want::default(),
            kind: QueryKind::Ping,
        }),
    };
    dht.handle_datagram(now, public, &ping.encode());
    assert_eq!(dht.table().len(), 1);
}

/// Two IPv6 nodes (BEP 32): answers carry `nodes6`, queries `want: n6`, and a lookup
/// learns a third node through them.
#[test]
fn an_ipv6_node_looks_up_through_nodes6() {
    let now = Instant::now();
    let v6 = |last: u16| {
        SocketAddr::new(
            std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last).into(),
            6881,
        )
    };
    let mut nodes: Vec<Dht> = (1..=3)
        .map(|b| node_with(b, Config::new(Family::V6)))
        .collect();
    // Node 2 knows node 3 (3 queried it).
    nodes[1].handle_datagram(now, v6(3), &query(QueryKind::Ping, 3));
    assert_eq!(decode_all(&mut nodes[1]).len(), 1);
    // An IPv4 datagram is not for this node.
    nodes[1].handle_datagram(now, addr(9), &query(QueryKind::Ping, 9));
    assert!(nodes[1].poll_transmit().is_none());

    nodes[0].bootstrap(now, &[v6(2)], &[]).unwrap();
    let mut exchanged = 0;
    loop {
        let mut moved = false;
        for from in 0..3 {
            while let Some(t) = nodes[from].poll_transmit() {
                let m = krpc::decode(&t.payload).unwrap();
                if let Body::Query(q) = &m.body {
                    assert!(q.want.v6 && !q.want.v4, "queries ask for n6");
                }
                if let Body::Response(r) = &m.body {
                    assert!(r.nodes.is_empty(), "an IPv6 node answers in nodes6");
                }
                let to = (1..=3).position(|i| v6(i) == t.dst).expect("one of ours");
                nodes[to].handle_datagram(now, v6(from as u16 + 1), &t.payload);
                exchanged += 1;
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    assert!(exchanged >= 4);
    assert!(
        nodes[0].table().get(&NodeId([3; 20])).is_some(),
        "node 3 learned through node 2"
    );
    let saved = nodes[0].save(now, 1_700_000_000);
    let loaded = crate::persist::load(Family::V6, &saved).unwrap();
    assert_eq!(loaded.id, NodeId([1; 20]));
    assert_eq!(loaded.nodes.len(), nodes[0].table().len());
}

#[test]
fn our_address_is_reported_once_enough_answering_nodes_agree() {
    let now = Instant::now();
    let mut config = Config::new(Family::V4);
    config.alpha = 8;
    let mut dht = node_with(1, config);
    let entry: Vec<SocketAddr> = (2..=7).map(addr).collect();
    dht.bootstrap(now, &entry, &[]).unwrap();
    let queries = decode_all(&mut dht);
    let seen: SocketAddr = "203.0.113.77:40000".parse().unwrap();
    let answer = |tid: &[u8], id: u8| {
        Message {
            transaction: tid.to_vec(),
            read_only: false,
            ip: Some(seen),
            body: Body::Response(Response {
                id: NodeId([id; 20]),
                ..Response::default()
            }),
        }
        .encode()
    };
    // A stranger's claim (no query of ours) does not count.
    dht.handle_datagram(now, addr(50), &answer(b"zzzz", 50));
    for (i, (dst, q)) in queries.iter().take(EXTERNAL_VOTES).enumerate() {
        assert_eq!(dht.external_ip(), None, "reported after {i} votes");
        dht.handle_datagram(now, *dst, &answer(&q.transaction, 10 + i as u8));
    }
    assert_eq!(dht.external_ip(), Some(seen.ip()));
    let reported: Vec<Event> = std::iter::from_fn(|| dht.poll_event())
        .filter(|e| matches!(e, Event::ExternalAddress { .. }))
        .collect();
    assert_eq!(reported, vec![Event::ExternalAddress { ip: seen.ip() }]);
}

#[test]
fn a_pinged_node_that_answers_joins_the_table() {
    let now = Instant::now();
    let mut dht = node(1);
    let other = addr(20);
    dht.ping(now, other);
    // Pinging it again while the first ping waits, or another family, sends nothing more.
    dht.ping(now, other);
    dht.ping(now, SocketAddr::from(([0u16, 0, 0, 0, 0, 0, 0, 1], 6881)));
    let mut sent = decode_all(&mut dht);
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (dst, message) = sent.pop().unwrap();
    assert_eq!(dst, other);
    assert!(matches!(
        message.body,
        Body::Query(Query {
            kind: QueryKind::Ping,
            ..
        })
    ));
    assert!(dht.table().is_empty());
    let reply = Message {
        transaction: message.transaction,
        read_only: false,
        ip: None,
        body: Body::Response(Response {
            id: NodeId([9; 20]),
            ..Response::default()
        }),
    };
    dht.handle_datagram(now, other, &reply.encode());
    assert!(dht.table().contains_addr(&other));
    // A node in the table is not pinged again.
    dht.ping(now, other);
    assert!(dht.poll_transmit().is_none());
}
