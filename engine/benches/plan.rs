//! The picker's hot path: what the engine does per 256 KiB buffer of a fast HTTP
//! download (claim a run when a connection has none, `advance` as bytes arrive, `wrote`
//! when the disk worker confirms them), over a 1 GiB space in 1 MiB pieces with 16
//! sources taking turns. Disk confirmations lag 32 buffers behind, as they do when the
//! disk worker has a queue. The `verified` case adds piece hashes: each written piece is
//! taken for hashing and reported verified (the hashing itself is not measured).

use std::collections::VecDeque;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarmget_engine::plan::Plan;

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
    g.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
