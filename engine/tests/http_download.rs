//! The engine against the misbehaving in-process server: every misbehaviour ends in
//! the right bytes or the right error — never a wrong file reported done.

use std::time::Duration;

use swarmget_engine::{DownloadSpec, DownloadState, ErrorCode, Options};
use swarmget_test_support::{HttpServer, ServerConfig, TestCa, TestFile, sha256_hex};

mod common;

use common::{Batch, Dir, assert_err, assert_message, assert_ok, opts, run};

#[test]
fn segmented_download_spreads_over_connections() {
    let data = TestFile::random(3 << 20, 1);
    let server = HttpServer::start(ServerConfig::new().file("/f.bin", data.clone())).unwrap();
    let dir = Dir::new("seg");
    let mut o = opts(&dir.0);
    o.split = 8;
    o.max_connection_per_server = 8;
    let st = run(vec![server.url("/f.bin")], o);
    assert_ok(&st, &data);
    assert!(
        server.connections() >= 4,
        "only {} connections",
        server.connections()
    );
    let ranged = server.log().iter().filter(|r| r.range().is_some()).count();
    assert!(ranged >= 4, "{ranged} range requests");
}

#[test]
fn server_ignoring_ranges_falls_back_to_one_connection() {
    let data = TestFile::random(1 << 20, 2);
    let server =
        HttpServer::start(ServerConfig::new().file("/f", data.clone()).ignore_ranges()).unwrap();
    let dir = Dir::new("noranges");
    let mut o = opts(&dir.0);
    o.split = 4;
    o.max_connection_per_server = 4;
    assert_ok(&run(vec![server.url("/f")], o), &data);
    // The first answer (200, whole file) ends the plan: no second connection, no
    // second request that would fetch the file again.
    assert_eq!(server.connections(), 1);
    assert_eq!(server.log().len(), 1, "{:?}", server.log());
}

#[test]
fn wrong_content_range_is_never_written() {
    let data = TestFile::random(1 << 20, 3);
    let server =
        HttpServer::start(ServerConfig::new().file("/f", data).wrong_content_range()).unwrap();
    let dir = Dir::new("wrongcr");
    let st = run(vec![server.url("/f")], opts(&dir.0));
    assert_err(&st, ErrorCode::HttpHeader);
    assert_message(&st, "asked for bytes from 0, server sent from 1");
    // Every answer was one byte off; none of those bytes may reach the disk.
    for entry in std::fs::read_dir(&dir.0).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            bytes.iter().all(|&b| b == 0),
            "{} holds downloaded bytes",
            path.display()
        );
    }
}

#[test]
fn length_change_mid_download_restarts_from_the_new_version() {
    let data = TestFile::random(2 << 20, 4);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .change_length_after(1),
    )
    .unwrap();
    let dir = Dir::new("lenchange");
    let mut o = opts(&dir.0);
    o.split = 4;
    o.max_connection_per_server = 4;
    let st = run(vec![server.url("/f")], o);
    // The server's changed file: the old bytes and 1024 new ones (test-support's
    // ChangeLength). The bytes fetched before the change count for nothing.
    let mut changed = data.clone();
    changed.extend(TestFile::random(1024, data.len() as u64 ^ 0x5EED));
    assert_ok(&st, &changed);
}

#[test]
fn dropped_connections_are_retried_to_the_right_bytes() {
    let data = TestFile::random(2 << 20, 5);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .drop_after_times(100_000, 3),
    )
    .unwrap();
    let dir = Dir::new("drop");
    let mut o = opts(&dir.0);
    o.split = 2;
    o.max_connection_per_server = 2;
    o.max_tries = 5;
    assert_ok(&run(vec![server.url("/f")], o), &data);
}

