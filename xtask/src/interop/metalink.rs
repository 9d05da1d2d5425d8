//! Metalink cases of `cargo xtask interop`: documents written by [`crate::meta4`] whose
//! files are served by nginx (HTTP) and vsftpd (FTP), downloaded by swarmget with `-M`
//! and, for comparison, by aria2c from the same document: the two output trees must hold
//! the same files with the same bytes. Plus the refusal of a document that names a file
//! outside `-d`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{EXIT_CHECKSUM, Env, Origin, RUN_LIMIT};
use crate::child::wait_or_kill;
use crate::meta4::{self, MetaFile};
use crate::payload::Payload;

/// aria2's exit code for a Metalink document it will not use.
const EXIT_METALINK: i32 = 20;
/// Chunk checksums of 256 KiB: a few MiB make a few dozen pieces, the last one short.
const PIECE_LEN: u64 = 256 << 10;
/// A rate that makes the few MiB take about a second, so the second mirror's
/// connections (an FTP login takes several round trips) start long before the first
/// mirror could have sent everything.
const RATE_LIMIT: &str = "--max-download-limit=4M";
/// Connection options for both clients. Every mirror here is on 127.0.0.1, so aria2's
/// default `--metalink-enable-unique-protocol=true` would keep one scheme per host:
/// swarmget drops the FTP URL before it starts, aria2c once its first connection to
/// the host succeeds. Off, both use every mirror.
const SPLIT: &[&str] = &[
    "-x2",
    "-s4",
    "-k1M",
    "--metalink-enable-unique-protocol=false",
];

/// One file with an nginx and a vsftpd mirror and SHA-1 chunk checksums: swarmget's
/// copy must be exact, both servers must have sent part of it, and aria2c's copy from
/// the same document must be the same.
pub fn two_mirrors(env: &Env, dir: &Path) -> Result<(), String> {
    const AGENT: &str = "swarmget-interop/metalink";
    let payload = &env.meta;
    let origins: [(&str, &dyn Origin); 2] = [("nginx", &env.server), ("vsftpd", &env.vsftpd)];
    let marks = origins
        .iter()
        .map(|(_, o)| o.log_mark())
        .collect::<Result<Vec<_>, _>>()?;
    let doc = dir.join("two-mirrors.meta4");
    let urls = origins.iter().map(|(_, o)| o.url(&payload.name)).collect();
    meta4::write(&doc, &[env.meta_file(&payload.name, payload, urls)?])?;

    let doc_arg = doc.to_string_lossy().into_owned();
    let mut args = SPLIT.to_vec();
    args.extend([RATE_LIMIT, "-U", AGENT, "-M", &doc_arg]);
    env.run(dir, &args)?.expect(0)?;
    payload.verify(&dir.join("out").join(&payload.name))?;
    let mut sent = Vec::new();
    for ((server, origin), mark) in origins.iter().zip(marks) {
        let bytes = origin.covered_since(mark, &payload.name, AGENT)?;
        sent.push((*server, bytes));
    }
    if let Some((server, _)) = sent.iter().find(|(_, bytes)| *bytes == 0) {
        return Err(format!(
            "{server} sent nothing ({sent:?}): the mirrors did not share the file"
        ));
    }
    same_as_aria2c(dir, &doc)
}

/// Two files, one under `sub/dir/`: each lands at its path under `-d` with its bytes,
/// and aria2c makes the same tree.
pub fn multi_file(env: &Env, dir: &Path) -> Result<(), String> {
    let files = [("top.bin", &env.small), ("sub/dir/inner.bin", &env.meta)];
    let doc = dir.join("multi.meta4");
    let mut entries = Vec::new();
    for (name, payload) in files {
        let urls = vec![
            env.server.url(false, &payload.name),
            env.vsftpd.url(&payload.name),
        ];
        entries.push(env.meta_file(name, payload, urls)?);
    }
    meta4::write(&doc, &entries)?;
    let doc_arg = doc.to_string_lossy().into_owned();
    let mut args = SPLIT.to_vec();
    args.extend(["-M", &doc_arg]);
    env.run(dir, &args)?.expect(0)?;
    for (name, payload) in files {
        payload.verify(&dir.join("out").join(name))?;
    }
    same_as_aria2c(dir, &doc)
}

