//! A resumed download is the bytes of one version of the remote file, never a splice
//! of two: the control file records the version's validators (strong ETag,
//! Last-Modified, length), every continuing request carries `If-Range`, and every
//! answer is compared with the recorded version. A changed file is fetched again from
//! scratch; a mirror with another version is dropped.
//!
//! The in-process server ignores `If-Range` (it always answers 206), so these tests
//! also show that the comparison on the response head catches a changed file when the
//! server does not.

use swarmget_engine::control::{ControlState, control_path};
use swarmget_engine::{DownloadSpec, Event, Options};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

mod common;

use common::{Batch, Dir, assert_ok, segmented};

const LM1: &str = "Sun, 06 Dec 2026 05:00:00 GMT";
const LM2: &str = "Sun, 06 Dec 2026 06:00:00 GMT";

/// A server for `/f` sending `data` with these validators.
fn serve(
    data: &[u8],
    etag: Option<&str>,
    lm: Option<&str>,
    stall_after: Option<u64>,
) -> HttpServer {
    let mut c = ServerConfig::new().file("/f", data.to_vec());
    if let Some(e) = etag {
        c = c.header("ETag", e);
    }
    if let Some(l) = lm {
        c = c.header("Last-Modified", l);
    }
    if let Some(n) = stall_after {
        c = c.stall_after(n);
    }
    HttpServer::start(c).unwrap()
}

fn options(dir: &Dir) -> Options {
    Options {
        continue_download: true,
        ..segmented(&dir.0, 4)
    }
}

/// Run 1: fetches part of `old` from a server that stalls, then stops resumably. The
/// control file left records what came.
fn first_run(dir: &Dir, old: &[u8], etag: Option<&str>, lm: Option<&str>) -> ControlState {
    let server = serve(old, etag, lm, Some(100_000));
    let o = options(dir);
    let mut batch = Batch::new(&o);
    let gid = batch.add(DownloadSpec::new(vec![server.url("/f")], o));
    common::wait_status(&batch.handle, gid, |st| st.completed >= 128 << 10);
    batch.handle.shutdown().unwrap();
    let state = ControlState::load(&control_path(&dir.0.join("f")))
        .unwrap()
        .expect("a control file after the first run");
    assert!(state.verified.count() > 0, "nothing was recorded as done");
    state
}

/// Run 2 with `-c` against `server`; returns the final status and the notices.
fn second_run(dir: &Dir, urls: Vec<String>) -> (swarmget_engine::DownloadStatus, Vec<String>) {
    run_with(options(dir), urls)
}

/// Runs one download of `urls` with `o`; returns the final status and the notices.
fn run_with(o: Options, urls: Vec<String>) -> (swarmget_engine::DownloadStatus, Vec<String>) {
    let mut batch = Batch::new(&o);
    batch.add(DownloadSpec::new(urls, o));
    let gid = batch.gids[0];
    batch.wait_event(
        0,
        |e| matches!(e, Event::Complete(g) | Event::Error(g) if *g == gid),
    );
    let notices = batch
        .seen
        .iter()
        .filter_map(|e| match e {
            Event::Notice(_, m) => Some(m.clone()),
            _ => None,
        })
        .collect();
    (batch.finish().remove(0), notices)
}

/// The download resumed without a restart, and every request that continued it (any
/// range but the opening probe) carried `If-Range: if_range`.
fn assert_resumed_under_if_range(notices: &[String], server: &HttpServer, if_range: &str) {
    assert!(
        !notices.iter().any(|n| n.contains("remote file changed")),
        "{notices:?}"
    );
    let log = server.requests_for("/f");
    let continuing: Vec<_> = log
        .iter()
        .filter(|r| r.header("range").is_some_and(|v| v != "bytes=0-"))
        .collect();
    assert!(!continuing.is_empty(), "{log:?}");
    for r in continuing {
        assert_eq!(r.header("if-range"), Some(if_range), "{r:?}");
    }
}

fn assert_restarted(notices: &[String], why: &str) {
    assert!(
        notices
            .iter()
            .any(|n| n.starts_with("the remote file changed") && n.contains(why)),
        "no restart notice naming {why:?}: {notices:?}"
    );
}

