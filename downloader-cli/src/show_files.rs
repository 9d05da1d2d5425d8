//! `--show-files` (`-S`): the files of Metalink documents, printed as `aria2c -S` prints
//! them, and nothing downloaded.
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
            "swarmget: --show-files needs -M FILE or a .meta4/.metalink file argument"
        );
        return ErrorCode::Unknown.exit_code();
    }
    let mut status = 0;
    for arg in args {
        let _ = writeln!(out, ">>> Printing the contents of file '{arg}'...");
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
    let rule = |c: char| format!("{c}{c}{c}+{}\n", c.to_string().repeat(75));
    let mut s = String::from("Files:\nidx|path/length\n");
    s += &rule('=');
    for listed in files {
        let size = match listed.file.size {
            Some(n) => format!("{} ({})", readout::size(n), thousands(n)),
            None => "unknown".to_owned(),
        };
        s += &format!("{:>3}|{}\n   |{size}\n", listed.index, listed.file.name);
        s += &rule('-');
    }
    s.push('\n');
    s
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
    fn thousands_are_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(13_631_488), "13,631,488");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
