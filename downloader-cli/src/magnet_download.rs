//! Magnet links with web sources into downloads.
//!
//! A magnet link's group (a link usually has one; `xt.1`, `xt.2`… make several) becomes
//! one [`DownloadSpec`] when it names the file by a hash the engine verifies (`sha1`,
//! `tree:tiger`, `bitprint`, `ed2k`, `aich`, `md5`, `crc32`) and gives http, https or
//! ftp URLs to fetch it from:
//! - the URIs are the `as` (acceptable source) URLs, then the `xs` (exact source) URLs,
//!   duplicates dropped; an `xs` that is not http/https/ftp (`dchub:`, `ed2kftp:`…) or
//!   that names a `.torrent`/`.meta4`/`.metalink` document (following those is later
//!   work) is left out with a warning;
//! - `dn` names the output file, checked by the same rule as Metalink names (the
//!   metalink crate's [`FileName`]): a name that could leave `-d` refuses the link
//!   (exit 27, aria2's "bad magnet URI"); without `dn` the server's answer names it;
//! - `xl` is the expected length, and every typed hash an expected digest.
//!
//! A group whose only hashes are BitTorrent info hashes (`btih`, `btmh`) is a BitTorrent
//! download, which swarmget does not do yet: exit 1 with a message saying so. A group
//! with a typed hash but no web source cannot be fetched (exit 1).

use std::collections::HashSet;

use swarmget_engine::digest::Digest;
use swarmget_engine::{DownloadSpec, Error, ErrorCode, Expect, Options};
use swarmget_magnet_uri::{ExactTopic, Group, Magnet};
use swarmget_metalink::{FileName, Url};

use swarmget_engine::metalink::WEB_SCHEMES;

/// Whether `arg` is a magnet link (`magnet:`, any case).
pub fn is_magnet(arg: &str) -> bool {
    arg.get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("magnet:"))
}

/// The downloads a magnet link describes, one per group. Options are copied per
/// download with `out` set from `dn` (or cleared: `-o`, like `--checksum`, which is
/// cleared too, describes the command line's URI download).
pub fn specs(
    link: &str,
    opts: &Options,
    warn: &mut dyn FnMut(String),
) -> Result<Vec<DownloadSpec>, Error> {
    let magnet = Magnet::parse(link)
        .map_err(|e| Error::new(ErrorCode::BadMagnet, format!("invalid magnet link: {e}")))?;
    if magnet.groups.is_empty() {
        return Err(Error::new(
            ErrorCode::BadMagnet,
            "invalid magnet link: it describes nothing to download",
        ));
    }
    magnet
        .groups
        .iter()
        .map(|group| spec(group, opts, warn))
        .collect()
}

fn spec(
    group: &Group,
    opts: &Options,
    warn: &mut dyn FnMut(String),
) -> Result<DownloadSpec, Error> {
    let mut hashes = Vec::new();
    let mut bittorrent = false;
    for topic in &group.exact_topics {
        if matches!(topic, ExactTopic::Btih(_) | ExactTopic::Btmh(_)) {
            bittorrent = true;
            continue;
        }
        let digests = Digest::from_exact_topic(topic);
        if digests.is_empty() {
            warn(format!(
                "magnet xt={topic} is not a hash swarmget verifies; ignored"
            ));
        }
        hashes.extend(digests);
    }
    if hashes.is_empty() && bittorrent {
        return Err(Error::new(
            ErrorCode::Unknown,
            "BitTorrent magnet downloads are not supported yet: this link names its content \
             only by a BitTorrent info hash (btih/btmh)",
        ));
    }
    let uris = sources(group, warn);
    if uris.is_empty() {
        return Err(Error::new(
            ErrorCode::Unknown,
            "magnet link gives no http, https or ftp source (as= or xs=) to download from; \
             finding sources on peer-to-peer networks is not supported",
        ));
    }
    if bittorrent {
        warn("magnet link: its BitTorrent info hash is not used; the file comes from the web sources".into());
    }
    if hashes.is_empty() {
        warn("magnet link names no hash: the file will not be verified".into());
    }
    let out = match &group.display_name {
        None => None,
        Some(dn) => Some(
            FileName::new(dn)
                .map_err(|e| {
                    Error::new(
                        ErrorCode::BadMagnet,
                        format!("magnet dn {dn:?} is not a safe file name: {e}"),
                    )
                })?
                .as_str()
                .to_owned(),
        ),
    };
    let mut options = opts.clone();
    options.out = out;
    // `--checksum` describes the command line's URI download; this one has its own.
    options.checksum = None;
    Ok(DownloadSpec {
        uris,
        options,
        expect: Expect {
            length: group.exact_length,
            hashes,
            pieces: None,
        },
        torrent: None,
        metadata_uri: None,
    })
}