#[test]
fn chunked_gzip_and_unframed_bodies_stream_to_disk() {
    let data = TestFile::random(700_000, 6);
    for (name, cfg, accept_gzip) in [
        ("chunked", ServerConfig::new().chunked(), false),
        ("gzip", ServerConfig::new().gzip(), true),
        ("noframe", ServerConfig::new().no_content_length(), false),
    ] {
        let server = HttpServer::start(cfg.file("/f", data.clone())).unwrap();
        let dir = Dir::new(name);
        let o = Options {
            http_accept_gzip: accept_gzip,
            ..opts(&dir.0)
        };
        assert_ok(&run(vec![server.url("/f")], o), &data);
        if accept_gzip {
            let request = &server.requests_for("/f")[0];
            assert_eq!(request.header("accept-encoding"), Some("deflate, gzip"));
        }
    }
}

#[test]
fn without_http_accept_gzip_a_gzip_coded_body_is_stored_as_sent() {
    use std::io::Read;
    // A .tar.gz served with Content-Encoding: gzip must stay a .tar.gz (as aria2).
    let data = TestFile::random(300_000, 60);
    let server = HttpServer::start(ServerConfig::new().gzip().file("/f", data.clone())).unwrap();
    let dir = Dir::new("gzip-as-sent");
    let st = run(vec![server.url("/f")], opts(&dir.0));
    assert_eq!(st.state, DownloadState::Complete, "{:?}", st.state);
    let stored = std::fs::read(dir.0.join("f")).unwrap();
    assert_eq!(
        &stored[..2],
        &[0x1f, 0x8b],
        "not the gzip stream the server sent"
    );
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&stored[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert!(
        decoded == data,
        "the stored stream does not decode to the file"
    );
    let request = &server.requests_for("/f")[0];
    assert_ne!(request.header("accept-encoding"), Some("deflate, gzip"));
}

#[test]
fn redirects_are_followed_and_loops_stopped() {
    let data = TestFile::random(300_000, 7);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/real", data.clone())
            .redirect("/old", "/real", 302)
            .redirect_loop("/loop"),
    )
    .unwrap();
    let dir = Dir::new("redirect");
    assert_ok(&run(vec![server.url("/old")], opts(&dir.0)), &data);
    let st = run(vec![server.url("/loop")], opts(&dir.0));
    assert_err(&st, ErrorCode::TooManyRedirects);
}

#[test]
fn error_statuses_map_to_aria2_exit_codes() {
    let dir = Dir::new("status");
    let s404 = HttpServer::start(ServerConfig::new().file("/f", vec![1; 10]).status(404)).unwrap();
    assert_err(
        &run(vec![s404.url("/f")], opts(&dir.0)),
        ErrorCode::NotFound,
    );
    let s500 = HttpServer::start(ServerConfig::new().file("/f", vec![1; 10]).status(500)).unwrap();
    let mut o = opts(&dir.0);
    o.max_tries = 2;
    assert_err(&run(vec![s500.url("/f")], o), ErrorCode::HttpHeader);
    assert_eq!(s500.log().len(), 2, "max-tries=2 means two requests");
}

#[test]
fn service_unavailable_waits_for_retry_after() {
    let data = TestFile::random(100_000, 8);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .service_unavailable(1, 1),
    )
    .unwrap();
    let dir = Dir::new("503");
    let t = std::time::Instant::now();
    assert_ok(&run(vec![server.url("/f")], opts(&dir.0)), &data);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "Retry-After ignored"
    );
}

#[test]
fn a_megabyte_of_headers_is_refused() {
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", vec![1; 10])
            .huge_headers(1 << 20),
    )
    .unwrap();
    let dir = Dir::new("hugeheaders");
    assert_err(
        &run(vec![server.url("/f")], opts(&dir.0)),
        ErrorCode::HttpHeader,
    );
}

#[test]
fn content_disposition_cannot_escape_the_directory() {
    let data = TestFile::random(1000, 9);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .content_disposition("attachment; filename=\"../../evil.bin\""),
    )
    .unwrap();
    let dir = Dir::new("cd");
    let st = run(vec![server.url("/f")], opts(&dir.0));
    assert_ok(&st, &data);
    assert_eq!(st.path.as_deref(), Some(dir.0.join("evil.bin").as_path()));
}

