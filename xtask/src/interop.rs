//! `cargo xtask interop`: swarmget against real servers on loopback.

pub fn run(_args: &[String]) -> Result<(), String> {
    Ok(())
}
