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
//! A group whose only hashes are BitTorrent info hashes is a BitTorrent download
//! (`bittorrent_spec`): its metadata comes from peers (`tr`, `x.pe`, the DHT), then the
//! torrent it describes downloads. A v2 `btmh` is accepted beside a v1 `btih` (a
//! hybrid torrent); a `btmh` alone is refused (v2-only torrents are not supported). A
//! group with a typed hash but no web source cannot be fetched (exit 1).
//!
//! A group's `mt` manifests on http, https or ftp ride on its download
//! ([`DownloadSpec::manifests`]: the engine fetches each and queues what it lists, see
//! the engine's `manifest` module); a group with manifests and no source of its own is
//! the download of its manifests alone. An `mt` URN is left out with a warning.

use std::collections::HashSet;

use crate::digest::Digest;
use crate::{DownloadSpec, Error, ErrorCode, Expect, MagnetLink, Options, Torrent};
use swarmget_magnet_uri::{ExactTopic, Group, Magnet, PeerHost};
use swarmget_metalink::{FileName, Url};

use crate::metalink::WEB_SCHEMES;

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
        .map(|group| {
            let manifests = manifests(group, warn);
            let mut spec = spec(group, opts, !manifests.is_empty(), warn)?;
            spec.manifests = manifests;
            Ok(spec)
        })
        .collect()
}

/// The group's `mt` URIs the engine fetches (http, https, ftp); a URN or another
/// scheme names a list nothing says where to find, and is left out with a warning.
fn manifests(group: &Group, warn: &mut dyn FnMut(String)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for mt in &group.manifests {
        if !is_web(mt) {
            warn(format!(
                "magnet mt={mt} ignored: only http, https and ftp manifests are fetched"
            ));
        } else if !out.contains(mt) {
            out.push(mt.clone());
        }
    }
    out
}

/// The download of one group; `manifests`: the group has manifests to fetch, so a
/// group with no source of its own is their download alone.
fn spec(
    group: &Group,
    opts: &Options,
    manifests: bool,
    warn: &mut dyn FnMut(String),
) -> Result<DownloadSpec, Error> {
    let mut hashes = Vec::new();
    let mut bittorrent = false;
    let mut btih = None;
    for topic in &group.exact_topics {
        if let ExactTopic::Btih(h) = topic {
            btih = btih.or(Some(*h));
        }
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
        let Some(info_hash) = btih else {
            return Err(Error::new(
                ErrorCode::BadMagnet,
                "magnet link names only a BitTorrent v2 hash (btmh): v2-only torrents are \
                 not supported yet; a hybrid link also gives xt=urn:btih",
            ));
        };
        return bittorrent_spec(group, info_hash, opts, warn);
    }
    let uris = sources(group, warn);
    if uris.is_empty() && manifests {
        if !group.exact_topics.is_empty() {
            warn("magnet link gives no source for its xt; only its manifests are fetched".into());
        }
        let mut options = opts.clone();
        options.out = None;
        options.checksum = None;
        return Ok(DownloadSpec::new(Vec::new(), options));
    }
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
        document: None,
        magnet: None,
        manifests: Vec::new(),
    })
}