/// `as` then `xs` URLs the engine can fetch, without duplicates.
fn sources(group: &Group, warn: &mut dyn FnMut(String)) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut uris = Vec::new();
    let mut add = |uri: &str, uris: &mut Vec<String>| {
        if seen.insert(uri.to_owned()) {
            uris.push(uri.to_owned());
        }
    };
    for source in &group.acceptable_sources {
        if is_web(source) {
            add(source, &mut uris);
        } else {
            warn(format!(
                "magnet as={source} ignored: only http, https and ftp sources are used"
            ));
        }
    }
    for source in &group.exact_sources {
        if !is_web(source) {
            warn(format!(
                "magnet xs={source} ignored: only http, https and ftp sources are used"
            ));
        } else if names_metadata(source) {
            warn(format!(
                "magnet xs={source} ignored: following a .torrent or Metalink document from a magnet link is not supported yet"
            ));
        } else {
            add(source, &mut uris);
        }
    }
    uris
}

fn is_web(uri: &str) -> bool {
    Url::parse(uri).is_ok_and(|u| WEB_SCHEMES.contains(&u.scheme()))
}

/// Whether the URL's path names a `.torrent`, `.meta4` or `.metalink` document.
fn names_metadata(uri: &str) -> bool {
    Url::parse(uri).is_ok_and(|u| {
        let path = u.path().to_ascii_lowercase();
        [".torrent", ".meta4", ".metalink"]
            .iter()
            .any(|ext| path.ends_with(ext))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarmget_engine::digest::HashKind;

    const SHA1: &str = "urn:sha1:TXGCZQTH26NL6OUQAJJPFALHG2LTGBC7";
    const TTH: &str = "TXGCZQTH26NL6OUQAJJPFALHG2LTGBC7YRJ6V5I";
    const BTIH: &str = "urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

    fn build(link: &str) -> (Result<Vec<DownloadSpec>, Error>, Vec<String>) {
        let mut warnings = Vec::new();
        let mut opts = Options::default();
        opts.set("checksum", "md5=d41d8cd98f00b204e9800998ecf8427e")
            .unwrap();
        let result = specs(link, &opts, &mut |w| warnings.push(w));
        (result, warnings)
    }

    #[test]
    fn web_sources_name_and_hashes_make_one_download() {
        let link = format!(
            "magnet:?xt={SHA1}&xl=1234&dn=disk%20image.iso\
             &as=http%3A%2F%2Fa.example%2Fimage.iso\
             &xs=ftp%3A%2F%2Fb.example%2Fimage.iso\
             &xs=http%3A%2F%2Fa.example%2Fimage.iso\
             &xs=dchub%3A%2F%2Fhub.example%3A411\
             &xs=http%3A%2F%2Fc.example%2Fimage.iso.torrent\
             &as=rsync%3A%2F%2Fd.example%2Fimage.iso"
        );
        let (result, warnings) = build(&link);
        let specs = result.unwrap();
        assert_eq!(specs.len(), 1);
        let spec = &specs[0];
        assert_eq!(
            spec.uris,
            ["http://a.example/image.iso", "ftp://b.example/image.iso"]
        );
        assert_eq!(spec.options.out.as_deref(), Some("disk image.iso"));
        assert!(spec.options.checksum.is_none());
        assert_eq!(spec.expect.length, Some(1234));
        assert_eq!(spec.expect.hashes.len(), 1);
        assert_eq!(spec.expect.hashes[0].kind, HashKind::Sha1);
        assert_eq!(spec.expect.hashes[0].bytes.len(), 20);
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].starts_with("magnet as=rsync://d.example/image.iso ignored"));
        assert!(warnings[1].starts_with("magnet xs=dchub://hub.example:411 ignored"));
        assert!(warnings[2].contains("image.iso.torrent ignored: following a .torrent"));
    }

    #[test]
    fn every_typed_hash_is_expected() {
        let link = format!(
            "magnet:?xt=urn:bitprint:TXGCZQTH26NL6OUQAJJPFALHG2LTGBC7.{TTH}\
             &xt=urn:ed2k:31d6cfe0d16ae931b73c59d7e0c089c0\
             &xt=urn:aich:3i42h3s6nnfq2msvx7xzkyayscx5qbyj\
             &xt=urn:md5:d41d8cd98f00b204e9800998ecf8427e\
             &xt=urn:crc32:12345678&xt=urn:tree:tiger:{TTH}\
             &as=https%3A%2F%2Fa.example%2Ff"
        );
        let (result, warnings) = build(&link);
        assert!(warnings.is_empty(), "{warnings:?}");
        let hashes = &result.unwrap()[0].expect.hashes;
        let kinds: Vec<HashKind> = hashes.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            [
                HashKind::Sha1,
                HashKind::Tth,
                HashKind::Ed2k,
                HashKind::Aich,
                HashKind::Md5,
                HashKind::Crc32,
                HashKind::Tth
            ]
        );
        assert_eq!(hashes[5].bytes, [0x12, 0x34, 0x56, 0x78]);
        assert_eq!(hashes[1].bytes, hashes[6].bytes);
    }

    #[test]
    fn bittorrent_only_links_are_not_supported_yet() {
        for link in [
            format!("magnet:?xt={BTIH}&dn=x"),
            format!("magnet:?xt={BTIH}&as=http%3A%2F%2Fa.example%2Ff"),
        ] {
            let e = build(&link).0.unwrap_err();
            assert_eq!(e.code, ErrorCode::Unknown, "{link}");
            assert!(
                e.message
                    .starts_with("BitTorrent magnet downloads are not supported yet"),
                "{}",
                e.message
            );
        }
        // With a typed hash too, the web sources are used and the info hash noted.
        let (result, warnings) = build(&format!(
            "magnet:?xt={BTIH}&xt={SHA1}&as=http%3A%2F%2Fa.example%2Ff"
        ));
        assert_eq!(result.unwrap()[0].expect.hashes[0].kind, HashKind::Sha1);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("BitTorrent info hash is not used"));
    }

    #[test]
    fn bad_links_are_refused() {
        let e = build(&format!(
            "magnet:?xt={SHA1}&dn=..%2Fx&as=http%3A%2F%2Fa%2Ff"
        ))
        .0
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::BadMagnet);
        assert_eq!(
            e.message,
            "magnet dn \"../x\" is not a safe file name: `..` components are not allowed"
        );
        let e = build(&format!("magnet:?xt={SHA1}&xs=dchub%3A%2F%2Fh"))
            .0
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Unknown);
        assert!(
            e.message
                .starts_with("magnet link gives no http, https or ftp source")
        );
        let e = build("magnet:?xt=urn:sha1:XYZ").0.unwrap_err();
        assert_eq!(e.code, ErrorCode::BadMagnet);
        assert!(
            e.message.starts_with("invalid magnet link: "),
            "{}",
            e.message
        );
        assert_eq!(build("magnet:?").0.unwrap_err().code, ErrorCode::BadMagnet);
    }

    #[test]
    fn magnet_scheme_is_recognised_in_any_case() {
        assert!(is_magnet("magnet:?xt=x"));
        assert!(is_magnet("MAGNET:?xt=x"));
        assert!(!is_magnet("magnet"));
        assert!(!is_magnet("http://magnet:x"));
    }
}
