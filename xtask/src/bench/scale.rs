//! `cargo xtask bench scale [--runs N] [--files N] [-j N] [--only TEXT]...`
//!
//! Many small downloads at once: an `-i` input file of 10,000 URLs (by default) of files
//! of 3.5-4.5 KiB on one loopback nginx, fetched with `-j 50` (aria2c's
//! `--max-concurrent-downloads`) by swarmget and by aria2c. What this measures is the
//! cost per download — queue, connection reuse, file creation, bookkeeping — and the
//! memory that many downloads hold, not throughput. Each run's output directory must hold
//! exactly the files served, byte for byte. The machinery is [`super::compare`]'s.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::compare::{Case, Client, Options, Setup, Source, Workload, compare};

/// The sizes vary around 4 KiB so no two neighbours are alike and a truncated file shows.
const BASE_LEN: usize = 3584;
const LEN_SPREAD: usize = 1025;

pub fn run(args: &[String]) -> Result<(), String> {
    let options = Options::parse("scale", args)?;
    let setup = Setup::prepare(options)?;
    let (files, jobs) = (setup.options.files, setup.options.jobs);
    let www = setup.scratch.subdir("www")?;
    eprintln!("bench: writing {files} small files to {}", www.display());
    let names = write_files(&www, files)?;
    let bytes = names.iter().map(|(_, len)| *len as u64).sum();
    let (nginx, server) = setup.small_files_nginx(&www, "HTTP")?;

    let list = setup.scratch.path().join("urls.txt");
    let mut text = String::new();
    for (name, _) in &names {
        let _ = writeln!(text, "{}", nginx.url(false, name));
    }
    std::fs::write(&list, text).map_err(|e| format!("{}: {e}", list.display()))?;

    let split = [format!("-j{jobs}")];
    let split: Vec<&str> = split.iter().map(String::as_str).collect();
    let source = Source::InputFile(list);
    // No preallocation for either: a 4 KiB file has nothing worth reserving, and
    // `prealloc` would add one fallocate per file to both clients' bill.
    let cases = [Client::Swarmget, Client::Aria2c]
        .map(|client| Case::new(client, "http", &split, source.clone()).allocation("none"))
        .into();
    let src = www.clone();
    let workload = Workload {
        what: format!(
            "{files} files of {:.1}-{:.1} KiB ({:.1} MiB in all), listed in an `-i` file,",
            BASE_LEN as f64 / 1024.0,
            (BASE_LEN + LEN_SPREAD - 1) as f64 / 1024.0,
            bytes as f64 / 1048576.0
        ),
        bytes,
        check: Box::new(move |out| same_files(&src, &names, out)),
        exit_code: 0,
        limit: super::compare::RUN_LIMIT,
        notes: vec![format!(
            "Both clients get `--file-allocation=none` (nothing to reserve in a 4 KiB file) \
             and `-j{jobs}` ({jobs} downloads at once, aria2c's \
             `--max-concurrent-downloads`); everything else is each one's default, e.g. one \
             connection per download and keep-alive connections reused between downloads."
        )],
    };
    compare(&setup, &server, &workload, cases)
}

/// Writes `count` files of pseudo-random bytes into `dir`: `f00000.bin` and on, each
/// [`BASE_LEN`] plus up to `LEN_SPREAD - 1` bytes. Returns their names and lengths.
fn write_files(dir: &Path, count: usize) -> Result<Vec<(String, usize)>, String> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut names = Vec::with_capacity(count);
    for i in 0..count {
        let name = format!("f{i:05}.bin");
        let len = BASE_LEN + (i * 617) % LEN_SPREAD;
        let bytes: Vec<u8> = (0..len.div_ceil(8))
            .flat_map(|_| {
                // xorshift64: cheap, and nothing downstream compresses or dedups it.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()
            })
            .take(len)
            .collect();
        let path = dir.join(&name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        names.push((name, len));
    }
    Ok(names)
}

/// Checks that `out` holds exactly the files `names` of `src`, with the same bytes, and
/// nothing else (no control file, no renamed duplicate).
fn same_files(src: &Path, names: &[(String, usize)], out: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let found = entries.count();
    if found != names.len() {
        return Err(format!(
            "{}: {found} entries, expected the {} files served",
            out.display(),
            names.len()
        ));
    }
    for (name, _) in names {
        let read = |p: PathBuf| std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()));
        if read(out.join(name))? != read(src.join(name))? {
            return Err(format!("{}: differs from the file served", name));
        }
    }
    Ok(())
}
