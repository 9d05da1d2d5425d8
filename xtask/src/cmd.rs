//! A small wrapper over `std::process::Command` that echoes what it runs and turns a
//! non-zero exit into an error message.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A command about to run, printed before it starts.
pub struct Cmd {
    inner: Command,
    shown: String,
}

/// `cargo ARGS…` with the cargo that runs this xtask.
pub fn cargo(args: &[&str]) -> Cmd {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut c = Cmd::new(&cargo, args);
    c.inner.current_dir(workspace_root());
    c
}

impl Cmd {
    /// `program ARGS…`.
    pub fn new(program: &str, args: &[&str]) -> Cmd {
        let mut inner = Command::new(program);
        inner.args(args);
        let shown = std::iter::once(program)
            .chain(args.iter().copied())
            .collect::<Vec<_>>()
            .join(" ");
        Cmd { inner, shown }
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.inner.env(key, value);
        self.shown = format!("{key}={value} {}", self.shown);
        self
    }

    /// Runs in `dir`.
    pub fn dir(mut self, dir: &Path) -> Cmd {
        self.inner.current_dir(dir);
        self
    }

    /// Runs to completion with inherited stdio; a non-zero exit is an error.
    pub fn run(mut self) -> Result<(), String> {
        eprintln!("xtask$ {}", self.shown);
        let status = self
            .inner
            .status()
            .map_err(|e| format!("cannot start `{}`: {e}", self.shown))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{}` failed: {status}", self.shown))
        }
    }

    /// Runs to completion and returns its stdout; a non-zero exit is an error.
    pub fn output(mut self) -> Result<String, String> {
        let out = self
            .inner
            .output()
            .map_err(|e| format!("cannot start `{}`: {e}", self.shown))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(format!(
                "`{}` failed: {}\n{}",
                self.shown,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

/// The workspace root (the parent of this crate's folder). `cargo run` sets
/// CARGO_MANIFEST_DIR for the process too; that value is preferred over the one
/// compiled in, so a build copied from another checkout still works on its own tree.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

/// Whether `program` is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
}

/// `program` from PATH or the sbin directories, installing Debian's `package` when it is
/// in neither; `purpose` says in the error why it is needed.
pub fn program_or_install(program: &str, package: &str, purpose: &str) -> Result<PathBuf, String> {
    if let Some(found) = find_program(program) {
        return Ok(found);
    }
    eprintln!("xtask: {program} not found; installing Debian's {package}");
    apt_install(&[package]).map_err(|e| {
        format!("{program} is required ({purpose}) and could not be installed: {e}")
    })?;
    find_program(program)
        .ok_or_else(|| format!("`apt-get install {package}` ran but no {program} binary appeared"))
}

fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    // Non-root PATHs often lack the sbin directories Debian puts servers in.
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Installs Debian packages that are missing, without letting them start services.
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            !Command::new("dpkg-query")
                .args(["-W", "-f=${Status}", p])
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    // policy-rc.d exit 101 keeps nginx/vsftpd from starting on their default ports.
    let script = format!(
        "set -e; p=/usr/sbin/policy-rc.d; made=0; \
         if [ ! -e $p ]; then printf '#!/bin/sh\\nexit 101\\n' > $p; chmod +x $p; made=1; fi; \
         (apt-get update -qq || true); \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {} ; rc=$?; \
         [ $made = 1 ] && rm -f $p; exit $rc",
        missing.join(" ")
    );
    if is_root() {
        Cmd::new("sh", &["-c", &script]).run()
    } else {
        Cmd::new("sudo", &["sh", "-c", &script]).run()
    }
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
