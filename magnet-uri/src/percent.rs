//! Percent-encoding of parameter names and values (RFC 3986 §2.1).
//!
//! Decoding is strict: a `%` must be followed by two hex digits, and the decoded bytes
//! must be UTF-8. `+` stands for a space only where the caller asks for it (the `kt`
//! keyword list, which is written like an HTML form field); elsewhere it is a literal `+`.
//!
//! Encoding keeps the RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`) and whatever
//! extra characters the caller lets through, and writes everything else as `%XX` with
//! uppercase hex digits, as RFC 3986 §2.1 recommends.

use std::borrow::Cow;

/// Why a name or value did not percent-decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// The `%` at this byte offset is not followed by two hex digits.
    BadEscape(usize),
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decodes `raw`, borrowing it when there is nothing to decode.
pub(crate) fn decode(raw: &str, plus_is_space: bool) -> Result<Cow<'_, str>, DecodeError> {
    let bytes = raw.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b == b'%' || (plus_is_space && b == b'+'))
    {
        return Ok(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(DecodeError::BadEscape(i)),
                }
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| DecodeError::NotUtf8)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Appends `text` percent-encoded. Bytes in `keep` are written as they are; with
/// `space_as_plus`, a space is written as `+` (and a literal `+` is, as always, escaped).
pub(crate) fn encode_into(out: &mut String, text: &str, keep: &[u8], space_as_plus: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        if is_unreserved(b) || keep.contains(&b) {
            out.push(char::from(b));
        } else if space_as_plus && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_keeps_plain_text_borrowed() {
        assert!(matches!(decode("plain", false), Ok(Cow::Borrowed("plain"))));
        assert_eq!(decode("a%20b%2Bc%c3%a9", false).unwrap(), "a b+cé");
        assert_eq!(decode("a+b", false).unwrap(), "a+b");
        assert_eq!(decode("a+b%2B", true).unwrap(), "a b+");
    }

    #[test]
    fn rejects_short_or_non_hex_escapes() {
        assert_eq!(decode("ab%2", false), Err(DecodeError::BadEscape(2)));
        assert_eq!(decode("%zz", false), Err(DecodeError::BadEscape(0)));
        assert_eq!(decode("x%", false), Err(DecodeError::BadEscape(1)));
        assert_eq!(decode("%ff", false), Err(DecodeError::NotUtf8));
    }

    #[test]
    fn encodes_everything_but_unreserved() {
        let mut s = String::new();
        encode_into(&mut s, "a b+c:d/é~", b"", false);
        assert_eq!(s, "a%20b%2Bc%3Ad%2F%C3%A9~");
        s.clear();
        encode_into(&mut s, "a b+c:d", b":", true);
        assert_eq!(s, "a+b%2Bc:d");
    }
}
