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
fn a_config_key_aria2_does_not_know_only_warns() {
    let data = TestFile::random(50_000, 6);
    let server = HttpServer::start(ServerConfig::new().file("/u.bin", data.clone())).unwrap();
    let dir = TempDir::new("conf-unknown");
    let conf = dir.join("a.conf");
    std::fs::write(&conf, "no-such-aria2-option=5\nsplit=2\n").unwrap();
    let r = get(
        &dir,
        &[
            &format!("--conf-path={}", conf.display()),
            &server.url("/u.bin"),
        ],
    );
    r.expect_code(0);
    assert!(
        r.stderr.contains("no-such-aria2-option") && r.stderr.contains("warning"),
        "{}",
        r.stderr
    );
    assert_download(&dir.join("u.bin"), &data);
}

/// An `aria2.conf` asking for something swarmget cannot do yet stops the run before
/// anything is fetched, naming the line: going on would silently not do it.
#[test]
fn an_aria2_config_key_swarmget_lacks_is_an_error_naming_the_line() {
    let server = HttpServer::start(ServerConfig::new()).unwrap();
    let dir = TempDir::new("conf-aria2-only");
    let conf = dir.join("aria2.conf");
    std::fs::write(&conf, "split=2\n# comment\nevent-poll=epoll\n").unwrap();
    let r = get(
        &dir,
        &[
            &format!("--conf-path={}", conf.display()),
            &server.url("/x"),
        ],
    );
    r.expect_code(28);
    assert!(
        r.stderr
            .contains("aria2.conf:3: option 'event-poll' is aria2's"),
        "{}",
        r.stderr
    );
    assert_eq!(server.connections(), 0);
}

