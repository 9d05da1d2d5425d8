//! `cargo xtask fuzz <target> [--seconds N] [--jobs N] [--asan]`
//!
//! Runs libFuzzer through cargo-fuzz on the stable toolchain (`-s none`: coverage
//! instrumentation only). `--asan` adds AddressSanitizer through `RUSTC_BOOTSTRAP=1`.
//! New inputs go to `fuzz/target/corpus/<target>` so the checked-in seed corpus in
//! `fuzz/corpus/<target>` stays small; crashes land in `fuzz/artifacts/<target>`, and
//! belong in the seed corpus once fixed.

use crate::cmd::{cargo, have, workspace_root};

pub fn run(args: &[String]) -> Result<(), String> {
    let mut target = None;
    let mut seconds = 60u64;
    let mut jobs = 1u32;
    let mut asan = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--list" => {
                for t in targets()? {
                    println!("{t}");
                }
                return Ok(());
            }
            "--seconds" => seconds = number(it.next(), "--seconds")?,
            "--jobs" => jobs = number(it.next(), "--jobs")? as u32,
            "--asan" => asan = true,
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
    if !have("cargo-fuzz") {
        cargo(&["install", "--locked", "cargo-fuzz"]).run()?;
    }
    let root = workspace_root();
    let work = root.join("fuzz/target/corpus").join(&target);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let seeds = root.join("fuzz/corpus").join(&target);
    let max_time = format!("-max_total_time={seconds}");
    let jobs_arg = format!("-fork={jobs}");
    let work_s = work.display().to_string();
    let seeds_s = seeds.display().to_string();
    let mut args = vec![
        "fuzz",
        "run",
        "--fuzz-dir",
        "fuzz",
        "--features",
        "libfuzzer",
    ];
    if !asan {
        args.extend(["-s", "none"]);
    }
    args.extend([
        &target,
        &work_s,
        &seeds_s,
        "--",
        &max_time,
        "-print_final_stats=1",
    ]);
    if jobs > 1 {
        args.push(&jobs_arg);
    }
    let mut c = cargo(&args);
    if asan {
        c = c.env("RUSTC_BOOTSTRAP", "1");
    }
    c.run()
}

/// The fuzz targets, from `fuzz/fuzz_targets/*.rs`.
fn targets() -> Result<Vec<String>, String> {
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
