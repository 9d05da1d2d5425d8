//! `cargo xtask interop [--release] [--keep] [FILTER]`: swarmget against real servers and
//! clients on loopback: nginx (HTTP, HTTPS, web seeds), vsftpd and pyftpdlib (FTP, FTP web
//! seeds), tinyproxy (HTTP proxy) and microsocks (SOCKS5); aria2c on the same Metalink
//! documents; BitTorrent with libtorrent, aria2c, Transmission (transmission-cli and
//! transmission-daemon) and qBittorrent seeding to and leeching from swarmget, opentracker
//! as the HTTP and UDP tracker. With FILTER, only the cases whose name contains it run.
//!
//! Installs Debian's nginx, vsftpd, python3-pyftpdlib, tinyproxy, microsocks, aria2,
//! openssl, python3-libtorrent, opentracker, transmission-cli, transmission-daemon,
//! qbittorrent-nox and curl when missing, builds swarmget, generates a test CA and random
//! files in a scratch directory, starts the servers on free 127.0.0.1 ports and runs one
//! swarmget process per case. Every download is checked byte for byte (SHA-256) and every
//! failure by its aria2 exit code. Nothing is skipped: a missing server is an error,
//! because CI must exercise this. `--keep` leaves the scratch directory (files, server
//! logs, each case's swarmget output) for a post-mortem.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::binary::build_swarmget;
use crate::child::wait_or_kill;
use crate::cmd::apt_install;
use crate::nginx::{self, Nginx};
use crate::payload::{Payload, write_random};
use crate::proxies::{self, Proxy};
use crate::pyftpd::{self, PyFtpd};
use crate::scratch::ScratchDir;
use crate::tls::TestPki;
use crate::vsftpd::{self, Vsftpd};

mod bt;
mod metalink;
mod proxy;
mod qbittorrent;
mod transmission_daemon;
mod web_seed;