/// A document whose SHA-1 for one chunk is wrong: every mirror sends the bytes the
/// chunk really has, so it can never verify, although the whole-file SHA-256 is right.
/// swarmget must fetch the chunk again, give up with exit 32 (checksum) once every
/// mirror has sent it wrong, and keep the control file so that a later `-c` does not
/// take the file as complete. (aria2c on the same document retries the chunk until
/// `--max-tries`, then exits 1 and keeps its control file.)
pub fn wrong_chunk_hash(env: &Env, dir: &Path) -> Result<(), String> {
    let payload = &env.meta;
    let doc = dir.join("wrong-chunk.meta4");
    let urls = vec![
        env.server.url(false, &payload.name),
        env.vsftpd.url(&payload.name),
    ];
    let mut file = env.meta_file(&payload.name, payload, urls)?;
    // Chunk 3 gets the hash of other bytes.
    file.pieces[3] = "5a".repeat(20);
    meta4::write(&doc, &[file])?;
    let doc_arg = doc.to_string_lossy().into_owned();
    let mut args = SPLIT.to_vec();
    args.extend(["-M", &doc_arg]);
    let outcome = env.run(dir, &args)?;
    if outcome.code == Some(0) {
        return Err(format!(
            "exit 0: a chunk whose SHA-1 cannot match was accepted\n{}",
            outcome.tail()
        ));
    }
    outcome.expect(EXIT_CHECKSUM)?;
    let out = dir.join("out").join(&payload.name);
    let control = dir.join("out").join(format!("{}.swarmget", payload.name));
    if out.exists() && !control.exists() {
        return Err(format!(
            "{} is left without its control file, as if complete\n{}",
            out.display(),
            outcome.tail()
        ));
    }
    Ok(())
}

/// A document naming `../escape.bin` next to a harmless file is refused as a whole:
/// exit 20, nothing written in `-d` or next to it.
pub fn escape_refused(env: &Env, dir: &Path) -> Result<(), String> {
    let doc = dir.join("escape.meta4");
    let url = |name: &str| vec![env.server.url(false, name)];
    let entries = [
        env.meta_file("harmless.bin", &env.small, url(&env.small.name))?,
        env.meta_file("../escape.bin", &env.small, url(&env.small.name))?,
    ];
    meta4::write(&doc, &entries)?;
    let doc_arg = doc.to_string_lossy().into_owned();
    env.run(dir, &["-M", &doc_arg])?.expect(EXIT_METALINK)?;
    let escaped = dir.join("escape.bin");
    if escaped.exists() {
        return Err(format!("{} was written outside -d", escaped.display()));
    }
    let out = dir.join("out");
    let written = files_under(&out)?;
    if !written.is_empty() {
        return Err(format!(
            "a refused document still wrote {written:?} under {}",
            out.display()
        ));
    }
    Ok(())
}

impl Env {
    /// `payload` under the name `name`, with chunk checksums read from the served file.
    fn meta_file(
        &self,
        name: &str,
        payload: &Payload,
        urls: Vec<String>,
    ) -> Result<MetaFile, String> {
        let source = self.www.join(&payload.name);
        MetaFile::of(name, &source, payload, PIECE_LEN, urls)
    }
}

/// Downloads `doc` with aria2c into `dir/aria2c` and compares that tree with swarmget's
/// `dir/out`: the same relative paths, the same bytes.
fn same_as_aria2c(dir: &Path, doc: &Path) -> Result<(), String> {
    let out = dir.join("aria2c");
    let log = dir.join("aria2c.log");
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let log_err = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut child = Command::new("aria2c")
        .args(["--no-conf", "-q"])
        .args(SPLIT)
        .arg("-d")
        .arg(&out)
        .arg("-M")
        .arg(doc)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .spawn()
        .map_err(|e| format!("cannot start aria2c: {e}"))?;
    let status = wait_or_kill(&mut child, RUN_LIMIT).map_err(|e| e.to_string())?;
    let output = || std::fs::read_to_string(&log).unwrap_or_default();
    match status {
        Some(s) if s.success() => {}
        Some(s) => return Err(format!("aria2c: {s}\n{}", output().trim_end())),
        None => {
            return Err(format!(
                "aria2c still running after {} s",
                RUN_LIMIT.as_secs()
            ));
        }
    }
    let ours = files_under(&dir.join("out"))?;
    let theirs = files_under(&out)?;
    if ours != theirs {
        return Err(format!(
            "swarmget wrote {ours:?}, aria2c {theirs:?} from the same document"
        ));
    }
    for name in &ours {
        let read = |p: PathBuf| std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()));
        if read(dir.join("out").join(name))? != read(out.join(name))? {
            return Err(format!("{name}: swarmget's bytes differ from aria2c's"));
        }
    }
    Ok(())
}

/// The files under `root` (none when it does not exist), as sorted `/`-separated paths.
fn files_under(root: &Path) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        };
        for entry in entries {
            let path = entry.map_err(|e| e.to_string())?.path();
            if path.is_dir() {
                pending.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                found.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    found.sort();
    Ok(found)
}
