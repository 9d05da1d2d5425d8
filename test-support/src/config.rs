//! Building a server's files and behaviours.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::behaviour::{Behaviour, NewLength};
use crate::plan::FileSizes;
use crate::request::normalize;
use crate::tls::TestCa;

/// What a test server serves and how it misbehaves.
///
/// Builder methods that add a behaviour apply it to **every** path; use
/// [`behaviour_for`](Self::behaviour_for) to limit one to a single path.
/// See [`Behaviour`] for how combined behaviours interact.
///
/// ```
/// use swarmget_test_support::{Behaviour, ServerConfig, TestFile};
/// let config = ServerConfig::new()
///     .file("/a.bin", TestFile::random(4096, 1))
///     .file("/b.bin", TestFile::random(4096, 2))
///     .service_unavailable(1, 2)
///     .behaviour_for("/b.bin", Behaviour::IgnoreRanges);
/// # let _ = config;
/// ```
#[derive(Default)]
pub struct ServerConfig {
    pub(crate) files: HashMap<String, Arc<[u8]>>,
    pub(crate) rules: Vec<(Option<String>, Behaviour)>,
    pub(crate) tls_ca: Option<TestCa>,
    pub(crate) client_ca: Option<TestCa>,
    pub(crate) tls12_only: bool,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("files", &FileSizes(&self.files))
            .field("rules", &self.rules)
            .field("tls_ca", &self.tls_ca)
            .field("client_ca", &self.client_ca)
            .field("tls12_only", &self.tls12_only)
            .finish()
    }
}

impl ServerConfig {
    /// A server with no files, that behaves well.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serve `bytes` at `path` (a leading `/` is added if missing).
    pub fn file(self, path: &str, bytes: Vec<u8>) -> Self {
        self.file_shared(path, bytes.into())
    }

    /// Serve shared `bytes` at `path`, without copying them.
    pub fn file_shared(mut self, path: &str, bytes: Arc<[u8]>) -> Self {
        self.files.insert(normalize(path), bytes);
        self
    }

    /// Apply `behaviour` to every path.
    pub fn behaviour(mut self, behaviour: Behaviour) -> Self {
        self.rules.push((None, behaviour));
        self
    }

    /// Apply `behaviour` to requests for `path` only (query strings are
    /// ignored when matching).
    pub fn behaviour_for(mut self, path: &str, behaviour: Behaviour) -> Self {
        self.rules.push((Some(normalize(path)), behaviour));
        self
    }

    /// Always 200 with the whole file: [`Behaviour::IgnoreRanges`].
    pub fn ignore_ranges(self) -> Self {
        self.behaviour(Behaviour::IgnoreRanges)
    }

    /// 206 with a misplaced `Content-Range`: [`Behaviour::WrongContentRange`].
    pub fn wrong_content_range(self) -> Self {
        self.behaviour(Behaviour::WrongContentRange)
    }

    /// After `n_requests` requests, files grow by 1024 different bytes, so
    /// the `Content-Range` total changes while earlier ranges stay satisfiable.
    pub fn change_length_after(self, n_requests: usize) -> Self {
        self.change_length_to_after(n_requests, NewLength::GrowBy(1024))
    }

    /// After `n_requests` requests, files take the length `new_len` describes.
    pub fn change_length_to_after(self, n_requests: usize, new_len: NewLength) -> Self {
        self.behaviour(Behaviour::ChangeLength {
            after_requests: n_requests,
            new_len,
        })
    }

    /// Cut every response after `bytes` body bytes: [`Behaviour::DropAfter`].
    pub fn drop_after(self, bytes: u64) -> Self {
        self.behaviour(Behaviour::DropAfter { bytes, times: None })
    }

    /// Cut only the first `times` responses after `bytes` body bytes, so a
    /// retry succeeds.
    pub fn drop_after_times(self, bytes: u64, times: usize) -> Self {
        self.behaviour(Behaviour::DropAfter {
            bytes,
            times: Some(times),
        })
    }

    /// Go silent after `bytes` body bytes: [`Behaviour::StallAfter`].
    pub fn stall_after(self, bytes: u64) -> Self {
        self.behaviour(Behaviour::StallAfter { bytes })
    }

    /// Send bodies at about `bytes_per_sec`: [`Behaviour::Trickle`].
    pub fn trickle(self, bytes_per_sec: u64) -> Self {
        self.behaviour(Behaviour::Trickle { bytes_per_sec })
    }

    /// Chunked transfer coding: [`Behaviour::Chunked`].
    pub fn chunked(self) -> Self {
        self.behaviour(Behaviour::Chunked)
    }

