//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use swarmget_engine::{
    DownloadSpec, DownloadState, DownloadStatus, Engine, ErrorCode, Options, Silent,
};
use swarmget_test_support::{RequestRecord, sha256_hex};

/// A scratch directory removed on drop.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!("swarmget-it-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Small pieces and short timeouts, so misbehaviour shows within a test's time.
pub fn opts(dir: &Path) -> Options {
    Options {
        dir: dir.to_path_buf(),
        piece_length: 64 << 10,
        min_split_size: 64 << 10,
        timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(3),
        max_tries: 3,
        ..Options::default()
    }
}

/// `opts` with `n` connections to one server.
pub fn segmented(dir: &Path, n: usize) -> Options {
    Options {
        split: n,
        max_connection_per_server: n,
        ..opts(dir)
    }
}

/// Runs one download of `uris` (mirrors) to its end.
pub fn run(uris: Vec<String>, o: Options) -> DownloadStatus {
    let mut engine = Engine::new(&o).unwrap();
    engine.add(DownloadSpec::new(uris, o)).unwrap();
    engine.run(&mut Silent).remove(0)
}

/// The download completed with exactly `data`, and left no control file.
pub fn assert_ok(st: &DownloadStatus, data: &[u8]) {
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    let path = st.path.as_ref().expect("a path");
    let got = std::fs::read(path).unwrap();
    assert_eq!(got.len(), data.len());
    assert_eq!(sha256_hex(&got), sha256_hex(data));
    assert!(
        !swarmget_engine::control::control_path(path).exists(),
        "control file left behind"
    );
}

/// The download failed with `code`.
pub fn assert_err(st: &DownloadStatus, code: ErrorCode) {
    match &st.state {
        DownloadState::Error(e) => assert_eq!(e.code, code, "{e}"),
        other => panic!("expected error {code:?}, got {other:?}"),
    }
}

/// Per path, in order of first request: `(path, first request received, last response
/// completed)` on the server's event counter. Two spans that overlap were in flight at
/// once. Panics if a response was cut short or never sent.
pub fn exchange_spans(log: &[RequestRecord]) -> Vec<(String, u64, u64)> {
    let mut spans: Vec<(String, u64, u64)> = Vec::new();
    for record in log {
        let answered = record
            .answered_at
            .unwrap_or_else(|| panic!("no complete answer to {record:?}"));
        match spans.iter_mut().find(|(path, ..)| *path == record.path) {
            Some((_, start, end)) => {
                *start = (*start).min(record.received_at);
                *end = (*end).max(answered);
            }
            None => spans.push((record.path.clone(), record.received_at, answered)),
        }
    }
    spans.sort_by_key(|&(_, start, _)| start);
    spans
}

/// The download failed with a message containing `text`.
pub fn assert_message(st: &DownloadStatus, text: &str) {
    match &st.state {
        DownloadState::Error(e) => assert!(e.message.contains(text), "{e:?} lacks {text:?}"),
        other => panic!("expected an error saying {text:?}, got {other:?}"),
    }
}
