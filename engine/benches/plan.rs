//! The picker's hot path: what the engine does per 256 KiB buffer of a fast HTTP
//! download (claim a run when a connection has none, `advance` as bytes arrive, `wrote`
//! when the disk worker confirms them), over a 1 GiB space in 1 MiB pieces with 16
//! sources taking turns. Disk confirmations lag 32 buffers behind, as they do when the
//! disk worker has a queue. The `verified` case adds piece hashes: each written piece is
//! taken for hashing and reported verified (the hashing itself is not measured). The
//! `peers` case fetches the same space in 16 KiB blocks from 16 peers (BitTorrent's
//! shape): request, receive, write, verify; the `one_peer` case from one seeder keeping
//! 500 requests outstanding and answering them in order, as `bench bt` does.

use std::collections::VecDeque;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarmget_engine::bitfield::Bitfield;
use swarmget_engine::plan::{Block, Plan};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;
const BUF: u64 = 256 << 10;
const SOURCES: usize = 16;

/// Fetches the whole space; returns how many buffers went through.
fn download(verify: bool) -> usize {
    let mut plan = Plan::new(GIB, MIB).min_split(20 * MIB).spread_over(SOURCES);
    if verify {
        plan = plan.verify_pieces();
    }
    let mut pending = VecDeque::with_capacity(64);
    let mut buffers = 0;
    let mut idle = 0;
    let mut slot = 0;
    while !plan.is_complete() {
        slot = (slot + 1) % SOURCES;
        let has_work = plan.run(slot).is_some_and(|r| r.remaining() > 0);
        if !has_work && plan.claim(slot).is_none() {
            // Nothing left to claim: let the disk catch up.
            if let Some(r) = pending.pop_front() {
                plan.wrote(r);
            }
            hash(&mut plan);
            idle += 1;
            assert!(idle < 1_000_000, "stuck");
            continue;
        }
        let r = plan.advance(slot, BUF);
        buffers += 1;
        pending.push_back(r);
        if pending.len() > 32 {
            let r = pending.pop_front().expect("queued above");
            black_box(plan.wrote(r));
            if verify {
                hash(&mut plan);
            }
        }
    }
    buffers
}

/// What the engine does with pieces whose bytes are all written: hand them to the
/// hashers, then report each verified.
fn hash(plan: &mut Plan) {
    for piece in plan.take_ready_to_hash() {
        plan.verified(piece);
    }
}

/// The same space fetched from 16 peers in 16 KiB blocks: each peer has a random three
/// quarters of the pieces, keeps 32 requests outstanding, and every block is confirmed
/// written as it arrives; pieces are verified as they become ready.
fn download_from_peers() -> usize {
    let mut plan = Plan::new(GIB, MIB).verify_pieces();
    let pieces = plan.piece_count();
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for slot in 0..SOURCES {
        let mut have = Bitfield::new(pieces);
        for i in 0..pieces {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if !rng.is_multiple_of(4) {
                have.set(i);
            }
        }
        plan.set_have(slot, have);
    }
    // Slot 16 has no bitfield, so it has every piece: pieces no peer has still arrive.
    let mut queues: Vec<VecDeque<Block>> = vec![VecDeque::new(); SOURCES + 1];
    let mut out = Vec::with_capacity(32);
    let mut cancel = Vec::new();
    let mut blocks = 0;
    while !plan.is_complete() {
        for (slot, queue) in queues.iter_mut().enumerate() {
            if queue.len() < 16 {
                out.clear();
                plan.request_blocks(slot, 32 - queue.len(), &mut out);
                queue.extend(out.iter().copied());
            }
            for _ in 0..8 {
                let Some(block) = queue.pop_front() else {
                    break;
                };
                if let Some(r) = plan.block_received(slot, block, &mut cancel) {
                    plan.wrote(r);
                    blocks += 1;
                }
            }
        }
        hash(&mut plan);
    }
    blocks
}

/// The space fetched from one seeder in 16 KiB blocks, `DEPTH` requests outstanding and
/// topped up once `BATCH` are missing (bt-wire's queue at full rate), answered in the
/// order asked; pieces verified as they become ready.
fn download_from_one_peer() -> usize {
    const DEPTH: usize = 500;
    const BATCH: usize = DEPTH / 16;
    let mut plan = Plan::new(GIB, MIB).verify_pieces();
    let mut queue: VecDeque<Block> = VecDeque::new();
    let (mut out, mut cancel) = (Vec::with_capacity(DEPTH), Vec::new());
    let mut blocks = 0;
    while !plan.is_complete() {
        if queue.len() <= DEPTH - BATCH {
            out.clear();
            plan.request_blocks(0, DEPTH - queue.len(), &mut out);
            queue.extend(out.iter().copied());
        }
        for _ in 0..8 {
            let Some(block) = queue.pop_front() else {
                break;
            };
            if let Some(r) = plan.block_received(0, block, &mut cancel) {
                plan.wrote(r);
                blocks += 1;
            }
        }
        hash(&mut plan);
    }
    blocks
}

fn hot_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("plan");
    g.throughput(Throughput::Bytes(GIB));
    g.sample_size(20);
    g.bench_function("1GiB_16_sources_256KiB_buffers", |b| {
        b.iter(|| download(false))
    });
    g.bench_function("1GiB_16_sources_256KiB_buffers_verified", |b| {
        b.iter(|| download(true))
    });
    g.bench_function("1GiB_16_peers_16KiB_blocks_verified", |b| {
        b.iter(download_from_peers)
    });
    g.bench_function("1GiB_one_peer_500_deep_16KiB_blocks_verified", |b| {
        b.iter(download_from_one_peer)
    });
    g.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
