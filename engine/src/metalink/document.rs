//! Metalink documents into downloads: one [`DownloadSpec`] per selected `<file>`, as
//! aria2 makes one download (one GID) per file.
//!
//! The rules, aria2's unless said otherwise:
//! - The document is read with `--metalink-base-uri` as the base of relative URLs
//!   (without it they are dropped with a warning). The metalink crate refuses the whole
//!   document — exit 20, nothing started — for a name that could leave `-d` (`../`,
//!   absolute paths, drive letters), a bad size or digest, malformed XML or a DTD.
//! - `--metalink-version`, `--metalink-language` and `--metalink-os` keep only the files
//!   that match; the files left are numbered from 1 in document order. Those numbers are
//!   what `--show-files` prints and what `--select-file` takes.
//! - Each file's URLs are ordered by `--metalink-location` and
//!   `--metalink-preferred-protocol`, then by priority, then document order (the
//!   metalink crate's [`File::ordered_urls`]); only http, https and ftp URLs are kept.
//!   `--metalink-enable-unique-protocol` keeps, for a host offering the file over
//!   several protocols, the URLs of the protocol tried first on that host only.
//!   (aria2 decides this when the first connection to the host succeeds, so a host
//!   whose first protocol refuses connections falls back to its second; here the
//!   choice is made up front, which makes the list the engine gets the list it uses.)
//! - Each download gets a copy of the options with `out` set to the file's name (the
//!   crate has checked it; the engine joins it under `-d`) and no `--checksum` (that
//!   names the command line's URI download), and `expect` set from the document:
//!   `<size>`, every `<hash>`, the strongest `<pieces>`.
//!
//! Refused as a whole, before anything is started (swarmget's choice: aria2 starts the
//! other files and fails the bad one, which leaves a half-done set behind):
//! - two selected files with the same path, or one whose path is a directory of
//!   another's: exit 11, aria2's code for "the same file is already being downloaded";
//! - a selected file with no http, https or ftp URL nor a BitTorrent metaurl on one
//!   (only other schemes): exit 1, as aria2's download without a URI ends;
//! - no file left after the preference filters or `--select-file`: exit 1 (aria2 prints
//!   "No files to download." and exits 0, which hides the mistake).
//!
//! A file whose only sources are BitTorrent `metaurl`s becomes the download of the
//! first of them (by priority) on an http, https or ftp URL, followed as a torrent kept
//! in memory (as aria2 does, whatever `--follow-torrent` says: the document said it is
//! a torrent); the torrent's own names then place its files, and `--select-file` and
//! `-O`, which numbered the document's files, do not reach it. A file with URLs is
//! downloaded from them (its metaurls are not used as web seeds' swarm yet).
//!
//! Hash types the crate does not know are dropped by it with a warning. Following
//! aria2, such a file is still downloaded, unverified, with one more warning saying so —
//! except under `-V --hash-check-only`, where checking is all that was asked and a file
//! with no usable hash is an error (exit 1).

use std::collections::HashMap;
use std::io::{self, Read};

use swarmget_metalink::{
    File, Limits, Location, Metalink, ParseOptions, Parsed, Preferences, Protocol, Url,
    WarningKind, parse,
};

use crate::digest::{Digest, PieceHashes};
use crate::download::{DownloadSpec, Expect};
use crate::error::{Error, ErrorCode};
use crate::options::{MetalinkProtocol, Options};

/// The URL schemes the engine downloads from.
pub const WEB_SCHEMES: [&str; 3] = ["http", "https", "ftp"];

