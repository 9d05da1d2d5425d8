//! `cargo xtask interop [--release] [--keep]`: swarmget against a real nginx on loopback.
//!
//! Installs Debian's nginx and openssl when missing, builds swarmget, generates a test CA
//! and random files in a scratch directory, starts nginx on free 127.0.0.1 ports and runs
//! one swarmget process per case. Every download is checked byte for byte (SHA-256) and
//! every failure by its aria2 exit code. Nothing is skipped: a missing server is an error,
//! because CI must exercise this. `--keep` leaves the scratch directory (files, nginx
//! logs, each case's swarmget output) for a post-mortem.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::binary::build_swarmget;
use crate::child::wait_or_kill;
use crate::cmd::apt_install;
use crate::nginx::{self, Nginx};
use crate::payload::Payload;
use crate::scratch::ScratchDir;
use crate::tls::TestPki;

/// Big enough that 16 connections each get several 1 MiB pieces.
const BIG_LEN: u64 = 64 << 20;
/// Prime, so the last piece is short whatever the piece size.
const SMALL_LEN: u64 = 1_000_003;
/// A debug build fetches 64 MiB over loopback in seconds; anything near this is a hang.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// aria2's exit codes the cases expect.
const EXIT_NOT_FOUND: i32 = 3;
const EXIT_CHECKSUM: i32 = 32;

type Check = fn(&Env, &Path) -> Result<(), String>;

const CASES: &[(&str, Check)] = &[
    ("http -x1", http_single),
    ("http -x16 -s16 -k1M", http_split),
    ("http odd-sized small file -x16 -s16 -k1M", http_small),
    ("https --ca-certificate -x16 -s16 -k1M", https_split),
    ("https --ca-certificate -x1 small file", https_small),
    ("https without the CA fails", https_untrusted),
    ("--checksum=sha-256 matching", checksum_ok),
    ("--checksum=sha-256 wrong -> exit 32", checksum_wrong),
    ("resume with -c after SIGKILL", resume_after_kill),
    ("404 -> exit 3", not_found),
];

pub fn run(args: &[String]) -> Result<(), String> {
    let (mut release, mut keep) = (false, false);
    for a in args {
        match a.as_str() {
            "--release" => release = true,
            "--keep" => keep = true,
            other => return Err(format!("interop: unexpected argument `{other}`")),
        }
    }
    let nginx_bin = nginx::binary()?;
    apt_install(&["openssl"]).map_err(|e| {
        format!("openssl is required for the test CA and could not be installed: {e}")
    })?;
    let swarmget = build_swarmget(release)?;

    let mut scratch = ScratchDir::new("interop")?;
    if keep {
        scratch.keep();
    }
    let www = scratch.subdir("www")?;
    let big = Payload::random(&www, "big.bin", BIG_LEN)?;
    let small = Payload::random(&www, "small.bin", SMALL_LEN)?;
    let pki = TestPki::generate(&scratch.subdir("tls")?)?;
    let server = Nginx::start(&nginx_bin, &scratch.path().join("nginx"), &www, &pki)?;
    println!(
        "interop: nginx {} serving {} and {} (swarmget: {})",
        server.pid(),
        server.url(false, ""),
        server.url(true, ""),
        swarmget.display()
    );
    let env = Env {
        swarmget,
        server,
        pki,
        big,
        small,
    };

    let (mut passed, mut failed) = (0, Vec::new());
    for (i, (name, check)) in CASES.iter().enumerate() {
        print!("interop: {name} ... ");
        let _ = std::io::stdout().flush();
        let started = Instant::now();
        let result = scratch
            .subdir(&format!("case-{i:02}"))
            .and_then(|dir| check(&env, &dir));
        match result {
            Ok(()) => {
                passed += 1;
                println!("ok ({:.2} s)", started.elapsed().as_secs_f64());
            }
            Err(e) => {
                println!("FAILED\n{}", indent(&e));
                failed.push(*name);
            }
        }
    }
    // Stop nginx before the scratch directory it lives in goes away.
    drop(env);
    println!("interop: {passed} passed, {} failed", failed.len());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("interop failed: {}", failed.join("; ")))
    }
}

/// What every case shares: the binary, the server and the files it serves.
struct Env {
    swarmget: PathBuf,
    server: Nginx,
    pki: TestPki,
    big: Payload,
    small: Payload,
}

/// How one swarmget process ended.
struct Outcome {
    /// The exit code; `None` when a signal ended it.
    code: Option<i32>,
    /// Its stdout and stderr.
    log: PathBuf,
}

impl Outcome {
    fn expect(&self, want: i32) -> Result<(), String> {
        match self.code {
            Some(code) if code == want => Ok(()),
            Some(code) => Err(format!(
                "exit code {code}, expected {want}\n{}",
                self.tail()
            )),
            None => Err(format!(
                "killed by a signal, expected exit {want}\n{}",
                self.tail()
            )),
        }
    }

    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(15);
        format!(
            "swarmget output ({}):\n{}",
            self.log.display(),
            lines[start..].join("\n")
        )
    }
}

