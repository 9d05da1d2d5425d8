//! The plan's tests: the invariant checker every test calls, examples of each behaviour,
//! and a property test that drives random operation sequences.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::*;

const MIB: u64 = 1 << 20;
const KIB: u64 = 1 << 10;

/// Asserts every invariant written at the top of the module.
fn check(plan: &Plan) {
    let n = plan.pieces.count();
    // 4: the done bitfield and the counters follow the piece stages.
    let (mut done_bytes, mut wanted_left) = (0, 0);
    for i in 0..n {
        let stage = plan.pieces.stage(i);
        assert_eq!(
            plan.done().get(i),
            stage == Stage::Done,
            "piece {i} is {stage:?}"
        );
        if stage == Stage::Done {
            let r = plan.piece_range(i);
            done_bytes += r.end - r.start;
        } else if plan.pieces.priority(i) > 0 {
            wanted_left += 1;
        }
        if !plan.verify {
            assert!(
                matches!(stage, Stage::Open | Stage::Done),
                "piece {i} is {stage:?} without hashes"
            );
        }
    }
    assert_eq!(plan.pieces.done_bytes(), done_bytes);
    let staged: u64 = (0..n)
        .filter(|&i| matches!(plan.pieces.stage(i), Stage::Ready | Stage::Hashing))
        .map(|i| plan.piece_range(i).end - plan.piece_range(i).start)
        .sum();
    assert_eq!(plan.pieces.staged_bytes(), staged);
    assert!(plan.written_bytes() >= plan.completed_bytes());
    assert_eq!(plan.pieces.wanted_left(), wanted_left);
    assert!(plan.completed_bytes() <= plan.total);
    // 5: availability counts the bitfields.
    for i in 0..n {
        let have = plan.haves.iter().flatten().filter(|h| h.get(i)).count();
        assert_eq!(plan.availability(i) as usize, have, "availability of {i}");
    }
    // 1 and 2: each byte in one state at most.
    let mut spans: Vec<(Range<u64>, String)> = Vec::new();
    for (slot, run) in plan.runs.iter().enumerate() {
        if let Some(r) = run.filter(|r| r.remaining() > 0) {
            assert!(r.end <= plan.total, "run past the end: {r:?}");
            let (first, last) = plan.pieces_of(&(r.next..r.end));
            for i in first..=last {
                assert!(
                    plan.has_piece(slot, i),
                    "run {r:?} of {slot} in piece {i} it lacks"
                );
            }
            spans.push((r.next..r.end, format!("run of {slot}")));
        }
    }
    for (start, q) in plan.requests.iter() {
        spans.push((start..q.end, format!("request of {:?}", q.slots)));
    }
    spans.extend(plan.in_flight.iter().map(|r| (r, "in flight".to_string())));
    spans.extend(plan.written.iter().map(|r| (r, "written".to_string())));
    for i in 0..n {
        if plan.pieces.stage(i) != Stage::Open {
            spans.push((
                plan.piece_range(i),
                format!("{:?} piece {i}", plan.pieces.stage(i)),
            ));
        }
    }
    spans.sort_by_key(|s| s.0.start);
    for w in spans.windows(2) {
        assert!(w[0].0.end <= w[1].0.start, "{:?} overlaps {:?}", w[0], w[1]);
    }
    // Written bytes are in open pieces (above), and no open piece is written whole.
    for i in 0..n {
        if plan.pieces.stage(i) == Stage::Open {
            assert!(
                !plan.written.covers(plan.piece_range(i)),
                "piece {i} written but open"
            );
        }
    }
    // 2: runs and requests stay out of unwanted pieces.
    for (r, what) in &spans {
        if what.starts_with("run") || what.starts_with("request") {
            let (first, last) = plan.pieces_of(r);
            for i in first..=last {
                assert!(
                    plan.pieces.priority(i) > 0,
                    "{what} {r:?} in unwanted piece {i}"
                );
            }
        }
    }
    // 3: requests are whole grid cells or parts of one, inside one piece the requesters
    // have, listed both ways, and their union is the requested byte set.
    let mut listed = 0;
    let mut union = RangeSet::new();
    for (start, q) in plan.requests.iter() {
        let piece = plan.layout.piece_at(start);
        let p = plan.piece_range(piece);
        assert!(
            q.end <= p.end && q.end > start,
            "block {start}..{} outside piece {piece}",
            q.end
        );
        assert_eq!(
            (start - p.start) / BLOCK_LEN,
            (q.end - 1 - p.start) / BLOCK_LEN,
            "block {start}..{} crosses the grid",
            q.end
        );
        assert!(!q.slots.is_empty());
        let distinct: BTreeSet<_> = q.slots.iter().collect();
        assert_eq!(distinct.len(), q.slots.len(), "a source asked twice");
        for &s in &q.slots {
            assert!(
                plan.has_piece(s, piece),
                "slot {s} asked for piece {piece} it lacks"
            );
            assert!(plan.requests.of_slot(s).any(|x| x == start));
        }
        listed += q.slots.len();
        union.insert(start..q.end);
    }
    let by_slot: usize = (0..64).map(|s| plan.requests.of_slot(s).count()).sum();
    assert_eq!(
        by_slot, listed,
        "requests listed by slot and by block disagree"
    );
    assert_eq!(
        union.iter().collect::<Vec<_>>(),
        plan.requests.bytes().iter().collect::<Vec<_>>()
    );
}

