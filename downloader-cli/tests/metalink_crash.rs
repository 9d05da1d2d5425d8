//! Killing `swarmget` during a Metalink download with chunk checksums never makes an
//! unverified piece count: every control file left behind claims only pieces whose
//! bytes verify, and the next run finishes the file byte for byte.

mod common;

use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{TempDir, assert_download, check_control, wait_for};
use swarmget_engine::digest::{HashKind, Hasher};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

const LEN: usize = 8 << 20;
const CHUNK: usize = 256 << 10;
const LIMIT: Duration = Duration::from_secs(60);

fn hex(kind: HashKind, data: &[u8]) -> String {
    let mut h = Hasher::new(kind);
    h.update(data);
    h.finish().to_hex()
}

/// A Metalink 4 document for `data` at `urls` under the name `name`.
fn document(name: &str, urls: &[String], data: &[u8]) -> String {
    let pieces: String = data
        .chunks(CHUNK)
        .map(|c| format!("      <hash>{}</hash>\n", hex(HashKind::Sha1, c)))
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<metalink xmlns="urn:ietf:params:xml:ns:metalink">
  <file name="{name}">
    <size>{}</size>
    <hash type="sha-256">{}</hash>
    <pieces length="{CHUNK}" type="sha-1">
{pieces}    </pieces>
{urls}  </file>
</metalink>
"#,
        data.len(),
        hex(HashKind::Sha256, data),
        urls = urls
            .iter()
            .map(|u| format!("    <url>{u}</url>\n"))
            .collect::<String>(),
    )
}

fn spawn(dir: &TempDir, doc: &std::path::Path) -> Child {
    common::swarmget(dir.path())
        .args(["-q", "-x4", "-s4", "-k1M", "-M"])
        .arg(doc)
        .arg("-d")
        .arg(dir.join("out"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn swarmget")
}

/// Runs until the control file claims at least `pieces` verified pieces, then
/// SIGKILLs; returns how many it claimed then (checked against the source).
fn kill_after(dir: &TempDir, doc: &std::path::Path, data: &[u8], pieces: usize) -> usize {
    let file = dir.join("out/sub/f.bin");
    let mut child = spawn(dir, doc);
    let started = Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill"
        );
        if let Some(bits) = check_control(&file, data, CHUNK as u64)
            && bits.count() >= pieces
        {
            break;
        }
        assert!(started.elapsed() < LIMIT, "never reached {pieces} pieces");
        thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    child.wait().unwrap();
    check_control(&file, data, CHUNK as u64)
        .expect("a control file after the kill")
        .count()
}

#[test]
fn sigkill_during_a_verified_download_then_rerun_gives_the_right_bytes() {
    let data = TestFile::random(LEN, 0x3E7A);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .trickle(512 << 10),
    )
    .unwrap();
    // A mirror whose every chunk is wrong, listed first: its bytes reach the disk
    // but must never be claimed by a control file.
    let mut wrong = data.clone();
    for chunk in wrong.chunks_mut(CHUNK) {
        chunk[100] ^= 0x55;
    }
    let bad =
        HttpServer::start(ServerConfig::new().file("/f.bin", wrong).trickle(512 << 10)).unwrap();
    let dir = TempDir::new("metalink-crash");
    let doc = dir.join("doc.meta4");
    let urls = [bad.url("/f.bin"), server.url("/f.bin")];
    std::fs::write(&doc, document("sub/f.bin", &urls, &data)).unwrap();

    let first = kill_after(&dir, &doc, &data, 4);
    let second = kill_after(&dir, &doc, &data, first + 4);
    assert!(
        second > first,
        "the second run added nothing: {first} then {second}"
    );
    // A third run finishes it (an existing control file means resume, as in aria2).
    let mut child = spawn(&dir, &doc);
    let status = wait_for(&mut child, LIMIT).expect("the last run hung");
    assert_eq!(status.code(), Some(0));
    let file = dir.join("out/sub/f.bin");
    assert_download(&file, &data);
    assert!(!swarmget_engine::control::control_path(&file).exists());
}
