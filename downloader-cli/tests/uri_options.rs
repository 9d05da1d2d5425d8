//! How URIs are chosen, asked and given up on and downloads scheduled:
//! `--uri-selector` with `--server-stat-if/-of/-timeout`, `--use-head`,
//! `--enable-http-pipelining`,
//! `--max-file-not-found`, `--reuse-uri`, `--optimize-concurrent-downloads` and
//! `--allow-piece-length-change` (a resume whose control file has another grid). Each test runs with and without
//! the option and sees the difference.

mod common;

use std::time::Duration;

use common::{Run, TempDir, assert_download, run, swarmget};
use swarmget_test_support::{HttpServer, RequestRecord, ServerConfig, TestFile};

const LIMIT: Duration = Duration::from_secs(30);

fn get(dir: &TempDir, args: &[&str]) -> Run {
    run(
        swarmget(dir.path()).arg("-d").arg(dir.path()).args(args),
        LIMIT,
    )
}

#[test]
fn max_file_not_found_retries_a_mirror_still_being_filled() {
    let data = TestFile::random(50_000, 1);
    let config = || {
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .not_found_first(2)
    };

    // Without it a 404 ends the URI at once (aria2's default).
    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("mfnf-off");
    get(&dir, &[&server.url("/f.bin")]).expect_code(3);
    assert_eq!(server.requests_for("/f.bin").len(), 1);

    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("mfnf-on");
    get(&dir, &["--max-file-not-found=5", &server.url("/f.bin")]).expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    assert_eq!(server.requests_for("/f.bin").len(), 3);
}

#[test]
fn max_file_not_found_fails_with_4_after_that_many() {
    let server = HttpServer::start(ServerConfig::new()).unwrap();
    let dir = TempDir::new("mfnf-limit");
    let r = get(
        &dir,
        &[
            "--max-file-not-found=3",
            "--max-tries=10",
            &server.url("/gone.bin"),
        ],
    );
    r.expect_code(4);
    assert!(
        r.stdout.contains("max-file-not-found count=3"),
        "{}",
        r.stdout
    );
    assert_eq!(server.requests_for("/gone.bin").len(), 3);

    // The tries of the URI end it first when they are fewer: "not found", 3.
    let r = get(
        &dir,
        &[
            "--max-file-not-found=3",
            "--max-tries=2",
            &server.url("/gone.bin"),
        ],
    );
    r.expect_code(3);
}

#[test]
fn reuse_uri_false_gives_each_uri_one_connection() {
    let data = TestFile::random(4 << 20, 2);
    let config = || {
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .trickle(4 << 20)
    };
    let args = ["-x4", "-s4", "-k1M"];

    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("reuse-on");
    get(
        &dir,
        &[&args[..], &[server.url("/f.bin").as_str()]].concat(),
    )
    .expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    assert!(
        server.connections() >= 2,
        "{} connections",
        server.connections()
    );

    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("reuse-off");
    let url = server.url("/f.bin");
    get(
        &dir,
        &[&args[..], &["--reuse-uri=false", url.as_str()]].concat(),
    )
    .expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    assert_eq!(server.connections(), 1);
}

/// Whether any two requests' exchanges overlapped (by the server's event counter).
fn overlapped(log: &[RequestRecord]) -> bool {
    log.iter().any(|a| {
        log.iter().any(|b| {
            a.received_at < b.received_at && a.answered_at.is_none_or(|end| b.received_at < end)
        })
    })
}

#[test]
fn optimize_concurrent_downloads_runs_as_many_as_its_rule_says() {
    let config = || {
        (0..3).fold(ServerConfig::new().trickle(400_000), |c, i| {
            c.file(&format!("/{i}.bin"), TestFile::random(200_000, i))
        })
    };
    let list = |dir: &TempDir, server: &HttpServer| {
        let path = dir.join("list.txt");
        let text: String = (0..3)
            .map(|i| server.url(&format!("/{i}.bin")) + "\n")
            .collect();
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };

    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("optimize-off");
    get(&dir, &["-j3", "-i", &list(&dir, &server)]).expect_code(0);
    assert!(overlapped(&server.log()), "{:#?}", server.log());

    // A=1, B=0: one download at a time, whatever the speed.
    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("optimize-on");
    let r = get(
        &dir,
        &[
            "-j3",
            "--optimize-concurrent-downloads=1:0",
            "-i",
            &list(&dir, &server),
        ],
    );
    r.expect_code(0);
    assert_eq!(server.log().len(), 3);
    assert!(!overlapped(&server.log()), "{:#?}", server.log());
}