#[test]
fn chunks_spread_sources_without_overlap() {
    let mut plan = Plan::new(100 * MIB, MIB).min_split(MIB).spread_over(4);
    let runs: Vec<Run> = (0..4).map(|s| plan.claim(s).unwrap()).collect();
    assert_eq!(
        runs[0],
        Run {
            next: 0,
            end: 25 * MIB
        }
    );
    assert_eq!(
        runs[3],
        Run {
            next: 75 * MIB,
            end: 100 * MIB
        }
    );
    check(&plan);
    // A fifth source finds nothing free and steals half of a 25 MiB run.
    let stolen = plan.claim(4).unwrap();
    assert_eq!(stolen.end - stolen.next, 12 * MIB);
    check(&plan);
}

#[test]
fn pieces_complete_only_when_written() {
    let mut plan = Plan::new(3 * MIB + 10, MIB).min_split(MIB).spread_over(1);
    let run = plan.claim(0).unwrap();
    assert_eq!(
        run,
        Run {
            next: 0,
            end: 3 * MIB + 10
        }
    );
    let got = plan.advance(0, MIB + 5);
    assert_eq!(got, 0..MIB + 5);
    assert!(plan.wrote(0..MIB / 2).is_empty());
    assert_eq!(plan.wrote(MIB / 2..MIB + 5), vec![0]);
    // The source dies: its unfetched bytes come free, written ones don't.
    plan.release(0);
    assert_eq!(plan.free_regions(), vec![MIB + 5..3 * MIB + 10]);
    let again = plan.claim(1).unwrap();
    assert_eq!(again.next, MIB + 5);
    plan.advance(1, again.remaining());
    assert_eq!(plan.wrote(MIB + 5..3 * MIB + 10), vec![1, 2, 3]);
    assert!(plan.is_complete());
    assert_eq!(plan.completed_bytes(), 3 * MIB + 10);
    assert_eq!(plan.claim(1), None);
}

#[test]
fn in_flight_bytes_are_not_handed_out_twice() {
    let mut plan = Plan::new(4 * MIB, MIB).min_split(MIB).spread_over(1);
    plan.claim(0).unwrap();
    plan.advance(0, 2 * MIB);
    plan.release(0);
    assert_eq!(plan.free_regions(), vec![2 * MIB..4 * MIB]);
    plan.write_failed(0..2 * MIB);
    assert_eq!(plan.free_regions(), vec![0..4 * MIB]);
}

#[test]
fn steal_respects_min_split_and_victim_shrinks() {
    let mut plan = Plan::new(64 * MIB, MIB).min_split(20 * MIB).spread_over(1);
    plan.claim(0).unwrap();
    let thief = plan.claim(1).unwrap();
    assert_eq!(
        thief,
        Run {
            next: 32 * MIB,
            end: 64 * MIB
        }
    );
    assert_eq!(
        plan.run(0),
        Some(Run {
            next: 0,
            end: 32 * MIB
        })
    );
    // 32 MiB left in each run: below 2 × 20 MiB, so no more steals.
    assert_eq!(plan.claim(2), None);
    check(&plan);
}

#[test]
fn extend_continues_into_free_bytes_only() {
    let mut plan = Plan::new(8 * MIB, MIB).min_split(MIB).spread_over(4);
    plan.claim(0).unwrap();
    plan.advance(0, 2 * MIB);
    assert_eq!(
        plan.extend(0),
        Some(Run {
            next: 2 * MIB,
            end: 4 * MIB
        })
    );
    plan.claim(1).unwrap(); // takes 4..6
    plan.advance(0, 2 * MIB);
    assert_eq!(plan.extend(0), None, "4 MiB onward is claimed");
}

#[test]
fn resumes_around_done_pieces() {
    let mut done = Bitfield::new(4);
    done.set(1);
    done.set(2);
    let mut plan = Plan::new(4 * MIB, MIB)
        .with_done(done)
        .min_split(MIB)
        .spread_over(2);
    assert_eq!(plan.free_regions(), vec![0..MIB, 3 * MIB..4 * MIB]);
    let a = plan.claim(0).unwrap();
    let b = plan.claim(1).unwrap();
    assert_ne!(a, b);
    check(&plan);
}

#[test]
fn selectors_stay_inside_free_bytes() {
    for sel in [
        Selector::Default,
        Selector::InOrder,
        Selector::Random,
        Selector::Geom,
    ] {
        let mut plan = Plan::new(50 * MIB + 3, MIB)
            .min_split(MIB)
            .spread_over(8)
            .selector(sel);
        let mut written = 0u64;
        let mut slot = 0;
        // Drive to completion with 3 sources taking turns.
        while !plan.is_complete() {
            let run = match plan.run(slot % 3) {
                Some(r) if r.remaining() > 0 => r,
                _ => match plan.claim(slot % 3) {
                    Some(r) => r,
                    None => {
                        slot += 1;
                        assert!(slot < 10_000, "{sel:?} stuck");
                        continue;
                    }
                },
            };
            check(&plan);
            let n = run.remaining().min(700_000);
            let r = plan.advance(slot % 3, n);
            written += r.end - r.start;
            plan.wrote(r);
            slot += 1;
        }
        assert!(slot < 1000, "{sel:?} took {slot} turns: claims too small");
        assert_eq!(written, 50 * MIB + 3, "{sel:?} fetched bytes twice");
    }
}

