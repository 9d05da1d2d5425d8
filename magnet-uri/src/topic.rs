//! Exact topics (`xt`): URNs naming content by hash, decoded to typed digests.

use std::fmt;
use std::str::FromStr;

use crate::codec::{self, DecodeError};
use crate::error::{Encoding, ErrorKind};
use crate::multihash::Multihash;

/// The value of an `xt` parameter: a content hash of a known URN kind, decoded to bytes
/// of the right length, or any other URN kept verbatim.
///
/// | URN | accepted text | formatted as |
/// | --- | --- | --- |
/// | `urn:btih:` | 40 hex or 32 base32 | hex |
/// | `urn:btmh:` | hex multihash (`1220` + 64 hex for BitTorrent v2) | hex |
/// | `urn:sha1:` | 32 base32 or 40 hex | base32 |
/// | `urn:tree:tiger:` (also `tree:tiger/:`, `tree:tiger/1024:`) | 39 base32 | base32 |
/// | `urn:bitprint:` | 32 base32 `.` 39 base32 | base32 |
/// | `urn:ed2k:` | 32 hex | hex |
/// | `urn:aich:` | 32 base32 | base32 |
/// | `urn:kzhash:` | 40 hex | hex |
/// | `urn:md5:` | 32 hex or 26 base32 | hex |
/// | `urn:crc32:` | 8 hex, or 1–10 decimal digits | 8 hex |
///
/// The `urn:` prefix, the kind and the digits are all case-insensitive; output is
/// lowercase, like `rhash --magnet`.
///
/// **CRC-32.** The magnet draft writes `urn:crc32:` in base 10, but `rhash`, the one common
/// producer, writes 8 hex digits. A value of exactly 8 characters is therefore read as hex
/// (so a decimal CRC of exactly 8 digits is misread, an accepted cost); any other length,
/// 1 to 10 characters, is read as decimal. Formatting always writes 8 hex digits, which
/// this rule reads back to the same number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExactTopic {
    /// BitTorrent v1 info hash (SHA-1 of the info dictionary).
    Btih([u8; 20]),
    /// BitTorrent v2 info hash as a multihash (SHA2-256 in practice).
    Btmh(Multihash),
    /// SHA-1 of the file (Gnutella).
    Sha1([u8; 20]),
    /// Tiger tree hash (THEX, 1024-byte leaves) of the file (Direct Connect, Gnutella2).
    TigerTree([u8; 24]),
    /// SHA-1 and Tiger tree hash together (Bitzi bitprint).
    Bitprint {
        /// SHA-1 of the file.
        sha1: [u8; 20],
        /// Tiger tree hash of the file.
        tth: [u8; 24],
    },
    /// eDonkey2000 hash (MD4 over 9,728,000-byte chunks).
    Ed2k([u8; 16]),
    /// eMule Advanced Intelligent Corruption Handling root hash (SHA-1 tree).
    Aich([u8; 20]),
    /// Kazaa (FastTrack) hash.
    Kazaa([u8; 20]),
    /// MD5 of the file.
    Md5([u8; 16]),
    /// CRC-32 (IEEE) of the file.
    Crc32(u32),
    /// Any other URN (or non-URN value), kept as written after percent-decoding.
    Other {
        /// The full value, e.g. `urn:sha256:…`.
        urn: String,
    },
}

#[derive(Clone, Copy)]
enum Kind {
    Btih,
    Btmh,
    Sha1,
    TigerTree,
    Bitprint,
    Ed2k,
    Aich,
    Kazaa,
    Md5,
    Crc32,
}

/// URN prefixes, matched case-insensitively. Shareaza wrote `tree:tiger/:` and
/// `tree:tiger/1024:` for the same 1024-byte-leaf tree, so those read as Tiger trees too.
const PREFIXES: &[(&str, Kind)] = &[
    ("urn:btih:", Kind::Btih),
    ("urn:btmh:", Kind::Btmh),
    ("urn:sha1:", Kind::Sha1),
    ("urn:tree:tiger:", Kind::TigerTree),
    ("urn:tree:tiger/:", Kind::TigerTree),
    ("urn:tree:tiger/1024:", Kind::TigerTree),
    ("urn:bitprint:", Kind::Bitprint),
    ("urn:ed2k:", Kind::Ed2k),
    ("urn:aich:", Kind::Aich),
    ("urn:kzhash:", Kind::Kazaa),
    ("urn:md5:", Kind::Md5),
    ("urn:crc32:", Kind::Crc32),
];

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn decode_error(what: &'static str, err: DecodeError) -> ErrorKind {
    match err {
        DecodeError::Alphabet {
            encoding,
            at,
            found,
        } => ErrorKind::BadAlphabet {
            what,
            encoding,
            at,
            found,
        },
        DecodeError::NonCanonical => ErrorKind::NonCanonical { what },
    }
}

