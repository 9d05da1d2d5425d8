//! FTP sources against the in-process FTP server: whole files, segments on reused
//! control connections, HTTP and FTP mirrors filling one file, and every misbehaviour
//! ending in the right bytes or the right error.

use std::time::Duration;

use swarmget_engine::{DownloadState, ErrorCode, Options};
use swarmget_test_support::{FtpConfig, FtpServer, HttpServer, ServerConfig, TestFile};

mod common;

use common::{Dir, assert_err, assert_message, assert_ok, opts, run, segmented};

#[test]
fn whole_file_over_one_connection() {
    let data = TestFile::random(500_000, 1);
    let server = FtpServer::start(FtpConfig::new().file("/pub/f.bin", data.clone())).unwrap();
    let dir = Dir::new("whole");
    let st = run(vec![server.url("/pub/f.bin")], opts(&dir.0));
    assert_ok(&st, &data);
    assert_eq!(st.path.as_deref(), Some(dir.0.join("f.bin").as_path()));
    let lines = server.command_lines().join("\n");
    assert!(
        lines.contains("USER anonymous") && lines.contains("TYPE I") && lines.contains("SIZE"),
        "{lines}"
    );
}

#[test]
fn segments_start_with_rest() {
    let data = TestFile::random(3 << 20, 2);
    let server = FtpServer::start(FtpConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("segments");
    assert_ok(&run(vec![server.url("/f")], segmented(&dir.0, 4)), &data);
    let lines = server.command_lines();
    let rests = lines.iter().filter(|l| l.starts_with("REST")).count();
    assert!(rests >= 3, "segments start with REST: {rests}");
    let logins = lines.iter().filter(|l| l.starts_with("USER")).count();
    assert_eq!(
        logins,
        server.connections(),
        "one login per control connection"
    );
}

#[test]
fn one_session_aborts_and_retrieves_the_next_run() {
    // Pieces 4..8 are already on disk, so a single connection needs two runs:
    // [0, 4) stopped early with ABOR, then REST to piece 8 on the same session.
    let piece = 64 << 10;
    let data = TestFile::random(16 * piece, 10);
    let server = FtpServer::start(FtpConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("reuse");
    let path = dir.0.join("f");
    let mut partial = vec![0u8; data.len()];
    partial[4 * piece..8 * piece].copy_from_slice(&data[4 * piece..8 * piece]);
    std::fs::write(&path, &partial).unwrap();
    let mut done = swarmget_engine::bitfield::Bitfield::new(16);
    for p in 4..8 {
        done.set(p);
    }
    let storage =
        swarmget_engine::storage::Storage::single(path.clone(), data.len() as u64, piece as u64)
            .unwrap();
    let mut record =
        swarmget_engine::control::ControlState::new(&storage, &dir.0, server.url("/f")).unwrap();
    record.verified = done;
    record
        .save(&swarmget_engine::control::control_path(&path))
        .unwrap();
    let o = Options {
        continue_download: true,
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![server.url("/f")], o), &data);
    // One control connection, or two when the server left the ABOR unanswered and
    // the engine replaced the connection after its grace period.
    assert!(server.connections() <= 2, "{:?}", server.command_lines());
    assert_eq!(server.data_connections(), 2, "{:?}", server.command_lines());
    assert!(
        server
            .command_lines()
            .iter()
            .any(|l| l == &format!("REST {}", 8 * piece))
    );
}

#[test]
fn http_and_ftp_mirrors_fill_one_file() {
    let data = TestFile::random(4 << 20, 3);
    let ftp = FtpServer::start(FtpConfig::new().file("/f", data.clone())).unwrap();
    let http = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("mixed");
    let o = Options {
        split: 4,
        max_connection_per_server: 2,
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![http.url("/f"), ftp.url("/f")], o), &data);
    assert!(!http.log().is_empty(), "HTTP mirror unused");
    assert!(server_retrieved(&ftp), "FTP mirror unused");
}

fn server_retrieved(s: &FtpServer) -> bool {
    s.command_lines().iter().any(|l| l.starts_with("RETR"))
}

#[test]
fn a_mirror_that_lies_about_the_size_is_dropped() {
    let data = TestFile::random(2 << 20, 4);
    let liar = FtpServer::start(
        FtpConfig::new()
            .file("/f", data.clone())
            .lie_about_size(12345),
    )
    .unwrap();
    let http = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("liar");
    let o = Options {
        split: 4,
        max_connection_per_server: 2,
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![http.url("/f"), liar.url("/f")], o), &data);
    assert!(
        !server_retrieved(&liar),
        "bytes taken from a mirror with another size"
    );
}

#[test]
fn dropped_data_connections_are_retried() {
    let data = TestFile::random(1 << 20, 5);
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/f", data.clone())
            .drop_data_after_times(100_000, 2),
    )
    .unwrap();
    let dir = Dir::new("drop");
    let o = Options {
        max_tries: 5,
        ..segmented(&dir.0, 2)
    };
    assert_ok(&run(vec![server.url("/f")], o), &data);
}

