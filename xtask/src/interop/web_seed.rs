//! The web seed cases of `cargo xtask interop`: a multi-file torrent whose `url-list`
//! (BEP 19) names nginx, beside a libtorrent seeder the tracker names. swarmget must
//! fetch from both (nginx's access log shows ranges of the torrent's files, libtorrent
//! says it uploaded), and each file must come out exact. Then torrents with no tracker
//! whose web seed is their only source: single-file, and multi-file with pieces
//! running across files, from nginx and, as `ftp://` web seeds, from pyftpdlib and
//! vsftpd.

use std::path::Path;

use sha1::{Digest, Sha1};
use swarmget_bt_wire::metainfo::TorrentBuilder;

use super::Env;
use crate::child::stop;
use crate::loopback::{free_ports, wait_ready};
use crate::payload::Payload;
use crate::swarm::{Tracker, libtorrent, tail};

/// The torrent's directory under nginx's root (and libtorrent's save path).
const NAME: &str = "ws-set";
/// 256 KiB pieces: the piece at the end of the first file runs into the second.
const PIECE_LEN: u64 = 256 << 10;

/// swarmget downloads a two-file torrent (the second file's name has a space, which the
/// web seed's URL must percent-encode) from nginx as a web seed and a libtorrent
/// seeder at once.
pub fn beside_libtorrent(env: &Env, dir: &Path) -> Result<(), String> {
    let files = [
        (vec!["small.bin".to_string()], &env.small),
        (
            vec!["sub".to_string(), "big file.bin".to_string()],
            &env.big,
        ),
    ];
    let (entries, hashes) = serve_tree(env, NAME, &files)?;
    let port = free_ports(1)?[0];
    let tracker = Tracker::start(port)?;
    let torrent = TorrentBuilder::multi(NAME, entries, PIECE_LEN, hashes)
        .trackers(vec![vec![tracker.url.clone()]])
        .web_seeds(vec![env.server.url(false, "")])
        .build()
        .map_err(|e| format!("cannot build the torrent: {e}"))?;
    let torrent_path = dir.join("web-seed.torrent");
    std::fs::write(&torrent_path, torrent).map_err(|e| e.to_string())?;
    let access_before = std::fs::read_to_string(env.server.access_log())
        .unwrap_or_default()
        .len();
    let mut seeder = libtorrent(dir, "seed", &torrent_path, &env.www, port)?;
    let lt_log = dir.join("libtorrent-seed.log");
    let outcome = wait_ready(&mut seeder, || {
        std::fs::read_to_string(&lt_log).is_ok_and(|t| t.lines().any(|l| l == "seeding"))
    })
    .map_err(|e| format!("libtorrent seeding: {e}\n{}", tail(&lt_log)))
    .and_then(|()| {
        env.run(
            dir,
            &[
                "--listen-port=0",
                "--seed-time=0",
                "-x2",
                &torrent_path.to_string_lossy(),
            ],
        )
    });
    // Stopped, libtorrent says how much it uploaded.
    stop(&mut seeder);
    outcome?.expect(0)?;
    for (path, payload) in &files {
        let copy = path
            .iter()
            .fold(dir.join("out").join(NAME), |p, c| p.join(c));
        payload.verify(&copy)?;
    }
    let access = std::fs::read_to_string(env.server.access_log()).map_err(|e| e.to_string())?;
    let from_nginx = web_seed_bytes(access.get(access_before..).unwrap_or_default());
    let lt_text = std::fs::read_to_string(&lt_log).unwrap_or_default();
    let from_libtorrent = lt_text
        .lines()
        .find_map(|l| l.strip_prefix("uploaded: "))
        .and_then(|n| n.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0);
    if from_nginx == 0 || from_libtorrent == 0 {
        return Err(format!(
            "both sources should have sent pieces: nginx {from_nginx} bytes, libtorrent \
             {from_libtorrent} bytes\n{}",
            tail(&lt_log)
        ));
    }
    Ok(())
}

/// A multi-file torrent's files under `name` in the served directory, each linked to
/// its payload (no copy of 64 MiB): the torrent's file list and piece hashes.
#[allow(clippy::type_complexity)]
fn serve_tree(
    env: &Env,
    name: &str,
    files: &[(Vec<String>, &Payload)],
) -> Result<(Vec<(Vec<String>, u64)>, Vec<[u8; 20]>), String> {
    let root = env.www.join(name);
    let mut entries = Vec::new();
    let mut hasher = PieceHasher::default();
    for (path, payload) in files {
        let at = path.iter().fold(root.clone(), |p, c| p.join(c));
        if let Some(parent) = at.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let source = env.www.join(&payload.name);
        if !at.exists() {
            std::fs::hard_link(&source, &at)
                .or_else(|_| std::fs::copy(&source, &at).map(|_| ()))
                .map_err(|e| format!("{}: {e}", at.display()))?;
        }
        hasher.feed_file(&at)?;
        entries.push((path.clone(), payload.len));
    }
    Ok((entries, hasher.finish()))
}

/// swarmget downloads a single-file torrent with no tracker whose one source is its
/// `url-list`: nginx's directory URL (BEP 19: the file's name is appended).
pub fn only_single_file(env: &Env, dir: &Path) -> Result<(), String> {
    single_file_from(env, dir, &env.server.url(false, ""), &[])
}

