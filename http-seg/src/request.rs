//! Building and serialising HTTP/1.1 requests.

use std::borrow::Cow;

use percent_encoding::percent_decode_str;
use url::Url;

use crate::range::ByteRange;
use crate::syntax::{is_field_value_byte, is_token};

/// A request method. A download client sends `GET` and `HEAD`; `POST` is here
/// so that redirect bookkeeping can express the method changes RFC 9110 defines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `HEAD`: the response has no body whatever its headers say.
    Head,
    /// `POST` (written with `Content-Length: 0`; this crate sends no request bodies).
    Post,
}

impl Method {
    /// The method as it appears in the request line.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
        }
    }
}

/// Why a request could not be written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The URL's scheme is neither `http` nor `https`.
    #[error("unsupported URL scheme {scheme:?}: only http and https")]
    UnsupportedScheme {
        /// The scheme found.
        scheme: String,
    },
    /// The URL has no host.
    #[error("URL has no host")]
    MissingHost,
    /// The range's end lies before its start.
    #[error("invalid range: end {end} is before start {start}")]
    InvalidRange {
        /// First byte asked for.
        start: u64,
        /// Last byte asked for.
        end: u64,
    },
    /// A header name is not a token (RFC 9110 §5.1).
    #[error("invalid header name {name:?}")]
    InvalidHeaderName {
        /// The offending name.
        name: String,
    },
    /// A header value holds CR, LF, NUL or another control character, which
    /// would let it end the field or the head early (header injection).
    #[error("header {name}: value contains a control character")]
    InvalidHeaderValue {
        /// The field whose value is bad.
        name: String,
    },
    /// A Basic user-id contains a colon, which RFC 7617 §2 forbids because the
    /// colon separates it from the password.
    #[error("user name for Basic authentication contains ':'")]
    ColonInUserName,
}

/// Where the `Authorization` header comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Auth {
    /// Credentials embedded in the URL, when there are any.
    FromUrl,
    /// Explicit Basic credentials.
    Basic { user: String, password: String },
    /// No `Authorization`, even if the URL carries credentials.
    Nothing,
}

/// A request to write onto a connection: method, URL and the headers a
/// downloader sends. Build it with the chained methods, then
/// [`write_to`](Request::write_to).
///
/// What is written, in order: the request line (`METHOD path?query HTTP/1.1`;
/// never the fragment or credentials), `Host` (port only when not the scheme's
/// default, IPv6 literals in brackets), `User-Agent` if set, `Accept: */*`,
/// `Range` if set, `Referer` if set, `Authorization: Basic …` (explicit
/// credentials, else the URL's percent-decoded `user:password`), `Accept-Encoding`
/// if set, `Connection: keep-alive` (or `close`), then the caller's extra headers.
/// An extra header with the same name as one of the generated ones replaces it,
/// so `--header "User-Agent: x"` wins over [`user_agent`](Request::user_agent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    method: Method,
    url: Url,
    range: Option<ByteRange>,
    user_agent: Option<String>,
    referer: Option<String>,
    auth: Auth,
    accept_encoding: Option<String>,
    keep_alive: bool,
    headers: Vec<(String, String)>,
    via_proxy: bool,
}

/// Request headers that carry credentials or session state, dropped when a
/// redirect leaves the origin they were meant for.
const SENSITIVE_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

impl Request {
    /// A request with `method` for `url`. The scheme is checked when writing.
    pub fn new(method: Method, url: &Url) -> Request {
        Request {
            method,
            url: url.clone(),
            range: None,
            user_agent: None,
            referer: None,
            auth: Auth::FromUrl,
            accept_encoding: None,
            keep_alive: true,
            headers: Vec::new(),
            via_proxy: false,
        }
    }

    /// Sends the request to an HTTP proxy: the request line carries the absolute
    /// URL (RFC 9112 §3.2.2), and `ftp://` URLs are allowed, since the proxy fetches
    /// them (aria2's `--ftp-proxy`, `--http-proxy` with `--proxy-method=get`).
    pub fn via_proxy(mut self) -> Request {
        self.via_proxy = true;
        if self.url.scheme() == "ftp" {
            // FTP credentials travel inside the URL, to the FTP server; nothing of
            // them goes to the proxy as HTTP authorization.
            self = self.no_auth();
        }
        self
    }

