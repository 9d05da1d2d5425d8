use std::collections::BTreeSet;

use super::*;
use crate::wire::{FrameDecoder, Limits};

const PIECES: u32 = 16;

fn block(index: u32, n: u32) -> BlockRequest {
    BlockRequest {
        index,
        begin: n * 16384,
        length: 16384,
    }
}

/// The messages `peer` sends at `now`, each re-encoded for comparison.
fn sent(peer: &mut Peer, now: Instant) -> Vec<Vec<u8>> {
    let mut bytes = Vec::new();
    peer.poll_transmit(now, &mut bytes);
    let mut d = FrameDecoder::new(Limits::default().with_piece_count(PIECES));
    d.extend(&bytes);
    let mut out = Vec::new();
    while let Some(m) = d.next().unwrap() {
        let mut e = Vec::new();
        m.encode(&mut e);
        out.push(e);
    }
    out
}

fn enc(m: Message<'_>) -> Vec<u8> {
    let mut e = Vec::new();
    m.encode(&mut e);
    e
}

fn events(peer: &mut Peer) -> Vec<PeerEvent> {
    std::iter::from_fn(|| peer.poll_event()).collect()
}

/// The peer sends block `b` (16 KiB) at `now`: the block it hands out, if any.
fn deliver(peer: &mut Peer, now: Instant, b: BlockRequest) -> Option<BlockRequest> {
    let piece = Message::Piece {
        index: b.index,
        begin: b.begin,
        data: &[0; 16384],
    };
    peer.handle_message(now, piece).unwrap().map(|(r, _)| r)
}

#[test]
fn requests_wait_for_unchoke_and_follow_the_queue_depth() {
    let t0 = Instant::now();
    let mut p = Peer::new(PeerConfig::default(), PIECES, false, t0);
    p.set_interested(true);
    assert_eq!(p.wants_blocks(t0), 2, "min_queue at zero rate");
    for n in 0..3 {
        p.request(block(0, n));
    }
    assert_eq!(
        sent(&mut p, t0),
        vec![enc(Message::Interested)],
        "choked: no requests"
    );
    p.handle_message(t0, Message::Unchoke).unwrap();
    assert_eq!(events(&mut p), vec![PeerEvent::Unchoked]);
    assert_eq!(
        sent(&mut p, t0),
        vec![
            enc(Message::Request(block(0, 0))),
            enc(Message::Request(block(0, 1)))
        ],
        "two outstanding at the minimum depth"
    );
    // Blocks at 1 MiB/s for ten seconds: depth ≈ rate × 3 s / 16 KiB ≈ 192.
    let mut now = t0;
    let mut next = 2;
    for tick in 0..640u64 {
        now = t0 + Duration::from_millis(tick * 1000 / 64);
        let b = p.outstanding().next().copied().unwrap();
        assert_eq!(deliver(&mut p, now, b), Some(b));
        for _ in 0..p.wants_blocks(now) {
            p.request(block(1 + next / 16 % (PIECES - 1), next % 16));
            next += 1;
        }
        sent(&mut p, now);
    }
    let depth = p.queue_depth(now);
    assert!((180..=192).contains(&depth), "depth {depth}");
    // Topped up in batches: never over the depth, never short by a sixteenth of it.
    let outstanding = p.outstanding().count() as u32;
    assert!(
        outstanding <= depth && outstanding > depth - depth / 16,
        "{outstanding} outstanding at depth {depth}"
    );
}

#[test]
fn the_queue_is_topped_up_once_short_by_a_sixteenth_of_its_depth() {
    let t0 = Instant::now();
    let config = PeerConfig {
        min_queue: 64,
        ..PeerConfig::default()
    };
    let mut p = Peer::new(config, PIECES, false, t0);
    // The peer's reqq holds the depth at 64 whatever the rate: batches of 4.
    p.set_peer_reqq(64);
    p.handle_message(t0, Message::Unchoke).unwrap();
    assert_eq!(p.wants_blocks(t0), 64);
    for n in 0..64 {
        p.request(block(n / 16, n % 16));
    }
    sent(&mut p, t0);
    assert_eq!(p.outstanding().count(), 64);
    let mut wants = Vec::new();
    for b in p.outstanding().copied().take(8).collect::<Vec<_>>() {
        deliver(&mut p, t0, b);
        wants.push(p.wants_blocks(t0));
    }
    assert_eq!(wants, [0, 0, 0, 4, 5, 6, 7, 8]);
}

