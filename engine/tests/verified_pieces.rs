//! Downloads with chunk checksums (Metalink `<pieces>`): a piece counts only once it
//! verifies, a mirror that serves wrong bytes is charged and, after two bad pieces,
//! dropped, and no wrong byte ever makes a file count as done.

use swarmget_engine::digest::{Digest, HashKind, Hasher, PieceHashes};
use swarmget_engine::{DownloadSpec, ErrorCode, Event, Expect, Gid, Options};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

mod common;

use common::{Batch, Dir, assert_err, assert_ok, segmented};

const CHUNK: u64 = 64 << 10;

fn sha1_pieces(data: &[u8]) -> PieceHashes {
    PieceHashes {
        kind: HashKind::Sha1,
        length: CHUNK,
        digests: data
            .chunks(CHUNK as usize)
            .map(|c| {
                let mut h = Hasher::new(HashKind::Sha1);
                h.update(c);
                h.finish().bytes
            })
            .collect(),
    }
}

fn whole(data: &[u8]) -> Digest {
    let mut h = Hasher::new(HashKind::Sha256);
    h.update(data);
    h.finish()
}

fn spec(uris: Vec<String>, o: Options, data: &[u8]) -> DownloadSpec {
    DownloadSpec {
        uris,
        options: Options {
            out: Some("file.bin".into()),
            ..o
        },
        expect: Expect {
            length: Some(data.len() as u64),
            hashes: vec![whole(data)],
            pieces: Some(sha1_pieces(data)),
        },
        torrent: None,
        document: None,
        magnet: None,
        manifests: Vec::new(),
    }
}

/// `data` with one byte changed in each of `chunks`.
fn corrupt(data: &[u8], chunks: &[usize]) -> Vec<u8> {
    let mut bad = data.to_vec();
    for &c in chunks {
        bad[c * CHUNK as usize + 7] ^= 0xff;
    }
    bad
}

#[test]
fn every_piece_is_verified_and_the_grid_follows_the_chunks() {
    let data = TestFile::random(700_000, 31);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("vp-ok");
    let o = segmented(&dir.0, 3);
    let mut batch = Batch::new(&o);
    batch.add(spec(vec![server.url("/f")], o, &data));
    let st = batch.finish().remove(0);
    assert_ok(&st, &data);
    assert_eq!(st.piece_length, CHUNK);
    assert_eq!(st.num_pieces, data.len().div_ceil(CHUNK as usize));
    assert!(st.bitfield.unwrap().all());
}

/// The notices the engine sent about `gid` so far.
fn notices(batch: &Batch, gid: Gid) -> Vec<String> {
    batch
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::Notice(g, m) if *g == gid => Some(m.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_bad_piece_is_fetched_again_and_its_mirror_charged() {
    let data = TestFile::random(700_000, 32);
    let good = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    // The first mirror (where the first run starts) serves a wrong byte in chunk 0.
    let bad = HttpServer::start(ServerConfig::new().file("/f", corrupt(&data, &[0]))).unwrap();
    let dir = Dir::new("vp-bad");
    let o = Options {
        split: 2,
        max_connection_per_server: 1,
        ..segmented(&dir.0, 2)
    };
    let mut batch = Batch::new(&o);
    let gid = batch.add(spec(vec![bad.url("/f"), good.url("/f")], o, &data));
    batch.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) if *g == gid),
    );
    let said = notices(&batch, gid);
    assert!(
        said.iter()
            .any(|m| m.contains("piece 0 failed its checksum; fetching it again")),
        "{said:?}"
    );
    let st = batch.finish().remove(0);
    assert_ok(&st, &data);
    // Chunk 0 came from the good mirror once, after the bad one's copy failed. The bad
    // mirror is asked for it again only when it is the first source idle after the
    // failure (a race); its copy fails a second time then, and two bad pieces drop it
    // (the next test's rule) rather than letting it be asked a third time.
    let asked_for_0 = |server: &HttpServer| {
        server
            .log()
            .iter()
            .filter(|r| r.range().is_some_and(|v| v.starts_with("bytes=0-")))
            .count()
    };
    let log = || format!("good {:?} bad {:?}", good.log(), bad.log());
    assert_eq!(asked_for_0(&good), 1, "{}", log());
    let dropped = said
        .iter()
        .any(|m| m.starts_with(&bad.url("/f")) && m.ends_with("giving up on this URI"));
    match asked_for_0(&bad) {
        1 => assert!(!dropped, "one bad piece dropped the mirror: {said:?}"),
        2 => assert!(dropped, "two bad pieces kept the mirror: {said:?}"),
        n => panic!("chunk 0 asked of the bad mirror {n} times: {}", log()),
    }
}