/// Fetches `range` through `slot`'s run and confirms it written.
fn fetch_run(plan: &mut Plan, slot: SourceSlot, range: Range<u64>) {
    plan.claim_exact(slot, range.clone()).expect("range free");
    let got = plan.advance(slot, range.end - range.start);
    assert_eq!(got, range);
    plan.wrote(got);
    check(plan);
}

#[test]
fn hashed_pieces_count_only_once_verified() {
    let mut plan = Plan::new(3 * MIB, MIB).min_split(MIB).verify_pieces();
    fetch_run(&mut plan, 0, 0..MIB + 10);
    assert!(plan.done().count() == 0 && plan.completed_bytes() == 0);
    assert_eq!(plan.written_bytes(), MIB + 10);
    assert_eq!(plan.piece_state(0), PieceState::Ready);
    assert_eq!(plan.piece_state(1), PieceState::Partial);
    assert_eq!(plan.take_ready_to_hash(), vec![0]);
    assert!(plan.take_ready_to_hash().is_empty(), "handed out once");
    assert_eq!(plan.piece_state(0), PieceState::Hashing);
    assert!(
        !plan.free_regions().iter().any(|r| r.start < MIB),
        "hashing bytes are not free"
    );
    check(&plan);
    assert!(plan.verified(0));
    assert!(!plan.verified(0), "a second answer changes nothing");
    assert_eq!(plan.done().count(), 1);
    assert_eq!(plan.completed_bytes(), MIB);
    fetch_run(&mut plan, 1, MIB + 10..3 * MIB);
    assert!(!plan.is_complete());
    let ready = plan.take_ready_to_hash();
    assert_eq!(ready, vec![1, 2]);
    for p in ready {
        plan.verified(p);
    }
    check(&plan);
    assert!(plan.is_complete());
    assert_eq!(plan.completed_bytes(), 3 * MIB);
}

#[test]
fn failed_piece_is_free_again_and_names_its_sources() {
    let mut plan = Plan::new(2 * MIB, MIB).min_split(MIB).verify_pieces();
    fetch_run(&mut plan, 3, 0..MIB / 2);
    fetch_run(&mut plan, 5, MIB / 2..MIB + 100);
    assert_eq!(plan.take_ready_to_hash(), vec![0]);
    let mut charged = plan.hash_failed(0);
    charged.sort_unstable();
    assert_eq!(charged, vec![3, 5]);
    check(&plan);
    assert_eq!(plan.piece_state(0), PieceState::Missing);
    assert_eq!(plan.free_regions(), vec![0..MIB, MIB + 100..2 * MIB]);
    assert_eq!(plan.completed_bytes(), 0);
    assert!(plan.hash_failed(0).is_empty(), "not hashing any more");
    // Fetched again by someone else, it names only the new source.
    fetch_run(&mut plan, 7, 0..MIB);
    assert_eq!(plan.take_ready_to_hash(), vec![0]);
    assert_eq!(plan.hash_failed(0), vec![7]);
}

#[test]
fn unhashed_plans_never_queue_for_hashing() {
    let mut plan = Plan::new(2 * MIB, MIB).min_split(MIB);
    fetch_run(&mut plan, 0, 0..2 * MIB);
    assert!(plan.take_ready_to_hash().is_empty());
    assert!(plan.is_complete());
}

#[test]
fn unwanted_pieces_are_never_claimed_nor_needed() {
    let mut plan = Plan::new(8 * MIB, MIB).min_split(MIB).spread_over(1);
    let run = plan.claim(0).unwrap();
    assert_eq!(
        run,
        Run {
            next: 0,
            end: 8 * MIB
        }
    );
    plan.advance(0, MIB / 2);
    // Unwanting 2..6 MiB (and a piece shared with a wanted neighbour stays wanted).
    assert!(plan.set_priority(2 * MIB..6 * MIB, 0).is_empty());
    assert!(plan.set_priority(6 * MIB - 10..7 * MIB, 0).is_empty());
    assert_eq!(plan.priority(5), 0);
    assert_eq!(plan.priority(6), 0);
    assert!(plan.set_priority(7 * MIB..8 * MIB, 2).is_empty());
    assert!(plan.set_priority(6 * MIB..7 * MIB + 1, 0).is_empty());
    assert_eq!(plan.priority(7), 2, "piece 7 is shared with a wanted range");
    check(&plan);
    assert_eq!(
        plan.run(0),
        Some(Run {
            next: MIB / 2,
            end: 2 * MIB
        }),
        "run cut short"
    );
    assert_eq!(plan.free_regions(), vec![7 * MIB..8 * MIB]);
    let other = plan.claim(1).unwrap();
    assert_eq!(
        other,
        Run {
            next: 7 * MIB,
            end: 8 * MIB
        }
    );
    plan.wrote(0..MIB / 2);
    plan.advance(0, 3 * MIB / 2);
    plan.wrote(MIB / 2..2 * MIB);
    plan.advance(1, MIB);
    plan.wrote(7 * MIB..8 * MIB);
    check(&plan);
    assert!(plan.is_complete(), "unwanted pieces are not needed");
    assert_eq!(plan.claim(2), None);
    assert_eq!(plan.done().count(), 3);
}

