//! Replays each fuzz target's checked-in corpus (and any crash artifacts kept as
//! regressions) through the target's body on the stable toolchain.

use std::path::Path;

#[test]
fn every_target_has_a_seed_corpus_and_survives_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, run) in swarmget_fuzz::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus folder {} unreadable: {e}", dir.display()));
        let mut count = 0;
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            if !path.is_file() {
                continue;
            }
            let data = std::fs::read(&path).expect("corpus file readable");
            run(&data);
            count += 1;
        }
        assert!(
            count > 0,
            "fuzz target {name} has no seed corpus in {}",
            dir.display()
        );
    }
}
