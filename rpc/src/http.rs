//! HTTP/1.1 requests as the RPC server reads them, and the responses it writes.
//!
//! Invariants:
//! - The reader never holds more than `max_head + max_body` bytes: a head that has not
//!   ended within `max_head` bytes, or a `Content-Length` over `max_body`, is an error
//!   before any body byte is buffered (aria2's `--rpc-max-request-size`).
//! - A request is handed out only whole (head and the full body); bytes after it stay
//!   buffered for the next one (pipelining), or for the WebSocket codec after an upgrade.
//!   Returned requests are dropped from the buffer at the next feed, so pipelined
//!   requests cost one move of the buffer per read, not one per request.
//! - Request bodies come with `Content-Length` only; `Transfer-Encoding` is refused
//!   (aria2 does not read chunked request bodies either).

use std::fmt;

/// Bounds on one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Request line and headers, with their CRLFs.
    pub max_head: usize,
    /// The body (`--rpc-max-request-size`).
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 16 << 10,
            max_body: 2 << 20,
        }
    }
}

/// Why a request cannot be read. The connection should answer [`HttpError::status`]
/// and close: the stream has lost its framing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The head did not end within `max_head` bytes.
    HeadTooLarge,
    /// `Content-Length` is over `max_body`.
    BodyTooLarge(u64),
    /// The request line or a header is not HTTP/1.x.
    Malformed(&'static str),
    /// `Transfer-Encoding` on a request.
    TransferEncoding,
}

impl HttpError {
    /// The status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::HeadTooLarge => 431,
            HttpError::BodyTooLarge(_) => 413,
            HttpError::Malformed(_) => 400,
            HttpError::TransferEncoding => 501,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::HeadTooLarge => write!(f, "request head too large"),
            HttpError::BodyTooLarge(n) => write!(f, "request body of {n} bytes is over the limit"),
            HttpError::Malformed(what) => write!(f, "malformed request: {what}"),
            HttpError::TransferEncoding => write!(f, "Transfer-Encoding is not supported"),
        }
    }
}

impl std::error::Error for HttpError {}

/// One whole request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, `OPTIONS`…
    pub method: String,
    /// The target's path (`/jsonrpc`).
    pub path: String,
    /// The target's query, without `?`.
    pub query: Option<String>,
    /// `HTTP/1.0` requests close after the answer unless they ask otherwise.
    pub http10: bool,
    /// Headers in order; names as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header lists `token` (any case).
    pub fn header_has(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// Whether the connection stays open after the answer.
    pub fn keep_alive(&self) -> bool {
        if self.header_has("connection", "close") {
            false
        } else {
            !self.http10 || self.header_has("connection", "keep-alive")
        }
    }
}

/// Reads requests from a byte stream, one at a time.
#[derive(Debug)]
pub struct RequestReader {
    limits: Limits,
    /// Bytes fed; those before `pos` belong to requests already returned.
    buf: Vec<u8>,
    pos: usize,
    /// Where the head of the request being read ends, and its parsed parts, once seen.
    head: Option<(usize, Request, usize)>,
    failed: Option<HttpError>,
}

impl RequestReader {
    /// A reader with these limits.
    pub fn new(limits: Limits) -> RequestReader {
        RequestReader {
            limits,
            buf: Vec::new(),
            pos: 0,
            head: None,
            failed: None,
        }
    }

