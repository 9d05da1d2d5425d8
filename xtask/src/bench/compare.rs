//! Whole-process comparisons on loopback, shared by `bench http`, `ftp`, `metalink` and
//! `scale`: a workload (a random file, 1 GiB by default, generated once into
//! `target/bench-data/`; or many small files) fetched from local servers by a private copy
//! of the release `swarmget`, by `aria2c` with the same options, and (for one URL) by
//! `curl` on one connection as the floor. The cases take turns, run after run, so a noisy
//! neighbour on a shared machine spreads over all of them instead of spoiling one. Each
//! run is timed by `/usr/bin/time` (wall, user + system CPU, peak RSS), its output is
//! checked byte for byte and then deleted; a run whose output is wrong does not count.
//! The medians go to stdout and `target/bench-<name>.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::cpu::Meter;
use crate::binary::{build_swarmget, target_dir};
use crate::child::wait_or_kill;
use crate::cmd::{Cmd, apt_install, workspace_root};
use crate::payload::{Payload, write_random};
use crate::scratch::ScratchDir;

/// A GiB takes seconds on loopback; ten minutes means something hangs.
pub const RUN_LIMIT: Duration = Duration::from_secs(600);
const MIB: f64 = 1024.0 * 1024.0;

/// The command line: `--runs N`, `--size-mib N`, `--only TEXT`...
pub struct Options {
    /// The benchmark's name (`http`, `ftp`, ...), for messages and the report's file name.
    name: &'static str,
    pub runs: usize,
    pub size_mib: u64,
    /// `bench scale` and `bench input` only: how many small files (or list lines), and
    /// how many at once (`-j`), with the bench's defaults.
    pub files: usize,
    pub jobs: usize,
    defaults: (usize, usize),
    /// Keep only the cases whose label contains one of these.
    only: Vec<String>,
}

/// `bench scale`'s defaults: aria2's own `-j` is 5; fifty is what the issue asks about.
const SCALE_FILES: usize = 10_000;
const SCALE_JOBS: usize = 50;
/// `bench rpc`'s: a thousand queued downloads, as the issue asks (no `-j`).
const RPC_DOWNLOADS: usize = 1000;
/// `bench input`'s: the million-line list and `-j 16` of the issue (aria2's #902).
const INPUT_LINES: usize = 1_000_000;
const INPUT_JOBS: usize = 16;

impl Options {
    /// Reads the arguments after `cargo xtask bench <name>`.
    pub fn parse(name: &'static str, args: &[String]) -> Result<Options, String> {
        let defaults = match name {
            "input" => (INPUT_LINES, INPUT_JOBS),
            "rpc" => (RPC_DOWNLOADS, 1),
            _ => (SCALE_FILES, SCALE_JOBS),
        };
        let mut options = Options {
            name,
            // A run of a million lines takes minutes: one alternated pair by default.
            runs: if name == "input" { 1 } else { 3 },
            size_mib: 1024,
            files: defaults.0,
            jobs: defaults.1,
            defaults,
            only: Vec::new(),
        };
        // Many small files have no size in MiB; one big file has no file count.
        let scale = matches!(name, "scale" | "input" | "rpc");
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || {
                it.next()
                    .ok_or_else(|| format!("bench {name}: {a} needs a value"))
            };
            match a.as_str() {
                "--runs" => options.runs = positive(name, value()?, a)? as usize,
                "--size-mib" if !scale => options.size_mib = positive(name, value()?, a)?,
                "--files" if scale => options.files = positive(name, value()?, a)? as usize,
                "-j" if scale => options.jobs = positive(name, value()?, a)? as usize,
                "--only" => options.only.push(value()?.clone()),
                other => return Err(format!("bench {name}: unexpected argument `{other}`")),
            }
        }
        Ok(options)
    }

    pub fn command_line(&self) -> String {
        let mut line = format!("cargo xtask bench {} --runs {}", self.name, self.runs);
        if self.size_mib != 1024 {
            let _ = write!(line, " --size-mib {}", self.size_mib);
        }
        if self.files != self.defaults.0 {
            let _ = write!(line, " --files {}", self.files);
        }
        if self.jobs != self.defaults.1 {
            let _ = write!(line, " -j {}", self.jobs);
        }
        for o in &self.only {
            let _ = write!(line, " --only '{o}'");
        }
        line
    }
}

