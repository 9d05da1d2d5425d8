//! RFC 3230 `Digest` header values: `SHA-256=<base64>, MD5=<base64>`.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};

use super::{HeaderError, HeaderErrorKind};
use crate::hash::{Hash, HashAlgorithm, HashValueError};

/// Parses a `Digest` header value into digests, strongest algorithm first.
///
/// Algorithms this crate does not know (`UNIXsum`, `CRC32C`…) are skipped. As in
/// aria2, an algorithm listed twice with different values is dropped altogether:
/// the server contradicts itself, so neither value can be trusted. A known
/// algorithm with a value that is not base64 of the right length is an error.
pub fn parse_digest_header(value: &str) -> Result<Vec<Hash>, HeaderError> {
    let mut found: Vec<Hash> = Vec::new();
    let mut contradicted: Vec<HashAlgorithm> = Vec::new();
    let mut offset = 0;
    for item in value.split(',') {
        let item_offset = offset;
        offset += item.len() + 1;
        let leading = item.len() - item.trim_start().len();
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let Some((name, encoded)) = item.split_once('=') else {
            return Err(HeaderError {
                offset: item_offset + leading,
                kind: HeaderErrorKind::ExpectedEquals,
            });
        };
        let Some(algorithm) = HashAlgorithm::from_digest_header_name(name) else {
            continue;
        };
        let hash = decode(algorithm, encoded.trim()).map_err(|reason| HeaderError {
            offset: item_offset + leading + name.len() + 1,
            kind: HeaderErrorKind::InvalidDigest { algorithm, reason },
        })?;
        match found.iter().position(|h| h.algorithm() == algorithm) {
            Some(i) if found[i] != hash => {
                found.remove(i);
                contradicted.push(algorithm);
            }
            Some(_) => {}
            None if contradicted.contains(&algorithm) => {}
            None => found.push(hash),
        }
    }
    found.sort_by_key(|h| std::cmp::Reverse(h.algorithm()));
    Ok(found)
}

/// Formats digests as a `Digest` header value (`SHA-256=…, MD5=…`).
pub fn format_digest_header(hashes: &[Hash]) -> String {
    hashes
        .iter()
        .map(|h| {
            format!(
                "{}={}",
                h.algorithm().digest_header_name(),
                STANDARD.encode(h.bytes())
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Standard base64 that accepts values with or without `=` padding, since servers
/// differ.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decode(algorithm: HashAlgorithm, encoded: &str) -> Result<Hash, HashValueError> {
    // Bound the work by the one length that can be right before decoding anything.
    let padded_len = algorithm.digest_len().div_ceil(3) * 4;
    if encoded.len() > padded_len {
        return Err(HashValueError::WrongLength {
            expected: algorithm.digest_len(),
            found: encoded.len() / 4 * 3,
        });
    }
    let bytes = LENIENT_BASE64
        .decode(encoded)
        .map_err(|_| HashValueError::NotBase64)?;
    Hash::new(algorithm, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_algorithms_are_decoded_strongest_first() {
        let md5 = Hash::from_hex(HashAlgorithm::Md5, "d41d8cd98f00b204e9800998ecf8427e").unwrap();
        let sha256 = Hash::from_hex(
            HashAlgorithm::Sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        )
        .unwrap();
        let header = "MD5=1B2M2Y8AsgTpgAmY7PhCfg==, UNIXsum=0, SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert_eq!(parse_digest_header(header).unwrap(), [sha256, md5]);
    }

    #[test]
    fn contradicting_values_drop_the_algorithm() {
        let header = "MD5=1B2M2Y8AsgTpgAmY7PhCfg==, MD5=AAAAAAAAAAAAAAAAAAAAAA==, MD5=1B2M2Y8AsgTpgAmY7PhCfg==";
        assert_eq!(parse_digest_header(header).unwrap(), []);
    }
}