    /// Adds bytes from the stream.
    pub fn feed(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            // Returned requests leave once per feed, not once per request.
            self.buf.drain(..self.pos);
            self.pos = 0;
            self.buf.extend_from_slice(data);
        }
    }

    /// Bytes buffered and not yet part of a returned request.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next whole request, `Ok(None)` while more bytes are needed. After an error
    /// every later call returns the same error.
    pub fn poll(&mut self) -> Result<Option<Request>, HttpError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.step() {
            Ok(r) => Ok(r),
            Err(e) => {
                self.buf = Vec::new();
                self.pos = 0;
                self.failed = Some(e.clone());
                Err(e)
            }
        }
    }

    fn step(&mut self) -> Result<Option<Request>, HttpError> {
        if self.head.is_none() {
            let rest = &self.buf[self.pos..];
            let window = &rest[..rest.len().min(self.limits.max_head)];
            let Some(end) = find(window, b"\r\n\r\n") else {
                if rest.len() >= self.limits.max_head {
                    return Err(HttpError::HeadTooLarge);
                }
                return Ok(None);
            };
            let head_len = end + 4;
            let (request, body_len) = parse_head(&rest[..end], self.limits.max_body)?;
            self.head = Some((head_len, request, body_len));
        }
        let Some((head_len, _, body_len)) = &self.head else {
            return Ok(None);
        };
        let total = head_len + body_len;
        if self.buf.len() - self.pos < total {
            return Ok(None);
        }
        let Some((head_len, mut request, _)) = self.head.take() else {
            return Ok(None);
        };
        request.body = self.buf[self.pos + head_len..self.pos + total].to_vec();
        self.pos += total;
        Ok(Some(request))
    }

    /// Takes the bytes after the last request, for whatever the stream carries next
    /// (WebSocket frames after an upgrade); the reader is left empty.
    pub fn take_remaining(&mut self) -> Vec<u8> {
        self.buf.drain(..self.pos);
        self.pos = 0;
        std::mem::take(&mut self.buf)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses the head (without its final blank line); returns the request (empty body)
/// and the body's length.
fn parse_head(head: &[u8], max_body: usize) -> Result<(Request, usize), HttpError> {
    let text = std::str::from_utf8(head).map_err(|_| HttpError::Malformed("not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let line = lines.next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpError::Malformed("request line"));
    };
    if method.is_empty() || !method.bytes().all(is_token) {
        return Err(HttpError::Malformed("method"));
    }
    let http10 = match version {
        "HTTP/1.1" => false,
        "HTTP/1.0" => true,
        _ => return Err(HttpError::Malformed("version")),
    };
    if !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(HttpError::Malformed("target"));
    }
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target.to_string(), None),
    };
    let mut headers = Vec::new();
    let mut length: Option<u64> = None;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or(HttpError::Malformed("header line"))?;
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(HttpError::Malformed("header name"));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.bytes().any(|b| b < b' ' && b != b'\t') {
            return Err(HttpError::Malformed("header value"));
        }
        if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(HttpError::TransferEncoding);
        }
        if name.eq_ignore_ascii_case("content-length") {
            if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(HttpError::Malformed("Content-Length"));
            }
            let n: u64 = value
                .parse()
                .map_err(|_| HttpError::Malformed("Content-Length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::Malformed("two Content-Lengths"));
            }
            length = Some(n);
        }
        headers.push((name.to_string(), value.to_string()));
    }
    let length = length.unwrap_or(0);
    if length > max_body as u64 {
        return Err(HttpError::BodyTooLarge(length));
    }
    let request = Request {
        method: method.to_string(),
        path,
        query,
        http10,
        headers,
        body: Vec::new(),
    };
    Ok((request, length as usize))
}

/// A response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers besides `Content-Length`, `Connection` and `Date`-like ones.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a body of `content_type`.
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    /// An empty-bodied response.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn with(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The bytes on the wire.
    pub fn encode(&self, keep_alive: bool) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (n, v) in &self.headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        if self.status != 101 {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
            out.push_str(if keep_alive {
                "Connection: keep-alive\r\n"
            } else {
                "Connection: close\r\n"
            });
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// The reason phrase for the statuses this server sends.
pub fn reason(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Request Entity Too Large",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        _ => "Unknown",
    }
}

