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

/// Runs `script` with Python's sqlite3 to make a browser's cookie database at `db`
/// (the real SQLite, as the browsers use it).
fn make_db(db: &std::path::Path, script: &str) {
    let program = format!(
        "import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1])\ndb.executescript('''{script}''')\ndb.commit()\n"
    );
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(program)
        .arg(db)
        .output()
        .expect("python3 makes the cookie database");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The cookie header a download with `--load-cookies=db` sent.
fn sent_with(db: std::path::PathBuf, dir: &Dir) -> Option<String> {
    let data = TestFile::random(5_000, 2);
    let server = HttpServer::start(ServerConfig::new().file("/dl/f", data.clone())).unwrap();
    let o = Options {
        load_cookies: Some(db),
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![server.url("/dl/f")], o), &data);
    server.log()[0].header("cookie").map(str::to_string)
}

#[test]
fn firefox_cookies_sqlite_is_read() {
    let dir = Dir::new("cookies-firefox");
    let db = dir.0.join("cookies.sqlite");
    // Firefox's moz_cookies schema (v12+); expiry in seconds and, since Firefox 123,
    // in milliseconds.
    make_db(
        &db,
        "CREATE TABLE moz_cookies (id INTEGER PRIMARY KEY, originAttributes TEXT NOT NULL DEFAULT '',
           name TEXT, value TEXT, host TEXT, path TEXT, expiry INTEGER, lastAccessed INTEGER,
           creationTime INTEGER, isSecure INTEGER, isHttpOnly INTEGER,
           inBrowserElement INTEGER DEFAULT 0, sameSite INTEGER DEFAULT 0,
           rawSameSite INTEGER DEFAULT 0, schemeMap INTEGER DEFAULT 0);
         INSERT INTO moz_cookies (name, value, host, path, expiry, isSecure, isHttpOnly) VALUES
           ('seconds', 'a', '127.0.0.1', '/', 4102444800, 0, 0),
           ('millis', 'b', '127.0.0.1', '/dl', 4102444800000, 0, 1),
           ('expired', 'c', '127.0.0.1', '/', 1000, 0, 0),
           ('secure', 'd', '127.0.0.1', '/', 4102444800, 1, 0),
           ('foreign', 'e', '.example.com', '/', 4102444800, 0, 0);",
    );
    assert_eq!(sent_with(db, &dir).as_deref(), Some("millis=b; seconds=a"));
}

#[test]
fn chromium_cookies_db_is_read_and_encrypted_values_skipped() {
    let dir = Dir::new("cookies-chromium");
    let db = dir.0.join("Cookies");
    // Chromium's cookies schema; expires_utc in microseconds since 1601-01-01.
    make_db(
        &db,
        "CREATE TABLE cookies (creation_utc INTEGER NOT NULL, host_key TEXT NOT NULL,
           top_frame_site_key TEXT NOT NULL DEFAULT '', name TEXT NOT NULL, value TEXT NOT NULL,
           encrypted_value BLOB NOT NULL DEFAULT x'', path TEXT NOT NULL,
           expires_utc INTEGER NOT NULL, is_secure INTEGER NOT NULL, is_httponly INTEGER NOT NULL,
           last_access_utc INTEGER NOT NULL DEFAULT 0, has_expires INTEGER NOT NULL DEFAULT 1,
           is_persistent INTEGER NOT NULL DEFAULT 1, priority INTEGER NOT NULL DEFAULT 1,
           samesite INTEGER NOT NULL DEFAULT -1, source_scheme INTEGER NOT NULL DEFAULT 0,
           source_port INTEGER NOT NULL DEFAULT -1, last_update_utc INTEGER NOT NULL DEFAULT 0);
         INSERT INTO cookies (creation_utc, host_key, name, value, encrypted_value, path,
           expires_utc, is_secure, is_httponly) VALUES
           (1, '127.0.0.1', 'plain', 'yes', x'', '/', 15746918400000000, 0, 0),
           (2, '127.0.0.1', 'session', 'too', x'', '/dl', 0, 0, 0),
           (3, '127.0.0.1', 'locked', '', x'763130deadbeef', '/', 15746918400000000, 0, 0),
           (4, '127.0.0.1', 'stale', 'no', x'', '/', 13000000000000000, 0, 0);",
    );
    assert_eq!(
        sent_with(db.clone(), &dir).as_deref(),
        Some("session=too; plain=yes")
    );

    // Only encrypted values: refused rather than downloading without the cookies.
    let locked = dir.0.join("Locked");
    make_db(
        &locked,
        "CREATE TABLE cookies (creation_utc INTEGER, host_key TEXT, name TEXT, value TEXT,
           encrypted_value BLOB, path TEXT, expires_utc INTEGER, is_secure INTEGER,
           is_httponly INTEGER);
         INSERT INTO cookies VALUES (1, '127.0.0.1', 'locked', '', x'763130aa', '/', 0, 0, 0);",
    );
    let o = Options {
        load_cookies: Some(locked),
        ..opts(&dir.0)
    };
    let e = Engine::start(&o).err().expect("refused");
    assert!(e.to_string().contains("all 1 cookies are encrypted"), "{e}");
}