/// The same from pyftpdlib as an `ftp://` web seed, logged in with `--ftp-user` and
/// `--ftp-passwd`.
pub fn only_single_file_ftp(env: &Env, dir: &Path) -> Result<(), String> {
    let user = format!("--ftp-user={}", crate::pyftpd::USER);
    let password = format!("--ftp-passwd={}", env.pyftpd.password());
    single_file_from(env, dir, &env.pyftpd.url(""), &[&user, &password])
}

/// swarmget downloads a three-file torrent with no tracker whose one source is its
/// `url-list` (nginx's root): none of the files is a whole number of pieces, so pieces
/// run from one file into the next and one request per file fills them.
pub fn only_multi_file(env: &Env, dir: &Path) -> Result<(), String> {
    multi_file_from(env, dir, &env.server.url(false, ""))
}

/// The same from vsftpd as an `ftp://` web seed: one `REST`+`RETR` per file.
pub fn only_multi_file_ftp(env: &Env, dir: &Path) -> Result<(), String> {
    multi_file_from(env, dir, &env.vsftpd.url(""))
}

/// A single-file torrent of the Metalink cases' file whose only source is `seed`, a
/// directory URL, fetched by swarmget with `extra` options.
fn single_file_from(env: &Env, dir: &Path, seed: &str, extra: &[&str]) -> Result<(), String> {
    let mut hasher = PieceHasher::default();
    hasher.feed_file(&env.www.join(&env.meta.name))?;
    let torrent = TorrentBuilder::single(&env.meta.name, env.meta.len, PIECE_LEN, hasher.finish())
        .web_seeds(vec![seed.to_string()])
        .build()
        .map_err(|e| format!("cannot build the torrent: {e}"))?;
    only_web_seeds(env, dir, &torrent, extra)?;
    env.meta.verify(&dir.join("out").join(&env.meta.name))
}

/// A three-file torrent (pieces across files) whose only source is base URL `seed`.
fn multi_file_from(env: &Env, dir: &Path, seed: &str) -> Result<(), String> {
    const SET: &str = "ws-only";
    let files = [
        (vec!["a".to_string(), "small.bin".to_string()], &env.small),
        (vec!["meta.bin".to_string()], &env.meta),
        (vec!["z".to_string(), "again.bin".to_string()], &env.small),
    ];
    let (entries, hashes) = serve_tree(env, SET, &files)?;
    let torrent = TorrentBuilder::multi(SET, entries, PIECE_LEN, hashes)
        .web_seeds(vec![seed.to_string()])
        .build()
        .map_err(|e| format!("cannot build the torrent: {e}"))?;
    only_web_seeds(env, dir, &torrent, &[])?;
    for (path, payload) in &files {
        let copy = path
            .iter()
            .fold(dir.join("out").join(SET), |p, c| p.join(c));
        payload.verify(&copy)?;
    }
    Ok(())
}

/// swarmget on `torrent` (written to `DIR/only.torrent`) with its DHT off and `extra`
/// options: with no tracker and no peer, the web seeds are all it has; it must finish
/// with 0. A torrent without a usable source waits for peers: `--bt-stop-timeout`
/// ends it with an error long before the case's limit.
fn only_web_seeds(env: &Env, dir: &Path, torrent: &[u8], extra: &[&str]) -> Result<(), String> {
    let path = dir.join("only.torrent");
    std::fs::write(&path, torrent).map_err(|e| e.to_string())?;
    let path = path.to_string_lossy();
    let mut args = vec![
        "--listen-port=0",
        "--seed-time=0",
        "--enable-dht=false",
        "--bt-stop-timeout=30",
        "-x4",
    ];
    args.extend_from_slice(extra);
    args.push(&path);
    env.run(dir, &args)?.expect(0)
}

/// Body bytes nginx sent in 206 answers to range requests for the torrent's files
/// (`status bytes "agent" "GET /ws-set/… HTTP/1.1" "range"` per line). The second
/// file's request names it percent-encoded, as BEP 19 asks.
fn web_seed_bytes(log: &str) -> u64 {
    let small = format!("GET /{NAME}/small.bin ");
    let big = format!("GET /{NAME}/sub/big%20file.bin ");
    log.lines()
        .filter(|l| l.starts_with("206 ") && (l.contains(&small) || l.contains(&big)))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

/// SHA-1 of each piece of files laid end to end.
#[derive(Default)]
struct PieceHasher {
    piece: Vec<u8>,
    hashes: Vec<[u8; 20]>,
}

impl PieceHasher {
    fn feed_file(&mut self, path: &Path) -> Result<(), String> {
        use std::io::Read;
        let mut file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file
                .read(&mut buf)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            if n == 0 {
                return Ok(());
            }
            let mut rest = &buf[..n];
            while !rest.is_empty() {
                let take = (PIECE_LEN as usize - self.piece.len()).min(rest.len());
                self.piece.extend_from_slice(&rest[..take]);
                rest = &rest[take..];
                if self.piece.len() == PIECE_LEN as usize {
                    self.hashes.push(Sha1::digest(&self.piece).into());
                    self.piece.clear();
                }
            }
        }
    }

    fn finish(mut self) -> Vec<[u8; 20]> {
        if !self.piece.is_empty() {
            self.hashes.push(Sha1::digest(&self.piece).into());
        }
        self.hashes
    }
}
