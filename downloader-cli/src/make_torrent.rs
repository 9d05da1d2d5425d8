//! `swarmget make-torrent …`: a v1 `.torrent` of a file or a directory, with mktorrent's
//! options (trackers in tiers, web seeds, piece length, private flag, comment, name).
//!
//! One thread per core takes the next piece (a piece may span files: the byte space is
//! the files laid end to end in path order), reads it at its offset and hashes it with
//! SHA-1 while its bytes are in that core's cache: no thread only reads, no piece
//! crosses cores, and memory stays at one piece per thread whatever the size. (A
//! reader thread feeding hashers spent as long copying 1 GiB out of the page cache as
//! the hashers spent on SHA-1, and was twice as slow as mktorrent; reads into a buffer
//! that is not page-aligned cost the kernel four times the system time.)
//!
//! Exit status: 0 when the torrent is written; 1 when a file cannot be read or the
//! output cannot be written; 28 for bad arguments.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use swarmget_bt_wire::metainfo::TorrentBuilder;
use swarmget_engine::digest::{HashKind, Hasher};
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
    let sized: Vec<(PathBuf, u64)> = files.iter().map(|f| (f.0.clone(), f.2)).collect();
    let hashes = hash_pieces(&sized, total, piece_len)?;
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

/// A piece's index and SHA-1.
type Hashed = (usize, [u8; 20]);

/// The SHA-1 of every `piece_len` bytes of `files` (path, length) laid end to end
/// (`total` bytes), on one thread per core. Each thread takes the next two pieces and
/// reads them slice by slice at their offsets, hashing both slices together (SHA-1 runs
/// about 15% faster on two streams at once) while the bytes are still in its core's
/// cache.
fn hash_pieces(
    files: &[(PathBuf, u64)],
    total: u64,
    piece_len: u64,
) -> Result<Vec<[u8; 20]>, String> {
    let count = total.div_ceil(piece_len) as usize;
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(count.max(1));
    // Where each file starts in the byte space.
    let starts: Vec<u64> = files
        .iter()
        .scan(0u64, |at, (_, len)| {
            let start = *at;
            *at += len;
            Some(start)
        })
        .collect();
    let next = AtomicUsize::new(0);
    let mut hashes = vec![[0u8; 20]; count];
    let found: Vec<Result<Vec<Hashed>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut reader = PieceReader::new(files, &starts);
                    // Page-aligned (the kernel copies into an aligned buffer faster),
                    // and so is the second half: a slice is a power of two of at
                    // least 16 KiB, as piece lengths are.
                    let slice = piece_len.min(SLICE) as usize;
                    let mut whole = vec![0u8; 2 * slice + PAGE];
                    let at = whole.as_ptr().align_offset(PAGE).min(PAGE);
                    let (first, second) = whole[at..at + 2 * slice].split_at_mut(slice);
                    let mut done = Vec::new();
                    loop {
                        let index = next.fetch_add(2, Ordering::Relaxed);
                        if index >= count {
                            return Ok(done);
                        }
                        let length = |i: usize| piece_len.min(total - i as u64 * piece_len);
                        let len_a = length(index);
                        let len_b = (index + 1 < count).then(|| length(index + 1));
                        let (mut x, mut y) =
                            (Hasher::new(HashKind::Sha1), Hasher::new(HashKind::Sha1));
                        let mut pos = 0;
                        while pos < len_a.max(len_b.unwrap_or(0)) {
                            let mut read = |i: usize, len: u64, buf: &mut [u8]| {
                                let n = len.saturating_sub(pos).min(slice as u64) as usize;
                                let at = i as u64 * piece_len + pos;
                                reader.read(at, &mut buf[..n]).map(|()| n)
                            };
                            let a = read(index, len_a, first);
                            let b = read(index + 1, len_b.unwrap_or(0), second);
                            let (a, b) = match (a, b) {
                                (Ok(a), Ok(b)) => (a, b),
                                (Err(e), _) | (_, Err(e)) => {
                                    // The others stop at their next pieces.
                                    next.store(count, Ordering::Relaxed);
                                    return Err(e);
                                }
                            };
                            Hasher::update_pair(&mut x, &first[..a], &mut y, &second[..b]);
                            pos += slice as u64;
                        }
                        done.push((index, sha1_bytes(x)));
                        if len_b.is_some() {
                            done.push((index + 1, sha1_bytes(y)));
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a hashing thread panicked".into()))
            })
            .collect()
    });
    for part in found {
        for (index, digest) in part? {
            hashes[index] = digest;
        }
    }
    Ok(hashes)
}