/// Big enough that 16 connections each get several 1 MiB pieces.
const BIG_LEN: u64 = 64 << 20;
/// Prime, so the last piece is short whatever the piece size.
const SMALL_LEN: u64 = 1_000_003;
/// The Metalink cases' file: a few MiB, not a whole number of chunks.
const META_LEN: u64 = (4 << 20) + 12_345;
/// A debug build fetches 64 MiB over loopback in seconds; anything near this is a hang.
const RUN_LIMIT: Duration = Duration::from_secs(120);
/// How long vsftpd's sessions may take to end once their client has.
const SESSION_END_LIMIT: Duration = Duration::from_secs(10);

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
    (
        "https without the CA -> exit 6, unknown issuer",
        https_untrusted,
    ),
    ("--checksum=sha-256 matching", checksum_ok),
    ("--checksum=sha-256 wrong -> exit 32", checksum_wrong),
    ("resume with -c after SIGKILL", http_resume),
    ("404 -> exit 3", http_not_found),
    ("ftp vsftpd -x1", ftp_single),
    ("ftp vsftpd -x8 -s8 -k1M", ftp_split),
    (
        "ftp vsftpd active mode --ftp-pasv=false -x4 -s4 -k1M",
        ftp_active,
    ),
    ("ftp pyftpdlib --ftp-user --ftp-passwd -x1", pyftpd_single),
    (
        "ftp pyftpdlib user:password@ URI -x8 -s8 -k1M",
        pyftpd_split,
    ),
    ("ftp resume with -c after SIGKILL (vsftpd)", ftp_resume),
    (
        "http: SIGKILL, file replaced (same length, new ETag), -c -> the new file",
        http_changed_resume,
    ),
    (
        "ftp vsftpd: SIGKILL, file replaced (same length, new MDTM), -c -> the new file",
        ftp_changed_resume,
    ),
    ("http + ftp mirrors of one file -x4 -s8 -k1M", mixed_mirrors),
    ("ftp missing file -> exit 3", ftp_not_found),
    (
        "metalink nginx + vsftpd mirrors, sha-1 chunks; same bytes as aria2c",
        metalink::two_mirrors,
    ),
    (
        "metalink two files, one in sub/dir/; same tree as aria2c",
        metalink::multi_file,
    ),
    (
        "metalink with a wrong chunk sha-1 -> no success",
        metalink::wrong_chunk_hash,
    ),
    (
        "metalink naming ../escape.bin -> exit 20",
        metalink::escape_refused,
    ),
    (
        "proxy: http through tinyproxy with Basic auth -x4 -s4 -k1M",
        proxy::http_get,
    ),
    (
        "proxy: https through tinyproxy CONNECT, origin certificate checked",
        proxy::https_connect,
    ),
    (
        "proxy: tinyproxy without credentials -> exit 22",
        proxy::http_407,
    ),
    (
        "proxy: http through microsocks socks5h with user/password -x4 -s4 -k1M",
        proxy::socks_http,
    ),
    ("proxy: https through microsocks socks5", proxy::socks_https),
    (
        "proxy: ftp vsftpd through tinyproxy CONNECT tunnels (control and data) -x4 -s4 -k1M",
        proxy::ftp_tunnel,
    ),
    (
        "proxy: ftp pyftpdlib through microsocks socks5 (control and data) -x4 -s4 -k1M",
        proxy::ftp_socks,
    ),
    (
        "bittorrent: a torrent from aria2c seeding it (-V, http tracker)",
        bt::from_aria2c,
    ),
    (
        "bittorrent: aria2c downloads a torrent from swarmget seeding it",
        bt::to_aria2c,
    ),
    (
        "bittorrent: a torrent from libtorrent seeding it",
        bt::from_libtorrent,
    ),
    (
        "bittorrent: libtorrent downloads a torrent from swarmget seeding it (-V)",
        bt::to_libtorrent,
    ),
    (
        "bittorrent: make-torrent's output read by transmission-show, seeded by libtorrent",
        bt::made_torrent,
    ),
    (
        "bittorrent: a magnet link (info-hash only) from libtorrent found through the DHT",
        bt::magnet_from_libtorrent_dht,
    ),
    (
        "bittorrent: a torrent from Transmission (transmission-cli) seeding it",
        bt::from_transmission,
    ),
    (
        "bittorrent: Transmission downloads 64 MiB from swarmget seeding it",
        bt::to_transmission,
    ),
    (
        "bittorrent: Transmission downloads a torrent from swarmget checking it (-V)",
        bt::to_transmission_checking,
    ),
    (
        "bittorrent: a torrent from qBittorrent (qbittorrent-nox) seeding it",
        qbittorrent::from_qbittorrent,
    ),
    (
        "bittorrent: qBittorrent downloads a torrent from swarmget seeding it",
        qbittorrent::to_qbittorrent,
    ),
    (
        "bittorrent: a magnet link whose x.pe names Transmission seeding it (no tracker, no DHT)",
        bt::magnet_x_pe_transmission,
    ),
    (
        "bittorrent: the only seeder (libtorrent) learnt by PEX from another libtorrent peer",
        bt::pex_from_libtorrent,
    ),
    (
        "bittorrent: a torrent from libtorrent through opentracker (http)",
        bt::opentracker_http,
    ),
    (
        "bittorrent: a torrent from libtorrent through opentracker (udp)",
        bt::opentracker_udp,
    ),
    (
        "bittorrent: a multi-file torrent from nginx as its web seed beside libtorrent",
        web_seed::beside_libtorrent,
    ),
    (
        "bittorrent: a torrent from transmission-daemon seeding it (added over its RPC)",
        transmission_daemon::from_daemon,
    ),
    (
        "bittorrent: a single-file torrent from nginx as its only web seed (no tracker)",
        web_seed::only_single_file,
    ),
    (
        "bittorrent: a multi-file torrent from nginx as its only web seed, pieces across files",
        web_seed::only_multi_file,
    ),
    (
        "bittorrent: a single-file torrent from pyftpdlib as its only web seed (ftp://)",
        web_seed::only_single_file_ftp,
    ),
    (
        "bittorrent: a multi-file torrent from vsftpd as its only web seed (ftp://), pieces across files",
        web_seed::only_multi_file_ftp,
    ),
    (
        "proxy: microsocks with a wrong password -> exit 24",
        proxy::socks_wrong_password,
    ),
];

