//! `cargo xtask bench make-torrent [--runs N] [--size-mib N]`
//!
//! Making a v1 torrent of one tree — eight random files, 1 GiB in all by default,
//! generated once into `target/bench-data/` — with 256 KiB pieces by `swarmget
//! make-torrent` (the release build, hashing on every core), Debian's `mktorrent`
//! (given as many threads as there are cores) and `transmission-create`. The tools take
//! turns, run after run, after one untimed run of each that leaves the tree in the page
//! cache; `/usr/bin/time` measures wall and user + system CPU. Every torrent made must
//! carry the same piece hashes as swarmget's (a tool hashing the files in another order
//! or wrongly would not be comparable); the medians and the ratios to swarmget go to
//! stdout and `target/bench-make-torrent.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::compare::{Options, Setup, git_revision, machine, median, package_version, today};
use crate::binary::target_dir;
use crate::cmd::apt_install;
use crate::payload::write_random;

/// Files in the tree; the size is split evenly among them.
const FILES: u64 = 8;
/// The piece length every tool is given.
const PIECE_KIB: u64 = 256;
const ANNOUNCE: &str = "http://127.0.0.1:6969/announce";

/// Builds a tool's command line for making the torrent `out` of `tree`.
type MakeCommand = Box<dyn Fn(&Path, &Path) -> Command>;

struct Tool {
    name: &'static str,
    command: MakeCommand,
}

pub fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse("make-torrent", args)?;
    apt_install(&["mktorrent", "transmission-cli", "time"])?;
    let setup = Setup::prepare(options)?;
    let size_mib = setup.options.size_mib;
    let runs = setup.options.runs;
    let tree = cached_tree(size_mib)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let swarmget = setup.swarmget().to_path_buf();
    let tools = [
        Tool {
            name: "swarmget make-torrent",
            command: Box::new(move |tree, out| {
                let mut c = Command::new(&swarmget);
                c.args([
                    "make-torrent",
                    "-a",
                    ANNOUNCE,
                    "-l",
                    &format!("{PIECE_KIB}K"),
                ])
                .arg("-o")
                .arg(out)
                .arg(tree);
                c
            }),
        },
        Tool {
            name: "mktorrent",
            command: Box::new(move |tree, out| {
                let mut c = Command::new("mktorrent");
                let exponent = (PIECE_KIB << 10).trailing_zeros().to_string();
                c.args(["-a", ANNOUNCE, "-l", &exponent, "-t", &cores.to_string()])
                    .arg("-o")
                    .arg(out)
                    .arg(tree);
                c
            }),
        },
        Tool {
            name: "transmission-create",
            command: Box::new(|tree, out| {
                let mut c = Command::new("transmission-create");
                c.args(["-t", ANNOUNCE, "-s", &PIECE_KIB.to_string()])
                    .arg("-o")
                    .arg(out)
                    .arg(tree);
                c
            }),
        },
    ];
    let scratch = setup.scratch.path();
    // Warm-up: the page cache holds the tree, and every tool's output is checked.
    let mut reference = None;
    for tool in &tools {
        let out = scratch.join("warm.torrent");
        time(tool, &tree, &out, scratch)?;
        let pieces = piece_hashes(&out)?;
        match &reference {
            None => reference = Some(pieces),
            Some(r) if *r == pieces => {}
            Some(_) => {
                return Err(format!(
                    "{}'s piece hashes differ from swarmget's: not comparable",
                    tool.name
                ));
            }
        }
    }
    let mut samples: Vec<Vec<(f64, f64)>> = vec![Vec::new(); tools.len()];
    for run in 0..runs {
        for turn in 0..tools.len() {
            let i = (run + turn) % tools.len();
            let out = scratch.join("run.torrent");
            let (wall, cpu) = time(&tools[i], &tree, &out, scratch)?;
            eprintln!(
                "bench: run {}/{runs}  {:<22} {wall:6.2} s  {cpu:6.2} s CPU",
                run + 1,
                tools[i].name
            );
            samples[i].push((wall, cpu));
        }
    }
    let medians: Vec<(f64, f64)> = samples
        .iter()
        .map(|s| {
            let mut walls: Vec<f64> = s.iter().map(|x| x.0).collect();
            let mut cpus: Vec<f64> = s.iter().map(|x| x.1).collect();
            (median(&mut walls), median(&mut cpus))
        })
        .collect();
    let report = report(&tools, &medians, size_mib, runs, cores);
    print!("{report}");
    let path = target_dir().join("bench-make-torrent.md");
    std::fs::write(&path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!("bench: report written to {}", path.display());
    Ok(())
}

