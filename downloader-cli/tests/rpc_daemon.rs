//! The `--enable-rpc` daemon driven over loopback as aria2's clients drive it: raw
//! JSON-RPC over HTTP (single, batch, GET/JSONP), XML-RPC, and a WebSocket receiving
//! notifications, against downloads from the test-support HTTP server.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};
use swarmget_rpc::websocket::{Opcode, encode_frame};
use swarmget_test_support::{
    Behaviour, DhtNode, HttpServer, Seeder, SeederConfig, ServerConfig, TestCa, TestFile, Tracker,
    make_torrent,
};

use common::daemon::Daemon;
use common::{TempDir, assert_download, swarmget, wait_for};

/// Runs swarmget in `dir` with `args` and checks that it exits with `code`, saying
/// `message`: an option refused, not ignored.
#[track_caller]
fn refused(dir: &TempDir, args: &[&str], code: i32, message: &str) {
    let r = common::run(
        swarmget(dir.path()).current_dir(dir.path()).args(args),
        Duration::from_secs(30),
    );
    r.expect_code(code);
    assert!(r.stderr.contains(message), "{}", r.stderr);
}

/// A hook script `NAME.sh` in `dir` that appends its three arguments (GID, number of
/// files, path) as a line to `NAME.log`; returns both paths.
fn logging_hook(dir: &TempDir, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let log = dir.join(&format!("{name}.log"));
    let script = dir.join(&format!("{name}.sh"));
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1 $2 $3\" >> '{}'\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, log)
}

/// What a hook wrote to `log`, once it wrote something: hooks run on their own, so
/// this waits (the bound only turns a hang into a failure naming `hook`).
#[track_caller]
fn hook_output(log: &std::path::Path, hook: &str) -> String {
    (0..400)
        .find_map(|_| {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            if !text.is_empty() {
                return Some(text);
            }
            std::thread::sleep(Duration::from_millis(25));
            None
        })
        .unwrap_or_else(|| panic!("{hook} did not run"))
}