#[test]
fn unwanting_a_piece_cancels_its_block_requests() {
    let mut plan = Plan::new(4 * 16 * KIB, 32 * KIB);
    plan.set_have(1, Bitfield::full(2));
    let mut out = Vec::new();
    assert_eq!(plan.request_blocks(1, 4, &mut out), 4);
    let cancelled = plan.set_priority(0..32 * KIB, 0);
    assert_eq!(cancelled, vec![(1, out[1]), (1, out[0])]);
    check(&plan);
    assert_eq!(plan.requests_of(1).count(), 2);
}

fn bits(n: usize, set: &[usize]) -> Bitfield {
    let mut b = Bitfield::new(n);
    for &i in set {
        b.set(i);
    }
    b
}

#[test]
fn peers_get_blocks_of_pieces_they_have_rarest_first() {
    // 4 pieces of 2 blocks each.
    let mut plan = Plan::new(8 * BLOCK_LEN, 2 * BLOCK_LEN);
    assert!(plan.set_have(1, bits(4, &[0, 1, 2])));
    assert!(plan.set_have(2, bits(4, &[0, 2])));
    assert!(plan.set_have(3, bits(4, &[0])));
    assert!(!plan.set_have(4, bits(5, &[0])), "wrong length is refused");
    assert_eq!(
        (0..4).map(|i| plan.availability(i)).collect::<Vec<_>>(),
        vec![3, 1, 2, 0]
    );
    let mut out = Vec::new();
    plan.request_blocks(1, 3, &mut out);
    // Piece 1 (one source has it) first, then piece 2 (two).
    assert_eq!(
        out,
        vec![
            Block {
                piece: 1,
                begin: 0,
                len: BLOCK_LEN as u32
            },
            Block {
                piece: 1,
                begin: BLOCK_LEN as u32,
                len: BLOCK_LEN as u32
            },
            Block {
                piece: 2,
                begin: 0,
                len: BLOCK_LEN as u32
            },
        ]
    );
    check(&plan);
    // Slot 3 has only piece 0.
    out.clear();
    plan.request_blocks(3, 10, &mut out);
    assert!(out.iter().all(|b| b.piece == 0) && out.len() == 2);
    // A have raises availability; release forgets the bitfield.
    plan.add_have(3, 3);
    assert_eq!(plan.availability(3), 1);
    plan.release(3);
    assert_eq!(plan.availability(0), 2);
    assert_eq!(plan.availability(3), 0);
    assert_eq!(plan.requests_of(3).count(), 0);
    check(&plan);
}

#[test]
fn partly_requested_pieces_are_finished_first() {
    let mut plan = Plan::new(8 * BLOCK_LEN, 4 * BLOCK_LEN);
    plan.set_have(1, bits(2, &[0, 1]));
    plan.set_have(2, bits(2, &[0, 1]));
    plan.set_have(3, bits(2, &[1]));
    // Piece 1 is commoner (3 sources) than piece 0 (2 sources)...
    let mut out = Vec::new();
    plan.request_blocks(3, 1, &mut out);
    assert_eq!(out[0].piece, 1);
    // ...but once started, slot 1 finishes it before starting the rarer piece 0.
    out.clear();
    plan.request_blocks(1, 4, &mut out);
    let pieces: Vec<usize> = out.iter().map(|b| b.piece).collect();
    assert_eq!(pieces, vec![1, 1, 1, 0]);
    check(&plan);
}

#[test]
fn a_piece_removed_from_a_bitfield_takes_the_slot_s_requests_in_it_along() {
    let mut plan = Plan::new(4 * BLOCK_LEN, 2 * BLOCK_LEN);
    plan.set_have(1, Bitfield::full(2));
    let mut out = Vec::new();
    assert_eq!(plan.request_blocks(1, 4, &mut out), 4);
    plan.remove_have(1, 0);
    check(&plan);
    assert!(!plan.has_piece(1, 0));
    assert_eq!(plan.availability(0), 0);
    let left: Vec<usize> = plan.requests_of(1).map(|b| b.piece).collect();
    assert_eq!(left, vec![1, 1]);
    // Another source now gets piece 0's blocks as free ones, not as endgame.
    plan.set_have(2, Bitfield::full(2));
    out.clear();
    plan.request_blocks(2, 2, &mut out);
    assert!(out.iter().all(|b| b.piece == 0), "{out:?}");
    // A `have` brings it back.
    plan.add_have(1, 0);
    assert!(plan.has_piece(1, 0));
}

#[test]
fn endgame_duplicates_outstanding_blocks_and_cancels_the_rest() {
    let mut plan = Plan::new(2 * BLOCK_LEN, 2 * BLOCK_LEN);
    plan.set_have(1, Bitfield::full(1));
    plan.set_have(2, Bitfield::full(1));
    let mut a = Vec::new();
    assert_eq!(plan.request_blocks(1, 8, &mut a), 2);
    let mut b = Vec::new();
    assert_eq!(plan.request_blocks(2, 8, &mut b), 2, "endgame: duplicates");
    assert_eq!(a, b);
    let mut again = Vec::new();
    assert_eq!(
        plan.request_blocks(2, 8, &mut again),
        0,
        "never the same block twice"
    );
    check(&plan);
    let mut cancel = Vec::new();
    let got = plan.block_received(2, a[0], &mut cancel);
    assert_eq!(got, Some(0..BLOCK_LEN));
    assert_eq!(cancel, vec![1]);
    assert_eq!(
        plan.block_received(1, a[0], &mut cancel),
        None,
        "late duplicate dropped"
    );
    check(&plan);
    plan.wrote(0..BLOCK_LEN);
    let got = plan.block_received(1, a[1], &mut cancel).unwrap();
    plan.wrote(got);
    check(&plan);
    assert!(plan.is_complete());
}

