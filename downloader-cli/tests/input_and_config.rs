//! Downloads from an input file (`-i`) and options from a configuration file
//! (`--conf-path`), both in aria2's formats.

mod common;

use std::time::Duration;

use common::{Run, TempDir, assert_download, run, swarmget};
use swarmget_test_support::{HttpServer, RequestRecord, ServerConfig, TestFile};

const LIMIT: Duration = Duration::from_secs(20);

fn get(dir: &TempDir, args: &[&str]) -> Run {
    run(
        swarmget(dir.path()).arg("-d").arg(dir.path()).args(args),
        LIMIT,
    )
}

/// Requests that carried a closed range (not the open-ended length probe).
fn ranged(log: &[RequestRecord]) -> usize {
    log.iter()
        .filter(|r| r.range().is_some_and(|v| !v.ends_with('-')))
        .count()
}

#[test]
fn input_file_entries_with_mirrors_and_options() {
    let two = TestFile::random(4 << 20, 21);
    let one = TestFile::random(100_000, 22);
    // Two mirrors of the first file; trickled so that both get a share of it.
    let mirror_a = HttpServer::start(
        ServerConfig::new()
            .file("/a/two.bin", two.clone())
            .trickle(4 << 20),
    )
    .unwrap();
    let mirror_b = HttpServer::start(
        ServerConfig::new()
            .file("/b/two.bin", two.clone())
            .trickle(4 << 20),
    )
    .unwrap();
    let single = HttpServer::start(ServerConfig::new().file("/one.bin", one.clone())).unwrap();
    let dir = TempDir::new("input");
    let list = dir.join("list.txt");
    std::fs::write(
        &list,
        format!(
            "# two mirrors, renamed, two connections\n{}\t{}\n out=renamed.bin\n split=2\n\n{}\n",
            mirror_a.url("/a/two.bin"),
            mirror_b.url("/b/two.bin"),
            single.url("/one.bin"),
        ),
    )
    .unwrap();
    let r = get(&dir, &["-k1M", "-i", list.to_str().unwrap()]);
    r.expect_code(0);
    assert_download(&dir.join("renamed.bin"), &two);
    assert_download(&dir.join("one.bin"), &one);
    assert!(!dir.join("two.bin").exists(), "out= was not applied");
    // split=2 over two mirrors: each mirror served a part.
    let (a, b) = (mirror_a.log(), mirror_b.log());
    assert!(
        !a.is_empty() && !b.is_empty(),
        "mirror A got {} requests, mirror B {}",
        a.len(),
        b.len()
    );
    assert_eq!(r.stdout.matches("|OK  |").count(), 2, "{}", r.stdout);
}

/// aria2 accepts only per-download options in an input file. swarmget refuses the
/// whole run with exit code 1, before downloading anything, and names the option.
#[test]
fn global_only_option_in_an_input_file_is_refused() {
    let server =
        HttpServer::start(ServerConfig::new().file("/x.bin", TestFile::random(1000, 3))).unwrap();
    let dir = TempDir::new("input-global");
    let list = dir.join("list.txt");
    std::fs::write(
        &list,
        format!("{}\n max-concurrent-downloads=2\n", server.url("/x.bin")),
    )
    .unwrap();
    let r = get(&dir, &["-i", list.to_str().unwrap()]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("max-concurrent-downloads"),
        "the error should name the option: {}",
        r.stderr
    );
    assert!(server.log().is_empty(), "downloaded anyway");
}

#[test]
fn input_file_option_before_any_uri_is_refused() {
    let dir = TempDir::new("input-orphan");
    let list = dir.join("list.txt");
    let server = HttpServer::start(ServerConfig::new()).unwrap();
    std::fs::write(&list, format!(" out=x.bin\n{}\n", server.url("/x"))).unwrap();
    let r = get(&dir, &["-i", list.to_str().unwrap()]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("input line 1: option before any URI"),
        "{}",
        r.stderr
    );
    assert_eq!(server.connections(), 0);
}