    /// A `GET` request for `url`.
    pub fn get(url: &Url) -> Request {
        Request::new(Method::Get, url)
    }

    /// A `HEAD` request for `url`.
    pub fn head(url: &Url) -> Request {
        Request::new(Method::Head, url)
    }

    /// Asks for a byte range (`Range: bytes=…`).
    pub fn range(mut self, range: ByteRange) -> Request {
        self.range = Some(range);
        self
    }

    /// Adds a header, after the generated ones. Repeatable; a name equal to a
    /// generated header's replaces it. Checked when writing.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets `User-Agent`.
    pub fn user_agent(mut self, agent: &str) -> Request {
        self.user_agent = Some(agent.to_owned());
        self
    }

    /// Sets `Referer`.
    pub fn referer(mut self, referer: &str) -> Request {
        self.referer = Some(referer.to_owned());
        self
    }

    /// Sends `Authorization: Basic` with these credentials instead of any in the URL.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Request {
        self.auth = Auth::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        };
        self
    }

    /// Sends no `Authorization`, even when the URL carries credentials.
    pub fn no_auth(mut self) -> Request {
        self.auth = Auth::Nothing;
        self
    }

    /// Sends `Accept-Encoding: identity`: the server should not compress, which
    /// keeps byte offsets meaningful for ranges.
    pub fn accept_encoding_identity(mut self) -> Request {
        self.accept_encoding = Some("identity".to_owned());
        self
    }

    /// Sends `Accept-Encoding` with the given value, e.g. `gzip, deflate`
    /// (what [`ContentDecoder`](crate::ContentDecoder) can undo).
    pub fn accept_encoding(mut self, value: &str) -> Request {
        self.accept_encoding = Some(value.to_owned());
        self
    }

    /// Whether to ask for a persistent connection (`Connection: keep-alive`,
    /// the default) or `Connection: close`.
    pub fn keep_alive(mut self, keep: bool) -> Request {
        self.keep_alive = keep;
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The URL.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The range asked for, if any.
    pub fn byte_range(&self) -> Option<ByteRange> {
        self.range
    }

    /// The same request aimed at a redirect target, with `method` (as
    /// [`Redirects::follow`](crate::Redirects::follow) returned it).
    ///
    /// When `to` has a different origin (scheme, host or port) than the current
    /// URL, credentials are dropped: explicit Basic credentials, and extra
    /// `Authorization`, `Proxy-Authorization` and `Cookie` headers. Credentials
    /// embedded in `to` itself are still used.
    pub fn redirect(&self, to: &Url, method: Method) -> Request {
        let mut next = self.clone();
        next.method = method;
        if self.url.origin() != to.origin() {
            if matches!(next.auth, Auth::Basic { .. }) {
                next.auth = Auth::FromUrl;
            }
            next.headers.retain(|(name, _)| {
                !SENSITIVE_HEADERS
                    .iter()
                    .any(|s| name.trim().eq_ignore_ascii_case(s))
            });
        }
        next.url = to.clone();
        next
    }

    /// Checks everything [`write_to`](Request::write_to) checks, without writing.
    pub fn validate(&self) -> Result<(), RequestError> {
        self.fields().map(drop)
    }

    /// Appends the request head to `out`. On error nothing is appended.
    pub fn write_to(&self, out: &mut Vec<u8>) -> Result<(), RequestError> {
        let fields = self.fields()?;
        let target = if self.via_proxy {
            // Absolute form, without fragment; http(s) credentials go in
            // Authorization, ftp ones stay in the URL for the proxy to log in with.
            let mut url = self.url.clone();
            if url.scheme() != "ftp" {
                let _ = url.set_username("");
                let _ = url.set_password(None);
            }
            url.set_fragment(None);
            Cow::Owned(url.to_string())
        } else {
            match self.url.query() {
                Some(q) => Cow::Owned(format!("{}?{}", self.url.path(), q)),
                None => Cow::Borrowed(self.url.path()),
            }
        };
        let target = if target.is_empty() { "/" } else { &target };
        out.extend_from_slice(self.method.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(target.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in &fields {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// The header fields to send, validated.
    fn fields(&self) -> Result<Vec<(&str, Cow<'_, str>)>, RequestError> {
        let scheme = self.url.scheme();
        let proxied_ftp = self.via_proxy && scheme == "ftp";
        if scheme != "http" && scheme != "https" && !proxied_ftp {
            return Err(RequestError::UnsupportedScheme {
                scheme: scheme.to_owned(),
            });
        }
        let host = self.url.host_str().ok_or(RequestError::MissingHost)?;
        if let Some(ByteRange {
            start,
            end: Some(end),
        }) = self.range
            && end < start
        {
            return Err(RequestError::InvalidRange { start, end });
        }

        let mut generated: Vec<(&str, Cow<'_, str>)> = Vec::with_capacity(10);
        // `Url` leaves the port out when it is the scheme's default and keeps
        // IPv6 literals bracketed in `host_str`, which is the Host syntax.
        generated.push((
            "Host",
            match self.url.port() {
                Some(port) => Cow::Owned(format!("{host}:{port}")),
                None => Cow::Borrowed(host),
            },
        ));
        if let Some(agent) = &self.user_agent {
            generated.push(("User-Agent", Cow::Borrowed(agent)));
        }
        generated.push(("Accept", Cow::Borrowed("*/*")));
        if let Some(range) = self.range {
            generated.push(("Range", Cow::Owned(range.to_string())));
        }
        if let Some(referer) = &self.referer {
            generated.push(("Referer", Cow::Borrowed(referer)));
        }
        if let Some(credentials) = self.authorization()? {
            generated.push(("Authorization", Cow::Owned(credentials)));
        }
        if let Some(encoding) = &self.accept_encoding {
            generated.push(("Accept-Encoding", Cow::Borrowed(encoding)));
        }
        let connection = if self.keep_alive {
            "keep-alive"
        } else {
            "close"
        };
        generated.push(("Connection", Cow::Borrowed(connection)));
        if self.method == Method::Post {
            generated.push(("Content-Length", Cow::Borrowed("0")));
        }

        for (name, value) in &generated {
            check_value(name, value)?;
        }
        for (name, value) in &self.headers {
            if !is_token(name.as_bytes()) {
                return Err(RequestError::InvalidHeaderName { name: name.clone() });
            }
            check_value(name, value)?;
        }
        generated.retain(|(name, _)| {
            !self
                .headers
                .iter()
                .any(|(extra, _)| extra.eq_ignore_ascii_case(name))
        });
        generated.extend(
            self.headers
                .iter()
                .map(|(n, v)| (n.as_str(), Cow::Borrowed(v.trim_matches([' ', '\t'])))),
        );
        Ok(generated)
    }

    /// The `Authorization` value, if one is to be sent.
    fn authorization(&self) -> Result<Option<String>, RequestError> {
        let (user, password): (Vec<u8>, Vec<u8>) = match &self.auth {
            Auth::Nothing => return Ok(None),
            Auth::Basic { user, password } => (user.clone().into(), password.clone().into()),
            Auth::FromUrl => {
                if self.url.username().is_empty() && self.url.password().is_none() {
                    return Ok(None);
                }
                let decode = |s: &str| percent_decode_str(s).collect::<Vec<u8>>();
                (
                    decode(self.url.username()),
                    decode(self.url.password().unwrap_or("")),
                )
            }
        };
        if user.contains(&b':') {
            return Err(RequestError::ColonInUserName);
        }
        let mut pair = user;
        pair.push(b':');
        pair.extend_from_slice(&password);
        Ok(Some(format!(
            "Basic {}",
            data_encoding::BASE64.encode(&pair)
        )))
    }
}

fn check_value(name: &str, value: &str) -> Result<(), RequestError> {
    if value.bytes().all(is_field_value_byte) {
        Ok(())
    } else {
        Err(RequestError::InvalidHeaderValue {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn written(req: &Request) -> String {
        let mut out = Vec::new();
        req.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn minimal_get() {
        let req = Request::get(&url("http://example.com/a/b.iso?x=1&y=2#frag"));
        assert_eq!(
            written(&req),
            "GET /a/b.iso?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\
             Connection: keep-alive\r\n\r\n"
        );
    }

    #[test]
    fn every_builder_field_in_order() {
        let req = Request::get(&url("https://example.com:8443/f"))
            .range(ByteRange::new(100, 199))
            .user_agent("swarmget/0.1")
            .referer("https://example.com/")
            .basic_auth("Aladdin", "open sesame")
            .accept_encoding_identity()
            .header("X-One", "1")
            .header("X-Two", " two ");
        assert_eq!(
            written(&req),
            "GET /f HTTP/1.1\r\nHost: example.com:8443\r\nUser-Agent: swarmget/0.1\r\n\
             Accept: */*\r\nRange: bytes=100-199\r\nReferer: https://example.com/\r\n\
             Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\
             Accept-Encoding: identity\r\nConnection: keep-alive\r\nX-One: 1\r\nX-Two: two\r\n\r\n"
        );
    }

    #[test]
    fn head_close_and_open_range() {
        let req = Request::head(&url("http://h/"))
            .range(ByteRange::from_start(5))
            .keep_alive(false);
        let text = written(&req);
        assert!(text.starts_with("HEAD / HTTP/1.1\r\n"));
        assert!(text.contains("Range: bytes=5-\r\n"));
        assert!(text.contains("Connection: close\r\n"));
    }

    #[test]
    fn host_header_forms() {
        for (u, host) in [
            ("http://example.com:80/", "example.com"),
            ("https://example.com:443/", "example.com"),
            ("http://example.com:443/", "example.com:443"),
            ("http://[::1]:8080/x", "[::1]:8080"),
            ("http://[2001:db8::1]/", "[2001:db8::1]"),
            ("http://BÜCHER.example/", "xn--bcher-kva.example"),
            ("http://127.0.0.1:1/", "127.0.0.1:1"),
        ] {
            let text = written(&Request::get(&url(u)));
            assert!(
                text.contains(&format!("\r\nHost: {host}\r\n")),
                "{u}: {text}"
            );
        }
    }

    #[test]
    fn url_credentials_become_basic_auth_and_stay_out_of_the_request_line() {
        let req = Request::get(&url("http://us%40er:p%3Ass@example.com/file"));
        let text = written(&req);
        assert!(text.starts_with("GET /file HTTP/1.1\r\n"));
        // base64("us@er:p:ss")
        assert!(
            text.contains("Authorization: Basic dXNAZXI6cDpzcw==\r\n"),
            "{text}"
        );
        assert!(!text.contains("p%3Ass"));

        let only_user = written(&Request::get(&url("http://user@example.com/")));
        assert!(only_user.contains("Authorization: Basic dXNlcjo=\r\n"));

        let overridden = written(&Request::get(&url("http://a:b@h/")).basic_auth("c", "d"));
        // base64("c:d")
        assert!(overridden.contains("Authorization: Basic Yzpk\r\n"));

        let none = written(&Request::get(&url("http://a:b@h/")).no_auth());
        assert!(!none.contains("Authorization"));
    }

    #[test]
    fn proxied_requests_use_the_absolute_form() {
        let http =
            written(&Request::get(&url("http://a:b@example.com:8080/f?q=1#frag")).via_proxy());
        assert!(
            http.starts_with("GET http://example.com:8080/f?q=1 HTTP/1.1\r\n"),
            "{http}"
        );
        assert!(http.contains("Host: example.com:8080\r\n"));
        assert!(http.contains("Authorization: Basic YTpi\r\n"), "{http}");

        let ftp = written(&Request::get(&url("ftp://u:p@files.example/pub/f.iso")).via_proxy());
        assert!(
            ftp.starts_with("GET ftp://u:p@files.example/pub/f.iso HTTP/1.1\r\n"),
            "{ftp}"
        );
        assert!(!ftp.contains("Authorization"), "{ftp}");
        // Without a proxy an ftp:// URL is still refused.
        let mut out = Vec::new();
        assert!(
            Request::get(&url("ftp://files.example/f"))
                .write_to(&mut out)
                .is_err()
        );
    }

    #[test]
    fn extra_headers_replace_generated_ones() {
        let req = Request::get(&url("http://h/"))
            .user_agent("mine")
            .header("user-agent", "theirs")
            .header("Connection", "close");
        let text = written(&req);
        assert!(!text.contains("mine"));
        assert!(text.contains("user-agent: theirs\r\n"));
        assert!(!text.contains("keep-alive"));
        assert_eq!(text.matches("Connection").count(), 1);
    }

    #[test]
    fn post_has_empty_body_length() {
        let text = written(&Request::new(Method::Post, &url("http://h/form")));
        assert!(text.starts_with("POST /form HTTP/1.1\r\n"));
        assert!(text.contains("Content-Length: 0\r\n"));
    }

    #[test]
    fn rejected_requests_write_nothing() {
        let cases: Vec<(Request, RequestError)> = vec![
            (
                Request::get(&url("ftp://h/f")),
                RequestError::UnsupportedScheme {
                    scheme: "ftp".into(),
                },
            ),
            (
                Request::get(&url("file:///etc/passwd")),
                RequestError::UnsupportedScheme {
                    scheme: "file".into(),
                },
            ),
            (
                Request::get(&url("http://h/")).range(ByteRange::new(10, 9)),
                RequestError::InvalidRange { start: 10, end: 9 },
            ),
            (
                Request::get(&url("http://h/")).header("Bad Name", "v"),
                RequestError::InvalidHeaderName {
                    name: "Bad Name".into(),
                },
            ),
            (
                Request::get(&url("http://h/")).header("", "v"),
                RequestError::InvalidHeaderName { name: "".into() },
            ),
            (
                Request::get(&url("http://h/")).header("X", "a\r\nEvil: 1"),
                RequestError::InvalidHeaderValue { name: "X".into() },
            ),
            (
                Request::get(&url("http://h/")).user_agent("a\nb"),
                RequestError::InvalidHeaderValue {
                    name: "User-Agent".into(),
                },
            ),
            (
                Request::get(&url("http://h/")).referer("a\0b"),
                RequestError::InvalidHeaderValue {
                    name: "Referer".into(),
                },
            ),
            (
                Request::get(&url("http://a%3Ab:c@h/")),
                RequestError::ColonInUserName,
            ),
            (
                Request::get(&url("http://h/")).basic_auth("a:b", "c"),
                RequestError::ColonInUserName,
            ),
        ];
        for (req, want) in cases {
            let mut out = b"kept".to_vec();
            assert_eq!(req.write_to(&mut out), Err(want.clone()));
            assert_eq!(out, b"kept", "{want}");
            assert_eq!(req.validate(), Err(want));
        }
    }

    #[test]
    fn redirect_drops_credentials_across_origins() {
        let from = url("https://a.example/f");
        let req = Request::get(&from)
            .basic_auth("u", "p")
            .header("Cookie", "s=1")
            .header("X-Keep", "1")
            .range(ByteRange::from_start(10));

        let same = req.redirect(&url("https://a.example/g"), Method::Get);
        let text = written(&same);
        assert!(text.contains("Authorization: Basic"));
        assert!(text.contains("Cookie: s=1"));

        for other in [
            "https://b.example/g",
            "http://a.example/g",
            "https://a.example:444/g",
        ] {
            let moved = req.redirect(&url(other), Method::Get);
            let text = written(&moved);
            assert!(!text.contains("Authorization"), "{other}");
            assert!(!text.contains("Cookie"), "{other}");
            assert!(text.contains("X-Keep: 1"));
            assert!(text.contains("Range: bytes=10-"));
            assert_eq!(moved.url().as_str(), other);
        }

        let method = req.redirect(&url("https://a.example/h"), Method::Head);
        assert_eq!(method.method(), Method::Head);
    }
}
