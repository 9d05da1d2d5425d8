//! Logs and the console: `-l/--log` with `--log-level`, `--console-log-level`,
//! `--stderr`, and on a terminal `--enable-color`, `--truncate-console-readout` and
//! `--summary-interval`. Each test also runs without the option and sees the difference.

mod common;

use std::time::Duration;

use common::{Run, TempDir, assert_download, run, run_on_tty, swarmget};
use swarmget_test_support::{FtpConfig, FtpServer, HttpServer, ServerConfig, TestFile};

const LIMIT: Duration = Duration::from_secs(30);

fn get(dir: &TempDir, args: &[&str]) -> Run {
    run(
        swarmget(dir.path()).arg("-d").arg(dir.path()).args(args),
        LIMIT,
    )
}

fn server(len: usize, seed: u64) -> (HttpServer, Vec<u8>) {
    let data = TestFile::random(len, seed);
    let server = HttpServer::start(ServerConfig::new().file("/f.bin", data.clone())).unwrap();
    (server, data)
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn log_file_at_info_has_requests_and_responses_without_secrets() {
    let (server, data) = server(100_000, 1);
    let dir = TempDir::new("log-info");
    let log = dir.join("run.log");
    let r = get(
        &dir,
        &[
            "-l",
            &log.display().to_string(),
            "--log-level=info",
            "--http-user=alice",
            "--http-passwd=s3cret-pw",
            &server.url("/f.bin"),
        ],
    );
    r.expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    let text = read(&log);
    assert!(text.contains("[INFO]"), "{text}");
    assert!(text.contains("Connecting to 127.0.0.1:"), "{text}");
    assert!(text.contains("Requesting:\nGET /f.bin HTTP/1.1"), "{text}");
    assert!(text.contains("Response received:\nHTTP/1.1 20"), "{text}");
    assert!(
        text.contains("[NOTICE]") && text.contains("Download complete: "),
        "{text}"
    );
    // The password stays out, in clear and in base64.
    assert!(text.contains("Authorization: Basic ********"), "{text}");
    assert!(
        !text.contains("s3cret-pw") && !text.contains("YWxpY2U6czNjcmV0LXB3"),
        "{text}"
    );
    // Records carry a date and microseconds: `2026-12-06 20:49:58.123456 [INFO]`.
    let first = text.lines().next().unwrap();
    assert_eq!(&first[26..28], " [", "{first}");

    // The log is appended to, as aria2 does.
    let before = text.len();
    get(
        &dir,
        &[
            "-l",
            &log.display().to_string(),
            "--allow-overwrite",
            &server.url("/f.bin"),
        ],
    )
    .expect_code(0);
    assert!(read(&log).len() > before);
}

#[test]
fn log_level_notice_keeps_the_outcome_and_drops_the_requests() {
    let (server, _) = server(50_000, 2);
    let dir = TempDir::new("log-notice");
    let log = dir.join("run.log");
    let r = get(
        &dir,
        &[
            "-l",
            &log.display().to_string(),
            "--log-level=notice",
            &server.url("/f.bin"),
        ],
    );
    r.expect_code(0);
    let text = read(&log);
    assert!(text.contains("Download complete: "), "{text}");
    assert!(!text.contains("Requesting:"), "{text}");
    assert!(!text.contains("[INFO]"), "{text}");
}

#[test]
fn log_records_failures_at_error_and_warn() {
    let (server, _) = server(10, 3);
    let dir = TempDir::new("log-error");
    let log = dir.join("run.log");
    let r = get(
        &dir,
        &[
            "-l",
            &log.display().to_string(),
            "--log-level=warn",
            "--max-tries=1",
            &server.url("/missing"),
        ],
    );
    r.expect_code(3);
    let text = read(&log);
    assert!(
        text.contains("[ERROR]") && text.contains("Download aborted. URI="),
        "{text}"
    );
    assert!(text.contains("[WARN]"), "{text}");
    assert!(!text.contains("[NOTICE]"), "{text}");
}

#[test]
fn log_dash_writes_to_stdout() {
    let (server, _) = server(20_000, 4);
    let dir = TempDir::new("log-stdout");
    let r = get(
        &dir,
        &["-q", "-l", "-", "--log-level=info", &server.url("/f.bin")],
    );
    r.expect_code(0);
    assert!(r.stdout.contains("Requesting:\nGET /f.bin"), "{}", r.stdout);
    // -q silences the console, not the log.
    assert!(!r.stdout.contains("Download Results"), "{}", r.stdout);
}

#[test]
fn ftp_commands_are_logged_with_the_password_masked() {
    let data = TestFile::random(30_000, 5);
    let server = FtpServer::start(
        FtpConfig::new()
            .file("/pub/f.bin", data.clone())
            .credentials("bob", "ftp-s3cret"),
    )
    .unwrap();
    let dir = TempDir::new("log-ftp");
    let log = dir.join("run.log");
    let r = get(
        &dir,
        &[
            "-l",
            &log.display().to_string(),
            "--log-level=info",
            "--ftp-user=bob",
            "--ftp-passwd=ftp-s3cret",
            &server.url("/pub/f.bin"),
        ],
    );
    r.expect_code(0);
    assert_download(&dir.join("f.bin"), &data);
    let text = read(&log);
    assert!(text.contains("USER bob"), "{text}");
    assert!(text.contains("PASS ********"), "{text}");
    assert!(!text.contains("ftp-s3cret"), "{text}");
    assert!(text.contains("Response received:\n230"), "{text}");
}

#[test]
fn a_log_that_cannot_be_opened_stops_the_run() {
    let (server, _) = server(10, 6);
    let dir = TempDir::new("log-unopenable");
    let r = get(
        &dir,
        &["-l", "/nonexistent-dir/x/run.log", &server.url("/f.bin")],
    );
    assert!(
        r.stderr
            .contains("cannot open the log file /nonexistent-dir/x/run.log"),
        "{}",
        r.stderr
    );
    r.expect_code(17);
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[test]
fn console_log_level_decides_what_the_console_shows() {
    let (server, _) = server(20_000, 7);
    let dir = TempDir::new("console-level");
    let url = server.url("/f.bin");
    let r = get(&dir, &[&url]);
    r.expect_code(0);
    assert!(
        r.stdout.contains("[NOTICE] Download complete: "),
        "{}",
        r.stdout
    );

    let r = get(
        &dir,
        &["--allow-overwrite", "--console-log-level=error", &url],
    );
    r.expect_code(0);
    assert!(!r.stdout.contains("Download complete"), "{}", r.stdout);
    assert!(r.stdout.contains("Download Results"), "{}", r.stdout);

    let r = get(
        &dir,
        &["--allow-overwrite", "--console-log-level=info", &url],
    );
    r.expect_code(0);
    assert!(r.stdout.contains("[INFO] CUID#"), "{}", r.stdout);
    assert!(r.stdout.contains("Requesting:"), "{}", r.stdout);
}

#[test]
fn stderr_takes_the_console_output() {
    let (server, _) = server(20_000, 8);
    let dir = TempDir::new("stderr");
    let r = get(&dir, &["--stderr", &server.url("/f.bin")]);
    r.expect_code(0);
    assert_eq!(r.stdout, "", "stdout with --stderr");
    assert!(r.stderr.contains("Download complete: "), "{}", r.stderr);
    assert!(r.stderr.contains("Download Results"), "{}", r.stderr);
}

/// A download slow enough for the live line to be drawn several times.
fn slow_run(dir: &TempDir, server: &HttpServer, cols: u16, extra: &[&str]) -> String {
    let mut cmd = swarmget(dir.path());
    cmd.arg("-d")
        .arg(dir.path())
        .args(["--allow-overwrite", "--max-download-limit=400K"])
        .args(extra)
        .arg(server.url("/f.bin"));
    let r = run_on_tty(cmd, cols, LIMIT);
    assert_eq!(r.code, Some(0), "{}\n{}", r.output, r.stderr);
    r.output
}

/// What the live line showed each time it was drawn (the text after each `\r`).
fn live_lines(output: &str) -> Vec<&str> {
    output
        .split(['\r', '\n'])
        .filter(|l| l.contains("CN:"))
        .collect()
}

#[test]
fn enable_color_colours_the_terminal_and_false_turns_it_off() {
    let (server, _) = server(1 << 20, 9);
    let dir = TempDir::new("color");
    let coloured = slow_run(&dir, &server, 120, &[]);
    assert!(coloured.contains("DL:\x1b[1;32m"), "{coloured:?}");
    assert!(coloured.contains("\x1b[1;32mNOTICE\x1b[0m"), "{coloured:?}");
    let plain = slow_run(&dir, &server, 120, &["--enable-color=false"]);
    assert!(!plain.contains('\x1b'), "{plain:?}");
    assert!(plain.contains("[NOTICE] Download complete"), "{plain:?}");
}

#[test]
fn truncate_console_readout_fits_the_line_to_the_terminal() {
    let (server, _) = server(1 << 20, 10);
    let dir = TempDir::new("truncate");
    let cut = slow_run(&dir, &server, 30, &["--enable-color=false"]);
    let lines = live_lines(&cut);
    assert!(!lines.is_empty(), "{cut:?}");
    assert!(
        lines.iter().all(|l| l.trim_end().chars().count() <= 29),
        "{lines:?}"
    );
    let whole = slow_run(
        &dir,
        &server,
        30,
        &["--enable-color=false", "--truncate-console-readout=false"],
    );
    let lines = live_lines(&whole);
    assert!(
        lines
            .iter()
            .any(|l| l.trim_end().chars().count() > 29 && l.ends_with(']')),
        "{lines:?}"
    );
}

#[test]
fn summary_interval_prints_summaries_on_a_terminal_too() {
    let (server, _) = server(1 << 20, 11);
    let dir = TempDir::new("tty-summary");
    let with = slow_run(&dir, &server, 120, &["--summary-interval=1"]);
    assert!(
        with.contains("*** Download Progress Summary as of "),
        "{with:?}"
    );
    let without = slow_run(&dir, &server, 120, &[]);
    assert!(
        !without.contains("Download Progress Summary"),
        "{without:?}"
    );
}
