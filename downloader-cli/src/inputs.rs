//! What the command line (and each input-file line) asks to download, as aria2 reads
//! it.
//!
//! An argument is a magnet link (`magnet:`), a local Metalink document, a local
//! `.torrent` file (by its extension, or a file starting `d8:announce`/`d4:info`), or a
//! URI. A
//! local Metalink document is an argument that is not a URI and either ends in
//! `.meta4`/`.metalink` or names a file starting with `<?xml` (aria2 looks only at that
//! first line; the extension also catches documents written without an XML
//! declaration). Without `-Z`, the URIs together are mirrors of one download, made
//! first; magnet links and documents follow in argument order, each giving its own
//! downloads. With `-Z` every argument is taken alone, in order.
//!
//! `-o` and `--checksum` describe the URI download; the files of documents and magnet
//! links are named and checked by what those say.
//!
//! `-M FILE` takes precedence over everything else, as in aria2: with it, the command
//! line's URIs and `-i` are not read (a warning says so).

use std::io::Read;
use std::path::Path;

use swarmget_engine::{DocumentRef, DownloadSpec, Error, ErrorCode, Options, Torrent};
use swarmget_metalink::Url;

use swarmget_engine::metalink;

use swarmget_engine::magnet_download;

/// One argument, classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// A URI for the engine (http, https, ftp; others fail there).
    Uri(&'a str),
    /// A `magnet:` link.
    Magnet(&'a str),
    /// A local Metalink document.
    Metalink(&'a str),
    /// A local `.torrent` file.
    Torrent(&'a str),
}

/// Classifies one argument.
pub fn classify(arg: &str) -> Input<'_> {
    if magnet_download::is_magnet(arg) {
        return Input::Magnet(arg);
    }
    if Url::parse(arg).is_err() && is_metalink_file(Path::new(arg)) {
        return Input::Metalink(arg);
    }
    if Url::parse(arg).is_err() && is_torrent_file(Path::new(arg)) {
        return Input::Torrent(arg);
    }
    Input::Uri(arg)
}

fn is_metalink_file(path: &Path) -> bool {
    let by_name = path.extension().is_some_and(|ext| {
        ext.eq_ignore_ascii_case("meta4") || ext.eq_ignore_ascii_case("metalink")
    });
    by_name || starts_with_xml_declaration(path)
}

/// A `.torrent` name, or a file that starts as a torrent's dictionary does (aria2 reads
/// the content too).
fn is_torrent_file(path: &Path) -> bool {
    let by_name = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("torrent"));
    let mut head = [0u8; 11];
    by_name
        || std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut head))
            .is_ok_and(|()| head.starts_with(b"d8:announce") || head.starts_with(b"d4:info"))
}

/// The largest .torrent file read (aria2 has no limit; a torrent's piece hashes of a
/// terabyte at 256 KiB pieces are 80 MiB).
const MAX_TORRENT_FILE: u64 = 128 << 20;

/// The download a local .torrent file describes.
pub fn torrent(path: &str, opts: &Options) -> Result<DownloadSpec, Error> {
    let cannot =
        |e: std::io::Error| Error::new(ErrorCode::Unknown, format!("cannot read {path}: {e}"));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_TORRENT_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_TORRENT_FILE {
        return Err(Error::new(
            ErrorCode::BtMetainfo,
            format!("{path}: larger than {MAX_TORRENT_FILE} bytes"),
        ));
    }
    let mut spec = torrent_bytes(&bytes, path, opts)?;
    spec.document = Some(DocumentRef::new(path));
    Ok(spec)
}

/// The download a torrent's bytes describe (a file's, or `aria2.addTorrent`'s upload);
/// `what` names them in errors.
pub fn torrent_bytes(bytes: &[u8], what: &str, opts: &Options) -> Result<DownloadSpec, Error> {
    let torrent =
        Torrent::parse(bytes).map_err(|e| Error::new(e.code, format!("{what}: {}", e.message)))?;
    Ok(DownloadSpec::torrent(torrent, opts.clone()))
}