pub fn run(args: &[String]) -> Result<(), String> {
    let (mut release, mut keep, mut filter) = (false, false, None);
    for a in args {
        match a.as_str() {
            "--release" => release = true,
            "--keep" => keep = true,
            other if !other.starts_with('-') && filter.is_none() => filter = Some(other),
            other => return Err(format!("interop: unexpected argument `{other}`")),
        }
    }
    let nginx_bin = nginx::binary()?;
    let vsftpd_bin = vsftpd::binary()?;
    apt_install(&["openssl"]).map_err(|e| {
        format!("openssl is required for the test CA and could not be installed: {e}")
    })?;
    apt_install(&["aria2"]).map_err(|e| {
        format!("aria2c is required to compare Metalink downloads and could not be installed: {e}")
    })?;
    apt_install(&["python3-libtorrent"]).map_err(|e| {
        format!("python3-libtorrent is required for the BitTorrent cases and could not be installed: {e}")
    })?;
    apt_install(&["opentracker"]).map_err(|e| {
        format!("opentracker is required for the BitTorrent cases and could not be installed: {e}")
    })?;
    apt_install(&["transmission-cli"]).map_err(|e| {
        format!(
            "transmission-cli is required for the BitTorrent cases and could not be installed: {e}"
        )
    })?;
    apt_install(&["transmission-daemon"]).map_err(|e| {
        format!(
            "transmission-daemon is required for the BitTorrent cases and could not be \
             installed: {e}"
        )
    })?;
    apt_install(&["qbittorrent-nox"]).map_err(|e| {
        format!(
            "qbittorrent-nox is required for the BitTorrent cases and could not be installed: {e}"
        )
    })?;
    apt_install(&["curl"]).map_err(|e| {
        format!("curl is required to drive qBittorrent and could not be installed: {e}")
    })?;
    let swarmget = build_swarmget(release)?;

    let mut scratch = ScratchDir::new("interop")?;
    if keep {
        scratch.keep();
    }
    let www = scratch.subdir("www")?;
    let big = Payload::random(&www, "big.bin", BIG_LEN)?;
    let small = Payload::random(&www, "small.bin", SMALL_LEN)?;
    let meta = Payload::random(&www, "meta.bin", META_LEN)?;
    let pki = TestPki::generate(&scratch.subdir("tls")?)?;
    let server = Nginx::start(&nginx_bin, &scratch.path().join("nginx"), &www, &pki)?;
    let vsftpd = Vsftpd::start(&vsftpd_bin, &scratch.path().join("vsftpd"), &www)?;
    let pyftpd = PyFtpd::start(&scratch.path().join("pyftpdlib"), &www)?;
    let tinyproxy = proxies::tinyproxy(&scratch.path().join("tinyproxy"))?;
    let socks = proxies::microsocks(&scratch.path().join("microsocks"))?;
    println!(
        "interop: nginx {} serving {} and {}, vsftpd {} serving {}, pyftpdlib serving {} \
         (swarmget: {})",
        server.pid(),
        server.url(false, ""),
        server.url(true, ""),
        vsftpd.pid(),
        vsftpd.url(""),
        pyftpd.url(""),
        swarmget.display()
    );
    let env = Env {
        swarmget,
        server,
        vsftpd,
        pyftpd,
        tinyproxy,
        socks,
        pki,
        www,
        big,
        small,
        meta,
    };

    let (mut passed, mut failed) = (0, Vec::new());
    for (i, (name, check)) in CASES.iter().enumerate() {
        if filter.is_some_and(|f| !name.contains(f)) {
            continue;
        }
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
    // Stop the servers before the scratch directory they live in goes away.
    drop(env);
    println!("interop: {passed} passed, {} failed", failed.len());
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!("interop failed: {}", failed.join("; ")))
    }
}

