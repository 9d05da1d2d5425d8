//! A fresh directory under the system temp dir for one unit test, removed when dropped.

use std::path::{Path, PathBuf};

/// A directory that exists for one test.
pub(crate) struct TestDir(PathBuf);

impl TestDir {
    /// `<tmp>/swarmget-unit-<name>-<pid>`, emptied first (a crashed earlier run may have
    /// left it behind).
    pub(crate) fn new(name: &str) -> TestDir {
        let path =
            std::env::temp_dir().join(format!("swarmget-unit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create test dir");
        TestDir(path)
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
