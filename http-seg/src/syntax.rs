//! Character classes and list helpers from RFC 9110 §5.6, shared by the
//! request writer, the head parser and the field accessors.

/// `tchar` (RFC 9110 §5.6.2): the characters allowed in a token.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// A non-empty run of `tchar`: a valid field name, method or token value.
pub(crate) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// Bytes allowed inside a field value: VCHAR, obs-text, SP and HTAB.
/// Everything else is a control character, including CR, LF, NUL and DEL.
pub(crate) fn is_field_value_byte(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// Optional whitespace: SP or HTAB.
pub(crate) fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Strips optional whitespace from both ends of a byte string.
pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_ows(*first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_ows(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// The elements of a comma-separated list (RFC 9110 §5.6.1), trimmed, with
/// empty elements skipped as the RFC asks of recipients. Quoted strings are not
/// special here: every list this crate splits holds tokens or numbers.
pub(crate) fn list_elements(s: &str) -> impl Iterator<Item = &str> {
    s.split(',')
        .map(|e| e.trim_matches([' ', '\t']))
        .filter(|e| !e.is_empty())
}

/// Decodes bytes as UTF-8 when they are, otherwise as ISO-8859-1, which maps
/// every byte to the code point of the same value and so never fails. Field
/// values are octets on the wire; this is the historical reading of obs-text.
pub(crate) fn utf8_or_latin1(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => latin1(bytes),
    }
}

/// Decodes ISO-8859-1 bytes.
pub(crate) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_token(b"Content-Length"));
        assert!(is_token(b"x!#$%&'*+-.^_`|~9"));
        assert!(!is_token(b""));
        assert!(!is_token(b"a b"));
        assert!(!is_token(b"a:b"));
        assert!(!is_token(b"caf\xc3\xa9"));
    }

    #[test]
    fn trimming_and_lists() {
        assert_eq!(trim_ows(b" \t a b \t"), b"a b");
        assert_eq!(trim_ows(b"   "), b"");
        let items: Vec<_> = list_elements(" a, ,b ,\tc,").collect();
        assert_eq!(items, ["a", "b", "c"]);
    }

    #[test]
    fn value_bytes() {
        assert!(is_field_value_byte(b'\t'));
        assert!(is_field_value_byte(0xe9));
        assert!(!is_field_value_byte(b'\r'));
        assert!(!is_field_value_byte(0));
        assert!(!is_field_value_byte(0x7f));
    }

    #[test]
    fn text_decoding() {
        assert_eq!(utf8_or_latin1("é".as_bytes()), "é");
        assert_eq!(utf8_or_latin1(b"caf\xe9"), "café");
    }
}