#[test]
fn config_file_sets_split_and_the_command_line_wins() {
    let data = TestFile::random(4 << 20, 5);
    let config = || {
        ServerConfig::new()
            .file("/c.bin", data.clone())
            .trickle(4 << 20)
    };
    let dir = TempDir::new("conf");
    let conf = dir.join("swarmget.conf");
    std::fs::write(
        &conf,
        "# comment\nsplit=2\nmax-connection-per-server=8\nmin-split-size=1M\nout=from-conf.bin\n",
    )
    .unwrap();
    let conf_arg = format!("--conf-path={}", conf.display());

    let server = HttpServer::start(config()).unwrap();
    get(&dir, &[&conf_arg, &server.url("/c.bin")]).expect_code(0);
    assert_download(&dir.join("from-conf.bin"), &data);
    let split2 = server.connections();
    assert_eq!(
        split2,
        2,
        "split=2 from the config file: {:?}",
        server.log()
    );

    // The same download with split=4 on the command line, which overrides the file.
    let server = HttpServer::start(config()).unwrap();
    get(
        &dir,
        &[
            &conf_arg,
            "-s4",
            "-o",
            "from-cli.bin",
            &server.url("/c.bin"),
        ],
    )
    .expect_code(0);
    assert_download(&dir.join("from-cli.bin"), &data);
    assert_eq!(server.connections(), 4, "{:?}", server.log());
    assert!(ranged(&server.log()) >= 3, "{:?}", server.log());
}

#[test]
fn unknown_config_key_only_warns() {
    let data = TestFile::random(50_000, 6);
    let server = HttpServer::start(ServerConfig::new().file("/u.bin", data.clone())).unwrap();
    let dir = TempDir::new("conf-unknown");
    let conf = dir.join("a.conf");
    std::fs::write(&conf, "bt-max-peers=5\nsplit=2\n").unwrap();
    let r = get(
        &dir,
        &[
            &format!("--conf-path={}", conf.display()),
            &server.url("/u.bin"),
        ],
    );
    r.expect_code(0);
    assert!(
        r.stderr.contains("bt-max-peers") && r.stderr.contains("warning"),
        "{}",
        r.stderr
    );
    assert_download(&dir.join("u.bin"), &data);
}

#[test]
fn bad_config_value_is_28() {
    let dir = TempDir::new("conf-bad");
    let conf = dir.join("a.conf");
    std::fs::write(&conf, "split=2\nmax-connection-per-server=zero\n").unwrap();
    let server = HttpServer::start(ServerConfig::new()).unwrap();
    let r = get(
        &dir,
        &[
            &format!("--conf-path={}", conf.display()),
            &server.url("/x"),
        ],
    );
    r.expect_code(28);
    // The error says where: file and line.
    assert!(r.stderr.contains("a.conf:2"), "{}", r.stderr);
    assert_eq!(server.connections(), 0);
}

#[test]
fn missing_explicit_config_file_is_1() {
    let dir = TempDir::new("conf-missing");
    let server = HttpServer::start(ServerConfig::new()).unwrap();
    let r = get(
        &dir,
        &[
            &format!("--conf-path={}", dir.join("nope.conf").display()),
            &server.url("/x"),
        ],
    );
    r.expect_code(1);
    assert!(r.stderr.contains("nope.conf"), "{}", r.stderr);
    assert_eq!(server.connections(), 0);
}

#[test]
fn default_config_file_is_read_from_home_unless_no_conf() {
    let data = TestFile::random(20_000, 8);
    let server = HttpServer::start(ServerConfig::new().file("/h.bin", data.clone())).unwrap();
    let dir = TempDir::new("conf-home");
    // aria2's default location, under the isolated HOME the helper sets.
    std::fs::create_dir_all(dir.join(".config/aria2")).unwrap();
    std::fs::write(dir.join(".config/aria2/aria2.conf"), "out=home.bin\n").unwrap();
    get(&dir, &[&server.url("/h.bin")]).expect_code(0);
    assert_download(&dir.join("home.bin"), &data);
    get(&dir, &["--no-conf", &server.url("/h.bin")]).expect_code(0);
    assert_download(&dir.join("h.bin"), &data);
}
