//! Pieces of a loopback BitTorrent swarm shared by `cargo xtask interop` and `cargo
//! xtask bench bt`: torrents of a file, a tracker thread that names one peer, and our
//! libtorrent peer script (python3-libtorrent from Debian).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};

use sha1::{Digest, Sha1};
use swarmget_bt_wire::metainfo::TorrentBuilder;

/// Writes to `out` a v1 single-file torrent of `file` in pieces of `piece_len`,
/// announcing to `tracker` (none if empty; hashed in pieces as it is read: a GiB takes
/// no GiB).
pub fn write_torrent(file: &Path, piece_len: u64, tracker: &str, out: &Path) -> Result<(), String> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: no file name", file.display()))?;
    let mut input = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut hashes = Vec::new();
    let mut buf = vec![0u8; piece_len as usize];
    let mut len = 0u64;
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            match input.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) => return Err(format!("{}: {e}", file.display())),
            }
        }
        if filled == 0 {
            break;
        }
        len += filled as u64;
        hashes.push(Sha1::digest(&buf[..filled]).into());
        if filled < buf.len() {
            break;
        }
    }
    let builder = TorrentBuilder::single(name, len, piece_len, hashes);
    let builder = match tracker {
        "" => builder,
        t => builder.trackers(vec![vec![t.to_string()]]),
    };
    let torrent = builder
        .build()
        .map_err(|e| format!("cannot build the torrent: {e}"))?;
    std::fs::write(out, torrent).map_err(|e| format!("{}: {e}", out.display()))
}

/// Our libtorrent peer script (python3-libtorrent), in `MODE` (`seed` or `leech`) for
/// `torrent` over `save_path`, listening on 127.0.0.1:`port`; its output goes to
/// `DIR/libtorrent-MODE.log`.
pub fn libtorrent(
    dir: &Path,
    mode: &str,
    torrent: &Path,
    save_path: &Path,
    port: u16,
) -> Result<Child, String> {
    libtorrent_with(dir, mode, torrent, save_path, port, &[])
}

/// [`libtorrent`] with `extra` arguments after the port (`dhtseed`'s node).
pub fn libtorrent_with(
    dir: &Path,
    mode: &str,
    torrent: &Path,
    save_path: &Path,
    port: u16,
    extra: &[String],
) -> Result<Child, String> {
    let script = write_lt_peer(dir)?;
    let log = std::fs::File::create(dir.join(format!("libtorrent-{mode}.log")))
        .map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    // Debian's python: python3-libtorrent is a system package.
    Command::new("/usr/bin/python3")
        .arg(&script)
        .arg(mode)
        .arg(torrent)
        .arg(save_path)
        .arg(port.to_string())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start lt_peer.py: {e}"))
}

/// Writes our libtorrent peer script into `dir`; returns its path. Run it with
/// Debian's `/usr/bin/python3` (python3-libtorrent is a system package).
pub fn write_lt_peer(dir: &Path) -> Result<PathBuf, String> {
    // Not `libtorrent.py`: Python would import the script itself for `libtorrent`.
    let script = dir.join("lt_peer.py");
    std::fs::write(&script, LIBTORRENT_PY).map_err(|e| format!("{}: {e}", script.display()))?;
    Ok(script)
}

/// The libtorrent peer (`xtask/src/lt_peer.py`).
const LIBTORRENT_PY: &str = include_str!("lt_peer.py");

/// The last lines of a log, for a failure message.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The `port` an announce's request line gives.
fn announced_port(head: &[u8]) -> Option<u16> {
    let line = head.split(|&b| b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let query = line.split_whitespace().nth(1)?.split_once('?')?.1;
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("port="))
        .and_then(|p| p.parse().ok())
}

/// A tracker thread answering every announce with the single peer
/// 127.0.0.1:`port`, which [`Tracker::name`] changes (none to that peer itself).
pub struct Tracker {
    /// Its announce URL.
    pub url: String,
    port: Arc<AtomicU16>,
    /// Announces answered so far.
    announces: Arc<AtomicUsize>,
}

impl Tracker {
    /// A tracker naming 127.0.0.1:`peer_port`.
    pub fn start(peer_port: u16) -> Result<Tracker, String> {
        let listener =
            TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot bind a tracker: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let port = Arc::new(AtomicU16::new(peer_port));
        let named = port.clone();
        let announces = Arc::new(AtomicUsize::new(0));
        let counted = announces.clone();
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
                // As a real tracker, it never names a peer to itself: libtorrent
                // (qBittorrent) that connects to itself bans 127.0.0.1 and then turns
                // every loopback peer away.
                let peer = named.load(Ordering::Relaxed);
                let mut body = b"d8:intervali60e5:peers".to_vec();
                if announced_port(&head) == Some(peer) {
                    body.extend_from_slice(b"0:");
                } else {
                    body.extend_from_slice(b"6:");
                    body.extend_from_slice(&[127, 0, 0, 1]);
                    body.extend_from_slice(&peer.to_be_bytes());
                }
                body.push(b'e');
                let mut response = format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                response.extend_from_slice(&body);
                if sock.write_all(&response).is_ok() {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Ok(Tracker {
            url: format!("http://{addr}/announce"),
            port,
            announces,
        })
    }

    /// How many announces it has answered.
    pub fn announces(&self) -> usize {
        self.announces.load(Ordering::Relaxed)
    }

    /// From now on, answer with 127.0.0.1:`port`.
    pub fn name(&self, port: u16) {
        self.port.store(port, Ordering::Relaxed);
    }
}
