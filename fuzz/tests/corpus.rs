//! Replays each fuzz target's checked-in corpus (and any crash artifacts kept as
//! regressions) through the target's body on the stable toolchain.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[test]
fn every_target_has_a_seed_corpus_and_survives_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut failed = Vec::new();
    for (name, run) in swarmget_fuzz::TARGETS {
        let dir = root.join(name);
        let files = corpus_files(&dir);
        assert!(
            !files.is_empty(),
            "fuzz target {name} has no seed corpus in {}",
            dir.display()
        );
        for path in files {
            let data = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("corpus file {} unreadable: {e}", path.display()));
            // One panicking input must not hide the others, and the report must say which
            // file it was: the panic message alone names only the assertion.
            if panic::catch_unwind(AssertUnwindSafe(|| run(&data))).is_err() {
                failed.push(format!("{name}: {}", path.display()));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "these corpus inputs make their target panic (messages above):\n  {}",
        failed.join("\n  ")
    );
}

/// The files of one corpus folder, sorted so the replay order is the same everywhere.
fn corpus_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("corpus folder {} unreadable: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}