/// What every case shares: the binary, the servers and the files they serve.
struct Env {
    swarmget: PathBuf,
    server: Nginx,
    vsftpd: Vsftpd,
    pyftpd: PyFtpd,
    tinyproxy: Proxy,
    socks: Proxy,
    pki: TestPki,
    /// The directory every server serves.
    www: PathBuf,
    big: Payload,
    small: Payload,
    /// The Metalink cases' file.
    meta: Payload,
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

    /// Downloads `payload` from `urls` (mirrors of one file) with `options`, expects
    /// exit 0 and the exact bytes.
    fn fetch(
        &self,
        dir: &Path,
        urls: &[String],
        payload: &Payload,
        options: &[&str],
    ) -> Result<(), String> {
        let mut args = options.to_vec();
        args.extend(urls.iter().map(String::as_str));
        self.run(dir, &args)?.expect(0)?;
        payload.verify(&dir.join("out").join(&payload.name))
    }

    /// [`Env::fetch`] from nginx, over HTTPS with the test CA when `tls`.
    fn fetch_http(
        &self,
        dir: &Path,
        tls: bool,
        payload: &Payload,
        options: &[&str],
    ) -> Result<(), String> {
        let ca = self.ca_option();
        let mut args = options.to_vec();
        if tls {
            args.push(&ca);
        }
        self.fetch(dir, &[self.server.url(tls, &payload.name)], payload, &args)
    }
}

const SPLIT: &[&str] = &["-x16", "-s16", "-k1M"];

fn http_single(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch_http(dir, false, &env.big, &["-x1", "-s1"])
}

fn http_split(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch_http(dir, false, &env.big, SPLIT)
}

fn http_small(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch_http(dir, false, &env.small, SPLIT)
}

fn https_split(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch_http(dir, true, &env.big, SPLIT)
}

fn https_small(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch_http(dir, true, &env.small, &["-x1", "-s1"])
}

/// No `--ca-certificate`: the test CA is unknown, so the handshake must fail with the
/// certificate named as the reason. The exit code is swarmget's network problem, 6
/// (aria2 1.36 exits 1, as for every socket error; see the README).
fn https_untrusted(env: &Env, dir: &Path) -> Result<(), String> {
    let url = env.server.url(true, &env.small.name);
    let outcome = env.run(dir, &["-x1", "-s1", "--max-tries=1", &url])?;
    outcome.expect(6)?;
    let log = std::fs::read_to_string(&outcome.log).map_err(|e| e.to_string())?;
    if !log.contains("invalid peer certificate: UnknownIssuer") {
        return Err(format!(
            "exit 6, but the output does not name the unknown issuer\n{}",
            outcome.tail()
        ));
    }
    if dir.join("out").join(&env.small.name).exists() {
        return Err("the file was created from an untrusted server".into());
    }
    Ok(())
}

fn checksum_ok(env: &Env, dir: &Path) -> Result<(), String> {
    let checksum = format!("--checksum=sha-256={}", env.small.sha256);
    env.fetch_http(dir, false, &env.small, &["-x1", "-s1", &checksum])
}

fn checksum_wrong(env: &Env, dir: &Path) -> Result<(), String> {
    // A well-formed digest of other bytes.
    let checksum = format!("--checksum=sha-256={}", env.big.sha256);
    let url = env.server.url(false, &env.small.name);
    env.run(dir, &["-x1", "-s1", &checksum, &url])?
        .expect(EXIT_CHECKSUM)
}

