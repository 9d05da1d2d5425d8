//! `swarmget magnet …`: make magnet links from files, or show what a link holds.
//!
//! `swarmget magnet [--hash LIST] FILE…` prints one link per file, like `rhash --magnet`
//! (same default hashes — Tiger tree, ed2k and AICH — same parameter order, lowercase
//! hashes); `swarmget magnet --parse URI` prints the link's fields as JSON. Errors go to
//! stderr; the exit status is aria2's: 27 for an invalid magnet link, 28 for bad
//! arguments, 1 for a file that cannot be read.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use crate::flags::{Arg, Flags};
use crate::hex::hex;

use serde_json::{Value, json};
use swarmget_magnet_uri::hash::{Algorithms, hash_reader};
use swarmget_magnet_uri::{ExactTopic, Group, Magnet};

const USAGE: &str = "\
Usage: swarmget magnet [--hash LIST] FILE...
       swarmget magnet --parse URI

Prints a magnet link for each FILE (xl, dn, then one xt per hash, as
`rhash --magnet` does), or the fields of a magnet link as JSON.

Options:
  --hash LIST   hashes to compute, comma-separated: crc32, md5, sha1, tth,
                ed2k, aich, or all. Default: tth,ed2k,aich (rhash's default).
  --parse URI   parse URI and print its fields as JSON
  -h, --help    print this help

A FILE of - is standard input; its link has no dn.

Exit status: 0 on success; 1 for a bad link, a bad argument or a file that
cannot be read (the other files are still hashed).
";

/// Runs `swarmget magnet` with the arguments after the subcommand.
pub fn run(args: &[String]) -> ExitCode {
    let code = run_with(args, &mut io::stdout().lock(), &mut io::stderr().lock());
    ExitCode::from(code)
}

enum Mode {
    Help,
    Parse(String),
    Hash {
        algorithms: Algorithms,
        files: Vec<String>,
    },
}

fn parse_args(args: &[String]) -> Result<Mode, String> {
    let mut algorithms = None;
    let mut parse = None;
    let mut files = Vec::new();
    let mut flags = Flags::new(args);
    while let Some(arg) = flags.next() {
        let (name, inline) = match arg {
            Arg::Positional(file) => {
                files.push(file);
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
            "-h" | "--help" => return Ok(Mode::Help),
            "--hash" => {
                let list = value("--hash")?;
                algorithms = Some(Algorithms::parse_list(&list).map_err(|e| e.to_string())?);
            }
            "--parse" => parse = Some(value("--parse")?),
            _ => return Err(format!("unknown option {name:?}")),
        }
    }
    match (parse, algorithms, files.is_empty()) {
        (Some(uri), None, true) => Ok(Mode::Parse(uri)),
        (Some(_), _, _) => Err("--parse takes one URI and no FILE or --hash".into()),
        (None, _, true) => Err("no FILE given".into()),
        (None, algorithms, false) => Ok(Mode::Hash {
            algorithms: algorithms.unwrap_or(Algorithms::RHASH_DEFAULT),
            files,
        }),
    }
}

/// The whole command, writing to the given streams; returns the exit status.
fn run_with(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    // Failing to write to stdout/stderr (a closed pipe) leaves nothing better to do than
    // to return the status, so write errors are ignored below.
    match parse_args(args) {
        Ok(Mode::Help) => {
            let _ = out.write_all(USAGE.as_bytes());
            0
        }
        Ok(Mode::Parse(uri)) => match Magnet::parse(&uri) {
            Ok(magnet) => {
                let text = serde_json::to_string_pretty(&magnet_json(&magnet)).unwrap_or_default();
                let _ = writeln!(out, "{text}");
                0
            }
            Err(e) => {
                let _ = writeln!(err, "swarmget magnet: invalid magnet link: {e}");
                27
            }
        },
        Ok(Mode::Hash { algorithms, files }) => {
            let mut status = 0;
            for file in &files {
                match link_for_file(Path::new(file), algorithms) {
                    Ok(link) => {
                        let _ = writeln!(out, "{link}");
                    }
                    Err(e) => {
                        let _ = writeln!(err, "swarmget magnet: {file}: {e}");
                        status = 1;
                    }
                }
            }
            status
        }
        Err(message) => {
            let _ = writeln!(err, "swarmget magnet: {message}\n\n{USAGE}");
            28
        }
    }
}

/// Hashes the file (on two threads when it is large) and builds its link. The display
/// name is the file's last path component; a name that is not UTF-8 is converted lossily.
/// `-` is standard input, whose link has no display name.
fn link_for_file(path: &Path, algorithms: Algorithms) -> io::Result<Magnet> {
    if path == Path::new("-") {
        let digests = hash_reader(io::stdin().lock(), algorithms)?;
        let mut magnet = Magnet::from_hashes("", digests.size, &digests);
        if let Some(group) = magnet.groups.first_mut() {
            group.display_name = None;
        }
        return Ok(magnet);
    }
    let file = File::open(path)?;
    if file.metadata()?.is_dir() {
        return Err(io::Error::other("is a directory"));
    }
    let digests = hash_reader(file, algorithms)?;
    let name = path
        .file_name()
        .map_or_else(|| path.to_string_lossy(), |n| n.to_string_lossy());
    Ok(Magnet::from_hashes(&name, digests.size, &digests))
}

fn magnet_json(magnet: &Magnet) -> Value {
    json!({ "groups": magnet.groups.iter().map(group_json).collect::<Vec<_>>() })
}

fn group_json(g: &Group) -> Value {
    json!({
        "exact_topics": g.exact_topics.iter().map(topic_json).collect::<Vec<_>>(),
        "display_name": g.display_name,
        "exact_length": g.exact_length,
        "acceptable_sources": g.acceptable_sources,
        "exact_sources": g.exact_sources,
        "keywords": g.keywords,
        "manifests": g.manifests,
        "trackers": g.trackers,
        "web_seeds": g.web_seeds,
        "select_only": g.select_only.as_ref().map(|so| {
            so.ranges().iter().map(|r| [*r.start(), *r.end()]).collect::<Vec<_>>()
        }),
        "peers": g.peers.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "extra": g.extra.iter().map(|(name, value)| [name, value]).collect::<Vec<_>>(),
    })
}

/// `kind`, the canonical `urn`, and the decoded value: `hex` bytes for plain digests,
/// `sha1`/`tth` for a bitprint, `code`/`digest` for a multihash, `value` for CRC-32.
fn topic_json(topic: &ExactTopic) -> Value {
    let mut v = json!({ "kind": topic.kind().unwrap_or("other"), "urn": topic.to_string() });
    match topic {
        ExactTopic::Btih(h) | ExactTopic::Sha1(h) | ExactTopic::Aich(h) | ExactTopic::Kazaa(h) => {
            v["hex"] = hex(h).into();
        }
        ExactTopic::Ed2k(h) | ExactTopic::Md5(h) => v["hex"] = hex(h).into(),
        ExactTopic::TigerTree(h) => v["hex"] = hex(h).into(),
        ExactTopic::Btmh(m) => {
            v["code"] = m.code().into();
            v["digest"] = hex(m.digest()).into();
        }
        ExactTopic::Bitprint { sha1, tth } => {
            v["sha1"] = hex(sha1).into();
            v["tth"] = hex(tth).into();
        }
        ExactTopic::Crc32(c) => v["value"] = (*c).into(),
        // Unknown kinds (and kinds added later): the URN as written is all there is.
        _ => {}
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn run_args(args: &[&str]) -> (u8, String, String) {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = run_with(&args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    use crate::scratch::Scratch;

    #[test]
    fn help_goes_to_stdout_with_status_zero() {
        let (code, out, _) = run_args(&["--help"]);
        assert_eq!(code, 0);
        assert!(out.starts_with("Usage: swarmget magnet"));
    }

    #[test]
    fn bad_arguments_exit_28_with_a_message() {
        for (args, message) in [
            (&[][..], "no FILE given"),
            (
                &["--hash", "sha1,sha256", "f"][..],
                "unknown hash algorithm \"sha256\"",
            ),
            (&["--hash"][..], "--hash needs a value"),
            (&["--frobnicate"][..], "unknown option"),
            (
                &["--parse", "magnet:?", "file"][..],
                "--parse takes one URI",
            ),
        ] {
            let (code, out, err) = run_args(args);
            assert_eq!(code, 28, "{args:?}");
            assert!(out.is_empty());
            assert!(err.contains(message), "{args:?}: {err}");
        }
    }

    #[test]
    fn hashes_files_like_rhash_and_reports_unreadable_ones() {
        let dir = Scratch::new("magnet-hash");
        let empty = dir.file("empty.bin", b"");
        let missing = dir.join("missing.bin");
        let (code, out, err) = run_args(&[&empty, missing.to_str().unwrap()]);
        assert_eq!(code, 1);
        assert_eq!(
            out,
            "magnet:?xl=0&dn=empty.bin&xt=urn:tree:tiger:lwpnacqdbzryxw3vhjvcj64qbznghohhhzwclnq\
             &xt=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0&xt=urn:aich:3i42h3s6nnfq2msvx7xzkyayscx5qbyj\n"
        );
        assert!(err.contains("missing.bin"), "{err}");
        let (code, out, _) = run_args(&["--hash=crc32,md5", &empty]);
        assert_eq!(code, 0);
        assert_eq!(
            out,
            "magnet:?xl=0&dn=empty.bin&xt=urn:crc32:00000000&xt=urn:md5:d41d8cd98f00b204e9800998ecf8427e\n"
        );
        let (code, _, err) = run_args(&[dir.join("").to_str().unwrap()]);
        assert_eq!((code, err.contains("is a directory")), (1, true), "{err}");
    }

    /// Whether `rhash` runs here; its absence fails under `CI=true`, where `cargo xtask
    /// ci` installs it, so the comparison cannot stop running unseen.
    fn rhash_installed() -> bool {
        if Command::new("rhash").arg("--version").output().is_ok() {
            return true;
        }
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "rhash is not installed, and under CI=true the comparison must run \
             (cargo xtask ci installs it)"
        );
        false
    }

    /// Byte-for-byte the same output as the installed `rhash`, for a file large enough to
    /// take the two-thread path; skipped with a note where `rhash` is absent outside CI.
    #[test]
    fn output_matches_installed_rhash() {
        if !rhash_installed() {
            eprintln!("note: rhash not installed; skipping the comparison");
            return;
        }
        let dir = Scratch::new("magnet-rhash");
        let data: Vec<u8> = (0u32..3_000_001)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let file = dir.file("three-megabytes.bin", &data);
        for (ours, theirs) in [
            (vec![], vec!["--magnet"]),
            (
                vec!["--hash", "all"],
                vec![
                    "--magnet", "--crc32", "--md5", "--sha1", "--tth", "--ed2k", "--aich",
                ],
            ),
        ] {
            let rhash = Command::new("rhash")
                .args(&theirs)
                .arg(&file)
                .output()
                .unwrap();
            assert!(rhash.status.success());
            let mut args = ours.clone();
            args.push(&file);
            let (code, out, err) = run_args(&args);
            assert_eq!(code, 0, "{err}");
            assert_eq!(out, String::from_utf8(rhash.stdout).unwrap(), "{ours:?}");
        }
    }

    #[test]
    fn parse_prints_typed_fields_as_json() {
        let (code, out, _) = run_args(&[
            "--parse",
            "magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK&dn=a%20b&tr=udp%3A%2F%2Ft%3A1&so=0,2-3\
             &xt=urn:crc32:305419896&x.pe=[::1]:6881&x.foo=bar",
        ]);
        assert_eq!(code, 0);
        let v: Value = serde_json::from_str(&out).unwrap();
        let g = &v["groups"][0];
        assert_eq!(g["exact_topics"][0]["kind"], "btih");
        assert_eq!(
            g["exact_topics"][0]["hex"],
            "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
        );
        assert_eq!(g["exact_topics"][1]["value"], 0x1234_5678);
        assert_eq!(g["display_name"], "a b");
        assert_eq!(g["trackers"][0], "udp://t:1");
        assert_eq!(g["select_only"], json!([[0, 0], [2, 3]]));
        assert_eq!(g["peers"][0], "[::1]:6881");
        assert_eq!(g["extra"][0], json!(["x.foo", "bar"]));
        assert_eq!(g["exact_length"], Value::Null);
    }

    #[test]
    fn parse_reports_the_broken_rule() {
        let (code, out, err) = run_args(&[
            "--parse",
            "magnet:?xt=urn:ed2k:31D6CFE0D16AE931B73C59D7E0C089C",
        ]);
        assert_eq!(code, 27);
        assert!(out.is_empty());
        assert_eq!(
            err,
            "swarmget magnet: invalid magnet link: parameter `xt` (byte 8): bad length: \
             ed2k hash must be 32 hex characters, found 31 characters\n"
        );
    }
}
