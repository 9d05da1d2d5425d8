//! `swarmget metalink …`.

use std::process::ExitCode;

/// Runs `swarmget metalink` with the arguments after the subcommand.
pub fn run(_args: &[String]) -> ExitCode {
    ExitCode::from(1)
}
