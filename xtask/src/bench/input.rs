//! `cargo xtask bench input [--runs N] [--files N] [-j N] [--only TEXT]...`
//!
//! A very long input file: `-i` with 1,000,000 URLs (by default) on one loopback nginx,
//! every one of them missing, so the server answers each with a quick 404 and the run
//! measures what a client spends per list line — reading it, queueing the download,
//! keeping its result — and above all the memory a long list holds (aria2 reads the
//! whole list first, its issue #902). Both clients must exit with 3 (resource not
//! found) and leave the output directory empty.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use super::compare::{Case, Client, Options, Setup, Source, Workload, compare};

pub fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse("input", args)?;
    let setup = Setup::prepare(options)?;
    let (lines, jobs) = (setup.options.files, setup.options.jobs);
    let www = setup.scratch.subdir("www")?;
    let (nginx, server) = setup.small_files_nginx(&www, "HTTP, 404 for every line")?;

    let list = setup.scratch.path().join("missing.txt");
    eprintln!("bench: writing {lines} URLs to {}", list.display());
    let file = std::fs::File::create(&list).map_err(|e| format!("{}: {e}", list.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let mut line = String::new();
    for i in 0..lines {
        line.clear();
        let _ = writeln!(line, "{}", nginx.url(false, &format!("missing/{i:07}.bin")));
        out.write_all(line.as_bytes())
            .map_err(|e| format!("{}: {e}", list.display()))?;
    }
    out.flush()
        .map_err(|e| format!("{}: {e}", list.display()))?;

    let split = [format!("-j{jobs}")];
    let split: Vec<&str> = split.iter().map(String::as_str).collect();
    let source = Source::InputFile(list);
    let cases = [Client::Swarmget, Client::Aria2c]
        .map(|client| Case::new(client, "http", &split, source.clone()).allocation("none"))
        .into();
    let workload = Workload {
        what: format!("an `-i` list of {lines} URLs that all answer 404,"),
        bytes: 0,
        check: Box::new(empty),
        exit_code: 3,
        limit: Duration::from_secs(3600),
        notes: vec![format!(
            "Both clients get `-j{jobs}` and otherwise their defaults (aria2c reads the \
             whole list at start, swarmget reads it once to check it and again as \
             downloads start; both keep the last 1,000 results)."
        )],
    };
    compare(&setup, &server, &workload, cases)
}

/// A 404 leaves nothing behind: no file, no control file.
fn empty(out: &std::path::Path) -> Result<(), String> {
    let entries = std::fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))?;
    match entries.count() {
        0 => Ok(()),
        n => Err(format!(
            "{}: {n} entries after a list of 404s",
            out.display()
        )),
    }
}
