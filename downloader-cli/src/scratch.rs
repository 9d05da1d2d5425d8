//! A scratch directory for unit tests that need real files, removed on drop.

use std::path::PathBuf;

pub struct Scratch(PathBuf);

impl Scratch {
    /// A new empty directory whose name says which test module and case made it.
    pub fn new(tag: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("swarmget-cli-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// The path of `name` inside (nothing is created).
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `data` to `name` inside and returns the file's path as text.
    pub fn file(&self, name: &str, data: impl AsRef<[u8]>) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, data).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
