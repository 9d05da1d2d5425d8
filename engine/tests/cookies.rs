//! Cookies: --load-cookies (Netscape format) sent where RFC 6265 says, Set-Cookie
//! from any answer (a redirect's too) kept for the next request, and --save-cookies
//! writing the jar when the engine stops.

use swarmget_engine::{Engine, Options};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

mod common;

use common::{Dir, assert_ok, opts, run};

#[test]
fn loaded_cookies_go_where_their_domain_path_and_expiry_allow() {
    let data = TestFile::random(10_000, 1);
    let server = HttpServer::start(ServerConfig::new().file("/dl/f", data.clone())).unwrap();
    let dir = Dir::new("cookies-load");
    let file = dir.0.join("cookies.txt");
    std::fs::write(
        &file,
        "# Netscape HTTP Cookie File\n\
         127.0.0.1\tFALSE\t/dl\tFALSE\t0\tsession\tyes\n\
         127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tlong\tlived\n\
         127.0.0.1\tFALSE\t/\tFALSE\t1000\texpired\tx\n\
         127.0.0.1\tFALSE\t/other\tFALSE\t0\telsewhere\tx\n\
         127.0.0.1\tFALSE\t/\tTRUE\t0\tsecure\tx\n\
         example.com\tFALSE\t/\tFALSE\t0\tforeign\tx\n",
    )
    .unwrap();
    let o = Options {
        load_cookies: Some(file),
        headers: vec!["Cookie: mine=1".into()],
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![server.url("/dl/f")], o), &data);
    let sent = server.log()[0].header("cookie").map(str::to_string);
    assert_eq!(sent.as_deref(), Some("session=yes; long=lived; mine=1"));
    let fields = server.log()[0]
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("cookie"))
        .count();
    assert_eq!(fields, 1, "one Cookie field");
}

#[test]
fn set_cookie_on_a_redirect_is_sent_after_it_and_saved() {
    let data = TestFile::random(10_000, 2);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .redirect("/start", "/f", 302)
            .header("Set-Cookie", "sid=abc; Path=/; Max-Age=3600")
            .header("Set-Cookie", "evil=1; Domain=example.com"),
    )
    .unwrap();
    let dir = Dir::new("cookies-set");
    let saved = dir.0.join("saved.txt");
    let o = Options {
        save_cookies: Some(saved.clone()),
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![server.url("/start")], o), &data);
    assert_eq!(server.requests_for("/start")[0].header("cookie"), None);
    assert_eq!(
        server.requests_for("/f")[0].header("cookie"),
        Some("sid=abc")
    );
    let text = std::fs::read_to_string(&saved).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines.len(), 1, "{text}");
    let fields: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(fields[..4], ["127.0.0.1", "FALSE", "/", "FALSE"]);
    assert_eq!(fields[5..], ["sid", "abc"]);
}

#[test]
fn an_unreadable_cookie_file_stops_the_start_and_names_the_line() {
    let dir = Dir::new("cookies-bad");
    let file = dir.0.join("bad.txt");
    std::fs::write(&file, "# ok\nhost\tTRUE\t/\n").unwrap();
    let o = Options {
        load_cookies: Some(file),
        ..opts(&dir.0)
    };
    let e = Engine::start(&o).err().expect("refused");
    assert!(e.to_string().contains("line 2"), "{e}");
    let missing = Options {
        load_cookies: Some(dir.0.join("none.txt")),
        ..opts(&dir.0)
    };
    assert!(Engine::start(&missing).is_err());
}
