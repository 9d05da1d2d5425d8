//! Web seeds (BEP 19, the torrent's `url-list`): HTTP and FTP servers holding the
//! torrent's files, used as mirrors of its byte space beside the peers (aria2 takes
//! `url-list` entries as ordinary URIs, so `ftp://` mirrors work there too).
//!
//! A web seed is an ordinary mirror of the download ([`crate::download::Source`]): it
//! claims runs of the plan, its connections are opened and limited like any mirror's
//! (`--split`, `--max-connection-per-server`), its pieces are verified by SHA-1 like a
//! peer's, and one that sends bad pieces is charged and dropped as a Metalink mirror
//! is. What this module adds is where a byte of the torrent lives on the server:
//!
//! - a single-file torrent's byte space is the file: the URL itself, or `URL` + name
//!   when it ends in `/` (the mirror's URL is that file's, so nothing is mapped);
//! - a multi-file torrent's file `name/a/b` is at `URL/name/a/b` (a `/` added when the
//!   URL lacks one), each path component percent-encoded; a request never crosses a
//!   file boundary, and its range is in that file's offsets ([`Target`]).
//!
//! BEP 47 padding files are on no server: their bytes are zeros, delivered without a
//! request.

use std::ops::Range;
use std::time::Instant;

use swarmget_bt_wire::Metainfo;
use url::Url;

use swarmget_http_seg::ByteRange;

use crate::conn::Conn;
use crate::download::Download;
use crate::engine::Engine;
use crate::plan::Run;
use crate::storage::Storage;

/// The usable web seeds of a torrent, as the mirrors' URLs: a single-file torrent's
/// file URL, a multi-file torrent's base URL. Entries that are not `http`, `https` or
/// `ftp` URLs are left out.
pub(crate) fn sources(meta: &Metainfo) -> Vec<Url> {
    let mut out: Vec<Url> = Vec::new();
    for entry in &meta.url_list {
        let Ok(url) = Url::parse(entry) else {
            continue;
        };
        if !usable(&url) {
            continue;
        }
        let url = if meta.info.multi_file {
            url
        } else {
            single_file_url(url, &meta.info.name)
        };
        if !out.contains(&url) {
            out.push(url);
        }
    }
    out
}

/// The web seed a `changeUri` URI added to file `index` of the torrent makes: for a
/// single-file torrent the URI as a `url-list` entry; for a multi-file one the base
/// under which the URI is that file's place (`BASE/name/path`, as [`file_url`] makes
/// it). `None` for a URI that is no usable web seed or, on a multi-file torrent, does
/// not end with the file's path.
pub(crate) fn seed_for(meta: &Metainfo, index: usize, uri: &str) -> Option<Url> {
    let url = Url::parse(uri).ok().filter(usable)?;
    if !meta.info.multi_file {
        return Some(single_file_url(url, &meta.info.name));
    }
    let path = &meta.info.files.get(index)?.path;
    let mut base = url.clone();
    {
        let mut segments = base.path_segments_mut().ok()?;
        for _ in path {
            segments.pop();
        }
    }
    (file_url(&base, path) == url).then_some(base)
}

/// A URL a web seed can be fetched from.
pub(crate) fn usable(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https" | "ftp") && !url.cannot_be_a_base()
}

/// BEP 19 for a single file: a URL ending in `/` names a directory holding the file.
fn single_file_url(mut url: Url, name: &str) -> Url {
    if url.path().ends_with('/')
        && let Ok(mut segments) = url.path_segments_mut()
    {
        segments.pop_if_empty().push(name);
    }
    url
}

/// The URL of a multi-file torrent's file `path` (name first, as bt-wire gives it)
/// under web seed `base`: each component is one percent-encoded path segment.
pub(crate) fn file_url(base: &Url, path: &[String]) -> Url {
    let mut url = base.clone();
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.pop_if_empty().extend(path);
    }
    url
}

/// The URL an FTP session of download `d` starts from for mirror URL `url`: a
/// multi-file torrent's web seed names a directory, so its first file's URL (which
/// file does not matter: each retrieve names its own, see [`next_request`]).
pub(crate) fn session_url(d: &Download, url: &Url) -> Url {
    let info = d.bt.as_ref().map(|s| &s.torrent.metainfo().info);
    match info.filter(|i| i.multi_file).and_then(|i| i.files.first()) {
        Some(first) => file_url(url, &first.path),
        None => url.clone(),
    }
}