#[test]
fn cancelled_and_timed_out_blocks_are_free_again() {
    let mut plan = Plan::new(4 * BLOCK_LEN, 4 * BLOCK_LEN);
    plan.set_have(1, Bitfield::full(1));
    let mut out = Vec::new();
    plan.request_blocks(1, 2, &mut out);
    assert_eq!(plan.free_regions(), vec![2 * BLOCK_LEN..4 * BLOCK_LEN]);
    assert!(plan.cancel_block(1, out[0]));
    assert!(!plan.cancel_block(1, out[0]), "already withdrawn");
    assert!(!plan.cancel_block(2, out[1]), "never requested by 2");
    assert_eq!(
        plan.free_regions(),
        vec![0..BLOCK_LEN, 2 * BLOCK_LEN..4 * BLOCK_LEN]
    );
    let mut cancel = Vec::new();
    assert_eq!(
        plan.block_received(1, out[0], &mut cancel),
        None,
        "cancelled block dropped"
    );
    check(&plan);
}

#[test]
fn a_peers_requests_stay_in_the_order_asked_whichever_are_answered() {
    let mut plan = Plan::new(8 * BLOCK_LEN, 8 * BLOCK_LEN);
    plan.set_have(1, Bitfield::full(1));
    let mut out = Vec::new();
    plan.request_blocks(1, 6, &mut out);
    let mut cancel = Vec::new();
    assert!(plan.block_received(1, out[0], &mut cancel).is_some());
    assert!(plan.block_received(1, out[2], &mut cancel).is_some());
    assert!(plan.cancel_block(1, out[4]));
    // The oldest left comes first: the next block a peer answering in order sends.
    let left: Vec<Block> = plan.requests_of(1).collect();
    assert_eq!(left, [out[1], out[3], out[5]]);
    check(&plan);
}

#[test]
fn malformed_blocks_are_dropped_not_panicked_on() {
    let mut plan = Plan::new(3 * BLOCK_LEN, 2 * BLOCK_LEN);
    plan.set_have(1, Bitfield::full(2));
    let mut out = Vec::new();
    plan.request_blocks(1, 8, &mut out);
    let mut cancel = Vec::new();
    for bad in [
        Block {
            piece: usize::MAX,
            begin: 0,
            len: 16,
        },
        Block {
            piece: 2,
            begin: 0,
            len: BLOCK_LEN as u32,
        },
        Block {
            piece: 1,
            begin: u32::MAX,
            len: u32::MAX,
        },
        Block {
            piece: 0,
            begin: 0,
            len: 100,
        },
        Block {
            piece: 0,
            begin: 1,
            len: BLOCK_LEN as u32,
        },
        Block {
            piece: 0,
            begin: 0,
            len: 0,
        },
    ] {
        assert_eq!(plan.block_received(1, bad, &mut cancel), None, "{bad:?}");
        assert!(!plan.cancel_block(1, bad));
    }
    check(&plan);
    assert_eq!(plan.requests_of(1).count(), 3);
}

#[test]
fn peer_blocks_fill_around_mirror_bytes() {
    // A mirror wrote half a grid cell and died; a peer asks for exactly the rest.
    let mut plan = Plan::new(2 * BLOCK_LEN, 2 * BLOCK_LEN);
    fetch_run(&mut plan, 0, 0..BLOCK_LEN / 2);
    plan.release(0);
    plan.set_have(1, Bitfield::full(1));
    let mut out = Vec::new();
    plan.request_blocks(1, 8, &mut out);
    let half = (BLOCK_LEN / 2) as u32;
    assert_eq!(
        out,
        vec![
            Block {
                piece: 0,
                begin: half,
                len: half
            },
            Block {
                piece: 0,
                begin: 2 * half,
                len: 2 * half
            },
        ]
    );
    // And a mirror claiming now skips the requested bytes.
    assert_eq!(plan.claim(2), None);
    check(&plan);
}

#[test]
fn peer_runs_stay_in_pieces_it_has() {
    let mut plan = Plan::new(6 * MIB, MIB).min_split(MIB).spread_over(1);
    plan.set_have(1, bits(6, &[1, 2, 4]));
    plan.set_have(2, bits(6, &[4]));
    let run = plan.claim(1).unwrap();
    assert_eq!(
        run,
        Run {
            next: MIB,
            end: 3 * MIB
        },
        "rarest (1 and 2) first, then its stretch"
    );
    let run = plan.claim(2).unwrap();
    assert_eq!(
        run,
        Run {
            next: 4 * MIB,
            end: 5 * MIB
        }
    );
    assert_eq!(
        plan.claim(1).map(|r| r.next),
        Some(MIB),
        "the claim is dropped and redone"
    );
    check(&plan);
}

