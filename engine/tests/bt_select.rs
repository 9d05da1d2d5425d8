//! `--select-file`, `-O/--index-out` and `--bt-remove-unselected-file` on a multi-file
//! torrent whose pieces cross file boundaries.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{Batch, Dir, bt_opts, torrent_data};
use swarmget_engine::options::FileSelection;
use swarmget_engine::{DownloadSpec, DownloadState, Options, Torrent};
use swarmget_test_support::{Seeder, Tracker, make_torrent};

const PIECE: u64 = 32 << 10;

/// a.bin 0..50,000 (pieces 0-1), b.bin empty, c.bin 50,000..170,001 (pieces 1-5),
/// d.bin 170,001..210,001 (pieces 5-6): pieces 1 and 5 are shared.
const FILES: [(&str, u64); 4] = [
    ("a.bin", 50_000),
    ("b.bin", 0),
    ("c.bin", 120_001),
    ("d.bin", 40_000),
];

#[test]
fn select_file_fetches_the_chosen_files_and_their_boundary_pieces_only() {
    let dir = Dir::new("bt-select");
    let body = torrent_data(210_001, 5);
    let placeholder = make_torrent("set", &FILES, &body, PIECE, None);
    let seeder = Seeder::start(&placeholder, body.clone());
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("set", &FILES, &body, PIECE, Some(&tracker.url()));
    let root = dir.0.join("set");
    // A c.bin from an earlier run: --bt-remove-unselected-file deletes it at the end.
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("c.bin"), b"old").unwrap();
    let o = Options {
        select_file: Some(FileSelection::parse("1,4").unwrap()),
        index_out: vec![(4, PathBuf::from("renamed/d.bin"))],
        bt_remove_unselected_file: true,
        ..bt_opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o));
    let st = batch.finish().remove(0);
    assert_eq!(st.state, DownloadState::Complete, "{st:?}");
    assert_eq!(std::fs::read(root.join("a.bin")).unwrap(), body[..50_000]);
    assert_eq!(
        std::fs::read(dir.0.join("renamed/d.bin")).unwrap(),
        body[170_001..]
    );
    // Only pieces holding selected bytes were asked for.
    let pieces: BTreeSet<u32> = seeder.requests().iter().map(|r| r.index).collect();
    assert_eq!(pieces, BTreeSet::from([0, 1, 5, 6]));
    // Nothing of the unselected files is left: no b.bin, c.bin deleted, no d.bin at
    // its torrent path, and the part file that held the shared pieces' other bytes
    // is gone.
    for gone in ["b.bin", "c.bin", "d.bin"] {
        assert!(!root.join(gone).exists(), "{gone}");
    }
    assert!(!dir.0.join("set.swarmget.part").exists());
    let selected: Vec<bool> = st.files.iter().map(|f| f.selected).collect();
    assert_eq!(selected, [true, false, false, true]);
    assert_eq!(st.files[3].path, Some(dir.0.join("renamed/d.bin")));
}

#[test]
fn a_selection_that_leaves_no_file_is_refused() {
    let dir = Dir::new("bt-select-none");
    let body = torrent_data(210_001, 6);
    let torrent = make_torrent("set", &FILES, &body, PIECE, None);
    let o = Options {
        select_file: Some(FileSelection::parse("9").unwrap()),
        ..bt_opts(&dir.0)
    };
    let batch = Batch::new(&o);
    let err = batch
        .handle
        .add(DownloadSpec::torrent(Torrent::parse(&torrent).unwrap(), o))
        .unwrap_err();
    assert!(err.message.contains("leaves no file"), "{err:?}");
}
