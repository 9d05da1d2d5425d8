//! Response heads: the parser and the typed views of the fields a downloader reads.

mod error;
mod parse;

pub use error::HeadError;
pub(crate) use parse::field_section;
pub use parse::{HeadLimits, parse_final_response_head, parse_response_head};

use std::fmt;

use url::Url;

use crate::body::Framing;
use crate::content_coding::ContentEncoding;
use crate::content_range::ContentRange;
use crate::filename::{content_disposition_filename, file_name_from_url, sanitize_file_name};
use crate::headers::Headers;
use crate::http_date::parse_http_date;
use crate::syntax::list_elements;

/// The protocol version of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// HTTP/1.0: connections close after each response unless the server says
    /// `Connection: keep-alive`.
    Http10,
    /// HTTP/1.1: connections persist unless either side says `Connection: close`.
    Http11,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        })
    }
}

/// A parsed response head: status line and header fields.
///
/// [`parse_response_head`] builds these; building one by hand is allowed
/// (tests, synthetic responses), in which case the checks the parser makes on
/// `Content-Length` have not happened: see [`framing`](ResponseHead::framing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// HTTP/1.0 or HTTP/1.1.
    pub version: Version,
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase (may be empty; carries no meaning).
    pub reason: String,
    /// The header fields in order.
    pub headers: Headers,
}

impl ResponseHead {
    /// A head with no header fields.
    pub fn new(version: Version, status: u16, reason: &str) -> ResponseHead {
        ResponseHead {
            version,
            status,
            reason: reason.to_owned(),
            headers: Headers::new(),
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)
    }

