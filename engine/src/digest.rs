//! One vocabulary of digests for the whole engine.
//!
//! `--checksum`, Metalink `<hash>`/`<pieces>` and magnet-link hash URNs all name a hash
//! algorithm and an expected value. The format crates each have their own typed list;
//! the engine maps every one of them onto [`HashKind`] so that one set of hashers
//! (on the hasher threads) verifies them all.

/// A hash algorithm the engine can verify with, from weakest to strongest, so that
/// `Ord` picks the one to trust when a source names several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashKind {
    /// CRC-32 (IEEE); detects accidents only.
    Crc32,
    /// MD5.
    Md5,
    /// eDonkey2000 (MD4 over 9500 KiB blocks).
    Ed2k,
    /// eMule AICH root (SHA-1 tree).
    Aich,
    /// SHA-1.
    Sha1,
    /// Tiger tree hash (THEX), as in `urn:tree:tiger:`.
    Tth,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// An expected digest of a whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The algorithm.
    pub kind: HashKind,
    /// The digest bytes (`kind`'s length).
    pub bytes: Vec<u8>,
}

/// Expected digests of consecutive pieces of one file (Metalink `<pieces>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PieceHashes {
    /// The algorithm every piece is hashed with.
    pub kind: HashKind,
    /// Piece length in bytes (the last piece may be shorter).
    pub length: u64,
    /// One digest per piece, in file order.
    pub digests: Vec<Vec<u8>>,
}
