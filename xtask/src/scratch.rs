//! A temporary directory that removes itself, so a failed run leaves nothing behind.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// A fresh directory under the system temp dir, deleted with everything in it on drop
/// unless [`ScratchDir::keep`] was called.
pub struct ScratchDir {
    path: PathBuf,
    keep: bool,
}

impl ScratchDir {
    /// Creates `$TMPDIR/swarmget-<purpose>-<pid>-<nanos>`.
    pub fn new(purpose: &str) -> Result<ScratchDir, String> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("swarmget-{purpose}-{}-{nanos}", std::process::id()));
        // create_dir, not create_dir_all: a leftover with the same name is a bug, not a reuse.
        std::fs::create_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(ScratchDir { path, keep: false })
    }

    /// Leaves the directory in place at drop, for a post-mortem.
    pub fn keep(&mut self) {
        self.keep = true;
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates (if needed) and returns the subdirectory `name`.
    pub fn subdir(&self, name: &str) -> Result<PathBuf, String> {
        let dir = self.path.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("xtask: kept {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