/// The options aria2 keeps for compatibility are accepted from a config file (a common
/// `aria2.conf` has them), and a bad value is still refused.
#[test]
fn compatibility_options_are_accepted_in_a_config_file() {
    let data = vec![7u8; 1000];
    let server = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = TempDir::new("conf-compat");
    let conf = dir.join("aria2.conf");
    std::fs::write(
        &conf,
        "enable-mmap=true\nmax-mmap-limit=2G\nasync-dns=false\n",
    )
    .unwrap();
    let conf_arg = format!("--conf-path={}", conf.display());
    get(&dir, &[&conf_arg, &server.url("/f")]).expect_code(0);
    assert_download(&dir.join("f"), &data);

    std::fs::write(&conf, "async-dns=maybe\n").unwrap();
    get(&dir, &[&conf_arg, &server.url("/f")]).expect_code(28);
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

/// A server of `n` one-kilobyte files `/0` … `/n-1`, each its own bytes.
fn many_files(n: usize) -> (HttpServer, Vec<Vec<u8>>) {
    let files: Vec<Vec<u8>> = (0..n)
        .map(|i| TestFile::random(1024, 1000 + i as u64))
        .collect();
    let mut config = ServerConfig::new();
    for (i, f) in files.iter().enumerate() {
        config = config.file(&format!("/{i}"), f.clone());
    }
    (HttpServer::start(config).unwrap(), files)
}

#[test]
fn with_deferred_input_downloads_start_before_the_input_ends() {
    use std::io::Write;
    let (server, files) = many_files(2);
    let dir = TempDir::new("input-deferred");
    let mut child = swarmget(dir.path())
        .args(["-d", &dir.arg(), "--deferred-input", "-i", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The second line ends the first entry (option lines may follow a URI line).
    writeln!(stdin, "{}\n{}", server.url("/0"), server.url("/1")).unwrap();
    stdin.flush().unwrap();
    // The first download must be under way while the input is still open: a reader
    // that waits for the end of the input would never ask for /0 here.
    let asked = (0..200).any(|_| {
        std::thread::sleep(Duration::from_millis(50));
        !server.requests_for("/0").is_empty()
    });
    if !asked {
        let _ = child.kill();
        panic!("/0 was not requested before the input ended");
    }
    drop(stdin);
    let status = common::wait_for(&mut child, LIMIT).expect("swarmget did not end");
    assert_eq!(status.code(), Some(0));
    assert_download(&dir.join("0"), &files[0]);
    assert_download(&dir.join("1"), &files[1]);
}

#[test]
fn with_deferred_input_a_bad_entry_is_skipped_and_counts_in_the_exit_code() {
    let (server, files) = many_files(2);
    let dir = TempDir::new("input-deferred-bad");
    let list = dir.join("list.txt");
    std::fs::write(
        &list,
        format!(
            "{}\nhttp://127.0.0.1:1/never\n max-concurrent-downloads=2\n{}\n",
            server.url("/0"),
            server.url("/1")
        ),
    )
    .unwrap();
    let r = get(&dir, &["--deferred-input", "-i", list.to_str().unwrap()]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains("option 'max-concurrent-downloads' cannot be set per download"),
        "{}",
        r.stderr
    );
    assert_download(&dir.join("0"), &files[0]);
    assert_download(&dir.join("1"), &files[1]);

    // Without it the whole file is checked first: nothing is downloaded.
    let dir = TempDir::new("input-checked-bad");
    let r = get(&dir, &["-i", list.to_str().unwrap()]);
    r.expect_code(1);
    assert!(
        !dir.join("0").exists(),
        "downloaded before the file was checked"
    );
}

#[test]
fn a_long_input_file_streams_through_the_engine_and_every_file_arrives() {
    let (server, files) = many_files(600);
    let dir = TempDir::new("input-long");
    let list = dir.join("list.txt");
    let text: String = (0..files.len())
        .map(|i| format!("{}\n", server.url(&format!("/{i}"))))
        .collect();
    std::fs::write(&list, text).unwrap();
    let r = get(
        &dir,
        &[
            "-j4",
            "--max-download-result=20",
            "-i",
            list.to_str().unwrap(),
        ],
    );
    r.expect_code(0);
    for (i, f) in files.iter().enumerate() {
        assert_download(&dir.join(&i.to_string()), f);
    }
    // Only the results kept are listed.
    assert_eq!(r.stdout.matches("|OK  |").count(), 20, "{}", r.stdout);
}

#[test]
fn a_failure_whose_result_was_dropped_still_sets_the_exit_code() {
    let (server, _) = many_files(10);
    let dir = TempDir::new("input-dropped-failure");
    let list = dir.join("list.txt");
    let mut text = format!("{}\n", server.url("/missing"));
    for i in 0..10 {
        text.push_str(&format!("{}\n", server.url(&format!("/{i}"))));
    }
    std::fs::write(&list, text).unwrap();
    // One at a time: the 404 ends first, and ten later results push it out.
    let r = get(
        &dir,
        &[
            "-j1",
            "--max-download-result=3",
            "-i",
            list.to_str().unwrap(),
        ],
    );
    r.expect_code(3);
    assert!(
        !r.stdout.contains("|ERR |"),
        "the failure was kept: {}",
        r.stdout
    );
    assert_eq!(r.stdout.matches("|OK  |").count(), 3, "{}", r.stdout);
}

#[test]
fn parameterized_uris_expand_to_mirrors_or_with_z_to_downloads() {
    let (server, files) = many_files(3);
    let dir = TempDir::new("param-z");
    let pattern = server.url("/[0-2]");
    let r = get(&dir, &["-P", "-Z", &pattern]);
    r.expect_code(0);
    for (i, f) in files.iter().enumerate() {
        assert_download(&dir.join(&i.to_string()), f);
    }

    // Without -Z the URIs are mirrors of one file: two servers by a {…} of ports.
    let data = TestFile::random(2 << 20, 77);
    let a = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let b = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let port = |s: &HttpServer| {
        s.url("/")
            .split(':')
            .nth(2)
            .unwrap()
            .trim_end_matches('/')
            .to_owned()
    };
    let dir = TempDir::new("param-mirrors");
    let pattern = format!("http://127.0.0.1:{{{},{}}}/f", port(&a), port(&b));
    let r = get(&dir, &["-P", "-s4", "-k1M", &pattern]);
    r.expect_code(0);
    assert_download(&dir.join("f"), &data);
    assert!(
        !a.log().is_empty() && !b.log().is_empty(),
        "both mirrors were not used"
    );

    // Without -P the braces are the URI's own (not a valid port): nothing is asked.
    let before = a.log().len() + b.log().len();
    let dir = TempDir::new("param-off");
    let r = get(&dir, &[&pattern]);
    assert_ne!(r.code, Some(0));
    assert_eq!(
        a.log().len() + b.log().len(),
        before,
        "a brace URI reached a server"
    );
}

#[test]
fn a_bad_parameterized_uri_is_refused_with_exit_28() {
    let dir = TempDir::new("param-bad");
    let r = get(&dir, &["-P", "http://127.0.0.1:1/f[9-1]"]);
    r.expect_code(28);
    assert!(r.stderr.contains("counts backwards"), "{}", r.stderr);
}
