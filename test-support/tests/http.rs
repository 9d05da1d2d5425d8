//! Each behaviour of the plain-HTTP server, checked from a raw TCP client.

mod common;

use std::io::{ErrorKind, Read};
use std::time::{Duration, Instant};

use common::{Client, get};
use swarmget_test_support::{Behaviour, HttpServer, NewLength, ServerConfig, TestFile, sha256_hex};

const LEN: usize = 10_000;

fn data() -> Vec<u8> {
    TestFile::random(LEN, 42)
}

fn serve(config: ServerConfig) -> HttpServer {
    HttpServer::start(config.file("/f", data())).expect("start server")
}

#[test]
fn whole_file_with_length_and_accept_ranges() {
    let server = serve(ServerConfig::new());
    let reply = get(server.addr(), "/f", &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("10000"));
    assert_eq!(reply.header("accept-ranges"), Some("bytes"));
    assert_eq!(sha256_hex(&reply.body), sha256_hex(&data()));
    assert!(server.url("f").starts_with("http://127.0.0.1:"));
    assert!(server.url("/f").ends_with("/f"));
}

#[test]
fn ranges_are_honoured() {
    let server = serve(ServerConfig::new());
    let data = data();
    let cases = [
        ("bytes=0-99", 0..100, "bytes 0-99/10000"),
        ("bytes=9990-20000", 9990..LEN, "bytes 9990-9999/10000"),
        ("bytes=5000-", 5000..LEN, "bytes 5000-9999/10000"),
        ("bytes=-10", 9990..LEN, "bytes 9990-9999/10000"),
    ];
    let mut client = Client::connect(server.addr());
    for (range, span, content_range) in cases {
        let reply = client.get("/f", &[("Range", range)]).unwrap();
        assert_eq!(reply.status, 206, "{range}");
        assert_eq!(
            reply.header("content-range"),
            Some(content_range),
            "{range}"
        );
        assert_eq!(reply.body, data[span], "{range}");
    }
    let reply = client.get("/f", &[("Range", "bytes=10000-")]).unwrap();
    assert_eq!(reply.status, 416);
    assert_eq!(reply.header("content-range"), Some("bytes */10000"));
    assert!(reply.body.is_empty());
}

#[test]
fn head_has_no_body() {
    let server = serve(ServerConfig::new());
    let mut client = Client::connect(server.addr());
    let reply = client.request("HEAD", "/f", &[]).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), Some("10000"));
    let reply = client
        .request("HEAD", "/f", &[("Range", "bytes=10-19")])
        .unwrap();
    assert_eq!(reply.header("content-range"), Some("bytes 10-19/10000"));
    // The next reply starts right away: HEAD sent no body bytes.
    let reply = client.get("/f", &[("Range", "bytes=0-0")]).unwrap();
    assert_eq!(reply.body, &data()[..1]);
}

#[test]
fn keep_alive_reuses_one_connection() {
    let server = serve(ServerConfig::new());
    let mut client = Client::connect(server.addr());
    for _ in 0..3 {
        assert_eq!(client.get("/f", &[]).unwrap().body.len(), LEN);
    }
    assert_eq!(server.connections(), 1);
    let log = server.log();
    let indexes: Vec<_> = log
        .iter()
        .map(|r| (r.connection, r.index_on_connection))
        .collect();
    assert_eq!(indexes, [(0, 0), (0, 1), (0, 2)]);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = serve(ServerConfig::new());
    let mut client = Client::connect(server.addr());
    client
        .send(b"GET /f HTTP/1.1\r\nRange: bytes=0-1\r\n\r\nGET /f HTTP/1.1\r\nRange: bytes=2-3\r\n\r\n")
        .unwrap();
    assert_eq!(client.read_reply(false).unwrap().body, &data()[0..2]);
    assert_eq!(client.read_reply(false).unwrap().body, &data()[2..4]);
}