/// Bytes of each of a thread's two pieces read and hashed at a time: both slices stay
/// in the core's cache between the read and the hash.
const SLICE: u64 = 512 << 10;

/// A finished SHA-1 hasher's 20 bytes.
fn sha1_bytes(h: Hasher) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(&h.finish().bytes);
    out
}

/// Memory page size on every platform swarmget builds for (an alignment, not a limit).
const PAGE: usize = 4096;

/// Positional reads of the byte space of files laid end to end, keeping the file last
/// read from open (a thread's pieces come in increasing order).
struct PieceReader<'a> {
    files: &'a [(PathBuf, u64)],
    starts: &'a [u64],
    open: Option<(usize, File)>,
}

impl<'a> PieceReader<'a> {
    fn new(files: &'a [(PathBuf, u64)], starts: &'a [u64]) -> Self {
        Self {
            files,
            starts,
            open: None,
        }
    }

    /// Fills `buf` with the bytes at `offset`, across file boundaries.
    fn read(&mut self, mut offset: u64, mut buf: &mut [u8]) -> Result<(), String> {
        use std::os::unix::fs::FileExt;
        // The file holding `offset`: the last one starting at or before it (empty
        // files share their start with the next one and are skipped).
        let mut i = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        while !buf.is_empty() {
            while i < self.files.len() && self.starts[i] + self.files[i].1 <= offset {
                i += 1;
            }
            let (path, len) = self.files.get(i).ok_or("a file shrank while it was read")?;
            if self.open.as_ref().is_none_or(|(at, _)| *at != i) {
                let f = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
                self.open = Some((i, f));
            }
            let Some((_, file)) = self.open.as_ref() else {
                unreachable!("opened above");
            };
            let within = offset - self.starts[i];
            let take = buf.len().min((len - within) as usize);
            match file.read_at(&mut buf[..take], within) {
                Ok(0) => {
                    return Err(format!(
                        "{}: the file shrank while it was read",
                        path.display()
                    ));
                }
                Ok(n) => {
                    offset += n as u64;
                    buf = &mut buf[n..];
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("{}: {e}", path.display())),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pieces_hashed_in_pairs_of_slices_match_each_piece_alone() {
        use sha1::Digest as _;
        // 1 MiB pieces (two slices each) over two files, five pieces: the last one
        // short and alone, one piece across the files.
        let dir = std::env::temp_dir().join(format!("swarmget-pairs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let all: Vec<u8> = (0..4 * MIB + 12_345)
            .map(|i| (i * 31 % 253) as u8)
            .collect();
        let cut = 2 * MIB + 777;
        let files = [(dir.join("a"), &all[..cut]), (dir.join("b"), &all[cut..])];
        for (path, bytes) in &files {
            std::fs::write(path, bytes).unwrap();
        }
        let list: Vec<(PathBuf, u64)> = files
            .iter()
            .map(|(p, b)| (p.clone(), b.len() as u64))
            .collect();
        let got = hash_pieces(&list, all.len() as u64, MIB as u64).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let want: Vec<[u8; 20]> = all
            .chunks(MIB)
            .map(|p| sha1::Sha1::digest(p).into())
            .collect();
        assert_eq!(got.len(), 5);
        assert_eq!(got, want);
    }

    const MIB: usize = 1 << 20;

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
