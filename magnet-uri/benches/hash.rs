//! Hashing throughput: every algorithm together, each alone, and the two-thread reader.
//!
//! `cargo bench -p swarmget-magnet-uri --bench hash -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarmget_magnet_uri::hash::{Algorithm, Algorithms, Hasher, hash_reader};

/// 64 MiB of pseudo-random bytes (xorshift64), generated rather than stored.
fn input() -> Vec<u8> {
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut data = Vec::with_capacity(64 << 20);
    while data.len() < 64 << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    data
}

fn hash_in_memory(data: &[u8], algorithms: Algorithms) {
    let mut hasher = Hasher::new(algorithms);
    // Feed in 1 MiB pieces, as a file reader would.
    for piece in data.chunks(1 << 20) {
        hasher.update(piece);
    }
    black_box(hasher.finish());
}

fn bench(c: &mut Criterion) {
    let data = input();
    let mut group = c.benchmark_group("hash-64MiB");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.bench_function("all/one-thread", |b| {
        b.iter(|| hash_in_memory(&data, Algorithms::ALL))
    });
    group.bench_function("all/hash_reader", |b| {
        b.iter(|| black_box(hash_reader(data.as_slice(), Algorithms::ALL).unwrap()))
    });
    for algorithm in Algorithm::ALL {
        group.bench_function(algorithm.name(), |b| {
            b.iter(|| hash_in_memory(&data, Algorithms::NONE.with(algorithm)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
