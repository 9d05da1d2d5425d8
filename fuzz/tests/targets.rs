//! The four places a fuzz target is named agree: its libFuzzer binary file
//! (`fuzz_targets/<name>.rs`, which `cargo xtask fuzz` lists), its `[[bin]]` in
//! Cargo.toml, its entry in `TARGETS` (what the corpus replay runs), and its corpus
//! folder. A target missing from one of them would be fuzzed but never replayed, or
//! replayed but never fuzzed.

use std::collections::BTreeSet;
use std::path::Path;

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Names of the entries of `folder` that pass `keep`, as `keep` maps them.
fn names_in(folder: &str, keep: impl Fn(&Path) -> Option<String>) -> BTreeSet<String> {
    let dir = crate_dir().join(folder);
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} unreadable: {e}", dir.display()))
        .filter_map(|entry| keep(&entry.expect("directory entry").path()))
        .collect()
}

/// The `name` of every `[[bin]]` table in Cargo.toml, and the `path` each points at.
fn manifest_bins() -> BTreeSet<(String, String)> {
    let manifest = std::fs::read_to_string(crate_dir().join("Cargo.toml")).unwrap();
    let mut bins = BTreeSet::new();
    for table in manifest.split("[[bin]]").skip(1) {
        let table = table.split("\n[").next().unwrap_or(table);
        let field = |key: &str| {
            table
                .lines()
                .find_map(|line| {
                    let (k, v) = line.split_once('=')?;
                    (k.trim() == key).then(|| v.trim().trim_matches('"').to_string())
                })
                .unwrap_or_else(|| panic!("a [[bin]] without `{key}`:{table}"))
        };
        bins.insert((field("name"), field("path")));
    }
    bins
}

#[test]
fn binaries_manifest_replay_list_and_corpora_name_the_same_targets() {
    let files = names_in("fuzz_targets", |p| {
        let name = p.file_name()?.to_str()?;
        name.strip_suffix(".rs").map(str::to_string)
    });
    let corpora = names_in("corpus", |p| {
        p.is_dir()
            .then(|| p.file_name()?.to_str().map(str::to_string))?
    });
    let replayed: BTreeSet<String> = swarmget_fuzz::TARGETS
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    let bins = manifest_bins();
    let bin_names: BTreeSet<String> = bins.iter().map(|(name, _)| name.clone()).collect();

    assert!(!files.is_empty(), "no fuzz_targets/*.rs");
    assert_eq!(bin_names, files, "Cargo.toml [[bin]]s vs fuzz_targets/*.rs");
    assert_eq!(
        replayed, files,
        "TARGETS in src/lib.rs vs fuzz_targets/*.rs"
    );
    assert_eq!(corpora, files, "corpus/ folders vs fuzz_targets/*.rs");
    for (name, path) in &bins {
        assert_eq!(path, &format!("fuzz_targets/{name}.rs"), "[[bin]] {name}");
    }
    assert_eq!(
        replayed.len(),
        swarmget_fuzz::TARGETS.len(),
        "a target is listed twice in TARGETS"
    );
}
