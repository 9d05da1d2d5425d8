//! One vocabulary of digests for the whole engine.
//!
//! `--checksum`, Metalink `<hash>`/`<pieces>` and magnet-link hash URNs all name a hash
//! algorithm and an expected value. The format crates each have their own typed list;
//! the engine maps every one of them onto [`HashKind`] and [`Digest`] here, so that one
//! [`Hasher`] (run on the hasher threads) verifies them all.
//!
//! Invariants:
//! - a [`Digest`] built through this module ([`Digest::new`], [`Digest::from_hex`],
//!   [`Digest::parse`], the conversions) holds exactly [`HashKind::len`] bytes;
//! - a [`Hasher`] of kind `k` finishes with a [`Digest`] of kind `k`, so comparing a
//!   finished hasher with an expected digest compares algorithm and bytes at once;
//! - CRC-32 values are four bytes, big-endian, the order they are written in hex.

use std::fmt;

use md5::Md5;
use sha2::{Digest as _, Sha224, Sha256, Sha384, Sha512};
use swarmget_magnet_uri::ExactTopic;
use swarmget_magnet_uri::hash::{Aich, Ed2k, TigerTree};
use swarmget_metalink::{Hash, HashAlgorithm, Pieces};

use sha1_pair::Sha1;

mod sha1_pair;

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

impl HashKind {
    /// Every kind, weakest first.
    pub const ALL: [HashKind; 10] = [
        HashKind::Crc32,
        HashKind::Md5,
        HashKind::Ed2k,
        HashKind::Aich,
        HashKind::Sha1,
        HashKind::Tth,
        HashKind::Sha224,
        HashKind::Sha256,
        HashKind::Sha384,
        HashKind::Sha512,
    ];

    /// Reads a name as aria2 writes it (`md5`, `sha-1`, `sha-256`, …), the unhyphenated
    /// Metalink 3 spellings (`sha1`, `sha256`, …), and `tth`, `ed2k`, `aich`, `crc32`;
    /// ASCII case is ignored.
    pub fn from_name(name: &str) -> Option<HashKind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "crc32" => HashKind::Crc32,
            "md5" => HashKind::Md5,
            "ed2k" => HashKind::Ed2k,
            "aich" => HashKind::Aich,
            "sha-1" | "sha1" => HashKind::Sha1,
            "tth" => HashKind::Tth,
            "sha-224" | "sha224" => HashKind::Sha224,
            "sha-256" | "sha256" => HashKind::Sha256,
            "sha-384" | "sha384" => HashKind::Sha384,
            "sha-512" | "sha512" => HashKind::Sha512,
            _ => return None,
        })
    }

    /// The name `--checksum` and the readout use (aria2's for the kinds aria2 knows).
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Crc32 => "crc32",
            HashKind::Md5 => "md5",
            HashKind::Ed2k => "ed2k",
            HashKind::Aich => "aich",
            HashKind::Sha1 => "sha-1",
            HashKind::Tth => "tth",
            HashKind::Sha224 => "sha-224",
            HashKind::Sha256 => "sha-256",
            HashKind::Sha384 => "sha-384",
            HashKind::Sha512 => "sha-512",
        }
    }

    /// Digest length in bytes.
    #[allow(clippy::len_without_is_empty)] // a kind is not a container
    pub fn len(self) -> usize {
        match self {
            HashKind::Crc32 => 4,
            HashKind::Md5 | HashKind::Ed2k => 16,
            HashKind::Aich | HashKind::Sha1 => 20,
            HashKind::Tth => 24,
            HashKind::Sha224 => 28,
            HashKind::Sha256 => 32,
            HashKind::Sha384 => 48,
            HashKind::Sha512 => 64,
        }
    }
}

impl fmt::Display for HashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<HashAlgorithm> for HashKind {
    fn from(a: HashAlgorithm) -> HashKind {
        match a {
            HashAlgorithm::Md5 => HashKind::Md5,
            HashAlgorithm::Sha1 => HashKind::Sha1,
            HashAlgorithm::Sha224 => HashKind::Sha224,
            HashAlgorithm::Sha256 => HashKind::Sha256,
            HashAlgorithm::Sha384 => HashKind::Sha384,
            HashAlgorithm::Sha512 => HashKind::Sha512,
        }
    }
}

/// An expected digest: an algorithm and its value.
///
/// `Display` writes `TYPE=HEX` (`sha-256=e3b0…`), the form `--checksum` reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    /// The algorithm.
    pub kind: HashKind,
    /// The digest bytes (`kind`'s length).
    pub bytes: Vec<u8>,
}

/// Why a digest was refused; the message says what was wrong with which part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestError(String);

impl fmt::Display for DigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DigestError {}

