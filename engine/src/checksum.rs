//! `--checksum=TYPE=HEX`: the whole-file digest a finished download must match.

use std::fmt;

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

/// The digest algorithms aria2 accepts for `--checksum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5.
    Md5,
    /// SHA-1.
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// Parses aria2's names (`md5`, `sha-1`, `sha-256`, …; `sha1`, `sha256` also accepted).
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Some(match name.to_ascii_lowercase().as_str() {
            "md5" => Algorithm::Md5,
            "sha-1" | "sha1" => Algorithm::Sha1,
            "sha-224" | "sha224" => Algorithm::Sha224,
            "sha-256" | "sha256" => Algorithm::Sha256,
            "sha-384" | "sha384" => Algorithm::Sha384,
            "sha-512" | "sha512" => Algorithm::Sha512,
            _ => return None,
        })
    }

    /// aria2's name for the algorithm.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha-1",
            Algorithm::Sha224 => "sha-224",
            Algorithm::Sha256 => "sha-256",
            Algorithm::Sha384 => "sha-384",
            Algorithm::Sha512 => "sha-512",
        }
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Algorithm::Md5 => 16,
            Algorithm::Sha1 => 20,
            Algorithm::Sha224 => 28,
            Algorithm::Sha256 => 32,
            Algorithm::Sha384 => 48,
            Algorithm::Sha512 => 64,
        }
    }
}

/// An expected digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    algorithm: Algorithm,
    digest: Vec<u8>,
}

/// Why a `--checksum` value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumError(String);

impl fmt::Display for ChecksumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChecksumError {}

impl Checksum {
    /// Parses `TYPE=HEX`, checking the digest length for the type.
    pub fn parse(value: &str) -> Result<Checksum, ChecksumError> {
        let (name, hex) = value
            .split_once('=')
            .ok_or_else(|| ChecksumError(format!("checksum `{value}` is not TYPE=DIGEST")))?;
        let algorithm = Algorithm::from_name(name)
            .ok_or_else(|| ChecksumError(format!("unknown checksum type `{name}`")))?;
        let digest = decode_hex(hex)
            .ok_or_else(|| ChecksumError(format!("checksum digest `{hex}` is not hexadecimal")))?;
        if digest.len() != algorithm.digest_len() {
            return Err(ChecksumError(format!(
                "{} digest must be {} hex digits, got {}",
                algorithm.name(),
                algorithm.digest_len() * 2,
                hex.len()
            )));
        }
        Ok(Checksum { algorithm, digest })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The expected digest bytes.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}=", self.algorithm.name())?;
        self.digest.iter().try_for_each(|b| write!(f, "{b:02x}"))
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

/// A running digest of one [`Algorithm`].
pub enum Digester {
    /// MD5.
    Md5(Md5),
    /// SHA-1.
    Sha1(Sha1),
    /// SHA-224.
    Sha224(Sha224),
    /// SHA-256.
    Sha256(Sha256),
    /// SHA-384.
    Sha384(Sha384),
    /// SHA-512.
    Sha512(Sha512),
}

impl Digester {
    /// A fresh digest.
    pub fn new(algorithm: Algorithm) -> Digester {
        match algorithm {
            Algorithm::Md5 => Digester::Md5(Md5::new()),
            Algorithm::Sha1 => Digester::Sha1(Sha1::new()),
            Algorithm::Sha224 => Digester::Sha224(Sha224::new()),
            Algorithm::Sha256 => Digester::Sha256(Sha256::new()),
            Algorithm::Sha384 => Digester::Sha384(Sha384::new()),
            Algorithm::Sha512 => Digester::Sha512(Sha512::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Digester::Md5(d) => d.update(data),
            Digester::Sha1(d) => d.update(data),
            Digester::Sha224(d) => d.update(data),
            Digester::Sha256(d) => d.update(data),
            Digester::Sha384(d) => d.update(data),
            Digester::Sha512(d) => d.update(data),
        }
    }

    /// The digest.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Digester::Md5(d) => d.finalize().to_vec(),
            Digester::Sha1(d) => d.finalize().to_vec(),
            Digester::Sha224(d) => d.finalize().to_vec(),
            Digester::Sha256(d) => d.finalize().to_vec(),
            Digester::Sha384(d) => d.finalize().to_vec(),
            Digester::Sha512(d) => d.finalize().to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_lengths() {
        let c = Checksum::parse(
            "sha-256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        .unwrap();
        assert_eq!(c.algorithm(), Algorithm::Sha256);
        let mut d = Digester::new(Algorithm::Sha256);
        d.update(b"");
        assert_eq!(d.finish(), c.digest());
        assert!(Checksum::parse("sha-256=abcd").is_err());
        assert!(Checksum::parse("sha-3=00").is_err());
        assert!(Checksum::parse("md5=zz").is_err());
        assert!(Checksum::parse("md5").is_err());
        let md5 = Checksum::parse("MD5=D41D8CD98F00B204E9800998ECF8427E").unwrap();
        assert_eq!(md5.to_string(), "md5=d41d8cd98f00b204e9800998ecf8427e");
    }
}
