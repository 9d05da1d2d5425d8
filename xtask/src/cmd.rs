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

/// Marks the `policy-rc.d` that [`apt_install`] writes, so a leftover one is recognised.
const POLICY_MARKER: &str = "written by cargo xtask for one apt-get install";

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
    let install = format!(
        "(apt-get update -qq || true); \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends {}",
        missing.join(" ")
    );
    let script = without_services(POLICY_RC_D, &install);
    if is_root() {
        Cmd::new("sh", &["-c", &script]).run()
    } else {
        Cmd::new("sudo", &["sh", "-c", &script]).run()
    }
}

/// Where Debian's invoke-rc.d looks for a policy; exit 101 there means "start nothing".
const POLICY_RC_D: &str = "/usr/sbin/policy-rc.d";

/// A shell script that runs `install` with a policy at `policy` that keeps packages from
/// starting their services (nginx and vsftpd would take their default ports).
///
/// Left behind, the policy would keep every service on the machine from starting, so an
/// EXIT trap removes it however the script ends (`set -e` on a failed install, a signal).
/// A policy carrying our marker is a leftover of a run killed outright (SIGKILL runs no
/// trap), and is replaced; one without it belongs to the machine and is left alone.
fn without_services(policy: &str, install: &str) -> String {
    format!(
        "set -e; p='{policy}'; \
         if [ -e \"$p\" ] && grep -q '{POLICY_MARKER}' \"$p\"; then rm -f \"$p\"; fi; \
         if [ ! -e \"$p\" ]; then \
           trap 'rm -f \"$p\"' EXIT; trap 'exit 130' INT TERM HUP; \
           printf '#!/bin/sh\\n# {POLICY_MARKER}\\nexit 101\\n' > \"$p\"; chmod +x \"$p\"; \
         fi; \
         {install}"
    )
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the install script with `install` in place of apt-get, against a policy file
    /// in a scratch folder; returns whether it succeeded and whether the policy remains.
    fn try_install(name: &str, existing: Option<&str>, install: &str) -> (bool, Option<String>) {
        let dir = std::env::temp_dir().join(format!("xtask-policy-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let policy = dir.join("policy-rc.d");
        if let Some(text) = existing {
            std::fs::write(&policy, text).unwrap();
        }
        let script = without_services(policy.to_str().unwrap(), install);
        let ok = Command::new("sh")
            .args(["-c", &script])
            .status()
            .unwrap()
            .success();
        let left = std::fs::read_to_string(&policy).ok();
        let _ = std::fs::remove_dir_all(&dir);
        (ok, left)
    }

    #[test]
    fn the_policy_is_in_force_during_the_install_and_gone_after_it() {
        let (ok, left) = try_install("ok", None, "rc=0; \"$p\" || rc=$?; test $rc = 101");
        assert!(ok, "the policy did not answer 101 during the install");
        assert_eq!(left, None);
    }

    #[test]
    fn a_failed_install_removes_the_policy_too() {
        let (ok, left) = try_install("fail", None, "false");
        assert!(!ok);
        assert_eq!(left, None, "a failed install left the policy behind");
    }

    #[test]
    fn a_leftover_of_ours_is_replaced_and_the_machines_own_is_kept() {
        let ours = format!("#!/bin/sh\n# {POLICY_MARKER}\nexit 101\n");
        assert_eq!(try_install("leftover", Some(&ours), "true"), (true, None));
        let theirs = "#!/bin/sh\nexit 0\n";
        assert_eq!(
            try_install("theirs", Some(theirs), "true"),
            (true, Some(theirs.to_string()))
        );
    }
}
