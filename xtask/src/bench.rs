//! `cargo xtask bench …`: criterion benches and whole-process comparisons.

use crate::cmd::cargo;

pub fn run(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None | Some("criterion") => cargo(&["bench", "--workspace"]).run(),
        Some(other) => Err(format!("bench: unknown benchmark `{other}`")),
    }
}
