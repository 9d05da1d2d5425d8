//! `swarmget make-torrent …`: a v1 `.torrent` of a file or a directory, with mktorrent's
//! options (trackers in tiers, web seeds, piece length, private flag, comment, name).
//!
//! One thread reads the files front to back, piece by piece (a piece may span files:
//! the byte space is the files laid end to end in path order); the pieces are hashed
//! with SHA-1 on one thread per core, so both cores work while the disk streams. The
//! buffers go round between the reader and the hashers, so memory stays at a few
//! pieces per thread whatever the size.
//!
//! Exit status: 0 when the torrent is written; 1 when a file cannot be read or the
//! output cannot be written; 28 for bad arguments.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use sha1::{Digest, Sha1};
use swarmget_bt_wire::metainfo::TorrentBuilder;
use swarmget_engine::options::parse_size;

use crate::flags::{Arg, Flags};

const USAGE: &str = "\
Usage: swarmget make-torrent [OPTIONS] PATH

Writes a v1 .torrent of the file or directory PATH (a directory's files in
path order, below its name).

Options:
  -a, --announce URL[,URL…]  a tracker tier (repeatable: one tier per option,
                             URLs of one option tried in turn, as mktorrent)
  -w, --web-seed URL         a web seed (BEP 19 url-list; repeatable)
  -l, --piece-length SIZE    piece length: 16K to 64M, a power of two (a plain
                             number up to 26 is an exponent, as mktorrent's -l);
                             default: about 1500 pieces, 16K to 16M
  -p, --private              private torrent (BEP 27): peers only from trackers
  -c, --comment TEXT         the torrent's comment
  -n, --name NAME            the torrent's name (default: PATH's file name)
  -o, --output FILE          where to write it (default: NAME.torrent)
  -d, --no-date              leave the creation date out
  -h, --help                 print this help

Exit status: 0 when written; 1 when a file cannot be read or the output
cannot be written; 28 for bad arguments.
";

/// Smallest and largest piece length accepted (`-l`).
const MIN_PIECE: u64 = 16 << 10;
const MAX_PIECE: u64 = 64 << 20;
/// The automatic choice: about this many pieces, within 16 KiB and 16 MiB.
const AUTO_PIECES: u64 = 1500;
const AUTO_MAX_PIECE: u64 = 16 << 20;

/// Runs `swarmget make-torrent` with the arguments after the subcommand.
pub fn run(args: &[String]) -> ExitCode {
    let request = match parse_args(args) {
        Ok(Some(r)) => r,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("swarmget make-torrent: {e}\n{USAGE}");
            return ExitCode::from(28);
        }
    };
    match make(&request) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("swarmget make-torrent: {e}");
            ExitCode::from(1)
        }
    }
}

/// What to make.
#[derive(Debug, Default, PartialEq)]
struct Request {
    path: PathBuf,
    tiers: Vec<Vec<String>>,
    web_seeds: Vec<String>,
    piece_length: Option<u64>,
    private: bool,
    comment: Option<String>,
    name: Option<String>,
    output: Option<PathBuf>,
    no_date: bool,
}

