//! Killing `swarmget` at any moment loses at most the pieces in flight: the control
//! file it leaves never claims a piece whose bytes are not on disk, and `-c` finishes
//! the download to the right bytes. Also SIGINT/SIGTERM: a clean stop with exit code 7.

mod common;

use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{TempDir, assert_download, check_control, run, signal, swarmget, wait_for};
use swarmget_engine::control::control_path;
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

/// The crash test's file: 24 one-MiB pieces.
const LEN: usize = 24 << 20;
const PIECE: u64 = 1 << 20;

/// Per-response server rate. With four connections the whole file takes about three
/// seconds, so kills land before, during and after every phase of a download.
const TRICKLE: u64 = 2 << 20;

/// No single run may take longer than this (a hang is a failure, not a wait).
const RUN_LIMIT: Duration = Duration::from_secs(30);

/// When to SIGKILL one run. Each point comes before the run could finish, so every
/// run planned to be killed is killed: the number of kills is fixed by the plan.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// This long after spawning it; only for the first few milliseconds, long before
    /// a throttled download of many megabytes could end.
    After(Duration),
    /// Once the server has sent this fraction (below 1) of the bytes the run still
    /// needs. The run cannot finish before: it needs all of them.
    Served(f64),
    /// As soon as the output file exists (created, not yet written).
    FileAppears,
    /// As soon as the output file has its full length (allocated, maybe not saved).
    FileAllocated,
    /// As soon as a control file exists.
    ControlAppears,
    /// As soon as the control file claims at least this many pieces.
    ControlClaims(usize),
}

/// What happened to one run.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Killed; the control file claimed this many pieces (`None`: there was none).
    Killed(Option<usize>),
    /// Exited by itself with this code before the kill.
    Exited(Option<i32>),
}

struct Target<'a> {
    dir: &'a TempDir,
    server: &'a HttpServer,
    data: &'a [u8],
}

