//! Building the `swarmget` binary the end-to-end checks run.

use std::path::PathBuf;

use crate::cmd::{cargo, workspace_root};

/// Cargo's target directory: `$CARGO_TARGET_DIR` or the workspace's `target/`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

/// Builds `swarmget` (release or debug profile) and returns the binary's path.
pub fn build_swarmget(release: bool) -> Result<PathBuf, String> {
    let mut args = vec![
        "build",
        "-p",
        "swarmget-downloader-cli",
        "--bin",
        "swarmget",
    ];
    if release {
        args.push("--release");
    }
    cargo(&args).run()?;
    let bin = target_dir()
        .join(if release { "release" } else { "debug" })
        .join("swarmget");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "built swarmget, but {} is not there",
            bin.display()
        ))
    }
}
