//! Hash algorithms and checked digest values.

use std::fmt;

/// A hash algorithm that Metalink documents and `Digest` headers name.
///
/// The variants are declared from weakest to strongest, so `Ord` ranks them the way
/// aria2 does when it picks which hash to verify with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HashAlgorithm {
    /// MD5 (16 bytes). Broken; kept because old mirror networks still publish it.
    Md5,
    /// SHA-1 (20 bytes).
    Sha1,
    /// SHA-224 (28 bytes).
    Sha224,
    /// SHA-256 (32 bytes).
    Sha256,
    /// SHA-384 (48 bytes).
    Sha384,
    /// SHA-512 (64 bytes).
    Sha512,
}

impl HashAlgorithm {
    /// Every algorithm, strongest first.
    pub const STRONGEST_FIRST: [HashAlgorithm; 6] = [
        HashAlgorithm::Sha512,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha224,
        HashAlgorithm::Sha1,
        HashAlgorithm::Md5,
    ];

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            HashAlgorithm::Md5 => 16,
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha224 => 28,
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// The name from the IANA "Hash Function Textual Names" registry that Metalink 4
    /// uses (`sha-256`).
    pub fn metalink4_name(self) -> &'static str {
        match self {
            HashAlgorithm::Md5 => "md5",
            HashAlgorithm::Sha1 => "sha-1",
            HashAlgorithm::Sha224 => "sha-224",
            HashAlgorithm::Sha256 => "sha-256",
            HashAlgorithm::Sha384 => "sha-384",
            HashAlgorithm::Sha512 => "sha-512",
        }
    }

    /// The name an RFC 3230 `Digest` header uses (`SHA` is SHA-1 there).
    pub fn digest_header_name(self) -> &'static str {
        match self {
            HashAlgorithm::Md5 => "MD5",
            HashAlgorithm::Sha1 => "SHA",
            HashAlgorithm::Sha224 => "SHA-224",
            HashAlgorithm::Sha256 => "SHA-256",
            HashAlgorithm::Sha384 => "SHA-384",
            HashAlgorithm::Sha512 => "SHA-512",
        }
    }

    /// Reads a hash type as Metalink 4 (`sha-256`) or Metalink 3 (`sha256`) writes it,
    /// ignoring ASCII case. Unknown names (`ed2k`, `tiger`, `crc32`…) give `None`.
    pub fn from_metalink_name(name: &str) -> Option<HashAlgorithm> {
        let lower = name.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "md5" => HashAlgorithm::Md5,
            "sha-1" | "sha1" => HashAlgorithm::Sha1,
            "sha-224" | "sha224" => HashAlgorithm::Sha224,
            "sha-256" | "sha256" => HashAlgorithm::Sha256,
            "sha-384" | "sha384" => HashAlgorithm::Sha384,
            "sha-512" | "sha512" => HashAlgorithm::Sha512,
            _ => return None,
        })
    }

    /// Reads an RFC 3230 digest algorithm name (`SHA-256`, `SHA`, `MD5`), ignoring case.
    pub fn from_digest_header_name(name: &str) -> Option<HashAlgorithm> {
        let lower = name.trim().to_ascii_lowercase();
        Some(match lower.as_str() {
            "md5" => HashAlgorithm::Md5,
            "sha" => HashAlgorithm::Sha1,
            "sha-224" => HashAlgorithm::Sha224,
            "sha-256" => HashAlgorithm::Sha256,
            "sha-384" => HashAlgorithm::Sha384,
            "sha-512" => HashAlgorithm::Sha512,
            _ => return None,
        })
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.metalink4_name())
    }
}

/// Why a digest value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashValueError {
    /// The value has a character that is not a hexadecimal digit, at this character index.
    NotHex {
        /// Index of the first offending character.
        index: usize,
    },
    /// The value decodes to the wrong number of bytes for its algorithm.
    WrongLength {
        /// Bytes the algorithm produces.
        expected: usize,
        /// Bytes the value holds (for hex input: digits / 2, rounded down).
        found: usize,
    },
    /// A hex value with an odd number of digits.
    OddLength,
    /// A base64 value that does not decode.
    NotBase64,
    /// A digest of one algorithm given where another was expected.
    AlgorithmMismatch {
        /// The algorithm wanted.
        expected: HashAlgorithm,
        /// The algorithm given.
        found: HashAlgorithm,
    },
}

impl fmt::Display for HashValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashValueError::NotHex { index } => {
                write!(f, "character {index} is not a hexadecimal digit")
            }
            HashValueError::WrongLength { expected, found } => write!(
                f,
                "value is {found} bytes ({} hex digits), expected {expected} bytes ({} hex digits)",
                found * 2,
                expected * 2
            ),
            HashValueError::OddLength => f.write_str("odd number of hexadecimal digits"),
            HashValueError::NotBase64 => f.write_str("value is not valid base64"),
            HashValueError::AlgorithmMismatch { expected, found } => {
                write!(f, "a {found} digest where {expected} was expected")
            }
        }
    }
}

