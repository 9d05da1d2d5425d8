//! The binary exits with aria2c's exit codes, so scripts written for aria2c keep
//! working.

mod common;

use std::time::{Duration, Instant};

use common::{RefusingPort, Run, TempDir, check_control, run, swarmget};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile, sha256_hex};

const LIMIT: Duration = Duration::from_secs(20);

/// Runs `swarmget -d DIR ARGS…` in a fresh home.
fn get(dir: &TempDir, args: &[&str]) -> Run {
    run(
        swarmget(dir.path()).arg("-d").arg(dir.path()).args(args),
        LIMIT,
    )
}

#[test]
fn not_found_is_3() {
    let server = HttpServer::start(ServerConfig::new()).unwrap();
    let dir = TempDir::new("404");
    let r = get(&dir, &["--max-tries=1", &server.url("/missing.bin")]);
    r.expect_code(3);
    assert!(r.stdout.contains("ERR"), "{}", r.stdout);
}

#[test]
fn redirect_loop_is_23() {
    let server = HttpServer::start(ServerConfig::new().redirect_loop("/loop")).unwrap();
    let dir = TempDir::new("loop");
    get(&dir, &["--max-tries=1", &server.url("/loop")]).expect_code(23);
    let hops = server.requests_for("/loop").len();
    assert!(
        (2..=100).contains(&hops),
        "{hops} requests before giving up on the loop"
    );
}

#[test]
fn unknown_option_is_28() {
    let dir = TempDir::new("nope");
    let server = HttpServer::start(ServerConfig::new()).unwrap();
    let r = get(&dir, &["--nope", &server.url("/x")]);
    r.expect_code(28);
    assert!(
        r.stderr.contains("unrecognized option '--nope'"),
        "{}",
        r.stderr
    );
    assert_eq!(
        server.connections(),
        0,
        "a bad command line still connected"
    );
}

#[test]
fn out_of_range_value_is_28() {
    let dir = TempDir::new("x65");
    let server = HttpServer::start(ServerConfig::new()).unwrap();
    let url = server.url("/x");
    for args in [
        &["-x", "65"][..],
        &["-x65"],
        &["--max-connection-per-server=0"],
        &["--split=zero"],
        &["--timeout=0"],
        &["--download-result=sideways"],
    ] {
        let mut argv = args.to_vec();
        argv.push(&url);
        let r = get(&dir, &argv);
        assert_eq!(r.code, Some(28), "{args:?}: {r:?}");
    }
    // A missing argument is a bad option too.
    get(&dir, &["--split"]).expect_code(28);
    // Nothing was contacted, downloaded or created.
    assert_eq!(server.connections(), 0);
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[test]
fn checksum_mismatch_is_32_and_a_match_is_0() {
    let data = TestFile::random(300_000, 32);
    let server = HttpServer::start(ServerConfig::new().file("/c.bin", data.clone())).unwrap();
    let dir = TempDir::new("checksum");
    let mut wrong = sha256_hex(&data).into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    get(
        &dir,
        &[
            &format!("--checksum=sha-256={wrong}"),
            "-o",
            "bad.bin",
            &server.url("/c.bin"),
        ],
    )
    .expect_code(32);
    get(
        &dir,
        &[
            &format!("--checksum=sha-256={}", sha256_hex(&data)),
            "-o",
            "good.bin",
            &server.url("/c.bin"),
        ],
    )
    .expect_code(0);
    common::assert_download(&dir.join("good.bin"), &data);
}

#[test]
fn existing_file_without_renaming_is_13() {
    let data = TestFile::random(10_000, 13);
    let server = HttpServer::start(ServerConfig::new().file("/e.bin", data.clone())).unwrap();
    let dir = TempDir::new("exists");
    std::fs::write(dir.join("e.bin"), b"keep me").unwrap();
    let r = get(&dir, &["--auto-file-renaming=false", &server.url("/e.bin")]);
    r.expect_code(13);
    assert_eq!(std::fs::read(dir.join("e.bin")).unwrap(), b"keep me");
    assert_eq!(dir.names(), ["e.bin"]);

    // With renaming (the default) the download goes beside it, as aria2's e.1.bin.
    get(&dir, &[&server.url("/e.bin")]).expect_code(0);
    assert_eq!(std::fs::read(dir.join("e.bin")).unwrap(), b"keep me");
    common::assert_download(&dir.join("e.1.bin"), &data);

    // --allow-overwrite starts again over it.
    get(
        &dir,
        &[
            "--allow-overwrite=true",
            "--auto-file-renaming=false",
            &server.url("/e.bin"),
        ],
    )
    .expect_code(0);
    common::assert_download(&dir.join("e.bin"), &data);
}

/// aria2c 1.36 exits 1 for a refused connection (its socket error carries no code);
/// swarmget exits 6, "network problem", as the README says.
#[test]
fn connection_refused_is_a_network_error() {
    let refusing = RefusingPort::new();
    let dir = TempDir::new("refused");
    let r = get(&dir, &["--max-tries=2", &refusing.url("/f.bin")]);
    r.expect_code(6);
    assert!(r.stdout.contains("Connection refused"), "{}", r.stdout);
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[test]
fn stalled_server_times_out_with_2() {
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/s.bin", TestFile::random(100_000, 2))
            .stall(),
    )
    .unwrap();
    let dir = TempDir::new("stall");
    let started = Instant::now();
    get(
        &dir,
        &["--timeout=1", "--max-tries=1", &server.url("/s.bin")],
    )
    .expect_code(2);
    // The timeout fired once, on the one request --max-tries=1 allows, and not before
    // its second was up. How soon after is the machine's load, not the behaviour.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "gave up after {took:?} with --timeout=1"
    );
    assert_eq!(server.log().len(), 1, "{:?}", server.log());
}

