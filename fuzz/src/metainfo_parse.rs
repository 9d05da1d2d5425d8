//! Arbitrary bytes as a `.torrent`: parsing never panics, and a torrent that parses keeps
//! the metainfo invariants — safe paths, lengths that add up within `i64`, one SHA-1 per
//! piece, the info-hash over the info bytes, pieces that cover the files exactly — and,
//! for plain v1 torrents, the writer rebuilds an info dictionary that parses to the same
//! files and hashes.

use sha1::{Digest, Sha1};
use swarmget_bt_wire::metainfo::{Metainfo, TorrentBuilder, Version, path_problem};

/// Parses `data` as a torrent and checks what a parsed torrent promises.
pub fn run(data: &[u8]) {
    let Ok(m) = Metainfo::parse(data) else {
        return;
    };
    let info = &m.info;
    let total: u64 = info.files.iter().map(|f| f.length).sum();
    assert_eq!(total, info.total_length);
    assert!(total > 0 && total <= i64::MAX as u64);
    for f in &info.files {
        for c in &f.path {
            assert_eq!(path_problem(c), None, "{:?} escaped the checks", f.path);
        }
    }
    if info.version != Version::V2 {
        assert_eq!(
            info.piece_hashes.len() as u64,
            total.div_ceil(info.piece_length)
        );
        assert_eq!(m.info_hash, Some(Sha1::digest(&m.info_bytes).into()));
    }
    // Pieces map onto files without gaps or overlaps (the first few thousand suffice).
    let mut next_offset = vec![0u64; info.files.len()];
    for piece in 0..info.piece_count().min(4096) {
        let spans = info.piece_spans(piece);
        let size: u64 = spans.iter().map(|s| s.length).sum();
        assert!(size > 0 && size <= info.piece_length);
        assert_eq!(Some(size), info.piece_size(piece));
        for s in spans {
            assert_eq!(
                s.offset, next_offset[s.file],
                "piece {piece}: gap or overlap"
            );
            next_offset[s.file] += s.length;
        }
    }
    if info.piece_count() <= 4096 {
        let lengths: Vec<u64> = info.files.iter().map(|f| f.length).collect();
        assert_eq!(next_offset, lengths, "pieces do not cover the files");
    }
    let again = Metainfo::from_info_bytes(&m.info_bytes).expect("its own info parses alone");
    assert_eq!(again.info_hash, m.info_hash);

    let plain = info.version == Version::V1
        && info
            .files
            .iter()
            .all(|f| !f.padding && !f.executable && !f.hidden);
    if !plain {
        return;
    }
    let builder = if info.multi_file {
        let files = info
            .files
            .iter()
            .map(|f| (f.path[1..].to_vec(), f.length))
            .collect();
        TorrentBuilder::multi(
            &info.name,
            files,
            info.piece_length,
            info.piece_hashes.clone(),
        )
    } else {
        TorrentBuilder::single(
            &info.name,
            total,
            info.piece_length,
            info.piece_hashes.clone(),
        )
    };
    let rebuilt = builder
        .private(info.private)
        .build()
        .unwrap_or_else(|e| panic!("the writer refused a parsed torrent: {e}"));
    let back = Metainfo::parse(&rebuilt).expect("build checks its output");
    assert_eq!(back.info.files, info.files);
    assert_eq!(back.info.piece_hashes, info.piece_hashes);
}