#[test]
fn a_silent_server_times_out() {
    let server = HttpServer::start(ServerConfig::new().file("/f", vec![1; 10]).stall()).unwrap();
    let dir = Dir::new("stall");
    let mut o = opts(&dir.0);
    o.timeout = Duration::from_secs(1);
    o.max_tries = 1;
    assert_err(&run(vec![server.url("/f")], o), ErrorCode::Timeout);
}

#[test]
fn a_trickling_server_is_dropped_below_the_lowest_speed_limit() {
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", vec![7; 200_000])
            .trickle(1024),
    )
    .unwrap();
    let dir = Dir::new("slow");
    let mut o = opts(&dir.0);
    o.lowest_speed_limit = 50_000;
    o.max_tries = 1;
    assert_err(&run(vec![server.url("/f")], o), ErrorCode::TooSlow);
}

#[test]
fn checksum_is_verified() {
    let data = TestFile::random(200_000, 10);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("checksum");
    let mut o = opts(&dir.0);
    o.checksum = Some(
        swarmget_engine::digest::Digest::parse(&format!("sha-256={}", sha256_hex(&data))).unwrap(),
    );
    assert_ok(&run(vec![server.url("/f")], o.clone()), &data);
    o.allow_overwrite = true;
    o.checksum = Some(
        swarmget_engine::digest::Digest::parse(&format!("sha-256={}", "0".repeat(64))).unwrap(),
    );
    let st = run(vec![server.url("/f")], o);
    assert_err(&st, ErrorCode::Checksum);
    assert!(dir.0.join("f").exists(), "file kept for inspection");
}

#[test]
fn two_mirrors_share_one_file() {
    let data = TestFile::random(4 << 20, 11);
    let a = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let b = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("mirrors");
    let mut o = opts(&dir.0);
    o.split = 4;
    o.max_connection_per_server = 2;
    assert_ok(&run(vec![a.url("/f"), b.url("/f")], o), &data);
    assert!(
        !a.log().is_empty() && !b.log().is_empty(),
        "both mirrors used"
    );
}

#[test]
fn https_with_a_test_ca_and_client_certificates() {
    let data = TestFile::random(1 << 20, 12);
    let ca = TestCa::new();
    let dir = Dir::new("tls");
    let ca_path = dir.0.join("ca.pem");
    std::fs::write(&ca_path, ca.cert_pem()).unwrap();
    let server =
        HttpServer::start_tls(ServerConfig::new().file("/f", data.clone()).tls_ca(&ca)).unwrap();
    let mut o = opts(&dir.0);
    o.split = 4;
    o.max_connection_per_server = 4;
    o.ca_certificate = Some(ca_path.clone());
    assert_ok(&run(vec![server.url("/f")], o.clone()), &data);

    // Without the CA the handshake must fail, and say why. aria2 exits 1 here (its
    // TLS errors carry no code); swarmget gives its network-problem code, 6, as it
    // does for a refused connection.
    let mut untrusted = opts(&dir.0);
    untrusted.max_tries = 1;
    untrusted.allow_overwrite = true;
    let st = run(vec![server.url("/f")], untrusted.clone());
    assert_err(&st, ErrorCode::Network);
    assert_message(&st, "invalid peer certificate: UnknownIssuer");
    // Unless checking is off.
    untrusted.check_certificate = false;
    assert_ok(&run(vec![server.url("/f")], untrusted), &data);

    let client_ca = TestCa::new();
    let strict = HttpServer::start_tls(
        ServerConfig::new()
            .file("/g", data.clone())
            .tls_ca(&ca)
            .require_client_cert(&client_ca),
    )
    .unwrap();
    let (cert, key) = client_ca
        .client_identity("swarmget")
        .write_files(&dir.0, "client")
        .unwrap();
    o.max_tries = 1;
    let st = run(vec![strict.url("/g")], o.clone());
    assert_err(&st, ErrorCode::Network);
    assert_message(&st, "CertificateRequired");
    o.certificate = Some(cert);
    o.private_key = Some(key);
    assert_ok(&run(vec![strict.url("/g")], o), &data);
}

