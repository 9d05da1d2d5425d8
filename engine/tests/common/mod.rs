//! Helpers shared by the engine's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use swarmget_engine::{
    DownloadSpec, DownloadState, DownloadStatus, Engine, ErrorCode, Event, Gid, Handle, Options,
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

/// A torrent's payload for tests: `len` bytes of a pattern that differs with `seed`.
pub fn torrent_data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

/// `opts` for torrents: any free listen port, and the download ends when complete (no
/// seeding unless a test asks for it).
pub fn bt_opts(dir: &Path) -> Options {
    Options {
        listen_port: vec![0],
        seed_time: Some(Duration::ZERO),
        ..opts(dir)
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

/// An engine driven through its handle, and the downloads a test added to it.
pub struct Batch {
    pub handle: Handle,
    events: Receiver<Event>,
    /// Every event received so far, in order.
    pub seen: Vec<Event>,
    pub gids: Vec<Gid>,
}

impl Batch {
    /// A started engine with global options `o`, subscribed before anything is added.
    pub fn new(o: &Options) -> Batch {
        Batch::with_clock(o, swarmget_engine::Clock::real())
    }

    /// [`Batch::new`] with the engine's loop on `clock` (a manual one, to advance).
    pub fn with_clock(o: &Options, clock: swarmget_engine::Clock) -> Batch {
        let handle = Engine::start_with_clock(o, clock).unwrap();
        let events = handle.subscribe().unwrap();
        Batch {
            handle,
            events,
            seen: Vec::new(),
            gids: Vec::new(),
        }
    }

    /// Queues a download.
    pub fn add(&mut self, spec: DownloadSpec) -> Gid {
        let gid = self.handle.add(spec).unwrap();
        self.gids.push(gid);
        gid
    }

    /// Waits until an event that `want` accepts has been received (now or before,
    /// after the `from`th event), and returns its place in [`Batch::seen`].
    pub fn wait_event(&mut self, from: usize, want: impl Fn(&Event) -> bool) -> usize {
        loop {
            if let Some(i) = self.seen.iter().skip(from).position(&want) {
                return from + i;
            }
            match self.events.recv_timeout(Duration::from_secs(120)) {
                Ok(e) => self.seen.push(e),
                Err(e) => panic!("the event never came: {e}; seen {:?}", self.seen),
            }
        }
    }

    /// Waits until every added download has stopped, shuts the engine down and
    /// returns their final statuses in the order they were added.
    pub fn finish(mut self) -> Vec<DownloadStatus> {
        for gid in self.gids.clone() {
            self.wait_event(
                0,
                |e| matches!(e, Event::Complete(g) | Event::Error(g) | Event::Stop(g) if *g == gid),
            );
        }
        let all = self.handle.shutdown().unwrap();
        self.gids
            .iter()
            .map(|g| all.iter().find(|s| s.gid == *g).unwrap().clone())
            .collect()
    }
}

/// Polls `gid`'s status until `done` holds (bytes arriving are reported in the status,
/// not by events) and returns that status; a download that stops first fails the test
/// with its state — what a wait would stand for, without a clock.
pub fn wait_status(
    handle: &Handle,
    gid: Gid,
    done: impl Fn(&DownloadStatus) -> bool,
) -> DownloadStatus {
    loop {
        let st = handle.tell_status(gid).unwrap();
        if done(&st) {
            return st;
        }
        assert!(
            !st.state.is_stopped(),
            "stopped before the condition held: {st:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs one download to its end; the spec's options are also the global ones.
pub fn run_spec(spec: DownloadSpec) -> DownloadStatus {
    let mut batch = Batch::new(&spec.options);
    batch.add(spec);
    batch.finish().remove(0)
}

/// Runs one torrent download to its end; returns its final status and the events seen.
pub fn run_torrent(torrent: &[u8], o: Options) -> (DownloadStatus, Vec<Event>) {
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::torrent(
        swarmget_engine::Torrent::parse(torrent).unwrap(),
        o,
    ));
    let gid = batch.gids[0];
    batch.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) if *g == gid),
    );
    let seen = batch.seen.clone();
    (batch.finish().remove(0), seen)
}

/// Runs one download of `uris` (mirrors) to its end.
pub fn run(uris: Vec<String>, o: Options) -> DownloadStatus {
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::new(uris, o));
    batch.finish().remove(0)
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

/// Makes a FIFO at `path`: opening it for reading blocks until a writer comes, which
/// is how tests hold the disk thread on a control file.
pub fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// Waits until something opens the FIFO at `path` for reading (a non-blocking open for
/// writing succeeds only then) and returns the writing end: while it stays open and
/// silent, the reader waits for data.
pub fn hold_fifo(path: &Path) -> std::fs::File {
    use std::os::unix::fs::OpenOptionsExt;
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(w) => return w,
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                std::thread::sleep(Duration::from_millis(5))
            }
            Err(e) => panic!("opening the FIFO {}: {e}", path.display()),
        }
    }
}

/// `gid`'s status asked from another thread: a loop that does not answer within 30 s
/// fails the test (it would otherwise hang it).
pub fn status_while_blocked(handle: &Handle, gid: Gid) -> DownloadStatus {
    let handle = handle.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(handle.tell_status(gid));
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the loop answers while a control file blocks the disk thread")
        .unwrap()
}

/// Polls `cond` every 5 ms until it holds; fails the test after 30 s with `what`.
pub fn eventually(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..6000 {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("{what} never happened");
}
