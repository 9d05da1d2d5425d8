//! Following redirects (RFC 9110 §15.4) with a limit and loop detection.

use url::Url;

use crate::head::ResponseHead;
use crate::request::Method;

/// Why a redirect cannot be followed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectError {
    /// More redirects than the limit.
    #[error("more than {limit} redirects")]
    TooMany {
        /// The limit.
        limit: usize,
    },
    /// A redirect status without `Location`.
    #[error("{status} redirect without a Location header")]
    MissingLocation {
        /// The status.
        status: u16,
    },
    /// A `Location` that does not resolve to a URL.
    #[error("invalid Location {location:?}: {reason}")]
    InvalidLocation {
        /// The field value.
        location: String,
        /// Why it does not resolve.
        reason: url::ParseError,
    },
    /// A redirect to a scheme other than http and https.
    #[error("redirect to unsupported scheme: {url}")]
    UnsupportedScheme {
        /// The target.
        url: Url,
    },
    /// A redirect back to a URL already visited in this chain.
    #[error("redirect loop: {url} visited twice")]
    Loop {
        /// The URL seen twice.
        url: Url,
    },
}

/// The redirect chain of one download: counts hops and remembers every URL
/// visited, fragments aside.
///
/// Credentials: resolving `Location` never carries the user name and password
/// of the current URL to another host (a relative reference keeps the current
/// authority; anything naming a host replaces it whole). Credentials and
/// cookies the caller adds to requests are its own; build the next request
/// with [`Request::redirect`](crate::Request::redirect), which drops them when
/// the origin changes.
#[derive(Clone, Debug)]
pub struct Redirects {
    limit: usize,
    visited: Vec<Url>,
}

impl Redirects {
    /// A chain allowing at most `limit` redirects (aria2 and curl use 20).
    pub fn new(limit: usize) -> Redirects {
        Redirects {
            limit,
            visited: Vec::new(),
        }
    }

    /// How many redirects have been followed.
    pub fn count(&self) -> usize {
        self.visited.len().saturating_sub(1)
    }

    /// The URLs visited so far, the first request's included, without fragments.
    pub fn visited(&self) -> &[Url] {
        &self.visited
    }

    /// If `head` (the response to `method` on `current`) redirects, returns
    /// where to go and with which method; `Ok(None)` when it is not a redirect
    /// to follow (anything but 301, 302, 303, 307 and 308).
    ///
    /// Methods: 307 and 308 keep the method. 301 and 302 turn POST into GET,
    /// as every browser does (RFC 9110 allows it). 303 turns everything into
    /// GET except HEAD, which stays HEAD: a HEAD probe must not start
    /// downloading a body.
    ///
    /// `Location` is resolved against `current` (RFC 3986 §5); a target
    /// without a fragment inherits the current one (RFC 9110 §10.2.2).
    pub fn follow(
        &mut self,
        head: &ResponseHead,
        current: &Url,
        method: Method,
    ) -> Result<Option<(Url, Method)>, RedirectError> {
        let next_method = match (head.status, method) {
            (301 | 302, Method::Post) => Method::Get,
            (303, Method::Head) => Method::Head,
            (303, _) => Method::Get,
            (301 | 302 | 307 | 308, method) => method,
            _ => return Ok(None),
        };
        let here = without_fragment(current);
        if !self.visited.contains(&here) {
            self.visited.push(here);
        }
        if self.count() >= self.limit {
            return Err(RedirectError::TooMany { limit: self.limit });
        }
        let location = head.location().ok_or(RedirectError::MissingLocation {
            status: head.status,
        })?;
        if location.is_empty() {
            return Err(RedirectError::MissingLocation {
                status: head.status,
            });
        }
        let mut target =
            current
                .join(location)
                .map_err(|reason| RedirectError::InvalidLocation {
                    location: location.to_owned(),
                    reason,
                })?;
        if !matches!(target.scheme(), "http" | "https") {
            return Err(RedirectError::UnsupportedScheme { url: target });
        }
        if target.fragment().is_none() {
            target.set_fragment(current.fragment());
        }
        let key = without_fragment(&target);
        if self.visited.contains(&key) {
            return Err(RedirectError::Loop { url: key });
        }
        self.visited.push(key);
        Ok(Some((target, next_method)))
    }
}

fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}