fn methods(server: &HttpServer) -> Vec<String> {
    server.log().iter().map(|r| r.method.clone()).collect()
}

#[test]
fn use_head_asks_with_head_first_then_gets_ranges() {
    let data = TestFile::random(4 << 20, 3);
    let config = || ServerConfig::new().file("/f.bin", data.clone());

    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("use-head-off");
    get(&dir, &["-x4", "-s4", "-k1M", &server.url("/f.bin")]).expect_code(0);
    assert!(
        methods(&server).iter().all(|m| m == "GET"),
        "{:?}",
        methods(&server)
    );

    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("use-head-on");
    get(
        &dir,
        &["--use-head", "-x4", "-s4", "-k1M", &server.url("/f.bin")],
    )
    .expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    let log = server.log();
    assert_eq!(log[0].method, "HEAD");
    assert!(log[0].header("range").is_none());
    // Every GET after it asks for a range: the HEAD already said what the file is.
    assert!(
        log[1..]
            .iter()
            .all(|r| r.method == "GET" && r.header("range").is_some()),
        "{log:#?}"
    );
    assert!(log.len() >= 3, "{log:#?}");
    // The HEAD's connection stays open for the first GET.
    assert!(
        log.iter()
            .any(|r| r.connection == 0 && r.index_on_connection == 1 && r.method == "GET"),
        "{log:#?}"
    );
}

#[test]
fn use_head_falls_back_to_get_when_the_server_refuses_head_or_ranges() {
    let data = TestFile::random(300_000, 4);
    for (name, config) in [
        (
            "refuse-head",
            ServerConfig::new()
                .file("/f.bin", data.clone())
                .refuse_head(),
        ),
        (
            "no-ranges",
            ServerConfig::new()
                .file("/f.bin", data.clone())
                .ignore_ranges(),
        ),
    ] {
        let server = HttpServer::start(config).unwrap();
        let dir = TempDir::new(name);
        get(&dir, &["--use-head", &server.url("/f.bin")]).expect_code(0);
        assert_download(&dir.join("f.bin"), &data);
        assert_eq!(methods(&server)[..2], ["HEAD", "GET"], "{name}");
    }
}

/// Three mirrors of one file on 127.0.0.1, .2 and .3 (server records are per host).
fn three_mirrors(data: &[u8]) -> Vec<HttpServer> {
    (1..=3)
        .map(|i| {
            let config = ServerConfig::new().file("/f.bin", data.to_vec());
            HttpServer::start_on([127, 0, 0, i].into(), config).unwrap()
        })
        .collect()
}

/// Which of the mirrors served requests.
fn served(mirrors: &[HttpServer]) -> Vec<usize> {
    (0..mirrors.len())
        .filter(|&i| !mirrors[i].log().is_empty())
        .collect()
}