#[test]
fn restored_written_pieces_are_hashed_not_done() {
    let done = bits(4, &[0]);
    let mut plan = Plan::new(4 * MIB, MIB)
        .min_split(MIB)
        .verify_pieces()
        .with_done(done)
        .with_written([MIB..2 * MIB + 7, 3 * MIB..3 * MIB + 1]);
    check(&plan);
    assert_eq!(plan.done().count(), 1, "written is not verified");
    assert_eq!(plan.completed_bytes(), MIB);
    assert_eq!(plan.take_ready_to_hash(), vec![1]);
    assert_eq!(
        plan.unverified_written().iter().collect::<Vec<_>>(),
        vec![MIB..2 * MIB + 7, 3 * MIB..3 * MIB + 1]
    );
    assert_eq!(
        plan.free_regions(),
        vec![2 * MIB + 7..3 * MIB, 3 * MIB + 1..4 * MIB]
    );
    // Without hashes, restored written pieces are done as they always were.
    let plan = Plan::new(4 * MIB, MIB).with_written(std::iter::once(0..MIB));
    assert_eq!(plan.done().count(), 1);
}

#[test]
fn rejected_piece_goes_back_to_free() {
    let mut plan = Plan::new(2 * MIB, MIB).with_done(Bitfield::full(2));
    assert!(plan.is_complete());
    plan.reject_piece(1);
    check(&plan);
    assert!(!plan.is_complete());
    assert_eq!(plan.free_regions(), vec![MIB..2 * MIB]);
    assert_eq!(plan.completed_bytes(), MIB);
}

/// One step of the property test. Indices pick among what exists at the time (modulo
/// its count), so every generated sequence is meaningful.
#[derive(Debug, Clone)]
enum Op {
    Claim(usize),
    ClaimFrom(usize, u64),
    ClaimExact(usize, u64, u64),
    Extend(usize),
    Advance(usize, u64),
    Wrote(usize),
    WriteFailed(usize),
    Release(usize),
    SetHave(usize, Vec<bool>),
    AddHave(usize, usize),
    Request(usize, usize),
    Receive(usize, usize),
    Cancel(usize, usize),
    TakeReady,
    Verified(usize),
    HashFailed(usize),
    Reject(usize),
    Priority(u64, u64, u8),
    WithDone(Vec<bool>),
}

fn op() -> impl Strategy<Value = Op> {
    let slot = 0..6usize;
    let pos = 0..400 * KIB;
    prop_oneof![
        4 => slot.clone().prop_map(Op::Claim),
        1 => (slot.clone(), pos.clone()).prop_map(|(s, p)| Op::ClaimFrom(s, p)),
        1 => (slot.clone(), pos.clone(), 1..100 * KIB).prop_map(|(s, p, l)| Op::ClaimExact(s, p, l)),
        1 => slot.clone().prop_map(Op::Extend),
        6 => (slot.clone(), 1..80 * KIB).prop_map(|(s, n)| Op::Advance(s, n)),
        6 => any::<usize>().prop_map(Op::Wrote),
        1 => any::<usize>().prop_map(Op::WriteFailed),
        1 => slot.clone().prop_map(Op::Release),
        1 => (slot.clone(), proptest::collection::vec(any::<bool>(), 32)).prop_map(|(s, b)| Op::SetHave(s, b)),
        1 => (slot.clone(), 0..32usize).prop_map(|(s, i)| Op::AddHave(s, i)),
        3 => (slot.clone(), 0..6usize).prop_map(|(s, m)| Op::Request(s, m)),
        4 => (slot.clone(), any::<usize>()).prop_map(|(s, k)| Op::Receive(s, k)),
        1 => (slot.clone(), any::<usize>()).prop_map(|(s, k)| Op::Cancel(s, k)),
        2 => Just(Op::TakeReady),
        2 => any::<usize>().prop_map(Op::Verified),
        1 => any::<usize>().prop_map(Op::HashFailed),
        1 => (0..32usize).prop_map(Op::Reject),
        1 => (pos.clone(), 0..200 * KIB, 0..3u8).prop_map(|(p, l, v)| Op::Priority(p, l, v)),
        1 => proptest::collection::vec(any::<bool>(), 32).prop_map(Op::WithDone),
    ]
}

/// What the test driver (standing in for the engine) holds between steps.
struct Driver {
    plan: Plan,
    /// Ranges delivered and not yet reported written or failed.
    pending: Vec<Range<u64>>,
    /// Pieces handed to "hashers".
    hashing: Vec<usize>,
    /// Pieces this driver verified (or restored as done) and has not since seen fail.
    verified: BTreeSet<usize>,
}