#[test]
fn the_validators_are_recorded_in_the_control_file() {
    let dir = Dir::new("rv-record");
    let old = TestFile::random(1 << 20, 140);
    let state = first_run(&dir, &old, Some("\"v1\""), Some(LM1));
    assert_eq!(state.validators.etag.as_deref(), Some("\"v1\""));
    assert_eq!(state.validators.last_modified.as_deref(), Some(LM1));
    assert_eq!(state.total_len, old.len() as u64);
}

#[test]
fn a_file_replaced_by_one_of_the_same_length_is_fetched_again_whole() {
    let dir = Dir::new("rv-same-len");
    let old = TestFile::random(1 << 20, 141);
    let new = TestFile::random(1 << 20, 142);
    first_run(&dir, &old, Some("\"v1\""), Some(LM1));
    let server = serve(&new, Some("\"v2\""), Some(LM2), None);
    let (st, notices) = second_run(&dir, vec![server.url("/f")]);
    assert_ok(&st, &new);
    assert_restarted(&notices, "ETag \"v2\" now, \"v1\" before");
}

#[test]
fn a_file_replaced_by_one_of_another_length_is_fetched_again_whole() {
    let dir = Dir::new("rv-other-len");
    let old = TestFile::random(1 << 20, 143);
    let new = TestFile::random((1 << 20) + 4321, 144);
    // No validators at all: the length is all that tells the versions apart.
    first_run(&dir, &old, None, None);
    let server = serve(&new, None, None, None);
    let (st, notices) = second_run(&dir, vec![server.url("/f")]);
    assert_ok(&st, &new);
    assert_restarted(&notices, "length 1052897 now, 1048576 before");
}

#[test]
fn a_new_etag_alone_restarts() {
    let dir = Dir::new("rv-etag");
    let old = TestFile::random(1 << 20, 145);
    let new = TestFile::random(1 << 20, 146);
    first_run(&dir, &old, Some("\"v1\""), Some(LM1));
    // Same date, new tag (a server that keeps mtimes, or a clock that did not move).
    let server = serve(&new, Some("\"v2\""), Some(LM1), None);
    let (st, notices) = second_run(&dir, vec![server.url("/f")]);
    assert_ok(&st, &new);
    assert_restarted(&notices, "ETag");
}

#[test]
fn a_new_last_modified_alone_restarts() {
    let dir = Dir::new("rv-lm");
    let old = TestFile::random(1 << 20, 147);
    let new = TestFile::random(1 << 20, 148);
    first_run(&dir, &old, None, Some(LM1));
    let server = serve(&new, None, Some(LM2), None);
    let (st, notices) = second_run(&dir, vec![server.url("/f")]);
    assert_ok(&st, &new);
    assert_restarted(&notices, &format!("Last-Modified {LM2} now, {LM1} before"));
}

#[test]
fn an_unchanged_file_resumes_and_continuing_requests_carry_if_range() {
    let dir = Dir::new("rv-same");
    let data = TestFile::random(1 << 20, 149);
    first_run(&dir, &data, Some("\"v1\""), Some(LM1));
    let server = serve(&data, Some("\"v1\""), Some(LM1), None);
    let (st, notices) = second_run(&dir, vec![server.url("/f")]);
    assert_ok(&st, &data);
    assert_resumed_under_if_range(&notices, &server, "\"v1\"");
}

/// Two mirrors of `data` under different tags (`b`'s bytes are `b_data`), eight
/// connections over both; returns the final status, the notices and `b`'s requests.
fn two_mirrors(
    dir: &Dir,
    data: &[u8],
    b_data: &[u8],
    checksum: Option<swarmget_engine::digest::Digest>,
) -> (swarmget_engine::DownloadStatus, Vec<String>, usize) {
    let a = serve(data, Some("\"v1\""), None, None);
    let b = serve(b_data, Some("\"v2\""), None, None);
    let o = Options {
        checksum,
        split: 8,
        max_connection_per_server: 4,
        ..segmented(&dir.0, 8)
    };
    let (st, notices) = run_with(o, vec![a.url("/f"), b.url("/f")]);
    (st, notices, b.requests_for("/f").len())
}

