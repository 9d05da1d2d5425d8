//! When the control file is written: early enough that a crash never leaves a file
//! that a later `-c` would misread, and not at all for a small file fetched in one
//! front-to-back run (a list of 10,000 small files must not pay a create, fsync and
//! rename for each).

use std::time::Duration;

use swarmget_engine::control::control_path;
use swarmget_engine::{DownloadSpec, Options};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

mod common;

use common::{Batch, Dir, opts, segmented};

/// Waits until at least `at_least` bytes are on disk; returns the output path.
fn wait_for_bytes(batch: &Batch, gid: swarmget_engine::Gid, at_least: u64) -> std::path::PathBuf {
    common::wait_status(&batch.handle, gid, |st| st.completed >= at_least)
        .path
        .unwrap()
}

#[test]
fn a_small_file_in_one_run_has_no_control_file_and_a_true_prefix_on_disk() {
    // The stall comes after the first 256 KiB write buffer, so bytes reach the disk.
    let data = TestFile::random(800_000, 21);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .stall_after(300_000),
    )
    .unwrap();
    let dir = Dir::new("cf-small");
    let o = Options {
        // Saves only when forced: what is on disk comes from the eager save alone.
        auto_save_interval: Duration::from_secs(600),
        ..segmented(&dir.0, 4)
    };
    let o = Options {
        min_split_size: 1 << 20,
        ..o
    };
    assert!(data.len() as u64 <= o.min_split_size);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::new(vec![server.url("/f")], o));
    let path = wait_for_bytes(&batch, gid, 256 << 10);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !control_path(&path).exists(),
        "a control file for a one-run file"
    );
    // What a crash now would leave is a prefix of the file, which `-c` may trust.
    let on_disk = std::fs::read(&path).unwrap();
    assert_eq!(&on_disk[..], &data[..on_disk.len()]);
    assert_eq!(
        server.connections(),
        1,
        "one run, one connection: {:?}",
        server.log()
    );
    batch.handle.remove(gid).unwrap();
    batch.finish();
}

#[test]
fn a_file_split_over_connections_saves_its_control_file_before_the_first_byte() {
    let data = TestFile::random(600_000, 22);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .stall_after(50_000),
    )
    .unwrap();
    let dir = Dir::new("cf-split");
    let o = Options {
        auto_save_interval: Duration::from_secs(600),
        ..segmented(&dir.0, 4)
    };
    assert!(data.len() as u64 > o.min_split_size);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::new(vec![server.url("/f")], o));
    // The plan exists once the first answer gave the length; its control file is
    // saved then, before the first byte is written.
    let path = loop {
        let st = batch.handle.tell_status(gid).unwrap();
        if let (Some(path), Some(_)) = (st.path, st.total) {
            break path;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // Until the first byte is on disk (or the file saved). The status is read first:
    // a byte counted then was written after the save, so the file is there now (the
    // server stalls, so the download cannot have finished and removed it).
    let saved = loop {
        let st = batch.handle.tell_status(gid).unwrap();
        let saved = control_path(&path).exists();
        if saved || st.completed > 0 || st.state.is_stopped() {
            break saved;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(saved, "runs at several offsets without a control file");
    let _ = batch.handle.remove(gid);
    batch.finish();
}

#[test]
fn a_completed_small_file_leaves_nothing_behind() {
    let data = TestFile::random(4096, 23);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("cf-done");
    let st = common::run(vec![server.url("/f")], opts(&dir.0));
    common::assert_ok(&st, &data);
    let names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["f"]);
}

#[test]
fn the_periodic_save_counts_from_the_start_not_from_the_queue() {
    // A download queued long before it starts (paused here; behind -j in a list) must
    // not save a control file the moment it starts.
    let data = TestFile::random(800_000, 24);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .stall_after(300_000),
    )
    .unwrap();
    let dir = Dir::new("cf-queued");
    let o = Options {
        auto_save_interval: Duration::from_secs(2),
        min_split_size: 1 << 20,
        pause: true,
        ..opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::new(vec![server.url("/f")], o));
    std::thread::sleep(Duration::from_millis(2200));
    batch.handle.unpause(gid).unwrap();
    let path = wait_for_bytes(&batch, gid, 256 << 10);
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        !control_path(&path).exists(),
        "saved at once: the interval was counted from when it was queued"
    );
    batch.handle.remove(gid).unwrap();
    batch.finish();
}

#[test]
fn a_download_reads_complete_only_once_its_control_file_is_gone() {
    let data = TestFile::random(600_000, 24);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("cf-complete");
    let o = segmented(&dir.0, 4);
    assert!(data.len() as u64 > o.min_split_size);
    let mut batch = Batch::new(&o);
    // Several in turn, each watched without pause: the moment `complete` shows is the
    // moment a client could look for the control file. A download over loopback can
    // be over before a poll sees its control file, so the test asks only that most
    // were seen with one.
    let mut seen_with_control = 0;
    for i in 0..20 {
        let o = Options {
            out: Some(format!("f{i}")),
            ..o.clone()
        };
        let gid = batch.add(DownloadSpec::new(vec![server.url("/f")], o));
        let mut had_control = false;
        let path = loop {
            let st = batch.handle.tell_status(gid).unwrap();
            if let Some(path) = &st.path {
                had_control |= control_path(path).exists();
            }
            if st.state.is_stopped() {
                assert_eq!(st.state, swarmget_engine::DownloadState::Complete);
                break st.path.unwrap();
            }
        };
        seen_with_control += usize::from(had_control);
        assert!(
            !control_path(&path).exists(),
            "download {i} read complete with its control file still there"
        );
    }
    assert!(
        seen_with_control >= 10,
        "only {seen_with_control} of 20 downloads were seen with a control file"
    );
    batch.finish();
}
