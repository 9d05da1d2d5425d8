use super::*;

fn id(byte: u8) -> NodeId {
    NodeId([byte; 20])
}

/// BEP 5's examples, byte for byte.
#[test]
fn decodes_the_examples_in_bep_5() {
    let ping = decode(b"d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe").unwrap();
    assert_eq!(ping.transaction, b"aa");
    let Body::Query(q) = &ping.body else {
        panic!("not a query: {ping:?}")
    };
    assert_eq!(q.id.as_bytes(), b"abcdefghij0123456789");
    assert_eq!(q.kind, QueryKind::Ping);

    let announce = decode(
        b"d1:ad2:id20:abcdefghij012345678912:implied_porti1e9:info_hash20:mnopqrstuvwxyz123456\
          4:porti6881e5:token8:aoeusnthe1:q13:announce_peer1:t2:aa1:y1:qe",
    )
    .unwrap();
    let Body::Query(q) = &announce.body else {
        panic!("not a query")
    };
    assert_eq!(
        q.kind,
        QueryKind::AnnouncePeer {
            info_hash: NodeId(*b"mnopqrstuvwxyz123456"),
            port: 6881,
            implied_port: true,
            token: b"aoeusnth".to_vec(),
        }
    );

    let values = decode(
        b"d1:rd2:id20:abcdefghij01234567895:token8:aoeusnth6:valuesl6:axje.u6:idhtnmee\
          1:t2:aa1:y1:re",
    )
    .unwrap();
    let Body::Response(r) = &values.body else {
        panic!("not a response")
    };
    assert_eq!(r.values.len(), 2);
    assert_eq!(r.values[0], "97.120.106.101:11893".parse().unwrap());
    assert_eq!(r.token.as_deref(), Some(&b"aoeusnth"[..]));

    let error = decode(b"d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee").unwrap();
    assert_eq!(
        error.body,
        Body::Error {
            code: 201,
            message: "A Generic Error Ocurred".into()
        }
    );
}

#[test]
fn every_kind_round_trips() {
    let queries = [
        QueryKind::Ping,
        QueryKind::FindNode { target: id(7) },
        QueryKind::GetPeers { info_hash: id(8) },
        QueryKind::AnnouncePeer {
            info_hash: id(9),
            port: 51413,
            implied_port: false,
            token: vec![1, 2, 3],
        },
        QueryKind::Unknown("vote".into()),
    ];
    let mut messages: Vec<Message> = queries
        .into_iter()
        .map(|kind| Message {
            transaction: vec![0, 1],
            read_only: true,
            ip: None,
            body: Body::Query(Query {
                id: id(1),
                want: Want { v4: true, v6: true },
                kind,
            }),
        })
        .collect();
    messages.push(Message {
        transaction: vec![9; 4],
        read_only: false,
        ip: Some("[2001:db8::1]:6881".parse().unwrap()),
        body: Body::Response(Response {
            id: id(2),
            nodes: vec![NodeAddr {
                id: id(3),
                addr: "1.2.3.4:5".parse().unwrap(),
            }],
            nodes6: vec![NodeAddr {
                id: id(4),
                addr: "[2001:db8::2]:6".parse().unwrap(),
            }],
            values: vec!["9.9.9.9:99".parse().unwrap()],
            token: Some(b"tok".to_vec()),
        }),
    });
    for m in messages {
        assert_eq!(decode(&m.encode()), Ok(m.clone()));
    }
}

#[test]
fn oversized_datagrams_are_refused_before_parsing() {
    let big = vec![b'd'; MAX_MESSAGE + 1];
    assert_eq!(decode(&big), Err(DecodeError::TooLong(MAX_MESSAGE + 1)));
}

#[test]
fn partial_node_records_and_long_tokens_are_refused() {
    let mut m = b"d1:rd2:id20:abcdefghij01234567895:nodes25:".to_vec();
    m.extend_from_slice(&[0; 25]);
    m.extend_from_slice(b"e1:t2:aa1:y1:re");
    assert_eq!(decode(&m), Err(DecodeError::Field("nodes")));

    let token = vec![b'x'; MAX_TOKEN + 1];
    let mut m = b"d1:rd2:id20:abcdefghij01234567895:token65:".to_vec();
    m.extend_from_slice(&token);
    m.extend_from_slice(b"e1:t2:aa1:y1:re");
    assert_eq!(decode(&m), Err(DecodeError::Field("token")));
}

#[test]
fn a_malformed_query_still_yields_its_transaction_for_error_203() {
    let bad = b"d1:ad2:id3:abce1:q4:ping1:t2:xy1:y1:qe";
    assert_eq!(decode(bad), Err(DecodeError::Field("id")));
    assert_eq!(DecodeError::query_transaction(bad), Some(b"xy".to_vec()));
}