impl Driver {
    fn step(&mut self, op: Op) {
        let plan = &mut self.plan;
        let n = plan.piece_count();
        match op {
            Op::Claim(s) => {
                plan.claim(s);
            }
            Op::ClaimFrom(s, p) => {
                plan.claim_from(s, p % plan.total());
            }
            Op::ClaimExact(s, p, l) => {
                let p = p % plan.total();
                plan.claim_exact(s, p..(p + l).min(plan.total()));
            }
            Op::Extend(s) => {
                plan.extend(s);
            }
            Op::Advance(s, len) => {
                let r = plan.advance(s, len);
                if !r.is_empty() {
                    self.pending.push(r);
                }
            }
            Op::Wrote(k) if !self.pending.is_empty() => {
                let r = self.pending.swap_remove(k % self.pending.len());
                for i in plan.wrote(r) {
                    assert!(!plan.verify, "a hashed piece completed on write");
                    self.verified.insert(i);
                }
            }
            Op::WriteFailed(k) if !self.pending.is_empty() => {
                let r = self.pending.swap_remove(k % self.pending.len());
                plan.write_failed(r);
            }
            Op::Release(s) => plan.release(s),
            Op::SetHave(s, b) => {
                let set: Vec<usize> = (0..n).filter(|&i| b[i % b.len()]).collect();
                assert!(plan.set_have(s, bits(n, &set)));
            }
            Op::AddHave(s, i) => plan.add_have(s, i % n),
            Op::Request(s, max) => {
                let nothing_free = plan.free_regions_for(s).is_empty();
                let mut out = Vec::new();
                let got = plan.request_blocks(s, max, &mut out);
                assert_eq!(got, out.len());
                assert!(got <= max);
                for b in out {
                    assert!(plan.has_piece(s, b.piece));
                    let start = plan.block_range(b).expect("a valid block").start;
                    let shared = plan.requests.get(start).expect("requested").slots.len() > 1;
                    // 3: duplicates only in endgame.
                    assert!(
                        !shared || nothing_free,
                        "{b:?} duplicated while bytes were free"
                    );
                }
            }
            Op::Receive(s, k) => {
                let blocks: Vec<Block> = plan.requests_of(s).collect();
                if !blocks.is_empty() {
                    let b = blocks[k % blocks.len()];
                    let mut cancel = Vec::new();
                    let r = plan.block_received(s, b, &mut cancel).expect("requested");
                    assert!(!cancel.contains(&s));
                    assert_eq!(plan.block_received(s, b, &mut cancel), None, "twice");
                    self.pending.push(r);
                }
            }
            Op::Cancel(s, k) => {
                let blocks: Vec<Block> = plan.requests_of(s).collect();
                if !blocks.is_empty() {
                    assert!(plan.cancel_block(s, blocks[k % blocks.len()]));
                }
            }
            Op::TakeReady => self.hashing.extend(plan.take_ready_to_hash()),
            Op::Verified(k) if !self.hashing.is_empty() => {
                let i = self.hashing.swap_remove(k % self.hashing.len());
                if plan.verified(i) {
                    self.verified.insert(i);
                }
            }
            Op::HashFailed(k) if !self.hashing.is_empty() => {
                let i = self.hashing.swap_remove(k % self.hashing.len());
                plan.hash_failed(i);
            }
            Op::Reject(i) => {
                plan.reject_piece(i % n);
                self.verified.remove(&(i % n));
            }
            Op::Priority(p, l, v) => {
                let p = p % plan.total();
                plan.set_priority(p..p + l, v);
            }
            Op::WithDone(b) => {
                // What the engine does when a server says the file is complete.
                let set: Vec<usize> = (0..n).filter(|&i| b[i % b.len()]).collect();
                *plan = plan.clone().with_done(bits(n, &set));
                self.verified = set.into_iter().collect();
            }
            _ => {}
        }
        check(&self.plan);
        // 4: with hashes, only pieces the driver verified are done.
        if self.plan.verify {
            for i in 0..n {
                if self.plan.done().get(i) {
                    assert!(self.verified.contains(&i), "piece {i} done unverified");
                }
            }
        }
    }

    /// Drops every source, settles what is pending, then lets one mirror and one peer
    /// finish the download: it must complete.
    fn finish(&mut self) {
        for s in 0..6 {
            self.plan.release(s);
        }
        for r in std::mem::take(&mut self.pending) {
            self.plan.wrote(r);
        }
        let mut hashing = std::mem::take(&mut self.hashing);
        let mut turns = 0;
        while !self.plan.is_complete() {
            turns += 1;
            assert!(turns < 10_000, "stuck: {:?}", self.plan.free_regions());
            hashing.extend(self.plan.take_ready_to_hash());
            for i in hashing.drain(..) {
                self.plan.verified(i);
            }
            if turns % 2 == 0 {
                let mut out = Vec::new();
                self.plan.request_blocks(7, 3, &mut out);
                let mut cancel = Vec::new();
                for b in out {
                    let r = self
                        .plan
                        .block_received(7, b, &mut cancel)
                        .expect("requested");
                    self.plan.wrote(r);
                }
            } else if self.plan.claim(6).is_some() {
                let r = self.plan.advance(6, 64 * KIB);
                self.plan.wrote(r);
            }
            check(&self.plan);
        }
    }
}

