//! SHA-1 of two 1 MiB pieces (a torrent's common piece length), one after the other
//! and together (`Hasher::update_pair`), fed in 16 KiB blocks as peers deliver them.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarmget_engine::digest::{HashKind, Hasher};

const PIECE: usize = 1 << 20;
const BLOCK: usize = 16 << 10;

fn pieces() -> (Vec<u8>, Vec<u8>) {
    let a = (0..PIECE).map(|i| (i * 7 % 251) as u8).collect();
    let b = (0..PIECE).map(|i| (i * 13 % 241) as u8).collect();
    (a, b)
}

fn bench(c: &mut Criterion) {
    let (a, b) = pieces();
    let mut g = c.benchmark_group("sha1_two_1MiB_pieces");
    g.throughput(Throughput::Bytes(2 * PIECE as u64));
    g.bench_function("one_after_the_other", |bench| {
        bench.iter(|| {
            let (mut x, mut y) = (Hasher::new(HashKind::Sha1), Hasher::new(HashKind::Sha1));
            for (da, db) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
                x.update(da);
                y.update(db);
            }
            black_box((x.finish(), y.finish()))
        })
    });
    g.bench_function("paired", |bench| {
        bench.iter(|| {
            let (mut x, mut y) = (Hasher::new(HashKind::Sha1), Hasher::new(HashKind::Sha1));
            for (da, db) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
                Hasher::update_pair(&mut x, da, &mut y, db);
            }
            black_box((x.finish(), y.finish()))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
