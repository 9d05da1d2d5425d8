//! Head parsing and body framing throughput.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarmget_http_seg::{BodyDecoder, Framing, HeadLimits, parse_response_head};

const HEAD: &[u8] = b"HTTP/1.1 206 Partial Content\r\n\
    Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
    Server: Apache/2.4.62 (Unix)\r\n\
    Last-Modified: Sat, 05 Nov 1994 10:00:00 GMT\r\n\
    ETag: \"5f3a9c-1a2b3c4d\"\r\n\
    Accept-Ranges: bytes\r\n\
    Content-Length: 1048576\r\n\
    Content-Range: bytes 1048576-2097151/734003200\r\n\
    Content-Type: application/x-iso9660-image\r\n\
    Cache-Control: max-age=3600\r\n\
    Keep-Alive: timeout=5, max=100\r\n\
    Connection: Keep-Alive\r\n\r\n";

const BODY: usize = 1 << 20;

fn chunked(data: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / chunk * 12 + 16);
    for piece in data.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Feeds `wire` in 16 KiB reads, as a socket would deliver it.
fn drain(framing: Framing, wire: &[u8]) -> u64 {
    let mut decoder = BodyDecoder::new(framing);
    let mut total = 0u64;
    for read in wire.chunks(16 * 1024) {
        decoder
            .decode(read, &mut |d| total += d.len() as u64)
            .expect("valid body");
    }
    assert!(decoder.is_done());
    total
}

fn benches(c: &mut Criterion) {
    let limits = HeadLimits::default();
    let mut group = c.benchmark_group("head");
    group.throughput(Throughput::Bytes(HEAD.len() as u64));
    group.bench_function("parse_206", |b| {
        b.iter(|| parse_response_head(black_box(HEAD), &limits).expect("valid head"))
    });
    group.finish();

    let data: Vec<u8> = (0..BODY).map(|i| (i * 31 % 251) as u8).collect();
    let mut group = c.benchmark_group("body_1MiB");
    group.throughput(Throughput::Bytes(BODY as u64));
    group.bench_function("length", |b| {
        b.iter(|| drain(Framing::Length(BODY as u64), black_box(&data)))
    });
    for chunk in [16 * 1024, 1024, 64] {
        let wire = chunked(&data, chunk);
        group.bench_function(format!("chunked_{chunk}"), |b| {
            b.iter(|| drain(Framing::Chunked, black_box(&wire)))
        });
    }
    group.finish();
}

criterion_group!(decode, benches);
criterion_main!(decode);
