//! Metalink/HTTP (RFC 6249) on ordinary HTTP downloads: what a server's response
//! headers add to the download they answer.
//!
//! - The first request of a download says which digests swarmget can check
//!   ([`WANT_DIGEST`], aria2's exact value) unless `--no-want-digest-header`.
//! - The first 200/206 answer for the file itself may list mirrors
//!   (`Link: <uri>; rel=duplicate; pri=N; geo=cc`): the http, https and ftp ones not
//!   already known become sources of the download, in the order aria2 tries them
//!   (`pref`, then `--metalink-location` matching `geo`, then `pri`). Redirects and
//!   errors add nothing: their links describe another resource.
//! - Its `Digest` header (RFC 3230) gives whole-file digests, added to the download's
//!   expected hashes (the strongest is verified at the end). On every answer, a digest
//!   that contradicts one already expected (or `--checksum`) means this server has
//!   another file: the answer fails with exit 32 and the mirror is dropped (aria2:
//!   "If it differs, drop connection").
//! - A link to a Metalink document (`rel=describedby; type=application/metalink4+xml`)
//!   is followed when `--follow-metalink` allows (aria2 ignores these): the download
//!   turns into the download of that document, which is then followed as any document
//!   is; the document supersedes the other links.
//!
//! Header values that do not parse are reported and ignored; they never fail a download.

use swarmget_http_seg::ResponseHead;
use swarmget_metalink::http::{MetalinkLinks, parse_digest_header, parse_link_header};

use super::{Document, WEB_SCHEMES, preferences};
use crate::conn::Conn;
use crate::digest::Digest;
use crate::download::{Layout, Source};
use crate::engine::Engine;
use crate::error::{Error, ErrorCode};
use crate::http::Next;
use crate::options::Options;

/// `Want-Digest` as aria2 sends it: the algorithms it verifies, SHA-1 least wanted.
const WANT_DIGEST: &str = "SHA-512;q=1, SHA-256;q=1, SHA;q=0.1";

/// The `Want-Digest` value for a download's first request: none under
/// `--no-want-digest-header`, nor when `--header` already gives one (two would
/// contradict each other).
pub(crate) fn want_digest(opts: &Options) -> Option<&'static str> {
    let given = opts.headers.iter().any(|h| {
        h.split_once(':')
            .is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case("want-digest"))
    });
    (!opts.no_want_digest_header && !given).then_some(WANT_DIGEST)
}

impl Engine {
    /// Reads the Metalink/HTTP headers of a response for the file (2xx), before its
    /// body is taken. `Some(next)` when the connection must go elsewhere first (a
    /// Metalink document to fetch instead).
    pub(crate) fn metalink_headers(
        &mut self,
        conn: &mut Conn,
        head: &ResponseHead,
    ) -> Result<Option<Next>, Error> {
        self.check_digest_headers(conn, head)?;
        let gid = conn.dl;
        let first = matches!(self.downloads[gid].layout, Layout::Unknown);
        if !first || !matches!(head.status, 200 | 206) {
            return Ok(None);
        }
        let mut links = Vec::new();
        for value in head.headers_all("link") {
            match parse_link_header(value, &conn.url) {
                Ok(parsed) => links.extend(parsed),
                Err(e) => self.notice(gid, format!("{}: Link header ignored: {e}", conn.url)),
            }
        }
        let links = MetalinkLinks::from_links(&links);
        if let Some(next) = self.follow_described_by(conn, &links) {
            return Ok(Some(next));
        }
        let d = &mut self.downloads[gid];
        let prefs = preferences(&d.opts);
        for mirror in links.ordered_mirrors(&prefs) {
            let url = &mirror.url;
            if WEB_SCHEMES.contains(&url.scheme())
                && url.host_str().is_some()
                && !d.sources.iter().any(|s| s.url == *url)
            {
                d.sources.push(Source::new(url.clone()));
            }
        }
        Ok(None)
    }

    /// Adds the `Digest` header's digests to the first answer's download, and refuses
    /// an answer whose digests contradict what is expected.
    fn check_digest_headers(&mut self, conn: &Conn, head: &ResponseHead) -> Result<(), Error> {
        let gid = conn.dl;
        let mut digests = Vec::new();
        for value in head.headers_all("digest") {
            match parse_digest_header(value) {
                Ok(hashes) => digests.extend(hashes.iter().map(Digest::from)),
                Err(e) => self.notice(gid, format!("{}: Digest header ignored: {e}", conn.url)),
            }
        }
        if digests.is_empty() {
            return Ok(());
        }
        let d = &mut self.downloads[gid];
        for digest in &digests {
            let known = d.expect.hashes.iter().chain(&d.opts.checksum);
            if let Some(other) = known
                .filter(|k| k.kind == digest.kind)
                .find(|k| k.bytes != digest.bytes)
            {
                d.sources[conn.source].failed = true;
                return Err(Error::new(
                    ErrorCode::Checksum,
                    format!(
                        "{}: the server's Digest header says {digest}, expected {other}",
                        conn.url
                    ),
                ));
            }
        }
        if matches!(d.layout, Layout::Unknown) && matches!(head.status, 200 | 206) {
            for digest in digests {
                if !d.expect.hashes.contains(&digest) {
                    d.expect.hashes.push(digest);
                }
            }
        }
        Ok(())
    }

    /// Turns the download into the download of the Metalink document a
    /// `rel=describedby` link names, when `--follow-metalink` allows.
    fn follow_described_by(&mut self, conn: &mut Conn, links: &MetalinkLinks) -> Option<Next> {
        if !self.may_follow(conn.dl) || self.downloads[conn.dl].document.is_some() {
            return None;
        }
        let d = &mut self.downloads[conn.dl];
        let url = &links.metalink_document()?.url;
        if !WEB_SCHEMES.contains(&url.scheme()) || url.host_str().is_none() {
            return None;
        }
        let note = format!("{}: following its Metalink document {url}", conn.url);
        d.document = Some(Document::new(url.clone()));
        // The one probing connection is the only one: it moves to the document.
        let mut only = Source::new(url.clone());
        only.conns = 1;
        d.sources = vec![only];
        // The connection's slot now belongs to the one mirror left.
        d.slot_sources.clear();
        d.slot_sources.insert(conn.slot, 0);
        conn.source = 0;
        conn.url = url.clone();
        self.notice(conn.dl, note);
        Some(Next::Reconnect)
    }
}