/// The downloads for `-T FILE`; the URIs beside it are the torrent's extra web seeds,
/// as in aria2.
pub fn torrent_option(
    path: &str,
    uris: &[String],
    opts: &Options,
) -> Result<Vec<DownloadSpec>, Error> {
    let mut spec = torrent(path, opts)?;
    spec.torrent = spec.torrent.map(|t| t.with_web_seeds(uris)).transpose()?;
    Ok(vec![spec])
}

fn starts_with_xml_declaration(path: &Path) -> bool {
    let mut head = [0u8; 5];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| &head == b"<?xml")
}

/// The downloads for `-M FILE` (`-` = standard input). `uris` are the command line's,
/// which aria2 does not download alongside `-M`.
pub fn metalink_option(
    source: &str,
    uris: &[String],
    opts: &Options,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<DownloadSpec>, Error> {
    if !uris.is_empty() {
        warn("the URIs on the command line are not downloaded with -M (as in aria2)".into());
    }
    if opts.input_file.is_some() {
        warn("-i is not read with -M (as in aria2)".into());
    }
    if opts.out.is_some() {
        warn("-o is not used with -M: each file is named by the document".into());
    }
    if opts.checksum.is_some() {
        warn(
            "--checksum is not used with -M: each file is checked against the document's hashes"
                .into(),
        );
    }
    let parsed = metalink::load(
        source,
        opts,
        &mut std::io::stdin().lock(),
        ErrorCode::BadOption,
        warn,
    )?;
    let specs = metalink::specs(&parsed, source, opts, warn)?;
    // Standard input cannot be read again: a session names its files' URIs instead.
    Ok(match source {
        "-" => specs,
        path => from_document(specs, path),
    })
}

/// `specs` marked as read from the local document at `path`, which `--save-session`
/// then names once in their place (as aria2 does).
pub fn from_document(mut specs: Vec<DownloadSpec>, path: &str) -> Vec<DownloadSpec> {
    let document = DocumentRef::new(path);
    for spec in &mut specs {
        spec.document = Some(document.clone());
    }
    specs
}

/// The downloads for a list of arguments (the command line's, or one input-file
/// line's) under `opts`.
pub fn arguments(
    args: &[String],
    opts: &Options,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<DownloadSpec>, Error> {
    let expanded;
    let args = if opts.parameterized_uri {
        expanded = parameterized(args)?;
        &expanded
    } else {
        args
    };
    let inputs: Vec<Input> = args.iter().map(|a| classify(a)).collect();
    let mut specs = Vec::new();
    if opts.force_sequential {
        for input in inputs {
            match input {
                Input::Uri(uri) => {
                    specs.push(DownloadSpec::new(vec![uri.to_owned()], opts.clone()))
                }
                other => specs.extend(documents(other, opts, warn)?),
            }
        }
        return Ok(specs);
    }
    let uris: Vec<String> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::Uri(uri) => Some((*uri).to_owned()),
            _ => None,
        })
        .collect();
    if !uris.is_empty() {
        specs.push(DownloadSpec::new(uris, opts.clone()));
    }
    for input in inputs {
        if !matches!(input, Input::Uri(_)) {
            specs.extend(documents(input, opts, warn)?);
        }
    }
    Ok(specs)
}

/// `-P`: every URI argument replaced by the URIs its pattern gives (magnet links and
/// local documents are taken as they are).
fn parameterized(args: &[String]) -> Result<Vec<String>, Error> {
    let mut out = Vec::new();
    for arg in args {
        if !matches!(classify(arg), Input::Uri(_)) {
            out.push(arg.clone());
            continue;
        }
        let pattern = swarmget_engine::param_uri::Pattern::parse(arg)
            .map_err(|e| Error::new(ErrorCode::BadOption, format!("{arg}: {e}")))?;
        let total = out.len() as u64 + pattern.count();
        if total > swarmget_engine::param_uri::MAX_EXPANSIONS {
            return Err(Error::new(
                ErrorCode::BadOption,
                swarmget_engine::param_uri::PatternError::TooMany.to_string(),
            ));
        }
        out.extend(pattern.iter());
    }
    Ok(out)
}

