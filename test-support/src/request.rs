//! Reading one request head off a connection.

use std::io::{self, Read};

/// The largest request head the server accepts; larger ones get 431.
pub(crate) const MAX_HEAD: usize = 64 * 1024;

/// The largest request body the server reads (and throws away).
pub(crate) const MAX_BODY: u64 = 16 * 1024 * 1024;

/// A parsed request line and header section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) version: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl RequestHead {
    /// The first header called `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// The request path: the target without scheme, authority (absolute-form,
    /// as sent to proxies) or query.
    pub(crate) fn path(&self) -> String {
        path_of(&self.target)
    }

    /// Whether the client asked for the connection to end after this exchange.
    pub(crate) fn wants_close(&self) -> bool {
        let tokens = self.header("connection").unwrap_or("");
        let has = |token: &str| {
            tokens
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case(token))
        };
        if self.version == "HTTP/1.0" {
            !has("keep-alive")
        } else {
            has("close")
        }
    }
}

/// The first header called `name` (case-insensitive) in `headers`.
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// `target` reduced to its path: `http://host:1/a/b?x` and `/a/b?x` give `/a/b`.
pub(crate) fn path_of(target: &str) -> String {
    let after_authority = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    let path = after_authority
        .split(['?', '#'])
        .next()
        .unwrap_or(after_authority);
    normalize(path)
}

/// Paths given to the server's configuration get a leading `/` if they lack one.
pub(crate) fn normalize(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}

/// Why no request head could be read.
#[derive(Debug)]
pub(crate) enum HeadError {
    /// The peer closed, the server shut the socket, or the transport failed
    /// (e.g. a TLS handshake was refused): nothing to answer.
    Closed,
    /// The head grew past [`MAX_HEAD`].
    TooLarge,
    /// The bytes are not an HTTP/1.x request head.
    Malformed(&'static str),
}

/// Reads one request head from `stream`, keeping bytes that follow it
/// (a body, or pipelined requests) in `buffer` for the next call.
pub(crate) fn read_head(
    stream: &mut impl Read,
    buffer: &mut Vec<u8>,
) -> Result<RequestHead, HeadError> {
    loop {
        // RFC 9112 §2.2: ignore empty lines before a request line.
        let blank = buffer
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        buffer.drain(..blank);
        if let Some(end) = find(buffer, b"\r\n\r\n") {
            if end > MAX_HEAD {
                return Err(HeadError::TooLarge);
            }
            let head = parse(&buffer[..end]);
            buffer.drain(..end + 4);
            return head;
        }
        if buffer.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        let mut chunk = [0u8; 8192];
        match stream.read(&mut chunk) {
            Ok(0) if buffer.is_empty() => return Err(HeadError::Closed),
            Ok(0) => return Err(HeadError::Malformed("connection closed mid-head")),
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(HeadError::Closed),
        }
    }
}

/// Reads and discards a request body of `len` bytes, part of which may
/// already be in `buffer`.
pub(crate) fn skip_body(stream: &mut impl Read, buffer: &mut Vec<u8>, len: u64) -> io::Result<()> {
    let buffered = buffer.len().min(usize::try_from(len).unwrap_or(usize::MAX));
    buffer.drain(..buffered);
    let rest = len - buffered as u64;
    let skipped = io::copy(&mut stream.take(rest), &mut io::sink())?;
    if skipped < rest {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse(head: &[u8]) -> Result<RequestHead, HeadError> {
    let text = std::str::from_utf8(head).map_err(|_| HeadError::Malformed("head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::Malformed(
            "request line is not `METHOD TARGET VERSION`",
        ));
    };
    if method.is_empty() || target.is_empty() {
        return Err(HeadError::Malformed("empty method or target"));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(HeadError::Malformed("version is not HTTP/1.0 or HTTP/1.1"));
    }
    let mut headers = Vec::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(HeadError::Malformed("header line without a colon"));
        };
        if name.is_empty() || name.ends_with([' ', '\t']) {
            return Err(HeadError::Malformed("bad header name"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        version: version.to_owned(),
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Vec<Result<RequestHead, String>> {
        let mut stream = input;
        let mut buffer = Vec::new();
        let mut heads = Vec::new();
        loop {
            match read_head(&mut stream, &mut buffer) {
                Ok(head) => heads.push(Ok(head)),
                Err(HeadError::Closed) => return heads,
                Err(e) => {
                    heads.push(Err(format!("{e:?}")));
                    return heads;
                }
            }
        }
    }

    #[test]
    fn pipelined_heads() {
        let heads = read_all(
            b"GET /a HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1\r\n\r\n\r\nHEAD /b?q=1 HTTP/1.0\r\n\r\n",
        );
        assert_eq!(heads.len(), 2);
        let first = heads[0].as_ref().unwrap();
        assert_eq!(first.method, "GET");
        assert_eq!(first.header("range"), Some("bytes=0-1"));
        assert!(!first.wants_close());
        let second = heads[1].as_ref().unwrap();
        assert_eq!(second.path(), "/b");
        assert!(second.wants_close());
    }

    #[test]
    fn malformed_heads() {
        assert!(read_all(b"GET /\r\n\r\n")[0].is_err());
        assert!(read_all(b"GET / HTTP/2\r\n\r\n")[0].is_err());
        assert!(read_all(b"GET / HTTP/1.1\r\nNoColon\r\n\r\n")[0].is_err());
        assert!(read_all(b"GET / HTTP/1.1\r\nHost: x")[0].is_err());
    }

    #[test]
    fn paths() {
        assert_eq!(path_of("http://h:1/a/b?x=1"), "/a/b");
        assert_eq!(path_of("http://h:1"), "/");
        assert_eq!(path_of("/f#frag"), "/f");
        assert_eq!(normalize("f"), "/f");
    }
}
