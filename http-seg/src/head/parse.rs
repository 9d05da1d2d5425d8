//! The incremental response-head parser.
//!
//! Each call reparses the buffer from its start (as httparse does): a head is
//! at most [`HeadLimits::max_head_bytes`] long, so this is cheap, and it keeps
//! the parser free of state. Only the first `max_head_bytes` bytes are ever
//! looked at, and every verdict depends only on bytes already seen, so feeding
//! a response in pieces gives `Ok(None)` until the same answer the whole
//! response gives.

use super::{HeadError, ResponseHead, Version};
use crate::headers::Headers;
use crate::syntax::{is_field_value_byte, is_ows, is_tchar, trim_ows, utf8_or_latin1};

/// Bounds on what a response head may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadLimits {
    /// Longest head, status line through the empty line, in bytes (64 KiB).
    pub max_head_bytes: usize,
    /// Most header fields (256).
    pub max_headers: usize,
}

impl Default for HeadLimits {
    fn default() -> HeadLimits {
        HeadLimits {
            max_head_bytes: 64 * 1024,
            max_headers: 256,
        }
    }
}

/// Parses one response head from the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or the head and how many
/// bytes it took (the body, if any, starts there). Errors come as soon as the
/// bytes seen break a rule; `TooLarge` comes once `max_head_bytes` bytes have
/// arrived without the head ending.
///
/// Leniency: bare LF line endings are accepted, as are empty lines before the
/// status line and a status line without a reason phrase. obs-fold
/// continuation lines are joined to the previous value with a space, as
/// RFC 9112 §5.2 asks of user agents. `Transfer-Encoding` aside, an invalid or
/// conflicting `Content-Length` is rejected here (RFC 9112 §6.3 makes it an
/// unrecoverable framing error), so [`ResponseHead::framing`] cannot fail.
///
/// Interim 1xx responses (`100 Continue`, `103 Early Hints`) are returned like
/// any other head; check [`ResponseHead::is_informational`], drop `consumed`
/// bytes and parse again, or use [`parse_final_response_head`], which does that.
pub fn parse_response_head(
    buf: &[u8],
    limits: &HeadLimits,
) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    parse_at(buf, 0, limits)
}

/// Like [`parse_response_head`], but skips interim 1xx heads and returns the
/// final one, with `consumed` covering the skipped heads too. `101 Switching
/// Protocols` is returned rather than skipped: after it the connection no
/// longer speaks HTTP/1.1, and a client that did not ask for an upgrade treats
/// it as an unexpected status.
pub fn parse_final_response_head(
    buf: &[u8],
    limits: &HeadLimits,
) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let mut start = 0;
    loop {
        match parse_at(buf, start, limits)? {
            None => return Ok(None),
            Some((head, used)) if head.is_informational() && head.status != 101 => {
                start += used;
            }
            Some((head, used)) => return Ok(Some((head, start + used))),
        }
    }
}

/// Parses the head starting at `buf[base..]`, reporting offsets into `buf`.
fn parse_at(
    buf: &[u8],
    base: usize,
    limits: &HeadLimits,
) -> Result<Option<(ResponseHead, usize)>, HeadError> {
    let input = buf.get(base..).unwrap_or_default();
    let window = &input[..input.len().min(limits.max_head_bytes)];
    let incomplete = || {
        if input.len() >= limits.max_head_bytes {
            Err(HeadError::TooLarge {
                limit: limits.max_head_bytes,
            })
        } else {
            Ok(None)
        }
    };

    // Stray line breaks before the status line, e.g. left over after a body.
    let mut pos = 0;
    loop {
        match &window[pos..] {
            [b'\r', b'\n', ..] => pos += 2,
            [b'\n', ..] => pos += 1,
            [b'\r'] => return incomplete(),
            _ => break,
        }
    }

    // Fail fast on a peer that is not speaking HTTP, before a whole line arrives.
    let rest = &window[pos..];
    if let Some(i) = rest.iter().zip(b"HTTP/").position(|(a, b)| a != b) {
        return Err(HeadError::NotHttp {
            offset: base + pos + i,
        });
    }
    let Some(line_len) = rest.iter().position(|&b| b == b'\n') else {
        return incomplete();
    };
    let (version, status, reason) = status_line(strip_cr(&rest[..line_len]), base + pos)?;
    pos += line_len + 1;

    match field_section(window, pos, base, limits.max_headers)? {
        None => incomplete(),
        Some((headers, end)) => {
            let head = ResponseHead {
                version,
                status,
                reason,
                headers,
            };
            if !head.has_transfer_encoding() {
                head.content_length()?;
            }
            Ok(Some((head, end)))
        }
    }
}

