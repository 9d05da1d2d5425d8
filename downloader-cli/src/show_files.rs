//! `--show-files` (`-S`): the files of Metalink documents and torrents, printed as
//! `aria2c -S` prints them, and nothing downloaded.
//!
//! With `-M FILE` the table of that document is printed; otherwise every argument gets
//! a `>>> Printing the contents of file 'ARG'...` line, then its table or aria2's
//! "neither Torrent nor Metalink" line. The files listed are those the
//! `--metalink-version/-language/-os` preferences keep, numbered as `--select-file`
//! takes them. A size the document does not give is printed as `unknown` (aria2 prints
//! `0B (0)`, which reads as an empty file).
//!
//! `-S` never downloads: with `-i` it warns that the input file is not read (aria2
//! downloads the input file and ignores `-S`).
//!
//! Exit status: 0, or the code of the last document that could not be read (1, or 28
//! for `-M`) or parsed (20) — aria2 prints the error and exits 0, hiding it.

use std::io::{Read, Write};

use swarmget_engine::{ErrorCode, Options};

use crate::inputs::{Input, classify};
use crate::readout;
use swarmget_engine::metalink::{Listed, listed_files, load, preferences};

/// Prints the files of `-M`'s document or of each argument; returns the exit status.
pub fn run(
    args: &[String],
    opts: &Options,
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    // Write errors (a closed pipe) leave nothing better to do than to finish.
    if opts.input_file.is_some() {
        let _ = writeln!(err, "swarmget: warning: -i is not read with --show-files");
    }
    if let Some(path) = &opts.torrent_file {
        if !args.is_empty() {
            let _ = writeln!(
                err,
                "swarmget: warning: the arguments are not read with -T --show-files"
            );
        }
        return show_torrent(path, opts, out, err);
    }
    if let Some(source) = &opts.metalink_file {
        if !args.is_empty() {
            let _ = writeln!(
                err,
                "swarmget: warning: the arguments are not read with -M (as in aria2)"
            );
        }
        return show(source, opts, stdin, ErrorCode::BadOption, out, err);
    }
    if args.is_empty() {
        let _ = writeln!(
            err,
            "swarmget: --show-files needs -M FILE, -T FILE, or a .meta4/.metalink/.torrent file argument"
        );
        return ErrorCode::Unknown.exit_code();
    }
    let mut status = 0;
    for arg in args {
        let _ = writeln!(out, ">>> Printing the contents of file '{arg}'...");
        if let Input::Torrent(path) = classify(arg) {
            let code = show_torrent(path, opts, out, err);
            if code != 0 {
                status = code;
            }
            continue;
        }
        if !matches!(classify(arg), Input::Metalink(_)) {
            let _ = writeln!(
                out,
                "This file is neither Torrent nor Metalink file. Skipping.\n"
            );
            continue;
        }
        let code = show(
            arg,
            opts,
            &mut std::io::empty(),
            ErrorCode::Unknown,
            out,
            err,
        );
        if code != 0 {
            status = code;
        }
    }
    status
}

/// Prints one document's table; returns 0 or the exit status of the failure.
fn show(
    source: &str,
    opts: &Options,
    stdin: &mut dyn Read,
    unreadable: ErrorCode,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut warnings = Vec::new();
    let loaded = load(source, opts, stdin, unreadable, &mut |w| warnings.push(w));
    for w in warnings {
        let _ = writeln!(err, "swarmget: warning: {w}");
    }
    match loaded {
        Ok(parsed) => {
            let prefs = preferences(opts);
            let files = listed_files(&parsed.metalink, &prefs);
            let _ = out.write_all(table(&files).as_bytes());
            0
        }
        Err(e) => {
            let _ = writeln!(err, "swarmget: {e}");
            e.code.exit_code()
        }
    }
}

