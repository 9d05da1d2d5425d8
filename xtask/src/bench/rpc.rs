//! `cargo xtask bench rpc [--runs N] [--files N]`
//!
//! The RPC daemon holding a queue: swarmget and aria2c each started with
//! `--enable-rpc --pause` and an `-i` list of 1,000 (by default) downloads, so all of
//! them wait, paused, and nothing is fetched (the URIs name a closed loopback port).
//! Once a daemon lists every download, one keep-alive HTTP connection sends
//! [`CALLS`] pairs of `aria2.tellActive` + `aria2.tellWaiting(0, N)` (whole statuses,
//! as a front-end polling the queue asks for them) after [`WARMUP`] unmeasured pairs;
//! a pair's latency is from the first request written to the second answer read
//! whole. Each answer must list the N downloads. Then the daemon's resident memory
//! (`VmRSS`, and the peak `VmHWM`) is read from /proc. Then a second connection
//! pipelines [`FLOOD`] `aria2.tellStatus` calls (written as fast as the socket takes
//! them while another thread reads the answers): the calls answered per second and the
//! peak memory after them. Then the daemon is shut down over RPC.
//! The daemons take turns, run after run; the medians go to stdout and
//! `target/bench-rpc.md`.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::compare::{Options, Setup, git_revision, loadavg, machine, today, version};
use crate::binary::target_dir;
use crate::child::wait_or_kill;
use crate::loopback::free_ports;

/// Measured pairs of calls per run.
const CALLS: usize = 200;
/// Pairs sent first and not measured (caches, allocator, page faults).
const WARMUP: usize = 10;
/// How long a daemon may take to list the whole queue.
const READY_LIMIT: Duration = Duration::from_secs(120);
const SECRET: &str = "bench";
/// `tellStatus` calls pipelined on one connection per run.
const FLOOD: usize = 20_000;

#[derive(Clone, Copy, PartialEq)]
enum Daemon {
    Swarmget,
    Aria2c,
}

impl Daemon {
    fn label(self) -> &'static str {
        match self {
            Daemon::Swarmget => "swarmget",
            Daemon::Aria2c => "aria2c",
        }
    }
}