#[test]
fn connections_are_counted_and_logged() {
    let server = serve(ServerConfig::new());
    let clients: Vec<_> = (0..16).map(|_| Client::connect(server.addr())).collect();
    for (i, mut client) in clients.into_iter().enumerate() {
        let range = format!("bytes={i}-{i}");
        let reply = client
            .get("/f?x=1", &[("Range", &range), ("X-Test", "yes")])
            .unwrap();
        assert_eq!(reply.body, &data()[i..=i]);
    }
    assert_eq!(server.connections(), 16);
    let log = server.requests_for("/f");
    assert_eq!(log.len(), 16);
    let mut connections: Vec<_> = log.iter().map(|r| r.connection).collect();
    connections.sort_unstable();
    assert_eq!(connections, (0..16).collect::<Vec<_>>());
    assert_eq!(log[0].header("x-test"), Some("yes"));
    assert_eq!(log[0].target, "/f?x=1");
    assert_eq!(log[0].method, "GET");
    assert!(log[0].range().is_some());
    assert!(!log[0].tls);
}

#[test]
fn ignore_ranges_sends_everything() {
    let server = serve(ServerConfig::new().ignore_ranges());
    let reply = get(server.addr(), "/f", &[("Range", "bytes=100-199")]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-range"), None);
    assert_eq!(reply.header("accept-ranges"), None);
    assert_eq!(reply.body, data());
}

#[test]
fn wrong_content_range_shifts_by_one() {
    let server = serve(ServerConfig::new().wrong_content_range());
    let reply = get(server.addr(), "/f", &[("Range", "bytes=100-199")]);
    assert_eq!(reply.status, 206);
    assert_eq!(reply.header("content-range"), Some("bytes 101-200/10000"));
    assert_eq!(reply.body, &data()[101..201]);
    let reply = get(server.addr(), "/f", &[("Range", "bytes=-100")]);
    assert_eq!(reply.header("content-range"), Some("bytes 9899-9998/10000"));
    assert_eq!(reply.body, &data()[9899..9999]);
}

#[test]
fn length_changes_after_n_requests() {
    let server = serve(ServerConfig::new().change_length_after(2));
    let mut client = Client::connect(server.addr());
    for _ in 0..2 {
        let reply = client.get("/f", &[("Range", "bytes=0-9")]).unwrap();
        assert_eq!(reply.header("content-range"), Some("bytes 0-9/10000"));
    }
    let reply = client.get("/f", &[("Range", "bytes=0-9")]).unwrap();
    assert_eq!(reply.header("content-range"), Some("bytes 0-9/11024"));
    let grown = client.get("/f", &[]).unwrap().body;
    assert_eq!(grown.len(), LEN + 1024);
    assert_eq!(&grown[..LEN], data());
    assert_ne!(&grown[LEN..LEN + 16], &data()[..16]);
}

#[test]
fn length_can_shrink() {
    let server = serve(ServerConfig::new().change_length_to_after(1, NewLength::Exactly(100)));
    let reply = get(server.addr(), "/f", &[("Range", "bytes=5000-5009")]);
    assert_eq!(reply.status, 206);
    let reply = get(server.addr(), "/f", &[("Range", "bytes=5000-5009")]);
    assert_eq!(reply.status, 416);
    assert_eq!(reply.header("content-range"), Some("bytes */100"));
    assert_eq!(get(server.addr(), "/f", &[]).body, &data()[..100]);
}

#[test]
fn drop_after_times_then_succeeds() {
    let server = serve(ServerConfig::new().drop_after_times(1000, 2));
    for _ in 0..2 {
        let mut client = Client::connect(server.addr());
        let reply = client.get("/f", &[]).unwrap();
        assert_eq!(reply.status, 200);
        assert!(reply.truncated);
        assert_eq!(reply.body, &data()[..1000]);
        assert!(client.at_eof());
    }
    let reply = get(server.addr(), "/f", &[("Range", "bytes=1000-")]);
    assert!(!reply.truncated);
    assert_eq!(reply.body, &data()[1000..]);
}

#[test]
fn drop_after_applies_to_every_response() {
    let server = serve(ServerConfig::new().drop_after(0));
    for _ in 0..3 {
        let reply = get(server.addr(), "/f", &[]);
        assert!(reply.truncated);
        assert!(reply.body.is_empty());
    }
    // A body shorter than the cut is sent whole.
    let server = serve(ServerConfig::new().drop_after(50));
    let reply = get(server.addr(), "/f", &[("Range", "bytes=0-9")]);
    assert!(!reply.truncated);
    assert_eq!(reply.body.len(), 10);
}

#[test]
fn trickle_paces_the_body() {
    let server = serve(ServerConfig::new().trickle(20_000));
    let started = Instant::now();
    let reply = get(server.addr(), "/f", &[("Range", "bytes=0-3999")]);
    let elapsed = started.elapsed();
    assert_eq!(reply.body, &data()[..4000]);
    // 4000 bytes at 20 kB/s is 200 ms: pacing is a floor. How close to it the server
    // stays depends on the machine's load, so no ceiling is asserted.
    assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
}

#[test]
fn chunked_bodies_decode_to_the_file() {
    let server = serve(ServerConfig::new().chunked());
    let reply = get(server.addr(), "/f", &[]);
    assert_eq!(reply.header("transfer-encoding"), Some("chunked"));
    assert_eq!(reply.header("content-length"), None);
    assert!(reply.chunks > 1, "{} chunks", reply.chunks);
    assert_eq!(reply.body, data());
    let reply = get(server.addr(), "/f", &[("Range", "bytes=10-29")]);
    assert_eq!(reply.status, 206);
    assert_eq!(reply.body, &data()[10..30]);
}

#[test]
fn chunked_bodies_keep_the_connection() {
    let server = serve(ServerConfig::new().chunked());
    let mut client = Client::connect(server.addr());
    assert_eq!(client.get("/f", &[]).unwrap().body, data());
    assert_eq!(client.get("/f", &[]).unwrap().body, data());
    assert_eq!(server.connections(), 1);
}

#[test]
fn gzip_bodies_decode_to_the_file() {
    let server = serve(ServerConfig::new().gzip());
    let reply = get(server.addr(), "/f", &[("Range", "bytes=0-9")]);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&reply.body[..])
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, data());
}

