//! `cargo xtask fuzz <target> [--seconds N] [--jobs N] [--asan]` and
//! `cargo xtask fuzz-all [--seconds N]`.
//!
//! Runs libFuzzer through cargo-fuzz on the stable toolchain (`-s none`: coverage
//! instrumentation only). `--asan` adds AddressSanitizer through `RUSTC_BOOTSTRAP=1`.
//! New inputs go to `fuzz/target/corpus/<target>` so the checked-in seed corpus in
//! `fuzz/corpus/<target>` stays small. libFuzzer writes crashes to
//! `fuzz/artifacts/<target>`; every new one is copied into the seed corpus at once, so
//! `cargo test` (the corpus replay) fails on it until the bug is fixed, and keeps it as a
//! regression input afterwards.
//!
//! `fuzz-all` runs every target in turn for N seconds each, the nightly-style run; it
//! goes on past a crashing target, fails at the end if any crashed, and prints each
//! target's executions (the table BENCHMARKS.md keeps).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::cmd::{cargo, have, workspace_root};

/// `cargo xtask fuzz …`.
pub fn run(args: &[String]) -> Result<(), String> {
    let mut target = None;
    let mut run = Run::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--list" => {
                for t in targets()? {
                    println!("{t}");
                }
                return Ok(());
            }
            "--seconds" => run.seconds = number(it.next(), "--seconds")?,
            "--jobs" => run.jobs = number(it.next(), "--jobs")? as u32,
            "--asan" => run.asan = true,
            t if !t.starts_with('-') && target.is_none() => target = Some(t.to_string()),
            other => return Err(format!("fuzz: unexpected argument `{other}`")),
        }
    }
    let target = target.ok_or("fuzz: name a target (cargo xtask fuzz --list)")?;
    if !targets()?.contains(&target) {
        return Err(format!(
            "fuzz: no target `{target}` (cargo xtask fuzz --list)"
        ));
    }
    let outcome = run.target(&target)?;
    outcome.verdict(&target)
}

/// `cargo xtask fuzz-all [--seconds N]`: every target for N seconds (default 60).
pub fn run_all(args: &[String]) -> Result<(), String> {
    let mut run = Run::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => run.seconds = number(it.next(), "--seconds")?,
            other => return Err(format!("fuzz-all: unexpected argument `{other}`")),
        }
    }
    let mut rows = Vec::new();
    let mut failures = Vec::new();
    for target in targets()? {
        let outcome = run.target(&target)?;
        if let Err(e) = outcome.verdict(&target) {
            failures.push(e);
        }
        rows.push((target, outcome));
    }
    println!("\n| target | seconds | executions | execs/s | coverage | corpus | result |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for (target, o) in &rows {
        let show = |v: Option<u64>| v.map_or("?".to_string(), |v| v.to_string());
        let rate = o
            .execs
            .map_or("?".to_string(), |e| (e / run.seconds.max(1)).to_string());
        let result = if o.crashed() { "CRASH" } else { "ok" };
        println!(
            "| {target} | {} | {} | {rate} | {} | {} | {result} |",
            o.wall_seconds,
            show(o.execs),
            show(o.coverage),
            show(o.corpus),
        );
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// How to run libFuzzer.
struct Run {
    seconds: u64,
    jobs: u32,
    asan: bool,
}

impl Default for Run {
    /// A minute on one job, without AddressSanitizer.
    fn default() -> Run {
        Run {
            seconds: 60,
            jobs: 1,
            asan: false,
        }
    }
}

/// What one target's run found.
struct Outcome {
    /// Whether cargo fuzz exited successfully.
    success: bool,
    /// Crash, timeout and out-of-memory inputs new in `fuzz/artifacts/<target>`, as
    /// copied into the seed corpus.
    kept: Vec<PathBuf>,
    /// libFuzzer's final statistics, where it printed them.
    execs: Option<u64>,
    coverage: Option<u64>,
    corpus: Option<u64>,
    /// Whole seconds the run took, building included.
    wall_seconds: u64,
}

impl Outcome {
    fn crashed(&self) -> bool {
        !self.success || !self.kept.is_empty()
    }

    fn verdict(&self, target: &str) -> Result<(), String> {
        if !self.crashed() {
            return Ok(());
        }
        let kept: Vec<String> = self.kept.iter().map(|p| p.display().to_string()).collect();
        Err(format!(
            "fuzz: {target} failed; inputs kept as regressions (the corpus replay in \
             `cargo test -p swarmget-fuzz` fails on them until fixed): [{}]",
            kept.join(", ")
        ))
    }
}

impl Run {
    /// Fuzzes `target` for `self.seconds`, copying new crash artifacts into its seed corpus.
    fn target(&self, target: &str) -> Result<Outcome, String> {
        if !have("cargo-fuzz") {
            cargo(&["install", "--locked", "cargo-fuzz"]).run()?;
        }
        let root = workspace_root();
        let work = root.join("fuzz/target/corpus").join(target);
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        let seeds = root.join("fuzz/corpus").join(target);
        let artifacts = root.join("fuzz/artifacts").join(target);
        let before = files_in(&artifacts);

        let mut args: Vec<String> = [
            "fuzz",
            "run",
            "--fuzz-dir",
            "fuzz",
            "--features",
            "libfuzzer",
        ]
        .map(String::from)
        .to_vec();
        if !self.asan {
            args.extend(["-s", "none"].map(String::from));
        }
        args.extend([
            target.to_string(),
            work.display().to_string(),
            seeds.display().to_string(),
            "--".to_string(),
            format!("-max_total_time={}", self.seconds),
            "-print_final_stats=1".to_string(),
        ]);
        if self.jobs > 1 {
            args.push(format!("-fork={}", self.jobs));
        }
        let cargo_bin = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo_bin);
        command
            .args(&args)
            .current_dir(&root)
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        if self.asan {
            command.env("RUSTC_BOOTSTRAP", "1");
        }
        eprintln!("xtask$ cargo {}", args.join(" "));
        let started = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
        // libFuzzer reports on stderr: pass it through and keep the final statistics.
        let mut stats = Stats::default();
        if let Some(stderr) = child.stderr.take() {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                eprintln!("{line}");
                stats.read(&line);
            }
        }
        let status = child
            .wait()
            .map_err(|e| format!("waiting for cargo fuzz: {e}"))?;

        let mut kept = Vec::new();
        for found in files_in(&artifacts).difference(&before) {
            let Some(name) = found.file_name() else {
                continue;
            };
            let copy = seeds.join(name);
            std::fs::copy(found, &copy)
                .map_err(|e| format!("copying {} to {}: {e}", found.display(), copy.display()))?;
            eprintln!(
                "xtask: kept {} as the regression input {}",
                found.display(),
                copy.display()
            );
            kept.push(copy);
        }
        Ok(Outcome {
            success: status.success(),
            kept,
            execs: stats.execs,
            coverage: stats.coverage,
            corpus: stats.corpus,
            wall_seconds: started.elapsed().as_secs(),
        })
    }
}

