//! The typed model both Metalink versions parse into and the writer emits.
//!
//! Values that have rules (file names, digests, priorities, locations) are wrapped in
//! types that can only hold valid values, so a model a program builds is one the
//! writer can emit and the parser will read back unchanged.

use std::fmt;
use std::num::NonZeroU64;

use url::Url;

use crate::hash::{Hash, HashAlgorithm, HashValueError, decode_hex_into};
use crate::name::FileName;
use crate::time::Timestamp;

/// A Metalink document: a set of files and where to get them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metalink {
    /// The program that generated the document (`generator`; Metalink 3's attribute of
    /// the same name).
    pub generator: Option<String>,
    /// Where the document was published, and whether it is refreshed there.
    pub origin: Option<Origin>,
    /// When the document was first published (Metalink 3: `pubdate`).
    pub published: Option<Timestamp>,
    /// When the document last changed in a significant way (Metalink 3: `refreshdate`).
    pub updated: Option<Timestamp>,
    /// The files, in document order.
    pub files: Vec<File>,
}

/// Where a document came from (`origin`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The document's own URL.
    pub url: Url,
    /// True when newer versions of the document are published at `url`
    /// (`dynamic="true"`; Metalink 3's `type="dynamic"`).
    pub dynamic: bool,
}

/// One file the document describes (`file`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Where to store the file, relative to the download directory.
    pub name: FileName,
    /// Length in bytes.
    pub size: Option<u64>,
    /// A human-readable name for what the file is (`identity`).
    pub identity: Option<String>,
    /// The version of what the file holds (`version`).
    pub version: Option<String>,
    /// Languages of the content, as RFC 5646 tags (`language`).
    pub languages: Vec<String>,
    /// Operating systems the content is for (`os`).
    pub oses: Vec<String>,
    /// A description (`description`).
    pub description: Option<String>,
    /// Who publishes the file (`publisher`).
    pub publisher: Option<Publisher>,
    /// A copyright notice (`copyright`).
    pub copyright: Option<String>,
    /// Whole-file digests, in document order.
    pub hashes: Vec<Hash>,
    /// Piece digests; Metalink 4 allows one list per algorithm.
    pub pieces: Vec<Pieces>,
    /// Direct download locations, in document order.
    pub urls: Vec<Resource>,
    /// Metadata that leads to the file, such as a torrent (`metaurl`).
    pub metaurls: Vec<MetaUrl>,
    /// A signature over the file (`signature`).
    pub signature: Option<Signature>,
}

impl File {
    /// A file with a name and nothing else.
    pub fn new(name: FileName) -> File {
        File {
            name,
            size: None,
            identity: None,
            version: None,
            languages: Vec::new(),
            oses: Vec::new(),
            description: None,
            publisher: None,
            copyright: None,
            hashes: Vec::new(),
            pieces: Vec::new(),
            urls: Vec::new(),
            metaurls: Vec::new(),
            signature: None,
        }
    }
}

/// The publisher of a file (`publisher`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publisher {
    /// The publisher's name.
    pub name: String,
    /// The publisher's web site, as written (it is shown, never fetched).
    pub url: Option<String>,
}

/// A URL the file itself can be downloaded from (`url`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resource {
    /// The absolute URL (relative ones were resolved against the caller's base).
    pub url: Url,
    /// The country the server is in.
    pub location: Option<Location>,
    /// How much the publisher prefers this URL; absent means lowest (999999).
    pub priority: Option<Priority>,
}

/// A URL of metadata that describes the file, such as a `.torrent` (`metaurl`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaUrl {
    /// The absolute URL of the metadata.
    pub url: Url,
    /// What kind of metadata: `torrent` for BitTorrent, otherwise a MIME type.
    pub media_type: String,
    /// Which file inside a multi-file torrent this entry is.
    pub name: Option<FileName>,
    /// How much the publisher prefers this source; absent means lowest.
    pub priority: Option<Priority>,
}

impl MetaUrl {
    /// True for BitTorrent metadata (`mediatype="torrent"`).
    pub fn is_torrent(&self) -> bool {
        self.media_type.eq_ignore_ascii_case("torrent")
    }
}

/// A signature over the file (`signature`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The signature's MIME type, e.g. `application/pgp-signature`.
    pub media_type: String,
    /// The signature itself, e.g. an ASCII-armored OpenPGP block.
    pub body: String,
}

/// A Metalink priority: 1 (most preferred) to 999999 (least).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u32);

impl Priority {
    /// The most preferred priority.
    pub const HIGHEST: Priority = Priority(1);
    /// The least preferred priority, which a URL without one gets.
    pub const LOWEST: Priority = Priority(999_999);

