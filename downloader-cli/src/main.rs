//! `swarmget`: an aria2c-compatible download utility.
//!
//! `swarmget [OPTIONS] URI…` downloads; `swarmget magnet …` and `swarmget metalink …` are
//! tools over the format crates.

mod magnet;
mod metalink;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("magnet") => magnet::run(&args[1..]),
        Some("metalink") => metalink::run(&args[1..]),
        _ => {
            eprintln!("swarmget: downloads are not wired in yet");
            ExitCode::from(1)
        }
    }
}
