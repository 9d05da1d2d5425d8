//! `--follow-metalink`: a download whose answer is a Metalink document is followed by
//! the downloads of the files the document describes, as aria2 does; `--follow-torrent`
//! likewise follows a `.torrent` (by name, or served as `application/x-bittorrent`)
//! with the torrent's download.
//!
//! A download is a document when its first response says so by content type
//! (`application/metalink4+xml`, `application/metalink+xml`) or when its output name
//! ends in `.meta4` or `.metalink` (aria2 looks at the file's name too, which covers
//! FTP and servers that send `application/octet-stream`). With `true` it is written
//! to its file as any download; with `mem` it goes to an anonymous in-memory file
//! (no path, no control file, nothing on disk), which is why a `mem` document is
//! refused once it grows past the metalink crate's document limit; with `false` it is
//! just a file.
//!
//! When a document download completes, [`Engine::follow_documents`] (run by the loop
//! before anything can observe the completion: before commands are answered and before
//! events are sent) parses it and queues one download per selected file, each with the
//! document's options (its own name from the document, `--checksum` cleared), and links
//! them both ways (`following`/`followedBy`). A document that does not parse, or whose
//! files cannot all be queued, turns the download into an error (exit 20 for a parse
//! failure, as aria2), so nothing reports a document as done that was not followed.
//!
//! Invariants:
//! - `Engine::documents` holds the GID of every download with a [`Document`] that has
//!   not been followed or dropped yet, once;
//! - a `mem` document's bytes live only in `Document::memory` (the download's `file`
//!   is the same handle until completion drops it).
//!
//! A followed download is not itself followed as a Metalink document (its file may well
//! be a `.meta4` that a user wants as a file), which also keeps a document that lists
//! itself from queueing downloads forever. It is followed as a torrent (a torrent's
//! download is never a document, so nothing loops): that is how a Metalink file whose
//! source is a BitTorrent `metaurl` reaches its torrent.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::Instant;

use swarmget_metalink::{Limits, Url};

use crate::digest::{Digest, Hasher};
use crate::download::{DownloadSpec, DownloadState, Metadata};
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::gid::Gid;
use crate::options::FollowMetalink;

/// The content types that name a Metalink document (version 4, then 3).
const CONTENT_TYPES: [&str; 2] = ["application/metalink4+xml", "application/metalink+xml"];

/// The content type of a `.torrent` file.
const TORRENT_TYPE: &str = "application/x-bittorrent";
/// The largest `.torrent` followed (as a local `.torrent` argument).
const MAX_TORRENT: u64 = 128 << 20;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A Metalink document (`--follow-metalink`).
    Metalink,
    /// A `.torrent` file (`--follow-torrent`).
    Torrent,
    /// A magnet link's manifest (`mt`), always kept in memory ([`crate::manifest`]).
    Manifest,
}

impl Kind {
    /// The kind a `Content-Type` value names (parameters ignored).
    fn of_type(content_type: &str) -> Option<Kind> {
        let media = content_type.split(';').next().unwrap_or("").trim();
        if CONTENT_TYPES.iter().any(|t| media.eq_ignore_ascii_case(t)) {
            Some(Kind::Metalink)
        } else if media.eq_ignore_ascii_case(TORRENT_TYPE) {
            Some(Kind::Torrent)
        } else {
            None
        }
    }

    /// The kind a file name names (`.meta4`, `.metalink`, `.torrent`, any case).
    fn of_name(name: &str) -> Option<Kind> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".meta4") || lower.ends_with(".metalink") {
            Some(Kind::Metalink)
        } else if lower.ends_with(".torrent") {
            Some(Kind::Torrent)
        } else {
            None
        }
    }

    /// The most bytes such a document may have: what the parser accepts.
    fn limit(self) -> u64 {
        match self {
            Kind::Metalink => Limits::DEFAULT.max_document_bytes as u64,
            Kind::Torrent => MAX_TORRENT,
            Kind::Manifest => crate::manifest::MAX_MANIFEST,
        }
    }

    /// The option that says whether and how it is followed.
    fn option(self, opts: &crate::Options) -> FollowMetalink {
        match self {
            Kind::Metalink => opts.follow_metalink,
            Kind::Torrent => opts.follow_torrent,
            Kind::Manifest => FollowMetalink::Mem,
        }
    }

    fn error(self, message: String) -> Error {
        let code = match self {
            Kind::Metalink => ErrorCode::Metalink,
            Kind::Torrent => ErrorCode::BtMetainfo,
            Kind::Manifest => ErrorCode::BadMagnet,
        };
        Error::new(code, message)
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Metalink => "Metalink document",
            Kind::Torrent => "torrent",
            Kind::Manifest => "magnet manifest",
        }
    }
}