/// Piece lengths the property test mixes: one a multiple of the block length, one not.
fn piece_len() -> impl Strategy<Value = u64> {
    prop_oneof![Just(16 * KIB), Just(40 * KIB + 3), Just(64 * KIB)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn invariants_hold_after_every_step(
        piece_len in piece_len(),
        total in 1..400 * KIB,
        regions in proptest::collection::vec((0..150 * KIB, piece_len()), 0..4),
        min_split in 16 * KIB..64 * KIB,
        sources in 1..6usize,
        verify in any::<bool>(),
        done in proptest::collection::vec(any::<bool>(), 32),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        // With regions, the space is their sum and each has its own grid (Metalink files).
        let mut plan = if regions.iter().map(|r| r.0).sum::<u64>() > 0 {
            let mut pos = 0;
            let cut: Vec<(Range<u64>, u64)> = regions
                .iter()
                .map(|&(len, pl)| {
                    pos += len;
                    (pos - len..pos, pl)
                })
                .collect();
            Plan::with_regions(pos, &cut).expect("regions tile the space")
        } else {
            Plan::new(total, piece_len)
        };
        plan = plan.min_split(min_split).spread_over(sources);
        if verify {
            plan = plan.verify_pieces();
        }
        let n = plan.piece_count();
        let restored: Vec<usize> = (0..n).filter(|&i| done[i % done.len()]).collect();
        plan = plan.with_done(bits(n, &restored));
        let mut d = Driver {
            plan,
            pending: Vec::new(),
            hashing: Vec::new(),
            verified: restored.into_iter().collect(),
        };
        check(&d.plan);
        for op in ops {
            d.step(op);
        }
        d.finish();
    }
}

#[test]
fn late_write_confirmations_of_restored_pieces_change_nothing() {
    let mut plan = Plan::new(2 * MIB, MIB).min_split(MIB).spread_over(1);
    plan.claim(0).unwrap();
    let late = plan.advance(0, MIB);
    // The server says the file is complete; then piece 0 fails a whole-file check.
    plan = plan.with_done(Bitfield::full(2));
    assert_eq!(plan.run(0).map(|r| r.remaining()), Some(0), "run cut back");
    plan.reject_piece(0);
    plan.set_have(1, Bitfield::full(2));
    let mut out = Vec::new();
    plan.request_blocks(1, 64, &mut out);
    // The write from before lands now: the requested bytes stay requested.
    assert!(plan.wrote(late).is_empty());
    check(&plan);
    assert_eq!(plan.requests_of(1).count(), 64);
    assert!(!plan.is_complete());
}

#[test]
fn pieces_follow_each_regions_own_grid() {
    // Two files, each with 1 MiB chunk checksums from its own first byte.
    let regions = [(0..MIB + 100, MIB), (MIB + 100..3 * MIB + 100, MIB)];
    let mut plan = Plan::with_regions(3 * MIB + 100, &regions)
        .unwrap()
        .min_split(MIB)
        .spread_over(1)
        .verify_pieces();
    assert_eq!(plan.piece_count(), 4);
    assert_eq!(plan.piece_range(1), MIB..MIB + 100);
    assert_eq!(plan.piece_range(2), MIB + 100..2 * MIB + 100);
    // One run crosses the file boundary; pieces become ready on their own grids.
    assert_eq!(
        plan.claim(0),
        Some(Run {
            next: 0,
            end: 3 * MIB + 100
        })
    );
    let r = plan.advance(0, 2 * MIB + 100);
    plan.wrote(r);
    check(&plan);
    assert_eq!(plan.take_ready_to_hash(), vec![0, 1, 2]);
    // Blocks start at each piece's first byte.
    plan.set_have(1, Bitfield::full(4));
    plan.release(0);
    let mut out = Vec::new();
    plan.request_blocks(1, 1, &mut out);
    assert_eq!(
        out,
        vec![Block {
            piece: 3,
            begin: 0,
            len: BLOCK_LEN as u32
        }]
    );
    assert_eq!(
        plan.block_range(out[0]),
        Some(2 * MIB + 100..2 * MIB + 100 + BLOCK_LEN)
    );
    assert!(
        Plan::with_regions(10, &[(0..4, 2), (5..10, 2)]).is_none(),
        "a gap"
    );
}

#[test]
fn in_order_selector_requests_blocks_front_first() {
    let mut plan = Plan::new(4 * BLOCK_LEN, BLOCK_LEN).selector(Selector::InOrder);
    plan.set_have(1, Bitfield::full(4));
    plan.set_have(2, bits(4, &[0, 1]));
    let mut out = Vec::new();
    plan.request_blocks(1, 2, &mut out);
    let pieces: Vec<usize> = out.iter().map(|b| b.piece).collect();
    assert_eq!(
        pieces,
        vec![0, 1],
        "file order, not the rarer pieces 2 and 3"
    );
    check(&plan);
}

#[test]
fn awaited_bytes_are_free_or_requested_in_wanted_pieces() {
    // Four pieces of two blocks; the last piece unwanted.
    let mut plan = Plan::new(8 * BLOCK_LEN, 2 * BLOCK_LEN);
    plan.set_priority(6 * BLOCK_LEN..8 * BLOCK_LEN, 0);
    plan.set_have(1, Bitfield::full(4));
    let mut out = Vec::new();
    assert_eq!(plan.request_blocks(1, 3, &mut out), 3);
    let mut cancel = Vec::new();
    let in_flight = plan.block_received(1, out[0], &mut cancel).unwrap();
    let written = plan.block_received(1, out[1], &mut cancel).unwrap();
    plan.wrote(written.clone());
    check(&plan);
    // Still requested (out[2]) or free: awaited. In flight, written or unwanted: not.
    let mut want = RangeSet::new();
    want.insert(0..6 * BLOCK_LEN);
    want.remove(in_flight);
    want.remove(written);
    let all = plan.awaited(0..8 * BLOCK_LEN);
    assert_eq!(
        all.iter().collect::<Vec<_>>(),
        want.iter().collect::<Vec<_>>()
    );
    // Cut to the range asked about, and past the end there is nothing.
    let part = plan.awaited(5 * BLOCK_LEN..9 * BLOCK_LEN);
    let want_part: Vec<_> = want.within(5 * BLOCK_LEN..9 * BLOCK_LEN).collect();
    assert_eq!(part.iter().collect::<Vec<_>>(), want_part);
    assert_eq!(part.iter().last().map(|r| r.end), Some(6 * BLOCK_LEN));
    assert!(plan.awaited(8 * BLOCK_LEN..9 * BLOCK_LEN).is_empty());
}