#[test]
fn redirects() {
    let server = serve(ServerConfig::new().redirect("/old", "/f", 301));
    let reply = get(server.addr(), "/old", &[]);
    assert_eq!(reply.status, 301);
    assert_eq!(reply.header("location"), Some("/f"));

    let server = serve(ServerConfig::new().redirect_loop("/loop"));
    let first = get(server.addr(), "/loop", &[]);
    assert_eq!(first.status, 302);
    assert_eq!(first.header("location"), Some("/loop?hop=1"));
    let second = get(server.addr(), first.header("location").unwrap(), &[]);
    assert_eq!(second.header("location"), Some("/loop?hop=2"));
}

#[test]
fn error_statuses() {
    let server = serve(ServerConfig::new().behaviour_for("/broken", Behaviour::Status(500)));
    assert_eq!(get(server.addr(), "/broken", &[]).status, 500);
    assert_eq!(get(server.addr(), "/missing", &[]).status, 404);
    assert_eq!(get(server.addr(), "/f", &[]).status, 200);
    let mut client = Client::connect(server.addr());
    let reply = client.request("DELETE", "/f", &[]).unwrap();
    assert_eq!(reply.status, 405);
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));

    let server = serve(ServerConfig::new().status(404));
    assert_eq!(get(server.addr(), "/f", &[]).status, 404);
}

#[test]
fn service_unavailable_then_normal() {
    let server = serve(ServerConfig::new().service_unavailable(7, 2));
    let mut client = Client::connect(server.addr());
    for _ in 0..2 {
        let reply = client.get("/f", &[]).unwrap();
        assert_eq!(reply.status, 503);
        assert_eq!(reply.header("retry-after"), Some("7"));
    }
    let reply = client.get("/f", &[]).unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, data());
}

#[test]
fn counted_behaviours_count_in_order() {
    // Two 503s, then one cut response, then normal service.
    let server = serve(
        ServerConfig::new()
            .service_unavailable(1, 2)
            .drop_after_times(10, 1),
    );
    let statuses: Vec<_> = (0..4)
        .map(|_| {
            let reply = get(server.addr(), "/f", &[]);
            (reply.status, reply.truncated)
        })
        .collect();
    assert_eq!(
        statuses,
        [(503, false), (503, false), (200, true), (200, false)]
    );
}

#[test]
fn huge_headers_are_sent() {
    let server = serve(ServerConfig::new().huge_headers(1 << 20));
    let reply = get(server.addr(), "/f", &[]);
    assert!(reply.head_len >= 1 << 20, "{}", reply.head_len);
    assert!(reply.headers.len() > 1000);
    assert_eq!(reply.body, data());
}