/// The request, or `None` for `--help`.
fn parse_args(args: &[String]) -> Result<Option<Request>, String> {
    let mut r = Request::default();
    let mut paths = Vec::new();
    let mut flags = Flags::new(args);
    while let Some(arg) = flags.next() {
        let (name, inline) = match arg {
            Arg::Positional(p) => {
                paths.push(PathBuf::from(p));
                continue;
            }
            Arg::Flag { name, inline } => (name, inline),
        };
        let mut value = |flag: &str| {
            flags
                .value(inline.clone())
                .ok_or(format!("{flag} needs a value"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(None),
            "-a" | "--announce" => {
                let tier: Vec<String> = value(&name)?
                    .split(',')
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .map(String::from)
                    .collect();
                if !tier.is_empty() {
                    r.tiers.push(tier);
                }
            }
            "-w" | "--web-seed" => r.web_seeds.push(value(&name)?),
            "-l" | "--piece-length" => r.piece_length = Some(piece_length(&value(&name)?)?),
            "-p" | "--private" => r.private = true,
            "-c" | "--comment" => r.comment = Some(value(&name)?),
            "-n" | "--name" => r.name = Some(value(&name)?),
            "-o" | "--output" => r.output = Some(PathBuf::from(value(&name)?)),
            "-d" | "--no-date" => r.no_date = true,
            _ => return Err(format!("unknown option {name:?}")),
        }
    }
    match paths.len() {
        1 => r.path = paths.remove(0),
        0 => return Err("no PATH to make a torrent of".into()),
        _ => return Err("one PATH only".into()),
    }
    Ok(Some(r))
}

/// `-l`: a size (`256K`) or, as mktorrent, an exponent (`18` for 256 KiB).
fn piece_length(value: &str) -> Result<u64, String> {
    let n = parse_size(value)?;
    let len = if n <= 26 { 1u64 << n } else { n };
    if !len.is_power_of_two() || !(MIN_PIECE..=MAX_PIECE).contains(&len) {
        return Err(format!(
            "piece length must be a power of two from 16K to 64M, got '{value}'"
        ));
    }
    Ok(len)
}

/// About [`AUTO_PIECES`] pieces: the smallest power of two that many pieces cover
/// `total` with, within 16 KiB and 16 MiB.
fn auto_piece_length(total: u64) -> u64 {
    total
        .div_ceil(AUTO_PIECES)
        .next_power_of_two()
        .clamp(MIN_PIECE, AUTO_MAX_PIECE)
}

/// The files under `root` (itself when it is a file), in path order, with their path
/// components below it and lengths. Symbolic links are followed, as mktorrent does.
fn list_files(root: &Path) -> Result<Vec<(PathBuf, Vec<String>, u64)>, String> {
    let meta = std::fs::metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if meta.is_file() {
        return Ok(vec![(root.to_path_buf(), Vec::new(), meta.len())]);
    }
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), Vec::<String>::new())];
    while let Some((dir, components)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
            let path = entry.path();
            let name = entry.file_name().into_string().map_err(|n| {
                format!(
                    "{}: the name {n:?} is not UTF-8, which a torrent cannot carry",
                    dir.display()
                )
            })?;
            let mut below = components.clone();
            below.push(name);
            let meta = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            if meta.is_dir() {
                stack.push((path, below));
            } else if meta.is_file() {
                out.push((path, below, meta.len()));
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// Makes and writes the torrent; returns a one-line summary.
fn make(r: &Request) -> Result<String, String> {
    let files = list_files(&r.path)?;
    let total: u64 = files.iter().map(|f| f.2).sum();
    let multi = std::fs::metadata(&r.path).is_ok_and(|m| m.is_dir());
    if multi && files.is_empty() {
        return Err(format!("{}: no file to put in a torrent", r.path.display()));
    }
    let name = match &r.name {
        Some(n) => n.clone(),
        None => std::fs::canonicalize(&r.path)
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .ok_or_else(|| format!("{}: no name to give the torrent (use -n)", r.path.display()))?,
    };
    let piece_len = r.piece_length.unwrap_or_else(|| auto_piece_length(total));
    let paths: Vec<PathBuf> = files.iter().map(|f| f.0.clone()).collect();
    let hashes = hash_pieces(&paths, total, piece_len)?;
    let builder = if multi {
        let listed = files.into_iter().map(|(_, c, l)| (c, l)).collect();
        TorrentBuilder::multi(&name, listed, piece_len, hashes)
    } else {
        TorrentBuilder::single(&name, total, piece_len, hashes)
    };
    let mut builder = builder
        .trackers(r.tiers.clone())
        .web_seeds(r.web_seeds.clone())
        .private(r.private)
        .created_by(concat!("swarmget/", env!("CARGO_PKG_VERSION")));
    if let Some(c) = &r.comment {
        builder = builder.comment(c);
    }
    if !r.no_date {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        builder = builder.creation_date(now);
    }
    let bytes = builder
        .build()
        .map_err(|e| format!("cannot make the torrent: {e}"))?;
    let output = r
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{name}.torrent")));
    write_new(&output, &bytes).map_err(|e| format!("{}: {e}", output.display()))?;
    Ok(format!(
        "{}: {name}, {total} bytes in {} pieces of {piece_len}",
        output.display(),
        total.div_ceil(piece_len),
    ))
}

/// Writes `bytes` to `path` through a temporary file renamed over it, so a reader
/// never sees half a torrent.
fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".part");
    let tmp = PathBuf::from(tmp);
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// A piece read and waiting for its hash.
struct Piece {
    index: usize,
    buf: Vec<u8>,
}

/// The SHA-1 of every `piece_len` bytes of `paths` laid end to end (`total` bytes):
/// read on this thread, hashed on one thread per core.
fn hash_pieces(paths: &[PathBuf], total: u64, piece_len: u64) -> Result<Vec<[u8; 20]>, String> {
    let count = total.div_ceil(piece_len) as usize;
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let (work_tx, work_rx) = channel::<Piece>();
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (done_tx, done_rx) = channel::<(Piece, [u8; 20])>();
    let mut hashes = vec![[0u8; 20]; count];
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (rx, tx) = (work_rx.clone(), done_tx.clone());
            s.spawn(move || hash_worker(&rx, &tx));
        }
        drop(done_tx);
        let read = read_pieces(
            paths,
            count,
            piece_len,
            work_tx,
            &done_rx,
            &mut hashes,
            workers,
        );
        // The hashers end once the work channel is closed (dropped by read_pieces);
        // what they still send is collected here.
        for (piece, digest) in done_rx.iter() {
            hashes[piece.index] = digest;
        }
        read
    })?;
    Ok(hashes)
}