#[test]
fn a_mirror_with_another_version_is_dropped_and_never_mixed_in() {
    let good = TestFile::random(2 << 20, 150);
    let other = TestFile::random(2 << 20, 151);
    let dir = Dir::new("rv-mirrors");
    let (st, notices, _) = two_mirrors(&dir, &good, &other, None);
    assert_ok(&st, &good);
    assert!(
        notices
            .iter()
            .any(|n| n.contains("has another version of the file (ETag \"v2\"")),
        "{notices:?}"
    );
}

#[test]
fn a_mirror_with_another_tag_is_kept_when_a_checksum_checks_the_bytes() {
    use swarmget_engine::digest::{Digest, HashKind, Hasher};
    // The same bytes under another tag (another server's ETag scheme).
    let data = TestFile::random(2 << 20, 157);
    let sum = Digest {
        kind: HashKind::Sha256,
        bytes: {
            let mut h = Hasher::new(HashKind::Sha256);
            h.update(&data);
            h.finish().bytes
        },
    };
    let dir = Dir::new("rv-mirrors-sum");
    let (st, notices, b_requests) = two_mirrors(&dir, &data, &data, Some(sum));
    assert_ok(&st, &data);
    assert!(
        !notices.iter().any(|n| n.contains("another version")),
        "{notices:?}"
    );
    assert!(b_requests > 1, "the second mirror was not used");
}

/// A control file claiming pieces 4..8 of `old` beside a file holding them, with the
/// version's MDTM (seconds since 1970) when given, as an earlier FTP run leaves it.
fn ftp_leftover(dir: &Dir, url: String, old: &[u8], mdtm: Option<u64>) {
    let piece = 64 << 10;
    let path = dir.0.join("f");
    let mut partial = vec![0u8; old.len()];
    partial[4 * piece..8 * piece].copy_from_slice(&old[4 * piece..8 * piece]);
    std::fs::write(&path, &partial).unwrap();
    let storage =
        swarmget_engine::storage::Storage::single(path.clone(), old.len() as u64, piece as u64)
            .unwrap();
    let mut record = ControlState::new(&storage, &dir.0, url).unwrap();
    for p in 4..8 {
        record.verified.set(p);
    }
    record.validators.mdtm = mdtm.map(|s| format!("{s}.000000000"));
    record.save(&control_path(&path)).unwrap();
}

#[test]
fn ftp_a_new_mdtm_restarts_and_the_same_one_resumes() {
    use swarmget_test_support::{FtpConfig, FtpServer};
    let old = TestFile::random(16 << 16, 152);
    let new = TestFile::random(16 << 16, 153);
    let dir = Dir::new("rv-ftp-mdtm");
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/f", new.clone())
            .modified(1_800_000_000),
    )
    .unwrap();
    ftp_leftover(&dir, server.url("/f"), &old, Some(1_700_000_000));
    let (st, notices) = second_run(&dir, vec![server.url("/f")]);
    assert_ok(&st, &new);
    assert_restarted(
        &notices,
        "MDTM 1800000000.000000000 now, 1700000000.000000000 before",
    );

    // The same MDTM: the recorded pieces are kept (never asked for again).
    let dir = Dir::new("rv-ftp-same");
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/f", old.clone())
            .modified(1_700_000_000),
    )
    .unwrap();
    ftp_leftover(&dir, server.url("/f"), &old, Some(1_700_000_000));
    let (st, notices) = second_run(&dir, vec![server.url("/f")]);
    assert_ok(&st, &old);
    assert!(
        !notices.iter().any(|n| n.contains("remote file changed")),
        "{notices:?}"
    );
    assert!(
        !server
            .command_lines()
            .iter()
            .any(|l| l == &format!("REST {}", 4 << 16)),
        "recorded pieces fetched again: {:?}",
        server.command_lines()
    );
}

