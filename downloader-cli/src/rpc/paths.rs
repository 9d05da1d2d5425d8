//! Paths that arrive over RPC stay under the directory the daemon was started with.
//!
//! aria2 writes wherever `dir` points (`dir=../..` included); a daemon reachable by a
//! browser extension or any local process should not. The check is lexical (`.` and
//! `..` resolved against the text, not the filesystem): the root itself is taken as
//! given, and a symlink inside it is the operator's choice.

use std::path::{Component, Path, PathBuf};

/// Where RPC may write.
#[derive(Debug, Clone)]
pub struct Confinement {
    cwd: PathBuf,
    root: PathBuf,
}

impl Confinement {
    /// Everything under `dir` (relative to `cwd`).
    pub fn new(cwd: &Path, dir: &Path) -> Confinement {
        Confinement {
            cwd: cwd.to_path_buf(),
            root: normalize(&cwd.join(dir)),
        }
    }

    /// Checks an option value from RPC; `Err` says why it is refused.
    pub fn check(&self, name: &str, value: &str) -> Result<(), String> {
        match name {
            "dir" => {
                // The engine reads a relative dir against the working directory.
                let full = normalize(&self.cwd.join(value));
                if full.starts_with(&self.root) {
                    Ok(())
                } else {
                    Err(format!(
                        "dir '{value}' is outside {}, the directory this daemon was started with",
                        self.root.display()
                    ))
                }
            }
            "out" | "index-out" => {
                let file = value.rsplit_once('=').map_or(value, |(_, f)| f);
                let p = Path::new(file);
                if p.components().all(|c| matches!(c, Component::Normal(_))) {
                    Ok(())
                } else {
                    Err(format!(
                        "{name} '{value}' must be a relative path without '..'"
                    ))
                }
            }
            // A file the daemon writes: only the command line names it.
            "save-session" => Err("save-session can only be set on the command line".into()),
            _ => Ok(()),
        }
    }
}

/// `path` with `.` and `..` resolved lexically (`..` at the root stays at the root).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_and_out_stay_inside() {
        let c = Confinement::new(Path::new("/srv"), Path::new("dl"));
        assert!(c.check("dir", "dl/sub").is_ok());
        assert!(c.check("dir", "/srv/dl/./x").is_ok());
        assert!(c.check("dir", "/srv/dl").is_ok());
        assert!(c.check("dir", "dl/../..").is_err());
        assert!(c.check("dir", "/srv/dlx").is_err());
        assert!(c.check("dir", "/etc").is_err());
        assert!(c.check("out", "a/b.iso").is_ok());
        assert!(c.check("out", "../b.iso").is_err());
        assert!(c.check("out", "/etc/passwd").is_err());
        assert!(c.check("index-out", "1=../../x").is_err());
        assert!(c.check("split", "../..").is_ok());
        assert!(c.check("save-session", "s.txt").is_err());
    }
}