fn positive(name: &str, text: &str, flag: &str) -> Result<u64, String> {
    text.parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("bench {name}: {flag} takes a whole number above 0, not `{text}`"))
}

/// What every comparison needs before its servers start: the clients installed, a
/// scratch directory and a private copy of the release binary in it.
pub struct Setup {
    pub options: Options,
    pub scratch: ScratchDir,
    swarmget: PathBuf,
    memory: super::guest_memory::GuestMemory,
}

impl Setup {
    /// nginx serving `www` on loopback for the benches of many small downloads, and its
    /// row in the report (`what` says how it answers). nginx wants a certificate for
    /// its HTTPS listener, which these benches do not use.
    pub fn small_files_nginx(
        &self,
        www: &Path,
        what: &str,
    ) -> Result<(crate::nginx::Nginx, Server), String> {
        let nginx_bin = crate::nginx::binary()?;
        let pki = crate::tls::TestPki::generate(&self.scratch.subdir("tls")?)?;
        let nginx =
            crate::nginx::Nginx::start(&nginx_bin, &self.scratch.path().join("nginx"), www, &pki)?;
        let server = Server {
            name: "nginx",
            pids: vec![nginx.pid()],
            description: format!("{} on 127.0.0.1 ({what})", version("nginx", &["-v"])),
        };
        Ok((nginx, server))
    }

    /// The private copy of the release `swarmget`.
    pub fn swarmget(&self) -> &Path {
        &self.swarmget
    }

    /// Installs the clients, builds the release binary and copies it.
    pub fn prepare(options: Options) -> Result<Setup, String> {
        // aria2c and curl are the comparison; time measures; openssl makes CAs and hashes.
        apt_install(&["aria2", "curl", "time", "openssl"])?;
        let built = build_swarmget(true)?;
        let scratch = ScratchDir::new(&format!("bench-{}", options.name))?;
        // A private copy: a rebuild in the shared target dir must not swap the binary
        // mid-bench.
        let swarmget = scratch.path().join("swarmget");
        std::fs::copy(&built, &swarmget).map_err(|e| format!("{}: {e}", built.display()))?;
        // What the runs write (each run's output is deleted after it), the servers'
        // copy and room for the clients' own memory.
        let memory = super::guest_memory::GuestMemory::hold(2 * options.size_mib + 1024);
        Ok(Setup {
            options,
            scratch,
            swarmget,
            memory,
        })
    }

    /// The `--size-mib` random file, made once into `target/bench-data/` (returned, for
    /// the servers to serve) and reused.
    pub fn big_payload(&self) -> Result<(PathBuf, Payload), String> {
        let data_dir = target_dir().join("bench-data");
        let payload = cached_payload(&data_dir, self.options.size_mib)?;
        Ok((data_dir, payload))
    }
}

/// Checks a run's output directory; the error says what is wrong with it.
pub type OutputCheck = Box<dyn Fn(&Path) -> Result<(), String>>;

/// What a run must leave in its output directory.
pub struct Workload {
    /// For the report, e.g. `1024 MiB of random data`.
    pub what: String,
    /// Bytes one run downloads, for the MiB/s column.
    pub bytes: u64,
    /// Checks the output directory of a run that exited with `exit_code`.
    pub check: OutputCheck,
    /// The exit code every client must end with (0, or 3 for a list of missing files).
    pub exit_code: i32,
    /// How long a run may take before it counts as hung.
    pub limit: Duration,
    /// Paragraphs for the report after the description (settings worth knowing).
    pub notes: Vec<String>,
}

impl Workload {
    /// One file that must come out as `payload` under its own name.
    pub fn file(payload: Payload) -> Workload {
        Workload {
            what: format!("{} MiB of random data", payload.len >> 20),
            bytes: payload.len,
            check: Box::new(move |out_dir| payload.verify(&out_dir.join(&payload.name))),
            exit_code: 0,
            limit: RUN_LIMIT,
            notes: Vec::new(),
        }
    }
}

