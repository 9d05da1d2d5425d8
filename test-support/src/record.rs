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
}

impl RequestRecord {
    pub(crate) fn new(
        head: &RequestHead,
        connection: usize,
        index_on_connection: usize,
        tls: bool,
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
