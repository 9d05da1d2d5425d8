//! A peer's per-block work at full pipeline: a block delivered, the queue topped up,
//! requests written and the timers checked, as the engine's loop does each turn.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarmget_bt_wire::peer::{Peer, PeerConfig};
use swarmget_bt_wire::wire::{BlockRequest, Message};

const BLOCK: u32 = 16 * 1024;
const PIECES: u32 = 4096;
/// Blocks delivered per iteration.
const BLOCKS: u32 = 4096;

fn block(n: u32) -> BlockRequest {
    let per_piece = 64;
    BlockRequest {
        index: n / per_piece % PIECES,
        begin: n % per_piece * BLOCK,
        length: BLOCK,
    }
}

/// An unchoked peer kept at `depth` requests, its clock and the next block to ask.
struct Pipeline {
    peer: Peer,
    t0: Instant,
    ticks: u64,
    next: u32,
    out: Vec<u8>,
}

impl Pipeline {
    fn new(depth: u32) -> Pipeline {
        let t0 = Instant::now();
        let config = PeerConfig {
            min_queue: depth,
            max_queue: depth,
            ..PeerConfig::default()
        };
        let mut peer = Peer::new(config, PIECES, false, t0);
        peer.handle_message(t0, Message::Unchoke).unwrap();
        for n in 0..depth {
            peer.request(block(n));
        }
        let mut out = Vec::new();
        peer.poll_transmit(t0, &mut out);
        Pipeline {
            peer,
            t0,
            ticks: 0,
            next: depth,
            out,
        }
    }

    /// Delivers `BLOCKS` blocks in request order, one every 28 µs (560 MiB/s).
    fn run(&mut self, data: &[u8]) {
        let peer = &mut self.peer;
        for _ in 0..BLOCKS {
            self.ticks += 28;
            let now = self.t0 + Duration::from_micros(self.ticks);
            let front = *peer.outstanding().next().unwrap();
            let piece = Message::Piece {
                index: front.index,
                begin: front.begin,
                data,
            };
            black_box(peer.handle_message(now, piece).unwrap());
            for _ in 0..peer.wants_blocks(now) {
                peer.request(block(self.next));
                self.next += 1;
            }
            peer.poll_transmit(now, &mut self.out);
            self.out.clear();
            peer.handle_timeout(now).unwrap();
            black_box(peer.poll_timeout());
            while peer.poll_event().is_some() {}
        }
    }
}

fn benches(c: &mut Criterion) {
    let data = vec![0u8; BLOCK as usize];
    let mut group = c.benchmark_group("peer");
    group.throughput(Throughput::Bytes(u64::from(BLOCKS) * u64::from(BLOCK)));
    for depth in [64, 500] {
        group.bench_function(format!("blocks_in_order_depth_{depth}"), |b| {
            let mut pipeline = Pipeline::new(depth);
            b.iter(|| pipeline.run(&data));
        });
    }
    group.finish();
}

criterion_group!(peer, benches);
criterion_main!(peer);