/// Which text forms a digest may take.
struct Forms {
    what: &'static str,
    hex: bool,
    base32: bool,
    expected: &'static str,
}

fn digest<const N: usize>(text: &str, forms: &Forms) -> Result<[u8; N], ErrorKind> {
    let attempt = if forms.hex {
        codec::hex_array::<N>(text)
    } else {
        None
    }
    .or_else(|| {
        if forms.base32 {
            codec::base32_array::<N>(text)
        } else {
            None
        }
    });
    match attempt {
        Some(result) => result.map_err(|e| decode_error(forms.what, e)),
        None => Err(ErrorKind::BadLength {
            what: forms.what,
            expected: forms.expected,
            found: text.chars().count(),
        }),
    }
}

const BTIH: Forms = Forms {
    what: "btih hash",
    hex: true,
    base32: true,
    expected: "40 hex or 32 base32 characters",
};
const SHA1: Forms = Forms {
    what: "sha1 hash",
    hex: true,
    base32: true,
    expected: "32 base32 or 40 hex characters",
};
const TTH: Forms = Forms {
    what: "tree:tiger hash",
    hex: false,
    base32: true,
    expected: "39 base32 characters",
};
const ED2K: Forms = Forms {
    what: "ed2k hash",
    hex: true,
    base32: false,
    expected: "32 hex characters",
};
const AICH: Forms = Forms {
    what: "aich hash",
    hex: false,
    base32: true,
    expected: "32 base32 characters",
};
const KAZAA: Forms = Forms {
    what: "kzhash hash",
    hex: true,
    base32: false,
    expected: "40 hex characters",
};
const MD5: Forms = Forms {
    what: "md5 hash",
    hex: true,
    base32: true,
    expected: "32 hex or 26 base32 characters",
};
const BITPRINT_EXPECTED: &str = "32 base32 characters, '.', then 39 base32 characters";

fn bitprint(text: &str) -> Result<ExactTopic, ErrorKind> {
    const WHAT: &str = "bitprint hash";
    let bad_length = || ErrorKind::BadLength {
        what: WHAT,
        expected: BITPRINT_EXPECTED,
        found: text.chars().count(),
    };
    let (sha1_text, tth_text) = text.split_once('.').ok_or_else(bad_length)?;
    let sha1 = codec::base32_array::<20>(sha1_text).ok_or_else(bad_length)?;
    let tth = codec::base32_array::<24>(tth_text).ok_or_else(bad_length)?;
    let sha1 = sha1.map_err(|e| decode_error(WHAT, e))?;
    // Report positions within the whole `sha1.tth` value.
    let tth = tth.map_err(|e| match e {
        DecodeError::Alphabet {
            encoding,
            at,
            found,
        } => decode_error(
            WHAT,
            DecodeError::Alphabet {
                encoding,
                at: at + 33,
                found,
            },
        ),
        other => decode_error(WHAT, other),
    })?;
    Ok(ExactTopic::Bitprint { sha1, tth })
}

fn btmh(text: &str) -> Result<ExactTopic, ErrorKind> {
    const WHAT: &str = "btmh multihash";
    if text.is_empty() || text.len() % 2 == 1 {
        return Err(ErrorKind::BadLength {
            what: WHAT,
            expected: "a non-empty, even number of hex characters (68 for SHA2-256)",
            found: text.chars().count(),
        });
    }
    let bytes = codec::hex_decode_vec(text).map_err(|e| decode_error(WHAT, e))?;
    Multihash::from_bytes(&bytes)
        .map(ExactTopic::Btmh)
        .map_err(|e| ErrorKind::BadMultihash { reason: e.reason() })
}

fn crc32(text: &str) -> Result<ExactTopic, ErrorKind> {
    const WHAT: &str = "crc32 value";
    if text.len() == 8 {
        let bytes = codec::hex_array::<4>(text)
            .unwrap_or(Err(DecodeError::NonCanonical))
            .map_err(|e| decode_error(WHAT, e))?;
        return Ok(ExactTopic::Crc32(u32::from_be_bytes(bytes)));
    }
    let value = decimal(text, WHAT, "8 hex or 1 to 10 decimal digits", 10)?;
    u32::try_from(value)
        .map(ExactTopic::Crc32)
        .map_err(|_| ErrorKind::OutOfRange { what: WHAT })
}

