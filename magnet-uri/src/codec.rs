//! Hex and base32 (RFC 4648, no padding) for fixed-size digests.
//!
//! Decoding accepts either letter case, as magnet links in the wild use both; encoding
//! writes lowercase, as `rhash --magnet` does.

use crate::error::Encoding;

/// Why a string did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// `found` at character index `at` is not in the alphabet.
    Alphabet {
        encoding: Encoding,
        at: usize,
        found: char,
    },
    /// Base32 whose last character carries non-zero bits beyond the decoded bytes.
    NonCanonical,
}

/// Number of base32 characters that encode `bytes` bytes without padding.
pub(crate) const fn base32_len(bytes: usize) -> usize {
    (bytes * 8).div_ceil(5)
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn base32_value(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a'),
        b'2'..=b'7' => Some(c - b'2' + 26),
        _ => None,
    }
}

fn alphabet_error(text: &str, byte_index: usize, encoding: Encoding) -> DecodeError {
    // Every byte before `byte_index` was ASCII, so it is a character boundary; `get` keeps
    // this panic-free regardless.
    let at = text
        .get(..byte_index)
        .map_or(byte_index, |s| s.chars().count());
    let found = text
        .get(byte_index..)
        .and_then(|s| s.chars().next())
        .unwrap_or('\u{fffd}');
    DecodeError::Alphabet {
        encoding,
        at,
        found,
    }
}

/// Decodes hex into `out`; the caller has checked that `text.len() == 2 * out.len()`.
pub(crate) fn hex_decode_into(text: &str, out: &mut [u8]) -> Result<(), DecodeError> {
    for (i, (pair, slot)) in text.as_bytes().chunks_exact(2).zip(out).enumerate() {
        match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(hi), Some(lo)) => *slot = hi << 4 | lo,
            (None, _) => return Err(alphabet_error(text, 2 * i, Encoding::Hex)),
            (_, None) => return Err(alphabet_error(text, 2 * i + 1, Encoding::Hex)),
        }
    }
    Ok(())
}

/// Decodes hex of any even length; the caller has checked the length is even.
pub(crate) fn hex_decode_vec(text: &str) -> Result<Vec<u8>, DecodeError> {
    let mut out = vec![0; text.len() / 2];
    hex_decode_into(text, &mut out)?;
    Ok(out)
}

/// Decodes base32 into `out`; the caller has checked that
/// `text.len() == base32_len(out.len())`.
pub(crate) fn base32_decode_into(text: &str, out: &mut [u8]) -> Result<(), DecodeError> {
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut written = 0;
    for (i, &c) in text.as_bytes().iter().enumerate() {
        let value = base32_value(c).ok_or_else(|| alphabet_error(text, i, Encoding::Base32))?;
        acc = (acc << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            if let Some(slot) = out.get_mut(written) {
                *slot = (acc >> bits) as u8;
            }
            written += 1;
            acc &= (1 << bits) - 1;
        }
    }
    // Whatever is left over is padding inside the last character: it must be zero, or two
    // different strings would decode to the same digest.
    if acc != 0 {
        Err(DecodeError::NonCanonical)
    } else {
        Ok(())
    }
}

/// Decodes a fixed-size hex digest; `None` if the length is not `2 * N`.
pub(crate) fn hex_array<const N: usize>(text: &str) -> Option<Result<[u8; N], DecodeError>> {
    (text.len() == 2 * N).then(|| {
        let mut out = [0; N];
        hex_decode_into(text, &mut out).map(|()| out)
    })
}

/// Decodes a fixed-size base32 digest; `None` if the length is not `base32_len(N)`.
pub(crate) fn base32_array<const N: usize>(text: &str) -> Option<Result<[u8; N], DecodeError>> {
    (text.len() == base32_len(N)).then(|| {
        let mut out = [0; N];
        base32_decode_into(text, &mut out).map(|()| out)
    })
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";
const BASE32_DIGITS: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Appends lowercase hex.
pub(crate) fn hex_encode(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
        out.push(char::from(HEX_DIGITS[usize::from(b & 0xf)]));
    }
}

/// Appends lowercase unpadded base32.
pub(crate) fn base32_encode(out: &mut String, bytes: &[u8]) {
    out.reserve(base32_len(bytes.len()));
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32_DIGITS[((acc >> bits) & 31) as usize]));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(
            BASE32_DIGITS[((acc << (5 - bits)) & 31) as usize],
        ));
    }
}

/// Lowercase hex of `bytes` as a new string.
pub(crate) fn hex_string(bytes: &[u8]) -> String {
    let mut s = String::new();
    hex_encode(&mut s, bytes);
    s
}

/// Lowercase base32 of `bytes` as a new string.
pub(crate) fn base32_string(bytes: &[u8]) -> String {
    let mut s = String::new();
    base32_encode(&mut s, bytes);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        // RFC 4648 §10, without padding.
        for (plain, encoded) in [
            ("", ""),
            ("f", "my"),
            ("fo", "mzxq"),
            ("foo", "mzxw6"),
            ("foob", "mzxw6yq"),
            ("fooba", "mzxw6ytb"),
            ("foobar", "mzxw6ytboi"),
        ] {
            assert_eq!(base32_string(plain.as_bytes()), encoded);
            let mut out = vec![0; plain.len()];
            base32_decode_into(&encoded.to_uppercase(), &mut out).unwrap();
            assert_eq!(out, plain.as_bytes());
        }
    }

    #[test]
    fn base32_rejects_stray_low_bits() {
        // "my" is "f"; "mz" differs only in the two padding bits of the last character.
        let mut out = [0u8; 1];
        assert_eq!(
            base32_decode_into("mz", &mut out),
            Err(DecodeError::NonCanonical)
        );
    }

    #[test]
    fn alphabet_errors_point_at_the_character() {
        let err = hex_array::<2>("0g1f").unwrap().unwrap_err();
        assert_eq!(
            err,
            DecodeError::Alphabet {
                encoding: Encoding::Hex,
                at: 1,
                found: 'g'
            }
        );
        let err = base32_array::<1>("m1").unwrap().unwrap_err();
        assert_eq!(
            err,
            DecodeError::Alphabet {
                encoding: Encoding::Base32,
                at: 1,
                found: '1'
            }
        );
    }

    #[test]
    fn hex_round_trips_both_cases() {
        let bytes = hex_array::<4>("DeadBEEF").unwrap().unwrap();
        assert_eq!(bytes, [0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(hex_string(&bytes), "deadbeef");
    }
}