/// A download that is a document to follow once complete.
#[derive(Debug)]
pub(crate) struct Document {
    /// The document's URL: the base of relative URLs in it.
    base: Url,
    /// Under `--follow-metalink=mem` (`--follow-torrent=mem`), the in-memory file
    /// holding the bytes.
    memory: Option<Arc<File>>,
    kind: Kind,
}

impl Document {
    /// A Metalink document fetched from `base`.
    pub(crate) fn new(base: Url) -> Document {
        Document {
            base,
            memory: None,
            kind: Kind::Metalink,
        }
    }

    /// A magnet manifest fetched from `base`.
    pub(crate) fn manifest(base: Url) -> Document {
        Document {
            base,
            memory: None,
            kind: Kind::Manifest,
        }
    }
}

/// Whether a `Content-Type` value names a Metalink document (parameters ignored).
#[cfg(test)]
fn is_metalink_type(content_type: &str) -> bool {
    Kind::of_type(content_type) == Some(Kind::Metalink)
}

/// Whether a file name is a Metalink document's (`.meta4`, `.metalink`, any case).
#[cfg(test)]
fn is_metalink_name(name: &str) -> bool {
    Kind::of_name(name) == Some(Kind::Metalink)
}

impl Engine {
    /// Whether download `gid` may be taken as a Metalink document.
    pub(super) fn may_follow(&self, gid: Gid) -> bool {
        self.follows(gid, Kind::Metalink)
    }

    /// Whether download `gid` may be taken as a document of `kind` at all
    /// (`--dry-run` fetches no bytes, so there would be nothing to follow).
    fn follows(&self, gid: Gid, kind: Kind) -> bool {
        let d = &self.downloads[gid];
        kind.option(&d.opts) != FollowMetalink::False
            && (d.following.is_none() || kind == Kind::Torrent)
            && !d.opts.dry_run
    }

    /// The first HTTP response of download `gid`, from `url`, has `content_type`:
    /// marks the download as a document when that is a Metalink or torrent type.
    pub(crate) fn note_document_type(&mut self, gid: Gid, url: &Url, content_type: Option<&str>) {
        let Some(kind) = content_type.and_then(Kind::of_type) else {
            return;
        };
        if self.downloads[gid].document.is_none() && self.follows(gid, kind) {
            self.downloads[gid].document = Some(Document {
                base: url.clone(),
                memory: None,
                kind,
            });
        }
    }

    /// Called when download `gid`'s output is chosen, named `name`: marks it as a
    /// document by its name, registers it to be followed, and, under `mem`, gives it an
    /// in-memory file instead of a path. Returns true when it did the latter (the
    /// output is then set up).
    pub(crate) fn document_output(&mut self, gid: Gid, name: &str) -> Result<bool, Error> {
        if let Some(kind) = Kind::of_name(name)
            && self.downloads[gid].document.is_none()
            && self.follows(gid, kind)
        {
            let base = self.downloads[gid].sources.first().map(|s| s.url.clone());
            if let Some(base) = base {
                self.downloads[gid].document = Some(Document {
                    base,
                    memory: None,
                    kind,
                });
            }
        }
        if self.downloads[gid].document.is_none() {
            return Ok(false);
        }
        if !self.documents.contains(&gid) {
            self.documents.push(gid);
        }
        let d = &mut self.downloads[gid];
        let doc = d.document.as_mut().expect("set above");
        if doc.kind.option(&d.opts) != FollowMetalink::Mem {
            return Ok(false);
        }
        // A restart (a stream started over) keeps writing into the same memory.
        let file = match &doc.memory {
            Some(file) => file.clone(),
            None => {
                let file = Arc::new(memory_file().map_err(|e| {
                    Error::new(
                        ErrorCode::CreateFile,
                        format!("cannot keep the {} in memory: {e}", doc.kind.what()),
                    )
                })?);
                doc.memory = Some(file.clone());
                file
            }
        };
        d.file = Some(file);
        Ok(true)
    }