/// Delivers every outstanding block at `now` and returns how many there were.
fn deliver_all(p: &mut Peer, now: Instant) -> usize {
    let blocks: Vec<BlockRequest> = p.outstanding().copied().collect();
    for &b in &blocks {
        assert_eq!(deliver(p, now, b), Some(b));
    }
    blocks.len()
}

#[test]
fn slow_start_doubles_the_queue_each_round_trip_until_the_rate_is_measured() {
    let t0 = Instant::now();
    let mut p = Peer::new(PeerConfig::default(), PIECES, false, t0);
    p.handle_message(t0, Message::Unchoke).unwrap();
    let mut next = 0;
    let mut ask = |p: &mut Peer, now| {
        for _ in 0..p.wants_blocks(now) {
            p.request(block(next / 16 % PIECES, next % 16));
            next += 1;
        }
        sent(p, now);
        p.outstanding().count()
    };
    // Round trips of 1 ms: 2, 4, 8, ... outstanding, where the rate alone (zero until
    // its first second ends) would have held the queue at min_queue = 2.
    let mut depths = Vec::new();
    for rtt in 0..9u64 {
        let now = t0 + Duration::from_millis(rtt);
        depths.push(ask(&mut p, now));
        deliver_all(&mut p, now + Duration::from_micros(500));
    }
    assert_eq!(
        depths,
        [2, 4, 8, 16, 32, 64, 128, 256, 500],
        "capped at max_queue"
    );

    // Once a second is measured the rate decides: the 1,010 blocks of that second ask
    // for more than max_queue.
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(p.queue_depth(t1), 500);
    // After a stall long enough for the rate to decay to zero (snubbing is further
    // off), slow start begins again from min_queue.
    let later = t1 + Duration::from_secs(40);
    assert_eq!(p.queue_depth(later), 2, "restarts at min_queue");
    assert_eq!(ask(&mut p, later), 2);
    deliver_all(&mut p, later);
    assert_eq!(p.queue_depth(later), 4);
}

#[test]
fn choke_drops_requests_unless_fast_and_reject_drops_one() {
    let t0 = Instant::now();
    for fast in [false, true] {
        let mut p = Peer::new(PeerConfig::default(), PIECES, fast, t0);
        p.handle_message(t0, Message::Unchoke).unwrap();
        p.request(block(2, 0));
        p.request(block(2, 1));
        sent(&mut p, t0);
        events(&mut p);
        p.handle_message(t0, Message::Choke).unwrap();
        if fast {
            assert_eq!(events(&mut p), vec![PeerEvent::Choked]);
            p.handle_message(t0, Message::Reject(block(2, 1))).unwrap();
            assert_eq!(events(&mut p), vec![PeerEvent::Dropped(vec![block(2, 1)])]);
            assert_eq!(p.outstanding().collect::<Vec<_>>(), vec![&block(2, 0)]);
        } else {
            assert_eq!(
                events(&mut p),
                vec![
                    PeerEvent::Dropped(vec![block(2, 0), block(2, 1)]),
                    PeerEvent::Choked
                ]
            );
            assert_eq!(
                p.handle_message(t0, Message::Reject(block(2, 0))),
                Err(PeerError::FastWithoutExtension(16))
            );
        }
    }
}

#[test]
fn a_reject_while_unchoked_says_the_piece_was_refused() {
    let t0 = Instant::now();
    let mut p = Peer::new(PeerConfig::default(), PIECES, true, t0);
    p.handle_message(t0, Message::Unchoke).unwrap();
    p.request(block(2, 0));
    sent(&mut p, t0);
    events(&mut p);
    // A reject of something never asked is no refusal.
    p.handle_message(t0, Message::Reject(block(4, 0))).unwrap();
    assert_eq!(events(&mut p), vec![]);
    p.handle_message(t0, Message::Reject(block(2, 0))).unwrap();
    assert_eq!(
        events(&mut p),
        vec![PeerEvent::Dropped(vec![block(2, 0)]), PeerEvent::Refused(2)]
    );
}

#[test]
fn allowed_fast_pieces_are_requested_while_choked() {
    let t0 = Instant::now();
    let mut p = Peer::new(PeerConfig::default(), PIECES, true, t0);
    p.request(block(3, 0));
    p.request(block(5, 0));
    p.handle_message(t0, Message::AllowedFast(5)).unwrap();
    assert_eq!(sent(&mut p, t0), vec![enc(Message::Request(block(5, 0)))]);
}