/// Runs `tool` once; its wall and CPU seconds. The torrent is deleted first and after.
fn time(tool: &Tool, tree: &Path, out: &Path, scratch: &Path) -> Result<(f64, f64), String> {
    let _ = std::fs::remove_file(out);
    let times = scratch.join("time.txt");
    let made = (tool.command)(tree, out);
    let status = Command::new("/usr/bin/time")
        .args(["-f", "%e %U %S", "-o"])
        .arg(&times)
        .arg(made.get_program())
        .args(made.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot start /usr/bin/time: {e}"))?;
    if !status.success() || !out.exists() {
        return Err(format!("{} failed: {status}", tool.name));
    }
    let text = std::fs::read_to_string(&times).map_err(|e| e.to_string())?;
    let fields: Vec<f64> = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    match fields[..] {
        [wall, user, sys] => Ok((wall, user + sys)),
        _ => Err(format!("unexpected /usr/bin/time output: {text}")),
    }
}

/// The concatenated piece hashes of the torrent at `path`.
fn piece_hashes(path: &Path) -> Result<Vec<[u8; 20]>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let meta = swarmget_bt_wire::Metainfo::parse(&bytes)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(meta.info.piece_hashes)
}

/// `target/bench-data/tree-<N>MiB/` with [`FILES`] random files, made once.
fn cached_tree(size_mib: u64) -> Result<PathBuf, String> {
    let tree = target_dir()
        .join("bench-data")
        .join(format!("tree-{size_mib}MiB"));
    std::fs::create_dir_all(&tree).map_err(|e| format!("{}: {e}", tree.display()))?;
    let len = (size_mib << 20) / FILES;
    for i in 0..FILES {
        let path = tree.join(format!("part-{i}.bin"));
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == len) {
            continue;
        }
        eprintln!("bench: writing {}", path.display());
        write_random(&path, len)?;
    }
    Ok(tree)
}

fn report(
    tools: &[Tool],
    medians: &[(f64, f64)],
    size_mib: u64,
    runs: usize,
    cores: usize,
) -> String {
    let mut r = String::new();
    let _ = writeln!(
        r,
        "### make-torrent: {size_mib} MiB in {FILES} files, {PIECE_KIB} KiB pieces ({})\n",
        today()
    );
    let _ = writeln!(
        r,
        "`cargo xtask bench make-torrent --runs {runs} --size-mib {size_mib}` on {} ({cores} \
         cores), swarmget {}, {} (`-t {cores}`), {} (transmission-create); the tree \
         in the page cache, medians of {runs} alternated runs.\n",
        machine(),
        git_revision(),
        package_version("mktorrent"),
        package_version("transmission-cli"),
    );
    let _ = writeln!(
        r,
        "| tool | wall s | CPU s | wall ÷ swarmget | CPU ÷ swarmget |"
    );
    let _ = writeln!(r, "|---|---:|---:|---:|---:|");
    let (base_wall, base_cpu) = medians[0];
    for (tool, &(wall, cpu)) in tools.iter().zip(medians) {
        let _ = writeln!(
            r,
            "| {} | {wall:.2} | {cpu:.2} | {:.2} | {:.2} |",
            tool.name,
            wall / base_wall,
            cpu / base_cpu
        );
    }
    r
}