#[test]
fn ftp_a_new_size_restarts() {
    use swarmget_test_support::{FtpConfig, FtpServer};
    let old = TestFile::random(16 << 16, 154);
    let new = TestFile::random((16 << 16) + 99, 155);
    let dir = Dir::new("rv-ftp-size");
    let server = FtpServer::start(FtpConfig::new().file("/f", new.clone())).unwrap();
    // A control file from before the validators: only the length tells.
    ftp_leftover(&dir, server.url("/f"), &old, None);
    let (st, notices) = second_run(&dir, vec![server.url("/f")]);
    assert_ok(&st, &new);
    assert_restarted(&notices, "length 1048675 now, 1048576 before");
}

/// The file changes after the first answer, while four connections fetch it.
fn changed_mid_download(honour_if_range: bool, name: &str) -> (Vec<u8>, Vec<String>) {
    let old = TestFile::random(2 << 20, 156);
    let new = swarmget_test_support::new_version(&old);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", old)
            .new_version_after(1, honour_if_range),
    )
    .unwrap();
    let dir = Dir::new(name);
    let (st, notices) = second_run(&dir, vec![server.url("/f")]);
    assert_ok(&st, &new);
    let log = server.requests_for("/f");
    assert!(
        log.iter()
            .skip(1)
            .any(|r| r.header("if-range") == Some("\"v1\"")),
        "{log:?}"
    );
    (new, notices)
}

#[test]
fn a_change_mid_download_under_if_range_restarts_from_the_whole_new_file() {
    let (_, notices) = changed_mid_download(true, "rv-mid-ifrange");
    assert_restarted(
        &notices,
        "the server sent the whole file in answer to If-Range",
    );
}

#[test]
fn a_change_mid_download_behind_a_server_ignoring_if_range_is_caught_on_the_head() {
    let (_, notices) = changed_mid_download(false, "rv-mid-206");
    assert_restarted(&notices, "ETag \"v2\" now, \"v1\" before");
}

