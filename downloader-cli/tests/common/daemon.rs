//! The `--enable-rpc` daemon as the RPC tests drive it: started on port 0 in a
//! scratch directory, called over JSON-RPC, killed if a test ends without shutting it
//! down.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use super::{TempDir, swarmget, wait_for};

/// A running daemon, killed if the test ends without shutting it down.
pub struct Daemon {
    pub child: Child,
    /// The address it said it listens on, e.g. `127.0.0.1` (or `0.0.0.0`).
    pub host: String,
    pub port: u16,
    /// Keeps the stderr reader's channel open, so the daemon never blocks on it.
    _stderr: std::sync::mpsc::Receiver<String>,
}

impl Daemon {
    /// Starts `swarmget --enable-rpc --rpc-listen-port=0 ARGS` in `dir` and reads the
    /// port it printed.
    pub fn start(dir: &TempDir, args: &[&str]) -> Daemon {
        let mut child = swarmget(dir.path())
            .current_dir(dir.path())
            .args([
                "--enable-rpc",
                "--rpc-listen-port=0",
                "--listen-port=0",
                "--quiet",
            ])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn swarmget");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut seen = Vec::new();
        let (host, port) = loop {
            let line = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no listening line; stderr so far: {seen:?}"));
            if let Some(addr) = line.strip_prefix("swarmget: RPC: listening on ") {
                let (host, port) = addr.rsplit_once(':').expect("HOST:PORT");
                break (host.to_string(), port.parse().expect("a port"));
            }
            seen.push(line);
        };
        Daemon {
            child,
            host,
            port,
            _stderr: rx,
        }
    }

    /// One HTTP request on a fresh connection; the status and body.
    pub fn http(&self, request: &str, body: &[u8]) -> (u16, String, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        s.write_all(request.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).unwrap();
        let text = String::from_utf8_lossy(&answer).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("a whole response");
        let status = head[9..12].parse().expect("a status");
        (status, head.to_string(), body.to_string())
    }

    pub fn post(&self, path: &str, body: &str) -> (u16, String) {
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (status, _, body) = self.http(&req, body.as_bytes());
        (status, body)
    }

    /// A JSON-RPC call with the token `s`; the whole response object.
    pub fn call(&self, method: &str, params: Value) -> Value {
        let mut p = vec![json!("token:s")];
        p.extend(params.as_array().cloned().unwrap_or_default());
        let body = json!({"jsonrpc": "2.0", "id": "t", "method": method, "params": p});
        let (_, text) = self.post("/jsonrpc", &body.to_string());
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }

    /// The result of a call that must succeed.
    #[track_caller]
    pub fn ok(&self, method: &str, params: Value) -> Value {
        let r = self.call(method, params);
        r.get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{method} failed: {r}"))
    }

    /// The error message of a call that must fail.
    #[track_caller]
    pub fn fails(&self, method: &str, params: Value) -> String {
        let r = self.call(method, params);
        assert_eq!(r["error"]["code"], 1, "{method}: {r}");
        r["error"]["message"].as_str().unwrap().to_string()
    }

    /// Polls `tellStatus` until `status` is `want`, failing if it settles on another
    /// final state first.
    #[track_caller]
    pub fn wait_status(&self, gid: &str, want: &str) -> Value {
        loop {
            let st = self.ok("aria2.tellStatus", json!([gid]));
            let now = st["status"].as_str().unwrap().to_string();
            if now == want {
                return st;
            }
            let terminal = ["complete", "error", "removed"].contains(&now.as_str());
            assert!(!terminal, "waiting for {want}, got {st}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Ends the daemon with SIGKILL: nothing it would do at exit happens.
    pub fn kill(mut self) {
        self.child.kill().expect("kill the daemon");
        self.child.wait().expect("reap the daemon");
    }

    /// Shuts the daemon down over RPC and returns its exit code.
    pub fn shutdown(self) -> Option<i32> {
        assert_eq!(self.ok("aria2.shutdown", json!([])), "OK");
        self.exit_code()
    }

    /// Waits for the daemon to exit (told to by other means) and returns its code.
    pub fn exit_code(mut self) -> Option<i32> {
        let status = wait_for(&mut self.child, Duration::from_secs(30)).expect("daemon exits");
        status.code()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