impl Digest {
    /// A digest from raw bytes, which must be `kind`'s length.
    pub fn new(kind: HashKind, bytes: Vec<u8>) -> Result<Digest, DigestError> {
        if bytes.len() != kind.len() {
            return Err(DigestError(format!(
                "{kind} digest must be {} bytes, got {}",
                kind.len(),
                bytes.len()
            )));
        }
        Ok(Digest { kind, bytes })
    }

    /// A digest from hexadecimal text (either case), checking the length for `kind`.
    pub fn from_hex(kind: HashKind, hex: &str) -> Result<Digest, DigestError> {
        let bytes = decode_hex(hex)
            .ok_or_else(|| DigestError(format!("checksum digest `{hex}` is not hexadecimal")))?;
        if bytes.len() != kind.len() {
            return Err(DigestError(format!(
                "{kind} digest must be {} hex digits, got {}",
                kind.len() * 2,
                hex.len()
            )));
        }
        Ok(Digest { kind, bytes })
    }

    /// Parses `--checksum`'s `TYPE=HEX`.
    pub fn parse(value: &str) -> Result<Digest, DigestError> {
        let (name, hex) = value
            .split_once('=')
            .ok_or_else(|| DigestError(format!("checksum `{value}` is not TYPE=DIGEST")))?;
        let kind = HashKind::from_name(name)
            .ok_or_else(|| DigestError(format!("unknown checksum type `{name}`")))?;
        Digest::from_hex(kind, hex)
    }

    /// The digests an `xt` URN names: none for info hashes and unknown URNs, two for a
    /// bitprint (its SHA-1 and its Tiger tree hash), one otherwise.
    pub fn from_exact_topic(topic: &ExactTopic) -> Vec<Digest> {
        let one = |kind, bytes: &[u8]| {
            vec![Digest {
                kind,
                bytes: bytes.to_vec(),
            }]
        };
        match topic {
            ExactTopic::Sha1(h) => one(HashKind::Sha1, h),
            ExactTopic::TigerTree(h) => one(HashKind::Tth, h),
            ExactTopic::Bitprint { sha1, tth } => vec![
                Digest {
                    kind: HashKind::Sha1,
                    bytes: sha1.to_vec(),
                },
                Digest {
                    kind: HashKind::Tth,
                    bytes: tth.to_vec(),
                },
            ],
            ExactTopic::Ed2k(h) => one(HashKind::Ed2k, h),
            ExactTopic::Aich(h) => one(HashKind::Aich, h),
            ExactTopic::Md5(h) => one(HashKind::Md5, h),
            ExactTopic::Crc32(c) => one(HashKind::Crc32, &c.to_be_bytes()),
            // Info hashes name a torrent, not the file's bytes; Kazaa's hash has no
            // hasher here; other URNs are opaque.
            _ => Vec::new(),
        }
    }