impl Env {
    /// `swarmget --no-conf -d DIR/out ARGS...`, output to `DIR/<log_name>`.
    fn command(
        &self,
        dir: &Path,
        log_name: &str,
        args: &[&str],
    ) -> Result<(Command, PathBuf), String> {
        let log = dir.join(log_name);
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new(&self.swarmget);
        // --no-conf: a developer's ~/.config/aria2/aria2.conf must not change the cases.
        cmd.arg("--no-conf")
            .arg("-d")
            .arg(dir.join("out"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        Ok((cmd, log))
    }

    /// Runs swarmget to completion (or kills it at [`RUN_LIMIT`]).
    fn run(&self, dir: &Path, args: &[&str]) -> Result<Outcome, String> {
        let (mut cmd, log) = self.command(dir, "swarmget.log", args)?;
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start swarmget: {e}"))?;
        let status = wait_or_kill(&mut child, RUN_LIMIT).map_err(|e| e.to_string())?;
        let outcome = Outcome {
            code: status.and_then(|s| s.code()),
            log,
        };
        if status.is_none() {
            return Err(format!(
                "still running after {} s: killed (swarmget {})\n{}",
                RUN_LIMIT.as_secs(),
                args.join(" "),
                outcome.tail()
            ));
        }
        Ok(outcome)
    }

    fn ca_option(&self) -> String {
        format!("--ca-certificate={}", self.pki.ca.display())
    }

    /// Downloads `payload` with `options`, expects exit 0 and the exact bytes.
    fn fetch(
        &self,
        dir: &Path,
        tls: bool,
        payload: &Payload,
        options: &[&str],
    ) -> Result<(), String> {
        let url = self.server.url(tls, &payload.name);
        let ca = self.ca_option();
        let mut args = options.to_vec();
        if tls {
            args.push(&ca);
        }
        args.push(&url);
        self.run(dir, &args)?.expect(0)?;
        payload.verify(&dir.join("out").join(&payload.name))
    }
}

const SPLIT: &[&str] = &["-x16", "-s16", "-k1M"];

fn http_single(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch(dir, false, &env.big, &["-x1", "-s1"])
}

fn http_split(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch(dir, false, &env.big, SPLIT)
}

fn http_small(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch(dir, false, &env.small, SPLIT)
}

fn https_split(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch(dir, true, &env.big, SPLIT)
}

fn https_small(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch(dir, true, &env.small, &["-x1", "-s1"])
}

fn https_untrusted(env: &Env, dir: &Path) -> Result<(), String> {
    let url = env.server.url(true, &env.small.name);
    let outcome = env.run(dir, &["-x1", "-s1", &url])?;
    match outcome.code {
        Some(0) => Err(format!(
            "exit 0: a certificate from an unknown CA was accepted\n{}",
            outcome.tail()
        )),
        Some(_) => Ok(()),
        None => Err(format!("killed by a signal\n{}", outcome.tail())),
    }
}

fn checksum_ok(env: &Env, dir: &Path) -> Result<(), String> {
    let checksum = format!("--checksum=sha-256={}", env.small.sha256);
    env.fetch(dir, false, &env.small, &["-x1", "-s1", &checksum])
}

fn checksum_wrong(env: &Env, dir: &Path) -> Result<(), String> {
    // A well-formed digest of other bytes.
    let checksum = format!("--checksum=sha-256={}", env.big.sha256);
    let url = env.server.url(false, &env.small.name);
    env.run(dir, &["-x1", "-s1", &checksum, &url])?
        .expect(EXIT_CHECKSUM)
}

fn not_found(env: &Env, dir: &Path) -> Result<(), String> {
    let url = env.server.url(false, "no-such-file.bin");
    env.run(dir, &["-x1", "-s1", &url])?
        .expect(EXIT_NOT_FOUND)?;
    let out = dir.join("out").join("no-such-file.bin");
    if out.exists() {
        return Err(format!("{} was created for a 404", out.display()));
    }
    Ok(())
}

/// A rate-limited download killed with SIGKILL once its control file is on disk, then
/// `-c`: the result must be exact, the control file gone, and the second run must not
/// have fetched every byte again (seen in nginx's access log by user agent).
fn resume_after_kill(env: &Env, dir: &Path) -> Result<(), String> {
    const FIRST: &str = "swarmget-interop/first";
    const SECOND: &str = "swarmget-interop/resume";
    const KILL_AFTER: Duration = Duration::from_millis(2500);
    let url = env.server.url(false, &env.big.name);
    let out = dir.join("out").join(&env.big.name);
    let control = dir.join("out").join(format!("{}.swarmget", env.big.name));
    let options = ["-x4", "-s4", "-k1M"];

    let mut first_args = options.to_vec();
    first_args.extend(["--max-download-limit=12M", "-U", FIRST, &url]);
    let (mut cmd, log) = env.command(dir, "first.log", &first_args)?;
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start swarmget: {e}"))?;
    let started = Instant::now();
    let first_log = || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        format!(
            "first run's output ({}):\n{}",
            log.display(),
            text.trim_end()
        )
    };
    // Kill once the control file exists and has been saved with progress in it: swarmget
    // writes it at the start and then every second (--auto-save-interval=1), so after
    // 2.5 s at 12 MiB/s it records roughly half the file.
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!(
                "the rate-limited first run ended ({status}) before it could be killed\n{}",
                first_log()
            ));
        }
        let elapsed = started.elapsed();
        if elapsed >= KILL_AFTER && control.exists() {
            break;
        }
        if elapsed >= Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "no control file {} after 10 s\n{}",
                control.display(),
                first_log()
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().map_err(|e| format!("SIGKILL: {e}"))?;
    let _ = child.wait();
    if !out.exists() {
        return Err(format!("no partial {} after the kill", out.display()));
    }

    let mut second_args = options.to_vec();
    second_args.extend(["-c", "-U", SECOND, &url]);
    env.run(dir, &second_args)?.expect(0)?;
    env.big.verify(&out)?;
    if control.exists() {
        return Err(format!(
            "{} is still there after the download finished",
            control.display()
        ));
    }
    let refetched = bytes_covered(&env.server.access_log(), SECOND)?;
    if refetched >= env.big.len {
        return Err(format!(
            "the -c run fetched every byte of the file ({} bytes): nothing was resumed",
            env.big.len
        ));
    }
    Ok(())
}