#[test]
fn timeouts_snub_and_drop_requests_then_silence_ends_the_peer() {
    let t0 = Instant::now();
    let cfg = PeerConfig::default();
    let mut p = Peer::new(cfg, PIECES, false, t0);
    p.handle_message(t0, Message::Unchoke).unwrap();
    p.request(block(1, 0));
    sent(&mut p, t0);
    events(&mut p);
    assert_eq!(p.poll_timeout(), t0 + cfg.request_timeout);
    let t59 = t0 + Duration::from_secs(59);
    p.handle_message(t59, Message::KeepAlive).unwrap();
    p.handle_timeout(t59).unwrap();
    assert_eq!(events(&mut p), vec![]);
    let t60 = t0 + Duration::from_secs(60);
    p.handle_timeout(t60).unwrap();
    assert_eq!(
        events(&mut p),
        vec![PeerEvent::Snubbed, PeerEvent::Dropped(vec![block(1, 0)])]
    );
    assert!(p.is_snubbed());
    assert_eq!(p.queue_depth(t60), 1);
    // A block unsnubs.
    p.request(block(1, 1));
    sent(&mut p, t60);
    assert_eq!(deliver(&mut p, t60, block(1, 1)), Some(block(1, 1)));
    assert!(!p.is_snubbed());
    // Keep-alive after two minutes without sending.
    assert_eq!(
        sent(&mut p, t60 + Duration::from_secs(119)),
        Vec::<Vec<u8>>::new()
    );
    assert_eq!(
        sent(&mut p, t60 + Duration::from_secs(120)),
        vec![enc(Message::KeepAlive)]
    );
    // Dropped after three minutes without hearing anything.
    p.handle_timeout(t60 + Duration::from_secs(179)).unwrap();
    assert_eq!(
        p.handle_timeout(t60 + Duration::from_secs(180)),
        Err(PeerError::Idle(Duration::from_secs(180)))
    );
}

#[test]
fn the_oldest_request_left_times_out_first_whichever_was_answered() {
    let t0 = Instant::now();
    // Not snubbed when a request times out: the queue stays at four.
    let cfg = PeerConfig {
        min_queue: 4,
        snub_timeout: Duration::from_secs(600),
        ..PeerConfig::default()
    };
    let mut p = Peer::new(cfg, PIECES, false, t0);
    p.handle_message(t0, Message::Unchoke).unwrap();
    // Requests sent one a second: block n at t0 + n s.
    for n in 0..4 {
        p.request(block(1, n));
        sent(&mut p, t0 + Duration::from_secs(n.into()));
    }
    let at = |n: u64| t0 + Duration::from_secs(n) + cfg.request_timeout;
    assert_eq!(p.poll_timeout(), at(0));
    // The oldest answered: the next oldest is due, not the newest.
    deliver(&mut p, t0, block(1, 0));
    assert_eq!(p.poll_timeout(), at(1));
    // One from the middle answered: the oldest is still the one due.
    deliver(&mut p, t0, block(1, 2));
    assert_eq!(p.poll_timeout(), at(1));
    p.handle_timeout(at(1)).unwrap();
    assert!(events(&mut p).contains(&PeerEvent::Dropped(vec![block(1, 1)])));
    assert_eq!(p.poll_timeout(), at(3));
    // A clock that steps back never makes a later request look older.
    p.request(block(2, 0));
    sent(&mut p, t0);
    assert_eq!(
        p.outstanding().copied().collect::<Vec<_>>(),
        [block(1, 3), block(2, 0)]
    );
    deliver(&mut p, at(1), block(1, 3));
    assert_eq!(
        p.poll_timeout(),
        at(3),
        "counted as sent with the one before"
    );
}

#[test]
fn serving_requests_choking_and_cancels() {
    let t0 = Instant::now();
    for fast in [false, true] {
        let mut p = Peer::new(PeerConfig::default(), PIECES, fast, t0);
        p.handle_message(t0, Message::Request(block(0, 0))).unwrap();
        let expect = if fast {
            vec![enc(Message::Reject(block(0, 0)))]
        } else {
            vec![]
        };
        assert_eq!(
            sent(&mut p, t0),
            expect,
            "choked peer's request, fast={fast}"
        );
        p.set_choking(false);
        p.handle_message(t0, Message::Request(block(0, 0))).unwrap();
        p.handle_message(t0, Message::Request(block(0, 1))).unwrap();
        p.handle_message(t0, Message::Request(block(0, 2))).unwrap();
        p.handle_message(t0, Message::Cancel(block(0, 1))).unwrap();
        assert!(p.send_block(t0, block(0, 0), &[7; 16384]));
        assert!(!p.send_block(t0, block(0, 1), &[7; 16384]), "cancelled");
        p.set_choking(true);
        let mut want = vec![
            enc(Message::Unchoke),
            enc(Message::Piece {
                index: 0,
                begin: 0,
                data: &[7; 16384],
            }),
            enc(Message::Choke),
        ];
        if fast {
            want.push(enc(Message::Reject(block(0, 2))));
        }
        assert_eq!(sent(&mut p, t0), want);
        assert!(
            !p.send_block(t0, block(0, 2), &[7; 16384]),
            "choking discarded it"
        );
    }
}