/// One run's figures.
#[derive(Clone, Copy)]
struct Sample {
    /// Median and 90th percentile of a pair's latency, milliseconds.
    median_ms: f64,
    p90_ms: f64,
    /// Resident memory after the calls, and its peak, MiB.
    rss_mib: f64,
    peak_mib: f64,
    /// Pipelined `tellStatus` calls answered per second, and the peak memory after.
    flood_per_s: f64,
    flood_peak_mib: f64,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse("rpc", args)?;
    let setup = Setup::prepare(options)?;
    let n = setup.options.files;
    // Port 9 (discard) on loopback: never listened on here, never contacted (paused).
    let list = setup.scratch.path().join("queue.txt");
    let mut text = String::new();
    for i in 0..n {
        let _ = writeln!(text, "http://127.0.0.1:9/f{i:05}.bin");
    }
    std::fs::write(&list, text).map_err(|e| format!("{}: {e}", list.display()))?;
    let load_before = loadavg();
    let mut samples: Vec<(Daemon, Vec<Sample>)> =
        vec![(Daemon::Swarmget, Vec::new()), (Daemon::Aria2c, Vec::new())];
    let mut failures = Vec::new();
    for run in 1..=setup.options.runs {
        for (daemon, got) in &mut samples {
            match measure(&setup, *daemon, &list, n) {
                Ok(s) => {
                    println!(
                        "bench: run {run}/{}  {:<9} pair {:6.2} ms median, {:6.2} ms p90; \
                         RSS {:6.1} MiB (peak {:6.1}); {:7.0} tellStatus/s pipelined \
                         (peak {:6.1} MiB)",
                        setup.options.runs,
                        daemon.label(),
                        s.median_ms,
                        s.p90_ms,
                        s.rss_mib,
                        s.peak_mib,
                        s.flood_per_s,
                        s.flood_peak_mib
                    );
                    got.push(s);
                }
                Err(e) => {
                    println!("bench: run {run}  {} FAILED: {e}", daemon.label());
                    failures.push(format!("{} (run {run}): {e}", daemon.label()));
                }
            }
        }
    }
    let load_after = loadavg();
    let mut md = String::new();
    let _ = writeln!(md, "`{}`, {}.\n", setup.options.command_line(), today());
    let _ = writeln!(
        md,
        "Each daemon started with `--enable-rpc --pause -i` of {n} downloads (all queued, \
         paused, nothing fetched); {CALLS} pairs of `aria2.tellActive` + \
         `aria2.tellWaiting(0, {n})` (whole statuses) on one keep-alive connection after \
         {WARMUP} unmeasured; RSS from /proc after the calls; then {FLOOD} `aria2.tellStatus` \
         calls pipelined on a second connection (calls answered per second, peak RSS \
         after them). {} run(s) per daemon in \
         turns, median of the runs. Machine: {}; load average {} before, {} after.\n",
        setup.options.runs,
        machine(),
        load_before,
        load_after
    );
    let _ = writeln!(
        md,
        "Daemons: swarmget {} (release); {}.\n",
        git_revision(),
        version("aria2c", &["--version"])
    );
    md.push_str(
        "| daemon | pair latency, median | p90 | RSS | peak RSS | pipelined tellStatus | \
         peak RSS after |\n",
    );
    md.push_str("|---|---|---|---|---|---|---|\n");
    let mut medians = Vec::new();
    for (daemon, got) in &samples {
        if got.is_empty() {
            continue;
        }
        let m = |f: fn(&Sample) -> f64| median(got.iter().map(f).collect());
        let row = (
            m(|s| s.median_ms),
            m(|s| s.p90_ms),
            m(|s| s.rss_mib),
            m(|s| s.peak_mib),
            m(|s| s.flood_per_s),
            m(|s| s.flood_peak_mib),
        );
        let _ = writeln!(
            md,
            "| {} | {:.2} ms | {:.2} ms | {:.1} MiB | {:.1} MiB | {:.0}/s | {:.1} MiB |",
            daemon.label(),
            row.0,
            row.1,
            row.2,
            row.3,
            row.4,
            row.5
        );
        medians.push((*daemon, row));
    }
    if let [(Daemon::Swarmget, s), (Daemon::Aria2c, a)] = medians[..] {
        let _ = writeln!(
            md,
            "\nswarmget / aria2c: latency {:.2}, RSS {:.2}, peak RSS {:.2} (below 1: swarmget \
             is faster or smaller); pipelined calls per second {:.2} (above 1: swarmget \
             answers more), peak RSS after them {:.2}.",
            s.0 / a.0,
            s.2 / a.2,
            s.3 / a.3,
            s.4 / a.4,
            s.5 / a.5
        );
    }
    println!("\n{md}");
    let path = target_dir().join("bench-rpc.md");
    std::fs::write(&path, &md).map_err(|e| format!("{}: {e}", path.display()))?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!("bench rpc: failed runs: {}", failures.join("; ")))
    }
}

/// One run of `daemon`: start it on `list`, wait for the whole queue, measure, stop it.
fn measure(setup: &Setup, daemon: Daemon, list: &Path, n: usize) -> Result<Sample, String> {
    let port = free_ports(1)?[0];
    let out = setup.scratch.subdir(&format!("out-{}", daemon.label()))?;
    let program = match daemon {
        Daemon::Swarmget => setup.swarmget().to_path_buf(),
        Daemon::Aria2c => "aria2c".into(),
    };
    let mut child = Command::new(program)
        .arg("--enable-rpc")
        .arg(format!("--rpc-listen-port={port}"))
        .arg(format!("--rpc-secret={SECRET}"))
        .args(["--pause=true", "--quiet=true", "--no-conf=true"])
        .arg("-i")
        .arg(list)
        .arg("-d")
        .arg(&out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", daemon.label()))?;
    let result = measure_running(&mut child, port, n);
    // Shut down over RPC (the queue is paused: nothing to finish); killed if it hangs.
    if let Ok(mut rpc) = Rpc::connect(port) {
        let _ = rpc.call(&request("aria2.forceShutdown", ""));
    }
    let _ = wait_or_kill(&mut child, Duration::from_secs(30));
    let _ = std::fs::remove_dir_all(&out);
    result
}

fn measure_running(child: &mut Child, port: u16, n: usize) -> Result<Sample, String> {
    let waiting = request("aria2.tellWaiting", &format!(",0,{n}"));
    let active = request("aria2.tellActive", "");
    // Ready once the whole queue is listed.
    let end = Instant::now() + READY_LIMIT;
    let mut rpc = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("the daemon exited with {status}"));
        }
        if let Ok(mut rpc) = Rpc::connect(port)
            && rpc.call(&waiting).is_ok_and(|body| gids(&body) == n)
        {
            break rpc;
        }
        if Instant::now() >= end {
            return Err(format!("the daemon did not list {n} downloads in time"));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut times = Vec::with_capacity(CALLS);
    for i in 0..WARMUP + CALLS {
        let start = Instant::now();
        let a = rpc.call(&active)?;
        let w = rpc.call(&waiting)?;
        let took = start.elapsed();
        if !a.contains("\"result\":[]") || gids(&w) != n {
            return Err(format!(
                "unexpected answers: tellActive {:.80}, tellWaiting with {} GIDs",
                a,
                gids(&w)
            ));
        }
        if i >= WARMUP {
            times.push(took.as_secs_f64() * 1000.0);
        }
    }
    let (rss, peak) = memory(child.id())?;
    times.sort_by(f64::total_cmp);
    let gid = first_gid(&rpc.call(&waiting)?).ok_or("tellWaiting listed no GID")?;
    let flood_per_s = flood(port, &gid)?;
    let (_, flood_peak) = memory(child.id())?;
    Ok(Sample {
        median_ms: times[times.len() / 2],
        p90_ms: times[times.len() * 9 / 10],
        rss_mib: rss,
        peak_mib: peak,
        flood_per_s,
        flood_peak_mib: flood_peak,
    })
}

