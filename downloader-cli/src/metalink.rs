//! `swarmget metalink show FILE`: what a Metalink document describes — its files,
//! sizes and hashes, and each file's sources in the order a download would try them
//! under aria2's `--metalink-*` options. `--json` prints the same as JSON.
//!
//! Exit status follows aria2: 20 when the document does not parse, 28 for a bad
//! option, 1 when the file cannot be read.

use crate::flags::{Arg, Flags};
use crate::hex::hex;
use std::io::{self, Read, Write};
use std::process::ExitCode;
use swarmget_engine::metalink::{preferences, read_source};

use serde_json::{Value, json};
use swarmget_engine::Options;
use swarmget_metalink::{
    File, Format, Hash, Location, Metalink, ParseOptions, Parsed, Preferences, Url, parse,
};

const USAGE: &str = "\
Usage: swarmget metalink show [OPTIONS] FILE

Shows what a Metalink 4 (.meta4) or Metalink 3 (.metalink) document describes:
the files it selects, their sizes and hashes, and each file's sources in the
order a download would try them. FILE - reads standard input.

Options:
  --json                          print JSON instead of text
  --metalink-location=LIST        try mirrors in these countries first (jp,us)
  --metalink-language=LANG        keep only files in this language
  --metalink-os=OS                keep only files for this OS
  --metalink-version=VERSION      keep only files of this version
  --metalink-preferred-protocol=P try http, https or ftp URLs first (or none)
  --metalink-base-uri=URI         resolve relative URLs against URI
  -h, --help                      print this help

Exit status: 0 on success; 20 if the document does not parse; 28 for a bad
option; 1 if FILE cannot be read.
";

/// aria2's exit status for a Metalink document that does not parse.
const EXIT_METALINK_PARSE: u8 = 20;
/// aria2's exit status for an unknown option or a bad option argument.
const EXIT_BAD_OPTION: u8 = 28;
/// aria2's exit status for other failures.
const EXIT_UNKNOWN: u8 = 1;

/// Runs `swarmget metalink` with the arguments after the subcommand.
pub fn run(args: &[String]) -> ExitCode {
    let code = run_with(
        args,
        &mut io::stdin().lock(),
        &mut io::stdout().lock(),
        &mut io::stderr().lock(),
    );
    ExitCode::from(code)
}

struct Show {
    file: String,
    json: bool,
    preferences: Preferences,
    base_uri: Option<Url>,
}

enum Command {
    Help,
    Show(Box<Show>),
}

/// Why the command line was refused, with the exit status it earns.
struct Usage {
    message: String,
    status: u8,
}

fn bad_option(message: String) -> Usage {
    Usage {
        message,
        status: EXIT_BAD_OPTION,
    }
}

fn parse_args(args: &[String]) -> Result<Command, Usage> {
    let Some((subcommand, rest)) = args.split_first() else {
        return Err(Usage {
            message: "no subcommand given (try `swarmget metalink show FILE`)".into(),
            status: EXIT_UNKNOWN,
        });
    };
    match subcommand.as_str() {
        "-h" | "--help" | "help" => return Ok(Command::Help),
        "show" => {}
        other => return Err(bad_option(format!("unknown subcommand {other:?}"))),
    }
    let mut json = false;
    // The --metalink-* flags go through the option table, so they are checked and
    // read exactly as for a download.
    let mut options = Options::default();
    let mut files = Vec::new();
    let mut flags = Flags::new(rest);
    while let Some(arg) = flags.next() {
        let (name, inline) = match arg {
            Arg::Positional(file) => {
                files.push(file);
                continue;
            }
            Arg::Flag { name, inline } => (name, inline),
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--json" => json = true,
            "--metalink-location"
            | "--metalink-language"
            | "--metalink-os"
            | "--metalink-version"
            | "--metalink-preferred-protocol"
            | "--metalink-base-uri" => {
                let value = flags
                    .value(inline)
                    .ok_or_else(|| bad_option(format!("{name} needs a value")))?;
                options
                    .set(&name[2..], &value)
                    .map_err(|e| bad_option(format!("{name}: {e}")))?;
            }
            _ => return Err(bad_option(format!("unknown option {name:?}"))),
        }
    }
    let file = match <[String; 1]>::try_from(files) {
        Ok([file]) => file,
        Err(files) if files.is_empty() => {
            return Err(Usage {
                message: "no FILE given".into(),
                status: EXIT_UNKNOWN,
            });
        }
        Err(_) => return Err(bad_option("show takes one FILE".into())),
    };
    Ok(Command::Show(Box::new(Show {
        file,
        json,
        preferences: preferences(&options),
        base_uri: options.metalink_base_uri,
    })))
}

