//! The web seed case of `cargo xtask interop`: a multi-file torrent whose `url-list`
//! (BEP 19) names nginx, beside a libtorrent seeder the tracker names. swarmget must
//! fetch from both (nginx's access log shows ranges of the torrent's files, libtorrent
//! says it uploaded), and each file must come out exact.

use std::path::Path;

use sha1::{Digest, Sha1};
use swarmget_bt_wire::metainfo::TorrentBuilder;

use super::Env;
use crate::child::stop;
use crate::loopback::{free_ports, wait_ready};
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
    // The files under NAME, linked to the served payloads (no copy of 64 MiB).
    let root = env.www.join(NAME);
    let mut entries = Vec::new();
    let mut hasher = PieceHasher::default();
    for (path, payload) in &files {
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
    let port = free_ports(1)?[0];
    let tracker = Tracker::start(port)?;
    let torrent = TorrentBuilder::multi(NAME, entries, PIECE_LEN, hasher.finish())
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