/// `random-<N>MiB.bin` in `dir`, made once and reused while its length is right. Hashing
/// it every time costs a second and leaves it in the page cache, where servers serve from.
fn cached_payload(dir: &Path, size_mib: u64) -> Result<Payload, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(format!("random-{size_mib}MiB.bin"));
    let len = size_mib << 20;
    if std::fs::metadata(&path).map(|m| m.len()).ok() != Some(len) {
        eprintln!("bench: generating {} ({size_mib} MiB)", path.display());
        write_random(&path, len)?;
    }
    Payload::existing(&path)
}

/// The servers under the clients, as the report names them.
pub struct Server {
    /// Short name for the CPU column, e.g. `nginx`.
    pub name: &'static str,
    /// Their main process ids; their CPU is their own and their descendants'.
    pub pids: Vec<u32>,
    /// What it serves and how, for the report, e.g. `nginx/1.22.1 on 127.0.0.1 (HTTP)`.
    pub description: String,
}

/// The swarmget binary `BENCH_BASELINE` names: when set, benches that support it add
/// it as one more client, taking turns with the others.
pub fn baseline() -> Option<PathBuf> {
    std::env::var_os("BENCH_BASELINE").map(PathBuf::from)
}

/// Who downloads.
#[derive(Clone, Copy, PartialEq)]
pub enum Client {
    Swarmget,
    /// Another swarmget build, named by `BENCH_BASELINE` (A/B runs of a change).
    Baseline,
    Aria2c,
    Curl,
    /// python3-libtorrent through our peer script, leeching a [`Source::Torrent`].
    Libtorrent,
}

/// What a client is given to fetch.
#[derive(Clone)]
pub enum Source {
    /// One URL.
    Url(String),
    /// A Metalink document, given with `-M`.
    Metalink(PathBuf),
    /// A list of URLs, one per line, given with `-i`.
    InputFile(PathBuf),
    /// A `.torrent` file (its tracker names the seeder), fetched without seeding
    /// afterwards; `script` is our libtorrent peer script for [`Client::Libtorrent`].
    Torrent { torrent: PathBuf, script: PathBuf },
}

/// One row of the table: a client fetching a source with its connection options.
pub struct Case {
    pub client: Client,
    /// The protocol column, e.g. `https`.
    pub scheme: &'static str,
    /// swarmget's and aria2c's connection options, e.g. `-x16 -s16 -k1M`; curl uses one
    /// connection whatever this says.
    pub split: Vec<String>,
    pub source: Source,
    /// A CA certificate to trust (HTTPS).
    pub ca: Option<PathBuf>,
    /// `--file-allocation` for swarmget and aria2c.
    pub allocation: &'static str,
}

impl Case {
    /// `client` fetching `source` with `split`, aria2's default file allocation
    /// (`prealloc`) and no CA of its own.
    pub fn new(client: Client, scheme: &'static str, split: &[&str], source: Source) -> Case {
        Case {
            client,
            scheme,
            split: split.iter().map(|s| s.to_string()).collect(),
            source,
            ca: None,
            allocation: "prealloc",
        }
    }

    /// Trusts `ca` (HTTPS).
    pub fn ca(self, ca: Option<PathBuf>) -> Case {
        Case { ca, ..self }
    }

    /// Uses `--file-allocation=MODE`.
    pub fn allocation(self, allocation: &'static str) -> Case {
        Case { allocation, ..self }
    }

    /// The client and its connection options, e.g. `aria2c -x16 -s16 -k1M`.
    fn client_label(&self) -> String {
        match self.client {
            Client::Swarmget => format!("swarmget {}", self.split.join(" ")),
            Client::Baseline => format!("baseline {}", self.split.join(" ")),
            Client::Aria2c => format!("aria2c {}", self.split.join(" ")),
            Client::Curl => "curl".into(),
            Client::Libtorrent => "libtorrent".into(),
        }
    }