    /// The digest bytes as lowercase hexadecimal.
    pub fn to_hex(&self) -> String {
        self.bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl From<&Hash> for Digest {
    fn from(h: &Hash) -> Digest {
        // The metalink crate checked the length against the same algorithm.
        Digest {
            kind: h.algorithm().into(),
            bytes: h.bytes().to_vec(),
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.kind.name(), self.to_hex())
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The digest to verify with when a source names several: the strongest kind; among
/// digests of that kind, the first.
pub fn strongest(digests: &[Digest]) -> Option<&Digest> {
    // `max_by_key` keeps the last of equal maxima; walking backwards makes that the first.
    digests.iter().rev().max_by_key(|d| d.kind)
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

impl PieceHashes {
    /// Whether there is exactly one digest per piece of a file of `size` bytes.
    pub fn fits(&self, size: u64) -> bool {
        self.length > 0 && self.digests.len() as u64 == size.div_ceil(self.length)
    }
}

impl From<&Pieces> for PieceHashes {
    fn from(p: &Pieces) -> PieceHashes {
        PieceHashes {
            kind: p.algorithm().into(),
            length: p.length().get(),
            digests: p.iter().map(<[u8]>::to_vec).collect(),
        }
    }
}

/// A running hash of one [`HashKind`], fed in pieces of any size.
#[derive(Clone)]
pub enum Hasher {
    /// CRC-32.
    Crc32(crc32fast::Hasher),
    /// MD5.
    Md5(Md5),
    /// eDonkey2000.
    Ed2k(Ed2k),
    /// AICH root.
    Aich(Aich),
    /// SHA-1.
    Sha1(Sha1),
    /// Tiger tree.
    Tth(TigerTree),
    /// SHA-224.
    Sha224(Sha224),
    /// SHA-256.
    Sha256(Sha256),
    /// SHA-384.
    Sha384(Sha384),
    /// SHA-512.
    Sha512(Sha512),
}

impl Hasher {
    /// A hasher at the start of the input.
    pub fn new(kind: HashKind) -> Hasher {
        match kind {
            HashKind::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
            HashKind::Md5 => Hasher::Md5(Md5::new()),
            HashKind::Ed2k => Hasher::Ed2k(Ed2k::new()),
            HashKind::Aich => Hasher::Aich(Aich::new()),
            HashKind::Sha1 => Hasher::Sha1(Sha1::default()),
            HashKind::Tth => Hasher::Tth(TigerTree::new()),
            HashKind::Sha224 => Hasher::Sha224(Sha224::new()),
            HashKind::Sha256 => Hasher::Sha256(Sha256::new()),
            HashKind::Sha384 => Hasher::Sha384(Sha384::new()),
            HashKind::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    /// The kind this hasher computes.
    pub fn kind(&self) -> HashKind {
        match self {
            Hasher::Crc32(_) => HashKind::Crc32,
            Hasher::Md5(_) => HashKind::Md5,
            Hasher::Ed2k(_) => HashKind::Ed2k,
            Hasher::Aich(_) => HashKind::Aich,
            Hasher::Sha1(_) => HashKind::Sha1,
            Hasher::Tth(_) => HashKind::Tth,
            Hasher::Sha224(_) => HashKind::Sha224,
            Hasher::Sha256(_) => HashKind::Sha256,
            Hasher::Sha384(_) => HashKind::Sha384,
            Hasher::Sha512(_) => HashKind::Sha512,
        }
    }

    /// Feeds the next bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Crc32(h) => h.update(data),
            Hasher::Md5(h) => h.update(data),
            Hasher::Ed2k(h) => h.update(data),
            Hasher::Aich(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Tth(h) => h.update(data),
            Hasher::Sha224(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// Feeds `a` to `x` and `b` to `y`: two SHA-1 digests are made together, faster
    /// than one after the other (`digest/sha1_pair.rs`); other kinds one after the
    /// other.
    pub fn update_pair(x: &mut Hasher, a: &[u8], y: &mut Hasher, b: &[u8]) {
        match (x, y) {
            (Hasher::Sha1(x), Hasher::Sha1(y)) => Sha1::update_pair(x, a, y, b),
            (x, y) => {
                x.update(a);
                y.update(b);
            }
        }
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Digest {
        let kind = self.kind();
        let bytes = match self {
            Hasher::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Ed2k(h) => h.finish().to_vec(),
            Hasher::Aich(h) => h.finish().to_vec(),
            Hasher::Sha1(h) => h.finish().to_vec(),
            Hasher::Tth(h) => h.finish().to_vec(),
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        };
        Digest { kind, bytes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use swarmget_magnet_uri::hash::{Algorithms, Hasher as MagnetHasher};

    fn hash(kind: HashKind, data: &[u8]) -> Digest {
        let mut h = Hasher::new(kind);
        // Feed unevenly so block boundaries inside the tree hashers are crossed mid-call.
        for chunk in data.chunks(7777) {
            h.update(chunk);
        }
        h.finish()
    }

    #[test]
    fn every_kind_has_a_name_that_parses_back_and_a_hasher_of_its_length() {
        for kind in HashKind::ALL {
            assert_eq!(HashKind::from_name(kind.name()), Some(kind));
            assert_eq!(
                HashKind::from_name(&kind.name().to_ascii_uppercase()),
                Some(kind)
            );
            let d = hash(kind, b"abc");
            assert_eq!(d.kind, kind);
            assert_eq!(d.bytes.len(), kind.len(), "{kind}");
        }
        assert_eq!(HashKind::from_name("sha256"), Some(HashKind::Sha256));
        assert_eq!(HashKind::from_name("sha-3"), None);
    }

    #[test]
    fn known_vectors() {
        let cases = [
            (HashKind::Crc32, "352441c2"),
            (HashKind::Md5, "900150983cd24fb0d6963f7d28e17f72"),
            (HashKind::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (
                HashKind::Sha256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
        ];
        for (kind, hex) in cases {
            assert_eq!(hash(kind, b"abc"), Digest::from_hex(kind, hex).unwrap());
        }
    }

    #[test]
    fn tree_hashes_agree_with_the_magnet_crate_across_block_boundaries() {
        // Three ed2k parts' worth would be slow; 2 AICH blocks and many TTH leaves suffice
        // to cross the boundaries, plus ed2k's single-part case.
        let data: Vec<u8> = (0..400_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut m = MagnetHasher::new(Algorithms::ALL);
        m.update(&data);
        let m = m.finish();
        assert_eq!(hash(HashKind::Tth, &data).bytes, m.tth.unwrap());
        assert_eq!(hash(HashKind::Ed2k, &data).bytes, m.ed2k.unwrap());
        assert_eq!(hash(HashKind::Aich, &data).bytes, m.aich.unwrap());
        assert_eq!(
            hash(HashKind::Crc32, &data).bytes,
            m.crc32.unwrap().to_be_bytes()
        );
    }

    #[test]
    fn checksum_option_values_parse_with_specific_errors() {
        let c = Digest::parse(
            "sha-256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        .unwrap();
        assert_eq!(hash(HashKind::Sha256, b""), c);
        let err = |v: &str| Digest::parse(v).unwrap_err().to_string();
        assert_eq!(
            err("sha-256=abcd"),
            "sha-256 digest must be 64 hex digits, got 4"
        );
        assert_eq!(err("sha-3=00"), "unknown checksum type `sha-3`");
        assert_eq!(err("md5=zz"), "checksum digest `zz` is not hexadecimal");
        assert_eq!(err("md5"), "checksum `md5` is not TYPE=DIGEST");
        let md5 = Digest::parse("MD5=D41D8CD98F00B204E9800998ECF8427E").unwrap();
        assert_eq!(md5.to_string(), "md5=d41d8cd98f00b204e9800998ecf8427e");
        let crc = Digest::parse("crc32=352441C2").unwrap();
        assert_eq!(crc, hash(HashKind::Crc32, b"abc"));
        assert_eq!(
            Digest::new(HashKind::Sha1, vec![0; 19])
                .unwrap_err()
                .to_string(),
            "sha-1 digest must be 20 bytes, got 19"
        );
    }

    #[test]
    fn metalink_hashes_convert() {
        for a in HashAlgorithm::STRONGEST_FIRST {
            let h = Hash::new(a, vec![7; a.digest_len()]).unwrap();
            let d = Digest::from(&h);
            assert_eq!(d.kind.name(), a.metalink4_name());
            assert_eq!(d.bytes, h.bytes());
        }
    }

    #[test]
    fn metalink_pieces_convert_and_fit_their_file() {
        let mut p = Pieces::new(HashAlgorithm::Sha1, std::num::NonZeroU64::new(4).unwrap());
        for chunk in [&b"abcd"[..], b"ef"] {
            p.push(&Hash::new(HashAlgorithm::Sha1, hash(HashKind::Sha1, chunk).bytes).unwrap())
                .unwrap();
        }
        let ph = PieceHashes::from(&p);
        assert_eq!(ph.kind, HashKind::Sha1);
        assert_eq!(ph.length, 4);
        assert_eq!(ph.digests[1], hash(HashKind::Sha1, b"ef").bytes);
        assert!(ph.fits(6) && ph.fits(5) && !ph.fits(4) && !ph.fits(9));
    }

    #[test]
    fn magnet_topics_convert_and_bitprint_gives_both_parts() {
        let topic = |s: &str| ExactTopic::parse(s).unwrap();
        let data = b"hello world";
        let mut m = MagnetHasher::new(Algorithms::ALL);
        m.update(data);
        // Every typed topic rhash would write, read back through the engine's hashers.
        for t in m.finish().exact_topics() {
            let ds = Digest::from_exact_topic(&t);
            assert_eq!(ds.len(), 1, "{t}");
            assert_eq!(hash(ds[0].kind, data), ds[0], "{t}");
        }
        let sha1 = hash(HashKind::Sha1, data);
        let tth = hash(HashKind::Tth, data);
        let bitprint = ExactTopic::Bitprint {
            sha1: sha1.bytes.clone().try_into().unwrap(),
            tth: tth.bytes.clone().try_into().unwrap(),
        };
        assert_eq!(Digest::from_exact_topic(&bitprint), vec![sha1, tth]);
        assert!(
            Digest::from_exact_topic(&topic("urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a"))
                .is_empty()
        );
        assert!(Digest::from_exact_topic(&topic("urn:sha256:abcd")).is_empty());
        let md5 = topic("urn:md5:d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(Digest::from_exact_topic(&md5)[0], hash(HashKind::Md5, b""));
    }

    #[test]
    fn strongest_picks_the_strongest_kind_and_the_first_of_equals() {
        let d = |kind: HashKind, b: u8| Digest {
            kind,
            bytes: vec![b; kind.len()],
        };
        assert_eq!(strongest(&[]), None);
        let list = [
            d(HashKind::Md5, 1),
            d(HashKind::Sha256, 2),
            d(HashKind::Tth, 3),
            d(HashKind::Sha256, 4),
        ];
        assert_eq!(strongest(&list), Some(&list[1]));
        assert_eq!(
            strongest(&[d(HashKind::Crc32, 0), d(HashKind::Ed2k, 0)]),
            Some(&d(HashKind::Ed2k, 0))
        );
    }
}