    /// Gzip content coding, unasked: [`Behaviour::Gzip`].
    pub fn gzip(self) -> Self {
        self.behaviour(Behaviour::Gzip)
    }

    /// Redirect `from` to `to` with `status` (301, 302, 303, 307, 308).
    pub fn redirect(self, from: &str, to: &str, status: u16) -> Self {
        self.behaviour_for(
            from,
            Behaviour::Redirect {
                to: to.to_owned(),
                status,
            },
        )
    }

    /// Make `path` redirect to itself forever: [`Behaviour::RedirectLoop`].
    pub fn redirect_loop(self, path: &str) -> Self {
        self.behaviour_for(path, Behaviour::RedirectLoop)
    }

    /// Demand Basic credentials: [`Behaviour::BasicAuth`].
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        self.behaviour(Behaviour::BasicAuth {
            user: user.to_owned(),
            password: password.to_owned(),
        })
    }

    /// Answer every request with `code`: [`Behaviour::Status`].
    pub fn status(self, code: u16) -> Self {
        self.behaviour(Behaviour::Status(code))
    }

    /// 405 to every HEAD: [`Behaviour::RefuseHead`].
    pub fn refuse_head(self) -> Self {
        self.behaviour(Behaviour::RefuseHead)
    }

    /// 404 for the first `times` requests: [`Behaviour::NotFoundFirst`].
    pub fn not_found_first(self, times: usize) -> Self {
        self.behaviour(Behaviour::NotFoundFirst { times })
    }

    /// 503 with `Retry-After: retry_after_secs` for the first `times` requests.
    pub fn service_unavailable(self, retry_after_secs: u64, times: usize) -> Self {
        self.behaviour(Behaviour::ServiceUnavailable {
            retry_after_secs,
            times,
        })
    }

    /// About `bytes` of extra header lines: [`Behaviour::HugeHeaders`].
    pub fn huge_headers(self, bytes: usize) -> Self {
        self.behaviour(Behaviour::HugeHeaders(bytes))
    }

    /// `Connection: close` on every response.
    pub fn close_after_each_response(self) -> Self {
        self.behaviour(Behaviour::CloseAfterEachResponse)
    }

    /// Add `Content-Disposition: value` to every response.
    pub fn content_disposition(self, value: &str) -> Self {
        self.behaviour(Behaviour::ContentDisposition(value.to_owned()))
    }

    /// Add `name: value` to every response.
    pub fn header(self, name: &str, value: &str) -> Self {
        self.behaviour(Behaviour::Header(name.to_owned(), value.to_owned()))
    }

    /// Send `Content-Type: value` instead of the default on every response.
    pub fn content_type(self, value: &str) -> Self {
        self.behaviour(Behaviour::ContentType(value.to_owned()))
    }

    /// Bodies end at connection close: [`Behaviour::NoContentLength`].
    pub fn no_content_length(self) -> Self {
        self.behaviour(Behaviour::NoContentLength)
    }

    /// After `n_requests` requests, serve [`new_version`](crate::new_version) of every
    /// file under another ETag: [`Behaviour::NewVersion`].
    pub fn new_version_after(self, n_requests: usize, honour_if_range: bool) -> Self {
        self.behaviour(Behaviour::NewVersion {
            after_requests: n_requests,
            honour_if_range,
        })
    }

    /// A new `ETag` on every answer: [`Behaviour::EtagPerRequest`].
    pub fn etag_per_request(self) -> Self {
        self.behaviour(Behaviour::EtagPerRequest)
    }

    /// Never answer: [`Behaviour::Stall`].
    pub fn stall(self) -> Self {
        self.behaviour(Behaviour::Stall)
    }

    /// For [`HttpServer::start_tls`](crate::HttpServer::start_tls): issue the
    /// server certificate from `ca` instead of a CA generated at start, so a
    /// test can hold the trust root before the server exists.
    pub fn tls_ca(mut self, ca: &TestCa) -> Self {
        self.tls_ca = Some(ca.clone());
        self
    }

    /// For [`HttpServer::start_tls`](crate::HttpServer::start_tls): refuse
    /// TLS clients that do not present a certificate issued by `ca` (see
    /// [`TestCa::client_identity`]).
    pub fn require_client_cert(mut self, ca: &TestCa) -> Self {
        self.client_ca = Some(ca.clone());
        self
    }

    /// For [`HttpServer::start_tls`](crate::HttpServer::start_tls): speak TLS 1.2
    /// only (an older server, for `--min-tls-version`).
    pub fn tls12_only(mut self) -> Self {
        self.tls12_only = true;
        self
    }
}