impl Target<'_> {
    fn file(&self) -> std::path::PathBuf {
        self.dir.join("f.bin")
    }

    fn spawn(&self, resume: bool) -> Child {
        let mut cmd = swarmget(self.dir.path());
        cmd.args([
            "-q",
            "-x4",
            "-s4",
            "-k1M",
            "--piece-length=1M",
            "-o",
            "f.bin",
        ])
        .arg("-d")
        .arg(self.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if resume {
            cmd.arg("-c");
        }
        cmd.arg(self.server.url("/f.bin"))
            .spawn()
            .expect("spawn swarmget")
    }

    /// The bytes a run started now must still fetch: what the control file does not
    /// claim, or, without one, what lies past the file's end (`-c` keeps that prefix).
    fn still_needed(&self, resume: bool) -> u64 {
        let len = self.data.len() as u64;
        if !resume {
            return len;
        }
        match check_control(&self.file(), self.data, PIECE) {
            Some(claimed) => len - claimed.count() as u64 * PIECE,
            None => len - std::fs::metadata(self.file()).map_or(0, |m| m.len().min(len)),
        }
    }

    /// Runs once (resuming if asked), SIGKILLs at `kill`, and checks the control file
    /// left behind.
    fn run_and_kill(&self, resume: bool, kill: Kill) -> Outcome {
        let needed = self.still_needed(resume);
        let served_before = self.server.body_bytes_sent();
        let mut child = self.spawn(resume);
        let started = Instant::now();
        let file = self.file();
        let control = control_path(&file);
        loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                return Outcome::Exited(status.code());
            }
            let due = match kill {
                Kill::After(d) => started.elapsed() >= d,
                Kill::Served(fraction) => {
                    let served = self.server.body_bytes_sent() - served_before;
                    served as f64 >= fraction * needed as f64
                }
                Kill::FileAppears => file.exists(),
                Kill::FileAllocated => {
                    std::fs::metadata(&file).is_ok_and(|m| m.len() == self.data.len() as u64)
                }
                Kill::ControlAppears => control.exists(),
                Kill::ControlClaims(n) => {
                    check_control(&file, self.data, PIECE).is_some_and(|b| b.count() >= n)
                }
            };
            if due {
                break;
            }
            assert!(
                started.elapsed() < RUN_LIMIT,
                "{kill:?} never happened within {RUN_LIMIT:?}"
            );
            match kill {
                // Polling as tightly as the trigger needs: timed kills sleep until due.
                Kill::After(d) => thread::sleep(d.saturating_sub(started.elapsed()).min(ms(2))),
                Kill::ControlClaims(_) => thread::sleep(ms(5)),
                Kill::Served(_) => thread::sleep(ms(1)),
                _ => thread::sleep(Duration::from_micros(100)),
            }
        }
        // Child::kill is SIGKILL: no handler runs, nothing is flushed or saved.
        let _ = child.kill();
        let status = child.wait().expect("wait");
        if status.code().is_some() {
            // It finished on its own between the last check and the kill.
            return Outcome::Exited(status.code());
        }
        Outcome::Killed(check_control(&file, self.data, PIECE).map(|b| b.count()))
    }

    /// Runs `-c` to the end and checks the result.
    fn finish(&self) {
        let mut child = self.spawn(true);
        let status = wait_for(&mut child, RUN_LIMIT).expect("resume run hung");
        assert_eq!(status.code(), Some(0), "final resume run failed");
        self.assert_complete();
    }

    /// The file is right, and nothing else is left beside it (no control file, no
    /// half-written temporary control file from a kill mid-save).
    fn assert_complete(&self) {
        assert_download(&self.file(), self.data);
        assert_eq!(self.dir.names(), ["f.bin"]);
    }

    /// One chain: a fresh run killed at `kills[0]`, `-c` runs killed at the others,
    /// then a `-c` run to completion. Returns the outcome of every killed run.
    fn chain(&self, kills: &[Kill]) -> Vec<Outcome> {
        let _ = std::fs::remove_file(self.file());
        let _ = std::fs::remove_file(control_path(&self.file()));
        let mut outcomes = Vec::new();
        for (n, &kill) in kills.iter().enumerate() {
            let outcome = self.run_and_kill(n > 0, kill);
            if let Outcome::Exited(code) = outcome {
                assert_eq!(code, Some(0), "run {n} ({kill:?}) failed by itself");
                self.assert_complete();
                outcomes.push(outcome);
                return outcomes;
            }
            outcomes.push(outcome);
        }
        self.finish();
        outcomes
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn sigkill_at_any_point_then_resume_gives_the_right_bytes() {
    let data = TestFile::random(LEN, 0xC4A5);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .trickle(TRICKLE),
    )
    .unwrap();
    let dir = TempDir::new("crash");
    let target = Target {
        dir: &dir,
        server: &server,
        data: &data,
    };

    // An uninterrupted run first.
    assert!(target.chain(&[]).is_empty());

    // The control file is saved once a second, so a run killed sooner than that
    // leaves only what the run before it saved; the chains mix both.
    let chains: Vec<(&str, Vec<Kill>)> = vec![
        // Before the process has even connected, then again on every resume.
        (
            "very early",
            [0, 1, 2, 4, 8, 15, 30].map(|n| Kill::After(ms(n))).to_vec(),
        ),
        // The start-up steps, each hit exactly: the file created, the first
        // control file saved, the first periodic save with pieces in it.
        (
            "start-up",
            vec![
                Kill::FileAppears,
                Kill::ControlAppears,
                Kill::ControlClaims(1),
            ],
        ),
        // Every other run lives past one periodic save, so the kills spread over
        // the file.
        (
            "spread",
            [0.4, 0.15, 0.4, 0.25, 0.05, 0.4].map(Kill::Served).to_vec(),
        ),
        // Late: most of a fresh run served, then a resume killed just after it
        // starts and one killed at once.
        (
            "late",
            vec![Kill::Served(0.8), Kill::Served(0.02), Kill::FileAppears],
        ),
        // A fresh run killed just before it would have finished.
        ("very late", vec![Kill::Served(0.9)]),
        // Irregular points from a fixed seed, to land where the others do not.
        ("irregular", irregular(5, 0x5EED)),
    ];
    let planned: usize = chains.iter().map(|(_, plan)| plan.len()).sum();

    let mut claimed = Vec::new();
    for (name, plan) in &chains {
        let outcomes = target.chain(plan);
        eprintln!("{name}: {outcomes:?}");
        for (kill, outcome) in plan.iter().zip(&outcomes) {
            match outcome {
                Outcome::Killed(c) => claimed.push(*c),
                Outcome::Exited(code) => {
                    panic!("{name}: {kill:?} came after the run ended ({code:?})")
                }
            }
        }
    }
    assert_eq!(claimed.len(), planned, "every planned kill landed");
    // The kills covered "nothing saved yet" and "some saved".
    assert!(claimed.contains(&None), "no kill before the first save");
    assert!(
        claimed.iter().any(|c| c.is_some_and(|n| n > 0)),
        "no kill with part of the file saved: {claimed:?}"
    );
}

/// `n` kill points between 1 % and 60 % of what each run still needs, from a fixed
/// seed.
fn irregular(n: usize, seed: u64) -> Vec<Kill> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            // xorshift: any fixed, spread-out sequence will do.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            Kill::Served(0.01 + (state % 1000) as f64 / 1000.0 * 0.59)
        })
        .collect()
}

/// SIGKILL in the window between preallocating the file and saving the first
/// control file leaves a full-length file of zeros with no control file beside it;
/// `-c` then takes the file as finished (exit 0, wrong bytes). The control file must
/// be on disk before the file has its full length.
#[test]
fn sigkill_right_after_allocation_is_resumed_correctly() {
    let data = TestFile::random(LEN, 0xA110C);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .trickle(TRICKLE),
    )
    .unwrap();
    let dir = TempDir::new("alloc");
    let target = Target {
        dir: &dir,
        server: &server,
        data: &data,
    };
    // `chain` checks the control file after the kill and the bytes after `-c`.
    let outcomes = target.chain(&[Kill::FileAllocated]);
    assert!(matches!(outcomes[..], [Outcome::Killed(_)]), "{outcomes:?}");
}

