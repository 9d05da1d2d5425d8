//! The daemon under load, as the issue asks: a thousand downloads in the queue, and a
//! client pipelining tens of thousands of `tellStatus` calls over one keep-alive
//! connection while another client is served — with the daemon's peak memory
//! (`VmHWM`) bounded.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use swarmget_rpc::websocket::{Opcode, encode_frame};

use common::TempDir;
use common::daemon::Daemon;

/// One keep-alive HTTP connection to the daemon's `/jsonrpc`.
struct KeepAlive {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl KeepAlive {
    fn connect(d: &Daemon) -> KeepAlive {
        let s = TcpStream::connect(("127.0.0.1", d.port)).expect("connect");
        // A hang fails the test instead of holding it forever.
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        KeepAlive {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    /// A JSON-RPC call with the token `s`, answered on this connection.
    #[track_caller]
    fn ok(&mut self, method: &str, params: Value) -> Value {
        self.writer.write_all(&request(method, params)).unwrap();
        let answer = read_answer(&mut self.reader).expect("an answer");
        answer
            .get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{method} failed: {answer}"))
    }
}

/// A keep-alive `POST /jsonrpc` of one call.
fn request(method: &str, params: Value) -> Vec<u8> {
    let mut p = vec![json!("token:s")];
    p.extend(params.as_array().cloned().unwrap_or_default());
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": p}).to_string();
    format!(
        "POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// One HTTP response's JSON body; None at the end of the stream.
fn read_answer(r: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0u8; length.expect("a Content-Length")];
    r.read_exact(&mut body).ok()?;
    Some(serde_json::from_slice(&body).expect("a JSON answer"))
}

/// The daemon's peak resident memory in KiB (`VmHWM` in `/proc/PID/status`).
fn peak_rss_kib(d: &Daemon) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", d.child.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

fn gids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["gid"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_thousand_queued_downloads_page_add_and_remove_correctly() {
    let dir = TempDir::new("rpc-thousand");
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    let mut c = KeepAlive::connect(&d);
    let before = peak_rss_kib(&d);
    let mut queued: Vec<String> = (0..1000)
        .map(|i| {
            let uri = format!("http://127.0.0.1:9/f{i}");
            let gid = c.ok("aria2.addUri", json!([[uri], {"pause": "true"}]));
            gid.as_str().unwrap().to_string()
        })
        .collect();
    // One more at position 0 goes first.
    let first = c.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/first"], {"pause": "true"}, 0]),
    );
    queued.insert(0, first.as_str().unwrap().to_string());
    let page = |c: &mut KeepAlive, offset: i64, num: usize| {
        gids(&c.ok("aria2.tellWaiting", json!([offset, num, ["gid"]])))
    };
    // Pages of 100 put together are the queue, in order.
    let mut paged = Vec::new();
    for offset in (0..queued.len()).step_by(100) {
        paged.extend(page(&mut c, offset as i64, 100));
    }
    assert_eq!(paged, queued);
    // A negative offset counts from the end and lists backwards.
    let tail: Vec<String> = queued.iter().rev().take(10).cloned().collect();
    assert_eq!(page(&mut c, -1, 10), tail);
    assert_eq!(page(&mut c, 995, 100), queued[995..]);
    // Every other one removed: the rest keep their order; the removed are stopped.
    let removed: Vec<String> = queued.iter().step_by(2).cloned().collect();
    for gid in &removed {
        assert_eq!(c.ok("aria2.remove", json!([gid])), json!(gid));
    }
    let kept: Vec<String> = queued.iter().skip(1).step_by(2).cloned().collect();
    let mut paged = Vec::new();
    for offset in (0..kept.len()).step_by(100) {
        paged.extend(page(&mut c, offset as i64, 100));
    }
    assert_eq!(paged, kept);
    let stat = c.ok("aria2.getGlobalStat", json!([]));
    assert_eq!(stat["numWaiting"], kept.len().to_string(), "{stat}");
    assert_eq!(stat["numStopped"], removed.len().to_string(), "{stat}");
    let stopped = gids(&c.ok("aria2.tellStopped", json!([0, 1000, ["gid"]])));
    assert_eq!(stopped, removed);
    // A position change inside the big queue lands where asked.
    let moved = kept[400].clone();
    assert_eq!(
        c.ok("aria2.changePosition", json!([moved, 3, "POS_SET"])),
        3
    );
    assert_eq!(page(&mut c, 3, 1), [moved]);
    // The queue, its pages and its removals cost a few KiB a download, no more.
    let peak = peak_rss_kib(&d);
    eprintln!("VmHWM: {before} KiB empty, {peak} KiB after the 1,001 downloads' calls");
    assert!(
        peak < before + 8 * 1024,
        "peak RSS grew from {before} KiB to {peak} KiB"
    );
    assert_eq!(c.ok("aria2.purgeDownloadResult", json!([])), "OK");
    assert_eq!(c.ok("aria2.tellStopped", json!([0, 1000])), json!([]));
    drop(c);
    assert_eq!(d.shutdown(), Some(0));
}

/// Calls the flooding client pipelines over its one connection.
const FLOOD: usize = 40_000;

/// How the flood's calls travel.
#[derive(Clone, Copy)]
enum Transport {
    /// HTTP POSTs on one keep-alive connection.
    Http,
    /// Text frames on one WebSocket.
    WebSocket,
}

impl Transport {
    /// A connection, its upgrade done, as a writer and a reader.
    fn connect(self, d: &Daemon) -> (TcpStream, BufReader<TcpStream>) {
        let KeepAlive {
            mut writer,
            mut reader,
        } = KeepAlive::connect(d);
        if let Transport::WebSocket = self {
            writer
                .write_all(b"GET /jsonrpc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
                .unwrap();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(line.starts_with("HTTP/1.1 101"), "{line}");
            while line != "\r\n" {
                line.clear();
                reader.read_line(&mut line).unwrap();
            }
        }
        (writer, reader)
    }

    /// One call as it goes on the wire.
    fn call(self, method: &str, params: Value) -> Vec<u8> {
        match self {
            Transport::Http => request(method, params),
            Transport::WebSocket => {
                let mut p = vec![json!("token:s")];
                p.extend(params.as_array().cloned().unwrap_or_default());
                let text = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": p});
                encode_frame(
                    Opcode::Text,
                    text.to_string().as_bytes(),
                    true,
                    Some([1, 2, 3, 4]),
                )
            }
        }
    }

    /// The next answer; None at the end of the stream.
    fn answer(self, r: &mut BufReader<TcpStream>) -> Option<Value> {
        match self {
            Transport::Http => read_answer(r),
            Transport::WebSocket => {
                let mut head = [0u8; 2];
                r.read_exact(&mut head).ok()?;
                assert_eq!(head[0], 0x81, "a whole text frame");
                let len = match head[1] {
                    126 => {
                        let mut l = [0u8; 2];
                        r.read_exact(&mut l).ok()?;
                        u16::from_be_bytes(l) as usize
                    }
                    127 => panic!("no answer here is that large"),
                    n => n as usize,
                };
                let mut payload = vec![0u8; len];
                r.read_exact(&mut payload).ok()?;
                Some(serde_json::from_slice(&payload).expect("a JSON answer"))
            }
        }
    }
}

#[test]
fn a_client_flooding_a_keep_alive_connection_starves_no_other_and_memory_stays_bounded() {
    flood(Transport::Http);
}

#[test]
fn a_client_flooding_a_websocket_starves_no_other_and_memory_stays_bounded() {
    flood(Transport::WebSocket);
}

/// [`FLOOD`] `tellStatus` calls pipelined over one connection by `transport`, while a
/// second client calls over HTTP: every call answered, the second client in the
/// flood's midst, and the daemon's peak memory bounded.
fn flood(transport: Transport) {
    let dir = TempDir::new("rpc-flood");
    let d = Daemon::start(&dir, &["--rpc-secret=s"]);
    let mut side = KeepAlive::connect(&d);
    let gid = side.ok(
        "aria2.addUri",
        json!([["http://127.0.0.1:9/f"], {"pause": "true"}]),
    );
    let gid = gid.as_str().unwrap().to_string();
    let before = peak_rss_kib(&d);

    // The flood: one connection, every request written as fast as the socket takes
    // them, the answers read by another thread.
    let (mut writer, mut reader) = transport.connect(&d);
    let started = std::time::Instant::now();
    let one = transport.call("aria2.tellStatus", json!([gid]));
    let sender = std::thread::spawn(move || {
        let batch: Vec<u8> = one.repeat(100);
        for _ in 0..FLOOD / 100 {
            // A dropped connection shows in the answers the receiver misses.
            if writer.write_all(&batch).is_err() {
                break;
            }
        }
        writer
    });
    let answered = Arc::new(AtomicUsize::new(0));
    let count = answered.clone();
    let want = gid.clone();
    let receiver = std::thread::spawn(move || {
        while count.load(Ordering::SeqCst) < FLOOD {
            let answer = transport
                .answer(&mut reader)
                .expect("the flood is answered in full");
            assert_eq!(answer["result"]["gid"], want.as_str(), "{answer}");
            count.fetch_add(1, Ordering::SeqCst);
        }
    });
    // Once the flood is under way, the other client's calls are answered in its
    // midst, not after it.
    while answered.load(Ordering::SeqCst) < 1000 && !receiver.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
    }
    for _ in 0..5 {
        assert_eq!(
            side.ok("aria2.tellStatus", json!([gid, ["gid"]]))["gid"],
            gid
        );
    }
    let after_side = answered.load(Ordering::SeqCst);
    receiver.join().expect("the flood is answered");
    // Reported, not asserted: the rate depends on the machine.
    let rate = FLOOD as f64 / started.elapsed().as_secs_f64();
    let _writer = sender.join().unwrap();
    assert!(
        after_side < FLOOD,
        "the other client was answered only after the flood"
    );
    // Answers wait in a bounded buffer, not one the size of the flood's
    // (40,000 answers of about 600 bytes: 24 MB).
    let peak = peak_rss_kib(&d);
    eprintln!(
        "VmHWM: {before} KiB before the flood, {peak} KiB after; the other client answered after {after_side} of {FLOOD}; {rate:.0} calls/s"
    );
    assert!(
        peak < before + 12 * 1024,
        "peak RSS grew from {before} KiB to {peak} KiB"
    );
    assert_eq!(d.shutdown(), Some(0));
}
