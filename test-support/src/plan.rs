//! Deciding, per request, what response the configured behaviours produce.

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::behaviour::{Behaviour, NewLength};
use crate::config::ServerConfig;
use crate::range::{self, RangeOutcome};
use crate::request::RequestHead;
use crate::test_file::TestFile;

/// What to do with one request.
pub(crate) enum Action {
    /// Send this response.
    Respond(Response),
    /// Never answer.
    Stall,
}

/// A response head and how to deliver its body.
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Headers other than the framing ones (`Content-Length`,
    /// `Transfer-Encoding`, `Connection`), which delivery adds.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Arc<[u8]>,
    /// The part of `body` to send.
    pub(crate) span: Range<usize>,
    pub(crate) framing: Framing,
    pub(crate) trickle: Option<u64>,
    pub(crate) cut: Option<Cut>,
    pub(crate) close: bool,
    /// Seeds the pseudo-random chunk sizes of [`Framing::Chunked`] bodies.
    pub(crate) chunk_seed: u64,
}

/// How the end of a body is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    ContentLength,
    Chunked,
    UntilClose,
}

/// A body that stops early on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cut {
    /// Close the connection after this many body bytes.
    Drop(u64),
    /// Go silent after this many body bytes.
    Stall(u64),
}

/// The files and behaviours of a running server, with each behaviour's
/// request counter.
pub(crate) struct Planner {
    files: HashMap<String, Arc<[u8]>>,
    rules: Vec<Rule>,
}

impl fmt::Debug for Planner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Planner")
            .field("files", &FileSizes(&self.files))
            .field("rules", &self.rules)
            .finish()
    }
}

/// Shows files as their lengths: a failing test should not print megabytes.
pub(crate) struct FileSizes<'a>(pub(crate) &'a HashMap<String, Arc<[u8]>>);

impl fmt::Debug for FileSizes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(path, bytes)| (path, bytes.len())))
            .finish()
    }
}

struct Rule {
    path: Option<String>,
    behaviour: Behaviour,
    hits: AtomicUsize,
    /// Changed file contents for [`Behaviour::ChangeLength`], made once per path.
    changed: Mutex<HashMap<String, Arc<[u8]>>>,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("path", &self.path)
            .field("behaviour", &self.behaviour)
            .field("hits", &self.hits)
            .finish_non_exhaustive()
    }
}

impl Rule {
    /// Counts a request reaching this rule; returns how many came before it.
    fn hit(&self) -> usize {
        self.hits.fetch_add(1, Ordering::SeqCst)
    }
}

impl Planner {
    pub(crate) fn new(config: ServerConfig) -> Self {
        let rules = config
            .rules
            .into_iter()
            .map(|(path, behaviour)| Rule {
                path,
                behaviour,
                hits: AtomicUsize::new(0),
                changed: Mutex::default(),
            })
            .collect();
        Self {
            files: config.files,
            rules,
        }
    }

