//! Computing file hashes for magnet links in one pass (feature `hash`, on by default).
//!
//! [`Hasher`] takes the file's bytes in pieces of any size and computes any chosen set of
//! SHA-1, Tiger tree hash, ed2k, AICH, MD5 and CRC-32 at once; it does no I/O. To hash a
//! large stream on two cores, [`hash_reader`] reads it and feeds two `Hasher`s, each with
//! about half of the work, on two threads.
//!
//! ```
//! use swarmget_magnet_uri::hash::{Algorithms, Hasher};
//!
//! let mut hasher = Hasher::new(Algorithms::ALL);
//! hasher.update(b"hello ");
//! hasher.update(b"world");
//! let digests = hasher.finish();
//! assert_eq!(digests.size, 11);
//! assert_eq!(digests.crc32, Some(0x0d4a_1185));
//! ```

mod aich;
mod algorithm;
mod ed2k;
mod reader;
mod tth;

pub use aich::{Aich, BLOCK_SIZE as AICH_BLOCK_SIZE};
pub use algorithm::{Algorithm, Algorithms, UnknownAlgorithm};
pub use ed2k::{CHUNK_SIZE as ED2K_CHUNK_SIZE, Ed2k};
pub use reader::hash_reader;
pub use tth::{LEAF_SIZE as TTH_LEAF_SIZE, TigerTree};

use md5::Md5;
use sha1::{Digest, Sha1};

use crate::topic::ExactTopic;

/// Computes a chosen set of hashes over one stream of bytes.
#[derive(Clone)]
pub struct Hasher {
    size: u64,
    crc32: Option<crc32fast::Hasher>,
    md5: Option<Md5>,
    sha1: Option<Sha1>,
    tth: Option<TigerTree>,
    ed2k: Option<Ed2k>,
    aich: Option<Aich>,
}

impl Hasher {
    /// A hasher for `algorithms`, at the start of the input.
    pub fn new(algorithms: Algorithms) -> Self {
        let on = |a| algorithms.contains(a);
        Hasher {
            size: 0,
            crc32: on(Algorithm::Crc32).then(crc32fast::Hasher::new),
            md5: on(Algorithm::Md5).then(Md5::new),
            sha1: on(Algorithm::Sha1).then(Sha1::new),
            tth: on(Algorithm::Tth).then(TigerTree::new),
            ed2k: on(Algorithm::Ed2k).then(Ed2k::new),
            aich: on(Algorithm::Aich).then(Aich::new),
        }
    }

    /// The algorithms this hasher computes.
    pub fn algorithms(&self) -> Algorithms {
        let mut set = Algorithms::NONE;
        for (present, a) in [
            (self.crc32.is_some(), Algorithm::Crc32),
            (self.md5.is_some(), Algorithm::Md5),
            (self.sha1.is_some(), Algorithm::Sha1),
            (self.tth.is_some(), Algorithm::Tth),
            (self.ed2k.is_some(), Algorithm::Ed2k),
            (self.aich.is_some(), Algorithm::Aich),
        ] {
            if present {
                set = set.with(a);
            }
        }
        set
    }

    /// Bytes fed so far.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether no byte has been fed yet.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Feeds the next bytes of the input.
    pub fn update(&mut self, data: &[u8]) {
        self.size += data.len() as u64;
        if let Some(h) = &mut self.crc32 {
            h.update(data);
        }
        if let Some(h) = &mut self.md5 {
            h.update(data);
        }
        if let Some(h) = &mut self.sha1 {
            h.update(data);
        }
        if let Some(h) = &mut self.tth {
            h.update(data);
        }
        if let Some(h) = &mut self.ed2k {
            h.update(data);
        }
        if let Some(h) = &mut self.aich {
            h.update(data);
        }
    }

    /// The digests of everything fed.
    pub fn finish(self) -> Digests {
        Digests {
            size: self.size,
            crc32: self.crc32.map(crc32fast::Hasher::finalize),
            md5: self.md5.map(|h| h.finalize().into()),
            sha1: self.sha1.map(|h| h.finalize().into()),
            tth: self.tth.map(TigerTree::finish),
            ed2k: self.ed2k.map(Ed2k::finish),
            aich: self.aich.map(Aich::finish),
        }
    }
}

/// The result of hashing: the input size and each hash that was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Digests {
    /// Bytes hashed.
    pub size: u64,
    /// CRC-32 (IEEE).
    pub crc32: Option<u32>,
    /// MD5.
    pub md5: Option<[u8; 16]>,
    /// SHA-1.
    pub sha1: Option<[u8; 20]>,
    /// Tiger tree hash.
    pub tth: Option<[u8; 24]>,
    /// eDonkey2000 hash.
    pub ed2k: Option<[u8; 16]>,
    /// eMule AICH root hash.
    pub aich: Option<[u8; 20]>,
}

impl Digests {
    /// Combines the results of two hashers that read the same input with disjoint sets of
    /// algorithms (as [`hash_reader`] does); where both have a value, `self`'s is kept.
    #[must_use]
    pub fn merge(self, other: Digests) -> Digests {
        Digests {
            size: self.size.max(other.size),
            crc32: self.crc32.or(other.crc32),
            md5: self.md5.or(other.md5),
            sha1: self.sha1.or(other.sha1),
            tth: self.tth.or(other.tth),
            ed2k: self.ed2k.or(other.ed2k),
            aich: self.aich.or(other.aich),
        }
    }

    /// The digests as exact topics, in the order `rhash --magnet` writes them
    /// (crc32, md5, sha1, tree:tiger, ed2k, aich).
    pub fn exact_topics(&self) -> Vec<ExactTopic> {
        let mut topics = Vec::new();
        topics.extend(self.crc32.map(ExactTopic::Crc32));
        topics.extend(self.md5.map(ExactTopic::Md5));
        topics.extend(self.sha1.map(ExactTopic::Sha1));
        topics.extend(self.tth.map(ExactTopic::TigerTree));
        topics.extend(self.ed2k.map(ExactTopic::Ed2k));
        topics.extend(self.aich.map(ExactTopic::Aich));
        topics
    }
}

impl crate::Magnet {
    /// The link `rhash --magnet` would print for a file called `name` of `size` bytes
    /// (usually `digests.size`) with these digests: `xl`, `dn`, then one `xt` per digest.
    ///
    /// `name` should be a bare file name; it becomes the display name as it is.
    pub fn from_hashes(name: &str, size: u64, digests: &Digests) -> crate::Magnet {
        let group = crate::Group {
            exact_length: Some(size),
            display_name: Some(name.to_owned()),
            exact_topics: digests.exact_topics(),
            ..crate::Group::default()
        };
        crate::Magnet {
            groups: vec![group],
        }
    }
}
