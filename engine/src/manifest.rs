//! Magnet manifests (`mt=`): the list of further items a magnet link points to.
//!
//! The magnet URI draft calls `mt` "a link to a list of links" and sets no format (its
//! example is an RSS feed; MAGMA, the manifest format once proposed, never settled), so
//! swarmget reads the plainest list that fits: UTF-8 text, one item per line, each a
//! magnet link or an http, https or ftp URI. Blank lines and lines starting with `#`
//! are skipped (a `#MAGMA` header line is harmless). Any other line is reported as a
//! notice of the manifest's download, with its line number, and skipped: one bad line
//! loses nothing else.
//!
//! A manifest is fetched by a download of its own that `follows` the magnet link's
//! download, kept in memory as a `mem` Metalink document is (the follow machinery of
//! [`crate::metalink`], document kind `Manifest`); once it completes, each item is
//! queued as a download `following` the manifest's, as aria2 links the downloads a
//! document gave.
//!
//! Invariants:
//! - a manifest is at most [`MAX_MANIFEST`] bytes (its download fails as soon as it
//!   would keep more) and queues at most [`MAX_ITEMS`] items;
//! - manifests are followed one level deep: an item's own `mt` is reported, not
//!   fetched, so a manifest that lists itself cannot queue downloads forever.

use std::sync::Arc;
use std::time::Instant;

use crate::commands::source_url;
use crate::download::{Download, DownloadSpec, Expect};
use crate::engine::Engine;
use crate::error::Error;
use crate::gid::Gid;
use crate::magnet_download;
use crate::metalink::Document;
use crate::options::Options;

/// The largest manifest kept.
pub(crate) const MAX_MANIFEST: u64 = 1 << 20;
/// The most items one manifest queues.
pub(crate) const MAX_ITEMS: usize = 1000;

/// The downloads manifest `bytes` lists, each with `opts` (the manifest download's,
/// its own name, GID and checksum cleared); bad lines are told to `warn` and skipped.
pub(crate) fn items(
    bytes: &[u8],
    opts: &Options,
    warn: &mut dyn FnMut(String),
) -> Vec<DownloadSpec> {
    let mut opts = opts.clone();
    opts.out = None;
    opts.gid = None;
    opts.checksum = None;
    // --pause-metadata: what a manifest queued waits for a client to unpause it (only
    // with RPC, as for Metalink documents and torrents).
    opts.pause |= opts.pause_metadata && opts.enable_rpc;
    let text = String::from_utf8_lossy(bytes);
    let mut specs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let item = line.trim();
        if item.is_empty() || item.starts_with('#') {
            continue;
        }
        let number = index + 1;
        if specs.len() >= MAX_ITEMS {
            warn(format!(
                "magnet manifest: only {MAX_ITEMS} items are queued; line {number} and \
                 the lines after it are not"
            ));
            break;
        }
        let mut warn_line = |w: String| warn(format!("magnet manifest line {number}: {w}"));
        if magnet_download::is_magnet(item) {
            let found = match magnet_download::specs(item, &opts, &mut warn_line) {
                Ok(found) => found,
                Err(e) => {
                    warn_line(format!("{}; skipped", e.message));
                    continue;
                }
            };
            for mut spec in found {
                if !spec.manifests.is_empty() {
                    warn_line(
                        "its mt is not fetched: manifests are followed one level deep".into(),
                    );
                    spec.manifests.clear();
                    if spec.uris.is_empty() && spec.torrent.is_none() && spec.magnet.is_none() {
                        continue;
                    }
                }
                specs.push(spec);
            }
        } else if source_url(item).is_ok() {
            specs.push(DownloadSpec::new(vec![item.to_owned()], opts.clone()));
        } else {
            warn_line("not a magnet link or an http, https or ftp URI; skipped".into());
        }
    }
    specs
}

impl Engine {
    /// Queues the download of manifest `uri` (at `position`), with `opts`.
    pub(crate) fn add_manifest(
        &mut self,
        uri: &str,
        opts: Options,
        tls: Arc<rustls::ClientConfig>,
        position: Option<usize>,
        now: Instant,
    ) -> Result<Gid, Error> {
        let url = source_url(uri)?;
        let gid = self.new_gid(opts.gid)?;
        let opts = self.shared_options(opts);
        let mut download = Download::new(gid, vec![url.clone()], opts, Expect::default(), tls, now);
        download.document = Some(Document::manifest(url));
        Ok(self.enqueue(download, position))
    }

    /// Queues a download of each of `uris`, download `gid`'s manifests, following it.
    /// A manifest that cannot be queued is a notice of `gid`.
    pub(crate) fn add_manifests(
        &mut self,
        gid: Gid,
        uris: &[String],
        tls: &Arc<rustls::ClientConfig>,
        now: Instant,
    ) {
        for uri in uris {
            let mut opts = Options::clone(&self.downloads[gid].opts);
            opts.gid = None;
            opts.out = None;
            opts.checksum = None;
            match self.add_manifest(uri, opts, tls.clone(), None, now) {
                Ok(manifest) => {
                    self.downloads[manifest].following = Some(gid);
                    self.downloads[gid].followed_by.push(manifest);
                }
                Err(e) => self.notice(gid, format!("magnet mt={uri} not fetched: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (Vec<DownloadSpec>, Vec<String>) {
        let mut warnings = Vec::new();
        let opts = Options {
            out: Some("manifest.txt".into()),
            ..Options::default()
        };
        let specs = items(text.as_bytes(), &opts, &mut |w| warnings.push(w));
        (specs, warnings)
    }

    #[test]
    fn each_line_is_a_magnet_link_or_a_uri_and_bad_lines_are_reported() {
        let (specs, warnings) = read(
            "#MAGMA 0.2\n\
             \n\
             magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&dn=a\n\
             \t http://example.test/b.iso  \r\n\
             gopher://example.test/c\n\
             magnet:?xt=urn:sha1:XYZ\n\
             ftp://example.test/d\n",
        );
        assert_eq!(specs.len(), 3);
        let link = specs[0].magnet.as_ref().expect("a magnet download");
        assert_eq!(link.name.as_deref(), Some("a"));
        assert_eq!(specs[1].uris, ["http://example.test/b.iso"]);
        assert_eq!(specs[2].uris, ["ftp://example.test/d"]);
        // The manifest's own name is not the items'.
        assert!(specs.iter().all(|s| s.options.out.is_none()));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].starts_with("magnet manifest line 5: not a magnet link"));
        assert!(warnings[1].starts_with("magnet manifest line 6: invalid magnet link"));
    }

    #[test]
    fn manifests_are_followed_one_level_deep() {
        let (specs, warnings) = read(
            "magnet:?mt=http%3A%2F%2Fexample.test%2Fagain\n\
             magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a\
             &mt=http%3A%2F%2Fexample.test%2Fmore\n",
        );
        assert_eq!(specs.len(), 1);
        assert!(specs[0].magnet.is_some() && specs[0].manifests.is_empty());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().all(|w| w.contains("one level deep")));
    }

    #[test]
    fn at_most_max_items_are_queued() {
        let text: String = (0..MAX_ITEMS + 5)
            .map(|i| format!("http://example.test/{i}\n"))
            .collect();
        let (specs, warnings) = read(&text);
        assert_eq!(specs.len(), MAX_ITEMS);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains(&format!("line {}", MAX_ITEMS + 1)));
    }
}