/// What one request to a multi-file torrent's web seed covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// Index of the file in the storage (and in the torrent's file list).
    pub file: usize,
    /// The file's first byte in the byte space.
    pub offset: u64,
    /// The file's length (the total a range answer must report).
    pub length: u64,
    /// The part of the run `[pos, end)` inside this file, in byte-space offsets.
    pub range: std::ops::Range<u64>,
    /// A padding file: zeros, not asked of the server.
    pub padding: bool,
}

/// The file holding byte `pos` of run `[pos, end)`, and the part of the run in it.
/// `None` when `pos` is past the byte space (or `pos >= end`).
pub(crate) fn target(storage: &Storage, pos: u64, end: u64) -> Option<Target> {
    if pos >= end {
        return None;
    }
    let files = storage.files();
    // Files are contiguous and in order; empty ones hold no byte and are passed over.
    let at = files.partition_point(|f| f.offset + f.length <= pos);
    let f = files.get(at)?;
    Some(Target {
        file: at,
        offset: f.offset,
        length: f.length,
        range: pos..end.min(f.offset + f.length),
        padding: f.padding,
    })
}

/// What a multi-file torrent's web seed connection does for its run.
pub(crate) enum WebStep {
    /// Ask for this range of the file its URL now names.
    Ask(ByteRange),
    /// The run is at these padding bytes (zeros; no request).
    Padding(Range<u64>),
    /// Its next file is on another origin than the one it is connected to (a
    /// redirect took it elsewhere): connect again.
    Moved,
    /// The run lies past the byte space: nothing to ask.
    Nothing,
}

/// The request for `run` of web seed connection `conn` of torrent download `d`: the
/// file holding the run's next byte, the part of the run inside it, in its offsets.
/// The connection's URL changes only with the file, so a redirect it followed for
/// that file holds for its next requests.
pub(crate) fn next_request(conn: &mut Conn, d: &Download, run: Run) -> WebStep {
    let (Some(swarm), Some(storage)) = (&d.bt, &d.storage) else {
        return WebStep::Nothing;
    };
    let Some(t) = target(storage, run.next, run.end) else {
        return WebStep::Nothing;
    };
    if t.padding {
        return WebStep::Padding(t.range);
    }
    if conn.web_file.map(|(file, _, _)| file) != Some(t.file) {
        let Some(f) = swarm.torrent.metainfo().info.files.get(t.file) else {
            return WebStep::Nothing;
        };
        let url = file_url(&d.sources[conn.source].url, &f.path);
        let moved = url.origin() != conn.url.origin();
        conn.url = url;
        conn.web_file = Some((t.file, t.offset, t.length));
        if moved {
            return WebStep::Moved;
        }
    }
    WebStep::Ask(ByteRange {
        start: t.range.start - t.offset,
        end: Some(t.range.end - t.offset - 1),
    })
}

impl Download {
    /// aria2's `files[index].uris` of a torrent: each web seed's URL of that file.
    pub(crate) fn web_seed_uris(&self, index: usize) -> Vec<crate::status::UriStatus> {
        self.sources_in_order()
            .into_iter()
            .filter_map(|i| {
                Some(crate::status::UriStatus {
                    uri: self.web_seed_url(i, index)?.to_string(),
                    used: self.sources[i].used(),
                })
            })
            .collect()
    }

    /// Where web seed `source` serves the torrent's file `index`.
    pub(crate) fn web_seed_url(&self, source: usize, index: usize) -> Option<Url> {
        let info = &self.bt.as_ref()?.torrent.metainfo().info;
        let file = info.files.get(index)?;
        let base = &self.sources.get(source)?.url;
        Some(if info.multi_file {
            file_url(base, &file.path)
        } else {
            base.clone()
        })
    }
}

impl Engine {
    /// Delivers padding bytes `range` on `conn` as if its server had sent them.
    pub(crate) fn fill_padding(
        &mut self,
        conn: &mut Conn,
        range: Range<u64>,
        now: Instant,
    ) -> Result<(), crate::error::Error> {
        self.flush_buffer(conn);
        conn.pos = range.start;
        // A padding file is shorter than a piece: one small buffer of zeros.
        let zeros = vec![0u8; (range.end - range.start) as usize];
        let result = self.deliver(conn, &zeros, now);
        self.flush_buffer(conn);
        result
    }

