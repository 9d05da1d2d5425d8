//! `cargo xtask <command>`: the project's automation, in Rust so it runs wherever cargo does.
//!
//! - `ci`: everything CI checks, in the order that fails fastest.
//! - `fuzz <target> [--seconds N]`: libFuzzer through cargo-fuzz on the stable toolchain.
//! - `fuzz-all [--seconds N]`: every fuzz target in turn, N seconds each; fails on a crash.
//! - `bench [criterion|http|ftp|metalink|scale] [...]`: criterion benches and whole-process
//!   comparisons.
//! - `interop`: swarmget against real servers (nginx, vsftpd, pyftpdlib) on loopback.

mod bench;
mod binary;
mod child;
mod cmd;
mod fuzz;
mod interop;
mod loopback;
mod meta4;
mod nginx;
mod payload;
mod proxies;
mod pyftpd;
mod scratch;
mod swarm;
mod tls;
mod vsftpd;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci                          fmt, clippy, tests (with fuzz corpus replay), docs, interop
  fuzz <target> [--seconds N] run one fuzz target with libFuzzer (default 60 s)
  fuzz --list                 list fuzz targets
  fuzz-all [--seconds N]      every fuzz target in turn, N seconds each (default 60);
                              crashes are kept in the seed corpus and fail the run
  bench [criterion]           run every criterion bench
  bench http [--runs N] [--size-mib N] [--only TEXT]
                              swarmget vs aria2c vs curl on 1 GiB from nginx
  bench ftp [--runs N] [--size-mib N] [--only TEXT]
                              the same from vsftpd
  bench metalink [--runs N] [--size-mib N] [--only TEXT]
                              the same from three mirrors (HTTP, HTTPS, FTP) by .meta4
  bench scale [--runs N] [--files N] [-j N] [--only TEXT]
                              10,000 small files by -i with -j 50, swarmget vs aria2c
  bench rpc [--runs N] [--files N]
                              RPC daemons holding 1,000 queued downloads: latency of
                              tellActive + tellWaiting(0,1000) and RSS, vs aria2c
  interop [--release] [--keep]
                              downloads from real nginx, vsftpd, pyftpdlib on loopback
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("fuzz-all") => fuzz::run_all(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("interop") => interop::run(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The whole check, as CI runs it. Each step must pass before the next starts.
///
/// The compiler is the one `rust-toolchain.toml` pins and every build is `--locked`, so
/// a new release's lints or a new dependency version cannot turn main red on their own.
fn ci() -> Result<(), String> {
    use cmd::cargo;
    cargo(&["fmt", "--all", "--", "--check"]).run()?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])
    .run()?;
    // The dependency-free builds the crates' manifests promise.
    for package in ["swarmget-bencode", "swarmget-magnet-uri"] {
        cargo(&["build", "--locked", "-p", package, "--no-default-features"]).run()?;
    }
    // The libFuzzer binaries build only with the `libfuzzer` feature, which nothing
    // else turns on; checking them here keeps `cargo xtask fuzz` from rotting.
    cargo(&[
        "check",
        "--locked",
        "-p",
        "swarmget-fuzz",
        "--features",
        "libfuzzer",
        "--bins",
    ])
    .run()?;
    // The magnet tests compare hashes and links with RHash's; with CI=true they fail
    // rather than skip when it is missing.
    cmd::program_or_install("rhash", "rhash", "the magnet tests compare against it")?;
    // The RPC tests install the npm `aria2` client with it (and fail under CI=true
    // when they cannot).
    cmd::program_or_install(
        "npm",
        "npm",
        "the RPC tests drive the daemon with the npm aria2 client",
    )?;
    // Tests include the fuzz corpus replay (fuzz/tests/corpus.rs).
    cargo(&["test", "--workspace", "--locked"]).run()?;
    cargo(&["doc", "--workspace", "--no-deps", "--locked"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .run()?;
    interop::run(&[])?;
    Ok(())
}