    fn label(&self) -> String {
        format!("{} {}", self.scheme, self.client_label())
    }

    /// The command line that fetches the source into `out_dir`.
    fn command(&self, swarmget: &Path, out_dir: &Path) -> Result<Command, String> {
        let mut cmd;
        match self.client {
            Client::Swarmget | Client::Baseline | Client::Aria2c => {
                cmd = match self.client {
                    Client::Swarmget => Command::new(swarmget),
                    Client::Baseline => Command::new(baseline().ok_or("BENCH_BASELINE is unset")?),
                    _ => Command::new("aria2c"),
                };
                // Identical options: no config file, no console, the same allocation.
                cmd.args(["--no-conf", "-q"])
                    .arg(format!("--file-allocation={}", self.allocation))
                    .args(&self.split)
                    .arg("-d")
                    .arg(out_dir);
                if let Some(ca) = &self.ca {
                    cmd.arg(format!("--ca-certificate={}", ca.display()));
                }
                match &self.source {
                    Source::Url(url) => cmd.arg(url),
                    Source::Metalink(doc) => cmd.arg("-M").arg(doc),
                    Source::InputFile(list) => cmd.arg("-i").arg(list),
                    Source::Torrent { torrent, .. } => {
                        // No seeding afterwards, nothing but the tracker's peers, a
                        // listen port of its own.
                        let port = crate::loopback::free_ports(1)?[0];
                        cmd.arg("--seed-time=0")
                            .arg(format!("--listen-port={port}"));
                        if self.client == Client::Aria2c {
                            cmd.args([
                                "--enable-dht=false",
                                "--enable-dht6=false",
                                "--bt-enable-lpd=false",
                                "--enable-peer-exchange=false",
                            ]);
                        }
                        cmd.arg(torrent)
                    }
                };
            }
            Client::Libtorrent => {
                let Source::Torrent { torrent, script } = &self.source else {
                    return Err("libtorrent fetches torrents only".into());
                };
                let port = crate::loopback::free_ports(1)?[0];
                cmd = Command::new("/usr/bin/python3");
                cmd.arg(script)
                    .arg("leech")
                    .arg(torrent)
                    .arg(out_dir)
                    .arg(port.to_string());
            }
            Client::Curl => {
                let Source::Url(url) = &self.source else {
                    return Err("curl fetches one URL only".into());
                };
                let name = url.rsplit('/').next().unwrap_or_default();
                cmd = Command::new("curl");
                cmd.args(["-sS", "--fail", "-o"]).arg(out_dir.join(name));
                if let Some(ca) = &self.ca {
                    cmd.arg("--cacert").arg(ca);
                }
                cmd.arg(url);
            }
        }
        Ok(cmd)
    }
}

