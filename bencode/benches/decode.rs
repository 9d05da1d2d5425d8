//! Decoding throughput against bendy and serde_bencode on the same bytes.
//!
//! Inputs are generated here: a multi-file torrent with 50,000 files (realistic paths and
//! lengths, plus its pieces string) and a single-file torrent whose `pieces` is 1 MiB.

use std::hint::black_box;

use bendy::decoding::{Decoder as BendyDecoder, FromBencode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde::Deserialize;
use swarmget_bencode::{Decoder, Encoder, decode, from_bytes};

/// A small deterministic generator (xorshift), so every run measures the same bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len() as u64) as usize]
    }
}

const WORDS: &[&str] = &[
    "Season",
    "Disc",
    "Extras",
    "Live",
    "Remastered",
    "Soundtrack",
    "Chapter",
    "Part",
    "Documentary",
    "Interview",
    "Behind the Scenes",
    "Bonus",
    "Acoustic",
    "Deluxe",
    "Edition",
    "Collection",
    "Volume",
    "Archive",
    "Sessions",
    "Demo",
];
const EXTENSIONS: &[&str] = &[
    "mkv", "flac", "mp3", "jpg", "txt", "nfo", "srt", "pdf", "iso",
];
const PIECE_LENGTH: i64 = 4 << 20;

fn pieces(rng: &mut Rng, total_length: i64) -> Vec<u8> {
    let count = (total_length + PIECE_LENGTH - 1) / PIECE_LENGTH;
    (0..count * 20).map(|_| rng.next() as u8).collect()
}

/// A multi-file torrent with `files` files under one to four directory levels.
fn many_files_torrent(files: usize) -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut lengths = Vec::with_capacity(files);
    let mut paths = Vec::with_capacity(files);
    for index in 0..files {
        let depth = 1 + rng.below(4);
        let mut path: Vec<String> = (1..depth)
            .map(|level| {
                format!(
                    "{} {:02}",
                    rng.pick(WORDS),
                    (index as u64 / (level * 50)) % 100
                )
            })
            .collect();
        path.push(format!(
            "{:05} - {} {}.{}",
            index,
            rng.pick(WORDS),
            rng.pick(WORDS),
            rng.pick(EXTENSIONS)
        ));
        paths.push(path);
        // Mostly small files, some large: 1 KiB to 16 MiB.
        lengths.push((1024 + rng.below(16 << 20) as i64) >> rng.below(4));
    }
    let total: i64 = lengths.iter().sum();
    let pieces = pieces(&mut rng, total);

    let mut encoder = Encoder::new();
    encoder.value().dict(|torrent| {
        torrent
            .entry(b"announce")
            .str("http://tracker.example.org:6969/announce");
        torrent.entry(b"comment").str("generated for benchmarks");
        torrent.entry(b"created by").str("swarmget");
        torrent.entry(b"creation date").int(1_700_000_000);
        torrent.entry(b"info").dict(|info| {
            info.entry(b"files").list(|list| {
                for (length, path) in lengths.iter().zip(&paths) {
                    list.item().dict(|file| {
                        file.entry(b"length").int(*length);
                        file.entry(b"path").list(|parts| {
                            for part in path {
                                parts.item().str(part);
                            }
                        });
                    });
                }
            });
            info.entry(b"name").str("Benchmark Collection");
            info.entry(b"piece length").int(PIECE_LENGTH);
            info.entry(b"pieces").bytes(&pieces);
        });
    });
    encoder.into_bytes()
}

/// A single-file torrent whose `pieces` string is exactly 1 MiB (52,428 pieces and change).
fn big_pieces_torrent() -> Vec<u8> {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let pieces: Vec<u8> = (0..1 << 20).map(|_| rng.next() as u8).collect();
    let mut encoder = Encoder::new();
    encoder.value().dict(|torrent| {
        torrent
            .entry(b"announce")
            .str("http://tracker.example.org:6969/announce");
        torrent.entry(b"info").dict(|info| {
            info.entry(b"length").int(PIECE_LENGTH * 52_429);
            info.entry(b"name").str("big.iso");
            info.entry(b"piece length").int(PIECE_LENGTH);
            info.entry(b"pieces").bytes(&pieces);
        });
    });
    encoder.into_bytes()
}

/// What a client reads from a torrent, for the serde comparison.
#[derive(Deserialize)]
#[allow(dead_code)] // Fields are read by deserialization only.
struct Torrent {
    announce: String,
    info: Info,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Info {
    name: String,
    #[serde(rename = "piece length")]
    piece_length: u64,
    #[serde(with = "serde_bytes")]
    pieces: Vec<u8>,
    length: Option<u64>,
    files: Option<Vec<File>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct File {
    length: u64,
    path: Vec<String>,
}

fn bendy_value(bytes: &[u8]) -> bendy::value::Value<'static> {
    let mut decoder = BendyDecoder::new(bytes).with_max_depth(256);
    let object = decoder.next_object().unwrap().unwrap();
    bendy::value::Value::decode_bencode_object(object).unwrap()
}

/// bendy's tokenizer alone: it validates everything but builds nothing.
fn bendy_tokens(bytes: &[u8]) -> usize {
    let decoder = BendyDecoder::new(bytes).with_max_depth(256);
    let mut count = 0;
    for token in decoder.tokens() {
        black_box(token.unwrap());
        count += 1;
    }
    count
}

fn compare(c: &mut Criterion, name: &str, bytes: &[u8]) {
    // Every decoder must accept the input, or the comparison means nothing.
    decode(bytes).unwrap();
    bendy_value(bytes);
    serde_bencode::from_bytes::<serde_bencode::value::Value>(bytes).unwrap();
    from_bytes::<Torrent>(bytes).unwrap();
    serde_bencode::from_bytes::<Torrent>(bytes).unwrap();

    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("swarmget-bencode/value", |b| {
        b.iter(|| decode(black_box(bytes)).unwrap())
    });
    group.bench_function("swarmget-bencode/value-lenient", |b| {
        let lenient = Decoder::new().lenient(true);
        b.iter(|| lenient.decode(black_box(bytes)).unwrap())
    });
    group.bench_function("bendy/value", |b| b.iter(|| bendy_value(black_box(bytes))));
    group.bench_function("bendy/tokens", |b| {
        b.iter(|| bendy_tokens(black_box(bytes)))
    });
    group.bench_function("serde_bencode/value", |b| {
        b.iter(|| {
            serde_bencode::from_bytes::<serde_bencode::value::Value>(black_box(bytes)).unwrap()
        })
    });
    group.bench_function("swarmget-bencode/serde-struct", |b| {
        b.iter(|| from_bytes::<Torrent>(black_box(bytes)).unwrap())
    });
    group.bench_function("serde_bencode/serde-struct", |b| {
        b.iter(|| serde_bencode::from_bytes::<Torrent>(black_box(bytes)).unwrap())
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let many_files = many_files_torrent(50_000);
    compare(c, "decode/torrent-50k-files", &many_files);
    let big_pieces = big_pieces_torrent();
    compare(c, "decode/pieces-1MiB", &big_pieces);
}

criterion_group!(decode_benches, benches);
criterion_main!(decode_benches);
