//! The engine driven through its handle while downloads run: pause, unpause, remove,
//! option changes, queue order, adding while others run.

use std::time::Duration;

use swarmget_engine::{DownloadSpec, DownloadState, ErrorCode, Event, Gid, Options, PositionFrom};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

mod common;

use common::{Batch, Dir, assert_ok, opts};

fn wait_until(batch: &Batch, gid: Gid, done: impl Fn(&swarmget_engine::DownloadStatus) -> bool) {
    common::wait_status(&batch.handle, gid, done);
}

fn slow_server(data: &[u8]) -> HttpServer {
    HttpServer::start(
        ServerConfig::new()
            .file("/slow", data.to_vec())
            .trickle(256 << 10),
    )
    .unwrap()
}

#[test]
fn pause_keeps_what_is_on_disk_and_unpause_finishes_it() {
    let data = TestFile::random(600_000, 1);
    let server = slow_server(&data);
    let dir = Dir::new("h-pause");
    let o = opts(&dir.0);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::new(vec![server.url("/slow")], o));
    wait_until(&batch, gid, |s| s.completed >= 64 << 10);
    batch.handle.pause(gid).unwrap();
    batch.wait_event(0, |e| *e == Event::Pause(gid));
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.state, DownloadState::Paused);
    assert_eq!(st.connections, 0);
    let path = st.path.clone().expect("a path once bytes arrived");
    assert!(
        swarmget_engine::control::control_path(&path).exists(),
        "a paused download keeps its control file"
    );
    // While paused nothing is asked of the server and nothing more is written (the
    // buffers in flight at the pause settle first).
    std::thread::sleep(Duration::from_millis(300));
    let requests = server.log().len();
    let completed = batch.handle.tell_status(gid).unwrap().completed;
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.log().len(), requests, "requests while paused");
    assert_eq!(batch.handle.tell_status(gid).unwrap().completed, completed);
    // It is listed as waiting (aria2 lists paused downloads there).
    let waiting = batch.handle.tell_waiting(0, 10).unwrap();
    assert_eq!(waiting.iter().map(|s| s.gid).collect::<Vec<_>>(), [gid]);

    batch.handle.unpause(gid).unwrap();
    let paused = batch.wait_event(0, |e| *e == Event::Pause(gid));
    batch.wait_event(paused, |e| *e == Event::Start(gid));
    let st = batch.finish().remove(0);
    assert_ok(&st, &data);
    // The bytes before the pause were not fetched again: every request after it
    // starts past them.
    let after: Vec<_> = server.log()[requests..].to_vec();
    assert!(!after.is_empty());
    for r in &after {
        let start: u64 = r
            .range()
            .and_then(|v| v.strip_prefix("bytes="))
            .and_then(|v| v.split('-').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert!(start >= 64 << 10, "asked again from {start}: {r:?}");
    }
}

#[test]
fn remove_stops_the_download_and_leaves_its_files() {
    let data = TestFile::random(600_000, 2);
    let server = slow_server(&data);
    let dir = Dir::new("h-remove");
    let o = opts(&dir.0);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::new(vec![server.url("/slow")], o));
    wait_until(&batch, gid, |s| s.completed >= 64 << 10);
    batch.handle.remove(gid).unwrap();
    batch.wait_event(0, |e| *e == Event::Stop(gid));
    let stopped = batch.handle.tell_stopped(0, 10).unwrap();
    assert_eq!(stopped.len(), 1);
    assert_eq!(stopped[0].state, DownloadState::Removed);
    let path = stopped[0].path.clone().unwrap();
    assert!(path.exists(), "the partial file stays, as in aria2");
    assert!(swarmget_engine::control::control_path(&path).exists());
    // A removed download cannot be paused or removed again.
    let e = batch.handle.pause(gid).unwrap_err();
    assert!(e.message.contains("cannot be paused"), "{e}");
    // Its result goes with purge.
    batch.handle.purge().unwrap();
    assert!(
        batch
            .handle
            .tell_status(gid)
            .unwrap_err()
            .message
            .contains("not found")
    );
    batch.gids.clear();
    batch.finish();
}

#[test]
fn a_speed_limit_changes_in_place_and_a_split_change_restarts() {
    let data = TestFile::random(900_000, 3);
    let server = slow_server(&data);
    let dir = Dir::new("h-change");
    let o = opts(&dir.0);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::new(vec![server.url("/slow")], o));
    wait_until(&batch, gid, |s| {
        s.completed >= 64 << 10 && s.connections == 1
    });
    let connections = server.connections();
    batch
        .handle
        .change_option(gid, vec![("max-download-limit".into(), "100K".into())])
        .unwrap();
    assert_eq!(
        batch.handle.get_option(gid).unwrap().max_download_limit,
        100 << 10
    );
    let st = batch.handle.tell_status(gid).unwrap();
    assert_eq!(st.state, DownloadState::Active);
    assert_eq!(
        st.connections, 1,
        "a live option must not restart the download"
    );
    assert_eq!(server.connections(), connections);

    // An option that is not live restarts it: the connection closes and a new one
    // opens (the download queues again and resumes from disk).
    batch
        .handle
        .change_option(
            gid,
            vec![
                ("max-download-limit".into(), "0".into()),
                ("split".into(), "2".into()),
            ],
        )
        .unwrap();
    wait_until(&batch, gid, |_| server.connections() > connections);
    // A fixed option is refused and changes nothing.
    let e = batch
        .handle
        .change_option(gid, vec![("piece-length".into(), "2M".into())])
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadOption);
    assert_eq!(batch.handle.get_option(gid).unwrap().split, 2);
    let st = batch.finish().remove(0);
    assert_ok(&st, &data);
}

