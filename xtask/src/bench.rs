//! `cargo xtask bench …`: criterion benches and whole-process comparisons.

mod bt;
mod compare;
mod cpu;
mod ftp;
mod guest_memory;
mod http;
mod input;
mod make_torrent;
mod metalink;
mod rpc;
mod scale;

use crate::cmd::cargo;

pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None | Some("criterion") => cargo(&["bench", "--workspace"]).run(),
        Some("http") => http::run(&args[1..]),
        Some("bt") => bt::run(&args[1..]),
        Some("ftp") => ftp::run(&args[1..]),
        Some("metalink") => metalink::run(&args[1..]),
        Some("scale") => scale::run(&args[1..]),
        Some("input") => input::run(&args[1..]),
        Some("rpc") => rpc::run(&args[1..]),
        Some("make-torrent") => make_torrent::run(&args[1..]),
        Some(other) => Err(format!("bench: unknown benchmark `{other}`")),
    }
}