    /// The action for `head`, the `index`-th request of connection `connection`.
    pub(crate) fn plan(&self, head: &RequestHead, connection: usize, index: usize) -> Action {
        let path = head.path();
        let rules: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.path.as_deref().is_none_or(|p| p == path))
            .collect();
        if rules.iter().any(|r| r.behaviour == Behaviour::Stall) {
            return Action::Stall;
        }
        let mut response = self
            .replacement(&rules, head, &path)
            .unwrap_or_else(|| self.serve_file(&rules, head, &path, seed(connection, index)));
        add_header_behaviours(&rules, &mut response);
        Action::Respond(response)
    }

    /// A redirect or error that takes the place of the file, if any applies.
    fn replacement(&self, rules: &[&Rule], head: &RequestHead, path: &str) -> Option<Response> {
        for rule in rules {
            match &rule.behaviour {
                Behaviour::Redirect { to, status } => {
                    return Some(redirect(*status, to.clone()));
                }
                Behaviour::RedirectLoop => {
                    let hop = hop_of(&head.target) + 1;
                    return Some(redirect(302, format!("{path}?hop={hop}")));
                }
                _ => {}
            }
        }
        for rule in rules {
            if let Behaviour::BasicAuth { user, password } = &rule.behaviour {
                let want = format!(
                    "Basic {}",
                    crate::proxy::base64(format!("{user}:{password}").as_bytes())
                );
                if head.header("authorization") != Some(want.as_str()) {
                    let mut response = text(401, "authorization required\n".into());
                    response
                        .headers
                        .push(("WWW-Authenticate".into(), "Basic realm=\"test\"".into()));
                    return Some(response);
                }
            }
        }
        for rule in rules {
            if let Behaviour::Status(code) = rule.behaviour {
                return Some(text(code, format!("status {code}\n")));
            }
        }
        for rule in rules {
            if matches!(rule.behaviour, Behaviour::RefuseHead) && head.method == "HEAD" {
                let mut response = text(405, "no HEAD here\n".into());
                response.headers.push(("Allow".into(), "GET".into()));
                return Some(response);
            }
        }
        for rule in rules {
            if let Behaviour::NotFoundFirst { times } = rule.behaviour
                && rule.hit() < times
            {
                return Some(text(404, "not there yet\n".into()));
            }
        }
        for rule in rules {
            if let Behaviour::ServiceUnavailable {
                retry_after_secs,
                times,
            } = rule.behaviour
                && rule.hit() < times
            {
                let mut response = text(503, "service unavailable, try later\n".into());
                response
                    .headers
                    .push(("Retry-After".into(), retry_after_secs.to_string()));
                return Some(response);
            }
        }
        None
    }

    fn serve_file(&self, rules: &[&Rule], head: &RequestHead, path: &str, seed: u64) -> Response {
        let Some(original) = self.files.get(path) else {
            return text(404, format!("no file at {path}\n"));
        };
        if head.method != "GET" && head.method != "HEAD" {
            let mut response = text(405, "only GET and HEAD\n".into());
            response.headers.push(("Allow".into(), "GET, HEAD".into()));
            return response;
        }
        let mut content = content_for(rules, path, original);
        // Behaviour::NewVersion: which version this request sees, and its range
        // header once If-Range is applied.
        let mut range_header = head.header("range");
        let mut etag = None;
        for rule in rules {
            if let Behaviour::NewVersion {
                after_requests,
                honour_if_range,
            } = rule.behaviour
            {
                let tag = if rule.hit() >= after_requests {
                    content = crate::behaviour::new_version(&content).into();
                    "\"v2\""
                } else {
                    "\"v1\""
                };
                if honour_if_range && head.header("if-range").is_some_and(|v| v != tag) {
                    range_header = None;
                }
                etag = Some(tag.to_string());
            }
            if rule.behaviour == Behaviour::EtagPerRequest {
                etag = Some(format!("\"r{}\"", rule.hit()));
            }
        }
        let has = |wanted: &Behaviour| rules.iter().any(|r| r.behaviour == *wanted);
        // If-Modified-Since naming the Last-Modified the rules give: 304. (Only the
        // same date counts as "not modified": this server parses no dates, and tests
        // send either the file's own date or an older one.)
        let last_modified = rules.iter().find_map(|r| match &r.behaviour {
            Behaviour::Header(name, value) if name.eq_ignore_ascii_case("last-modified") => {
                Some(value.as_str())
            }
            _ => None,
        });
        if last_modified.is_some() && head.header("if-modified-since") == last_modified {
            return text(304, String::new());
        }

        let mut response = if has(&Behaviour::Gzip) {
            let mut response = whole(200, gzip(&content));
            response
                .headers
                .push(("Content-Encoding".into(), "gzip".into()));
            response
        } else if has(&Behaviour::IgnoreRanges) {
            whole(200, content)
        } else {
            let mut response = match range::resolve(range_header, content.len()) {
                RangeOutcome::Full => whole(200, content),
                RangeOutcome::Partial(span) => {
                    let span = if has(&Behaviour::WrongContentRange) {
                        misplace(span, content.len())
                    } else {
                        span
                    };
                    partial(content, span)
                }
                RangeOutcome::Unsatisfiable => {
                    let mut response = text(416, String::new());
                    response
                        .headers
                        .push(("Content-Range".into(), format!("bytes */{}", content.len())));
                    response
                }
            };
            response
                .headers
                .push(("Accept-Ranges".into(), "bytes".into()));
            response
        };
        if let Some(tag) = etag {
            response.headers.push(("ETag".into(), tag));
        }
        if response.status == 416 {
            return response;
        }
        response.chunk_seed = seed;
        for rule in rules {
            match rule.behaviour {
                Behaviour::Chunked => response.framing = Framing::Chunked,
                Behaviour::NoContentLength if response.framing == Framing::ContentLength => {
                    response.framing = Framing::UntilClose;
                    response.close = true;
                }
                Behaviour::Trickle { bytes_per_sec } => {
                    response.trickle = Some(bytes_per_sec.max(1));
                }
                // The guard counts the request: only responses it reaches use
                // up one of `times`.
                Behaviour::DropAfter { bytes, times }
                    if times.is_none_or(|times| rule.hit() < times) =>
                {
                    response.cut = Some(Cut::Drop(bytes));
                }
                Behaviour::StallAfter { bytes } if response.cut.is_none() => {
                    response.cut = Some(Cut::Stall(bytes));
                }
                _ => {}
            }
        }
        response
    }
}

