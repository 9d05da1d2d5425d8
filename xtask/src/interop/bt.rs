//! BitTorrent case of `cargo xtask interop`: aria2c seeds a torrent of the Metalink
//! cases' file (checked with `-V` first), a tracker on a loopback port (a thread here:
//! it answers every announce with aria2c's address) introduces the two, and swarmget
//! downloads the torrent from aria2c; the copy must be exact.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};

use sha1::{Digest, Sha1};
use swarmget_bt_wire::metainfo::TorrentBuilder;

use super::Env;
use crate::child::stop;
use crate::loopback::{free_ports, wait_ready};

/// 256 KiB pieces: a few MiB make a few dozen, the last one short.
const PIECE_LEN: u64 = 256 << 10;

/// swarmget downloads a single-file torrent from aria2c seeding it.
pub fn from_aria2c(env: &Env, dir: &Path) -> Result<(), String> {
    let payload = &env.meta;
    let source = env.www.join(&payload.name);
    let data = std::fs::read(&source).map_err(|e| format!("{}: {e}", source.display()))?;
    let hashes = data
        .chunks(PIECE_LEN as usize)
        .map(|c| Sha1::digest(c).into())
        .collect();
    let port = free_ports(1)?[0];
    let tracker = tracker(port)?;
    let torrent = TorrentBuilder::single(&payload.name, payload.len, PIECE_LEN, hashes)
        .trackers(vec![vec![tracker]])
        .build()
        .map_err(|e| format!("cannot build the torrent: {e}"))?;
    let torrent_path = dir.join("seed.torrent");
    std::fs::write(&torrent_path, torrent).map_err(|e| e.to_string())?;

    let log = std::fs::File::create(dir.join("aria2c.log")).map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let mut seeder = Command::new("aria2c")
        .args([
            "--no-conf",
            "--check-integrity=true",
            "--seed-ratio=0.0",
            "--enable-dht=false",
            "--enable-dht6=false",
            "--bt-enable-lpd=false",
            "--enable-peer-exchange=false",
            "--summary-interval=0",
            &format!("--listen-port={port}"),
            &format!("--dir={}", env.www.display()),
        ])
        .arg(&torrent_path)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start aria2c: {e}"))?;
    let ready = wait_ready(&mut seeder, || {
        TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let outcome = ready
        .map_err(|e| format!("aria2c seeding: {e}"))
        .and_then(|()| {
            env.run(
                dir,
                &[
                    "--listen-port=0",
                    "--seed-time=0",
                    &torrent_path.to_string_lossy(),
                ],
            )
        });
    stop(&mut seeder);
    outcome?.expect(0)?;
    payload.verify(&dir.join("out").join(&payload.name))
}

/// Starts a tracker thread answering every announce with the single peer
/// 127.0.0.1:`peer_port`; returns its announce URL.
fn tracker(peer_port: u16) -> Result<String, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind a tracker: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let mut body = b"d8:intervali60e5:peers6:".to_vec();
    body.extend_from_slice(&[127, 0, 0, 1]);
    body.extend_from_slice(&peer_port.to_be_bytes());
    body.push(b'e');
    std::thread::spawn(move || {
        for mut sock in listener.incoming().flatten() {
            // The request line and headers; a GET has no body.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 16 << 10 {
                match sock.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let mut response = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            response.extend_from_slice(&body);
            let _ = sock.write_all(&response);
        }
    });
    Ok(format!("http://{addr}/announce"))
}