#[test]
fn requests_over_the_queue_limit_are_rejected_not_fatal_and_pieces_tracked() {
    let t0 = Instant::now();
    let cfg = PeerConfig {
        max_incoming_requests: 2,
        ..PeerConfig::default()
    };
    let mut p = Peer::new(cfg, PIECES, true, t0);
    p.set_choking(false);
    sent(&mut p, t0);
    p.handle_message(t0, Message::Request(block(0, 0))).unwrap();
    p.handle_message(t0, Message::Request(block(0, 1))).unwrap();
    // One over the queue is rejected; the connection stays and the two queued wait.
    assert_eq!(
        p.handle_message(t0, Message::Request(block(0, 2))),
        Ok(None)
    );
    assert_eq!(sent(&mut p, t0), vec![enc(Message::Reject(block(0, 2)))]);
    assert!(p.is_requested(block(0, 0)) && p.is_requested(block(0, 1)));
    assert!(!p.is_requested(block(0, 2)));
    // Without the fast extension it is ignored (BEP 3 has no reject).
    let mut plain = Peer::new(cfg, PIECES, false, t0);
    plain.set_choking(false);
    sent(&mut plain, t0);
    for n in 0..3 {
        plain
            .handle_message(t0, Message::Request(block(0, n)))
            .unwrap();
    }
    assert!(sent(&mut plain, t0).is_empty());
    assert!(!plain.is_requested(block(0, 2)));
    p.handle_message(t0, Message::Bitfield(&[0b1010_0000, 0]))
        .unwrap();
    p.handle_message(t0, Message::Have(15)).unwrap();
    assert!(p.pieces().has(0) && p.pieces().has(2) && p.pieces().has(15) && !p.pieces().has(1));
    assert_eq!(p.pieces().have_count(), 3);
    p.handle_message(t0, Message::HaveAll).unwrap();
    assert!(p.pieces().is_seed());
    // An unrequested block is not handed out.
    assert_eq!(
        p.handle_message(
            t0,
            Message::Piece {
                index: 9,
                begin: 0,
                data: &[1; 10]
            }
        ),
        Ok(None)
    );
}

#[test]
fn the_peers_reqq_caps_the_queue_and_requests_come_back_on_disconnect() {
    let t0 = Instant::now();
    let mut p = Peer::new(PeerConfig::default(), PIECES, false, t0);
    p.handle_message(t0, Message::Unchoke).unwrap();
    // A fast peer: 4 MiB/s for five seconds would ask for a depth of ~768.
    for s in 0..5u64 {
        for k in 0..256u32 {
            let b = block(s as u32, k);
            p.request(b);
            sent(&mut p, t0 + Duration::from_secs(s));
            let now = t0 + Duration::from_secs(s) + Duration::from_millis(u64::from(k) * 3);
            deliver(&mut p, now, b);
        }
    }
    let now = t0 + Duration::from_secs(5);
    assert_eq!(p.queue_depth(now), 500, "config max_queue");
    p.set_peer_reqq(5);
    assert_eq!(p.queue_depth(now), 5);
    for k in 0..8 {
        p.request(block(9, k));
    }
    sent(&mut p, now);
    assert_eq!(p.outstanding().count(), 5);
    let mut back = p.take_requests();
    back.sort();
    assert_eq!(back, (0..8).map(|k| block(9, k)).collect::<Vec<_>>());
    assert_eq!((p.outstanding().count(), p.wants_blocks(now)), (0, 5));
}