/// [`FLOOD`] `tellStatus` calls of `gid` pipelined on one new connection: written by
/// another thread as fast as the socket takes them, answered in order; calls per
/// second from the first write to the last answer.
fn flood(port: u16, gid: &str) -> Result<f64, String> {
    let mut rpc = Rpc::connect(port)?;
    let body = request("aria2.tellStatus", &format!(r#","{gid}""#));
    let one = post(&body);
    let mut writer = rpc.stream.try_clone().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let sender = std::thread::spawn(move || -> Result<(), String> {
        let batch = one.repeat(100);
        for _ in 0..FLOOD / 100 {
            writer.write_all(&batch).map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    for i in 0..FLOOD {
        let answer = rpc.answer()?;
        if !answer.contains(gid) {
            return Err(format!("pipelined answer {i} is not {gid}'s: {answer:.80}"));
        }
    }
    let took = start.elapsed();
    sender
        .join()
        .map_err(|_| "the writer panicked".to_string())??;
    Ok(FLOOD as f64 / took.as_secs_f64())
}

/// The first GID an answer names.
fn first_gid(body: &str) -> Option<String> {
    let at = body.find("\"gid\":\"")? + 7;
    body.get(at..at + 16).map(str::to_string)
}

/// A keep-alive `POST /jsonrpc` of `body`.
fn post(body: &str) -> Vec<u8> {
    let head = format!(
        "POST /jsonrpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body.as_bytes()].concat()
}

/// A JSON-RPC request body for `method`; `rest` follows the token in `params`.
fn request(method: &str, rest: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":"b","method":"{method}","params":["token:{SECRET}"{rest}]}}"#)
}

/// How many statuses an answer lists (each has one `"gid"` key).
fn gids(body: &str) -> usize {
    body.matches("\"gid\":").count()
}

/// `VmRSS` and `VmHWM` of `pid`, MiB.
fn memory(pid: u32) -> Result<(f64, f64), String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    let field = |name: &str| -> Result<f64, String> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kib| kib / 1024.0)
            .ok_or_else(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One keep-alive HTTP/1.1 connection to a daemon's `/jsonrpc`.
struct Rpc {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Rpc {
    fn connect(port: u16) -> Result<Rpc, String> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Rpc {
            stream,
            buf: Vec::new(),
        })
    }

    /// Posts `body` and returns the answer's body.
    fn call(&mut self, body: &str) -> Result<String, String> {
        self.stream
            .write_all(&post(body))
            .map_err(|e| e.to_string())?;
        self.answer()
    }

    /// The next answer's body.
    fn answer(&mut self) -> Result<String, String> {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            self.fill()?;
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| format!("an answer without Content-Length: {head}"))?;
        while self.buf.len() < end + len {
            self.fill()?;
        }
        let body = String::from_utf8_lossy(&self.buf[end..end + len]).into_owned();
        self.buf.drain(..end + len);
        Ok(body)
    }

    fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 64 << 10];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err("the daemon closed the connection".into()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}