/// How many distinct bytes of the file nginx sent to requests with user agent `agent`:
/// the union of `[range start, range start + bytes sent)` over its requests, so pieces
/// fetched twice count once and an open-ended range counts only what was sent.
fn bytes_covered(access_log: &Path, agent: &str) -> Result<u64, String> {
    let text = std::fs::read_to_string(access_log)
        .map_err(|e| format!("{}: {e}", access_log.display()))?;
    covered(&text, agent)
        .map_err(|line| format!("{}: unreadable line `{line}`", access_log.display()))
}

/// [`bytes_covered`] on the log's text; the error is the line it could not read.
fn covered(log: &str, agent: &str) -> Result<u64, String> {
    let mut spans = Vec::new();
    for line in log.lines() {
        // status bytes "agent" "request" "range"
        let fields: Vec<&str> = line.split('"').collect();
        if fields.get(1) != Some(&agent) {
            continue;
        }
        let unreadable = || line.to_string();
        let sent: u64 = fields[0]
            .split_whitespace()
            .nth(1)
            .and_then(|b| b.parse().ok())
            .ok_or_else(unreadable)?;
        // "-" (no Range header) starts at 0; "bytes=A-" and "bytes=A-B" at A.
        let start: u64 = match fields.get(5).and_then(|r| r.strip_prefix("bytes=")) {
            Some(range) => range
                .split('-')
                .next()
                .and_then(|a| a.parse().ok())
                .ok_or_else(unreadable)?,
            None => 0,
        };
        spans.push((start, start + sent));
    }
    spans.sort_unstable();
    let (mut covered, mut reach) = (0, 0);
    for (start, end) in spans {
        let from = start.max(reach);
        if end > from {
            covered += end - from;
            reach = end;
        }
    }
    Ok(covered)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}\n"))
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::covered;

    #[test]
    fn coverage_counts_overlaps_once_and_open_ranges_by_bytes_sent() {
        let log = "\
206 4160217 \"b\" \"GET /big.bin HTTP/1.1\" \"bytes=0-\"
206 100 \"a\" \"GET /big.bin HTTP/1.1\" \"bytes=0-\"
206 2097152 \"b\" \"GET /big.bin HTTP/1.1\" \"bytes=19922944-22020095\"
206 1048576 \"b\" \"GET /big.bin HTTP/1.1\" \"bytes=20971520-22020095\"
206 5946119 \"b\" \"GET /big.bin HTTP/1.1\" \"bytes=16777216-26214399\"
200 10 \"c\" \"GET /small.bin HTTP/1.1\" \"-\"
";
        // [0, 4160217) and [16777216, 22723335) ∪ [19922944, 22020096) ∪ [20971520, 22020096).
        assert_eq!(covered(log, "b"), Ok(4160217 + 5946119));
        assert_eq!(covered(log, "a"), Ok(100));
        assert_eq!(covered(log, "c"), Ok(10));
        assert_eq!(covered(log, "nobody"), Ok(0));
    }

    #[test]
    fn coverage_rejects_a_line_without_a_byte_count() {
        let line = "206 - \"b\" \"GET / HTTP/1.1\" \"bytes=0-\"";
        assert_eq!(covered(line, "b"), Err(line.to_string()));
    }
}