#[test]
fn close_after_each_response() {
    let server = serve(ServerConfig::new().close_after_each_response());
    let mut client = Client::connect(server.addr());
    let reply = client.get("/f", &[]).unwrap();
    assert_eq!(reply.header("connection"), Some("close"));
    assert_eq!(reply.body, data());
    assert!(client.at_eof());
}

#[test]
fn content_disposition_and_extra_headers() {
    let server = serve(
        ServerConfig::new()
            .content_disposition("attachment; filename=\"report.pdf\"")
            .header("ETag", "\"v1\""),
    );
    let reply = get(server.addr(), "/f", &[]);
    assert_eq!(
        reply.header("content-disposition"),
        Some("attachment; filename=\"report.pdf\"")
    );
    assert_eq!(reply.header("etag"), Some("\"v1\""));
}

#[test]
fn no_content_length_ends_at_close() {
    let server = serve(ServerConfig::new().no_content_length());
    let mut client = Client::connect(server.addr());
    let reply = client.get("/f", &[]).unwrap();
    assert_eq!(reply.header("content-length"), None);
    assert_eq!(reply.header("transfer-encoding"), None);
    assert_eq!(reply.header("connection"), Some("close"));
    assert_eq!(reply.body, data());
}

#[test]
fn stall_never_answers_and_drop_is_prompt() {
    let server = serve(ServerConfig::new().stall());
    let mut client = Client::connect(server.addr());
    client.set_read_timeout(Duration::from_millis(300));
    let error = client.get("/f", &[]).unwrap_err();
    assert!(
        matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{error}"
    );
    assert_eq!(server.log().len(), 1);
    // Dropping must close the stalled connection rather than wait for the client to: the
    // client, still open, sees the end while the drop runs on another thread.
    let dropping = std::thread::spawn(move || drop(server));
    client.set_read_timeout(Duration::from_secs(30));
    assert!(client.at_eof(), "the stalled connection was left open");
    dropping.join().unwrap();
}

#[test]
fn stall_after_sends_a_prefix_then_nothing() {
    let server = serve(ServerConfig::new().stall_after(100));
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    std::io::Write::write_all(&mut stream, b"GET /f HTTP/1.1\r\n\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut received = Vec::new();
    let error = stream.read_to_end(&mut received).unwrap_err();
    assert!(matches!(
        error.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut
    ));
    assert!(received.ends_with(&data()[..100]));
    assert!(!received.ends_with(&data()[..101]));
}

#[test]
fn behaviour_for_one_path() {
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/a", data())
            .file("b", data())
            .behaviour_for("/b", Behaviour::IgnoreRanges),
    )
    .unwrap();
    assert_eq!(
        get(server.addr(), "/a", &[("Range", "bytes=0-0")]).status,
        206
    );
    assert_eq!(
        get(server.addr(), "/b", &[("Range", "bytes=0-0")]).status,
        200
    );
}

#[test]
fn bad_requests_are_refused() {
    let server = serve(ServerConfig::new());
    let mut client = Client::connect(server.addr());
    client.send(b"NONSENSE\r\n\r\n").unwrap();
    assert_eq!(client.read_reply(false).unwrap().status, 400);

    let mut client = Client::connect(server.addr());
    let filler = "a".repeat(70 * 1024);
    client
        .send(format!("GET /f HTTP/1.1\r\nX: {filler}\r\n\r\n").as_bytes())
        .unwrap();
    assert_eq!(client.read_reply(false).unwrap().status, 431);
}

#[test]
fn request_bodies_are_skipped() {
    let server = serve(ServerConfig::new());
    let mut client = Client::connect(server.addr());
    client
        .send(b"GET /f HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /f HTTP/1.1\r\nRange: bytes=0-0\r\n\r\n")
        .unwrap();
    assert_eq!(client.read_reply(false).unwrap().status, 200);
    assert_eq!(client.read_reply(false).unwrap().status, 206);
}

#[test]
fn absolute_form_targets_are_served() {
    let server = serve(ServerConfig::new());
    let reply = get(server.addr(), "http://example.test/f", &[]);
    assert_eq!(reply.status, 200);
    assert_eq!(server.log()[0].path, "/f");
}