/// A 404: exit 3 and nothing created.
fn http_not_found(env: &Env, dir: &Path) -> Result<(), String> {
    let out = not_found(env, dir, &env.server)?;
    if out.exists() {
        return Err(format!("{} was created for a 404", out.display()));
    }
    Ok(())
}

/// A 550 to RETR: exit 3. aria2c leaves an empty file behind here (it opens the output
/// before RETR, as the SIZE reply is no proof that a file is missing); it must at least
/// hold no bytes.
fn ftp_not_found(env: &Env, dir: &Path) -> Result<(), String> {
    let out = not_found(env, dir, &env.vsftpd)?;
    match std::fs::metadata(&out) {
        Ok(meta) if meta.len() > 0 => Err(format!(
            "{} holds {} bytes of a missing file",
            out.display(),
            meta.len()
        )),
        _ => Ok(()),
    }
}

/// Asks `origin` for a file it does not have and expects exit 3; returns where the
/// download would have gone.
fn not_found(env: &Env, dir: &Path, origin: &dyn Origin) -> Result<PathBuf, String> {
    let url = origin.url("no-such-file.bin");
    env.run(dir, &["-x1", "-s1", &url])?
        .expect(EXIT_NOT_FOUND)?;
    Ok(dir.join("out").join("no-such-file.bin"))
}

const FTP_SPLIT: &[&str] = &["-x8", "-s8", "-k1M"];

fn ftp_single(env: &Env, dir: &Path) -> Result<(), String> {
    env.fetch(
        dir,
        &[env.vsftpd.url(&env.big.name)],
        &env.big,
        &["-x1", "-s1"],
    )
}

/// Eight sessions, each retrieving its runs with REST: the log must show transfers that
/// started past the beginning.
fn ftp_split(env: &Env, dir: &Path) -> Result<(), String> {
    let mark = env.vsftpd.log_mark()?;
    env.fetch(dir, &[env.vsftpd.url(&env.big.name)], &env.big, FTP_SPLIT)?;
    let spans = vsftpd::sent_spans(&env.vsftpd.log_since(mark)?, &env.big.name)
        .map_err(|line| format!("unreadable vsftpd log line `{line}`"))?;
    if !spans.iter().any(|&(start, _)| start > 0) {
        return Err(format!(
            "vsftpd logged no transfer after a REST ({} transfers): the file was not split",
            spans.len()
        ));
    }
    Ok(())
}

/// `--ftp-pasv=false`: the server connects to swarmget, announced by EPRT or PORT; the
/// log must show no passive command.
fn ftp_active(env: &Env, dir: &Path) -> Result<(), String> {
    let mark = env.vsftpd.log_mark()?;
    let options = ["--ftp-pasv=false", "-x4", "-s4", "-k1M"];
    env.fetch(dir, &[env.vsftpd.url(&env.big.name)], &env.big, &options)?;
    let log = env.vsftpd.log_since(mark)?;
    let sent = |command: &str| log.contains(&format!(", \"{command}"));
    if sent("EPSV") || sent("PASV") {
        return Err("vsftpd's log shows EPSV or PASV in active mode".into());
    }
    if !sent("EPRT ") && !sent("PORT ") {
        return Err("vsftpd's log shows neither EPRT nor PORT".into());
    }
    Ok(())
}

fn pyftpd_single(env: &Env, dir: &Path) -> Result<(), String> {
    let user = format!("--ftp-user={}", pyftpd::USER);
    let passwd = format!("--ftp-passwd={}", env.pyftpd.password());
    let url = env.pyftpd.url(&env.big.name);
    env.fetch(dir, &[url], &env.big, &["-x1", "-s1", &user, &passwd])
}

fn pyftpd_split(env: &Env, dir: &Path) -> Result<(), String> {
    let url = env.pyftpd.url(&env.big.name);
    let login = format!("ftp://{}:{}@", pyftpd::USER, env.pyftpd.password());
    let url = url.replacen("ftp://", &login, 1);
    env.fetch(dir, &[url], &env.big, FTP_SPLIT)
}