/// A BitTorrent magnet link: the metadata download (or, with
/// `--bt-load-saved-metadata` and `DIR/HASH.torrent` there, the torrent itself).
/// `so` (BEP 53) becomes `--select-file` unless the options give one; `dn` must be a
/// safe name (it names the download until the metadata does).
fn bittorrent_spec(
    group: &Group,
    info_hash: [u8; 20],
    opts: &Options,
    warn: &mut dyn FnMut(String),
) -> Result<DownloadSpec, Error> {
    if let Some(dn) = &group.display_name {
        FileName::new(dn).map_err(|e| {
            Error::new(
                ErrorCode::BadMagnet,
                format!("magnet dn {dn:?} is not a safe file name: {e}"),
            )
        })?;
    }
    let mut options = opts.clone();
    options.out = None;
    options.checksum = None;
    if let (Some(so), None) = (&group.select_only, &options.select_file) {
        // BEP 53 counts files from 0, aria2's --select-file from 1.
        let list: Vec<String> = so
            .ranges()
            .iter()
            .map(|r| format!("{}-{}", u64::from(*r.start()) + 1, u64::from(*r.end()) + 1))
            .collect();
        options
            .set("select-file", &list.join(","))
            .map_err(|e| Error::new(ErrorCode::BadMagnet, format!("magnet so: {e}")))?;
    }
    let (mut peers, mut peer_names) = (Vec::new(), Vec::new());
    for peer in &group.peers {
        match &peer.host {
            PeerHost::Ip(ip) => peers.push(std::net::SocketAddr::new(*ip, peer.port)),
            PeerHost::Name(name) => peer_names.push((name.clone(), peer.port)),
        }
    }
    let link = MagnetLink {
        info_hash,
        name: group.display_name.clone(),
        trackers: group.trackers.clone(),
        peers,
        peer_names,
        length: group.exact_length,
        keywords: group.keywords.clone(),
        web_seeds: group.web_seeds.clone(),
    };
    if options.bt_load_saved_metadata {
        let path = options.dir.join(format!("{}.torrent", link.hex()));
        if let Ok(bytes) = std::fs::read(&path) {
            match Torrent::parse(&bytes) {
                Ok(t) if t.info_hash() == info_hash => {
                    return Ok(DownloadSpec::torrent(t, options));
                }
                _ => warn(format!(
                    "{} is not this magnet link's torrent; asking peers for the metadata",
                    path.display()
                )),
            }
        }
    }
    Ok(DownloadSpec::magnet(link, options))
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
    use crate::digest::HashKind;

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
    fn bittorrent_links_become_metadata_downloads() {
        let (result, warnings) = build(&format!(
            "magnet:?xt={BTIH}&dn=some%20name&xl=99&tr=http%3A%2F%2Ft.example%2Fa\
             &x.pe=127.0.0.1:6881&x.pe=[::1]:7000&x.pe=peer.example:1&so=0,2-3&kt=a+b\
             &ws=http%3A%2F%2Fw.example%2Fd%2F"
        ));
        let spec = result.unwrap().remove(0);
        let link = spec.magnet.expect("a magnet download");
        assert_eq!(link.hex(), "c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
        assert_eq!(link.name.as_deref(), Some("some name"));
        assert_eq!(link.length, Some(99));
        assert_eq!(link.trackers, ["http://t.example/a"]);
        assert_eq!(
            link.peers,
            [
                "127.0.0.1:6881".parse::<std::net::SocketAddr>().unwrap(),
                "[::1]:7000".parse().unwrap()
            ]
        );
        assert_eq!(link.keywords.as_deref(), Some("a b"));
        // Web seeds go to the torrent (no warning).
        assert_eq!(link.web_seeds, ["http://w.example/d/"]);
        // BEP 53's 0-based indices become --select-file's 1-based ones.
        let select = spec.options.select_file.expect("so selects files");
        assert!(select.contains(1) && !select.contains(2) && select.contains(3));
        assert!(select.contains(4) && !select.contains(5));
        // Host names are left to the engine's resolver.
        assert_eq!(link.peer_names, [("peer.example".to_owned(), 1)]);
        assert!(warnings.is_empty(), "{warnings:?}");
        // The same info-hash in base32.
        let (result, _) = build("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK");
        assert_eq!(
            result.unwrap()[0].magnet.as_ref().unwrap().hex(),
            "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"
        );
        // A v2 hash beside the v1 one is a hybrid link; alone it is refused.
        let btmh = "urn:btmh:1220d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb";
        let (result, _) = build(&format!("magnet:?xt={BTIH}&xt={btmh}"));
        assert!(result.unwrap()[0].magnet.is_some());
        let e = build(&format!("magnet:?xt={btmh}")).0.unwrap_err();
        assert_eq!(e.code, ErrorCode::BadMagnet);
        assert!(e.message.contains("v2-only"), "{}", e.message);
        // With a typed hash too, the web sources are used and the info hash noted.
        let (result, warnings) = build(&format!(
            "magnet:?xt={BTIH}&xt={SHA1}&as=http%3A%2F%2Fa.example%2Ff"
        ));
        assert_eq!(result.unwrap()[0].expect.hashes[0].kind, HashKind::Sha1);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("BitTorrent info hash is not used"));
    }

    #[test]
    fn bt_load_saved_metadata_starts_from_the_saved_torrent() {
        let dir = crate::test_dir::TestDir::new("magnet-saved");
        let torrent =
            swarmget_bt_wire::metainfo::TorrentBuilder::single("s", 1, 16384, vec![[0; 20]])
                .build()
                .unwrap();
        let info_hash = Torrent::parse(&torrent).unwrap().info_hash();
        let hex: String = info_hash.iter().map(|b| format!("{b:02x}")).collect();
        let saved = dir.path().join(format!("{hex}.torrent"));
        std::fs::write(&saved, &torrent).unwrap();
        let link = format!("magnet:?xt=urn:btih:{hex}");
        let mut opts = Options {
            dir: dir.path().to_path_buf(),
            ..Options::default()
        };
        let spec = |opts: &Options, warnings: &mut Vec<String>| {
            specs(&link, opts, &mut |w| warnings.push(w))
                .unwrap()
                .remove(0)
        };
        let mut warnings = Vec::new();
        // Without the option the peers are asked, file or not.
        assert!(spec(&opts, &mut warnings).magnet.is_some());
        opts.set("bt-load-saved-metadata", "true").unwrap();
        let loaded = spec(&opts, &mut warnings);
        assert!(loaded.magnet.is_none());
        assert_eq!(loaded.torrent.unwrap().info_hash(), info_hash);
        // A file that is another torrent's is not used.
        std::fs::write(&saved, b"d4:infod4:name1:xee").unwrap();
        assert!(spec(&opts, &mut warnings).magnet.is_some());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
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
    fn manifests_ride_on_the_group_s_download_or_stand_alone() {
        let mt = "mt=http%3A%2F%2Fm.example%2Flist&mt=urn:sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ";
        let (result, warnings) = build(&format!("magnet:?xt={BTIH}&{mt}"));
        let spec = result.unwrap().remove(0);
        assert!(spec.magnet.is_some());
        assert_eq!(spec.manifests, ["http://m.example/list"]);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("only http, https and ftp manifests are fetched"));
        // A link of manifests alone is their download.
        let (result, _) = build(&format!("magnet:?{mt}"));
        let spec = result.unwrap().remove(0);
        assert!(spec.uris.is_empty() && spec.magnet.is_none() && spec.torrent.is_none());
        assert_eq!(spec.manifests, ["http://m.example/list"]);
        assert!(spec.options.checksum.is_none());
        // Without a manifest to fetch, a link with no source is still refused.
        let e = build("magnet:?mt=urn:sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ")
            .0
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Unknown);
    }

    #[test]
    fn magnet_scheme_is_recognised_in_any_case() {
        assert!(is_magnet("magnet:?xt=x"));
        assert!(is_magnet("MAGNET:?xt=x"));
        assert!(!is_magnet("magnet"));
        assert!(!is_magnet("http://magnet:x"));
    }
}