#[test]
fn downloads_added_while_others_run_start_and_finish() {
    let data = TestFile::random(400_000, 4);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/slow", data.to_vec())
            .file("/fast", data.to_vec())
            .behaviour_for(
                "/slow",
                swarmget_test_support::Behaviour::Trickle {
                    bytes_per_sec: 256 << 10,
                },
            ),
    )
    .unwrap();
    let dir = Dir::new("h-add");
    let o = opts(&dir.0);
    let mut batch = Batch::new(&o);
    let slow = batch.add(DownloadSpec::new(vec![server.url("/slow")], o.clone()));
    wait_until(&batch, slow, |s| s.completed > 0);
    let fast = batch.add(DownloadSpec::new(vec![server.url("/fast")], o));
    // The second completes while the first still runs.
    batch.wait_event(0, |e| *e == Event::Complete(fast));
    assert_eq!(
        batch.handle.tell_status(slow).unwrap().state,
        DownloadState::Active
    );
    for st in batch.finish() {
        assert_ok(&st, &data);
    }
}

#[test]
fn change_position_decides_which_waiting_download_starts_next() {
    let data = TestFile::random(100_000, 5);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/a", data.to_vec())
            .file("/b", data.to_vec())
            .file("/c", data.to_vec()),
    )
    .unwrap();
    let dir = Dir::new("h-position");
    let o = Options {
        max_concurrent_downloads: 1,
        pause: true,
        ..opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    // Paused on arrival, so the queue can be arranged before anything starts.
    let mut gids = Vec::new();
    for p in ["/a", "/b", "/c"] {
        gids.push(batch.add(DownloadSpec::new(vec![server.url(p)], o.clone())));
    }
    let moved = batch
        .handle
        .change_position(gids[2], 0, PositionFrom::Set)
        .unwrap();
    assert_eq!(moved, 0);
    let order: Vec<Gid> = batch
        .handle
        .tell_waiting(0, 10)
        .unwrap()
        .iter()
        .map(|s| s.gid)
        .collect();
    assert_eq!(order, [gids[2], gids[0], gids[1]]);
    // aria2's negative offsets list backwards from the end.
    let last_two: Vec<Gid> = batch
        .handle
        .tell_waiting(-1, 2)
        .unwrap()
        .iter()
        .map(|s| s.gid)
        .collect();
    assert_eq!(last_two, [gids[1], gids[0]]);
    batch.handle.unpause_all().unwrap();
    let results = batch.finish();
    for st in &results {
        assert_ok(st, &data);
    }
    // With -j1 they ran one after another, /c first.
    let paths: Vec<String> = server.log().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths.first().map(String::as_str), Some("/c"), "{paths:?}");
}

/// Deciding a download's output file (aria2's rules for an existing file, its control
/// file read) and opening it is file-system work done off the loop thread: while one
/// download's control file cannot be read (a FIFO with no writer blocks `open`), the
/// loop still answers through the handle, and that download's connection waits
/// without timing out. Then it goes on and finishes.
#[test]
fn a_stuck_output_decision_leaves_the_loop_answering() {
    let data = TestFile::random(100_000, 7);
    let server = HttpServer::start(ServerConfig::new().file("/stuck.bin", data.to_vec())).unwrap();
    let dir = Dir::new("h-stuck-output");
    let file = dir.0.join("stuck.bin");
    std::fs::write(&file, b"old").unwrap();
    let fifo = swarmget_engine::control::control_path(&file);
    common::mkfifo(&fifo);
    let o = opts(&dir.0);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::new(vec![server.url("/stuck.bin")], o.clone()));
    // The answer came (the request is in the server's log) and the disk thread is
    // held in open(2) of the FIFO; a status call still gets through.
    while server.log().is_empty() {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Longer than the download's --timeout: a waiting connection does not time out.
    std::thread::sleep(o.timeout + Duration::from_secs(1));
    let st = common::status_while_blocked(&batch.handle, gid);
    assert_eq!(st.state, DownloadState::Active);
    assert_eq!(st.completed, 0);
    // A writer that writes nothing: the control file reads as empty, is ignored, and
    // the download starts over the old bytes.
    drop(std::fs::OpenOptions::new().write(true).open(&fifo).unwrap());
    let st = batch.finish().remove(0);
    assert_ok(&st, &data);
    assert_eq!(
        server.log().len(),
        1,
        "the parked connection went on, no retry"
    );
}