#[derive(Clone, Debug)]
enum Op {
    Assign(u32, u32),
    Withdraw(u32, u32),
    Choke,
    Unchoke,
    RejectOne(usize),
    DeliverOne(usize),
    Unrequested(u32, u32),
    AllowedFast(u32),
    Wait(u64),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0..4u32, 0..4u32).prop_map(|(i, n)| Op::Assign(i, n)),
        1 => (0..4u32, 0..4u32).prop_map(|(i, n)| Op::Withdraw(i, n)),
        1 => Just(Op::Choke),
        2 => Just(Op::Unchoke),
        1 => any::<usize>().prop_map(Op::RejectOne),
        3 => any::<usize>().prop_map(Op::DeliverOne),
        1 => (0..4u32, 0..4u32).prop_map(|(i, n)| Op::Unrequested(i, n)),
        1 => (0..4u32).prop_map(Op::AllowedFast),
        2 => (0..90u64).prop_map(Op::Wait),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, failure_persistence: None, ..Default::default() })]

    /// No block is lost: every block assigned is, at every step, still held by the peer
    /// (queued or outstanding) until it is delivered, withdrawn or reported dropped — and
    /// nothing is reported that was not assigned.
    #[test]
    fn every_assigned_block_is_held_delivered_or_reported(
        fast in proptest::prelude::any::<bool>(),
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut p = Peer::new(PeerConfig::default(), PIECES, fast, t0);
        let mut assigned: BTreeSet<BlockRequest> = BTreeSet::new();
        let data = vec![0u8; 16384];
        for op in ops {
            let outstanding: Vec<BlockRequest> = p.outstanding().copied().collect();
            let pick = |i: usize| outstanding.get(i % outstanding.len().max(1)).copied();
            let result = match op {
                Op::Assign(i, n) => {
                    if assigned.insert(block(i, n)) {
                        p.request(block(i, n));
                    }
                    Ok(None)
                }
                Op::Withdraw(i, n) => {
                    if assigned.remove(&block(i, n)) {
                        p.cancel(block(i, n));
                    }
                    Ok(None)
                }
                Op::Choke => p.handle_message(now, Message::Choke),
                Op::Unchoke => p.handle_message(now, Message::Unchoke),
                Op::RejectOne(i) => match pick(i) {
                    Some(b) if fast => p.handle_message(now, Message::Reject(b)),
                    _ => Ok(None),
                },
                Op::DeliverOne(i) => match pick(i) {
                    Some(b) => p.handle_message(now, Message::Piece { index: b.index, begin: b.begin, data: &data }),
                    None => Ok(None),
                },
                Op::Unrequested(i, n) if !assigned.contains(&block(i, n)) => p.handle_message(
                    now,
                    Message::Piece { index: i, begin: n * 16384, data: &data },
                ),
                Op::Unrequested(..) => Ok(None),
                Op::AllowedFast(i) if fast => p.handle_message(now, Message::AllowedFast(i)),
                Op::AllowedFast(_) => Ok(None),
                Op::Wait(s) => {
                    now += Duration::from_secs(s);
                    // Keep the connection alive: the test is about blocks, not idling.
                    p.handle_message(now, Message::KeepAlive).unwrap();
                    p.handle_timeout(now).map(|()| None)
                }
            };
            if let Some((b, _)) = result.unwrap() {
                proptest::prop_assert!(assigned.remove(&b), "delivered {:?} unassigned", b);
            }
            let mut out = Vec::new();
            p.poll_transmit(now, &mut out);
            while let Some(e) = p.poll_event() {
                if let PeerEvent::Dropped(blocks) = e {
                    for b in blocks {
                        proptest::prop_assert!(assigned.remove(&b), "dropped {:?} unassigned", b);
                    }
                }
            }
            for b in p.outstanding() {
                proptest::prop_assert!(assigned.contains(b), "outstanding {:?} unassigned", b);
                proptest::prop_assert!(!p.peer_choking() || fast || p.allowed_fast.contains(&b.index));
            }
        }
        let held: BTreeSet<BlockRequest> = p.take_requests().into_iter().collect();
        proptest::prop_assert_eq!(held, assigned);
    }
}

#[test]
fn a_rejected_request_is_forgotten_and_rejected_only_under_the_fast_extension() {
    let t0 = Instant::now();
    for fast in [true, false] {
        let mut p = Peer::new(PeerConfig::default(), PIECES, fast, t0);
        p.set_choking(false);
        p.handle_message(t0, Message::Request(block(3, 0))).unwrap();
        assert_eq!(events(&mut p), vec![PeerEvent::Request(block(3, 0))]);
        assert!(p.is_requested(block(3, 0)));
        sent(&mut p, t0);
        p.reject(block(3, 0));
        assert!(!p.is_requested(block(3, 0)));
        let expect = if fast {
            vec![enc(Message::Reject(block(3, 0)))]
        } else {
            vec![]
        };
        assert_eq!(sent(&mut p, t0), expect, "fast: {fast}");
        // Nothing is served for it afterwards.
        assert!(!p.send_block(t0, block(3, 0), &[0; 16384]));
    }
}