/// The downloads a magnet link or a local Metalink document describes.
fn documents(
    input: Input,
    opts: &Options,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<DownloadSpec>, Error> {
    match input {
        Input::Magnet(link) => magnet_download::specs(link, opts, warn),
        Input::Metalink(path) => {
            let parsed =
                metalink::load(path, opts, &mut std::io::empty(), ErrorCode::Unknown, warn)?;
            Ok(from_document(
                metalink::specs(&parsed, path, opts, warn)?,
                path,
            ))
        }
        Input::Torrent(path) => Ok(vec![torrent(path, opts)?]),
        Input::Uri(uri) => Ok(vec![DownloadSpec::new(vec![uri.to_owned()], opts.clone())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scratch::Scratch;

    const TWO_FILES: &str = r#"<metalink xmlns="urn:ietf:params:xml:ns:metalink">
        <file name="one"><url>http://m/one</url></file>
        <file name="two"><url>http://m/two</url></file>
        </metalink>"#;

    #[test]
    fn arguments_are_classified_like_aria2() {
        let dir = Scratch::new("inputs-classify");
        let xml = dir.file("list.xml", format!("<?xml version=\"1.0\"?>{TWO_FILES}"));
        let text = dir.file("notes.txt", "not a document");
        let named = dir.file("doc.META4", TWO_FILES);
        assert_eq!(classify("magnet:?xt=x"), Input::Magnet("magnet:?xt=x"));
        assert_eq!(classify("http://h/f.meta4"), Input::Uri("http://h/f.meta4"));
        assert_eq!(classify(&xml), Input::Metalink(&xml));
        assert_eq!(classify(&named), Input::Metalink(&named));
        assert_eq!(classify(&text), Input::Uri(&text));
        // By name even when missing, so reading it reports the missing file.
        assert_eq!(classify("gone.metalink"), Input::Metalink("gone.metalink"));
    }

    #[test]
    fn uris_come_first_then_documents_in_order_and_z_keeps_argument_order() {
        let dir = Scratch::new("inputs-order");
        let doc = dir.file("d.meta4", TWO_FILES);
        let args: Vec<String> = ["http://a/f", &doc, "ftp://b/f"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let summary = |specs: Vec<DownloadSpec>| -> Vec<String> {
            specs
                .iter()
                .map(|s| {
                    format!(
                        "{}>{}",
                        s.uris.join("+"),
                        s.options.out.as_deref().unwrap_or("-")
                    )
                })
                .collect()
        };
        let mut o = Options {
            out: Some("named.bin".into()),
            ..Options::default()
        };
        let specs = arguments(&args, &o, &mut |w| panic!("{w}")).unwrap();
        assert_eq!(
            summary(specs),
            [
                "http://a/f+ftp://b/f>named.bin",
                "http://m/one>one",
                "http://m/two>two"
            ]
        );
        o.force_sequential = true;
        let specs = arguments(&args, &o, &mut |w| panic!("{w}")).unwrap();
        assert_eq!(
            summary(specs),
            [
                "http://a/f>named.bin",
                "http://m/one>one",
                "http://m/two>two",
                "ftp://b/f>named.bin"
            ]
        );
    }

    #[test]
    fn documents_that_cannot_be_read_or_parsed_stop_with_aria2s_codes() {
        let dir = Scratch::new("inputs-errors");
        let missing = dir.join("missing.meta4");
        let args = vec![missing.to_str().unwrap().to_owned()];
        let e = arguments(&args, &Options::default(), &mut |_| {}).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unknown);
        assert!(e.message.starts_with("cannot read "), "{}", e.message);
        let bad = dir.file("bad.meta4", "<metalink/>");
        let e = arguments(&[bad], &Options::default(), &mut |_| {}).unwrap_err();
        assert_eq!(e.code, ErrorCode::Metalink);
    }
}