/// Reads a document from `source`, a path or `-` for `stdin`: at most one byte more
/// than the parser accepts, so an endless stream costs no more memory than that and
/// is then refused by the parser as too large.
pub fn read_source(source: &str, stdin: &mut dyn Read) -> io::Result<Vec<u8>> {
    let limit = Limits::DEFAULT.max_document_bytes as u64 + 1;
    let mut bytes = Vec::new();
    if source == "-" {
        stdin.take(limit).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(source)?
            .take(limit)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Reads and parses the document at `source`, printing the crate's warnings through
/// `warn`. A source that cannot be read fails with `unreadable` (aria2 checks `-M`'s file
/// as an option argument, exit 28; a file named on the command line is exit 1); a
/// document that does not parse fails with exit 20.
pub fn load(
    source: &str,
    opts: &Options,
    stdin: &mut dyn Read,
    unreadable: ErrorCode,
    warn: &mut dyn FnMut(String),
) -> Result<Parsed, Error> {
    let bytes = read_source(source, stdin)
        .map_err(|e| Error::new(unreadable, format!("cannot read {source}: {e}")))?;
    parse_document(&bytes, source, opts.metalink_base_uri.clone(), warn)
}

/// Parses a document already in memory, resolving relative URLs against `base_uri`
/// (`--metalink-base-uri` for a local file, the document's own URL for one that was
/// downloaded, as aria2 does). A document that does not parse fails with exit 20.
pub fn parse_document(
    bytes: &[u8],
    source: &str,
    base_uri: Option<Url>,
    warn: &mut dyn FnMut(String),
) -> Result<Parsed, Error> {
    let options = ParseOptions {
        base_uri,
        ..ParseOptions::default()
    };
    let parsed = parse(bytes, &options)
        .map_err(|e| Error::new(ErrorCode::Metalink, format!("{source}: {e}")))?;
    for warning in &parsed.warnings {
        warn(format!("{source}: {warning}"));
    }
    Ok(parsed)
}

/// The `--metalink-*` preferences in the metalink crate's terms.
pub fn preferences(opts: &Options) -> Preferences {
    Preferences {
        version: opts.metalink_version.clone(),
        language: opts.metalink_language.clone(),
        os: opts.metalink_os.clone(),
        // The option table accepts only two-letter codes, which Location takes.
        locations: opts
            .metalink_location
            .iter()
            .filter_map(|code| Location::new(code))
            .collect(),
        protocol: opts.metalink_preferred_protocol.map(|p| match p {
            MetalinkProtocol::Http => Protocol::Http,
            MetalinkProtocol::Https => Protocol::Https,
            MetalinkProtocol::Ftp => Protocol::Ftp,
        }),
    }
}

/// One file the preferences keep.
pub struct Listed<'a> {
    /// Its number among the files kept, from 1 (`--show-files`, `--select-file`).
    pub index: usize,
    /// Its position among all the document's files, from 1 (warnings use it).
    pub number: usize,
    /// The file.
    pub file: &'a File,
}

/// The files `preferences` keep, numbered as `--show-files` lists them.
pub fn listed_files<'a>(metalink: &'a Metalink, preferences: &'a Preferences) -> Vec<Listed<'a>> {
    metalink
        .select_files(preferences)
        .enumerate()
        .map(|(i, (position, file))| Listed {
            index: i + 1,
            number: position + 1,
            file,
        })
        .collect()
}

/// The downloads for a parsed document: one per file kept by the preferences and
/// `--select-file`, in document order. `source` names the document in messages.
pub fn specs(
    parsed: &Parsed,
    source: &str,
    opts: &Options,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<DownloadSpec>, Error> {
    let preferences = preferences(opts);
    let listed = listed_files(&parsed.metalink, &preferences);
    let chosen = select(&listed, parsed, source, opts, warn)?;
    check_overlap(source, &chosen)?;
    let mut specs = chosen
        .into_iter()
        .map(|listed| file_spec(listed, parsed, source, opts, &preferences, warn))
        .collect::<Result<Vec<_>, _>>()?;
    // `--gid` names one download: the first file's, which is also the GID a session
    // records the document under (a restored session gives it back to that file).
    for spec in specs.iter_mut().skip(1) {
        spec.options.gid = None;
    }
    Ok(specs)
}

/// The listed files `--select-file` keeps; an error when none is left.
fn select<'l, 'a>(
    listed: &'l [Listed<'a>],
    parsed: &Parsed,
    source: &str,
    opts: &Options,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<&'l Listed<'a>>, Error> {
    if listed.is_empty() {
        return Err(Error::new(
            ErrorCode::Unknown,
            format!(
                "{source}: none of its {} files matches --metalink-version, --metalink-language and --metalink-os",
                parsed.metalink.files.len()
            ),
        ));
    }
    let Some(selection) = &opts.select_file else {
        return Ok(listed.iter().collect());
    };
    if let Some(max) = selection.max().filter(|&max| max > listed.len()) {
        warn(format!(
            "{source}: --select-file index {max} is past the last of its {} files; such indexes select nothing",
            listed.len()
        ));
    }
    let chosen: Vec<&Listed> = listed
        .iter()
        .filter(|l| selection.contains(l.index))
        .collect();
    if chosen.is_empty() {
        return Err(Error::new(
            ErrorCode::Unknown,
            format!(
                "{source}: --select-file selects none of its {} files (see --show-files)",
                listed.len()
            ),
        ));
    }
    Ok(chosen)
}

/// One file's download: its mirrors, a copy of the options naming it, what to expect.
fn file_spec(
    listed: &Listed,
    parsed: &Parsed,
    source: &str,
    opts: &Options,
    preferences: &Preferences,
    warn: &mut dyn FnMut(String),
) -> Result<DownloadSpec, Error> {
    let file = listed.file;
    let uris = mirrors(file, preferences, opts.metalink_enable_unique_protocol);
    if uris.is_empty() {
        return torrent_spec(file, opts).ok_or_else(|| no_mirror(source, listed));
    }
    if file.hashes.is_empty() && file.pieces.is_empty() {
        let unknown = unknown_hash_types(parsed, listed.number);
        if opts.check_integrity && opts.hash_check_only {
            return Err(Error::new(
                ErrorCode::Unknown,
                format!(
                    "{source}: file {} ({}) cannot be checked: the document gives no hash of a type swarmget knows{}",
                    listed.index,
                    file.name,
                    named(&unknown)
                ),
            ));
        }
        if !unknown.is_empty() {
            warn(format!(
                "{source}: file {} ({}) will not be verified: its only hashes are of types swarmget does not know ({})",
                listed.index,
                file.name,
                unknown.join(", ")
            ));
        }
    }
    let mut options = opts.clone();
    options.out = Some(file.name.as_str().to_owned());
    // `--checksum` describes the command line's URI download; a file here is checked
    // against the document's own hashes (aria2 does the same).
    options.checksum = None;
    Ok(DownloadSpec {
        uris,
        options,
        expect: Expect {
            length: file.size,
            hashes: file.hashes.iter().map(Digest::from).collect(),
            pieces: file.strongest_pieces().map(PieceHashes::from),
        },
        torrent: None,
        document: None,
        magnet: None,
        manifests: Vec::new(),
    })
}

/// The file's URLs the engine can use, in the order to try them.
pub fn mirrors(file: &File, preferences: &Preferences, unique_protocol: bool) -> Vec<String> {
    // host → the scheme first tried on it.
    let mut protocol_of: HashMap<&str, &str> = HashMap::new();
    let mut uris = Vec::new();
    for resource in file.ordered_urls(preferences) {
        let url = &resource.url;
        let scheme = url.scheme();
        if !WEB_SCHEMES.contains(&scheme) {
            continue;
        }
        if unique_protocol && let Some(host) = url.host_str() {
            let first = *protocol_of.entry(host).or_insert(scheme);
            if first != scheme {
                continue;
            }
        }
        uris.push(url.to_string());
    }
    uris
}

/// Refuses two files with one path, and a file whose path another needs as a directory.
fn check_overlap(source: &str, chosen: &[&Listed]) -> Result<(), Error> {
    let overlap =
        |message: String| Error::new(ErrorCode::Duplicate, format!("{source}: {message}"));
    let mut by_name: HashMap<&str, &Listed> = HashMap::with_capacity(chosen.len());
    for listed in chosen {
        if let Some(first) = by_name.insert(listed.file.name.as_str(), listed) {
            return Err(overlap(format!(
                "files {} and {} both write {}",
                first.index, listed.index, listed.file.name
            )));
        }
    }
    for listed in chosen {
        let name = listed.file.name.as_str();
        for (at, _) in name.match_indices('/') {
            if let Some(parent) = by_name.get(&name[..at]) {
                return Err(overlap(format!(
                    "file {} ({}) is in a directory named like file {} ({})",
                    listed.index, name, parent.index, parent.file.name
                )));
            }
        }
    }
    Ok(())
}

/// The download of `file`'s first BitTorrent metaurl on a web scheme, followed as a
/// torrent in memory.
fn torrent_spec(file: &File, opts: &Options) -> Option<DownloadSpec> {
    let metaurl = file
        .ordered_metaurls()
        .into_iter()
        .find(|m| m.is_torrent() && WEB_SCHEMES.contains(&m.url.scheme()))?;
    let mut options = opts.clone();
    // The name only marks it as a torrent: under `mem` nothing is written.
    options.out = Some(format!("{}.torrent", file.name.as_str()));
    options.follow_torrent = crate::options::FollowMetalink::Mem;
    options.checksum = None;
    options.select_file = None;
    options.index_out.clear();
    Some(DownloadSpec::new(vec![metaurl.url.to_string()], options))
}

fn no_mirror(source: &str, listed: &Listed) -> Error {
    let file = listed.file;
    let mut schemes: Vec<&str> = file.urls.iter().map(|r| r.url.scheme()).collect();
    schemes.sort_unstable();
    schemes.dedup();
    let why = if !file.metaurls.is_empty() && schemes.is_empty() {
        "; its metaurls are not BitTorrent ones on http, https or ftp".to_owned()
    } else if !schemes.is_empty() {
        format!("; it lists only {} URLs", schemes.join(", "))
    } else {
        String::new()
    };
    Error::new(
        ErrorCode::Unknown,
        format!(
            "{source}: file {} ({}) has no http, https or ftp URL{why}. Leave it out with --select-file",
            listed.index, file.name
        ),
    )
}

/// The hash types the parser dropped from file `number` (position among all files).
fn unknown_hash_types(parsed: &Parsed, number: usize) -> Vec<String> {
    parsed
        .warnings
        .iter()
        .filter(|w| w.file().is_some_and(|f| f.number == number))
        .filter_map(|w| match w.kind() {
            WarningKind::UnknownHashType { name } => Some(name.clone()),
            _ => None,
        })
        .collect()
}

fn named(types: &[String]) -> String {
    if types.is_empty() {
        String::new()
    } else {
        format!(" (it names {})", types.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::HashKind;

    /// A Metalink 4 document with these `<file>` bodies, keyed by name.
    fn doc(files: &[(&str, &str)]) -> String {
        let mut s = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n",
        );
        for (name, body) in files {
            s += &format!("<file name=\"{name}\">{body}</file>\n");
        }
        s + "</metalink>\n"
    }

    fn opts(settings: &[(&str, &str)]) -> Options {
        let mut o = Options::default();
        for (name, value) in settings {
            o.set(name, value).unwrap();
        }
        o
    }

    /// Parses `text` and builds its downloads; returns them with the warnings given.
    fn build(text: &str, o: &Options) -> (Result<Vec<DownloadSpec>, Error>, Vec<String>) {
        let mut warnings = Vec::new();
        let result = load(
            "-",
            o,
            &mut text.as_bytes(),
            ErrorCode::BadOption,
            &mut |w| warnings.push(w),
        )
        .and_then(|parsed| specs(&parsed, "doc.meta4", o, &mut |w| warnings.push(w)));
        (result, warnings)
    }

    fn uris(text: &str, o: &Options) -> Vec<Vec<String>> {
        let (result, _) = build(text, o);
        result.unwrap().into_iter().map(|s| s.uris).collect()
    }

    const MIRRORS: &str = r#"
        <url priority="3" location="us">http://us.example/f</url>
        <url priority="2" location="de">ftp://de.example/f</url>
        <url priority="1" location="jp">https://jp.example/f</url>
        <url location="jp">ftp://jp2.example/f</url>"#;

    #[test]
    fn preferences_order_the_mirrors() {
        let text = doc(&[("f", MIRRORS)]);
        assert_eq!(
            uris(&text, &opts(&[])),
            [[
                "https://jp.example/f",
                "ftp://de.example/f",
                "http://us.example/f",
                "ftp://jp2.example/f"
            ]]
        );
        // A location first, then within it priority.
        assert_eq!(
            uris(&text, &opts(&[("metalink-location", "us,de")])),
            [[
                "ftp://de.example/f",
                "http://us.example/f",
                "https://jp.example/f",
                "ftp://jp2.example/f"
            ]]
        );
        // Location and protocol both matching beats either alone.
        assert_eq!(
            uris(
                &text,
                &opts(&[
                    ("metalink-location", "jp"),
                    ("metalink-preferred-protocol", "ftp")
                ])
            ),
            [[
                "ftp://jp2.example/f",
                "https://jp.example/f",
                "ftp://de.example/f",
                "http://us.example/f"
            ]]
        );
    }

    #[test]
    fn select_file_counts_the_files_the_preferences_keep() {
        let file = |lang: &str, host: &str| {
            format!("<language>{lang}</language><url>http://{host}/x</url>")
        };
        let (a, b, c, d) = (
            file("en", "a"),
            file("de", "b"),
            file("en", "c"),
            file("en", "d"),
        );
        let text = doc(&[("a", &a), ("b", &b), ("c", &c), ("d", &d)]);
        let names = |o: &Options| -> Vec<String> {
            let (result, _) = build(&text, o);
            result
                .unwrap()
                .into_iter()
                .map(|s| s.options.out.unwrap())
                .collect()
        };
        assert_eq!(names(&opts(&[("select-file", "2,4")])), ["b", "d"]);
        assert_eq!(names(&opts(&[("select-file", "3-9")])), ["c", "d"]);
        // With the language filter, c is the second file left: index 2, as -S shows it.
        assert_eq!(
            names(&opts(&[("metalink-language", "en"), ("select-file", "2")])),
            ["c"]
        );
        let (result, warnings) = build(&text, &opts(&[("select-file", "1,7")]));
        assert_eq!(result.unwrap().len(), 1);
        assert_eq!(
            warnings,
            [
                "doc.meta4: --select-file index 7 is past the last of its 4 files; such indexes select nothing"
            ]
        );
        let (result, _) = build(&text, &opts(&[("select-file", "5-6")]));
        let e = result.unwrap_err();
        assert_eq!(e.code, ErrorCode::Unknown);
        assert_eq!(
            e.message,
            "doc.meta4: --select-file selects none of its 4 files (see --show-files)"
        );
        let (result, _) = build(&text, &opts(&[("metalink-language", "fr")]));
        assert!(
            result
                .unwrap_err()
                .message
                .contains("none of its 4 files matches"),
        );
    }

    #[test]
    fn unique_protocol_keeps_one_protocol_per_host() {
        let body = r#"
            <url priority="1">http://a.example/f</url>
            <url priority="2">ftp://a.example/pub/f</url>
            <url priority="3">https://b.example/f</url>
            <url priority="4">http://a.example/mirror/f</url>
            <url priority="5">ftp://c.example/f</url>"#;
        let text = doc(&[("f", body)]);
        assert_eq!(
            uris(&text, &opts(&[])),
            [[
                "http://a.example/f",
                "https://b.example/f",
                "http://a.example/mirror/f",
                "ftp://c.example/f"
            ]]
        );
        // The preferred protocol decides which one a host keeps.
        assert_eq!(
            uris(&text, &opts(&[("metalink-preferred-protocol", "ftp")])),
            [[
                "ftp://a.example/pub/f",
                "ftp://c.example/f",
                "https://b.example/f"
            ]]
        );
        assert_eq!(
            uris(
                &text,
                &opts(&[("metalink-enable-unique-protocol", "false")])
            )[0]
            .len(),
            5
        );
    }

    #[test]
    fn base_uri_resolves_relative_urls() {
        let text = doc(&[("f", "<url>mirror/f</url><url>ftp://a.example/f</url>")]);
        assert_eq!(
            uris(
                &text,
                &opts(&[("metalink-base-uri", "http://base.example/dir/")])
            ),
            [["http://base.example/dir/mirror/f", "ftp://a.example/f"]]
        );
        let (result, warnings) = build(&text, &opts(&[]));
        assert_eq!(result.unwrap()[0].uris, ["ftp://a.example/f"]);
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("relative URL \"mirror/f\" dropped"),
            "{warnings:?}"
        );
    }

    #[test]
    fn names_leaving_the_directory_refuse_the_document() {
        for name in ["../escape", "/etc/passwd", "a/../../b", "C:x"] {
            let text = doc(&[
                ("ok", "<url>http://a/ok</url>"),
                (name, "<url>http://a/x</url>"),
            ]);
            let (result, _) = build(&text, &opts(&[]));
            let e = result.unwrap_err();
            assert_eq!(e.code, ErrorCode::Metalink, "{name}");
            assert!(
                e.message.contains("unsafe file name"),
                "{name}: {}",
                e.message
            );
        }
    }

    #[test]
    fn overlapping_files_refuse_the_document() {
        let url = "<url>http://a/x</url>";
        let (result, _) = build(&doc(&[("d/f", url), ("g", url), ("d/f", url)]), &opts(&[]));
        let e = result.unwrap_err();
        assert_eq!(e.code, ErrorCode::Duplicate);
        assert_eq!(e.message, "doc.meta4: files 1 and 3 both write d/f");
        let (result, _) = build(&doc(&[("d/f/g", url), ("d/f", url)]), &opts(&[]));
        let e = result.unwrap_err();
        assert_eq!(e.code, ErrorCode::Duplicate);
        assert_eq!(
            e.message,
            "doc.meta4: file 1 (d/f/g) is in a directory named like file 2 (d/f)"
        );
        // Names that only share a prefix do not overlap.
        let (result, _) = build(
            &doc(&[("d/f", url), ("d/f-g", url), ("d/fg/h", url)]),
            &opts(&[]),
        );
        assert_eq!(result.unwrap().len(), 3);
        // Leaving one of the pair out with --select-file is fine.
        let (result, _) = build(
            &doc(&[("d/f", url), ("d/f", url)]),
            &opts(&[("select-file", "2")]),
        );
        assert_eq!(result.unwrap().len(), 1);
    }

    #[test]
    fn a_file_with_only_a_torrent_metaurl_downloads_the_torrent_to_follow_it() {
        let torrent = r#"<size>5</size><metaurl mediatype="torrent" priority="2">ftp://a/low</metaurl><metaurl mediatype="torrent" priority="1">http://a/get/7</metaurl>"#;
        let (result, _) = build(
            &doc(&[("ok", "<url>http://a/ok</url>"), ("d/t", torrent)]),
            &opts(&[("select-file", "2")]),
        );
        let specs = result.unwrap();
        assert_eq!(specs.len(), 1);
        assert_eq!(specs[0].uris, ["http://a/get/7"]);
        let o = &specs[0].options;
        assert_eq!(o.out.as_deref(), Some("d/t.torrent"));
        assert_eq!(o.follow_torrent, crate::options::FollowMetalink::Mem);
        assert_eq!(o.select_file, None);
        assert_eq!(specs[0].expect, Expect::default(), "the size is the file's");
    }

    #[test]
    fn a_file_without_a_usable_mirror_refuses_the_document() {
        let other = r#"<metaurl mediatype="application/x-other">http://a/f.x</metaurl>"#;
        let (result, _) = build(
            &doc(&[("ok", "<url>http://a/ok</url>"), ("t", other)]),
            &opts(&[]),
        );
        let e = result.unwrap_err();
        assert_eq!(e.code, ErrorCode::Unknown);
        assert_eq!(
            e.message,
            "doc.meta4: file 2 (t) has no http, https or ftp URL; its metaurls are not \
             BitTorrent ones on http, https or ftp. Leave it out with --select-file"
        );
        let (result, _) = build(
            &doc(&[("r", "<url>rsync://a/r</url><url>gopher://b/r</url>")]),
            &opts(&[]),
        );
        assert!(
            result
                .unwrap_err()
                .message
                .contains("has no http, https or ftp URL; it lists only gopher, rsync URLs"),
        );
        let (result, _) = build(
            &doc(&[("ok", "<url>http://a/ok</url>"), ("t", other)]),
            &opts(&[("select-file", "1")]),
        );
        assert_eq!(result.unwrap()[0].uris, ["http://a/ok"]);
    }

    #[test]
    fn unknown_hash_types_leave_the_file_unverified_unless_only_a_check_was_asked() {
        let body = r#"<hash type="sha3-256">00</hash><url>http://a/f</url>"#;
        let text = doc(&[("f", body)]);
        let (result, warnings) = build(&text, &opts(&[]));
        let specs = result.unwrap();
        assert!(specs[0].expect.hashes.is_empty());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("hash type \"sha3-256\" is not supported"));
        assert_eq!(
            warnings[1],
            "doc.meta4: file 1 (f) will not be verified: its only hashes are of types swarmget does not know (sha3-256)"
        );
        let (result, _) = build(&text, &opts(&[("check-integrity", "true")]));
        assert!(result.is_ok());
        let (result, _) = build(
            &text,
            &opts(&[("check-integrity", "true"), ("hash-check-only", "true")]),
        );
        let e = result.unwrap_err();
        assert_eq!(e.code, ErrorCode::Unknown);
        assert_eq!(
            e.message,
            "doc.meta4: file 1 (f) cannot be checked: the document gives no hash of a type swarmget knows (it names sha3-256)"
        );
    }

    #[test]
    fn an_endless_document_is_read_only_past_the_limit() {
        let limit = Limits::DEFAULT.max_document_bytes;
        let bytes = read_source("-", &mut io::repeat(b' ')).unwrap();
        assert_eq!(bytes.len(), limit + 1);
        let (result, _) = build(std::str::from_utf8(&bytes).unwrap(), &opts(&[]));
        let e = result.unwrap_err();
        assert_eq!(e.code, ErrorCode::Metalink);
        assert!(e.message.contains("more than the limit"), "{}", e.message);
    }

    #[test]
    fn each_file_gets_its_name_size_hashes_and_strongest_pieces() {
        let sha1 = "a9993e364706816aba3e25717850c26c9cd0d89d";
        let md5 = "900150983cd24fb0d6963f7d28e17f72";
        let body = format!(
            r#"<size>6</size>
            <hash type="md5">{md5}</hash><hash type="sha-1">{sha1}</hash>
            <pieces type="md5" length="4"><hash>{md5}</hash><hash>{md5}</hash></pieces>
            <pieces type="sha-1" length="4"><hash>{sha1}</hash><hash>{sha1}</hash></pieces>
            <url>http://a/f</url>"#
        );
        let text = doc(&[("dir/f.bin", &body), ("g", "<url>ftp://b/g</url>")]);
        let (result, _) = build(
            &text,
            &opts(&[
                ("split", "3"),
                ("dir", "/dl"),
                ("checksum", &format!("md5={md5}")),
            ]),
        );
        let specs = result.unwrap();
        assert_eq!(specs.len(), 2);
        let f = &specs[0];
        assert_eq!(f.options.out.as_deref(), Some("dir/f.bin"));
        assert_eq!((f.options.split, f.options.dir.to_str()), (3, Some("/dl")));
        assert!(f.options.checksum.is_none());
        assert_eq!(f.expect.length, Some(6));
        let kinds: Vec<HashKind> = f.expect.hashes.iter().map(|d| d.kind).collect();
        assert_eq!(kinds, [HashKind::Md5, HashKind::Sha1]);
        assert_eq!(f.expect.hashes[1].bytes[..2], [0xa9, 0x99]);
        let pieces = f.expect.pieces.as_ref().unwrap();
        assert_eq!(
            (pieces.kind, pieces.length, pieces.digests.len()),
            (HashKind::Sha1, 4, 2)
        );
        assert_eq!(pieces.digests[1][0], 0xa9);
        let g = &specs[1];
        assert_eq!(g.options.out.as_deref(), Some("g"));
        assert_eq!(g.expect, Expect::default());
    }
}