#[test]
fn refused_rest_allows_one_connection_from_the_start_only() {
    let data = TestFile::random(1 << 20, 6);
    let server = FtpServer::start(FtpConfig::new().file("/f", data.clone()).refuse_rest()).unwrap();
    let dir = Dir::new("norest");
    assert_ok(&run(vec![server.url("/f")], opts(&dir.0)), &data);
    // With four connections the three that need REST fail; the one reading from the
    // start may carry on over their freed bytes and finish, or stop with exit 8 when
    // its run ended first. Either way, never a wrong file.
    let dir = Dir::new("norest-seg");
    let st = run(vec![server.url("/f")], segmented(&dir.0, 4));
    match &st.state {
        DownloadState::Complete => assert_ok(&st, &data),
        _ => assert_err(&st, ErrorCode::CannotResume),
    }
}

#[test]
fn foreign_pasv_addresses_are_refused() {
    let data = TestFile::random(10_000, 7);
    // The PASV reply names 127.0.0.2, another host than the control connection's
    // 127.0.0.1, where the test listens: a client without bounce protection would
    // connect there, and the connection would wait in this listener's backlog.
    let decoy = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
    decoy.set_nonblocking(true).unwrap();
    let std::net::SocketAddr::V4(decoy_addr) = decoy.local_addr().unwrap() else {
        unreachable!("bound to an IPv4 address")
    };
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/f", data)
            .refuse_epsv()
            .pasv_target(decoy_addr),
    )
    .unwrap();
    let dir = Dir::new("bounce");
    let o = Options {
        max_tries: 1,
        ..opts(&dir.0)
    };
    let st = run(vec![server.url("/f")], o);
    match decoy.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("the client connected to the foreign address: {other:?}"),
    }
    assert_eq!(server.data_connections(), 0);
    assert_err(&st, ErrorCode::Ftp);
    assert_message(
        &st,
        &format!("offered {decoy_addr}, which is not the control connection's peer"),
    );
}

#[test]
fn a_server_that_stops_answering_times_out() {
    let server =
        FtpServer::start(FtpConfig::new().file("/f", vec![1; 10]).hang_on("RETR")).unwrap();
    let dir = Dir::new("hang");
    let o = Options {
        max_tries: 1,
        timeout: Duration::from_secs(1),
        ..opts(&dir.0)
    };
    assert_err(&run(vec![server.url("/f")], o), ErrorCode::Timeout);
}

#[test]
fn logins_and_wrong_passwords() {
    let data = TestFile::random(10_000, 8);
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/f", data.clone())
            .credentials("alice", "pw"),
    )
    .unwrap();
    let dir = Dir::new("login");
    let o = Options {
        max_tries: 1,
        ..opts(&dir.0)
    };
    assert_err(&run(vec![server.url("/f")], o.clone()), ErrorCode::HttpAuth);
    let with_user = server.url("/f").replacen("ftp://", "ftp://alice:pw@", 1);
    assert_ok(&run(vec![with_user], o.clone()), &data);
    let dir2 = Dir::new("login-opts");
    let o = Options {
        ftp_user: Some("alice".into()),
        ftp_passwd: Some("pw".into()),
        ..opts(&dir2.0)
    };
    assert_ok(&run(vec![server.url("/f")], o), &data);
}

#[test]
fn active_mode_and_awkward_replies() {
    let data = TestFile::random(600_000, 9);
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/f", data.clone())
            .multiline_replies()
            .split_replies(7, Duration::from_millis(1)),
    )
    .unwrap();
    let dir = Dir::new("active");
    let o = Options {
        ftp_pasv: false,
        ..segmented(&dir.0, 2)
    };
    assert_ok(&run(vec![server.url("/f")], o), &data);
    assert!(
        server
            .command_lines()
            .iter()
            .any(|l| l.starts_with("PORT") || l.starts_with("EPRT"))
    );
}

#[test]
fn missing_file_is_not_found() {
    let server = FtpServer::start(FtpConfig::new().file("/f", vec![1; 10])).unwrap();
    let dir = Dir::new("missing");
    assert_err(
        &run(vec![server.url("/nope")], opts(&dir.0)),
        ErrorCode::NotFound,
    );
}

#[test]
fn ftp_through_an_http_proxy() {
    // The in-process HTTP server answers absolute-form requests by path, so it can
    // stand in for a proxy that fetches ftp:// URIs.
    let data = TestFile::random(700_000, 11);
    let proxy = HttpServer::start(ServerConfig::new().file("/pub/f.iso", data.clone())).unwrap();
    let dir = Dir::new("proxy");
    let o = Options {
        ftp_proxy: Some(swarmget_engine::options::ProxyUri::parse(&proxy.url("/")).unwrap()),
        ..segmented(&dir.0, 2)
    };
    let st = run(vec!["ftp://files.invalid/pub/f.iso".into()], o);
    assert_ok(&st, &data);
    let first = &proxy.log()[0];
    assert_eq!(first.target, "ftp://files.invalid/pub/f.iso");
    assert_eq!(first.header("host"), Some("files.invalid"));
}
