//! `swarmget magnet …`.

use std::process::ExitCode;

/// Runs `swarmget magnet` with the arguments after the subcommand.
pub fn run(_args: &[String]) -> ExitCode {
    ExitCode::from(1)
}