/// Parses header field lines from `window[pos..]` up to and including the
/// empty line that ends them. Returns the fields and the offset just past
/// that line, or `None` when the empty line has not arrived. Offsets in errors
/// are `base` plus the offset in `window`. Chunk trailers use this too.
pub(crate) fn field_section(
    window: &[u8],
    mut pos: usize,
    base: usize,
    max_fields: usize,
) -> Result<Option<(Headers, usize)>, HeadError> {
    let mut fields: Vec<(&[u8], Vec<u8>)> = Vec::new();
    loop {
        let rest = window.get(pos..).unwrap_or_default();
        let Some(line_len) = rest.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let line = strip_cr(&rest[..line_len]);
        let at = base + pos;
        pos += line_len + 1;

        let Some(&first) = line.first() else {
            let mut headers = Headers::new();
            for (name, value) in fields {
                headers.append(String::from_utf8_lossy(name), value);
            }
            return Ok(Some((headers, pos)));
        };

        if is_ows(first) {
            let Some((_, value)) = fields.last_mut() else {
                return Err(HeadError::LeadingContinuation { offset: at });
            };
            check_value(line, at)?;
            let more = trim_ows(line);
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(b' ');
                }
                value.extend_from_slice(more);
            }
            continue;
        }

        let name_len = line
            .iter()
            .position(|&b| !is_tchar(b))
            .unwrap_or(line.len());
        match line.get(name_len) {
            Some(b':') if name_len > 0 => {}
            Some(b':') => return Err(HeadError::InvalidHeaderName { offset: at }),
            None => return Err(HeadError::MissingColon { offset: at }),
            Some(&b) => {
                let after = &line[name_len..];
                let colon = after.iter().position(|&c| c == b':');
                return Err(match colon {
                    None => HeadError::MissingColon { offset: at },
                    Some(c) if is_ows(b) && after[..c].iter().all(|&w| is_ows(w)) => {
                        HeadError::WhitespaceBeforeColon {
                            offset: at + name_len,
                        }
                    }
                    Some(_) => HeadError::InvalidHeaderName {
                        offset: at + name_len,
                    },
                });
            }
        }
        let value = &line[name_len + 1..];
        check_value(value, at + name_len + 1)?;
        if fields.len() == max_fields {
            return Err(HeadError::TooManyHeaders { limit: max_fields });
        }
        fields.push((&line[..name_len], trim_ows(value).to_vec()));
    }
}

/// `HTTP-version SP status-code [SP reason-phrase]`, with `HTTP/` already checked.
fn status_line(line: &[u8], at: usize) -> Result<(Version, u16, String), HeadError> {
    let version = match line.get(5..8) {
        Some(&[major @ b'0'..=b'9', b'.', minor @ b'0'..=b'9']) => match (major, minor) {
            (b'1', b'1') => Version::Http11,
            (b'1', b'0') => Version::Http10,
            _ => {
                return Err(HeadError::UnsupportedVersion {
                    major: major - b'0',
                    minor: minor - b'0',
                });
            }
        },
        _ => return Err(HeadError::InvalidVersion { offset: at + 5 }),
    };
    if line.get(8) != Some(&b' ') {
        return Err(HeadError::InvalidStatusLine { offset: at + 8 });
    }
    let status = match line.get(9..12) {
        Some(&[a, b, c]) if [a, b, c].iter().all(u8::is_ascii_digit) && a != b'0' => {
            u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0')
        }
        _ => return Err(HeadError::InvalidStatusCode { offset: at + 9 }),
    };
    let reason = match line.get(12..) {
        None | Some([]) => &[][..],
        Some([b' ', reason @ ..]) => reason,
        Some(_) => return Err(HeadError::InvalidStatusLine { offset: at + 12 }),
    };
    if let Some(i) = reason.iter().position(|&b| !is_field_value_byte(b)) {
        return Err(HeadError::InvalidReason {
            offset: at + 13 + i,
        });
    }
    Ok((version, status, utf8_or_latin1(reason)))
}

fn check_value(value: &[u8], at: usize) -> Result<(), HeadError> {
    match value.iter().position(|&b| !is_field_value_byte(b)) {
        Some(i) => Err(HeadError::InvalidHeaderValue { offset: at + i }),
        None => Ok(()),
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}