    /// A priority, if `value` is in 1..=999999.
    pub fn new(value: u32) -> Option<Priority> {
        (1..=Self::LOWEST.0)
            .contains(&value)
            .then_some(Priority(value))
    }

    /// Metalink 3's `preference` (0–100, higher preferred) as a priority, the way
    /// aria2 maps it: `101 - preference`. Values above 100 count as 100.
    pub fn from_v3_preference(preference: u32) -> Priority {
        Priority(101 - preference.min(100))
    }

    /// The number.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A country code (ISO 3166-1 alpha-2), stored in lowercase.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location([u8; 2]);

impl Location {
    /// A location from two ASCII letters, in either case.
    pub fn new(code: &str) -> Option<Location> {
        match code.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Location([a.to_ascii_lowercase(), b.to_ascii_lowercase()]))
            }
            _ => None,
        }
    }

    /// The two lowercase letters.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Location({})", self.as_str())
    }
}

/// Digests of consecutive equal-length pieces of a file (`pieces`).
#[derive(Clone, PartialEq, Eq)]
pub struct Pieces {
    algorithm: HashAlgorithm,
    length: NonZeroU64,
    /// All digests back to back; the length is a multiple of the algorithm's.
    digests: Vec<u8>,
}

impl Pieces {
    /// An empty list of `algorithm` digests for pieces of `length` bytes.
    pub fn new(algorithm: HashAlgorithm, length: NonZeroU64) -> Pieces {
        Pieces {
            algorithm,
            length,
            digests: Vec::new(),
        }
    }

    /// Appends the next piece's digest.
    pub fn push(&mut self, digest: &Hash) -> Result<(), HashValueError> {
        if digest.algorithm() != self.algorithm {
            return Err(HashValueError::AlgorithmMismatch {
                expected: self.algorithm,
                found: digest.algorithm(),
            });
        }
        self.digests.extend_from_slice(digest.bytes());
        Ok(())
    }

    /// Appends the next piece's digest given as hex.
    pub fn push_hex(&mut self, hex: &str) -> Result<(), HashValueError> {
        decode_hex_into(self.algorithm, hex.trim(), &mut self.digests)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The piece length in bytes (the last piece may be shorter).
    pub fn length(&self) -> NonZeroU64 {
        self.length
    }

    /// How many piece digests there are.
    pub fn len(&self) -> usize {
        self.digests.len() / self.algorithm.digest_len()
    }

    /// True when there are no piece digests.
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// The digest of piece `index`.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let n = self.algorithm.digest_len();
        let start = index.checked_mul(n)?;
        self.digests.get(start..start.checked_add(n)?)
    }

    /// The digests in piece order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        self.digests.chunks_exact(self.algorithm.digest_len())
    }

    /// How many pieces a file of `size` bytes has with this piece length.
    pub fn expected_count(&self, size: u64) -> u64 {
        size.div_ceil(self.length.get())
    }
}

impl fmt::Debug for Pieces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pieces")
            .field("algorithm", &self.algorithm)
            .field("length", &self.length)
            .field("count", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_range_and_v3_mapping() {
        assert_eq!(Priority::new(0), None);
        assert_eq!(Priority::new(1), Some(Priority::HIGHEST));
        assert_eq!(Priority::new(999_999), Some(Priority::LOWEST));
        assert_eq!(Priority::new(1_000_000), None);
        assert_eq!(Priority::from_v3_preference(100).get(), 1);
        assert_eq!(Priority::from_v3_preference(0).get(), 101);
        assert_eq!(Priority::from_v3_preference(500).get(), 1);
    }

    #[test]
    fn location_is_two_letters_lowercased() {
        assert_eq!(Location::new("DE").unwrap().as_str(), "de");
        assert_eq!(Location::new("deu"), None);
        assert_eq!(Location::new("1a"), None);
        assert_eq!(Location::new("ü"), None);
    }

    #[test]
    fn pieces_hold_fixed_width_digests() {
        let mut p = Pieces::new(HashAlgorithm::Md5, NonZeroU64::new(4).unwrap());
        p.push_hex("00112233445566778899aabbccddeeff").unwrap();
        p.push_hex("ffeeddccbbaa99887766554433221100").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p.get(1).unwrap()[0], 0xff);
        assert_eq!(p.get(2), None);
        assert_eq!(p.get(usize::MAX), None);
        assert!(p.push_hex("0011").is_err());
        assert_eq!(p.len(), 2);
        assert_eq!(p.expected_count(9), 3);
        let sha1 = Hash::new(HashAlgorithm::Sha1, vec![0; 20]).unwrap();
        assert!(p.push(&sha1).is_err());
    }
}