/// aria2's file table, followed by a blank line.
pub fn table(files: &[Listed]) -> String {
    let rows: Vec<_> = files
        .iter()
        .map(|l| (l.index, l.file.name.to_string(), l.file.size))
        .collect();
    rows_table(&rows)
}

/// The table of `(index, path, size)` rows.
fn rows_table(rows: &[(usize, String, Option<u64>)]) -> String {
    let rule = |c: char| format!("{c}{c}{c}+{}\n", c.to_string().repeat(75));
    let mut s = String::from("Files:\nidx|path/length\n");
    s += &rule('=');
    for (index, name, size) in rows {
        let size = match size {
            Some(n) => format!("{} ({})", readout::size(*n), thousands(*n)),
            None => "unknown".to_owned(),
        };
        s += &format!("{index:>3}|{name}\n   |{size}\n");
        s += &rule('-');
    }
    s.push('\n');
    s
}

/// A torrent's information and files, as `aria2c -S` prints them (without its
/// `Creation Date` and `Magnet URI` lines); returns 0 or the exit status of the failure.
fn show_torrent(path: &str, opts: &Options, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let spec = match crate::inputs::torrent(path, opts) {
        Ok(spec) => spec,
        Err(e) => {
            let _ = writeln!(err, "swarmget: {e}");
            return e.code.exit_code();
        }
    };
    let Some(torrent) = spec.torrent else {
        return ErrorCode::Unknown.exit_code();
    };
    let _ = out.write_all(torrent_info(&torrent).as_bytes());
    0
}

/// The text of [`show_torrent`].
fn torrent_info(torrent: &swarmget_engine::Torrent) -> String {
    let meta = torrent.metainfo();
    let info = &meta.info;
    let mut s = String::from("*** BitTorrent File Information ***\n");
    if let Some(c) = &meta.comment {
        s += &format!("Comment: {c}\n");
    }
    s += &format!(
        "Mode: {}\nAnnounce:\n",
        if info.multi_file { "multi" } else { "single" }
    );
    for url in meta.tracker_tiers().iter().flatten() {
        s += &format!(" {url}\n");
    }
    let hash: String = torrent
        .info_hash()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    s += &format!("Info Hash: {hash}\n");
    s += &format!("Piece Length: {}\n", readout::size(info.piece_length));
    s += &format!("The Number of Pieces: {}\n", info.piece_count());
    s += &format!(
        "Total Length: {} ({})\n",
        readout::size(info.total_length),
        thousands(info.total_length)
    );
    s += &format!("Name: {}\n", info.name);
    let rows: Vec<_> = info
        .files
        .iter()
        .filter(|f| !f.padding)
        .enumerate()
        .map(|(i, f)| (i + 1, format!("./{}", f.path.join("/")), Some(f.length)))
        .collect();
    s + &rows_table(&rows)
}

/// `13631488` → `13,631,488`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut s = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torrent_information_as_aria2_prints_it() {
        let t = swarmget_bt_wire::metainfo::TorrentBuilder::multi(
            "set",
            vec![
                (vec!["a".into()], 3),
                (vec!["d".into(), "b".into()], 40_000),
            ],
            32 << 10,
            vec![[0; 20], [1; 20]],
        )
        .trackers(vec![vec!["http://t/announce".into()]])
        .build()
        .unwrap();
        let text = torrent_info(&swarmget_engine::Torrent::parse(&t).unwrap());
        assert!(text.starts_with("*** BitTorrent File Information ***\nMode: multi\nAnnounce:\n http://t/announce\nInfo Hash: "), "{text}");
        assert!(text.contains("\nPiece Length: 32KiB\nThe Number of Pieces: 2\nTotal Length: 39KiB (40,003)\nName: set\nFiles:\n"), "{text}");
        assert!(text.contains("  1|./set/a\n   |3B (3)\n"), "{text}");
        assert!(
            text.contains("  2|./set/d/b\n   |39KiB (40,000)\n"),
            "{text}"
        );
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(13_631_488), "13,631,488");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