/// The numbers libFuzzer prints at the end of a run.
#[derive(Default)]
struct Stats {
    execs: Option<u64>,
    coverage: Option<u64>,
    corpus: Option<u64>,
}

impl Stats {
    /// Reads `stat::number_of_executed_units: N` (from `-print_final_stats=1`) and the
    /// `cov: N` and `corp: N/…` fields of the last status line (`#N DONE cov: …`).
    fn read(&mut self, line: &str) {
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            self.execs = n.trim().parse().ok();
            return;
        }
        if !line.starts_with('#') {
            return;
        }
        let mut words = line.split_whitespace();
        while let Some(word) = words.next() {
            match word {
                "cov:" => self.coverage = words.next().and_then(|v| v.parse().ok()),
                "corp:" => {
                    self.corpus = words
                        .next()
                        .and_then(|v| v.split('/').next())
                        .and_then(|v| v.parse().ok())
                }
                _ => {}
            }
        }
    }
}

/// The files directly in `dir` (none if it does not exist yet).
fn files_in(dir: &Path) -> BTreeSet<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

/// The fuzz targets, from `fuzz/fuzz_targets/*.rs` (`fuzz/tests/targets.rs` checks that
/// the manifest, the replay list and the corpus folders name the same ones).
pub fn targets() -> Result<Vec<String>, String> {
    let dir = workspace_root().join("fuzz/fuzz_targets");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    names.sort();
    Ok(names)
}

fn number(v: Option<&String>, flag: &str) -> Result<u64, String> {
    v.and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{flag} takes a whole number"))
}

#[cfg(test)]
mod tests {
    use super::Stats;

    #[test]
    fn final_statistics_are_read_from_libfuzzer_output() {
        let mut stats = Stats::default();
        for line in [
            "#2097152\tpulse  cov: 10 ft: 20 corp: 3/40b lim: 4096 exec/s: 1 rss: 40Mb",
            "#2500000\tDONE   cov: 612 ft: 2100 corp: 480/51Kb lim: 4096 exec/s: 41666 rss: 90Mb",
            "Done 2500000 runs in 61 second(s)",
            "stat::number_of_executed_units: 2500001",
            "stat::peak_rss_mb:              90",
        ] {
            stats.read(line);
        }
        assert_eq!(stats.execs, Some(2_500_001));
        assert_eq!(stats.coverage, Some(612));
        assert_eq!(stats.corpus, Some(480));
    }
}