/// The file as this request sees it, after any [`Behaviour::ChangeLength`].
fn content_for(rules: &[&Rule], path: &str, original: &Arc<[u8]>) -> Arc<[u8]> {
    let mut content = original.clone();
    for rule in rules {
        if let Behaviour::ChangeLength {
            after_requests,
            new_len,
        } = rule.behaviour
            && rule.hit() >= after_requests
        {
            let mut changed = rule.changed.lock().unwrap_or_else(PoisonError::into_inner);
            content = changed
                .entry(path.to_owned())
                .or_insert_with(|| resize(&content, new_len))
                .clone();
        }
    }
    content
}

fn resize(content: &[u8], new_len: NewLength) -> Arc<[u8]> {
    let len = new_len.apply(content.len());
    if len <= content.len() {
        return content[..len].into();
    }
    let mut bytes = content.to_vec();
    // Seeded by the old length so the new tail differs from the old content.
    bytes.extend(TestFile::random(
        len - content.len(),
        content.len() as u64 ^ 0x5EED,
    ));
    bytes.into()
}

/// Moves `span` one byte later, or one earlier when it already ends at `len`.
fn misplace(span: Range<usize>, len: usize) -> Range<usize> {
    if span.end < len {
        span.start + 1..span.end + 1
    } else if span.start > 0 {
        span.start - 1..span.end - 1
    } else {
        // The whole file was asked for: all that can go wrong is the start.
        1.min(len)..len
    }
}

fn gzip(content: &[u8]) -> Arc<[u8]> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    // Writing into a Vec cannot fail.
    encoder
        .write_all(content)
        .and_then(|()| encoder.try_finish())
        .expect("gzip into memory");
    encoder.get_ref().clone().into()
}

/// The `N` of a `?hop=N` query, or 0.
fn hop_of(target: &str) -> u64 {
    target
        .split_once("?hop=")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

fn seed(connection: usize, index: usize) -> u64 {
    ((connection as u64) << 32) ^ index as u64
}

fn add_header_behaviours(rules: &[&Rule], response: &mut Response) {
    for rule in rules {
        match &rule.behaviour {
            Behaviour::ContentDisposition(value) => response
                .headers
                .push(("Content-Disposition".into(), value.clone())),
            Behaviour::Header(name, value) => response.headers.push((name.clone(), value.clone())),
            Behaviour::ContentType(value) => {
                for (name, v) in &mut response.headers {
                    if name.eq_ignore_ascii_case("content-type") {
                        *v = value.clone();
                    }
                }
            }
            Behaviour::CloseAfterEachResponse => response.close = true,
            Behaviour::HugeHeaders(bytes) => response.headers.extend(filler_headers(*bytes)),
            _ => {}
        }
    }
}

/// Header lines of 1000 bytes each (with CRLF) adding up to about `bytes`.
fn filler_headers(bytes: usize) -> impl Iterator<Item = (String, String)> {
    const LINE: usize = 1000;
    // "X-Filler-000000: " is 17 bytes, CRLF 2.
    (0..bytes.div_ceil(LINE)).map(|i| (format!("X-Filler-{i:06}"), "f".repeat(LINE - 17 - 2)))
}

fn whole(status: u16, body: Arc<[u8]>) -> Response {
    let span = 0..body.len();
    Response {
        status,
        headers: vec![("Content-Type".into(), "application/octet-stream".into())],
        body,
        span,
        framing: Framing::ContentLength,
        trickle: None,
        cut: None,
        close: false,
        chunk_seed: 0,
    }
}

fn partial(body: Arc<[u8]>, span: Range<usize>) -> Response {
    let range = format!(
        "bytes {}-{}/{}",
        span.start,
        span.end.saturating_sub(1),
        body.len()
    );
    let mut response = whole(206, body);
    response.span = span;
    response.headers.push(("Content-Range".into(), range));
    response
}

fn text(status: u16, body: String) -> Response {
    // RFC 9110 §15.3.5, §15.4.5: these two never have content.
    let body = if matches!(status, 204 | 304) {
        String::new()
    } else {
        body
    };
    let mut response = whole(status, body.into_bytes().into());
    response.headers[0].1 = "text/plain".into();
    response
}

fn redirect(status: u16, location: String) -> Response {
    let mut response = text(status, format!("see {location}\n"));
    response.headers.push(("Location".into(), location));
    response
}