/// Runs every case of `cases` that `--only` keeps, `--runs` times in turns against
/// `server`, each run checked against `workload`, prints the results and writes them to
/// `target/bench-<name>.md`. An `Err` lists the failed runs.
pub fn compare(
    setup: &Setup,
    server: &Server,
    workload: &Workload,
    cases: Vec<Case>,
) -> Result<(), String> {
    let options = &setup.options;
    let name = options.name;
    let cases: Vec<Case> = cases
        .into_iter()
        .filter(|c| options.only.is_empty() || options.only.iter().any(|o| c.label().contains(o)))
        .collect();
    if cases.is_empty() {
        return Err(format!("bench {name}: --only matched no case"));
    }
    let load_before = loadavg();
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); cases.len()];
    let mut failures = Vec::new();
    for run in 1..=options.runs {
        for (case, samples) in cases.iter().zip(&mut samples) {
            let label = case.label();
            match measure(setup, server, workload, case) {
                Ok(s) => {
                    println!(
                        "bench: run {run}/{}  {label:<30} {:5.2} s  {:5.2} s CPU  {:5.1} MiB RSS  \
                         {:5.0} MiB/s  ({} {:.2} s, others {:.2} s CPU)",
                        options.runs,
                        s.wall,
                        s.cpu,
                        s.rss_mib(),
                        workload.bytes as f64 / MIB / s.wall,
                        server.name,
                        s.server_cpu,
                        s.other_cpu
                    );
                    samples.push(s);
                }
                Err(e) => {
                    println!("bench: run {run}/{}  {label:<32} FAILED: {e}", options.runs);
                    failures.push(format!("{label} (run {run}): {e}"));
                }
            }
        }
    }
    let load_after = loadavg();

    let report = Report {
        cases: &cases,
        samples: &samples,
        runs: options.runs,
        bytes: workload.bytes,
        server: server.name,
    };
    let mut text = String::new();
    let _ = writeln!(text, "`{}`, {}.\n", options.command_line(), today());
    let _ = writeln!(
        text,
        "{} from {}, {} run(s) per case in turns, median (min-max). \
         Output verified byte for byte and deleted after each run. Machine: {}; load average \
         {} before, {} after.\n",
        workload.what,
        server.description,
        options.runs,
        machine(),
        load_before,
        load_after
    );
    let _ = writeln!(
        text,
        "Clients: swarmget {}; {}; {}.\n",
        git_revision(),
        version("aria2c", &["--version"]),
        version("curl", &["--version"])
    );
    for note in &workload.notes {
        let _ = writeln!(text, "{note}\n");
    }
    let _ = writeln!(text, "{}\n", setup.memory.describe());
    text.push_str(&report.table());
    text.push('\n');
    text.push_str(&report.ratios());
    println!("\n{text}");
    let md = target_dir().join(format!("bench-{name}.md"));
    std::fs::write(&md, &text).map_err(|e| format!("{}: {e}", md.display()))?;
    println!("bench: wrote {}", md.display());
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "bench {name}: {} failed run(s):\n{}",
            failures.len(),
            failures.join("\n")
        ))
    }
}

/// Runs `case` once into a fresh directory, checks the output, deletes it.
fn measure(
    setup: &Setup,
    server: &Server,
    workload: &Workload,
    case: &Case,
) -> Result<Sample, String> {
    let scratch = setup.scratch.path();
    let out_dir = scratch.join("out");
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let times = scratch.join("time.txt");
    let log = scratch.join("client.log");
    let client = case.command(&setup.swarmget, &out_dir)?;

    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut timed = Command::new("/usr/bin/time");
    timed.args(["-f", "%e %U %S %M", "-o"]).arg(&times);
    let program = Path::new(client.get_program());
    if (program == setup.swarmget || baseline().is_some_and(|b| b == program))
        && let Some(dir) = std::env::var_os("BENCH_PERF_DIR")
    {
        // Profiling (BENCHMARKS.md says how): each swarmget run under `perf record`,
        // its CPU counted with perf's own; the figures of such a run are not results.
        let stamp = std::time::UNIX_EPOCH.elapsed().map_or(0, |t| t.as_millis());
        let data = Path::new(&dir).join(format!("{}-{stamp}.data", case.label()));
        timed.args([
            "perf",
            "record",
            "-e",
            "cpu-clock",
            "-F",
            "2000",
            "-g",
            "-o",
        ]);
        timed.arg(data).arg("--");
    }
    timed
        .arg(client.get_program())
        .args(client.get_args())
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err);
    let meter = Meter::start(&server.pids);
    let mut child = timed
        .spawn()
        .map_err(|e| format!("cannot start /usr/bin/time: {e}"))?;
    let status = wait_or_kill(&mut child, workload.limit).map_err(|e| e.to_string())?;
    // Now, before the SHA-256 check adds its own CPU to the machine's.
    let time_text = std::fs::read_to_string(&times).unwrap_or_default();
    let parsed = Sample::parse(&time_text);
    let (server_cpu, other_cpu) = meter.finish(parsed.map_or(0.0, |s| s.cpu));
    let output = || std::fs::read_to_string(&log).unwrap_or_default();
    let result = match status {
        None => Err(format!(
            "still running after {} s: killed\n{}",
            workload.limit.as_secs(),
            output()
        )),
        Some(s) if s.code() != Some(workload.exit_code) => Err(format!(
            "{s}, expected exit code {}\n{}",
            workload.exit_code,
            output().trim_end()
        )),
        Some(_) => (workload.check)(&out_dir).and_then(|()| {
            let sample =
                parsed.ok_or_else(|| format!("unreadable /usr/bin/time output `{time_text}`"))?;
            Ok(Sample {
                server_cpu,
                other_cpu,
                ..sample
            })
        }),
    };
    // Free the page cache the copy took and let writeback settle before the next run.
    let _ = std::fs::remove_dir_all(&out_dir);
    let _ = Command::new("sync").status();
    std::thread::sleep(Duration::from_millis(500));
    result
}

