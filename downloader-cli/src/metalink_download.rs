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
//!   crate has checked it; the engine joins it under `-d`), and `expect` set from the
//!   document: `<size>`, every `<hash>`, the strongest `<pieces>`.
//!
//! Refused as a whole, before anything is started (swarmget's choice: aria2 starts the
//! other files and fails the bad one, which leaves a half-done set behind):
//! - two selected files with the same path, or one whose path is a directory of
//!   another's: exit 11, aria2's code for "the same file is already being downloaded";
//! - a selected file with no http, https or ftp URL (only BitTorrent metaurls, or other
//!   schemes): exit 1, as aria2's download without a URI ends;
//! - no file left after the preference filters or `--select-file`: exit 1 (aria2 prints
//!   "No files to download." and exits 0, which hides the mistake).
//!
//! Hash types the crate does not know are dropped by it with a warning. Following
//! aria2, such a file is still downloaded, unverified, with one more warning saying so —
//! except under `-V --hash-check-only`, where checking is all that was asked and a file
//! with no usable hash is an error (exit 1).

use std::collections::HashMap;
use std::io::{self, Read};

use swarmget_engine::digest::{Digest, HashKind, PieceHashes};
use swarmget_engine::options::MetalinkProtocol;
use swarmget_engine::{DownloadSpec, Error, ErrorCode, Expect, Options};
use swarmget_metalink::{
    File, Hash, HashAlgorithm, Location, Metalink, ParseOptions, Parsed, Pieces, Preferences,
    Protocol, WarningKind, parse,
};

/// The URL schemes the engine downloads from.
pub const WEB_SCHEMES: [&str; 3] = ["http", "https", "ftp"];

/// Reads a document from `source`, a path or `-` for `stdin`.
pub fn read_source(source: &str, stdin: &mut dyn Read) -> io::Result<Vec<u8>> {
    if source == "-" {
        let mut bytes = Vec::new();
        stdin.read_to_end(&mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(source)
    }
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
    let options = ParseOptions {
        base_uri: opts.metalink_base_uri.clone(),
        ..ParseOptions::default()
    };
    let parsed = parse(&bytes, &options)
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
    if listed.is_empty() {
        return Err(Error::new(
            ErrorCode::Unknown,
            format!(
                "{source}: none of its {} files matches --metalink-version, --metalink-language and --metalink-os",
                parsed.metalink.files.len()
            ),
        ));
    }
    let chosen: Vec<&Listed> = match &opts.select_file {
        None => listed.iter().collect(),
        Some(selection) => {
            if let Some(max) = selection.max().filter(|&max| max > listed.len()) {
                warn(format!(
                    "{source}: --select-file index {max} is past the last of its {} files; such indexes select nothing",
                    listed.len()
                ));
            }
            listed
                .iter()
                .filter(|l| selection.contains(l.index))
                .collect()
        }
    };
    if chosen.is_empty() {
        return Err(Error::new(
            ErrorCode::Unknown,
            format!(
                "{source}: --select-file selects none of its {} files (see --show-files)",
                listed.len()
            ),
        ));
    }
    check_overlap(source, &chosen)?;
    let mut specs = Vec::with_capacity(chosen.len());
    for listed in chosen {
        let file = listed.file;
        let uris = mirrors(file, &preferences, opts.metalink_enable_unique_protocol);
        if uris.is_empty() {
            return Err(no_mirror(source, listed));
        }
        let unknown = unknown_hash_types(parsed, listed.number);
        if file.hashes.is_empty() && file.pieces.is_empty() {
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
        specs.push(DownloadSpec {
            uris,
            options,
            expect: Expect {
                length: file.size,
                hashes: file.hashes.iter().map(digest).collect(),
                pieces: file.strongest_pieces().map(piece_hashes),
            },
        });
    }
    Ok(specs)
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

fn no_mirror(source: &str, listed: &Listed) -> Error {
    let file = listed.file;
    let mut schemes: Vec<&str> = file.urls.iter().map(|r| r.url.scheme()).collect();
    schemes.sort_unstable();
    schemes.dedup();
    let why = if !file.metaurls.is_empty() && schemes.is_empty() {
        "; its only sources are metaurls (BitTorrent), which are not supported yet".to_owned()
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

// The lead swaps these for the `From` conversions engine/src/digest.rs is getting.

fn hash_kind(algorithm: HashAlgorithm) -> HashKind {
    match algorithm {
        HashAlgorithm::Md5 => HashKind::Md5,
        HashAlgorithm::Sha1 => HashKind::Sha1,
        HashAlgorithm::Sha224 => HashKind::Sha224,
        HashAlgorithm::Sha256 => HashKind::Sha256,
        HashAlgorithm::Sha384 => HashKind::Sha384,
        HashAlgorithm::Sha512 => HashKind::Sha512,
    }
}

fn digest(hash: &Hash) -> Digest {
    Digest {
        kind: hash_kind(hash.algorithm()),
        bytes: hash.bytes().to_vec(),
    }
}

fn piece_hashes(pieces: &Pieces) -> PieceHashes {
    PieceHashes {
        kind: hash_kind(pieces.algorithm()),
        length: pieces.length().get(),
        digests: pieces.iter().map(<[u8]>::to_vec).collect(),
    }
}