    /// Refuses to hold more than the document limit in memory: `end` is how far
    /// download `gid`'s bytes reach (a length, or a write's end). Every mirror has the
    /// same document, so none is tried again.
    pub(crate) fn check_document_len(&mut self, gid: Gid, end: u64) -> Result<(), Error> {
        let d = &mut self.downloads[gid];
        let Some(kind) = d
            .document
            .as_ref()
            .filter(|doc| doc.memory.is_some())
            .map(|doc| doc.kind)
        else {
            return Ok(());
        };
        if end > kind.limit() {
            for s in &mut d.sources {
                s.failed = true;
            }
            return Err(kind.error(format!(
                "the {} is larger than {} bytes, the most kept in memory",
                kind.what(),
                kind.limit()
            )));
        }
        Ok(())
    }

    /// Follows the documents that completed; drops those that failed or were removed.
    pub(crate) fn follow_documents(&mut self, now: Instant) {
        if self.documents.is_empty() {
            return;
        }
        for gid in std::mem::take(&mut self.documents) {
            let Some(d) = self.downloads.get_mut(gid) else {
                continue;
            };
            match d.state {
                DownloadState::Complete => self.follow(gid, now),
                DownloadState::Error(_) | DownloadState::Removed => d.document = None,
                DownloadState::Active | DownloadState::Waiting | DownloadState::Paused => {
                    self.documents.push(gid)
                }
            }
        }
    }

    /// Parses completed document `gid` and queues its files.
    fn follow(&mut self, gid: Gid, now: Instant) {
        let Some(doc) = self.downloads[gid].document.take() else {
            return;
        };
        let mut warnings = Vec::new();
        let specs = match doc.kind {
            Kind::Metalink => self.document_specs(gid, &doc, &mut |w| warnings.push(w)),
            Kind::Torrent => self.torrent_spec(gid, &doc).map(|spec| vec![spec]),
            Kind::Manifest => read(&doc, None).map(|bytes| {
                crate::manifest::items(&bytes, &self.downloads[gid].opts, &mut |w| warnings.push(w))
            }),
        };
        for w in warnings {
            self.notice(gid, w);
        }
        let specs = match specs {
            Ok(specs) => specs,
            Err(e) => {
                self.downloads[gid].state = DownloadState::Error(e);
                return;
            }
        };
        let tls = self.downloads[gid].tls.clone();
        // --save-session names the document, under its GID, for the files it gave (a
        // manifest's items are downloads of their own, saved as such).
        let metadata = self.downloads[gid]
            .sources
            .first()
            .filter(|_| doc.kind != Kind::Manifest)
            .map(|s| Metadata {
                gid,
                uri: s.url.to_string(),
            });
        for spec in specs {
            match self.add(spec, tls.clone(), None, now) {
                Ok(follower) => {
                    self.downloads[follower].following = Some(gid);
                    self.downloads[follower].metadata = metadata.clone();
                    self.downloads[gid].followed_by.push(follower);
                }
                // A manifest's items are independent: one that cannot be queued is
                // reported, the others run.
                Err(e) if doc.kind == Kind::Manifest => {
                    self.notice(gid, format!("magnet manifest item not queued: {e}"))
                }
                Err(e) => {
                    // The files queued so far run; the document reports what failed.
                    self.downloads[gid].state = DownloadState::Error(e);
                }
            }
        }
    }

    /// The download of completed torrent file `gid`, with its options.
    fn torrent_spec(&self, gid: Gid, doc: &Document) -> Result<DownloadSpec, Error> {
        let d = &self.downloads[gid];
        let bytes = read(doc, d.path.as_deref())?;
        if bytes.len() as u64 > MAX_TORRENT {
            return Err(Error::new(
                ErrorCode::BtMetainfo,
                format!("{}: larger than {MAX_TORRENT} bytes", doc.base),
            ));
        }
        if let (Some(_), Some(expect)) = (&doc.memory, d.whole_file_digest()) {
            check_digest(&bytes, &expect)?;
        }
        let torrent = crate::bt::Torrent::parse(&bytes)
            .map_err(|e| Error::new(e.code, format!("{}: {}", doc.base, e.message)))?;
        let mut opts = crate::options::Options::clone(&d.opts);
        opts.out = None;
        Ok(DownloadSpec::torrent(torrent, opts))
    }