/// The whole command over the given streams; returns the exit status.
fn run_with(args: &[String], stdin: &mut dyn Read, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    // A closed stdout/stderr leaves nothing better to do than return the status, so
    // write errors are ignored.
    let show = match parse_args(args) {
        Ok(Command::Help) => {
            let _ = out.write_all(USAGE.as_bytes());
            return 0;
        }
        Ok(Command::Show(show)) => show,
        Err(usage) => {
            let _ = writeln!(err, "swarmget metalink: {}", usage.message);
            let _ = writeln!(err, "Try `swarmget metalink --help`.");
            return usage.status;
        }
    };
    let document = match read_source(&show.file, stdin) {
        Ok(document) => document,
        Err(e) => {
            let _ = writeln!(err, "swarmget metalink: cannot read {}: {e}", show.file);
            return EXIT_UNKNOWN;
        }
    };
    let options = ParseOptions {
        base_uri: show.base_uri.clone(),
        ..ParseOptions::default()
    };
    let parsed = match parse(&document, &options) {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = writeln!(err, "swarmget metalink: {}: {e}", show.file);
            return EXIT_METALINK_PARSE;
        }
    };
    for warning in &parsed.warnings {
        let _ = writeln!(err, "swarmget metalink: {}: warning: {warning}", show.file);
    }
    if show.json {
        let text = serde_json::to_string_pretty(&document_json(&parsed, &show.preferences))
            .unwrap_or_default();
        let _ = writeln!(out, "{text}");
    } else {
        let _ = out.write_all(document_text(&parsed, &show.preferences).as_bytes());
    }
    0
}

fn format_name(format: Format) -> &'static str {
    match format {
        Format::V4 => "Metalink 4",
        Format::V3 => "Metalink 3.0",
    }
}

fn document_text(parsed: &Parsed, preferences: &Preferences) -> String {
    use std::fmt::Write as _;
    let m = &parsed.metalink;
    let mut s = String::new();
    let _ = writeln!(s, "{} document", format_name(parsed.format));
    if let Some(generator) = &m.generator {
        let _ = writeln!(s, "Generator: {generator}");
    }
    if let Some(origin) = &m.origin {
        let dynamic = if origin.dynamic { " (dynamic)" } else { "" };
        let _ = writeln!(s, "Origin:    {}{dynamic}", origin.url);
    }
    if let Some(published) = m.published {
        let _ = writeln!(s, "Published: {published}");
    }
    if let Some(updated) = m.updated {
        let _ = writeln!(s, "Updated:   {updated}");
    }
    let mut selected = 0;
    for (index, file) in m.select_files(preferences) {
        selected += 1;
        s.push('\n');
        file_text(&mut s, index + 1, file, preferences);
    }
    let _ = writeln!(s, "\n{selected} of {} files selected.", m.files.len());
    s
}