/// Reads 1 to `max_digits` decimal digits (at most 20, so the value fits `u64` unless it is
/// out of range, which is reported as such).
pub(crate) fn decimal(
    text: &str,
    what: &'static str,
    expected: &'static str,
    max_digits: usize,
) -> Result<u64, ErrorKind> {
    if let Some((at, found)) = text.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(ErrorKind::BadAlphabet {
            what,
            encoding: Encoding::Decimal,
            at,
            found,
        });
    }
    if text.is_empty() || text.len() > max_digits {
        return Err(ErrorKind::BadLength {
            what,
            expected,
            found: text.len(),
        });
    }
    text.parse().map_err(|_| ErrorKind::OutOfRange { what })
}

impl ExactTopic {
    /// Reads an `xt` value (already percent-decoded).
    pub fn parse(value: &str) -> Result<ExactTopic, ErrorKind> {
        let Some((rest, kind)) = PREFIXES
            .iter()
            .find_map(|&(prefix, kind)| strip_prefix_ignore_case(value, prefix).map(|r| (r, kind)))
        else {
            return Ok(ExactTopic::Other {
                urn: value.to_owned(),
            });
        };
        Ok(match kind {
            Kind::Btih => ExactTopic::Btih(digest(rest, &BTIH)?),
            Kind::Btmh => btmh(rest)?,
            Kind::Sha1 => ExactTopic::Sha1(digest(rest, &SHA1)?),
            Kind::TigerTree => ExactTopic::TigerTree(digest(rest, &TTH)?),
            Kind::Bitprint => bitprint(rest)?,
            Kind::Ed2k => ExactTopic::Ed2k(digest(rest, &ED2K)?),
            Kind::Aich => ExactTopic::Aich(digest(rest, &AICH)?),
            Kind::Kazaa => ExactTopic::Kazaa(digest(rest, &KAZAA)?),
            Kind::Md5 => ExactTopic::Md5(digest(rest, &MD5)?),
            Kind::Crc32 => crc32(rest)?,
        })
    }

    /// The URN kind as written after `urn:` (`"btih"`, `"tree:tiger"`, …), or `None` for
    /// [`ExactTopic::Other`].
    pub fn kind(&self) -> Option<&'static str> {
        Some(match self {
            ExactTopic::Btih(_) => "btih",
            ExactTopic::Btmh(_) => "btmh",
            ExactTopic::Sha1(_) => "sha1",
            ExactTopic::TigerTree(_) => "tree:tiger",
            ExactTopic::Bitprint { .. } => "bitprint",
            ExactTopic::Ed2k(_) => "ed2k",
            ExactTopic::Aich(_) => "aich",
            ExactTopic::Kazaa(_) => "kzhash",
            ExactTopic::Md5(_) => "md5",
            ExactTopic::Crc32(_) => "crc32",
            ExactTopic::Other { .. } => return None,
        })
    }
}

impl FromStr for ExactTopic {
    type Err = ErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExactTopic::parse(s)
    }
}

/// The canonical URN: lowercase, hex or base32 as in the table on [`ExactTopic`].
impl fmt::Display for ExactTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (prefix, body) = match self {
            ExactTopic::Btih(h) => ("urn:btih:", codec::hex_string(h)),
            ExactTopic::Btmh(m) => ("urn:btmh:", codec::hex_string(&m.to_bytes())),
            ExactTopic::Sha1(h) => ("urn:sha1:", codec::base32_string(h)),
            ExactTopic::TigerTree(h) => ("urn:tree:tiger:", codec::base32_string(h)),
            ExactTopic::Bitprint { sha1, tth } => {
                let mut body = codec::base32_string(sha1);
                body.push('.');
                codec::base32_encode(&mut body, tth);
                ("urn:bitprint:", body)
            }
            ExactTopic::Ed2k(h) => ("urn:ed2k:", codec::hex_string(h)),
            ExactTopic::Aich(h) => ("urn:aich:", codec::base32_string(h)),
            ExactTopic::Kazaa(h) => ("urn:kzhash:", codec::hex_string(h)),
            ExactTopic::Md5(h) => ("urn:md5:", codec::hex_string(h)),
            ExactTopic::Crc32(c) => return write!(f, "urn:crc32:{c:08x}"),
            ExactTopic::Other { urn } => return f.write_str(urn),
        };
        f.write_str(prefix)?;
        f.write_str(&body)
    }
}