#[test]
fn stop_on_a_slow_download_is_7_and_resumable() {
    let data = TestFile::random(4 << 20, 7);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/slow.bin", data.clone())
            .trickle(512 << 10),
    )
    .unwrap();
    let dir = TempDir::new("stop");
    let started = Instant::now();
    let r = get(&dir, &["--stop=1", &server.url("/slow.bin")]);
    // 7, not 0: --stop ended it before the 8 s the paced body takes.
    r.expect_code(7);
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(900),
        "--stop=1 stopped after {took:?}"
    );
    assert!(r.stdout.contains("INPR"), "{}", r.stdout);
    let file = dir.join("slow.bin");
    let saved = check_control(&file, &data, 1 << 20).expect("control file kept");
    assert!(
        !saved.all(),
        "stopped after a second, yet all pieces claimed"
    );

    let fast = HttpServer::start(ServerConfig::new().file("/slow.bin", data.clone())).unwrap();
    get(&dir, &["-c", &fast.url("/slow.bin")]).expect_code(0);
    common::assert_download(&file, &data);
}

/// aria2: the last error wins; "unfinished" (7) is reported only when nothing failed.
#[test]
fn an_error_outranks_an_interrupted_download() {
    let data = TestFile::random(4 << 20, 8);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/slow.bin", data)
            .trickle(512 << 10),
    )
    .unwrap();
    let dir = TempDir::new("stop-after-404");
    let r = get(
        &dir,
        &[
            "-Z",
            "--stop=1",
            "--max-tries=1",
            &server.url("/missing.bin"),
            &server.url("/slow.bin"),
        ],
    );
    r.expect_code(3);
    assert!(
        r.stdout.contains("|ERR |") && r.stdout.contains("|INPR|"),
        "{}",
        r.stdout
    );
}

/// `-o` cannot put the file outside `--dir`: swarmget refuses with exit code 16
/// ("could not create file") and writes nothing.
#[test]
fn output_name_leaving_the_directory_is_refused() {
    let server =
        HttpServer::start(ServerConfig::new().file("/x.bin", TestFile::random(5000, 4))).unwrap();
    let outer = TempDir::new("escape");
    let dir = outer.join("inner");
    std::fs::create_dir(&dir).unwrap();
    for out in [
        "../escaped.bin",
        "a/../../escaped.bin",
        "/tmp/escaped-swarmget.bin",
    ] {
        let r = run(
            swarmget(outer.path()).arg("-d").arg(&dir).args([
                "--max-tries=1",
                "-o",
                out,
                &server.url("/x.bin"),
            ]),
            LIMIT,
        );
        r.expect_code(16);
        assert!(r.stdout.contains("leaves --dir"), "{out}: {}", r.stdout);
    }
    assert_eq!(outer.names(), ["inner"]);
    assert!(std::fs::read_dir(&dir).unwrap().next().is_none());
    assert!(!std::path::Path::new("/tmp/escaped-swarmget.bin").exists());
}

/// A refused output name is a local, permanent error: asking the server again
/// cannot change it, so it should not be retried.
#[test]
fn refused_output_name_is_not_retried() {
    let server =
        HttpServer::start(ServerConfig::new().file("/x.bin", TestFile::random(5000, 4))).unwrap();
    let dir = TempDir::new("escape-retry");
    get(
        &dir,
        &[
            "--max-tries=5",
            "-o",
            "../escaped.bin",
            &server.url("/x.bin"),
        ],
    )
    .expect_code(16);
    assert_eq!(server.log().len(), 1, "{:?}", server.log());
}