/// Starts a throttled download and waits until its control file claims a piece.
fn start_and_wait_for_progress(dir: &TempDir, url: &str, data: &[u8]) -> Child {
    let child = swarmget(dir.path())
        .args(["-q", "-x2", "-s2", "-k1M", "-o", "f.bin", "-d"])
        .arg(dir.path())
        .arg(url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn swarmget");
    let deadline = Instant::now() + RUN_LIMIT;
    while check_control(&dir.join("f.bin"), data, PIECE).is_none_or(|b| b.count() == 0) {
        assert!(Instant::now() < deadline, "no progress saved");
        thread::sleep(ms(10));
    }
    child
}

fn stop_with(sig: libc::c_int, name: &str) {
    let data = TestFile::random(8 << 20, 7);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .trickle(1 << 20),
    )
    .unwrap();
    let dir = TempDir::new(name);
    let url = server.url("/f.bin");
    let mut child = start_and_wait_for_progress(&dir, &url, &data);
    signal(&child, sig);
    let status = wait_for(&mut child, Duration::from_secs(5)).expect("no exit after the signal");
    assert_eq!(status.code(), Some(7), "unfinished download after {name}");
    let file = dir.join("f.bin");
    let saved = check_control(&file, &data, PIECE).expect("control file kept for -c");
    assert!(
        (1..8).contains(&saved.count()),
        "stopped mid-download, yet {} pieces claimed",
        saved.count()
    );

    let server = HttpServer::start(ServerConfig::new().file("/f.bin", data.clone())).unwrap();
    run(
        swarmget(dir.path())
            .args(["-q", "-x2", "-s2", "-k1M", "-c", "-o", "f.bin", "-d"])
            .arg(dir.path())
            .arg(server.url("/f.bin")),
        RUN_LIMIT,
    )
    .expect_code(0);
    assert_download(&file, &data);
    // The resumed run fetched only what was missing: no request starts inside a
    // piece the control file had recorded.
    for request in server.log() {
        // The open-ended `bytes=0-` probe learns the length; it is cut off when
        // the plan shows its bytes are done.
        let Some(start) = request.range().and_then(closed_range_start) else {
            continue;
        };
        let piece = (start / PIECE) as usize;
        assert!(
            !saved.get(piece),
            "piece {piece} was saved, yet refetched with {:?}",
            request.range()
        );
    }
}

/// The first byte of a `bytes=FIRST-LAST` range (`None` for open-ended ranges).
fn closed_range_start(range: &str) -> Option<u64> {
    let (first, last) = range.strip_prefix("bytes=")?.split_once('-')?;
    last.parse::<u64>().ok()?;
    first.parse().ok()
}

#[test]
fn sigint_stops_with_exit_code_7_and_resumes() {
    stop_with(libc::SIGINT, "sigint");
}

#[test]
fn sigterm_stops_with_exit_code_7_and_resumes() {
    stop_with(libc::SIGTERM, "sigterm");
}

/// `-c` without a control file keeps the existing file as a finished prefix
/// (aria2's rule) and fetches only the rest.
#[test]
fn continue_without_control_file_keeps_the_prefix() {
    let data = TestFile::random(3 << 20, 9);
    let server = HttpServer::start(ServerConfig::new().file("/p.bin", data.clone())).unwrap();
    let dir = TempDir::new("prefix");
    let file = dir.join("p.bin");
    std::fs::write(&file, &data[..(1 << 20) + 1000]).unwrap();
    run(
        swarmget(dir.path())
            .args(["-q", "-c", "-d"])
            .arg(dir.path())
            .arg(server.url("/p.bin")),
        RUN_LIMIT,
    )
    .expect_code(0);
    assert_download(&file, &data);
    let log = server.log();
    let ranges: Vec<&str> = log.iter().filter_map(|r| r.range()).collect();
    // Only the length probe may start inside the kept first piece, and something
    // must then have asked for the rest.
    for range in &ranges {
        if let Some(start) = closed_range_start(range) {
            assert!(start >= 1 << 20, "the kept prefix was fetched: {ranges:?}");
        }
    }
    assert!(
        ranges
            .iter()
            .any(|r| open_or_closed_start(r).is_some_and(|s| s >= 1 << 20)),
        "nothing asked for the bytes after the prefix: {ranges:?}"
    );
}

/// The first byte of any `bytes=FIRST-[LAST]` range.
fn open_or_closed_start(range: &str) -> Option<u64> {
    range
        .strip_prefix("bytes=")?
        .split('-')
        .next()?
        .parse()
        .ok()
}
