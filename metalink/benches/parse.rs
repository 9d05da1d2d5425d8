//! Parsing (and writing) a generated 10,000-file Metalink 4 document.
//!
//! `cargo bench -p swarmget-metalink -- --warm-up-time 1 --measurement-time 3`

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use swarmget_metalink::{ParseOptions, parse, write};

/// A document shaped like a mirror network's: per file a size, a SHA-256, three
/// mirrors in different countries and a torrent.
fn document(files: usize) -> String {
    let mut doc = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n\
         \x20 <generator>bench</generator>\n\
         \x20 <published>2024-03-01T10:00:00Z</published>\n",
    );
    for i in 0..files {
        let _ = write!(
            doc,
            "  <file name=\"pool/main/p{i:05}/package-{i}.tar.xz\">\n\
             \x20   <size>{}</size>\n\
             \x20   <hash type=\"sha-256\">{:064x}</hash>\n\
             \x20   <url location=\"de\" priority=\"1\">http://ftp.de.example.org/pool/package-{i}.tar.xz</url>\n\
             \x20   <url location=\"us\" priority=\"2\">https://mirror.us.example.com/pool/package-{i}.tar.xz</url>\n\
             \x20   <url location=\"jp\" priority=\"3\">ftp://ftp.jp.example.net/pool/package-{i}.tar.xz</url>\n\
             \x20   <metaurl mediatype=\"torrent\" priority=\"4\">http://example.org/t/package-{i}.torrent</metaurl>\n\
             \x20 </file>\n",
            1000 + i * 37,
            i as u128 * 0x9e37_79b9_7f4a_7c15,
        );
    }
    doc.push_str("</metalink>\n");
    doc
}

fn bench(c: &mut Criterion) {
    let doc = document(10_000);
    let options = ParseOptions::default();
    let parsed = parse(doc.as_bytes(), &options).expect("generated document parses");
    assert_eq!(parsed.metalink.files.len(), 10_000);

    let mut group = c.benchmark_group("metalink_10000_files");
    group.throughput(Throughput::Bytes(doc.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| parse(black_box(doc.as_bytes()), &options).map(|p| p.metalink.files.len()))
    });
    // The floor under `parse`: roxmltree building the tree, with no model made.
    group.bench_function("xml_tree_only", |b| {
        b.iter(|| roxmltree::Document::parse(black_box(&doc)).map(|d| d.descendants().count()))
    });
    group.bench_function("write", |b| {
        b.iter(|| write(black_box(&parsed.metalink)).map(|s| s.len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