    /// Every value of header `name`, in order.
    pub fn headers_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.get_all(name)
    }

    /// Whether this is an interim 1xx response, to be followed by another head
    /// on the same connection (see [`parse_final_response_head`]).
    pub fn is_informational(&self) -> bool {
        (100..200).contains(&self.status)
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// `Content-Length`, if present. A list of equal values (`42, 42`, or the
    /// field repeated) counts as one value (RFC 9110 §8.6); different values
    /// are [`HeadError::ConflictingContentLength`].
    pub fn content_length(&self) -> Result<Option<u64>, HeadError> {
        let mut found: Option<u64> = None;
        for value in self.headers_all("content-length") {
            let invalid = || HeadError::InvalidContentLength {
                value: value.to_owned(),
            };
            let mut any = false;
            for element in value.split(',') {
                let element = element.trim_matches([' ', '\t']);
                if element.is_empty() || !element.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid());
                }
                let n: u64 = element.parse().map_err(|_| invalid())?;
                match found {
                    Some(first) if first != n => {
                        return Err(HeadError::ConflictingContentLength { first, second: n });
                    }
                    _ => found = Some(n),
                }
                any = true;
            }
            if !any {
                return Err(invalid());
            }
        }
        Ok(found)
    }

    /// `Content-Range`, if present (repeats must agree).
    pub fn content_range(&self) -> Result<Option<ContentRange>, HeadError> {
        let mut values = self.headers_all("content-range");
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if let Some(other) = values.find(|v| v.trim() != first.trim()) {
            return Err(HeadError::ConflictingContentRange {
                first: first.to_owned(),
                second: other.to_owned(),
            });
        }
        first
            .parse()
            .map(Some)
            .map_err(|reason| HeadError::InvalidContentRange {
                value: first.to_owned(),
                reason,
            })
    }

    /// Whether a `Transfer-Encoding` field lists any coding.
    pub fn has_transfer_encoding(&self) -> bool {
        self.transfer_codings().next().is_some()
    }

    /// Whether the last transfer coding is `chunked`, i.e. the body is chunked.
    pub fn is_chunked(&self) -> bool {
        self.transfer_codings()
            .last()
            .is_some_and(|c| c.eq_ignore_ascii_case("chunked"))
    }

    /// The transfer codings in order, without parameters.
    fn transfer_codings(&self) -> impl Iterator<Item = &str> {
        self.headers_all("transfer-encoding")
            .flat_map(list_elements)
            .map(|c| c.split(';').next().unwrap_or(c).trim_matches([' ', '\t']))
    }

    /// How the body is delimited, per RFC 9112 §6.3:
    ///
    /// 1. a response to `HEAD` (`is_head_request`), 1xx, 204 and 304 have no body;
    /// 2. with `Transfer-Encoding`, `chunked` last means chunked, anything else
    ///    means the body runs until the connection closes; `Content-Length` is ignored;
    /// 3. otherwise `Content-Length` gives the length;
    /// 4. otherwise the body runs until the connection closes.
    ///
    /// A bad `Content-Length` cannot come out of the parser; on a head built by
    /// hand it is treated as absent (rule 4).
    pub fn framing(&self, is_head_request: bool) -> Framing {
        if is_head_request || self.is_informational() || matches!(self.status, 204 | 304) {
            return Framing::Empty;
        }
        if self.has_transfer_encoding() {
            return if self.is_chunked() {
                Framing::Chunked
            } else {
                Framing::UntilClose
            };
        }
        match self.content_length() {
            Ok(Some(n)) => Framing::Length(n),
            Ok(None) | Err(_) => Framing::UntilClose,
        }
    }

    /// Whether the server will keep the connection open after this response:
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
    /// `Connection: keep-alive`, and never with `Transfer-Encoding`
    /// (RFC 9112 §6.1 says such framing is faulty and the connection must close).
    ///
    /// This is the server's stated intent. A body framed
    /// [`Framing::UntilClose`] also ends the connection; see
    /// [`can_reuse_connection`](ResponseHead::can_reuse_connection).
    pub fn keep_alive(&self) -> bool {
        let mut close = false;
        let mut keep = false;
        for option in self.headers_all("connection").flat_map(list_elements) {
            close |= option.eq_ignore_ascii_case("close");
            keep |= option.eq_ignore_ascii_case("keep-alive");
        }
        match self.version {
            _ if close => false,
            Version::Http11 => true,
            Version::Http10 => keep && !self.has_transfer_encoding(),
        }
    }

    /// Whether the connection can carry another request once this response's
    /// body has been read: [`keep_alive`](ResponseHead::keep_alive) and a body
    /// that does not end with the connection.
    pub fn can_reuse_connection(&self, is_head_request: bool) -> bool {
        self.keep_alive() && self.framing(is_head_request) != Framing::UntilClose
    }

    /// `Location`, unresolved (see [`Redirects`](crate::Redirects)).
    pub fn location(&self) -> Option<&str> {
        self.header("location").map(|v| v.trim())
    }

    /// `Retry-After` as seconds to wait from `now_unix_secs`: delta-seconds
    /// as given (saturating at `u64::MAX`), or an HTTP-date minus now (0 for
    /// dates already past). `None` when absent or unreadable.
    pub fn retry_after(&self, now_unix_secs: u64) -> Option<u64> {
        let value = self.header("retry-after")?.trim();
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            return Some(value.parse().unwrap_or(u64::MAX));
        }
        parse_http_date(value).map(|at| at.saturating_sub(now_unix_secs))
    }

    /// `Content-Encoding`, as a coding [`ContentDecoder`](crate::ContentDecoder) knows or not.
    pub fn content_encoding(&self) -> ContentEncoding {
        let codings: Vec<&str> = self
            .headers_all("content-encoding")
            .flat_map(list_elements)
            .collect();
        ContentEncoding::from_codings(&codings)
    }

    /// The file name from `Content-Disposition` (see
    /// [`content_disposition_filename`](crate::content_disposition_filename)),
    /// decoded but **not yet safe as a path**: pass it through
    /// [`sanitize_file_name`](crate::sanitize_file_name), or use
    /// [`suggested_file_name`](ResponseHead::suggested_file_name).
    pub fn content_disposition_filename(&self, default_utf8: bool) -> Option<String> {
        let value = self.headers.get_bytes("content-disposition")?;
        content_disposition_filename(value, default_utf8)
    }

    /// A safe single path component to save the body under: the
    /// `Content-Disposition` name if it survives sanitising, else the URL's
    /// last path segment, else `None` (the caller picks a default such as
    /// `index.html`).
    pub fn suggested_file_name(&self, url: &Url, default_utf8: bool) -> Option<String> {
        self.content_disposition_filename(default_utf8)
            .and_then(|name| sanitize_file_name(&name))
            .or_else(|| file_name_from_url(url).and_then(|name| sanitize_file_name(&name)))
    }

    /// Whether `Accept-Ranges` lists `bytes`. Servers may honour ranges without
    /// saying so; a 206 to a range request is the real proof.
    pub fn accepts_ranges(&self) -> bool {
        self.headers_all("accept-ranges")
            .flat_map(list_elements)
            .any(|unit| unit.eq_ignore_ascii_case("bytes"))
    }

    /// `ETag`, verbatim (including quotes and any `W/` prefix).
    pub fn etag(&self) -> Option<&str> {
        self.header("etag")
    }

    /// `Last-Modified`, verbatim.
    pub fn last_modified(&self) -> Option<&str> {
        self.header("last-modified")
    }

    /// `Last-Modified` as Unix seconds, when it is a valid HTTP-date.
    pub fn last_modified_unix(&self) -> Option<u64> {
        self.last_modified().and_then(parse_http_date)
    }

    /// `Content-Type`, verbatim.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }
}