    /// The downloads completed document `gid` describes, with its options.
    fn document_specs(
        &self,
        gid: Gid,
        doc: &Document,
        warn: &mut dyn FnMut(String),
    ) -> Result<Vec<DownloadSpec>, Error> {
        let d = &self.downloads[gid];
        let source = match &d.path {
            Some(path) => path.display().to_string(),
            None => doc.base.to_string(),
        };
        let bytes = read(doc, d.path.as_deref())?;
        if let (Some(_), Some(expect)) = (&doc.memory, d.whole_file_digest()) {
            // A `mem` document has no file for the end-of-download check to read: it
            // is made here, with the same digest.
            check_digest(&bytes, &expect)?;
        }
        let parsed = super::parse_document(&bytes, &source, Some(doc.base.clone()), warn)?;
        let mut opts = crate::options::Options::clone(&d.opts);
        opts.out = None;
        // The document's --gid is its own (a restored session gives the document its
        // old GID); its files draw new ones.
        opts.gid = None;
        // --pause-metadata: the files wait for a client to unpause them (without RPC
        // nobody could, so it applies only to the daemon, as in aria2).
        opts.pause |= opts.pause_metadata && opts.enable_rpc;
        super::specs(&parsed, &source, &opts, warn)
    }
}

/// The document's bytes, at most one past the limit (the parser then refuses them).
fn read(doc: &Document, path: Option<&std::path::Path>) -> Result<Vec<u8>, Error> {
    let limit = || doc.kind.limit();
    let mut bytes = Vec::new();
    let result = match (&doc.memory, path) {
        (Some(file), _) => {
            let mut f: &File = file;
            f.seek(SeekFrom::Start(0))
                .and_then(|_| f.take(limit() + 1).read_to_end(&mut bytes))
        }
        // The file was just written: this read comes from the page cache.
        (None, Some(path)) => {
            File::open(path).and_then(|f| f.take(limit() + 1).read_to_end(&mut bytes))
        }
        (None, None) => return Err(doc.kind.error("no document to read".into())),
    };
    result.map_err(|e| Error::file(&e, &format!("cannot read the {}", doc.kind.what())))?;

    Ok(bytes)
}

/// Bytes in memory checked against the digest they must have.
fn check_digest(bytes: &[u8], expect: &Digest) -> Result<(), Error> {
    let mut h = Hasher::new(expect.kind);
    h.update(bytes);
    if h.finish() != *expect {
        return Err(Error::new(
            ErrorCode::Checksum,
            format!("checksum validation failed (expected {expect})"),
        ));
    }
    Ok(())
}

/// An anonymous file in memory (Linux `memfd_create`): nothing reaches a disk.
#[cfg(target_os = "linux")]
fn memory_file() -> std::io::Result<File> {
    use std::os::fd::FromRawFd;
    // SAFETY: the name is a NUL-terminated string; the returned descriptor is new and
    // owned by nothing else, so the File may own it.
    let fd = unsafe { libc::memfd_create(c"swarmget-metalink".as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(unsafe { File::from_raw_fd(fd) })
}

/// Elsewhere, a temporary file unlinked at once: no name is left behind, though the
/// system may page it to disk.
#[cfg(not(target_os = "linux"))]
fn memory_file() -> std::io::Result<File> {
    let path = std::env::temp_dir().join(format!(
        "swarmget-metalink-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metalink_types_and_names_are_recognised() {
        assert!(is_metalink_type("application/metalink4+xml"));
        assert!(is_metalink_type("Application/Metalink+XML; charset=utf-8"));
        assert!(!is_metalink_type("application/xml"));
        assert!(is_metalink_name("a.META4") && is_metalink_name("b.metalink"));
        assert!(!is_metalink_name("meta4") && !is_metalink_name("a.meta4.txt"));
    }

    #[test]
    fn memory_documents_are_checked_against_their_digest() {
        let sha1 = |b: &[u8]| {
            let mut h = Hasher::new(crate::digest::HashKind::Sha1);
            h.update(b);
            h.finish()
        };
        assert!(check_digest(b"doc", &sha1(b"doc")).is_ok());
        let e = check_digest(b"doc", &sha1(b"other")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Checksum);
    }
}
