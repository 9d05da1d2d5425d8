//! `Link` header values (RFC 8288, formerly RFC 5988) and their Metalink/HTTP meaning.

use url::Url;

use super::{HeaderError, HeaderErrorKind, METALINK4_MEDIA_TYPE};
use crate::model::{Location, Priority};
use crate::select::Preferences;

/// One link from a `Link` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The target, resolved against the request URI.
    pub target: Url,
    /// The relation types of the first `rel` parameter, lowercased
    /// (`rel="duplicate describedby"` gives two).
    pub relations: Vec<String>,
    /// Every parameter in order: lowercased name, and value if it has one (quotes
    /// removed, escapes resolved).
    pub params: Vec<(String, Option<String>)>,
}

impl Link {
    /// The first parameter called `name` (lowercase): `None` if absent,
    /// `Some(None)` if present without a value (like `pref`).
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }

    /// Whether the link has relation type `relation` (lowercase).
    pub fn has_relation(&self, relation: &str) -> bool {
        self.relations.iter().any(|r| r == relation)
    }
}

/// Parses one `Link` header value (a comma-separated list of links). Relative
/// targets are resolved against `base`, the URI the response answered.
///
/// Several `Link` header lines may be joined with commas first or parsed one by one.
pub fn parse_link_header(value: &str, base: &Url) -> Result<Vec<Link>, HeaderError> {
    let mut p = Cursor {
        s: value.as_bytes(),
        text: value,
        pos: 0,
    };
    let mut links = Vec::new();
    loop {
        // Empty list elements are allowed (`, ,`).
        while matches!(p.peek(), Some(b',' | b' ' | b'\t')) {
            p.pos += 1;
        }
        if p.peek().is_none() {
            return Ok(links);
        }
        links.push(p.link(base)?);
    }
}

struct Cursor<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn error(&self, kind: HeaderErrorKind) -> HeaderError {
        HeaderError {
            offset: self.pos,
            kind,
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn link(&mut self, base: &Url) -> Result<Link, HeaderError> {
        if self.peek() != Some(b'<') {
            return Err(self.error(HeaderErrorKind::ExpectedTarget));
        }
        let start = self.pos + 1;
        let Some(len) = self.s[start..].iter().position(|&b| b == b'>') else {
            return Err(self.error(HeaderErrorKind::UnterminatedTarget));
        };
        // `<` and `>` are ASCII, so both ends are char boundaries.
        let raw = self.text[start..start + len].trim();
        let target = base
            .join(raw)
            .map_err(|e| self.error(HeaderErrorKind::InvalidTarget(e)))?;
        self.pos = start + len + 1;

        let mut params = Vec::new();
        loop {
            self.skip_ows();
            match self.peek() {
                None => break,
                Some(b',') => {
                    self.pos += 1;
                    break;
                }
                Some(b';') => self.pos += 1,
                Some(_) => return Err(self.error(HeaderErrorKind::ExpectedSeparator)),
            }
            self.skip_ows();
            if matches!(self.peek(), None | Some(b';' | b',')) {
                continue; // an empty parameter, as in `;;`
            }
            params.push(self.param()?);
        }
        let relations = params
            .iter()
            .find(|(name, _)| name == "rel")
            .and_then(|(_, v)| v.as_deref())
            .map(|v| {
                v.split_ascii_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Link {
            target,
            relations,
            params,
        })
    }

    fn param(&mut self) -> Result<(String, Option<String>), HeaderError> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error(HeaderErrorKind::ExpectedParameterName));
        }
        let name = self.text[start..self.pos].to_ascii_lowercase();
        self.skip_ows();
        if self.peek() != Some(b'=') {
            return Ok((name, None));
        }
        self.pos += 1;
        self.skip_ows();
        let value = if self.peek() == Some(b'"') {
            self.quoted()?
        } else {
            // RFC 8288 wants a token here, but servers send unquoted media types
            // (`type=application/metalink4+xml`), so take everything up to a
            // delimiter.
            let start = self.pos;
            while !matches!(self.peek(), None | Some(b';' | b',' | b' ' | b'\t')) {
                self.pos += 1;
            }
            self.text[start..self.pos].to_owned()
        };
        Ok((name, Some(value)))
    }

    fn quoted(&mut self) -> Result<String, HeaderError> {
        let open = self.pos;
        self.pos += 1;
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => {
                    self.pos = open;
                    return Err(self.error(HeaderErrorKind::UnterminatedQuotedString));
                }
                Some(b'"') => {
                    self.pos += 1;
                    // Escapes only remove ASCII backslashes, so the bytes stay UTF-8.
                    return Ok(String::from_utf8_lossy(&value).into_owned());
                }
                Some(b'\\') if self.pos + 1 < self.s.len() => {
                    value.push(self.s[self.pos + 1]);
                    self.pos += 2;
                }
                Some(b) => {
                    value.push(b);
                    self.pos += 1;
                }
            }
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A mirror announced with `rel=duplicate` (RFC 6249 §3.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mirror {
    /// Where the same file can be fetched.
    pub url: Url,
    /// `pri`: 1 (most preferred) to 999999; invalid values are ignored.
    pub priority: Option<Priority>,
    /// `geo`: the mirror's country; invalid values are ignored.
    pub location: Option<Location>,
    /// `pref`: the server says to prefer this mirror.
    pub preferred: bool,
    /// `depth`: the mirror's directory depth parameter (RFC 6249 §3.2), as given.
    pub depth: Option<u32>,
}

/// Metadata about the file announced with `rel=describedby` (RFC 6249 §3.3–3.5): a
/// Metalink document, a torrent, or a signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribedBy {
    /// Where the metadata is.
    pub url: Url,
    /// `type`, lowercased, e.g. `application/metalink4+xml`,
    /// `application/x-bittorrent`, `application/pgp-signature`.
    pub media_type: Option<String>,
}