#[test]
fn min_tls_version_refuses_an_older_server() {
    let data = TestFile::random(100_000, 13);
    let ca = TestCa::new();
    let dir = Dir::new("min-tls");
    let ca_path = dir.0.join("ca.pem");
    std::fs::write(&ca_path, ca.cert_pem()).unwrap();
    let old = HttpServer::start_tls(
        ServerConfig::new()
            .file("/f", data.clone())
            .tls_ca(&ca)
            .tls12_only(),
    )
    .unwrap();
    let mut o = opts(&dir.0);
    o.ca_certificate = Some(ca_path);
    o.max_tries = 1;
    o.set("min-tls-version", "TLSv1.3").unwrap();
    let st = run(vec![old.url("/f")], o.clone());
    assert_err(&st, ErrorCode::Network);
    assert_message(&st, "ProtocolVersion");
    // The default (TLSv1.2) speaks to it.
    o.set("min-tls-version", "TLSv1.2").unwrap();
    assert_ok(&run(vec![old.url("/f")], o), &data);
}

#[test]
fn http_no_cache_asks_caches_for_a_fresh_copy() {
    let data = TestFile::random(10_000, 14);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("no-cache");
    let mut o = opts(&dir.0);
    assert_ok(&run(vec![server.url("/f")], o.clone()), &data);
    assert_eq!(server.requests_for("/f")[0].header("cache-control"), None);
    let dir = Dir::new("no-cache-on");
    o.dir = dir.0.clone();
    o.http_no_cache = true;
    assert_ok(&run(vec![server.url("/f")], o), &data);
    let request = server.requests_for("/f").pop().unwrap();
    assert_eq!(request.header("cache-control"), Some("no-cache"));
    assert_eq!(request.header("pragma"), Some("no-cache"));
}

#[test]
fn ipv6_loopback() {
    let data = TestFile::random(100_000, 13);
    let server = match HttpServer::start_v6(ServerConfig::new().file("/f", data.clone())) {
        Ok(server) => server,
        // Only a machine without ::1 may skip; any other failure is the test's.
        Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => {
            eprintln!("note: no IPv6 loopback here ({e}); skipping ipv6_loopback");
            return;
        }
        Err(e) => panic!("cannot start the IPv6 server: {e}"),
    };
    let dir = Dir::new("v6");
    assert_ok(&run(vec![server.url("/f")], opts(&dir.0)), &data);
}

#[test]
fn existing_files_follow_aria2_rules() {
    let data = TestFile::random(300_000, 14);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("exists");
    std::fs::write(dir.0.join("f"), b"old").unwrap();
    let mut o = opts(&dir.0);
    o.auto_file_renaming = false;
    assert_err(
        &run(vec![server.url("/f")], o.clone()),
        ErrorCode::FileExists,
    );
    o.auto_file_renaming = true;
    let st = run(vec![server.url("/f")], o.clone());
    assert_ok(&st, &data);
    assert_eq!(st.path.as_deref(), Some(dir.0.join("f.1").as_path()));
    // -c continues the partial file from its length.
    std::fs::write(dir.0.join("f"), &data[..100_000]).unwrap();
    o.continue_download = true;
    let st = run(vec![server.url("/f")], o.clone());
    assert_ok(&st, &data);
    // A complete file with -c is done without downloading again. The server now has
    // other bytes of the same length, so any byte fetched again would show in the file.
    let other = TestFile::random(data.len(), 140);
    let changed = HttpServer::start(ServerConfig::new().file("/f", other)).unwrap();
    assert_ok(&run(vec![changed.url("/f")], o), &data);
    assert!(changed.log().len() <= 1, "{:?}", changed.log());
}

