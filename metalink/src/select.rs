//! Choosing which files to fetch, in which order to try their URLs, and which hash
//! to verify with — aria2's `--metalink-*` options.
//!
//! aria2's rules, which these follow:
//! - `--metalink-version`, `--metalink-language`, `--metalink-os` *filter* files: a
//!   file is kept only if it has exactly that version, lists that language, lists
//!   that OS. A file that names no language is dropped when a language is asked for.
//!   (Languages and OSes are compared ignoring ASCII case here; aria2 compares them
//!   exactly.)
//! - `--metalink-location=jp,us` and `--metalink-preferred-protocol=https` *boost*
//!   URLs: each match subtracts 999999 from the URL's priority. Since priorities are
//!   1..=999999, a URL matching both comes before one matching either, which comes
//!   before one matching neither; within each group the document's priority decides.
//!   aria2 shuffles URLs of equal priority; this crate keeps document order so
//!   results are reproducible (a caller wanting aria2's spread can shuffle ties).
//! - Metaurls are ordered by priority alone.
//! - The strongest hash present is used: SHA-512 > SHA-384 > SHA-256 > SHA-224 >
//!   SHA-1 > MD5.

use std::fmt;
use std::str::FromStr;

use crate::hash::Hash;
use crate::model::{File, Location, MetaUrl, Metalink, Pieces, Priority, Resource};

/// A protocol aria2's `--metalink-preferred-protocol` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `http`.
    Http,
    /// `https`.
    Https,
    /// `ftp`.
    Ftp,
}

impl Protocol {
    /// The URL scheme.
    pub fn scheme(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Ftp => "ftp",
        }
    }
}

/// A `--metalink-preferred-protocol` value that is not `http`, `https`, `ftp` or
/// `none`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownProtocol(pub String);

impl fmt::Display for UnknownProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown protocol {:?}: expected http, https, ftp or none",
            self.0
        )
    }
}

impl std::error::Error for UnknownProtocol {}

impl FromStr for Protocol {
    type Err = UnknownProtocol;

    fn from_str(s: &str) -> Result<Protocol, UnknownProtocol> {
        match s {
            "http" => Ok(Protocol::Http),
            "https" => Ok(Protocol::Https),
            "ftp" => Ok(Protocol::Ftp),
            other => Err(UnknownProtocol(other.to_owned())),
        }
    }
}

/// The user's preferences; the default prefers nothing and keeps every file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Preferences {
    /// Keep only files of exactly this version (`--metalink-version`).
    pub version: Option<String>,
    /// Keep only files in this language (`--metalink-language`).
    pub language: Option<String>,
    /// Keep only files for this OS (`--metalink-os`).
    pub os: Option<String>,
    /// Try URLs in these countries first (`--metalink-location`).
    pub locations: Vec<Location>,
    /// Try URLs of this protocol first (`--metalink-preferred-protocol`).
    pub protocol: Option<Protocol>,
}

impl Preferences {
    /// Reads a `--metalink-location` value: comma-separated country codes, any case,
    /// blanks ignored. Returns the entries that are not two-letter codes as an error.
    pub fn parse_locations(list: &str) -> Result<Vec<Location>, String> {
        let mut locations = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            match Location::new(entry) {
                Some(location) => locations.push(location),
                None => return Err(entry.to_owned()),
            }
        }
        Ok(locations)
    }

    /// Reads a `--metalink-preferred-protocol` value; `none` means no preference.
    pub fn parse_protocol(value: &str) -> Result<Option<Protocol>, UnknownProtocol> {
        match value {
            "none" => Ok(None),
            other => other.parse().map(Some),
        }
    }

    /// Whether `file` passes the version, language and OS filters.
    pub fn accepts(&self, file: &File) -> bool {
        let listed = |list: &[String], wanted: &str| {
            list.iter().any(|item| item.eq_ignore_ascii_case(wanted))
        };
        self.version
            .as_deref()
            .is_none_or(|v| file.version.as_deref() == Some(v))
            && self
                .language
                .as_deref()
                .is_none_or(|l| listed(&file.languages, l))
            && self.os.as_deref().is_none_or(|o| listed(&file.oses, o))
    }

    /// How many preferences `resource` matches (0, 1 or 2).
    fn boosts(&self, resource: &Resource) -> u32 {
        let location = resource
            .location
            .is_some_and(|l| self.locations.contains(&l));
        let protocol = self
            .protocol
            .is_some_and(|p| resource.url.scheme() == p.scheme());
        u32::from(location) + u32::from(protocol)
    }
}

impl Metalink {
    /// The files `preferences` keeps, with their positions among all files (from 0).
    pub fn select_files<'a>(
        &'a self,
        preferences: &'a Preferences,
    ) -> impl Iterator<Item = (usize, &'a File)> + 'a {
        self.files
            .iter()
            .enumerate()
            .filter(|(_, file)| preferences.accepts(file))
    }
}

impl File {
    /// The URLs in the order to try them: preferred location and protocol first, then
    /// priority, then document order.
    pub fn ordered_urls(&self, preferences: &Preferences) -> Vec<&Resource> {
        let mut urls: Vec<&Resource> = self.urls.iter().collect();
        // Stable sort: equal keys keep document order.
        urls.sort_by_key(|r| {
            let priority = r.priority.unwrap_or(Priority::LOWEST);
            (std::cmp::Reverse(preferences.boosts(r)), priority)
        });
        urls
    }

    /// The metaurls by priority, then document order.
    pub fn ordered_metaurls(&self) -> Vec<&MetaUrl> {
        let mut metaurls: Vec<&MetaUrl> = self.metaurls.iter().collect();
        metaurls.sort_by_key(|m| m.priority.unwrap_or(Priority::LOWEST));
        metaurls
    }

    /// The whole-file digest of the strongest algorithm present (the first one listed
    /// if several have that algorithm).
    pub fn strongest_hash(&self) -> Option<&Hash> {
        let best = self.hashes.iter().map(Hash::algorithm).max()?;
        self.hashes.iter().find(|h| h.algorithm() == best)
    }

    /// The piece digests of the strongest algorithm present.
    pub fn strongest_pieces(&self) -> Option<&Pieces> {
        let best = self.pieces.iter().map(Pieces::algorithm).max()?;
        self.pieces.iter().find(|p| p.algorithm() == best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_lists_parse_like_aria2() {
        let l = Preferences::parse_locations("jp, US,,").unwrap();
        assert_eq!(
            l.iter().map(Location::as_str).collect::<Vec<_>>(),
            ["jp", "us"]
        );
        assert_eq!(Preferences::parse_locations("jp,usa"), Err("usa".into()));
    }

    #[test]
    fn protocol_values_are_aria2s() {
        assert_eq!(Preferences::parse_protocol("none"), Ok(None));
        assert_eq!(
            Preferences::parse_protocol("https"),
            Ok(Some(Protocol::Https))
        );
        assert!(Preferences::parse_protocol("gopher").is_err());
    }
}
