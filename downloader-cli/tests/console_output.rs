//! What the binary prints: nothing with `-q`, aria2's "Download Results" table at the
//! end otherwise (stdout is a pipe here, not a terminal), `--help` and `--version`;
//! and `-Z`, which turns the URIs into separate downloads.

mod common;

use std::time::{Duration, Instant};

use common::{Run, TempDir, assert_download, run, swarmget};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

const LIMIT: Duration = Duration::from_secs(20);

fn get(dir: &TempDir, args: &[&str]) -> Run {
    run(
        swarmget(dir.path()).arg("-d").arg(dir.path()).args(args),
        LIMIT,
    )
}

fn one_file_server(seed: u64) -> (HttpServer, Vec<u8>) {
    let data = TestFile::random(200_000, seed);
    let server = HttpServer::start(ServerConfig::new().file("/o.bin", data.clone())).unwrap();
    (server, data)
}

#[test]
fn quiet_prints_nothing() {
    let (server, data) = one_file_server(1);
    let dir = TempDir::new("quiet");
    let r = get(&dir, &["-q", &server.url("/o.bin")]);
    r.expect_code(0);
    assert_eq!(r.stdout, "", "stdout with -q");
    assert_eq!(r.stderr, "", "stderr with -q");
    assert_download(&dir.join("o.bin"), &data);

    // Errors are silent too; the exit code tells.
    let r = get(&dir, &["-q", "--max-tries=1", &server.url("/missing")]);
    r.expect_code(3);
    assert_eq!(r.stdout, "", "stdout with -q after an error");
}

#[test]
fn results_table_ends_the_output() {
    let (server, data) = one_file_server(2);
    let dir = TempDir::new("table");
    let r = get(&dir, &[&server.url("/o.bin")]);
    r.expect_code(0);
    assert_download(&dir.join("o.bin"), &data);
    let path = dir.join("o.bin").display().to_string();

    assert!(
        r.stdout.contains(&format!("Download complete: {path}")),
        "{}",
        r.stdout
    );
    let table = &r.stdout[r
        .stdout
        .find("\nDownload Results:\n")
        .expect("a results table")..];
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[1], "Download Results:");
    assert_eq!(lines[2], "gid   |stat|avg speed  |path/URI");
    assert!(
        lines[3].starts_with("======+====+===========+==="),
        "{}",
        lines[3]
    );
    let row: Vec<&str> = lines[4].split('|').collect();
    assert_eq!(row.len(), 4, "{}", lines[4]);
    assert!(
        row[0].len() == 6 && row[0].bytes().all(|b| b.is_ascii_hexdigit()),
        "gid column: {:?}",
        row[0]
    );
    assert_eq!(row[1], "OK  ");
    assert_eq!(row[2].len(), 11, "speed column: {:?}", row[2]);
    assert!(row[2].ends_with("B/s"), "speed column: {:?}", row[2]);
    assert_eq!(row[3], path);
    assert_eq!(
        &lines[5..],
        ["", "Status Legend:", "(OK):download completed."],
        "{table}"
    );
    assert!(r.stdout.ends_with("(OK):download completed.\n"));
}

#[test]
fn download_result_full_adds_the_percent_column() {
    let (server, data) = one_file_server(3);
    let dir = TempDir::new("table-full");
    let r = get(&dir, &["--download-result=full", &server.url("/o.bin")]);
    r.expect_code(0);
    assert_download(&dir.join("o.bin"), &data);
    let path = dir.join("o.bin").display().to_string();
    let table = &r.stdout[r.stdout.find("\nDownload Results:\n").expect("a table")..];
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[2], "gid   |stat|avg speed  |  %|path/URI");
    assert!(
        lines[3].starts_with("======+====+===========+===+==="),
        "{}",
        lines[3]
    );
    let row: Vec<&str> = lines[4].split('|').collect();
    assert_eq!(row.len(), 5, "{}", lines[4]);
    assert_eq!((row[1], row[3], row[4]), ("OK  ", "100", path.as_str()));
}

#[test]
fn results_table_marks_errors() {
    let server = HttpServer::start(ServerConfig::new()).unwrap();
    let dir = TempDir::new("table-err");
    let r = get(&dir, &["--max-tries=1", &server.url("/gone.bin")]);
    r.expect_code(3);
    let table = &r.stdout[r.stdout.find("Download Results:").expect("a results table")..];
    assert!(table.contains("|ERR |"), "{table}");
    assert!(table.contains("(ERR):error occurred."), "{table}");
    assert!(!table.contains("(OK)"), "{table}");
}

#[test]
fn download_result_hide_drops_the_table() {
    let (server, data) = one_file_server(3);
    let dir = TempDir::new("hide");
    let r = get(&dir, &["--download-result=hide", &server.url("/o.bin")]);
    r.expect_code(0);
    assert!(!r.stdout.contains("Download Results"), "{}", r.stdout);
    assert!(!r.stdout.contains("|OK  |"), "{}", r.stdout);
    assert!(r.stdout.contains("Download complete"), "{}", r.stdout);
    assert_download(&dir.join("o.bin"), &data);
}