/// `--pause` waits for an RPC client to unpause; the command line has none, so (as
/// aria2 without --enable-rpc) the download runs, and a warning says why.
#[test]
fn pause_without_rpc_downloads_anyway_and_says_so() {
    let data = TestFile::random(5000, 9);
    let server = HttpServer::start(ServerConfig::new().file("/p.bin", data.clone())).unwrap();
    let dir = TempDir::new("pause");
    let r = get(&dir, &["--pause", &server.url("/p.bin")]);
    r.expect_code(0);
    assert!(
        r.stderr.contains("--pause has effect only with RPC"),
        "{}",
        r.stderr
    );
    assert_eq!(
        sha256_hex(&std::fs::read(dir.join("p.bin")).unwrap()),
        sha256_hex(&data)
    );
}

/// The hard open-file limit the test gives `swarmget`: 4096, or less where the test
/// itself may not go that high.
fn hard_nofile_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only the struct given.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    limit.rlim_max.min(4096)
}

/// The soft open-file limit of a running `swarmget`, started with a soft limit of 256.
fn soft_nofile_limit(dir: &TempDir, args: &[&str]) -> u64 {
    let hard = hard_nofile_limit();
    use std::os::unix::process::CommandExt;
    let server = HttpServer::start(ServerConfig::new().file("/f", vec![7; 100]).stall()).unwrap();
    let mut cmd = swarmget(dir.path());
    cmd.args(args)
        .arg("-d")
        .arg(dir.path())
        .arg(server.url("/f"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; only the child's limit changes.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: 256,
                rlim_max: hard,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    // The limit is raised before the first request: wait for it to arrive.
    let asked = (0..400).any(|_| {
        std::thread::sleep(Duration::from_millis(25));
        !server.log().is_empty()
    });
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(asked, "no request came");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a Max open files line");
    line.split_whitespace().nth(3).unwrap().parse().unwrap()
}

#[test]
fn rlimit_nofile_raises_the_soft_limit_and_never_past_the_hard_one() {
    let dir = TempDir::new("rlimit");
    let hard = hard_nofile_limit();
    assert!(
        hard >= 1024,
        "the test needs a hard limit of at least 1024, not {hard}"
    );
    assert_eq!(
        soft_nofile_limit(&dir, &[]),
        1024,
        "the default is aria2's 1024"
    );
    assert_eq!(soft_nofile_limit(&dir, &["--rlimit-nofile=1000"]), 1000);
    assert_eq!(soft_nofile_limit(&dir, &["--rlimit-nofile=100000"]), hard);
    // Never lowered.
    assert_eq!(soft_nofile_limit(&dir, &["--rlimit-nofile=100"]), 256);
}

/// Hooks run from the command line too (not only under `--enable-rpc`), with aria2's
/// arguments, and a failure runs the error hook.
#[test]
fn download_hooks_run_without_rpc() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("cli-hooks");
    let data = TestFile::random(10_000, 44);
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let log = dir.join("hooks.log");
    let script = |name: &str| {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!(
                "#!/bin/sh\necho \"{name} $1 $2 $3\" >> '{}'\n",
                log.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    };
    let (start, complete, error) = (script("start"), script("complete"), script("error"));
    let out = dir.join("out");
    let r = run(
        swarmget(dir.path())
            .arg("-d")
            .arg(&out)
            .arg(format!("--on-download-start={start}"))
            .arg(format!("--on-download-complete={complete}"))
            .arg(format!("--on-download-error={error}"))
            .args(["-Z", &server.url("/f"), &server.url("/missing")]),
        Duration::from_secs(30),
    );
    r.expect_code(3);
    // The hooks run on their own; wait for the four lines (the bound only turns a hang
    // into a failure).
    let lines = (0..400)
        .find_map(|_| {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.lines().count() >= 4 {
                return Some(text);
            }
            std::thread::sleep(Duration::from_millis(25));
            None
        })
        .unwrap_or_else(|| panic!("hooks did not all run: {:?}", std::fs::read_to_string(&log)));
    let path = out.join("f").display().to_string();
    let mut lines: Vec<&str> = lines.lines().collect();
    lines.sort();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(
        lines[0].starts_with("complete ") && lines[0].ends_with(&format!(" 1 {path}")),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("error ") && lines[1].contains(" 1 "),
        "{lines:?}"
    );
    assert!(
        lines[2].starts_with("start ") && lines[3].starts_with("start "),
        "{lines:?}"
    );
}