#[test]
fn http10_closes_unless_asked() {
    let server = serve(ServerConfig::new());
    let mut client = Client::connect(server.addr());
    client.send(b"GET /f HTTP/1.0\r\n\r\n").unwrap();
    let reply = client.read_reply(false).unwrap();
    assert_eq!(reply.header("connection"), Some("close"));
    assert!(client.at_eof());

    let mut client = Client::connect(server.addr());
    client
        .send(b"GET /f HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    let reply = client.read_reply(false).unwrap();
    assert_eq!(reply.header("connection"), Some("keep-alive"));
}

#[test]
fn ipv6_loopback() {
    let server = match HttpServer::start_v6(ServerConfig::new().file("/f", data())) {
        Ok(server) => server,
        // Some containers have no ::1; nothing to test there, and say so.
        Err(e) if e.kind() == ErrorKind::AddrNotAvailable => {
            eprintln!("note: no IPv6 loopback here ({e}); skipping ipv6_loopback");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert!(server.url("/f").starts_with("http://[::1]:"));
    assert_eq!(get(server.addr(), "/f", &[]).body, data());
}

#[test]
fn dropping_with_open_connections_is_prompt() {
    let server = serve(ServerConfig::new().trickle(10));
    let mut idle = Client::connect(server.addr());
    let mut slow = Client::connect(server.addr());
    slow.send(b"GET /f HTTP/1.1\r\n\r\n").unwrap();
    // Let both connections be accepted and the slow one start its reply.
    thread_sleep_until(|| server.log().len() == 1);
    // The drop ends both connections while their clients still hold them open; were it
    // to wait for the clients instead, neither would see the end.
    let dropping = std::thread::spawn(move || drop(server));
    idle.set_read_timeout(Duration::from_secs(30));
    slow.set_read_timeout(Duration::from_secs(30));
    assert!(idle.at_eof(), "the idle connection was left open");
    let reply = slow.read_reply(false).unwrap();
    assert!(reply.truncated);
    dropping.join().unwrap();
}

fn thread_sleep_until(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !condition() {
        assert!(Instant::now() < deadline, "condition never became true");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn no_content_statuses_have_no_body() {
    let server = serve(ServerConfig::new().behaviour_for("/empty", Behaviour::Status(204)));
    let mut client = Client::connect(server.addr());
    client.send(b"GET /empty HTTP/1.1\r\n\r\n").unwrap();
    let reply = client.read_reply(true).unwrap();
    assert_eq!(reply.status, 204);
    assert_eq!(reply.header("content-length"), None);
    // Nothing follows the head: the next reply parses cleanly.
    assert_eq!(client.get("/f", &[]).unwrap().body, data());
}

#[test]
fn debug_output_shows_sizes_not_contents() {
    let config = ServerConfig::new()
        .file("/big", TestFile::random(1 << 20, 1))
        .trickle(5);
    let text = format!("{config:?}");
    assert!(text.contains("1048576"), "{text}");
    assert!(text.len() < 500, "{} bytes of Debug output", text.len());
    let server = HttpServer::start(config).unwrap();
    assert!(format!("{server:?}").len() < 2000);
}

#[test]
fn the_log_orders_requests_and_completed_answers_across_connections() {
    let server = serve(ServerConfig::new().chunked().drop_after_times(100, 1));
    // First request: cut after 100 bytes, so never answered in full.
    let cut = get(server.addr(), "/f", &[]);
    assert!(cut.truncated);
    let mut client = Client::connect(server.addr());
    client.get("/f", &[]).unwrap();
    client.request("HEAD", "/f", &[]).unwrap();
    let mut other = Client::connect(server.addr());
    other.get("/f", &[("Range", "bytes=0-9")]).unwrap();

    let log = server.log();
    assert_eq!(log.len(), 4, "{log:?}");
    // Body bytes only: 100 of the cut one, the whole file, none for HEAD, 10 of a range.
    assert_eq!(server.body_bytes_sent(), 100 + LEN as u64 + 10);
    assert_eq!(log[0].answered_at, None, "a cut response is not answered");
    for record in &log[1..] {
        let answered = record.answered_at.expect("answered in full");
        assert!(record.received_at < answered, "{record:?}");
    }
    // Each request here was sent after the one before it was read in full, on the same
    // connection or not, and the counters say so.
    for pair in log[1..].windows(2) {
        assert!(
            pair[0].answered_at.unwrap() < pair[1].received_at,
            "{pair:?}"
        );
    }
}