#[test]
fn force_sequential_makes_separate_downloads() {
    let a = TestFile::random(150_000, 10);
    let b = TestFile::random(170_000, 11);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/a.bin", a.clone())
            .file("/b.bin", b.clone()),
    )
    .unwrap();
    let dir = TempDir::new("force-seq");
    let r = get(&dir, &["-Z", &server.url("/a.bin"), &server.url("/b.bin")]);
    r.expect_code(0);
    assert_download(&dir.join("a.bin"), &a);
    assert_download(&dir.join("b.bin"), &b);
    assert_eq!(r.stdout.matches("|OK  |").count(), 2, "{}", r.stdout);
    assert_eq!(dir.names(), ["a.bin", "b.bin"]);
}

#[test]
fn without_force_sequential_uris_are_mirrors_of_one_file() {
    let data = TestFile::random(150_000, 12);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/a.bin", data.clone())
            .file("/b.bin", data.clone()),
    )
    .unwrap();
    let dir = TempDir::new("mirrors");
    let r = get(&dir, &[&server.url("/a.bin"), &server.url("/b.bin")]);
    r.expect_code(0);
    assert_eq!(r.stdout.matches("|OK  |").count(), 1, "{}", r.stdout);
    // One file, named after the first URI.
    assert_eq!(dir.names(), ["a.bin"]);
    assert_download(&dir.join("a.bin"), &data);
}

/// Not on a terminal, progress comes as aria2's periodic summaries; the download is
/// held to `--max-download-limit` meanwhile.
#[test]
fn progress_summaries_under_a_speed_limit() {
    let data = TestFile::random(5 << 19, 4);
    let server = HttpServer::start(ServerConfig::new().file("/p.bin", data.clone())).unwrap();
    let dir = TempDir::new("summary");
    let started = Instant::now();
    let r = get(
        &dir,
        &[
            "--max-download-limit=1M",
            "--summary-interval=1",
            &server.url("/p.bin"),
        ],
    );
    let took = started.elapsed();
    r.expect_code(0);
    assert_download(&dir.join("p.bin"), &data);
    // 2.5 MiB at 1 MiB/s, allowing the limiter a one-second burst.
    assert!(
        took >= Duration::from_millis(1400),
        "2.5 MiB took {took:?} at --max-download-limit=1M"
    );
    let summaries = r
        .stdout
        .matches(" *** Download Progress Summary as of ")
        .count();
    assert!(summaries >= 1, "{}", r.stdout);
    let path = dir.join("p.bin").display().to_string();
    assert_eq!(
        r.stdout.matches(&format!("\nFILE: {path}\n")).count(),
        summaries,
        "{}",
        r.stdout
    );
    // Each summary shows the readout line: `[#gid done/total(p%) CN:n DL:speed…]`.
    assert!(r.stdout.contains("/2.5MiB("), "{}", r.stdout);

    // Without --human-readable the sizes are bytes, in thousands as aria2 writes them.
    let dir = TempDir::new("summary-bytes");
    let r = get(
        &dir,
        &[
            "--max-download-limit=1M",
            "--summary-interval=1",
            "--human-readable=false",
            &server.url("/p.bin"),
        ],
    );
    r.expect_code(0);
    assert!(r.stdout.contains("/2,621,440B("), "{}", r.stdout);
}

#[test]
fn help_and_version() {
    let dir = TempDir::new("help");
    let r = run(swarmget(dir.path()).arg("--help"), LIMIT);
    r.expect_code(0);
    assert!(
        r.stdout.contains("--max-connection-per-server"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.starts_with("Usage: swarmget"), "{}", r.stdout);

    let r = run(swarmget(dir.path()).arg("--help=#all"), LIMIT);
    r.expect_code(0);
    for option in [
        "--checksum",
        "--conf-path",
        "--stop",
        "--auto-file-renaming",
    ] {
        assert!(r.stdout.contains(option), "#all lacks {option}");
    }

    let r = run(swarmget(dir.path()).arg("--version"), LIMIT);
    r.expect_code(0);
    assert!(
        r.stdout
            .starts_with(&format!("swarmget version {}", env!("CARGO_PKG_VERSION"))),
        "{}",
        r.stdout
    );
    // Neither touches the current directory or needs a URI.
    assert!(dir.names().is_empty(), "{:?}", dir.names());
}

#[test]
fn no_uri_is_1_with_usage() {
    let dir = TempDir::new("no-uri");
    let r = run(&mut swarmget(dir.path()), LIMIT);
    r.expect_code(1);
    assert!(r.stderr.contains("Usage: swarmget"), "{}", r.stderr);
}