fn file_text(s: &mut String, number: usize, file: &File, preferences: &Preferences) {
    use std::fmt::Write as _;
    let _ = writeln!(s, "{number}. {}", file.name);
    match file.size {
        Some(size) => {
            let _ = writeln!(s, "   Size:        {size} bytes ({})", human_size(size));
        }
        None => s.push_str("   Size:        unknown\n"),
    }
    let details = [
        ("Identity:", file.identity.as_deref()),
        ("Version:", file.version.as_deref()),
        ("Description:", file.description.as_deref()),
        ("Copyright:", file.copyright.as_deref()),
        (
            "Publisher:",
            file.publisher.as_ref().map(|p| p.name.as_str()),
        ),
    ];
    for (label, value) in details {
        if let Some(value) = value {
            let _ = writeln!(s, "   {label:<12} {value}");
        }
    }
    if !file.languages.is_empty() {
        let _ = writeln!(s, "   Languages:   {}", file.languages.join(", "));
    }
    if !file.oses.is_empty() {
        let _ = writeln!(s, "   OS:          {}", file.oses.join(", "));
    }
    let strongest = file.strongest_hash();
    for hash in &file.hashes {
        let mark = if Some(hash) == strongest {
            " (verified)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "   Hash:        {} {}{mark}",
            hash.algorithm(),
            hash.to_hex()
        );
    }
    if let Some(pieces) = file.strongest_pieces() {
        let _ = writeln!(
            s,
            "   Pieces:      {} x {} bytes, {}",
            pieces.len(),
            pieces.length(),
            pieces.algorithm()
        );
    }
    if let Some(signature) = &file.signature {
        let _ = writeln!(s, "   Signature:   {}", signature.media_type);
    }
    let urls = file.ordered_urls(preferences);
    let metaurls = file.ordered_metaurls();
    if urls.is_empty() && metaurls.is_empty() {
        s.push_str("   Sources:     none\n");
        return;
    }
    s.push_str("   Sources, in the order tried:\n");
    for (i, resource) in urls.iter().enumerate() {
        let mut notes = Vec::new();
        if let Some(location) = resource.location {
            notes.push(location.to_string());
        }
        if let Some(priority) = resource.priority {
            notes.push(format!("priority {priority}"));
        }
        let notes = bracketed(&notes);
        let _ = writeln!(s, "     {:>2}. {}{notes}", i + 1, resource.url);
    }
    for metaurl in metaurls {
        let mut notes = Vec::new();
        if let Some(name) = &metaurl.name {
            notes.push(format!("member {name}"));
        }
        if let Some(priority) = metaurl.priority {
            notes.push(format!("priority {priority}"));
        }
        let notes = bracketed(&notes);
        let _ = writeln!(s, "         {} {}{notes}", metaurl.media_type, metaurl.url);
    }
}

fn bracketed(notes: &[String]) -> String {
    if notes.is_empty() {
        String::new()
    } else {
        format!("  [{}]", notes.join(", "))
    }
}