/// One file from nginx and vsftpd at once: the bytes must be exact and both servers
/// must have sent some of them.
fn mixed_mirrors(env: &Env, dir: &Path) -> Result<(), String> {
    const AGENT: &str = "swarmget-interop/mixed";
    let name = &env.big.name;
    let origins: [(&str, &dyn Origin); 2] = [("nginx", &env.server), ("vsftpd", &env.vsftpd)];
    let marks = origins
        .iter()
        .map(|(_, o)| o.log_mark())
        .collect::<Result<Vec<_>, _>>()?;
    let urls: Vec<String> = origins.iter().map(|(_, o)| o.url(name)).collect();
    env.fetch(dir, &urls, &env.big, &["-x4", "-s8", "-k1M", "-U", AGENT])?;
    let mut sent = Vec::new();
    for ((server, origin), mark) in origins.iter().zip(marks) {
        sent.push(format!(
            "{server} {} bytes",
            origin.covered_since(mark, name, AGENT)?
        ));
    }
    if sent.iter().any(|s| s.ends_with(" 0 bytes")) {
        return Err(format!(
            "one mirror sent nothing ({}): the file was not shared",
            sent.join(", ")
        ));
    }
    Ok(())
}

fn http_resume(env: &Env, dir: &Path) -> Result<(), String> {
    resume_after_kill(env, dir, &env.server, &env.big, false)
}

fn ftp_resume(env: &Env, dir: &Path) -> Result<(), String> {
    resume_after_kill(env, dir, &env.vsftpd, &env.big, false)
}

fn http_changed_resume(env: &Env, dir: &Path) -> Result<(), String> {
    let file = Payload::random(&env.www, "changed-http.bin", BIG_LEN)?;
    resume_after_kill(env, dir, &env.server, &file, true)
}

fn ftp_changed_resume(env: &Env, dir: &Path) -> Result<(), String> {
    let file = Payload::random(&env.www, "changed-ftp.bin", BIG_LEN)?;
    resume_after_kill(env, dir, &env.vsftpd, &file, true)
}

/// A rate-limited download of `file` from `origin` killed with SIGKILL once its control
/// file is on disk, then `-c`: the result must be exact and the control file gone. When
/// `replace`, the file is replaced by another of the same length (a later mtime, so
/// nginx's ETag and Last-Modified and vsftpd's MDTM change) between the runs: the second
/// run must say so and end with the new bytes. Otherwise it must not have fetched every
/// byte again (seen in the server's log).
fn resume_after_kill(
    env: &Env,
    dir: &Path,
    origin: &dyn Origin,
    file: &Payload,
    replace: bool,
) -> Result<(), String> {
    const FIRST: &str = "swarmget-interop/first";
    const SECOND: &str = "swarmget-interop/resume";
    const KILL_AFTER: Duration = Duration::from_millis(2500);
    let url = origin.url(&file.name);
    let out = dir.join("out").join(&file.name);
    let control = dir.join("out").join(format!("{}.swarmget", file.name));
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

    let file = if replace {
        let path = env.www.join(&file.name);
        write_random(&path, file.len)?;
        let later = std::time::SystemTime::now() + Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(later))
            .map_err(|e| format!("{}: cannot set its mtime: {e}", path.display()))?;
        &Payload::existing(&path)?
    } else {
        file
    };

    let mark = origin.log_mark()?;
    let mut second_args = options.to_vec();
    second_args.extend(["-c", "-U", SECOND, &url]);
    let second = env.run(dir, &second_args)?;
    second.expect(0)?;
    file.verify(&out)?;
    if control.exists() {
        return Err(format!(
            "{} is still there after the download finished",
            control.display()
        ));
    }
    if replace {
        let log = std::fs::read_to_string(&second.log).unwrap_or_default();
        if !log.contains("the remote file changed") {
            return Err(format!(
                "the -c run over a replaced file did not say it changed\n{}",
                second.tail()
            ));
        }
        return Ok(());
    }
    let refetched = origin.covered_since(mark, &file.name, SECOND)?;
    if refetched >= file.len {
        return Err(format!(
            "the -c run fetched every byte of the file ({} bytes): nothing was resumed",
            file.len
        ));
    }
    Ok(())
}