impl DescribedBy {
    /// Whether this points at a Metalink 4 document.
    pub fn is_metalink(&self) -> bool {
        self.media_type.as_deref() == Some(METALINK4_MEDIA_TYPE)
    }
}

/// What a response's links say in Metalink/HTTP terms.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetalinkLinks {
    /// Mirrors, in header order.
    pub mirrors: Vec<Mirror>,
    /// Metadata links, in header order.
    pub described_by: Vec<DescribedBy>,
}

impl MetalinkLinks {
    /// Picks the `rel=duplicate` and `rel=describedby` links out of `links`; others
    /// are not Metalink/HTTP's business.
    pub fn from_links(links: &[Link]) -> MetalinkLinks {
        let mut out = MetalinkLinks::default();
        for link in links {
            if link.has_relation("duplicate") {
                out.mirrors.push(Mirror {
                    url: link.target.clone(),
                    priority: link
                        .param("pri")
                        .flatten()
                        .and_then(|v| v.parse().ok())
                        .and_then(Priority::new),
                    location: link.param("geo").flatten().and_then(Location::new),
                    preferred: link.param("pref").is_some(),
                    depth: link.param("depth").flatten().and_then(|v| v.parse().ok()),
                });
            }
            if link.has_relation("describedby") {
                out.described_by.push(DescribedBy {
                    url: link.target.clone(),
                    media_type: link
                        .param("type")
                        .flatten()
                        .map(|t| t.trim().to_ascii_lowercase()),
                });
            }
        }
        out
    }

    /// The mirrors in the order aria2 tries them: `pref` first, then mirrors in a
    /// preferred location, then by `pri` (missing = 999999), then header order.
    pub fn ordered_mirrors(&self, preferences: &Preferences) -> Vec<&Mirror> {
        let mut mirrors: Vec<&Mirror> = self.mirrors.iter().collect();
        mirrors.sort_by_key(|m| {
            let local = m
                .location
                .is_some_and(|l| preferences.locations.contains(&l));
            (!m.preferred, !local, m.priority.unwrap_or(Priority::LOWEST))
        });
        mirrors
    }

    /// The first link to a Metalink 4 document, if any.
    pub fn metalink_document(&self) -> Option<&DescribedBy> {
        self.described_by.iter().find(|d| d.is_metalink())
    }
}