/// What one run cost.
#[derive(Clone, Copy)]
struct Sample {
    wall: f64,
    /// User + system seconds.
    cpu: f64,
    rss_kib: u64,
    /// CPU seconds the server spent meanwhile.
    server_cpu: f64,
    /// CPU seconds the rest of the machine spent meanwhile.
    other_cpu: f64,
}

impl Sample {
    fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }

    /// Parses `/usr/bin/time -f '%e %U %S %M'` output: the last line (earlier ones may
    /// say the command failed).
    fn parse(text: &str) -> Option<Sample> {
        let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
        let mut f = line.split_whitespace();
        let wall = f.next()?.parse().ok()?;
        let user: f64 = f.next()?.parse().ok()?;
        let sys: f64 = f.next()?.parse().ok()?;
        let rss_kib = f.next()?.parse().ok()?;
        Some(Sample {
            wall,
            cpu: user + sys,
            rss_kib,
            server_cpu: 0.0,
            other_cpu: 0.0,
        })
    }
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Median, minimum and maximum of one measure across a case's runs.
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(samples: &[Sample], measure: fn(&Sample) -> f64) -> Option<Spread> {
        let mut values: Vec<f64> = samples.iter().map(measure).collect();
        if values.is_empty() {
            return None;
        }
        let median = median(&mut values);
        Some(Spread {
            median,
            min: values[0],
            max: values[values.len() - 1],
        })
    }

    fn show(&self, decimals: usize) -> String {
        format!(
            "{:.d$} ({:.d$}-{:.d$})",
            self.median,
            self.min,
            self.max,
            d = decimals
        )
    }
}

struct Report<'a> {
    cases: &'a [Case],
    samples: &'a [Vec<Sample>],
    pub runs: usize,
    /// Bytes one run downloads.
    bytes: u64,
    /// The server's name, for its CPU column.
    server: &'a str,
}

impl Report<'_> {
    fn table(&self) -> String {
        let mut t = format!(
            "| scheme | client | ok runs | wall s | CPU s (user+sys) | peak RSS MiB | MiB/s \
             | {} CPU s | other CPU s |\n|---|---|---|---|---|---|---|---|---|\n",
            self.server
        );
        for (case, samples) in self.cases.iter().zip(self.samples) {
            let _ = write!(
                t,
                "| {} | {} | {}/{} ",
                case.scheme,
                case.client_label(),
                samples.len(),
                self.runs
            );
            let Some(wall) = Spread::of(samples, |s| s.wall) else {
                t.push_str("| - | - | - | - | - | - |\n");
                continue;
            };
            let median = |measure: fn(&Sample) -> f64| {
                Spread::of(samples, measure).map_or(f64::NAN, |s| s.median)
            };
            let spread = |measure: fn(&Sample) -> f64, decimals| {
                Spread::of(samples, measure).map_or_else(String::new, |s| s.show(decimals))
            };
            let _ = writeln!(
                t,
                "| {} | {} | {} | {:.0} | {:.2} | {:.2} |",
                wall.show(2),
                spread(|s| s.cpu, 2),
                spread(Sample::rss_mib, 1),
                self.bytes as f64 / MIB / wall.median,
                median(|s| s.server_cpu),
                median(|s| s.other_cpu),
            );
        }
        t
    }

    /// swarmget's medians over aria2c's, for each scheme and connection options both ran.
    fn ratios(&self) -> String {
        let mut t =
            String::from("| swarmget / aria2c | wall | CPU | peak RSS |\n|---|---|---|---|\n");
        let medians = |client: Client, case: &Case| {
            self.cases
                .iter()
                .zip(self.samples)
                .find(|(c, _)| {
                    c.client == client && c.scheme == case.scheme && c.split == case.split
                })
                .and_then(|(_, samples)| {
                    Some((
                        Spread::of(samples, |s| s.wall)?.median,
                        Spread::of(samples, |s| s.cpu)?.median,
                        Spread::of(samples, Sample::rss_mib)?.median,
                    ))
                })
        };
        for case in self.cases.iter().filter(|c| c.client == Client::Swarmget) {
            if let (Some(ours), Some(theirs)) = (
                medians(Client::Swarmget, case),
                medians(Client::Aria2c, case),
            ) {
                let _ = writeln!(
                    t,
                    "| {} {} | {:.2} | {:.2} | {:.2} |",
                    case.scheme,
                    case.split.join(" "),
                    ours.0 / theirs.0,
                    ours.1 / theirs.1,
                    ours.2 / theirs.2
                );
            }
        }
        t
    }
}

