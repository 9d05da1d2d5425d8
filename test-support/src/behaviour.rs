//! The ways a test server can be told to misbehave.

/// One deviation from a well-behaved HTTP/1.1 origin server.
///
/// Add behaviours with [`ServerConfig`](crate::ServerConfig)'s builder methods
/// (which apply to every path) or with
/// [`ServerConfig::behaviour_for`](crate::ServerConfig::behaviour_for) (one
/// path). They combine freely. Per request the server decides in this order:
///
/// 1. [`Stall`](Self::Stall) wins over everything.
/// 2. [`Redirect`](Self::Redirect) / [`RedirectLoop`](Self::RedirectLoop),
///    then [`Status`](Self::Status), then
///    [`ServiceUnavailable`](Self::ServiceUnavailable) replace the response.
/// 3. Otherwise the file is served (404 if there is none, 405 for methods
///    other than GET and HEAD), shaped by the content, range and delivery
///    behaviours.
/// 4. Header behaviours ([`HugeHeaders`](Self::HugeHeaders),
///    [`CloseAfterEachResponse`](Self::CloseAfterEachResponse),
///    [`ContentDisposition`](Self::ContentDisposition), [`Header`](Self::Header),
///    [`ContentType`](Self::ContentType))
///    apply to every response, whatever it is.
///
/// Behaviours that act only "the first N times" count the requests that
/// reach them in that order: a request answered with 503 is not counted by a
/// later `DropAfter { times: Some(..) }`. Each behaviour added has its own
/// counter, shared by every path it applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behaviour {
    /// Always answer 200 with the whole file, never advertising
    /// `Accept-Ranges`.
    IgnoreRanges,
    /// Answer a satisfiable range with 206, but with a `Content-Range` (and
    /// bytes) starting one byte later than asked (one byte earlier when the
    /// range already ends at the last byte). Requests without `Range` are
    /// served normally.
    WrongContentRange,
    /// After `after_requests` requests, serve the file with a different length.
    ChangeLength {
        /// How many requests see the original file.
        after_requests: usize,
        /// What the file becomes.
        new_len: NewLength,
    },
    /// Cut the connection (FIN, and no TLS close_notify) after sending `bytes`
    /// bytes of a response body. Counted per response, not per connection.
    DropAfter {
        /// Body bytes sent before the cut; 0 sends the head only.
        bytes: u64,
        /// Cut only the first this many responses it applies to; `None` cuts all.
        times: Option<usize>,
    },
    /// Send `bytes` bytes of the body, then go silent until the client
    /// gives up (or the server is dropped).
    StallAfter {
        /// Body bytes sent before going silent.
        bytes: u64,
    },
    /// Send bodies at about this many bytes per second.
    Trickle {
        /// The target rate; at least 1.
        bytes_per_sec: u64,
    },
    /// Frame bodies with `Transfer-Encoding: chunked`, in chunks of
    /// pseudo-random sizes (1 to 8192 bytes).
    Chunked,
    /// Gzip the whole file and send it with `Content-Encoding: gzip`, whatever
    /// the request's `Accept-Encoding`. Ranges are ignored (200).
    Gzip,
    /// Answer with `status` and `Location: to` (sent as given: a path or a
    /// full URL).
    Redirect {
        /// The `Location` value.
        to: String,
        /// 301, 302, 303, 307 or 308.
        status: u16,
    },
    /// Answer 302 to the same path with a growing `?hop=N` query, forever.
    RedirectLoop,
    /// Answer with this status and a short text body.
    Status(u16),
    /// Answer 401 with `WWW-Authenticate: Basic` unless the request carries these
    /// credentials in `Authorization: Basic`.
    BasicAuth {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// Answer the first `times` requests with 503 and `Retry-After`.
    ServiceUnavailable {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
        /// How many requests get 503 before normal service resumes.
        times: usize,
    },
    /// Answer HEAD requests with 405 Method Not Allowed (GET works).
    RefuseHead,
    /// Answer the first `times` requests with 404, then serve the file: a mirror
    /// still being filled.
    NotFoundFirst {
        /// How many requests get 404 before the file appears.
        times: usize,
    },
    /// Add about this many bytes of `X-Filler-N` header lines (1000-byte lines).
    HugeHeaders(usize),
    /// Send `Connection: close` and close after every response.
    CloseAfterEachResponse,
    /// Add `Content-Disposition` with this value.
    ContentDisposition(String),
    /// Add an arbitrary header line, e.g. `Last-Modified` or `ETag`.
    Header(String, String),
    /// Send this `Content-Type` instead of the default (`application/octet-stream`
    /// for files, `text/plain` for generated answers).
    ContentType(String),
    /// Send bodies without `Content-Length` (or chunking): the body ends when
    /// the server closes the connection.
    NoContentLength,
    /// Read the request, then never answer.
    Stall,
    /// Serve files as versions: the first `after_requests` requests see the file with
    /// `ETag: "v1"`, later ones [`new_version`] of it (same length, other bytes) with
    /// `ETag: "v2"`. With `honour_if_range`, a request whose `If-Range` is not the
    /// current tag gets the whole file (200), as RFC 9110 §13.1.5 asks; without it the
    /// range is served from whatever version is current.
    NewVersion {
        /// How many requests see the first version.
        after_requests: usize,
        /// Whether `If-Range` is obeyed.
        honour_if_range: bool,
    },
    /// Send `ETag: "rN"` with a new `N` for every request (the same bytes): a resource
    /// whose tag changes with every answer. `If-Range` is ignored.
    EtagPerRequest,
}

/// The second version of `original` that [`Behaviour::NewVersion`] serves: every byte
/// changed, the length kept.
pub fn new_version(original: &[u8]) -> Vec<u8> {
    original.iter().map(|b| b ^ 0x5a).collect()
}

/// The length a file takes after [`Behaviour::ChangeLength`] triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewLength {
    /// The original bytes followed by this many different ones.
    GrowBy(usize),
    /// Exactly this long: a prefix of the original if shorter, the original
    /// followed by different bytes if longer.
    Exactly(usize),
}

impl NewLength {
    /// The changed length of a file that was `len` bytes long.
    pub fn apply(self, len: usize) -> usize {
        match self {
            NewLength::GrowBy(extra) => len.saturating_add(extra),
            NewLength::Exactly(new_len) => new_len,
        }
    }
}