#[test]
fn add_pause_unpause_remove_and_complete_over_json_rpc() {
    let dir = TempDir::new("rpc-flow");
    let slow = TestFile::random(200_000, 1);
    let quick = TestFile::random(50_000, 2);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/slow", slow.clone())
            .file("/quick", quick.clone())
            .behaviour_for("/slow", Behaviour::StallAfter { bytes: 1000 }),
    )
    .unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);

    let gid = d.ok("aria2.addUri", json!([[server.url("/slow")]]));
    let gid = gid.as_str().unwrap().to_string();
    assert_eq!(gid.len(), 16, "{gid}");
    d.wait_status(&gid, "active");
    assert_eq!(d.ok("aria2.pause", json!([gid])), gid);
    d.wait_status(&gid, "paused");
    // A unique prefix names the download too.
    assert_eq!(d.ok("aria2.unpause", json!([&gid[..6]])), gid);
    d.wait_status(&gid, "active");
    let listed = d.ok("aria2.tellActive", json!([["gid", "status"]]));
    assert_eq!(listed, json!([{"gid": gid, "status": "active"}]));
    assert_eq!(d.ok("aria2.remove", json!([gid])), gid);
    let st = d.wait_status(&gid, "removed");
    assert_eq!(st["errorCode"], "31");
    let stopped = d.ok("aria2.tellStopped", json!([0, 10, ["gid"]]));
    assert_eq!(stopped, json!([{"gid": gid}]));
    // The engine keeps a stopped download until its last disk write settles, so a
    // purge right after the removal may leave it for the next one.
    loop {
        assert_eq!(d.ok("aria2.purgeDownloadResult", json!([])), "OK");
        let left = d.ok("aria2.tellStopped", json!([0, 10, ["gid"]]));
        if left == json!([]) {
            break;
        }
        assert_eq!(left, json!([{"gid": gid}]));
        std::thread::sleep(Duration::from_millis(20));
    }

    let quick_gid = d.ok(
        "aria2.addUri",
        json!([[server.url("/quick")], {"out": "q.bin"}]),
    );
    let st = d.wait_status(quick_gid.as_str().unwrap(), "complete");
    assert_eq!(st["totalLength"], "50000");
    assert_eq!(st["completedLength"], "50000");
    assert_eq!(st["files"][0]["uris"][0]["uri"], server.url("/quick"));
    assert_download(&dir.join("q.bin"), &quick);
    let stat = d.ok("aria2.getGlobalStat", json!([]));
    assert_eq!(stat["numStopped"], "1");
    assert_eq!(
        d.fails("aria2.tellStatus", json!(["zzzz"])),
        "Invalid GID zzzz"
    );
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn a_wrong_or_missing_secret_is_refused_and_changes_nothing() {
    let dir = TempDir::new("rpc-secret");
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    for token in [json!("token:wrong"), json!(["http://127.0.0.1:9/f"])] {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "aria2.addUri",
                          "params": [token, ["http://127.0.0.1:9/f"]]});
        let (status, text) = d.post("/jsonrpc", &body.to_string());
        assert_eq!(status, 400, "{text}");
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap()["error"],
            json!({"code": 1, "message": "Unauthorized"})
        );
    }
    let stat = d.ok("aria2.getGlobalStat", json!([]));
    assert_eq!(
        (&stat["numWaiting"], &stat["numActive"]),
        (&json!("0"), &json!("0"))
    );
    // listMethods needs no token, as in aria2.
    let (_, text) = d.post(
        "/jsonrpc",
        r#"{"jsonrpc":"2.0","id":1,"method":"system.listMethods"}"#,
    );
    let methods: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(methods["result"].as_array().unwrap().len(), 36);
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn paths_from_rpc_stay_under_the_start_directory() {
    let dir = TempDir::new("rpc-paths");
    std::fs::create_dir(dir.join("dl")).unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s", "-d", "dl"]);
    let uri = json!(["http://127.0.0.1:9/f"]);
    let m = d.fails("aria2.addUri", json!([uri, {"dir": "dl/../.."}]));
    assert!(m.starts_with("dir 'dl/../..' is outside"), "{m}");
    let m = d.fails("aria2.addUri", json!([uri, {"out": "../escape"}]));
    assert_eq!(m, "out '../escape' must be a relative path without '..'");
    let m = d.fails("aria2.changeGlobalOption", json!([{"dir": "/"}]));
    assert!(m.starts_with("dir '/' is outside"), "{m}");
    let stat = d.ok("aria2.getGlobalStat", json!([]));
    assert_eq!(stat["numWaiting"], "0");
    // Inside is fine.
    let gid = d.ok(
        "aria2.addUri",
        json!([uri, {"dir": "dl/sub", "pause": "true"}]),
    );
    let st = d.ok("aria2.tellStatus", json!([gid, ["dir", "status"]]));
    assert_eq!(st, json!({"dir": "dl/sub", "status": "paused"}));
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn oversize_and_malformed_requests_get_aria2s_errors_and_the_daemon_keeps_serving() {
    let dir = TempDir::new("rpc-limits");
    let d = Daemon::start(
        &dir,
        &["--rpc-max-request-size=1K", "--rpc-allow-origin-all"],
    );
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":1,"method":"aria2.getVersion","params":["{}"]}}"#,
        "x".repeat(2000)
    );
    let (status, _) = d.post("/jsonrpc", &big);
    assert_eq!(status, 413);
    let (status, text) = d.post("/jsonrpc", "{not json");
    assert_eq!(
        (status, text.as_str()),
        (
            500,
            r#"{"error":{"code":-32700,"message":"Parse error."},"id":null,"jsonrpc":"2.0"}"#
        )
    );
    let (status, text) = d.post("/jsonrpc", r#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#);
    assert_eq!(status, 400);
    assert!(
        text.contains(r#""message":"No such method: nope""#),
        "{text}"
    );
    // A batch answers each entry in order; the GET form carries base64 params.
    let (status, text) = d.post(
        "/jsonrpc",
        r#"[{"jsonrpc":"2.0","id":1,"method":"aria2.getVersion"},{"jsonrpc":"2.0","id":2,"method":"x"}]"#,
    );
    assert_eq!(status, 200);
    let batch: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(batch[0]["id"], 1);
    assert_eq!(batch[1]["error"]["message"], "No such method: x");
    let params = base64::engine::general_purpose::STANDARD.encode("[]");
    let (status, head, body) = d.http(
        &format!(
            "GET /jsonrpc?method=system.listNotifications&id=3&params={params}&jsoncallback=cb HTTP/1.1\r\nConnection: close\r\n\r\n"
        ),
        b"",
    );
    assert_eq!(status, 200);
    assert!(head.contains("Content-Type: text/javascript"), "{head}");
    assert!(head.contains("Access-Control-Allow-Origin: *"), "{head}");
    assert!(
        body.starts_with(r#"cb({"id":"3","jsonrpc":"2.0","result":["aria2.onDownloadStart""#),
        "{body}"
    );
    let (status, head, _) = d.http(
        "OPTIONS /jsonrpc HTTP/1.1\r\nAccess-Control-Request-Headers: content-type\r\nConnection: close\r\n\r\n",
        b"",
    );
    assert_eq!(status, 200);
    assert!(
        head.contains("Access-Control-Allow-Headers: content-type"),
        "{head}"
    );
    // A head that never ends is refused at its limit.
    let (status, _, _) = d.http(
        &format!("GET /jsonrpc HTTP/1.1\r\nX: {}", "a".repeat(20_000)),
        b"",
    );
    assert_eq!(status, 431);
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn xml_rpc_calls_and_faults() {
    let dir = TempDir::new("rpc-xml");
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    let call = |method: &str, params: &str| {
        d.post(
            "/rpc",
            &format!("<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"),
        )
    };
    let (status, text) = call(
        "aria2.getVersion",
        "<param><value><string>token:s</string></value></param>",
    );
    assert_eq!(status, 200);
    assert!(text.contains("<name>version</name>"), "{text}");
    let (_, text) = call(
        "aria2.getVersion",
        "<param><value><string>token:bad</string></value></param>",
    );
    assert!(text.contains("<fault>"), "{text}");
    assert!(text.contains("<string>Unauthorized</string>"), "{text}");
    let (_, text) = call(
        "aria2.addUri",
        "<param><value>token:s</value></param><param><value><array><data><value>http://127.0.0.1:9/f</value></data></array></value></param><param><value><struct><member><name>pause</name><value>true</value></member></struct></value></param>",
    );
    assert!(text.contains("<params><param><value><string>"), "{text}");
    let stat = d.ok("aria2.getGlobalStat", json!([]));
    assert_eq!(stat["numWaiting"], "1");
    assert_eq!(d.shutdown(), Some(0));
}

/// A minimal WebSocket client: the handshake, masked text frames out, server frames in.
struct Ws<S: Read + Write = TcpStream>(S);

impl Ws {
    fn connect(port: u16) -> Ws {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Ws::over(s)
    }
}

impl<S: Read + Write> Ws<S> {
    /// The opening handshake on `s` (plain TCP or TLS).
    fn over(mut s: S) -> Ws<S> {
        s.write_all(
            b"GET /jsonrpc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
        .unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(
            head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
            "{head}"
        );
        Ws(s)
    }

    fn send(&mut self, text: &str) {
        // Two fragments, to go through the daemon's reassembly.
        let (a, b) = text.split_at(text.len() / 2);
        let mut wire = encode_frame(Opcode::Text, a.as_bytes(), false, Some([7, 7, 7, 7]));
        wire.extend(encode_frame(
            Opcode::Continuation,
            b.as_bytes(),
            true,
            Some([1, 2, 3, 4]),
        ));
        self.0.write_all(&wire).unwrap();
    }

    fn recv(&mut self) -> Value {
        let mut h = [0u8; 2];
        self.0.read_exact(&mut h).unwrap();
        assert_eq!(h[0], 0x81, "a whole text frame");
        let len = match h[1] {
            126 => {
                let mut l = [0u8; 2];
                self.0.read_exact(&mut l).unwrap();
                u16::from_be_bytes(l) as usize
            }
            127 => panic!("no frame here is that large"),
            n => n as usize,
        };
        let mut payload = vec![0u8; len];
        self.0.read_exact(&mut payload).unwrap();
        serde_json::from_slice(&payload).unwrap()
    }
}

#[test]
fn websocket_calls_and_notifications() {
    let dir = TempDir::new("rpc-ws");
    let file = TestFile::random(30_000, 3);
    let server = HttpServer::start(ServerConfig::new().file("/f", file.clone())).unwrap();
    let d = Daemon::start(&dir, &[]);
    let mut ws = Ws::connect(d.port);
    ws.send(
        &json!({"jsonrpc": "2.0", "id": "a", "method": "aria2.addUri",
                "params": [[server.url("/f")], {"out": "f.bin"}]})
        .to_string(),
    );
    let mut answer = None;
    let mut notes = Vec::new();
    while notes.len() < 2 {
        let m = ws.recv();
        if m.get("id").is_some() {
            answer = Some(m["result"].as_str().unwrap().to_string());
        } else {
            notes.push((
                m["method"].as_str().unwrap().to_string(),
                m["params"][0]["gid"].clone(),
            ));
        }
    }
    let gid = match answer {
        Some(g) => g,
        None => ws.recv()["result"].as_str().unwrap().to_string(),
    };
    assert_eq!(
        notes,
        [
            ("aria2.onDownloadStart".to_string(), json!(gid)),
            ("aria2.onDownloadComplete".to_string(), json!(gid))
        ]
    );
    assert_download(&dir.join("f.bin"), &file);
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn an_empty_queue_keeps_the_daemon_up_until_sigint() {
    let dir = TempDir::new("rpc-sigint");
    let mut d = Daemon::start(&dir, &["--rpc-secret=s"]);
    // Nothing is queued, and the daemon still answers.
    assert_eq!(d.ok("aria2.tellActive", json!([])), json!([]));
    assert!(d.child.try_wait().unwrap().is_none());
    common::signal(&d.child, libc::SIGINT);
    let status = wait_for(&mut d.child, Duration::from_secs(30)).expect("exits on SIGINT");
    assert_eq!(status.code(), Some(0));
}

/// Runs a Python script with `python` and `args`; panics with its output unless it
/// exits 0 and prints `OK` last.
#[track_caller]
fn python(python: &str, script: &str, args: &[String]) {
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{python} is needed for this test: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("OK"),
        "{python} failed ({:?})\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Python's standard `xmlrpc.client` (a client nobody here wrote) against `/rpc`.
const XMLRPC_CLIENT: &str = r#"
import sys, time, xmlrpc.client
port, url = sys.argv[1], sys.argv[2]
s = xmlrpc.client.ServerProxy(f"http://127.0.0.1:{port}/rpc")
assert "version" in s.aria2.getVersion("token:s")
try:
    s.aria2.getVersion("token:wrong")
    raise SystemExit("a wrong token was accepted")
except xmlrpc.client.Fault as f:
    assert (f.faultCode, f.faultString) == (1, "Unauthorized"), f
gid = s.aria2.addUri("token:s", [url], {"out": "x.bin"})
while True:
    st = s.aria2.tellStatus("token:s", gid, ["status", "totalLength"])
    if st["status"] == "complete":
        break
    assert st["status"] in ("active", "waiting"), st
    time.sleep(0.02)
assert st["totalLength"] == "40000", st
paused = s.aria2.addUri("token:s", [url], {"pause": "true", "out": "y.bin"})
assert s.aria2.changeOption("token:s", paused, {"max-download-limit": "1K"}) == "OK"
assert s.aria2.getOption("token:s", paused)["max-download-limit"] == "1024"
calls = [{"methodName": "aria2.tellStatus", "params": ["token:s", paused, ["status"]]},
         {"methodName": "aria2.getVersion", "params": ["token:bad"]}]
r = s.system.multicall(calls)
assert r[0] == [{"status": "paused"}], r
assert r[1]["faultCode"] == 1, r
assert s.aria2.remove("token:s", paused) == paused
assert s.aria2.purgeDownloadResult("token:s") == "OK"
assert s.aria2.tellStopped("token:s", 0, 10) == []
print("OK")
"#;

#[test]
fn pythons_xmlrpc_client_drives_the_daemon() {
    let dir = TempDir::new("rpc-pyxml");
    let file = TestFile::random(40_000, 4);
    let server = HttpServer::start(ServerConfig::new().file("/f", file.clone())).unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    python(
        "python3",
        XMLRPC_CLIENT,
        &[d.port.to_string(), server.url("/f")],
    );
    assert_download(&dir.join("x.bin"), &file);
    assert_eq!(d.shutdown(), Some(0));
}

/// aria2p (the Python client library for aria2 on PyPI), its JSON-RPC and its
/// WebSocket notifications.
const ARIA2P_CLIENT: &str = r#"
import sys, threading, time, aria2p
port, url = int(sys.argv[1]), sys.argv[2]
api = aria2p.API(aria2p.Client(host="http://127.0.0.1", port=port, secret="s"))
done = threading.Event()
api.listen_to_notifications(threaded=True, on_download_complete=lambda api, gid: done.set())
time.sleep(0.5)
d = api.add_uris([url], options={"out": "p.bin"})
assert done.wait(30), "no onDownloadComplete"
d.update()
assert (d.status, d.total_length, d.completed_length) == ("complete", 40000, 40000), d.status
assert d.gid in [x.gid for x in api.get_downloads()]
assert api.get_stats().num_stopped == 1
assert api.get_global_options().max_concurrent_downloads == 5
p = api.add_uris([url], options={"pause": "true", "out": "q.bin"})
p.update()
assert p.status == "paused", p.status
assert api.remove([p], force=True) == [True]
assert api.purge()
api.stop_listening()
print("OK")
"#;

/// `target/aria2p-venv`'s python, with aria2p 0.12.3 from PyPI, installed on first
/// use. `None` (with a note) where the install fails, except under `CI=true`, where
/// the test must run.
fn aria2p_python() -> Option<std::path::PathBuf> {
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/aria2p-venv");
    let py = target.join("bin/python");
    let ready = |py: &std::path::Path| {
        std::process::Command::new(py)
            .args(["-c", "import aria2p"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if py.exists() && ready(&py) {
        return Some(py);
    }
    let _ = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&target)
        .status();
    let _ = std::process::Command::new(&py)
        .args(["-m", "pip", "install", "--quiet", "aria2p==0.12.3"])
        .status();
    if ready(&py) {
        return Some(py);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "could not install aria2p into {}; under CI=true the test must run",
        target.display()
    );
    None
}

#[test]
fn aria2p_drives_the_daemon() {
    let Some(py) = aria2p_python() else {
        eprintln!("note: aria2p could not be installed from PyPI; not run");
        return;
    };
    let dir = TempDir::new("rpc-aria2p");
    let file = TestFile::random(40_000, 5);
    let server = HttpServer::start(ServerConfig::new().file("/f", file.clone())).unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    python(
        py.to_str().unwrap(),
        ARIA2P_CLIENT,
        &[d.port.to_string(), server.url("/f")],
    );
    assert_download(&dir.join("p.bin"), &file);
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn pause_holds_command_line_downloads_until_unpaused() {
    let dir = TempDir::new("rpc-pause");
    let file = TestFile::random(20_000, 6);
    let server = HttpServer::start(ServerConfig::new().file("/f", file.clone())).unwrap();
    let url = server.url("/f");
    let d = Daemon::start(&dir, &["--rpc-secret=s", "--pause", "-o", "f.bin", &url]);
    let waiting = d.ok("aria2.tellWaiting", json!([0, 10, ["gid", "status"]]));
    assert_eq!(waiting[0]["status"], "paused", "{waiting}");
    assert!(
        server.requests_for("/f").is_empty(),
        "a paused download fetched"
    );
    let gid = waiting[0]["gid"].as_str().unwrap().to_string();
    assert_eq!(d.ok("aria2.unpauseAll", json!([])), "OK");
    d.wait_status(&gid, "complete");
    assert_download(&dir.join("f.bin"), &file);
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn a_half_open_request_and_a_hundred_websockets_do_not_stop_the_others() {
    let dir = TempDir::new("rpc-load");
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    // A request that promises a body and never sends it.
    let mut stuck = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    stuck
        .write_all(b"POST /jsonrpc HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        .unwrap();
    let mut sockets: Vec<Ws> = (0..100).map(|_| Ws::connect(d.port)).collect();
    // Every WebSocket is served, and plain HTTP beside them.
    for (i, ws) in sockets.iter_mut().enumerate() {
        ws.send(
            &json!({"jsonrpc": "2.0", "id": i, "method": "aria2.getGlobalStat",
                    "params": ["token:s"]})
            .to_string(),
        );
    }
    for (i, ws) in sockets.iter_mut().enumerate() {
        let answer = ws.recv();
        assert_eq!(answer["id"], i, "{answer}");
        assert_eq!(answer["result"]["numActive"], "0", "{answer}");
    }
    for _ in 0..200 {
        assert_eq!(d.ok("aria2.tellActive", json!([])), json!([]));
    }
    // A notification reaches all of them.
    let gid = d.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/f"], {"pause": "true"}]),
    );
    d.ok("aria2.remove", json!([gid]));
    for ws in &mut sockets {
        let note = ws.recv();
        assert_eq!(
            (&note["method"], &note["params"][0]["gid"]),
            (&json!("aria2.onDownloadStop"), &gid),
            "{note}"
        );
    }
    drop(stuck);
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn add_uri_takes_a_magnet_link_with_a_web_source() {
    let dir = TempDir::new("rpc-magnet");
    let data = TestFile::random(60_000, 7);
    let server = HttpServer::start(ServerConfig::new().file("/m", data.clone())).unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    let link = format!(
        "magnet:?xl={}&dn=from-magnet.bin&as={}",
        data.len(),
        server.url("/m")
    );
    let gid = d.ok("aria2.addUri", json!([[link]]));
    d.wait_status(gid.as_str().unwrap(), "complete");
    assert_download(&dir.join("from-magnet.bin"), &data);
    let m = d.fails("aria2.addUri", json!([[link, server.url("/m")]]));
    assert_eq!(m, "a magnet link must be the only URI of an addUri call");
    let m = d.fails(
        "aria2.addUri",
        json!([["magnet:?dn=..%2Fx&as=http://127.0.0.1:9/x"]]),
    );
    assert!(m.contains("is not a safe file name"), "{m}");
    assert_eq!(d.shutdown(), Some(0));
}

/// Checks that some request for `path` continued from past byte 0 (a restart's first
/// connection may probe from 0 before the control file is read).
#[track_caller]
fn assert_resumed(server: &HttpServer, path: &str) {
    let ranges: Vec<String> = server
        .requests_for(path)
        .iter()
        .filter_map(|r| r.range().map(str::to_string))
        .collect();
    assert!(
        ranges.iter().any(|r| !r.starts_with("bytes=0-")),
        "{path} started over: {ranges:?}"
    );
}

#[test]
fn a_saved_session_brings_the_queue_back_after_a_restart() {
    let dir = TempDir::new("rpc-session");
    let paused_file = TestFile::random(30_000, 8);
    let slow_file = TestFile::random(600_000, 9);
    let followed_file = TestFile::random(400_000, 10);
    // A Metalink document naming `/m` as m.bin, followed by the daemon.
    let doc = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="m.bin"><size>{}</size><url>m</url></file></metalink>"#,
        followed_file.len()
    );
    let trickle = Behaviour::Trickle {
        bytes_per_sec: 100_000,
    };
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/p", paused_file.clone())
            .file("/slow", slow_file.clone())
            .behaviour_for("/slow", trickle.clone())
            .file("/m", followed_file.clone())
            .behaviour_for("/m", trickle)
            .file("/doc.meta4", doc.into_bytes())
            .behaviour_for(
                "/doc.meta4",
                Behaviour::ContentType("application/metalink4+xml".into()),
            ),
    )
    .unwrap();
    let (_seeder, _tracker, torrent_body, b64) = torrent_swarm();
    let d = Daemon::start(
        &dir,
        &[
            "--rpc-secret=s",
            "--save-session=session.txt",
            "--seed-time=0",
        ],
    );
    // A torrent (its upload saved as <info-hash>.torrent) paused across the restart.
    let torrent = d.ok(
        "aria2.addTorrent",
        json!([b64.clone(), [], {"pause": "true"}]),
    );
    let torrent = torrent.as_str().unwrap().to_string();
    let document = d.ok("aria2.addUri", json!([[server.url("/doc.meta4")]]));
    let document = document.as_str().unwrap().to_string();
    let paused_gid = d.ok(
        "aria2.addUri",
        json!([[server.url("/p")], {"pause": "true", "out": "p.bin", "header": ["X-A: 1", "X-B: 2"]}]),
    );
    let slow = d.ok(
        "aria2.addUri",
        json!([[server.url("/slow")], {"out": "slow.bin"}]),
    );
    let slow = slow.as_str().unwrap().to_string();
    // A quarter or more done before the daemon goes, well past the first write, so
    // the control file has something to resume from.
    loop {
        let st = d.wait_status(&slow, "active");
        let done: u64 = st["completedLength"].as_str().unwrap().parse().unwrap();
        if done >= 100_000 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // The periodic save has recorded progress for the restart to resume from (a kill
    // loses what came after it).
    let control = swarmget_engine::control::control_path(&dir.join("slow.bin"));
    loop {
        let recorded = std::fs::read(&control)
            .ok()
            .and_then(|b| swarmget_engine::control::ControlState::decode(&b).ok())
            .is_some_and(|c| !c.partial.is_empty() || c.verified.count() > 0);
        if recorded {
            break;
        }
        d.wait_status(&slow, "active");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The followed file is under way too (its control file written).
    let followed = d.wait_status(&document, "complete")["followedBy"][0]
        .as_str()
        .expect("the document was followed")
        .to_string();
    let followed_control = swarmget_engine::control::control_path(&dir.join("m.bin"));
    while !followed_control.exists() {
        d.wait_status(&followed, "active");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(d.ok("aria2.saveSession", json!([])), "OK");
    let saved = std::fs::read_to_string(dir.join("session.txt")).unwrap();
    assert!(
        saved.contains(&format!("{}\n", server.url("/p"))),
        "{saved}"
    );
    // As aria2 writes them: the torrent as its saved .torrent file under its own GID,
    // the followed file as the document's URI under the document's GID.
    let uploaded = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .unwrap();
    let torrent_file = format!("{}.torrent", info_hash(&uploaded));
    assert!(
        saved.contains(&format!("{torrent_file}\n gid={torrent}\n")),
        "{saved}"
    );
    assert!(
        saved.contains(&format!("{}\n gid={document}\n", server.url("/doc.meta4"))),
        "{saved}"
    );
    assert!(!saved.contains(&server.url("/m")), "{saved}");
    assert!(
        saved.contains(" header=X-A: 1\n header=X-B: 2\n"),
        "{saved}"
    );
    assert!(saved.contains(" out=p.bin\n"), "{saved}");
    assert!(saved.contains(" pause=true\n"), "{saved}");
    assert!(
        saved.contains(&format!(" gid={}\n", paused_gid.as_str().unwrap())),
        "{saved}"
    );
    assert_eq!(
        d.fails("aria2.changeGlobalOption", json!([{"save-session": "x"}])),
        "save-session can only be set on the command line"
    );
    // Killed, not shut down: what comes back is what saveSession wrote.
    d.kill();

    // The restarted daemon has both back under their GIDs: the paused one paused with
    // its options, the other one finishing byte-exact from where it was.
    let d = Daemon::start(
        &dir,
        &["--rpc-secret=s", "-i", "session.txt", "--seed-time=0"],
    );
    let waiting = d.ok(
        "aria2.tellWaiting",
        json!([0, 10, ["gid", "status", "files"]]),
    );
    let paused = waiting
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["status"] == "paused" && w["files"][0]["uris"][0]["uri"] == server.url("/p"))
        .unwrap_or_else(|| panic!("no paused download: {waiting}"));
    assert_eq!(paused["files"][0]["uris"][0]["uri"], server.url("/p"));
    let paused = paused["gid"].as_str().unwrap().to_string();
    assert_eq!(paused, paused_gid.as_str().unwrap());
    let active = d.ok("aria2.tellActive", json!([["gid", "files"]]));
    let running = waiting
        .as_array()
        .unwrap()
        .iter()
        .chain(active.as_array().unwrap())
        .find(|s| s["files"][0]["uris"][0]["uri"] == server.url("/slow"))
        .unwrap_or_else(|| panic!("the running download is gone: {waiting} {active}"))["gid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(running, slow);
    d.wait_status(&running, "complete");
    // Complete means the control file is gone already.
    assert!(!control.exists(), "{} is still there", control.display());
    assert_download(&dir.join("slow.bin"), &slow_file);
    // The restart asked for the rest from where the control file left it.
    assert_resumed(&server, "/slow");
    d.ok("aria2.unpause", json!([paused]));
    d.wait_status(&paused, "complete");
    assert_download(&dir.join("p.bin"), &paused_file);
    // The torrent is back paused under its GID and finishes from the swarm.
    let st = d.ok("aria2.tellStatus", json!([torrent, ["status", "infoHash"]]));
    assert_eq!(st["status"], "paused", "{st}");
    assert_eq!(st["infoHash"], info_hash(&uploaded));
    d.ok("aria2.unpause", json!([torrent]));
    d.wait_status(&torrent, "complete");
    assert_download(&dir.join("x.bin"), &torrent_body);
    // The document came back under its GID, was fetched and followed again, and its
    // file resumed from its control file.
    let followed = d.wait_status(&document, "complete")["followedBy"][0]
        .as_str()
        .expect("the document was followed again")
        .to_string();
    d.wait_status(&followed, "complete");
    assert_download(&dir.join("m.bin"), &followed_file);
    assert_resumed(&server, "/m");
    let sent = server.requests_for("/p");
    assert_eq!(sent[0].header("x-b"), Some("2"), "{sent:?}");
    assert_eq!(d.shutdown(), Some(0));
    // Without the daemon there is no session to save: refused, not ignored.
    refused(
        &dir,
        &["--save-session=s2.txt", "http://127.0.0.1:9/f"],
        28,
        "--save-session needs --enable-rpc",
    );
}

/// A two-file Metalink document: `/a` on `server` as `a`, `/b` as `b`, `len` bytes each.
fn two_file_metalink(server: &HttpServer, a: &str, b: &str, len: usize) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="{a}"><size>{len}</size><url>{}</url></file><file name="{b}"><size>{len}</size><url>{}</url></file></metalink>"#,
        server.url("/a"),
        server.url("/b"),
    )
}

#[test]
fn uploaded_and_local_metalinks_are_named_once_in_the_session_and_come_back() {
    use sha1::Digest as _;
    let dir = TempDir::new("rpc-session-meta4");
    let len = 50_000;
    let a = TestFile::random(len, 21);
    let b = TestFile::random(len, 22);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/a", a.clone())
            .file("/b", b.clone()),
    )
    .unwrap();
    let local = two_file_metalink(&server, "l1.bin", "l2.bin", len);
    std::fs::write(dir.join("local.meta4"), &local).unwrap();
    let uploaded = two_file_metalink(&server, "u1.bin", "u2.bin", len);
    // Everything paused, so the session holds all four files.
    let d = Daemon::start(
        &dir,
        &[
            "--rpc-secret=s",
            "--save-session=session.txt",
            "--pause=true",
            "-M",
            "local.meta4",
        ],
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&uploaded);
    let gids = d.ok("aria2.addMetalink", json!([b64]));
    let gids: Vec<String> = gids
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap().to_string())
        .collect();
    assert_eq!(gids.len(), 2, "{gids:?}");
    // As aria2: the upload kept as <hex SHA-1 of the document>.meta4 in dir.
    let name: String = sha1::Sha1::digest(uploaded.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let saved_upload = format!("{name}.meta4");
    assert_eq!(
        std::fs::read_to_string(dir.join(&saved_upload)).unwrap(),
        uploaded
    );
    let waiting = d.ok("aria2.tellWaiting", json!([0, 10, ["gid", "files"]]));
    let local_first = waiting
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["files"][0]["path"].as_str().unwrap().ends_with("l1.bin"))
        .unwrap_or_else(|| panic!("no l1.bin: {waiting}"))["gid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(d.ok("aria2.saveSession", json!([])), "OK");
    let saved = std::fs::read_to_string(dir.join("session.txt")).unwrap();
    // Each document once, under its first file's GID; no file's own URI or name.
    assert_eq!(
        saved
            .matches(&format!("{saved_upload}\n gid={}\n", gids[0]))
            .count(),
        1,
        "{saved}"
    );
    assert_eq!(
        saved
            .matches(&format!("local.meta4\n gid={local_first}\n"))
            .count(),
        1,
        "{saved}"
    );
    assert!(!saved.contains(&server.url("/a")), "{saved}");
    assert!(!saved.contains(" out="), "{saved}");
    d.kill();

    // Restored: both documents read again, their first files under the same GIDs,
    // and every file downloads byte-exact once unpaused.
    let d = Daemon::start(&dir, &["--rpc-secret=s", "-i", "session.txt"]);
    let waiting = d.ok("aria2.tellWaiting", json!([0, 10, ["gid", "status"]]));
    let restored: Vec<&str> = waiting
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["gid"].as_str().unwrap())
        .collect();
    assert_eq!(restored.len(), 4, "{waiting}");
    assert!(restored.contains(&gids[0].as_str()), "{waiting}");
    assert!(restored.contains(&local_first.as_str()), "{waiting}");
    d.ok("aria2.unpauseAll", json!([]));
    for gid in restored {
        d.wait_status(gid, "complete");
    }
    for (file, body) in [
        ("l1.bin", &a),
        ("l2.bin", &b),
        ("u1.bin", &a),
        ("u2.bin", &b),
    ] {
        assert_download(&dir.join(file), body);
    }
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn hooks_run_with_aria2s_arguments() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("rpc-hooks");
    let file = TestFile::random(20_000, 10);
    let server = HttpServer::start(ServerConfig::new().file("/f", file.clone())).unwrap();
    let log = dir.join("hooks.log");
    let script = dir.join("hook.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$0 $1 $2 $3\" >> '{}'\n", log.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let start = dir.join("start.sh");
    std::fs::copy(&script, &start).unwrap();
    let stop = dir.join("stop.sh");
    std::fs::copy(&script, &stop).unwrap();
    let d = Daemon::start(
        &dir,
        &[
            "--rpc-secret=s",
            &format!("--on-download-start={}", start.display()),
            &format!("--on-download-complete={}", script.display()),
            &format!("--on-download-stop={}", stop.display()),
        ],
    );
    let gid = d.ok(
        "aria2.addUri",
        json!([[server.url("/f")], {"out": "f.bin"}]),
    );
    let gid = gid.as_str().unwrap().to_string();
    d.wait_status(&gid, "complete");
    let removed = d.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/x"], {"pause": "true"}]),
    );
    d.ok("aria2.remove", json!([removed]));
    // The hooks run on their own: wait for the three lines (the guard only turns a
    // hang into a failure).
    let guard = std::time::Instant::now() + Duration::from_secs(60);
    let lines = loop {
        assert!(
            std::time::Instant::now() < guard,
            "hooks never ran: {:?}",
            std::fs::read_to_string(&log)
        );
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.lines().count() >= 3 {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            lines.sort();
            break lines;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // At the start the path may not be decided yet (aria2 passes what it knows too).
    let start_line = format!("{} {gid} 1 ", start.display());
    assert!(
        lines[1] == start_line || lines[1] == format!("{start_line}./f.bin"),
        "{lines:?}"
    );
    assert_eq!(
        [&lines[0], &lines[2]],
        [
            &format!("{} {gid} 1 ./f.bin", script.display()),
            &format!("{} {} 1 ", stop.display(), removed.as_str().unwrap()),
        ],
        "the complete hook runs instead of the stop hook, the stop hook for the removal"
    );
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn save_session_interval_writes_the_session_while_running() {
    let dir = TempDir::new("rpc-session-interval");
    let d = Daemon::start(
        &dir,
        &[
            "--rpc-secret=s",
            "--save-session=s.txt",
            "--save-session-interval=1",
        ],
    );
    d.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/later"], {"pause": "true"}]),
    );
    // No saveSession call and no exit: only the interval writes it. (The guard only
    // turns a hang into a failure; nothing here measures time.)
    let guard = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < guard,
            "the session was never written"
        );
        let text = std::fs::read_to_string(dir.join("s.txt")).unwrap_or_default();
        if text.contains("http://127.0.0.1:9/later\n") {
            assert!(text.contains(" pause=true\n"), "{text}");
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(d.shutdown(), Some(0));
    refused(
        &dir,
        &[
            "--enable-rpc",
            "--rpc-listen-port=0",
            "--save-session-interval=5",
        ],
        28,
        "--save-session-interval needs --save-session",
    );
}

#[test]
fn every_method_answers_in_aria2s_shapes() {
    let dir = TempDir::new("rpc-methods");
    let file = TestFile::random(10_000, 11);
    let server = HttpServer::start(ServerConfig::new().file("/f", file.clone())).unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    let uri = json!(["http://127.0.0.1:9/a"]);
    let a = d.ok("aria2.addUri", json!([uri, {"pause": "true"}]));
    let b = d.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/b"], {"pause": "true"}]),
    );
    // position 0 puts c first.
    let c = d.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/c"], {"pause": "true"}, 0]),
    );
    let order = |d: &Daemon| {
        d.ok("aria2.tellWaiting", json!([0, 10, ["gid"]]))
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["gid"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(order(&d), [c.clone(), a.clone(), b.clone()]);
    assert_eq!(d.ok("aria2.changePosition", json!([c, 0, "POS_END"])), 2);
    assert_eq!(d.ok("aria2.changePosition", json!([c, -1, "POS_CUR"])), 1);
    assert_eq!(order(&d), [a.clone(), c.clone(), b.clone()]);
    // Negative offsets count from the end and list backwards, as in aria2.
    let back = d.ok("aria2.tellWaiting", json!([-1, 2, ["gid"]]));
    assert_eq!(back, json!([{"gid": b}, {"gid": c}]));
    assert_eq!(
        d.ok("aria2.getUris", json!([a])),
        json!([{"uri": "http://127.0.0.1:9/a", "status": "waiting"}])
    );
    let files = d.ok("aria2.getFiles", json!([a]));
    assert_eq!(files[0]["index"], "1");
    assert_eq!(files[0]["selected"], "true");
    assert_eq!(
        d.ok("aria2.getServers", json!([a])),
        json!([{"index": "1", "servers": []}])
    );
    assert_eq!(d.ok("aria2.getPeers", json!([a])), json!([]));
    let opt = d.ok("aria2.getOption", json!([a]));
    assert_eq!(opt["pause"], "true");
    assert_eq!(
        d.ok(
            "aria2.changeOption",
            json!([a, {"max-download-limit": "2K"}])
        ),
        "OK"
    );
    assert_eq!(
        d.ok("aria2.getOption", json!([a]))["max-download-limit"],
        "2048"
    );
    assert!(
        d.fails("aria2.changeOption", json!([a, {"nope": "1"}]))
            .contains("nope")
    );
    assert_eq!(
        d.ok(
            "aria2.changeGlobalOption",
            json!([{"max-concurrent-downloads": "2"}])
        ),
        "OK"
    );
    assert_eq!(
        d.ok("aria2.getGlobalOption", json!([]))["max-concurrent-downloads"],
        "2"
    );
    assert_eq!(d.ok("aria2.forcePauseAll", json!([])), "OK");
    assert_eq!(d.ok("aria2.pauseAll", json!([])), "OK");
    let st = d.ok(
        "aria2.tellStatus",
        json!([a, ["status", "totalLength", "connections"]]),
    );
    assert_eq!(
        st,
        json!({"status": "paused", "totalLength": "0", "connections": "0"})
    );
    // Already paused: forcePause says so, as pause does.
    assert!(
        d.fails("aria2.forcePause", json!([a]))
            .contains("cannot be paused now")
    );
    assert_eq!(d.ok("aria2.forceRemove", json!([b])), b);
    assert_eq!(d.ok("aria2.remove", json!([c])), c);
    loop {
        // A removed download's result goes once its last write settled.
        let r = d.call("aria2.removeDownloadResult", json!([b]));
        if r["result"] == "OK" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let m = d.fails("aria2.removeDownloadResult", json!([b]));
    assert!(m.contains("is not found"), "{m}");
    let session = d.ok("aria2.getSessionInfo", json!([]));
    assert_eq!(session["sessionId"].as_str().unwrap().len(), 40);
    let version = d.ok("aria2.getVersion", json!([]));
    let features = version["enabledFeatures"].as_array().unwrap();
    // AriaNg and other front-ends show their torrent controls only for "BitTorrent".
    assert!(features.contains(&json!("XML-RPC")), "{version}");
    assert!(features.contains(&json!("BitTorrent")), "{version}");
    assert_eq!(
        d.ok("system.listNotifications", json!([]))
            .as_array()
            .unwrap()
            .len(),
        6
    );
    // `d4:infoe`: a torrent without a name or pieces.
    let m = d.fails("aria2.addTorrent", json!(["ZDQ6aW5mb2Vl"]));
    assert!(m.starts_with("the torrent: "), "{m}");
    // changeUri answers two integers (deleted, added), not decimal strings.
    let r = d.ok(
        "aria2.changeUri",
        json!([a, 1, [], ["http://127.0.0.1:9/a2"]]),
    );
    assert_eq!(r, json!([0, 1]));
    let m = d.fails("aria2.saveSession", json!([]));
    assert_eq!(m, "Filename is not given.");
    // addMetalink: a base64 document of one file from the test server.
    let doc = format!(
        r#"<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="ml.bin"><size>10000</size><url>{}</url></file></metalink>"#,
        server.url("/f")
    );
    let gids = d.ok(
        "aria2.addMetalink",
        json!([base64::engine::general_purpose::STANDARD.encode(doc)]),
    );
    assert_eq!(gids.as_array().unwrap().len(), 1, "{gids}");
    d.wait_status(gids[0].as_str().unwrap(), "complete");
    assert_download(&dir.join("ml.bin"), &file);
    // Unpaused, a download from a closed port fails with aria2's network error.
    assert_eq!(d.ok("aria2.unpauseAll", json!([])), "OK");
    let st = d.wait_status(a.as_str().unwrap(), "error");
    assert_eq!(st["errorCode"], "6", "{st}");
    assert!(!st["errorMessage"].as_str().unwrap().is_empty(), "{st}");
    assert_eq!(d.ok("aria2.forceShutdown", json!([])), "OK");
    let mut d = d;
    let status = wait_for(&mut d.child, Duration::from_secs(30)).expect("exits");
    // As aria2: the last error is the exit code.
    assert_eq!(status.code(), Some(6));
}

/// A torrent's v1 info hash in lowercase hex.
fn info_hash(torrent: &[u8]) -> String {
    swarmget_bt_wire::Metainfo::parse(torrent)
        .unwrap()
        .info_hash
        .unwrap()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 200,000 bytes of `x.bin` in a swarm of one seeder behind one tracker; the torrent
/// naming the tracker, base64 as `aria2.addTorrent` takes it.
fn torrent_swarm() -> (Seeder, Tracker, Vec<u8>, String) {
    const PIECE: u64 = 32 << 10;
    let body: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(31) >> 3) as u8)
        .collect();
    let seeder = Seeder::start(
        &make_torrent("x.bin", &[], &body, PIECE, None),
        body.clone(),
    );
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("x.bin", &[], &body, PIECE, Some(&tracker.url()));
    let b64 = base64::engine::general_purpose::STANDARD.encode(torrent);
    (seeder, tracker, body, b64)
}

#[test]
fn add_torrent_queues_at_its_position_and_downloads_from_the_swarm() {
    let dir = TempDir::new("rpc-add-torrent");
    let (_seeder, _tracker, body, b64) = torrent_swarm();
    let d = Daemon::start(&dir, &["--rpc-secret=s", "--seed-time=0"]);
    let paused = json!({"pause": "true"});
    let a = d.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/a"], paused.clone()]),
    );
    let t = d.ok("aria2.addTorrent", json!([b64.clone(), [], paused, 0]));
    assert_eq!(t.as_str().unwrap().len(), 16, "{t}");
    let waiting = d.ok("aria2.tellWaiting", json!([0, 10, ["gid"]]));
    assert_eq!(waiting, json!([{"gid": t}, {"gid": a}]));
    assert_eq!(d.ok("aria2.unpause", json!([t])), t);
    d.wait_status(t.as_str().unwrap(), "complete");
    assert_download(&dir.join("x.bin"), &body);
    // --rpc-save-upload-metadata (default true): the upload kept as <info-hash>.torrent.
    let uploaded = base64::engine::general_purpose::STANDARD
        .decode(&b64)
        .unwrap();
    let saved = dir.join(&format!("{}.torrent", info_hash(&uploaded)));
    assert_eq!(std::fs::read(&saved).expect("the upload saved"), uploaded);
    // The uris are web seeds, as in aria2: a torrent with no tracker and no peer
    // comes from its uri alone.
    let wbody = TestFile::random(70_000, 31);
    let server = HttpServer::start(ServerConfig::new().file("/w.bin", wbody.clone())).unwrap();
    let alone = base64::engine::general_purpose::STANDARD.encode(make_torrent(
        "w.bin",
        &[],
        &wbody,
        16 << 10,
        None,
    ));
    let w = d.ok("aria2.addTorrent", json!([alone, [server.url("/w.bin")]]));
    d.wait_status(w.as_str().unwrap(), "complete");
    assert_download(&dir.join("w.bin"), &wbody);
    // Web seeds other than HTTP(S) and FTP are refused, not dropped; so are paths that
    // leave the directory, and a torrent whose name climbs out of it.
    let m = d.fails(
        "aria2.addTorrent",
        json!([b64, ["sftp://127.0.0.1:9/x.bin"]]),
    );
    assert_eq!(
        m,
        "sftp://127.0.0.1:9/x.bin: web seeds must be http, https or ftp URLs"
    );
    let m = d.fails("aria2.addTorrent", json!([b64, [], {"dir": "../.."}]));
    assert!(m.contains("outside"), "{m}");
    let climbing = base64::engine::general_purpose::STANDARD.encode(
        b"d4:infod6:lengthi1e4:name2:..12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaaee",
    );
    let m = d.fails("aria2.addTorrent", json!([climbing]));
    assert!(m.starts_with("the torrent: "), "{m}");
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn a_torrent_file_from_the_command_line_is_saved_as_its_path_under_its_gid() {
    let dir = TempDir::new("rpc-session-torrent-file");
    let body = vec![7u8; 50_000];
    std::fs::write(
        dir.join("t.torrent"),
        make_torrent("t.bin", &[], &body, 16 << 10, None),
    )
    .unwrap();
    let d = Daemon::start(
        &dir,
        &[
            "--rpc-secret=s",
            "--pause",
            "--save-session=session.txt",
            "--gid=00000000000000b7",
            "t.torrent",
        ],
    );
    let waiting = d.ok("aria2.tellWaiting", json!([0, 10, ["gid", "status"]]));
    assert_eq!(
        waiting,
        json!([{"gid": "00000000000000b7", "status": "paused"}])
    );
    assert_eq!(d.ok("aria2.saveSession", json!([])), "OK");
    let saved = std::fs::read_to_string(dir.join("session.txt")).unwrap();
    assert!(
        saved.starts_with("t.torrent\n gid=00000000000000b7\n"),
        "{saved}"
    );
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn tell_status_of_a_torrent_has_aria2s_bittorrent_keys() {
    use swarmget_bt_wire::metainfo::TorrentBuilder;
    let dir = TempDir::new("rpc-bt-status");
    let torrent = TorrentBuilder::single("c.bin", 100, 16 << 10, vec![[0; 20]])
        .trackers(vec![
            vec!["http://127.0.0.1:9/a".into()],
            vec!["http://127.0.0.1:9/b".into()],
        ])
        .comment("a comment")
        .creation_date(1_700_000_000)
        .web_seeds(vec!["http://127.0.0.1:9/dist/".into()])
        .build()
        .unwrap();
    let hash = info_hash(&torrent);
    let d = Daemon::start(
        &dir,
        &[
            "--rpc-secret=s",
            "--rpc-save-upload-metadata=false",
            "--save-session=session.txt",
        ],
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&torrent);
    let gid = d.ok("aria2.addTorrent", json!([b64, [], {"pause": "true"}]));
    let st = d.ok(
        "aria2.tellStatus",
        json!([gid, ["bittorrent", "infoHash", "numSeeders"]]),
    );
    assert_eq!(
        st,
        json!({
            "infoHash": hash,
            "numSeeders": "0",
            "bittorrent": {
                "announceList": [["http://127.0.0.1:9/a"], ["http://127.0.0.1:9/b"]],
                "comment": "a comment",
                "creationDate": 1_700_000_000,
                "info": {"name": "c.bin"},
                "mode": "single",
                "peerOrigins": {"tracker": "0", "dht": "0", "pex": "0", "lpd": "0",
                                "magnet": "0", "incoming": "0"},
            },
        })
    );
    // Its web seed is the file's URI (BEP 19: a URL ending in '/' names its directory).
    let web_seed = json!([{"uri": "http://127.0.0.1:9/dist/c.bin", "status": "waiting"}]);
    assert_eq!(d.ok("aria2.getUris", json!([gid])), web_seed);
    assert_eq!(d.ok("aria2.getFiles", json!([gid]))[0]["uris"], web_seed);
    // ...but never a download of its own in the session (the torrent, not saved, is
    // not there at all, as in aria2).
    assert_eq!(d.ok("aria2.saveSession", json!([])), "OK");
    let saved = std::fs::read_to_string(dir.join("session.txt")).unwrap();
    assert!(!saved.contains("/dist/"), "{saved}");
    // An HTTP download has none of them.
    let a = d.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/a"], {"pause": "true"}]),
    );
    let st = d.ok(
        "aria2.tellStatus",
        json!([a, ["gid", "bittorrent", "infoHash", "numSeeders"]]),
    );
    assert_eq!(st, json!({"gid": a}));
    assert!(!dir.join(&format!("{hash}.torrent")).exists());
    assert_eq!(d.shutdown(), Some(0));
}

/// swarmget's own status keys: `bittorrent.peerOrigins` counts peers by the source that
/// named them, `getGlobalStat`'s `dhtNodes4`/`dhtNodes6` the DHT's routing tables.
#[test]
fn peer_origins_and_dht_node_counts_are_in_the_status() {
    let dir = TempDir::new("rpc-origins");
    let body: Vec<u8> = (0..100_000u32).map(|i| (i >> 3) as u8).collect();
    let seeder = Seeder::start(
        &make_torrent("o.bin", &[], &body, 32 << 10, None),
        body.clone(),
    );
    // The tracker names the seeder and a peer nobody listens on, the DHT node another.
    let tracker = Tracker::start(vec![seeder.addr(), "127.0.0.1:9".parse().unwrap()]);
    let torrent = make_torrent("o.bin", &[], &body, 32 << 10, Some(&tracker.url()));
    let node = DhtNode::start();
    let info_hash = swarmget_engine::Torrent::parse(&torrent)
        .unwrap()
        .info_hash();
    node.add_peer(info_hash, "127.0.0.1:7".parse().unwrap());
    let entry = format!("--dht-entry-point={}", node.addr());
    let table = format!("--dht-file-path={}", dir.join("dht.dat").display());
    let d = Daemon::start(
        &dir,
        &[
            "--rpc-secret=s",
            "--enable-dht",
            "--dht-listen-port=0",
            &entry,
            &table,
        ],
    );
    let stat = d.ok("aria2.getGlobalStat", json!([]));
    assert_eq!(
        (&stat["dhtNodes4"], &stat["dhtNodes6"]),
        (&json!("0"), &json!("0"))
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(&torrent);
    let gid = d.ok("aria2.addTorrent", json!([b64]));
    let gid = gid.as_str().unwrap();
    let mut origins = json!({});
    for _ in 0..1000 {
        let st = d.ok("aria2.tellStatus", json!([gid, ["bittorrent"]]));
        origins = st["bittorrent"]["peerOrigins"].clone();
        if origins["dht"] == "1" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let stat = d.ok("aria2.getGlobalStat", json!([]));
    assert_eq!(
        origins,
        json!({"tracker": "2", "dht": "1", "pex": "0", "lpd": "0", "magnet": "0",
               "incoming": "0"}),
        "{stat}"
    );
    let stat = d.ok("aria2.getGlobalStat", json!([]));
    assert_eq!(stat["dhtNodes4"], "1", "{stat}");
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn get_peers_lists_the_connected_seeder() {
    let dir = TempDir::new("rpc-get-peers");
    let body: Vec<u8> = (0..200_000u32).map(|i| (i >> 2) as u8).collect();
    let bare = make_torrent("p.bin", &[], &body, 32 << 10, None);
    // A seeder that never unchokes: it waits for another seeder nobody asks.
    let never = Seeder::start(&bare, body.clone());
    let config = SeederConfig {
        unchoke_after: never.after(1),
        ..SeederConfig::default()
    };
    let seeder = Seeder::with(&bare, body.clone(), config);
    let tracker = Tracker::start(vec![seeder.addr()]);
    let torrent = make_torrent("p.bin", &[], &body, 32 << 10, Some(&tracker.url()));
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    let b64 = base64::engine::general_purpose::STANDARD.encode(torrent);
    let gid = d.ok("aria2.addTorrent", json!([b64]));
    // The peer shows once its handshake and bitfield have come.
    let mut peers = json!([]);
    for _ in 0..1000 {
        peers = d.ok("aria2.getPeers", json!([gid]));
        if peers[0]["seeder"] == "true" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        peers,
        json!([{
            "peerId": format!("%2DTS0001%2Dseeder{:06}", seeder.addr().port()),
            "ip": "127.0.0.1",
            "port": seeder.addr().port().to_string(),
            // 7 pieces of 32 KiB, all there.
            "bitfield": "fe",
            "amChoking": "true",
            "peerChoking": "true",
            "downloadSpeed": "0",
            "uploadSpeed": "0",
            "seeder": "true",
        }])
    );
    // An HTTP download has no peers; an unknown GID is an error.
    let a = d.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/a"], {"pause": "true"}]),
    );
    assert_eq!(d.ok("aria2.getPeers", json!([a])), json!([]));
    let m = d.fails("aria2.getPeers", json!(["0123456789abcdef"]));
    assert!(m.contains("not found"), "{m}");
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn rpc_listen_all_listens_beyond_127_0_0_1() {
    let dir = TempDir::new("rpc-listen-all");
    // Loopback only by default: 127.0.0.2 is another address of lo, not this socket's.
    let d = Daemon::start(&dir, &[]);
    assert_eq!(d.host, "127.0.0.1");
    assert!(
        TcpStream::connect(("127.0.0.2", d.port)).is_err(),
        "reachable beyond 127.0.0.1"
    );
    drop(d);
    let d = Daemon::start(&dir, &["--rpc-listen-all"]);
    assert_eq!(d.host, "0.0.0.0");
    assert!(
        TcpStream::connect(("127.0.0.2", d.port)).is_ok(),
        "not listening on all addresses"
    );
}

#[test]
fn the_pause_hook_runs_when_a_download_is_paused() {
    let dir = TempDir::new("rpc-pause-hook");
    let server =
        HttpServer::start(ServerConfig::new().file("/f", vec![1; 100_000]).stall()).unwrap();
    let (script, log) = logging_hook(&dir, "pause");
    let d = Daemon::start(
        &dir,
        &[&format!("--on-download-pause={}", script.display())],
    );
    let gid = d.ok("aria2.addUri", json!([[server.url("/f")]]));
    let gid = gid.as_str().unwrap().to_string();
    d.wait_status(&gid, "active");
    d.ok("aria2.forcePause", json!([gid]));
    let line = hook_output(&log, "the pause hook");
    assert_eq!(line.split_whitespace().next(), Some(gid.as_str()), "{line}");
}

#[test]
fn gid_force_save_and_save_not_found_decide_what_the_session_holds() {
    let dir = TempDir::new("rpc-gid");
    let file = TestFile::random(20_000, 3);
    let server = HttpServer::start(ServerConfig::new().file("/f", file.clone())).unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s", "--save-session=session.txt"]);
    // --gid is taken as given; a GID in use or a malformed one is refused.
    let kept = "00000000000000a1";
    let added = d.ok(
        "aria2.addUri",
        json!([[server.url("/f")], {"gid": kept, "out": "kept.bin", "force-save": "true"}]),
    );
    assert_eq!(added, kept);
    d.wait_status(kept, "complete");
    let taken = d.fails("aria2.addUri", json!([[server.url("/f")], {"gid": kept}]));
    assert_eq!(taken, format!("GID {kept} is not unique"));
    let bad = d.fails("aria2.addUri", json!([[server.url("/f")], {"gid": "12g"}]));
    assert!(bad.contains("'12g' is not a GID"), "{bad}");
    assert_eq!(d.ok("aria2.getOption", json!([kept]))["gid"], kept);
    let plain = d.ok(
        "aria2.addUri",
        json!([[server.url("/f")], {"out": "plain.bin"}]),
    );
    let plain = plain.as_str().unwrap();
    d.wait_status(plain, "complete");
    let missing = d.ok(
        "aria2.addUri",
        json!([[server.url("/missing")], {"out": "m1"}]),
    );
    let missing = missing.as_str().unwrap();
    let dropped = d.ok(
        "aria2.addUri",
        json!([[server.url("/missing")], {"out": "m2", "save-not-found": "false"}]),
    );
    let dropped = dropped.as_str().unwrap();
    assert_eq!(d.wait_status(missing, "error")["errorCode"], "3");
    d.wait_status(dropped, "error");
    assert_eq!(d.ok("aria2.saveSession", json!([])), "OK");
    let saved = std::fs::read_to_string(dir.join("session.txt")).unwrap();
    // Complete: only with --force-save. Not found: unless --save-not-found=false.
    assert!(saved.contains(&format!(" gid={kept}\n")), "{saved}");
    assert!(saved.contains(" force-save=true\n"), "{saved}");
    assert!(!saved.contains(plain), "{saved}");
    assert!(saved.contains(&format!(" gid={missing}\n")), "{saved}");
    assert!(!saved.contains(dropped), "{saved}");
    // --force-save keeps a complete download's control file; others lose theirs.
    assert!(dir.join("kept.bin.swarmget").exists());
    assert_download(&dir.join("plain.bin"), &file);
    assert_eq!(std::fs::read(dir.join("kept.bin")).unwrap(), file);
    assert_eq!(d.shutdown(), Some(3));
}

#[test]
fn change_uri_deletes_then_inserts_at_the_position_as_aria2_does() {
    let dir = TempDir::new("rpc-change-uri");
    let file = TestFile::random(300_000, 12);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/slow", file.clone())
            .file("/fast", file.clone())
            .behaviour_for(
                "/slow",
                Behaviour::Trickle {
                    bytes_per_sec: 20_000,
                },
            ),
    )
    .unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    let uris = |gid: &str| -> Vec<String> {
        d.ok("aria2.getUris", json!([gid]))
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["uri"].as_str().unwrap().to_string())
            .collect()
    };
    // A paused download: deletions first (a URI it does not have is not counted), then
    // insertions at the position among the waiting URIs (a bad URI is not counted).
    let paused = d.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/a", "http://127.0.0.1:9/b"], {"pause": "true", "out": "p"}]),
    );
    let paused = paused.as_str().unwrap();
    let r = d.ok(
        "aria2.changeUri",
        json!([
            paused,
            1,
            ["http://127.0.0.1:9/b", "http://127.0.0.1:9/zz"],
            ["http://127.0.0.1:9/c", "not a uri", "http://127.0.0.1:9/d"],
            1
        ]),
    );
    assert_eq!(r, json!([1, 2]));
    assert_eq!(
        uris(paused),
        [
            "http://127.0.0.1:9/a",
            "http://127.0.0.1:9/c",
            "http://127.0.0.1:9/d"
        ]
    );
    // Without a position the new URIs go last; a position past the end is the end.
    let r = d.ok(
        "aria2.changeUri",
        json!([paused, 1, [], ["http://127.0.0.1:9/e"]]),
    );
    assert_eq!(r, json!([0, 1]));
    let r = d.ok(
        "aria2.changeUri",
        json!([
            paused,
            1,
            ["http://127.0.0.1:9/a"],
            ["http://127.0.0.1:9/f"],
            0
        ]),
    );
    assert_eq!(r, json!([1, 1]));
    assert_eq!(
        uris(paused),
        [
            "http://127.0.0.1:9/f",
            "http://127.0.0.1:9/c",
            "http://127.0.0.1:9/d",
            "http://127.0.0.1:9/e"
        ]
    );
    assert_eq!(
        d.fails("aria2.changeUri", json!([paused, 2, [], []])),
        "fileIndex is out of range"
    );
    // A running download: its URI in use goes (the connection closes) and the one put
    // in finishes it byte-exact.
    let gid = d.ok(
        "aria2.addUri",
        json!([[server.url("/slow")], {"out": "moved.bin"}]),
    );
    let gid = gid.as_str().unwrap();
    loop {
        let st = d.wait_status(gid, "active");
        if st["completedLength"] != "0" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let r = d.ok(
        "aria2.changeUri",
        json!([gid, 1, [server.url("/slow")], [server.url("/fast")]]),
    );
    assert_eq!(r, json!([1, 1]));
    let servers = d.ok("aria2.getServers", json!([gid]));
    assert!(
        !servers.to_string().contains("/slow"),
        "the deleted URI's connection is still open: {servers}"
    );
    d.wait_status(gid, "complete");
    assert_download(&dir.join("moved.bin"), &file);
    assert_eq!(uris(gid), [server.url("/fast")]);
    assert!(!server.requests_for("/fast").is_empty());
    // Stopped downloads' URIs do not change, as in aria2.
    assert_eq!(
        d.fails(
            "aria2.changeUri",
            json!([gid, 1, [], [server.url("/fast")]])
        ),
        format!("Cannot remove URIs from GID#{gid}")
    );
    d.ok("aria2.remove", json!([paused]));
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn rpc_secure_serves_https_and_wss_to_a_client_that_verifies_the_ca() {
    let dir = TempDir::new("rpc-secure");
    let ca = TestCa::new();
    let (cert, key) = ca.server_identity().write_files(dir.path(), "rpc").unwrap();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let d = Daemon::start(
        &dir,
        &[
            "--rpc-secret=s",
            "--rpc-secure",
            "--rpc-certificate",
            cert,
            "--rpc-private-key",
            key,
        ],
    );
    let config = ca.client_config(None).unwrap();
    let connect = || {
        let tcp = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = rustls::ClientConnection::new(config.clone(), name).unwrap();
        rustls::StreamOwned::new(tls, tcp)
    };
    // HTTPS: the client checks the daemon's certificate against the test CA.
    let body = json!({"jsonrpc": "2.0", "id": "v", "method": "aria2.getVersion",
                      "params": ["token:s"]})
    .to_string();
    let mut https = connect();
    write!(
        https,
        "POST /jsonrpc HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    https.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""enabledFeatures""#), "{answer}");
    // WSS: a call and the notifications of the download it adds.
    let file = TestFile::random(20_000, 4);
    let server = HttpServer::start(ServerConfig::new().file("/f", file.clone())).unwrap();
    let mut ws = Ws::over(connect());
    ws.send(
        &json!({"jsonrpc": "2.0", "id": "a", "method": "aria2.addUri",
                "params": ["token:s", [server.url("/f")], {"out": "f.bin"}]})
        .to_string(),
    );
    let mut methods = Vec::new();
    while !methods.iter().any(|m| m == "aria2.onDownloadComplete") {
        let m = ws.recv();
        methods.push(m["method"].as_str().unwrap_or("answer").to_string());
    }
    assert!(methods.contains(&"answer".to_string()), "{methods:?}");
    assert_download(&dir.join("f.bin"), &file);
    // Plain HTTP to the secure port gets no JSON-RPC answer.
    let mut plain = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    plain
        .write_all(b"GET /jsonrpc?method=aria2.getVersion HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(
        !String::from_utf8_lossy(&got).contains("HTTP/1.1"),
        "{got:?}"
    );
    ws.send(
        &json!({"jsonrpc": "2.0", "id": "x", "method": "aria2.shutdown", "params": ["token:s"]})
            .to_string(),
    );
    assert_eq!(ws.recv()["result"], "OK");
    assert_eq!(d.exit_code(), Some(0));
    // Without a certificate --rpc-secure is refused with aria2's words.
    refused(
        &dir,
        &["--enable-rpc", "--rpc-listen-port=0", "--rpc-secure"],
        1,
        "Specify --rpc-certificate and --rpc-private-key options",
    );
}

#[test]
fn pause_metadata_pauses_the_files_of_a_followed_metalink() {
    let dir = TempDir::new("rpc-pause-metadata");
    let file = TestFile::random(30_000, 12);
    let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<metalink xmlns="urn:ietf:params:xml:ns:metalink"><file name="m.bin"><url>m</url></file></metalink>"#;
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/m", file.clone())
            .file("/doc.meta4", doc.as_bytes().to_vec())
            .behaviour_for(
                "/doc.meta4",
                Behaviour::ContentType("application/metalink4+xml".into()),
            ),
    )
    .unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    let document = d.ok(
        "aria2.addUri",
        json!([[server.url("/doc.meta4")], {"pause-metadata": "true"}]),
    );
    let document = document.as_str().unwrap();
    assert_eq!(
        d.ok("aria2.getOption", json!([document]))["pause-metadata"],
        "true"
    );
    let file_gid = d.wait_status(document, "complete")["followedBy"][0]
        .as_str()
        .expect("the document was followed")
        .to_string();
    // The file waits, paused, for a client; nothing was fetched for it.
    d.wait_status(&file_gid, "paused");
    assert!(server.requests_for("/m").is_empty());
    d.ok("aria2.unpause", json!([file_gid]));
    d.wait_status(&file_gid, "complete");
    assert_download(&dir.join("m.bin"), &file);
    assert_eq!(d.shutdown(), Some(0));
}

/// A TLS handshake with the daemon on `port` by a client that trusts `ca` and speaks
/// only `version`; the error the client saw, if any.
fn handshake(
    port: u16,
    ca: &TestCa,
    version: &'static rustls::SupportedProtocolVersion,
) -> Result<(), String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.cert_der()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp).map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[test]
fn min_tls_version_refuses_a_tls_1_2_client_on_the_rpc_port() {
    let dir = TempDir::new("rpc-min-tls");
    let ca = TestCa::new();
    let (cert, key) = ca.server_identity().write_files(dir.path(), "rpc").unwrap();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let secure = [
        "--rpc-secret=s",
        "--rpc-secure",
        "--rpc-certificate",
        cert,
        "--rpc-private-key",
        key,
    ];
    // By default (TLSv1.2, as aria2) a TLS 1.2 client is served.
    let d = Daemon::start(&dir, &secure);
    assert_eq!(handshake(d.port, &ca, &rustls::version::TLS12), Ok(()));
    d.kill();
    let d = Daemon::start(
        &dir,
        &[&secure[..], &["--min-tls-version=TLSv1.3"]].concat(),
    );
    let refused = handshake(d.port, &ca, &rustls::version::TLS12).unwrap_err();
    assert!(refused.contains("ProtocolVersion"), "{refused}");
    assert_eq!(handshake(d.port, &ca, &rustls::version::TLS13), Ok(()));
    d.kill();
}

/// Kills and reaps a helper process when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn daemon_detaches_once_listening_and_stops_with_the_watched_process() {
    let dir = TempDir::new("rpc-detach");
    // The process the daemon watches; killed at the end, whatever happens, so a
    // failing test leaves no daemon behind.
    let mut watched = Reaped(
        std::process::Command::new("sleep")
            .arg("600")
            .spawn()
            .expect("spawn sleep"),
    );
    let mut parent = swarmget(dir.path())
        .current_dir(dir.path())
        .args([
            "-D",
            "--enable-rpc",
            "--rpc-listen-port=0",
            "--rpc-secret=s",
        ])
        .arg(format!("--stop-with-process={}", watched.0.id()))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn swarmget");
    // The parent announces the port and exits 0; the daemon's stderr is /dev/null,
    // so the pipe ends with the parent.
    let mut said = String::new();
    parent
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut said)
        .unwrap();
    let status = wait_for(&mut parent, Duration::from_secs(30)).expect("the parent exits");
    assert_eq!(status.code(), Some(0), "{said}");
    let port: u16 = said
        .lines()
        .find_map(|l| l.strip_prefix("swarmget: RPC: listening on 127.0.0.1:"))
        .unwrap_or_else(|| panic!("no port announced: {said}"))
        .parse()
        .unwrap();
    let call = |method: &str| -> Option<Value> {
        let body = json!({"jsonrpc": "2.0", "id": "d", "method": method, "params": ["token:s"]})
            .to_string();
        let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
        write!(
            s,
            "POST /jsonrpc HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        let (_, json) = answer.split_once("\r\n\r\n")?;
        serde_json::from_str(json).ok()
    };
    // The detached daemon answers.
    let version = call("aria2.getVersion").expect("the daemon answers");
    assert!(version["result"]["version"].is_string(), "{version}");
    // The watched process goes: the daemon stops and its port closes.
    let _ = watched.0.kill();
    let _ = watched.0.wait();
    let mut polls = 0;
    while call("aria2.getVersion").is_some() {
        polls += 1;
        assert!(polls < 3000, "the daemon outlived the watched process");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn rpc_user_and_passwd_demand_basic_authentication() {
    let dir = TempDir::new("rpc-basic");
    let d = Daemon::start(&dir, &["--rpc-user=alice", "--rpc-passwd=pw"]);
    let body = r#"{"jsonrpc":"2.0","id":"1","method":"aria2.getVersion","params":[]}"#;
    let post = |authorization: &str| {
        let req = format!(
            "POST /jsonrpc HTTP/1.1\r\nHost: x\r\n{authorization}Connection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        d.http(&req, body.as_bytes())
    };
    let (status, head, _) = post("");
    assert_eq!(status, 401, "{head}");
    assert!(
        head.contains("WWW-Authenticate: Basic realm=\"aria2\""),
        "{head}"
    );
    // base64("alice:px"), then base64("alice:pw").
    assert_eq!(post("Authorization: Basic YWxpY2U6cHg=\r\n").0, 401);
    let (status, _, answer) = post("Authorization: Basic YWxpY2U6cHc=\r\n");
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("enabledFeatures"), "{answer}");
    // A CORS preflight needs no credentials, as in aria2.
    let (status, _, _) = d.http(
        "OPTIONS /jsonrpc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"",
    );
    assert_eq!(status, 200);
}

/// The npm `aria2` package (4.1.2), aria2's JavaScript client: calls over HTTP before
/// its WebSocket opens, then over the WebSocket with `multicall` and `batch`, and the
/// `onDownloadComplete` notification.
const NPM_ARIA2_CLIENT: &str = r#"
const assert = require("assert");
const Aria2 = require("aria2");
const [port, url] = process.argv.slice(2);
// A lost notification fails the run instead of hanging it.
setTimeout(() => {
  console.error("no answer or notification within 30 s");
  process.exit(2);
}, 30000).unref();
(async () => {
  const aria2 = new Aria2({ host: "127.0.0.1", port: Number(port), secret: "s" });
  const version = await aria2.call("getVersion");
  assert(version.enabledFeatures.includes("BitTorrent"), JSON.stringify(version));
  await aria2.open();
  const completed = new Promise((resolve) =>
    aria2.on("onDownloadComplete", ([{ gid }]) => resolve(gid)));
  const gid = await aria2.call("addUri", [url], { pause: "true", out: "n.bin" });
  assert.strictEqual((await aria2.call("tellStatus", gid, ["status"])).status, "paused");
  assert.strictEqual(
    await aria2.call("changeOption", gid, { "max-download-limit": "1M" }), "OK");
  assert.strictEqual((await aria2.call("getOption", gid))["max-download-limit"], "1048576");
  assert.strictEqual(await aria2.call("unpause", gid), gid);
  assert.strictEqual(await completed, gid);
  const status = await aria2.call("tellStatus", gid);
  assert.strictEqual(status.status, "complete");
  assert.strictEqual(status.completedLength, "50000");
  const [[active], [stopped]] =
    await aria2.multicall([["tellActive"], ["tellStopped", 0, 10, ["gid"]]]);
  assert.deepStrictEqual(active, []);
  assert.deepStrictEqual(stopped, [{ gid }]);
  const second = await aria2.call("addUri", [url], { pause: "true", out: "m.bin" });
  const [removed, stat] =
    await Promise.all(await aria2.batch([["remove", second], ["getGlobalStat"]]));
  assert.strictEqual(removed, second);
  assert.strictEqual(stat.numWaiting, "0");
  assert.strictEqual(await aria2.call("purgeDownloadResult"), "OK");
  assert.deepStrictEqual(await aria2.call("tellStopped", 0, 10), []);
  const notifications = await aria2.listNotifications();
  assert(notifications.includes("onBtDownloadComplete"), notifications.join());
  await aria2.close();
  console.log("OK");
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
"#;

/// `target/npm-aria2/node_modules`, holding the npm `aria2` package, installed on first
/// use. `None` (with a note) where npm is missing or the install fails, except under
/// `CI=true`: `cargo xtask ci` installs npm, so there the test must run.
fn npm_aria2() -> Option<std::path::PathBuf> {
    let prefix = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/npm-aria2");
    let modules = prefix.join("node_modules");
    if modules.join("aria2/package.json").exists() {
        return Some(modules);
    }
    let installed = std::process::Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&prefix)
        .arg("aria2@4.1.2")
        .status()
        .is_ok_and(|s| s.success());
    if installed && modules.join("aria2/package.json").exists() {
        return Some(modules);
    }
    assert_ne!(
        std::env::var("CI").as_deref(),
        Ok("true"),
        "could not install the npm aria2 package into {}; under CI=true the test must run \
         (cargo xtask ci installs npm)",
        prefix.display()
    );
    None
}

#[test]
fn the_npm_aria2_client_drives_the_daemon() {
    let Some(modules) = npm_aria2() else {
        eprintln!("note: npm or the npm aria2 package is not available; not run");
        return;
    };
    let dir = TempDir::new("rpc-npm");
    let file = TestFile::random(50_000, 13);
    let server = HttpServer::start(ServerConfig::new().file("/f", file.clone())).unwrap();
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    let script = dir.join("client.js");
    std::fs::write(&script, NPM_ARIA2_CLIENT).unwrap();
    let out = std::process::Command::new("node")
        .arg(&script)
        .arg(d.port.to_string())
        .arg(server.url("/f"))
        .env("NODE_PATH", &modules)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.trim() == "OK",
        "the npm aria2 client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_download(&dir.join("n.bin"), &file);
    assert_eq!(d.shutdown(), Some(0));
}

#[test]
fn a_torrent_announces_bt_download_complete_before_download_complete() {
    let dir = TempDir::new("rpc-bt-complete");
    let (_seeder, _tracker, body, b64) = torrent_swarm();
    let (script, log) = logging_hook(&dir, "bt");
    // --seed-time=0: complete when the data is, instead of seeding to a ratio of 1.
    let d = Daemon::start(
        &dir,
        &[
            "--seed-time=0",
            &format!("--on-bt-download-complete={}", script.display()),
        ],
    );
    let mut ws = Ws::connect(d.port);
    ws.send(
        &json!({"jsonrpc": "2.0", "id": "t", "method": "aria2.addTorrent", "params": [b64]})
            .to_string(),
    );
    let mut gid = None;
    let mut notes = Vec::new();
    while !notes.iter().any(|(m, _)| m == "aria2.onDownloadComplete") {
        let m = ws.recv();
        match m["method"].as_str() {
            Some(method) => notes.push((method.to_string(), m["params"][0]["gid"].clone())),
            None => gid = Some(m["result"].clone()),
        }
    }
    let gid = gid.unwrap_or_else(|| ws.recv()["result"].clone());
    assert_eq!(
        notes,
        [
            ("aria2.onDownloadStart".to_string(), gid.clone()),
            ("aria2.onBtDownloadComplete".to_string(), gid.clone()),
            ("aria2.onDownloadComplete".to_string(), gid.clone()),
        ]
    );
    assert_download(&dir.join("x.bin"), &body);
    // The hook runs with aria2's arguments.
    let line = hook_output(&log, "the bt-download-complete hook");
    assert_eq!(line.trim(), format!("{} 1 ./x.bin", gid.as_str().unwrap()));
    assert_eq!(d.shutdown(), Some(0));
}