impl std::error::Error for HashValueError {}

/// A digest whose length matches its algorithm.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Hash {
    algorithm: HashAlgorithm,
    bytes: Vec<u8>,
}

impl Hash {
    /// A digest from raw bytes; the length must be the algorithm's.
    pub fn new(algorithm: HashAlgorithm, bytes: Vec<u8>) -> Result<Hash, HashValueError> {
        if bytes.len() != algorithm.digest_len() {
            return Err(HashValueError::WrongLength {
                expected: algorithm.digest_len(),
                found: bytes.len(),
            });
        }
        Ok(Hash { algorithm, bytes })
    }

    /// A digest from hexadecimal text (either case). Surrounding whitespace is ignored.
    pub fn from_hex(algorithm: HashAlgorithm, hex: &str) -> Result<Hash, HashValueError> {
        let mut bytes = Vec::with_capacity(algorithm.digest_len());
        decode_hex_into(algorithm, hex.trim(), &mut bytes)?;
        Ok(Hash { algorithm, bytes })
    }

    /// The algorithm.
    pub fn algorithm(&self) -> HashAlgorithm {
        self.algorithm
    }

    /// The digest bytes (exactly `algorithm().digest_len()` of them).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The digest as lowercase hexadecimal.
    pub fn to_hex(&self) -> String {
        to_hex(&self.bytes)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({}:{})", self.algorithm, self.to_hex())
    }
}

/// Appends the bytes of one `algorithm` digest written as hex to `out`.
///
/// The length is checked before anything is decoded, so hostile input cannot make
/// `out` grow past one digest.
pub(crate) fn decode_hex_into(
    algorithm: HashAlgorithm,
    hex: &str,
    out: &mut Vec<u8>,
) -> Result<(), HashValueError> {
    let digits = hex.as_bytes();
    if let Some(index) = digits.iter().position(|b| !b.is_ascii_hexdigit()) {
        return Err(HashValueError::NotHex { index });
    }
    if digits.len() % 2 == 1 {
        return Err(HashValueError::OddLength);
    }
    if digits.len() != algorithm.digest_len() * 2 {
        return Err(HashValueError::WrongLength {
            expected: algorithm.digest_len(),
            found: digits.len() / 2,
        });
    }
    out.extend(
        digits
            .chunks_exact(2)
            .map(|pair| (hex_value(pair[0]) << 4) | hex_value(pair[1])),
    );
    Ok(())
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => 0,
    }
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_both_metalink_versions_are_read() {
        assert_eq!(
            HashAlgorithm::from_metalink_name("sha-256"),
            Some(HashAlgorithm::Sha256)
        );
        assert_eq!(
            HashAlgorithm::from_metalink_name("SHA256"),
            Some(HashAlgorithm::Sha256)
        );
        assert_eq!(
            HashAlgorithm::from_metalink_name("sha1"),
            Some(HashAlgorithm::Sha1)
        );
        assert_eq!(HashAlgorithm::from_metalink_name("ed2k"), None);
        assert_eq!(
            HashAlgorithm::from_digest_header_name("SHA"),
            Some(HashAlgorithm::Sha1)
        );
        assert_eq!(HashAlgorithm::from_digest_header_name("sha1"), None);
    }

    #[test]
    fn hex_length_is_checked_per_algorithm() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        assert_eq!(
            Hash::from_hex(HashAlgorithm::Md5, md5).unwrap().to_hex(),
            md5
        );
        assert_eq!(
            Hash::from_hex(HashAlgorithm::Sha1, md5),
            Err(HashValueError::WrongLength {
                expected: 20,
                found: 16
            })
        );
        assert_eq!(
            Hash::from_hex(HashAlgorithm::Md5, &md5[1..]),
            Err(HashValueError::OddLength)
        );
        assert_eq!(
            Hash::from_hex(HashAlgorithm::Md5, "zz"),
            Err(HashValueError::NotHex { index: 0 })
        );
        assert_eq!(
            Hash::from_hex(HashAlgorithm::Md5, "D41D8CD98F00B204E9800998ECF8427E")
                .unwrap()
                .bytes()[0],
            0xd4
        );
    }

    #[test]
    fn strength_order_puts_sha512_first() {
        let mut all = HashAlgorithm::STRONGEST_FIRST;
        all.sort();
        all.reverse();
        assert_eq!(all, HashAlgorithm::STRONGEST_FIRST);
    }
}