#[test]
fn happy_eyeballs_races_past_an_address_that_never_answers() {
    use std::net::SocketAddr;
    let data = TestFile::random(50_000, 15);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    // A listener with a full backlog: further connects hang in SYN-SENT.
    let black = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    black
        .bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    black.listen(0).unwrap();
    let black_addr: SocketAddr = black.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&black_addr.into());
        fillers.push(s);
    }
    std::thread::sleep(Duration::from_millis(100));
    let dir = Dir::new("eyeballs");
    let mut o = opts(&dir.0);
    // Waiting for the hanging address would take this long; racing past it does not.
    let connect_timeout = Duration::from_secs(30);
    o.connect_timeout = connect_timeout;
    o.max_tries = 1;
    let port = server.addr().port();
    let mut batch = Batch::new(&o);
    // The name's first address hangs, its second is the real server.
    batch
        .handle
        .pin_host("dual.test", port, vec![black_addr, server.addr()])
        .unwrap();
    batch.add(DownloadSpec::new(
        vec![format!("http://dual.test:{port}/f")],
        o,
    ));
    let t = std::time::Instant::now();
    let st = batch.finish().remove(0);
    assert_ok(&st, &data);
    assert!(
        t.elapsed() < connect_timeout,
        "waited for the hanging address to time out: {:?}",
        t.elapsed()
    );
    assert_eq!(server.connections(), 1);
    drop(fillers);
}

#[test]
fn queue_runs_one_download_at_a_time_with_j1() {
    let data = TestFile::random(200_000, 16);
    // Paced so that each response is still being written when a concurrent download's
    // request would arrive: overlap is then visible to the server, not only possible.
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/a", data.clone())
            .file("/b", data.clone())
            .file("/c", data.clone())
            .trickle(1_000_000),
    )
    .unwrap();
    let dir = Dir::new("queue");
    let o = Options {
        max_concurrent_downloads: 1,
        ..opts(&dir.0)
    };
    let mut batch = Batch::new(&o);
    for p in ["/a", "/b", "/c"] {
        batch.add(DownloadSpec::new(vec![server.url(p)], o.clone()));
    }
    let results = batch.finish();
    for st in &results {
        assert_ok(st, &data);
    }
    // With -j1 no download sends a request before the one before it has been answered
    // in full; with -j2 or more their exchanges overlap.
    let spans = common::exchange_spans(&server.log());
    assert_eq!(spans.len(), 3, "{spans:?}");
    for pair in spans.windows(2) {
        let ((first, _, first_end), (second, second_start, _)) = (&pair[0], &pair[1]);
        assert!(
            first_end < second_start,
            "{second} was requested before {first} was answered: {spans:?}"
        );
    }
}

#[test]
fn download_limit_throttles() {
    let data = TestFile::random(300_000, 17);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("throttle");
    let o = Options {
        max_download_limit: 200_000,
        ..opts(&dir.0)
    };
    let t = std::time::Instant::now();
    assert_ok(&run(vec![server.url("/f")], o), &data);
    // The limit is a floor on the time; how close to it the engine gets is for the
    // benchmarks, not for a test on a shared machine.
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(1200),
        "300 kB at 200 kB/s took {took:?}"
    );
}

#[test]
fn request_headers_follow_the_options() {
    let data = TestFile::random(10_000, 18);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("headers");
    let o = Options {
        user_agent: "agent/1".into(),
        referer: Some("*".into()),
        headers: vec!["X-Test: yes".into()],
        http_user: Some("u".into()),
        http_passwd: Some("p".into()),
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![server.url("/f")], o), &data);
    let req = &server.log()[0];
    assert_eq!(req.header("user-agent"), Some("agent/1"));
    assert_eq!(req.header("referer"), Some(server.url("/f").as_str()));
    assert_eq!(req.header("x-test"), Some("yes"));
    assert_eq!(req.header("authorization"), Some("Basic dTpw"));
}

#[test]
fn every_file_allocation_mode_gives_the_same_file() {
    let data = TestFile::random(6 << 20, 19);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    for mode in ["none", "prealloc", "trunc", "falloc"] {
        let dir = Dir::new(&format!("alloc-{mode}"));
        let mut o = opts(&dir.0);
        o.set("file-allocation", mode).unwrap();
        o.no_file_allocation_limit = 0;
        o.split = 4;
        o.max_connection_per_server = 4;
        assert_ok(&run(vec![server.url("/f")], o), &data);
    }
}
