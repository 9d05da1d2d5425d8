//! `-V/--check-integrity` over a file already on disk: pieces that verify are kept and
//! only the rest is fetched; `--hash-check-only` checks and fetches nothing; with only
//! a whole-file digest a file of full length is checked and fetched again on mismatch.

use swarmget_engine::digest::{Digest, HashKind, Hasher, PieceHashes};
use swarmget_engine::{DownloadSpec, ErrorCode, Expect, Options};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

mod common;

use common::{Dir, assert_err, assert_ok, opts, run_spec};

const CHUNK: u64 = 64 << 10;

fn digest(kind: HashKind, data: &[u8]) -> Vec<u8> {
    let mut h = Hasher::new(kind);
    h.update(data);
    h.finish().bytes
}

fn with_pieces(url: String, o: Options, data: &[u8]) -> DownloadSpec {
    DownloadSpec {
        uris: vec![url],
        options: o,
        expect: Expect {
            length: Some(data.len() as u64),
            hashes: Vec::new(),
            pieces: Some(PieceHashes {
                kind: HashKind::Sha1,
                length: CHUNK,
                digests: data
                    .chunks(CHUNK as usize)
                    .map(|c| digest(HashKind::Sha1, c))
                    .collect(),
            }),
        },
        torrent: None,
        document: None,
        magnet: None,
        manifests: Vec::new(),
    }
}

/// Options for `-V` into `dir` with the output name `f` (the file the test puts there).
fn check(dir: &std::path::Path) -> Options {
    Options {
        out: Some("f".into()),
        check_integrity: true,
        ..opts(dir)
    }
}

/// The body bytes the server was asked for, as (start, end) of each Range header.
fn ranges(server: &HttpServer) -> Vec<String> {
    server
        .log()
        .iter()
        .map(|r| r.range().unwrap_or("").to_string())
        .collect()
}

/// The download went to the existing `f` (not a renamed copy beside it).
fn assert_only_f(dir: &std::path::Path, st: &swarmget_engine::DownloadStatus) {
    assert_eq!(st.path.as_deref(), Some(dir.join("f").as_path()));
    let names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["f"]);
}

#[test]
fn only_the_damaged_piece_is_fetched_again() {
    let data = TestFile::random(500_000, 41);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("vi-piece");
    let mut damaged = data.clone();
    damaged[3 * CHUNK as usize + 10] ^= 1;
    std::fs::write(dir.0.join("f"), &damaged).unwrap();
    let st = run_spec(with_pieces(server.url("/f"), check(&dir.0), &data));
    assert_ok(&st, &data);
    assert_only_f(&dir.0, &st);
    let asked = ranges(&server);
    let piece3 = format!("bytes={}-{}", 3 * CHUNK, 4 * CHUNK - 1);
    assert!(asked.contains(&piece3), "{asked:?}");
    // Nothing else but the first (probing) request.
    assert_eq!(asked.len(), 2, "{asked:?}");
}

#[test]
fn hash_check_only_reports_the_damage_and_fetches_nothing() {
    let data = TestFile::random(500_000, 42);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("vi-only-bad");
    let mut damaged = data.clone();
    damaged[CHUNK as usize] ^= 1;
    std::fs::write(dir.0.join("f"), &damaged).unwrap();
    let o = Options {
        hash_check_only: true,
        ..check(&dir.0)
    };
    let st = run_spec(with_pieces(server.url("/f"), o, &data));
    assert_err(&st, ErrorCode::Checksum);
    let message = &st.error().unwrap().message;
    let pieces = data.len().div_ceil(CHUNK as usize);
    assert!(
        message.contains(&format!("{} of {pieces} pieces verified", pieces - 1)),
        "{message}"
    );
    assert_eq!(
        server.log().len(),
        1,
        "only the probe: {:?}",
        ranges(&server)
    );
    assert_eq!(
        std::fs::read(dir.0.join("f")).unwrap(),
        damaged,
        "file changed"
    );
}

#[test]
fn hash_check_only_completes_a_good_file() {
    let data = TestFile::random(300_000, 43);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("vi-only-good");
    std::fs::write(dir.0.join("f"), &data).unwrap();
    let o = Options {
        hash_check_only: true,
        ..check(&dir.0)
    };
    let st = run_spec(with_pieces(server.url("/f"), o, &data));
    assert_ok(&st, &data);
    assert_only_f(&dir.0, &st);
    // Only the probe, whose body was not read.
    assert_eq!(server.log().len(), 1);
}

#[test]
fn a_whole_file_checksum_keeps_a_good_file_and_refetches_a_bad_one() {
    let data = TestFile::random(300_000, 44);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let sum = Digest {
        kind: HashKind::Sha256,
        bytes: digest(HashKind::Sha256, &data),
    };
    let o = |dir: &std::path::Path| Options {
        checksum: Some(sum.clone()),
        ..check(dir)
    };
    // Good: checked, nothing fetched but the probe's head.
    let dir = Dir::new("vi-whole-good");
    std::fs::write(dir.0.join("f"), &data).unwrap();
    let st = common::run(vec![server.url("/f")], o(&dir.0));
    assert_ok(&st, &data);
    assert_only_f(&dir.0, &st);
    assert_eq!(server.log().len(), 1);
    // Full length but wrong: fetched again from the start.
    let dir = Dir::new("vi-whole-bad");
    let mut damaged = data.clone();
    damaged[12345] ^= 1;
    std::fs::write(dir.0.join("f"), &damaged).unwrap();
    let st = common::run(vec![server.url("/f")], o(&dir.0));
    assert_ok(&st, &data);
    assert!(
        ranges(&server)[1..]
            .iter()
            .any(|r| r.starts_with("bytes=0-"))
    );
}