/// Decodes `%XX` escapes and `+` (a query's space). `None` on a bad escape or bytes
/// that are not UTF-8.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// A query's `name=value` pairs, decoded; pairs that do not decode are left out.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            Some((percent_decode(n)?, percent_decode(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &[u8] =
        b"POST /jsonrpc HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /a?b=1 HTTP/1.0\r\n\r\n";

    fn all(data: &[u8], piece: usize, limits: Limits) -> (Vec<Request>, Option<HttpError>) {
        let mut r = RequestReader::new(limits);
        let mut out = Vec::new();
        for chunk in data.chunks(piece) {
            r.feed(chunk);
            loop {
                match r.poll() {
                    Ok(Some(req)) => out.push(req),
                    Ok(None) => break,
                    Err(e) => return (out, Some(e)),
                }
            }
        }
        (out, None)
    }

    #[test]
    fn pipelined_requests_at_every_split() {
        let (whole, err) = all(POST, POST.len(), Limits::default());
        assert_eq!(err, None);
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].body, b"hello");
        assert_eq!(whole[0].header("content-length"), Some("5"));
        assert!(whole[0].keep_alive());
        assert_eq!(whole[1].path, "/a");
        assert_eq!(whole[1].query.as_deref(), Some("b=1"));
        assert!(!whole[1].keep_alive());
        for piece in 1..POST.len() {
            assert_eq!(all(POST, piece, Limits::default()), (whole.clone(), None));
        }
    }

    #[test]
    fn bytes_after_a_request_are_handed_over() {
        let mut r = RequestReader::new(Limits::default());
        r.feed(b"GET /jsonrpc HTTP/1.1\r\nUpgrade: websocket\r\n\r\n\x81\x80");
        assert_eq!(r.poll().unwrap().unwrap().path, "/jsonrpc");
        assert_eq!(r.take_remaining(), b"\x81\x80");
        assert_eq!((r.buffered(), r.poll()), (0, Ok(None)));
    }

    #[test]
    fn oversize_body_is_refused_before_it_arrives() {
        let limits = Limits {
            max_head: 1024,
            max_body: 4,
        };
        let head = b"POST /jsonrpc HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
        assert_eq!(all(head, 7, limits).1, Some(HttpError::BodyTooLarge(5)));
        assert_eq!(HttpError::BodyTooLarge(5).status(), 413);
    }

    #[test]
    fn endless_head_is_refused_at_the_limit() {
        let limits = Limits {
            max_head: 64,
            max_body: 4,
        };
        let mut r = RequestReader::new(limits);
        r.feed(b"GET / HTTP/1.1\r\n");
        assert_eq!(r.poll(), Ok(None));
        r.feed(&[b'a'; 64]);
        assert_eq!(r.poll(), Err(HttpError::HeadTooLarge));
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn malformed_heads_say_what_is_wrong() {
        let cases: &[(&[u8], HttpError)] = &[
            (b"GET /\r\n\r\n", HttpError::Malformed("request line")),
            (b"GET / HTTP/2\r\n\r\n", HttpError::Malformed("version")),
            (b"GET x HTTP/1.1\r\n\r\n", HttpError::Malformed("target")),
            (
                b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                HttpError::Malformed("Content-Length"),
            ),
            (
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                HttpError::Malformed("two Content-Lengths"),
            ),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                HttpError::TransferEncoding,
            ),
            (
                b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
                HttpError::Malformed("header line"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                all(input, input.len(), Limits::default()).1.as_ref(),
                Some(want)
            );
        }
    }

    #[test]
    fn queries_decode() {
        assert_eq!(
            query_pairs("method=aria2.x&params=W10%3D&cb=a+b&bad=%zz"),
            [
                ("method".to_string(), "aria2.x".to_string()),
                ("params".into(), "W10=".into()),
                ("cb".into(), "a b".into())
            ]
        );
    }

    #[test]
    fn responses_carry_length_and_connection() {
        let r = Response::new(200, "application/json", b"{}".to_vec()).encode(true);
        assert_eq!(
            r,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}"
        );
    }
}