#[test]
fn a_file_that_changes_on_every_answer_fails_after_a_bounded_number_of_restarts() {
    let data = TestFile::random(2 << 20, 158);
    let server =
        HttpServer::start(ServerConfig::new().file("/f", data).etag_per_request()).unwrap();
    let dir = Dir::new("rv-every-answer");
    let (st, notices) = run_with(segmented(&dir.0, 4), vec![server.url("/f")]);
    common::assert_err(&st, swarmget_engine::ErrorCode::CannotResume);
    let restarts = notices
        .iter()
        .filter(|n| n.starts_with("the remote file changed"))
        .count();
    assert_eq!(restarts, 5, "{notices:?}");
    match &st.state {
        swarmget_engine::DownloadState::Error(e) => {
            assert!(
                e.message.starts_with("the remote file changed 6 times"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
}

/// The notice of a restart because mirrors cannot resume (`--always-resume=false`).
const NO_RESUME_RESTART: &str = "cannot resume this download (--always-resume=false)";

/// A server of `data` under ETag "v1" that answers every range with the whole file.
fn serve_whole(data: &[u8]) -> HttpServer {
    HttpServer::start(
        ServerConfig::new()
            .file("/f", data.to_vec())
            .header("ETag", "\"v1\"")
            .ignore_ranges(),
    )
    .unwrap()
}

#[test]
fn with_always_resume_a_server_that_cannot_resume_fails_the_download_with_8() {
    let dir = Dir::new("rv-always");
    let data = TestFile::random(1 << 20, 160);
    first_run(&dir, &data, Some("\"v1\""), None);
    let server = serve_whole(&data);
    let (st, _) = second_run(&dir, vec![server.url("/f")]);
    common::assert_err(&st, swarmget_engine::ErrorCode::CannotResume);
}

#[test]
fn without_always_resume_a_server_that_cannot_resume_restarts_from_byte_0() {
    let dir = Dir::new("rv-no-always");
    let data = TestFile::random(1 << 20, 161);
    first_run(&dir, &data, Some("\"v1\""), None);
    let server = serve_whole(&data);
    let o = Options {
        always_resume: false,
        ..options(&dir)
    };
    let (st, notices) = run_with(o, vec![server.url("/f")]);
    assert_ok(&st, &data);
    assert!(
        notices.iter().any(|n| n.contains(NO_RESUME_RESTART)
            && n.ends_with("discarding what is on disk and downloading from the start")),
        "{notices:?}"
    );
}

/// A resume over two mirrors, `a` resuming and `b` answering every range with the
/// whole file, with `--always-resume=false` and `--max-resume-failure-tries=tries`.
fn one_mirror_cannot_resume(name: &str, tries: u32) -> Vec<String> {
    let dir = Dir::new(name);
    let data = TestFile::random(2 << 20, 162);
    first_run(&dir, &data, Some("\"v1\""), None);
    let a = serve(&data, Some("\"v1\""), None, None);
    let b = serve_whole(&data);
    let o = Options {
        always_resume: false,
        max_resume_failure_tries: tries,
        split: 8,
        max_connection_per_server: 4,
        ..options(&dir)
    };
    let (st, notices) = run_with(o, vec![a.url("/f"), b.url("/f")]);
    assert_ok(&st, &data);
    assert!(
        !b.requests_for("/f").is_empty(),
        "the mirror that cannot resume was never asked"
    );
    notices
}

#[test]
fn max_resume_failure_tries_0_restarts_only_when_no_mirror_can_resume() {
    let notices = one_mirror_cannot_resume("rv-tries-0", 0);
    assert!(
        !notices.iter().any(|n| n.contains(NO_RESUME_RESTART)),
        "{notices:?}"
    );
    assert!(
        notices
            .iter()
            .any(|n| n.ends_with("cannot resume this download; using the other mirrors")),
        "{notices:?}"
    );
}

#[test]
fn max_resume_failure_tries_1_restarts_at_the_first_mirror_that_cannot_resume() {
    let notices = one_mirror_cannot_resume("rv-tries-1", 1);
    assert!(
        notices.iter().any(|n| n.contains(NO_RESUME_RESTART)),
        "{notices:?}"
    );
}

/// The modification time of `dir`/f.
fn mtime(dir: &Dir) -> std::time::SystemTime {
    std::fs::metadata(dir.0.join("f"))
        .unwrap()
        .modified()
        .unwrap()
}

fn at(secs: u64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)
}

/// Seconds of [`LM1`] and [`LM2`].
const LM1_SECS: u64 = 1_796_533_200;
const LM2_SECS: u64 = 1_796_536_800;

#[test]
fn remote_time_gives_the_finished_file_the_servers_last_modified_or_mdtm() {
    use swarmget_test_support::{FtpConfig, FtpServer};
    let data = TestFile::random(300_000, 163);
    let server = serve(&data, Some("\"v1\""), Some(LM1), None);
    let dir = Dir::new("rv-remote-time");
    let o = Options {
        remote_time: true,
        ..segmented(&dir.0, 2)
    };
    let (st, _) = run_with(o.clone(), vec![server.url("/f")]);
    assert_ok(&st, &data);
    assert_eq!(mtime(&dir), at(LM1_SECS));

    let dir = Dir::new("rv-remote-time-off");
    let (st, _) = run_with(segmented(&dir.0, 2), vec![server.url("/f")]);
    assert_ok(&st, &data);
    assert_ne!(mtime(&dir), at(LM1_SECS), "the time was set without -R");

    let ftp = FtpServer::start(
        FtpConfig::new()
            .file("/f", data.clone())
            .modified(1_700_000_000),
    )
    .unwrap();
    let dir = Dir::new("rv-remote-time-ftp");
    let o = Options {
        remote_time: true,
        ..segmented(&dir.0, 2)
    };
    let (st, _) = run_with(o, vec![ftp.url("/f")]);
    assert_ok(&st, &data);
    assert_eq!(mtime(&dir), at(1_700_000_000));
}

/// A bare file (no control file) holding the first half of `old`, with modification
/// time `secs`, as an earlier run or another tool leaves it.
fn bare_half(dir: &Dir, old: &[u8], secs: u64) {
    let path = dir.0.join("f");
    std::fs::write(&path, &old[..old.len() / 2]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(at(secs))
        .unwrap();
}

#[test]
fn with_remote_time_a_bare_file_of_the_servers_time_resumes_under_if_range() {
    let dir = Dir::new("rv-bare-same");
    let data = TestFile::random(1 << 20, 164);
    bare_half(&dir, &data, LM1_SECS);
    let server = serve(&data, None, Some(LM1), None);
    let o = Options {
        remote_time: true,
        ..options(&dir)
    };
    let (st, notices) = run_with(o, vec![server.url("/f")]);
    assert_ok(&st, &data);
    assert_resumed_under_if_range(&notices, &server, LM1);
}

#[test]
fn with_remote_time_a_bare_file_of_an_older_version_is_fetched_again_whole() {
    let dir = Dir::new("rv-bare-older");
    let old = TestFile::random(1 << 20, 165);
    let new = TestFile::random(1 << 20, 166);
    bare_half(&dir, &old, LM1_SECS);
    let server = serve(&new, None, Some(LM2), None);
    let o = Options {
        remote_time: true,
        ..options(&dir)
    };
    let (st, notices) = run_with(o, vec![server.url("/f")]);
    assert_ok(&st, &new);
    assert_restarted(&notices, &format!("Last-Modified {LM2} now, {LM1} before"));
    assert_eq!(mtime(&dir), at(LM2_SECS));
}

#[test]
fn conditional_get_leaves_a_file_as_new_as_the_servers_untouched() {
    let dir = Dir::new("rv-conditional");
    let data = TestFile::random(200_000, 170);
    let local = TestFile::random(1000, 171);
    let path = dir.0.join("f");
    std::fs::write(&path, &local).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(at(LM1_SECS))
        .unwrap();
    let server = serve(&data, None, Some(LM1), None);
    let o = Options {
        conditional_get: true,
        ..segmented(&dir.0, 2)
    };
    let (st, notices) = run_with(o.clone(), vec![server.url("/f")]);
    assert_eq!(st.state, swarmget_engine::DownloadState::Complete);
    assert_eq!(std::fs::read(&path).unwrap(), local, "the file was touched");
    assert!(
        notices
            .iter()
            .any(|n| n.ends_with("is up to date (304 Not Modified); not downloaded")),
        "{notices:?}"
    );
    let request = &server.requests_for("/f")[0];
    assert_eq!(request.header("if-modified-since"), Some(LM1));

    // An older local file: the server's is fetched (over it, with --allow-overwrite).
    let newer = serve(&data, None, Some(LM2), None);
    let o = Options {
        allow_overwrite: true,
        ..o
    };
    let (st, _) = run_with(o, vec![newer.url("/f")]);
    assert_ok(&st, &data);
}

#[test]
fn ftp_a_server_refusing_rest_on_resume_meets_always_resume() {
    use swarmget_test_support::{FtpConfig, FtpServer};
    let data = TestFile::random(16 << 16, 172);
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/f", data.clone())
            .modified(1_700_000_000)
            .refuse_rest(),
    )
    .unwrap();
    // The default: exit 8.
    let dir = Dir::new("rv-ftp-norest");
    ftp_leftover(&dir, server.url("/f"), &data, Some(1_700_000_000));
    let (st, _) = second_run(&dir, vec![server.url("/f")]);
    common::assert_err(&st, swarmget_engine::ErrorCode::CannotResume);
    // --always-resume=false: from byte 0. One connection, so the fresh run after the
    // restart reads front to back (its other connections would need REST too).
    let dir = Dir::new("rv-ftp-norest-restart");
    ftp_leftover(&dir, server.url("/f"), &data, Some(1_700_000_000));
    let o = Options {
        always_resume: false,
        split: 1,
        max_connection_per_server: 1,
        ..options(&dir)
    };
    let (st, notices) = run_with(o, vec![server.url("/f")]);
    assert_ok(&st, &data);
    assert!(
        notices.iter().any(|n| n.contains(NO_RESUME_RESTART)),
        "{notices:?}"
    );
}
