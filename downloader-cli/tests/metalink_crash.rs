//! Killing `swarmget` during a multi-file Metalink download with chunk checksums never
//! makes an unverified piece count: every control file left behind claims only pieces
//! whose bytes verify, and the next run finishes every file byte for byte.

mod common;

use std::process::{Child, Stdio};
use std::thread;
use std::time::Duration;

use common::{Partial, TempDir, assert_download, check_control_with};
use swarmget_engine::digest::{HashKind, Hasher};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

const LEN: usize = 4 << 20;
const CHUNK: usize = 256 << 10;

fn hex(kind: HashKind, data: &[u8]) -> String {
    let mut h = Hasher::new(kind);
    h.update(data);
    h.finish().to_hex()
}

/// One `<file>` of a Metalink 4 document: `data` at `urls` under the name `name`.
fn file_entry(name: &str, urls: &[String], data: &[u8]) -> String {
    let pieces: String = data
        .chunks(CHUNK)
        .map(|c| format!("      <hash>{}</hash>\n", hex(HashKind::Sha1, c)))
        .collect();
    let urls: String = urls
        .iter()
        .map(|u| format!("    <url>{u}</url>\n"))
        .collect();
    format!(
        r#"  <file name="{name}">
    <size>{}</size>
    <hash type="sha-256">{}</hash>
    <pieces length="{CHUNK}" type="sha-1">
{pieces}    </pieces>
{urls}  </file>
"#,
        data.len(),
        hex(HashKind::Sha256, data),
    )
}

fn document(files: &[String]) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n{}</metalink>\n",
        files.concat()
    )
}

fn spawn(dir: &TempDir, doc: &std::path::Path) -> Child {
    common::swarmget(dir.path())
        .args(["-q", "-x4", "-s4", "-k1M", "--timeout=10", "-M"])
        .arg(doc)
        .arg("-d")
        .arg(dir.join("out"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn swarmget")
}

/// The two files of the test and their contents.
fn files(dir: &TempDir, data: &[Vec<u8>; 2]) -> [(std::path::PathBuf, Vec<u8>); 2] {
    [
        (dir.join("out/sub/a.bin"), data[0].clone()),
        (dir.join("out/b.bin"), data[1].clone()),
    ]
}

/// Verified pieces the control files claim over both files (each checked against its
/// source); `None` for a file without a control file. Written-but-unverified bytes
/// may be the corrupting mirror's (their chunk has not been hashed yet): a resume
/// hashes them again, so only the verified pieces must match.
fn claimed(files: &[(std::path::PathBuf, Vec<u8>); 2]) -> usize {
    files
        .iter()
        .map(|(path, data)| {
            check_control_with(path, data, CHUNK as u64, Partial::Rehashed).map_or(0, |b| b.count())
        })
        .sum()
}

/// Runs until the control files claim at least `pieces` verified pieces in all, then
/// SIGKILLs; returns how many they claimed then.
fn kill_after(dir: &TempDir, doc: &std::path::Path, data: &[Vec<u8>; 2], pieces: usize) -> usize {
    let files = files(dir, data);
    let mut child = spawn(dir, doc);
    // The run either gets there or ends first (a stalled server makes it exit on its
    // own --timeout), which fails below.
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill"
        );
        if claimed(&files) >= pieces {
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    child.wait().unwrap();
    claimed(&files)
}

#[test]
fn sigkill_during_a_verified_download_then_rerun_gives_the_right_bytes() {
    let data = [
        TestFile::random(LEN, 0x3E7A),
        TestFile::random(LEN + 12345, 0x3E7B),
    ];
    let good = HttpServer::start(
        ServerConfig::new()
            .file("/a.bin", data[0].clone())
            .file("/b.bin", data[1].clone())
            .trickle(512 << 10),
    )
    .unwrap();
    // A mirror whose every chunk is wrong, listed first: its bytes reach the disk
    // but must never be claimed by a control file.
    let wrong = |d: &[u8]| {
        let mut w = d.to_vec();
        for chunk in w.chunks_mut(CHUNK) {
            chunk[100] ^= 0x55;
        }
        w
    };
    let bad = HttpServer::start(
        ServerConfig::new()
            .file("/a.bin", wrong(&data[0]))
            .file("/b.bin", wrong(&data[1]))
            .trickle(512 << 10),
    )
    .unwrap();
    let dir = TempDir::new("metalink-crash");
    let doc = dir.join("doc.meta4");
    let entry =
        |name: &str, path: &str, d: &[u8]| file_entry(name, &[bad.url(path), good.url(path)], d);
    std::fs::write(
        &doc,
        document(&[
            entry("sub/a.bin", "/a.bin", &data[0]),
            entry("b.bin", "/b.bin", &data[1]),
        ]),
    )
    .unwrap();

    let first = kill_after(&dir, &doc, &data, 4);
    let second = kill_after(&dir, &doc, &data, first + 4);
    assert!(
        second > first,
        "the second run added nothing: {first} then {second}"
    );
    // A third run finishes both (existing control files mean resume, as in aria2).
    let mut child = spawn(&dir, &doc);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    for (path, d) in files(&dir, &data) {
        assert_download(&path, &d);
        assert!(!swarmget_engine::control::control_path(&path).exists());
    }
}