/// A server a case downloads from and then asks which bytes of a file it sent.
trait Origin {
    /// The URL of `name` on this server.
    fn url(&self, name: &str) -> String;
    /// Where the server's log ends now, for [`Origin::covered_since`].
    fn log_mark(&self) -> Result<u64, String>;
    /// How many distinct bytes of `name` the server sent to runs with user agent `agent`
    /// that it logged after `mark`: pieces fetched twice count once.
    fn covered_since(&self, mark: u64, name: &str, agent: &str) -> Result<u64, String>;
}

impl Origin for Nginx {
    fn url(&self, name: &str) -> String {
        Nginx::url(self, false, name)
    }

    fn log_mark(&self) -> Result<u64, String> {
        log_len(&self.access_log())
    }

    /// The user agent tells runs apart, even a killed one whose requests nginx logs a
    /// moment after its successor started.
    fn covered_since(&self, mark: u64, name: &str, agent: &str) -> Result<u64, String> {
        let log = self.access_log();
        let text = read_from(&log, mark)?;
        let spans = nginx::sent_spans(&text, name, agent)
            .map_err(|line| format!("{}: unreadable line `{line}`", log.display()))?;
        Ok(union_len(spans))
    }
}

impl Origin for Vsftpd {
    fn url(&self, name: &str) -> String {
        Vsftpd::url(self, name)
    }

    /// Waits until the sessions of runs that ended have ended too, so they logged.
    fn log_mark(&self) -> Result<u64, String> {
        self.idle(SESSION_END_LIMIT)?;
        log_len(&self.log())
    }

    /// FTP has no user agent: `agent` is not looked at, and the mark alone separates
    /// runs, because vsftpd has logged all of the earlier ones by then.
    fn covered_since(&self, mark: u64, name: &str, _agent: &str) -> Result<u64, String> {
        let spans = vsftpd::sent_spans(&self.log_since(mark)?, name)
            .map_err(|line| format!("{}: unreadable line `{line}`", self.log().display()))?;
        Ok(union_len(spans))
    }
}

impl Vsftpd {
    /// The log after `mark`, once every session has ended.
    fn log_since(&self, mark: u64) -> Result<String, String> {
        self.idle(SESSION_END_LIMIT)?;
        read_from(&self.log(), mark)
    }
}

fn log_len(path: &Path) -> Result<u64, String> {
    match std::fs::metadata(path) {
        Ok(meta) => Ok(meta.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The text of `path` from byte `offset` on.
fn read_from(path: &Path, offset: u64) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let from = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    Ok(String::from_utf8_lossy(&bytes[from..]).into_owned())
}

/// The length of the union of `[start, end)` spans.
fn union_len(mut spans: Vec<(u64, u64)>) -> u64 {
    spans.sort_unstable();
    let (mut covered, mut reach) = (0, 0);
    for (start, end) in spans {
        let from = start.max(reach);
        if end > from {
            covered += end - from;
            reach = end;
        }
    }
    covered
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
    use super::union_len;

    #[test]
    fn a_union_counts_overlaps_once() {
        // [0, 4160217) and [16777216, 22723335) ∪ [19922944, 22020096) ∪ [20971520, 22020096).
        let spans = vec![
            (20971520, 22020096),
            (0, 4160217),
            (16777216, 22723335),
            (19922944, 22020096),
        ];
        assert_eq!(union_len(spans), 4160217 + 5946119);
        assert_eq!(union_len(vec![(5, 5), (0, 3), (3, 4)]), 4);
        assert_eq!(union_len(Vec::new()), 0);
    }
}