fn stat_line(host: &str, speed: u64, updated: u64) -> String {
    format!(
        "host={host}, protocol=http, dl_speed={speed}, sc_avg_speed={speed}, mc_avg_speed=0, \
         last_updated={updated}, counter=1, status=OK\n"
    )
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn uri_selector_picks_by_order_by_speed_or_to_measure() {
    let data = TestFile::random(100_000, 5);
    let dir = TempDir::new("uri-selector");
    // 127.0.0.1 measured slow, 127.0.0.2 fast, 127.0.0.3 never measured.
    let stats = dir.join("stats.txt");
    let now = unix_now();
    std::fs::write(
        &stats,
        stat_line("127.0.0.1", 10_000, now) + &stat_line("127.0.0.2", 900_000, now),
    )
    .unwrap();
    let stat_if = format!("--server-stat-if={}", stats.display());
    for (selector, expect) in [("inorder", 0), ("feedback", 1), ("adaptive", 2)] {
        let mirrors = three_mirrors(&data);
        let urls: Vec<String> = mirrors.iter().map(|m| m.url("/f.bin")).collect();
        let selector_arg = format!("--uri-selector={selector}");
        let mut args = vec!["-s1", "--allow-overwrite", &stat_if, &selector_arg];
        args.extend(urls.iter().map(String::as_str));
        get(&dir, &args).expect_code(0);
        assert_download(&dir.join("f.bin"), &data);
        assert_eq!(served(&mirrors), [expect], "{selector}");
    }

    // Records older than --server-stat-timeout are not loaded: feedback knows nothing
    // and takes the first mirror.
    let mirrors = three_mirrors(&data);
    let urls: Vec<String> = mirrors.iter().map(|m| m.url("/f.bin")).collect();
    let mut args = vec![
        "-s1",
        "--allow-overwrite",
        &stat_if,
        "--server-stat-timeout=0",
    ];
    std::thread::sleep(Duration::from_millis(1100));
    args.extend(urls.iter().map(String::as_str));
    get(&dir, &args).expect_code(0);
    assert_eq!(served(&mirrors), [0]);
}

#[test]
fn server_stat_of_writes_what_connections_measured() {
    let data = TestFile::random(2 << 20, 6);
    let server = HttpServer::start_on(
        [127, 0, 0, 2].into(),
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .trickle(4 << 20),
    )
    .unwrap();
    let dir = TempDir::new("server-stat-of");
    let out = dir.join("stats.txt");
    let r = get(
        &dir,
        &[
            &format!("--server-stat-of={}", out.display()),
            &server.url("/f.bin"),
        ],
    );
    r.expect_code(0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("host=127.0.0.2, protocol=http, dl_speed="),
        "{text}"
    );
    assert!(text.contains("counter=1, status=OK"), "{text}");
    let speed: u64 = text
        .split("dl_speed=")
        .nth(1)
        .and_then(|t| t.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(speed > 0, "{text}");
}

#[test]
fn allow_piece_length_change_resumes_another_grid_and_without_it_stops() {
    let data = TestFile::random(4 << 20, 7);
    // The first answer is cut after 1.5 MiB; later ones are whole.
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .drop_after_times(3 << 19, 1),
    )
    .unwrap();
    let dir = TempDir::new("piece-length-change");
    let url = server.url("/f.bin");
    let r = get(&dir, &["-s1", "--max-tries=1", "--piece-length=1M", &url]);
    assert_ne!(r.code, Some(0), "{}", r.stdout);
    let control = dir.join("f.bin.swarmget");
    let recorded = std::fs::read(&control).expect("a control file after the cut");

    let r = get(&dir, &["-c", "-s1", "--piece-length=2M", &url]);
    r.expect_code(1);
    assert!(
        r.stdout
            .contains("piece length mismatch: the control file has 1048576"),
        "{}",
        r.stdout
    );
    assert_eq!(
        std::fs::read(&control).unwrap(),
        recorded,
        "the record is kept"
    );

    let r = get(
        &dir,
        &[
            "-c",
            "-s1",
            "--piece-length=2M",
            "--allow-piece-length-change=true",
            &url,
        ],
    );
    r.expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    // The bytes on disk were kept: the resumed request starts past the first MiB.
    let last = server.log().last().unwrap().clone();
    let from: u64 = last
        .header("range")
        .and_then(|v| v.strip_prefix("bytes="))
        .and_then(|v| v.split('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(from >= 1 << 20, "resumed from {from}: {last:?}");
}

/// Pipelined requests (sent before the one ahead of them was answered) with the
/// range of the request ahead, as (ahead, pipelined) range headers.
fn pipelined(log: &[RequestRecord]) -> Vec<(String, String)> {
    let range = |r: &RequestRecord| r.header("range").unwrap_or("").to_string();
    log.iter()
        .filter(|b| b.pipelined)
        .filter_map(|b| {
            let a = log.iter().find(|a| {
                a.connection == b.connection && a.index_on_connection + 1 == b.index_on_connection
            })?;
            Some((range(a), range(b)))
        })
        .collect()
}

#[test]
fn enable_http_pipelining_sends_the_next_range_before_the_first_arrives() {
    let data = TestFile::random(4 << 20, 8);
    let config = || {
        ServerConfig::new()
            .file("/f.bin", data.clone())
            .trickle(8 << 20)
    };
    let args = ["-s2", "-x2", "-k1M", "--piece-length=1M"];

    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("pipelining-off");
    get(
        &dir,
        &[&args[..], &[server.url("/f.bin").as_str()]].concat(),
    )
    .expect_code(0);
    assert!(pipelined(&server.log()).is_empty(), "{:#?}", server.log());

    let server = HttpServer::start(config()).unwrap();
    let dir = TempDir::new("pipelining-on");
    let url = server.url("/f.bin");
    get(
        &dir,
        &[&args[..], &["--enable-http-pipelining", url.as_str()]].concat(),
    )
    .expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    // The second connection's run (the file's second half) went as two ranges, the
    // second asked for while the first was still being answered.
    let pairs = pipelined(&server.log());
    assert!(
        pairs.contains(&(
            "bytes=2097152-3145727".into(),
            "bytes=3145728-4194303".into()
        )),
        "{pairs:?}\n{:#?}",
        server.log()
    );
}
