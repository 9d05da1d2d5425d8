//! What the server remembers about each request it received.

use crate::request::{self, RequestHead};

/// One request as the server received it, for assertions in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Which accepted connection carried it, counting from 0 in accept order.
    pub connection: usize,
    /// Its position on that connection, counting from 0: a value above 0
    /// proves a keep-alive connection was reused.
    pub index_on_connection: usize,
    /// The request method, e.g. `GET`.
    pub method: String,
    /// The request target exactly as sent (origin-form or absolute-form).
    pub target: String,
    /// The target's path, without scheme, authority or query.
    pub path: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// Every header field in the order received, names as sent and values trimmed.
    pub headers: Vec<(String, String)>,
    /// Whether the request came over TLS.
    pub tls: bool,
    /// The server's event counter when the request's head had been read. The
    /// counter is shared by all of one server's connections, so it orders
    /// requests and answers across connections without a clock.
    pub received_at: u64,
    /// The event counter just before the write that completed the response;
    /// `None` while it is being sent, or if it was cut short or never sent.
    ///
    /// The client cannot have read the whole response before this, so a
    /// request with a `received_at` below another's `answered_at` was sent
    /// while that response was still in flight: the two overlapped.
    pub answered_at: Option<u64>,
    /// Its bytes were already read, with the request ahead of it on the connection,
    /// before that one was answered: the client pipelined it (HTTP/1.1 pipelining).
    pub pipelined: bool,
}

impl RequestRecord {
    pub(crate) fn new(
        head: &RequestHead,
        connection: usize,
        index_on_connection: usize,
        tls: bool,
        received_at: u64,
        pipelined: bool,
    ) -> Self {
        Self {
            connection,
            index_on_connection,
            method: head.method.clone(),
            target: head.target.clone(),
            path: head.path(),
            version: head.version.clone(),
            headers: head.headers.clone(),
            tls,
            received_at,
            answered_at: None,
            pipelined,
        }
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        request::header(&self.headers, name)
    }

    /// The `Range` header's value, if the request had one.
    pub fn range(&self) -> Option<&str> {
        self.header("range")
    }
}