/// `13631488` → `13.0 MiB`.
fn human_size(size: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if size < 1024 {
        return format!("{size} B");
    }
    let mut value = size as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn hash_json(hash: &Hash) -> Value {
    json!({ "type": hash.algorithm().metalink4_name(), "value": hash.to_hex() })
}

fn document_json(parsed: &Parsed, preferences: &Preferences) -> Value {
    let m: &Metalink = &parsed.metalink;
    let files: Vec<Value> = m
        .select_files(preferences)
        .map(|(index, file)| file_json(index + 1, file, preferences))
        .collect();
    json!({
        "format": match parsed.format { Format::V4 => "metalink4", Format::V3 => "metalink3" },
        "generator": m.generator,
        "origin": m.origin.as_ref().map(|o| json!({ "url": o.url.as_str(), "dynamic": o.dynamic })),
        "published": m.published.map(|t| t.to_string()),
        "updated": m.updated.map(|t| t.to_string()),
        "total_files": m.files.len(),
        "files": files,
        "warnings": parsed.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

fn file_json(number: usize, file: &File, preferences: &Preferences) -> Value {
    let urls: Vec<Value> = file
        .ordered_urls(preferences)
        .iter()
        .map(|r| {
            json!({
                "url": r.url.as_str(),
                "location": r.location.as_ref().map(Location::as_str),
                "priority": r.priority.map(|p| p.get()),
            })
        })
        .collect();
    let metaurls: Vec<Value> = file
        .ordered_metaurls()
        .iter()
        .map(|m| {
            json!({
                "url": m.url.as_str(),
                "mediatype": m.media_type,
                "name": m.name.as_ref().map(|n| n.as_str()),
                "priority": m.priority.map(|p| p.get()),
            })
        })
        .collect();
    let pieces: Vec<Value> = file
        .pieces
        .iter()
        .map(|p| {
            json!({
                "type": p.algorithm().metalink4_name(),
                "length": p.length().get(),
                "hashes": p.iter().map(hex).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "index": number,
        "name": file.name.as_str(),
        "size": file.size,
        "identity": file.identity,
        "version": file.version,
        "languages": file.languages,
        "oses": file.oses,
        "description": file.description,
        "publisher": file.publisher.as_ref().map(|p| json!({ "name": p.name, "url": p.url })),
        "copyright": file.copyright,
        "hashes": file.hashes.iter().map(hash_json).collect::<Vec<_>>(),
        "strongest_hash": file.strongest_hash().map(hash_json),
        "pieces": pieces,
        "urls": urls,
        "metaurls": metaurls,
        "signature": file.signature.as_ref().map(|s| json!({ "mediatype": s.media_type, "body": s.body })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../metalink/tests/fixtures/");

    fn fixture(name: &str) -> String {
        format!("{FIXTURES}{name}")
    }

    /// Runs the command; returns (status, stdout, stderr).
    fn show(args: &[&str], stdin: &[u8]) -> (u8, String, String) {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = run_with(&args, &mut &stdin[..], &mut out, &mut err);
        (
            status,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn text_lists_files_hashes_and_sources_in_order() {
        let (status, out, err) = show(&["show", &fixture("mirrorbrain.meta4")], b"");
        assert_eq!(status, 0, "{err}");
        assert!(err.is_empty(), "{err}");
        assert!(out.starts_with("Metalink 4 document\nGenerator: MirrorBrain/2.19.0\n"));
        assert!(
            out.contains("1. Example-NET-x86_64.iso\n   Size:        13631488 bytes (13.0 MiB)\n")
        );
        assert!(out.contains("   Hash:        sha-256 "));
        assert!(out.contains(" (verified)\n"));
        assert!(out.contains("   Pieces:      4 x 4194304 bytes, sha-1\n"));
        let first = out.find("  1. http://ftp.uni-example.de/").unwrap();
        let last = out.find("  6. http://mirrors.example.edu/").unwrap();
        assert!(first < last);
        assert!(out.contains("torrent http://download.example.org/"));
        assert!(out.ends_with("\n1 of 1 files selected.\n"));
    }

    #[test]
    fn location_and_protocol_options_reorder_sources() {
        let (status, out, _) = show(
            &[
                "show",
                "--metalink-location=us",
                "--metalink-preferred-protocol",
                "ftp",
                &fixture("mirrorbrain.meta4"),
            ],
            b"",
        );
        assert_eq!(status, 0);
        assert!(out.contains("  1. ftp://ftp.example-hosting.de/"), "{out}");
        assert!(out.contains("  2. http://mirrors.example.edu/"), "{out}");
    }

    #[test]
    fn json_output_carries_the_selection() {
        let (status, out, _) = show(
            &[
                "show",
                "--json",
                "--metalink-language=en",
                "--metalink-os=Linux-x86",
                "--metalink-version=2.1",
                &fixture("variants.metalink"),
            ],
            b"",
        );
        assert_eq!(status, 0);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["format"], "metalink3");
        assert_eq!(v["total_files"], 4);
        let files = v["files"].as_array().unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0]["index"], 3);
        assert_eq!(files[0]["name"], "tool-2.1-en-linux.tar.gz");
        assert_eq!(files[0]["urls"][0]["priority"], 51);
        assert_eq!(files[0]["urls"][0]["location"], "us");
    }

    #[test]
    fn json_lists_urls_in_try_order_with_hashes() {
        let (_, out, _) = show(&["show", "--json", &fixture("variants.metalink")], b"");
        let v: Value = serde_json::from_str(&out).unwrap();
        let first = &v["files"][0];
        let urls: Vec<&str> = first["urls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["url"].as_str().unwrap())
            .collect();
        assert_eq!(
            urls,
            [
                "https://secure.example.com/tool-2.1-en-win32.exe",
                "http://dl.example.com/tool-2.1-en-win32.exe",
                "ftp://ftp.example.jp/tool/tool-2.1-en-win32.exe",
            ]
        );
        assert_eq!(first["strongest_hash"]["type"], "sha-1");
        assert_eq!(first["pieces"][0]["hashes"].as_array().unwrap().len(), 2);
        assert_eq!(first["signature"]["mediatype"], "application/pgp-signature");
    }

    #[test]
    fn base_uri_resolves_relative_urls_and_without_it_they_are_warned_about() {
        let path = fixture("relative-urls.meta4");
        let (status, out, err) = show(&["show", &path], b"");
        assert_eq!(status, 0);
        assert_eq!(err.matches("warning: ").count(), 5, "{err}");
        assert!(err.contains("--metalink-base-uri"));
        assert!(!out.contains("mirror/example.ext"));
        let (status, out, err) = show(
            &["show", "--metalink-base-uri=http://example.com/a/b/", &path],
            b"",
        );
        assert_eq!(status, 0);
        assert!(err.is_empty(), "{err}");
        assert!(
            out.contains("  2. http://example.com/a/mirror/example.ext"),
            "{out}"
        );
    }

    #[test]
    fn standard_input_is_read_for_dash() {
        let doc = std::fs::read(fixture("rfc5854-single.meta4")).unwrap();
        let (status, out, _) = show(&["show", "-"], &doc);
        assert_eq!(status, 0);
        assert!(out.contains("1. example.ext\n"));
        assert!(out.contains("Languages:   en"));
    }

    #[test]
    fn a_document_that_does_not_parse_exits_20() {
        let (status, out, err) = show(
            &["show", "-"],
            b"<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\"><file name=\"../x\"/></metalink>",
        );
        assert_eq!(status, 20);
        assert!(out.is_empty());
        assert!(err.contains("unsafe file name \"../x\""), "{err}");
        let (status, _, err) = show(&["show", "-"], b"not xml");
        assert_eq!(status, 20);
        assert!(err.contains("malformed XML"), "{err}");
    }

    #[test]
    fn bad_options_exit_28_and_unreadable_files_exit_1() {
        for args in [
            &["show", "--metalink-location=japan", "f"][..],
            &["show", "--metalink-preferred-protocol=gopher", "f"],
            &["show", "--metalink-base-uri=relative/path", "f"],
            &["show", "--bogus", "f"],
            &["show", "a", "b"],
            &["list", "f"],
            &["show", "--metalink-os"],
        ] {
            let (status, _, err) = show(args, b"");
            assert_eq!(status, 28, "{args:?}: {err}");
            assert!(err.starts_with("swarmget metalink: "), "{err}");
        }
        let (status, _, err) = show(&["show", "/nonexistent/x.meta4"], b"");
        assert_eq!(status, 1);
        assert!(err.contains("cannot read /nonexistent/x.meta4"), "{err}");
        assert_eq!(show(&["show"], b"").0, 1);
        assert_eq!(show(&[], b"").0, 1);
    }

    #[test]
    fn help_goes_to_stdout() {
        let (status, out, _) = show(&["--help"], b"");
        assert_eq!(status, 0);
        assert!(out.starts_with("Usage: swarmget metalink show"));
        assert_eq!(show(&["show", "-h"], b"").0, 0);
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(4_688_183_296), "4.4 GiB");
        assert_eq!(human_size(u64::MAX), "16.0 EiB");
    }
}