/// The first line of `program args` (stdout or stderr: `nginx -v` writes to the latter).
pub fn version(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|o| {
            let text = [o.stdout, o.stderr].concat();
            let text = String::from_utf8_lossy(&text);
            // "nginx version: nginx/1.22.1", "curl 7.88.1 (x86_64-pc-linux-gnu) libcurl/...".
            let line = text.lines().next()?.trim();
            let line = line.strip_prefix("nginx version: ").unwrap_or(line);
            Some(line.split(" (").next().unwrap_or(line).to_string())
        })
        .unwrap_or_else(|| format!("{program} (version unknown)"))
}

/// `package VERSION` as dpkg knows it, for programs that do not print their version
/// (`vsftpd -v` writes it to standard input).
pub fn package_version(package: &str) -> String {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", package])
        .output()
        .ok()
        .filter(|o| o.status.success() && !o.stdout.is_empty())
        .map(|o| format!("{package} {}", String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_else(|| format!("{package} (version unknown)"))
}

pub fn git_revision() -> String {
    match Cmd::new("git", &["describe", "--always", "--dirty"])
        .dir(&workspace_root())
        .output()
    {
        Ok(rev) => format!("at {}", rev.trim()),
        Err(_) => "(revision unknown)".into(),
    }
}

pub fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// CPU model and count, from /proc/cpuinfo.
pub fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU", |(_, m)| m.trim())
        .to_string();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpus} x {model}")
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::{Options, Sample, median};

    #[test]
    fn time_output_is_read_from_its_last_line() {
        let s = Sample::parse("Command exited with non-zero status 3\n2.51 1.20 0.85 20480\n")
            .expect("parses");
        assert_eq!((s.wall, s.rss_kib), (2.51, 20480));
        assert!((s.cpu - 2.05).abs() < 1e-9);
        assert!(Sample::parse("Command terminated by signal 9\n").is_none());
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn options_round_trip_to_the_command_line() {
        let args: Vec<String> = ["--runs", "5", "--size-mib", "64", "--only", "curl"]
            .map(String::from)
            .into();
        let options = Options::parse("ftp", &args).expect("parses");
        assert_eq!(
            options.command_line(),
            "cargo xtask bench ftp --runs 5 --size-mib 64 --only 'curl'"
        );
        let zero = ["--runs".to_string(), "0".to_string()];
        assert!(Options::parse("ftp", &zero).is_err());
    }

    #[test]
    fn file_counts_belong_to_scale_and_sizes_to_the_others() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let scale = Options::parse("scale", &args(&["--files", "200", "-j", "8"])).unwrap();
        assert_eq!((scale.files, scale.jobs), (200, 8));
        assert_eq!(
            scale.command_line(),
            "cargo xtask bench scale --runs 3 --files 200 -j 8"
        );
        assert!(Options::parse("scale", &args(&["--size-mib", "4"])).is_err());
        assert!(Options::parse("metalink", &args(&["--files", "4"])).is_err());
        assert!(Options::parse("metalink", &args(&["-j", "4"])).is_err());
    }
}
