//! File names from `Content-Disposition` (RFC 6266, RFC 8187) and URLs, and
//! turning any of them into one safe path component.

use percent_encoding::percent_decode;
use url::Url;

use crate::syntax::{is_ows, latin1, trim_ows, utf8_or_latin1};

/// The file name a `Content-Disposition` value suggests, decoded but not
/// sanitised: it may contain `/`, `..` or control characters, so pass it
/// through [`sanitize_file_name`] before using it as a path.
///
/// `value` is the field's octets as received (a `&str` works too).
/// `filename*` (RFC 8187 `charset'lang'pct-encoded`, charsets UTF-8 and
/// ISO-8859-1) wins over `filename`. A plain `filename` (token or
/// quoted-string with `\` escapes) is read as ISO-8859-1 octets, as
/// RFC 6266 says; with `default_utf8` (aria2's
/// `--content-disposition-default-utf8`) its `%XX` escapes are decoded and the
/// octets read as UTF-8 instead, falling back to ISO-8859-1 when they are not
/// UTF-8. Parameter names are case-insensitive; the first of each kind wins;
/// an unparsable `filename*` falls back to `filename`. Leniency for real
/// servers: the disposition type may be missing, a `filename` value may be
/// unquoted with spaces in it, and an unterminated quoted string runs to the
/// end of the value.
pub fn content_disposition_filename(value: impl AsRef<[u8]>, default_utf8: bool) -> Option<String> {
    let mut extended = None;
    let mut plain = None;
    for (name, raw) in Params::new(value.as_ref()) {
        if name.eq_ignore_ascii_case(b"filename*") {
            if extended.is_none() {
                extended = decode_ext_value(&raw);
            }
        } else if name.eq_ignore_ascii_case(b"filename") && plain.is_none() {
            plain = Some(decode_plain(&raw, default_utf8));
        }
    }
    let present = |name: &String| !name.is_empty();
    extended.filter(present).or(plain.filter(present))
}

/// The last non-empty segment of the URL's path, percent-decoded (as UTF-8,
/// or ISO-8859-1 when the octets are not UTF-8). Not sanitised: `%2F` decodes
/// to `/`, so pass the result through [`sanitize_file_name`].
pub fn file_name_from_url(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    let bytes: Vec<u8> = percent_decode(segment.as_bytes()).collect();
    Some(utf8_or_latin1(&bytes))
}

/// Longest file name most file systems accept, in bytes.
const MAX_NAME_BYTES: usize = 255;
/// Longest extension kept whole when a name is shortened.
const MAX_KEPT_EXTENSION: usize = 32;

/// Turns a suggested name into one safe path component, or `None` when
/// nothing usable is left.
///
/// * Only the last component counts: everything up to the last `/` or `\` is
///   dropped (a trailing separator is ignored, so `dir/` gives `dir`). If
///   that component is `.` or `..`, the result is `None`.
/// * Control characters (C0, DEL, C1, which include NUL) and bidirectional
///   formatting characters (which can disguise an extension, as in
///   `exe\u{202e}fdp.txt`) become `_`.
/// * Surrounding whitespace and leading dots are removed: no hidden files, and
///   nothing left of `.` or `..`.
/// * Names longer than 255 bytes are cut on a character boundary, keeping an
///   extension of up to 32 bytes.
///
/// The result never contains `/`, `\` or NUL, is never empty, `.` or `..`,
/// and is at most 255 bytes long.
pub fn sanitize_file_name(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).find(|c| !c.trim().is_empty())?;
    let cleaned: String = last
        .chars()
        .map(|c| if is_unsafe_char(c) { '_' } else { c })
        .collect();
    let trimmed = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end();
    if trimmed.is_empty() {
        return None;
    }
    Some(shorten(trimmed))
}

fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Cuts `name` to [`MAX_NAME_BYTES`], preferring to keep its extension.
fn shorten(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_owned();
    }
    let extension = match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= MAX_KEPT_EXTENSION => &name[dot..],
        _ => "",
    };
    let stem = &name[..name.len() - extension.len()];
    let mut cut = MAX_NAME_BYTES - extension.len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut short = stem[..cut].trim_end().to_owned();
    short.push_str(extension);
    short
}

/// Reads an RFC 8187 ext-value: `charset "'" [language] "'" value-chars`.
fn decode_ext_value(raw: &[u8]) -> Option<String> {
    let mut parts = raw.splitn(3, |&b| b == b'\'');
    let charset = parts.next()?;
    let _language = parts.next()?;
    let encoded = parts.next()?;
    let bytes = percent_decode_strict(encoded)?;
    if charset.eq_ignore_ascii_case(b"utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case(b"iso-8859-1") {
        Some(latin1(&bytes))
    } else {
        None
    }
}

/// Percent-decodes, refusing `%` not followed by two hex digits.
fn percent_decode_strict(encoded: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(encoded.len());
    let mut i = 0;
    while let Some(&b) = encoded.get(i) {
        if b == b'%' {
            let hex = encoded.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

fn decode_plain(raw: &[u8], default_utf8: bool) -> String {
    if default_utf8 {
        let bytes: Vec<u8> = percent_decode(raw).collect();
        utf8_or_latin1(&bytes)
    } else {
        latin1(raw)
    }
}

/// Iterates over the `name=value` parameters of a `Content-Disposition`
/// value, values unquoted. The disposition type (the leading element without
/// `=`) is skipped; so is anything unparsable up to the next `;`.
struct Params<'a> {
    rest: &'a [u8],
}

impl<'a> Params<'a> {
    fn new(value: &'a [u8]) -> Params<'a> {
        Params { rest: value }
    }

    /// Drops everything up to and including the next `;` outside quotes.
    fn skip_element(&mut self) {
        let mut in_quotes = false;
        let mut escaped = false;
        for (i, &b) in self.rest.iter().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if in_quotes => escaped = true,
                b'"' => in_quotes = !in_quotes,
                b';' if !in_quotes => {
                    self.rest = &self.rest[i + 1..];
                    return;
                }
                _ => {}
            }
        }
        self.rest = &[];
    }
}

impl<'a> Iterator for Params<'a> {
    type Item = (&'a [u8], Vec<u8>);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let start = self.rest.iter().position(|&b| !is_ows(b) && b != b';')?;
            self.rest = &self.rest[start..];
            let name_end = self
                .rest
                .iter()
                .position(|&b| b == b'=' || b == b';')
                .unwrap_or(self.rest.len());
            if self.rest.get(name_end) != Some(&b'=') {
                // The disposition type, or junk: not a parameter.
                self.skip_element();
                continue;
            }
            let name = trim_ows(&self.rest[..name_end]);
            self.rest = &self.rest[name_end + 1..];
            let lead = self.rest.iter().take_while(|&&b| is_ows(b)).count();
            self.rest = &self.rest[lead..];
            let value = if self.rest.first() == Some(&b'"') {
                let (value, used) = unquote(&self.rest[1..]);
                self.rest = &self.rest[1 + used..];
                self.skip_element();
                value
            } else {
                let end = self
                    .rest
                    .iter()
                    .position(|&b| b == b';')
                    .unwrap_or(self.rest.len());
                let value = trim_ows(&self.rest[..end]).to_vec();
                self.rest = self.rest.get(end + 1..).unwrap_or_default();
                value
            };
            return Some((name, value));
        }
    }
}

/// Reads a quoted-string body (after the opening quote): the unescaped
/// content and the bytes used, closing quote included.
fn unquote(s: &[u8]) -> (Vec<u8>, usize) {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        i += 1;
        match b {
            b'"' => return (out, i),
            b'\\' => {
                if let Some(&next) = s.get(i) {
                    out.push(next);
                    i += 1;
                }
            }
            _ => out.push(b),
        }
    }
    (out, i)
}