fn hash_worker(work: &Mutex<Receiver<Piece>>, done: &Sender<(Piece, [u8; 20])>) {
    loop {
        let next = work.lock().map(|rx| rx.recv());
        let Ok(Ok(piece)) = next else {
            return;
        };
        let digest: [u8; 20] = Sha1::digest(&piece.buf).into();
        if done.send((piece, digest)).is_err() {
            return;
        }
    }
}

/// Reads the pieces in order, handing each to the hashers; buffers come back with the
/// hashes (at most two per hasher and one more are in use).
fn read_pieces(
    paths: &[PathBuf],
    count: usize,
    piece_len: u64,
    work: Sender<Piece>,
    done: &Receiver<(Piece, [u8; 20])>,
    hashes: &mut [[u8; 20]],
    workers: usize,
) -> Result<(), String> {
    let mut out = 0;
    let mut files = paths.iter();
    let mut current: Option<(File, &PathBuf)> = None;
    for index in 0..count {
        let mut buf = if out < 2 * workers + 1 {
            Vec::new()
        } else {
            let (piece, digest) = done.recv().map_err(|_| "a hashing thread stopped")?;
            hashes[piece.index] = digest;
            out -= 1;
            piece.buf
        };
        buf.clear();
        buf.resize(piece_len as usize, 0);
        let mut filled = 0;
        while filled < buf.len() {
            let Some((file, path)) = current.as_mut() else {
                match files.next() {
                    Some(p) => {
                        let f = File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
                        current = Some((f, p));
                        continue;
                    }
                    None => break,
                }
            };
            match file.read(&mut buf[filled..]) {
                Ok(0) => current = None,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        if filled < buf.len() && index + 1 < count {
            return Err("a file shrank while it was read".into());
        }
        buf.truncate(filled);
        work.send(Piece { index, buf })
            .map_err(|_| "a hashing thread stopped")?;
        out += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_read_as_mktorrents() {
        let r = parse_args(&args(&[
            "-a",
            "http://a/announce,udp://b:80",
            "--announce=http://c/",
            "-w",
            "http://seed/f",
            "-l",
            "18",
            "-p",
            "-c",
            "hi",
            "-o",
            "x.torrent",
            "dir",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            r.tiers,
            [vec!["http://a/announce", "udp://b:80"], vec!["http://c/"]]
        );
        assert_eq!(r.piece_length, Some(256 << 10));
        assert!(r.private);
        assert_eq!(r.path, PathBuf::from("dir"));
        assert_eq!(piece_length("1M"), Ok(1 << 20));
        assert!(piece_length("3000").is_err() && piece_length("8K").is_err());
        assert!(parse_args(&args(&["a", "b"])).is_err());
        assert_eq!(parse_args(&args(&["-h"])), Ok(None));
    }

    #[test]
    fn the_automatic_piece_length_keeps_about_1500_pieces() {
        assert_eq!(auto_piece_length(0), 16 << 10);
        assert_eq!(auto_piece_length(1 << 30), 1 << 20);
        assert_eq!(auto_piece_length(1 << 40), 16 << 20);
    }
}
