//! Self-describing hashes (multiformats multihash), as carried by `urn:btmh:`.

use std::fmt;

/// A multihash: a hash-function code and a digest, each length-prefixed by an unsigned
/// varint. BitTorrent v2 (BEP 52) info hashes are always SHA2-256, i.e. the bytes
/// `0x12 0x20` followed by 32 digest bytes; other functions are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Multihash {
    code: u64,
    digest: Vec<u8>,
}

/// Why bytes are not a multihash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultihashError(&'static str);

impl MultihashError {
    /// What is wrong, in a few words.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for MultihashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for MultihashError {}

impl Multihash {
    /// The multicodec code of SHA2-256, the only function BitTorrent v2 uses.
    pub const SHA2_256: u64 = 0x12;

    /// Longest digest accepted (SHA-512 and BLAKE2b-512 are 64 bytes).
    pub const MAX_DIGEST_LEN: usize = 64;

    /// Largest code an unsigned varint can carry (nine bytes, 63 bits).
    pub const MAX_CODE: u64 = (1 << 63) - 1;

    /// A multihash with the given function `code` and `digest`, or an error if the code
    /// exceeds [`Self::MAX_CODE`] or the digest [`Self::MAX_DIGEST_LEN`].
    pub fn new(code: u64, digest: &[u8]) -> Result<Self, MultihashError> {
        if code > Self::MAX_CODE {
            return Err(MultihashError("function code does not fit a 9-byte varint"));
        }
        if digest.len() > Self::MAX_DIGEST_LEN {
            return Err(MultihashError("digest longer than 64 bytes"));
        }
        Ok(Multihash {
            code,
            digest: digest.to_vec(),
        })
    }

    /// The SHA2-256 multihash of a BitTorrent v2 info dictionary.
    pub fn sha2_256(digest: [u8; 32]) -> Self {
        Multihash {
            code: Self::SHA2_256,
            digest: digest.to_vec(),
        }
    }

    /// The hash-function code (`0x12` for SHA2-256).
    pub fn code(&self) -> u64 {
        self.code
    }

    /// The digest bytes.
    pub fn digest(&self) -> &[u8] {
        &self.digest
    }

    /// The digest as a BitTorrent v2 info hash, if this is a 32-byte SHA2-256 multihash.
    pub fn sha2_256_digest(&self) -> Option<[u8; 32]> {
        if self.code == Self::SHA2_256 {
            self.digest.as_slice().try_into().ok()
        } else {
            None
        }
    }

    /// The binary form: varint code, varint length, digest.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.digest.len() + 4);
        write_varint(&mut out, self.code);
        write_varint(&mut out, self.digest.len() as u64);
        out.extend_from_slice(&self.digest);
        out
    }

    /// Reads the binary form. The varints must be minimally encoded and the length must
    /// match the bytes that follow exactly.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MultihashError> {
        let (code, rest) = read_varint(bytes)?;
        let (len, digest) = read_varint(rest)?;
        if len > Self::MAX_DIGEST_LEN as u64 {
            return Err(MultihashError("digest longer than 64 bytes"));
        }
        if len != digest.len() as u64 {
            return Err(MultihashError(
                "digest length does not match the bytes that follow",
            ));
        }
        Ok(Multihash {
            code,
            digest: digest.to_vec(),
        })
    }
}

fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads an unsigned varint (multiformats: at most 9 bytes, minimal encoding).
fn read_varint(bytes: &[u8]) -> Result<(u64, &[u8]), MultihashError> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(9) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return Err(MultihashError("varint is not minimally encoded"));
            }
            return Ok((value, &bytes[i + 1..]));
        }
    }
    if bytes.len() >= 9 {
        Err(MultihashError("varint longer than 9 bytes"))
    } else {
        Err(MultihashError("truncated varint"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha2_256_round_trips() {
        let m = Multihash::sha2_256([7; 32]);
        let bytes = m.to_bytes();
        assert_eq!(&bytes[..2], &[0x12, 0x20]);
        assert_eq!(Multihash::from_bytes(&bytes).unwrap(), m);
        assert_eq!(m.sha2_256_digest(), Some([7; 32]));
    }

    #[test]
    fn multi_byte_codes_round_trip() {
        let m = Multihash::new(0xb220, &[1, 2, 3]).unwrap();
        assert_eq!(Multihash::from_bytes(&m.to_bytes()).unwrap(), m);
        assert_eq!(m.sha2_256_digest(), None);
    }

    #[test]
    fn rejects_malformed_bytes() {
        assert!(Multihash::from_bytes(&[]).is_err());
        assert!(Multihash::from_bytes(&[0x12]).is_err());
        assert!(Multihash::from_bytes(&[0x12, 0x02, 0xaa]).is_err());
        assert!(
            Multihash::from_bytes(&[0x92, 0x00, 0x00]).is_err(),
            "non-minimal varint"
        );
        assert!(Multihash::from_bytes(&[0xff; 12]).is_err());
    }
}