#[test]
fn a_mirror_with_two_bad_pieces_is_dropped_and_says_so() {
    let data = TestFile::random(700_000, 33);
    let good = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let every_chunk: Vec<usize> = (0..data.len().div_ceil(CHUNK as usize)).collect();
    let bad =
        HttpServer::start(ServerConfig::new().file("/f", corrupt(&data, &every_chunk))).unwrap();
    let dir = Dir::new("vp-drop");
    let o = Options {
        split: 2,
        max_connection_per_server: 1,
        ..segmented(&dir.0, 2)
    };
    let mut batch = Batch::new(&o);
    let gid = batch.add(spec(vec![bad.url("/f"), good.url("/f")], o, &data));
    batch.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) if *g == gid),
    );
    let said = notices(&batch, gid);
    let bad_url = bad.url("/f");
    assert!(
        said.iter()
            .any(|m| m.starts_with(&bad_url) && m.ends_with("giving up on this URI")),
        "{said:?}"
    );
    let requests_after_drop = bad.log().len();
    let st = batch.finish().remove(0);
    assert_ok(&st, &data);
    assert_eq!(bad.log().len(), requests_after_drop);
}

#[test]
fn without_realtime_checks_only_the_whole_file_is_verified() {
    let data = TestFile::random(300_000, 35);
    let bad = HttpServer::start(ServerConfig::new().file("/f", corrupt(&data, &[2]))).unwrap();
    let dir = Dir::new("vp-off");
    let o = Options {
        realtime_chunk_checksum: false,
        ..segmented(&dir.0, 1)
    };
    let mut batch = Batch::new(&o);
    let gid = batch.add(spec(vec![bad.url("/f")], o, &data));
    batch.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) if *g == gid),
    );
    // No piece was checked on the way (no notice of a bad piece), but the file as a
    // whole does not match.
    assert!(
        notices(&batch, gid)
            .iter()
            .all(|m| !m.contains("checksum;"))
    );
    let st = batch.finish().remove(0);
    assert_err(&st, ErrorCode::Checksum);
}

/// The spec of `spec` with a whole-file digest that matches nothing.
fn with_wrong_whole_digest(mut spec: DownloadSpec) -> DownloadSpec {
    spec.expect.hashes = vec![whole(b"another file")];
    spec
}

#[test]
fn verified_chunks_stand_for_the_document_s_whole_file_hash() {
    // Every chunk verifies, so the document's whole-file hash is not read back and
    // checked (as aria2): a wrong one there does not fail the download.
    let data = TestFile::random(300_000, 36);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("vp-skip-whole");
    let o = segmented(&dir.0, 2);
    let mut batch = Batch::new(&o);
    batch.add(with_wrong_whole_digest(spec(
        vec![server.url("/f")],
        o,
        &data,
    )));
    let st = batch.finish().remove(0);
    assert_ok(&st, &data);
}

#[test]
fn a_checksum_option_is_checked_even_when_every_chunk_verified() {
    // --checksum is the user's own demand: the file is read back and checked.
    let data = TestFile::random(300_000, 37);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("vp-checksum-option");
    let o = Options {
        checksum: Some(whole(b"another file")),
        ..segmented(&dir.0, 2)
    };
    let mut batch = Batch::new(&o);
    batch.add(spec(vec![server.url("/f")], o, &data));
    let st = batch.finish().remove(0);
    assert_err(&st, ErrorCode::Checksum);
}

#[test]
fn a_file_whose_pieces_never_verify_fails_with_a_checksum_error() {
    let data = TestFile::random(300_000, 34);
    let bad = HttpServer::start(ServerConfig::new().file("/f", corrupt(&data, &[0, 1, 2, 3, 4])))
        .unwrap();
    let dir = Dir::new("vp-never");
    let o = segmented(&dir.0, 1);
    let mut batch = Batch::new(&o);
    let gid = batch.add(spec(vec![bad.url("/f")], o, &data));
    batch.wait_event(0, |e| *e == Event::Error(gid));
    let st = batch.finish().remove(0);
    assert_err(&st, ErrorCode::Checksum);
    assert!(
        st.bitfield.is_none_or(|b| b.count() == 0),
        "a bad piece counted"
    );
}

#[test]
fn a_mirror_whose_file_has_another_length_is_dropped_for_the_download() {
    let data = TestFile::random(300_000, 36);
    let mut longer = data.clone();
    longer.extend_from_slice(b"trailing bytes of another version");
    let liar = HttpServer::start(ServerConfig::new().file("/f", longer)).unwrap();
    let good = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("vp-length");
    let o = segmented(&dir.0, 1);
    let mut batch = Batch::new(&o);
    let gid = batch.add(spec(vec![liar.url("/f"), good.url("/f")], o, &data));
    batch.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) if *g == gid),
    );
    let said = notices(&batch, gid);
    assert!(
        said.iter()
            .any(|m| m.contains("is 300033 bytes, expected 300000")
                && m.ends_with("giving up on this URI")),
        "{said:?}"
    );
    let uris = batch.handle.get_uris(gid).unwrap();
    assert_eq!(uris.len(), 2);
    assert_eq!(liar.log().len(), 1, "the liar was asked again");
    let st = batch.finish().remove(0);
    assert_ok(&st, &data);
}