    /// The run of web seed connection `key` is at padding bytes `range`: they are
    /// zeros, delivered as if the server had sent them (the disk worker stores none
    /// of them; the piece's hash covers them), and the connection asks for what
    /// follows, or claims more work.
    pub(crate) fn deliver_padding(&mut self, key: usize, range: Range<u64>, now: Instant) {
        let Some(mut conn) = self.conns.get_mut(key).and_then(Option::take) else {
            return;
        };
        let result = self.fill_padding(&mut conn, range, now);
        let gid = conn.dl;
        let slot = conn.slot;
        self.conns[key] = Some(conn);
        if let Err(e) = result {
            return self.conn_failed(key, e, now);
        }
        let Some(plan) = self.downloads[gid].plan_mut() else {
            return;
        };
        let more = plan.run(slot).is_some_and(|r| r.remaining() > 0) || plan.claim(slot).is_some();
        if more {
            self.send_request(key, now);
        } else {
            let _ = self.drop_conn(key);
            self.maybe_finish(gid, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::FileEntry;
    use swarmget_bt_wire::metainfo::TorrentBuilder;

    fn single(urls: &[&str]) -> Metainfo {
        let bytes = TorrentBuilder::single("a b.iso", 10, 16384, vec![[0; 20]])
            .web_seeds(urls.iter().map(|s| s.to_string()).collect())
            .build()
            .unwrap();
        Metainfo::parse(&bytes).unwrap()
    }

    #[test]
    fn a_single_file_seed_is_the_url_or_the_name_under_it() {
        let m = single(&[
            "http://h/dist/f.iso",
            "http://h/dist/",
            "ftp://h/pub/",
            "sftp://h/f",
            "not a url",
            "http://h/dist/",
        ]);
        let urls: Vec<String> = sources(&m).iter().map(Url::to_string).collect();
        assert_eq!(
            urls,
            [
                "http://h/dist/f.iso",
                "http://h/dist/a%20b.iso",
                "ftp://h/pub/a%20b.iso"
            ]
        );
    }

    #[test]
    fn an_added_uri_is_a_web_seed_only_where_it_names_the_file() {
        let m = single(&["http://h/x"]);
        let seed = |m: &Metainfo, i, uri| seed_for(m, i, uri).map(|u| u.to_string());
        assert_eq!(
            seed(&m, 0, "http://o/d/"),
            Some("http://o/d/a%20b.iso".into())
        );
        assert_eq!(seed(&m, 0, "http://o/f.iso"), Some("http://o/f.iso".into()));
        assert_eq!(seed(&m, 0, "ftp://o/f.iso"), Some("ftp://o/f.iso".into()));
        assert_eq!(seed(&m, 0, "gopher://o/f"), None);
        let files = vec![
            (vec!["a b".to_string()], 10),
            (vec!["sub".to_string(), "c".to_string()], 10),
        ];
        let bytes = TorrentBuilder::multi("set", files, 16384, vec![[0; 20]])
            .build()
            .unwrap();
        let m = Metainfo::parse(&bytes).unwrap();
        assert_eq!(
            seed(&m, 0, "http://o/m/set/a%20b"),
            Some("http://o/m".into())
        );
        assert_eq!(seed(&m, 1, "http://o/set/sub/c"), Some("http://o/".into()));
        // Another file's place, or no place under the torrent's name, is no web seed.
        assert_eq!(seed(&m, 1, "http://o/m/set/a%20b"), None);
        assert_eq!(seed(&m, 0, "http://o/m/a%20b"), None);
        assert_eq!(seed(&m, 2, "http://o/m/set/a%20b"), None);
    }

    #[test]
    fn multi_file_paths_are_percent_encoded_segments() {
        let base = Url::parse("http://h/seed").unwrap();
        let path = ["set".to_string(), "a/b?#%".to_string(), "é.txt".to_string()];
        assert_eq!(
            file_url(&base, &path).as_str(),
            "http://h/seed/set/a%2Fb%3F%23%25/%C3%A9.txt"
        );
        let slash = Url::parse("http://h/seed/").unwrap();
        assert_eq!(file_url(&slash, &path[..1]).as_str(), "http://h/seed/set");
    }

    #[test]
    fn a_request_stops_at_its_file_and_skips_empty_files() {
        let entry = |path: &str, offset, length, padding| FileEntry {
            path: path.into(),
            offset,
            length,
            wanted: true,
            padding,
        };
        let storage = Storage::new(
            vec![
                entry("a", 0, 10, false),
                entry("e", 10, 0, false),
                entry("p", 10, 6, true),
                entry("b", 16, 20, false),
            ],
            16,
        )
        .unwrap();
        let t = target(&storage, 4, 30).unwrap();
        assert_eq!((t.file, t.offset, t.length, t.range), (0, 0, 10, 4..10));
        let t = target(&storage, 10, 30).unwrap();
        assert_eq!((t.file, t.range, t.padding), (2, 10..16, true));
        let t = target(&storage, 16, 30).unwrap();
        assert_eq!((t.file, t.offset, t.range), (3, 16, 16..30));
        assert_eq!(target(&storage, 36, 40), None);
        assert_eq!(target(&storage, 5, 5), None);
    }
}
