//! The jar: RFC 6265's storage model (§5.3) and the `Cookie` header (§5.4).
//!
//! Invariants: at most one cookie per (name, domain, path); none expired after a
//! `store` or `load` at `now` (expired ones are dropped then, and never sent); at most
//! [`MAX_PER_DOMAIN`] per domain and [`MAX_COOKIES`] in all, the oldest evicted first.

use url::Url;

use crate::set_cookie::{self, SetCookieError};

/// Name and value together, in bytes.
pub const MAX_COOKIE_BYTES: usize = 4096;
/// Cookies kept per domain.
pub const MAX_PER_DOMAIN: usize = 50;
/// Cookies kept in all.
pub const MAX_COOKIES: usize = 3000;

/// One stored cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Domain, lowercase, without a leading dot.
    pub domain: String,
    /// Sent to `domain` only (no `Domain` attribute), not to its subdomains.
    pub host_only: bool,
    /// Path prefix.
    pub path: String,
    /// Sent over https only.
    pub secure: bool,
    /// Not for scripts (kept for the file format).
    pub http_only: bool,
    /// Unix seconds; `None` for a session cookie.
    pub expires: Option<i64>,
    /// Creation order, for the header's order and eviction.
    pub(crate) created: u64,
}

impl Cookie {
    /// A cookie as a browser's database holds it: `domain` with a leading dot is a
    /// domain cookie (sent to its subdomains too), without one host-only; an empty
    /// path is `/`; `expires` in Unix seconds (`None`: a session cookie).
    pub fn from_store(
        name: &str,
        value: &str,
        domain: &str,
        path: &str,
        secure: bool,
        http_only: bool,
        expires: Option<i64>,
    ) -> Result<Cookie, String> {
        let host_only = !domain.starts_with('.');
        let domain = domain.trim_start_matches('.').to_ascii_lowercase();
        if domain.is_empty() || name.is_empty() {
            return Err("empty domain or name".into());
        }
        if name.len() + value.len() > MAX_COOKIE_BYTES {
            return Err("cookie longer than 4096 bytes".into());
        }
        Ok(Cookie {
            name: name.to_string(),
            value: value.to_string(),
            domain,
            host_only,
            path: if path.starts_with('/') { path } else { "/" }.to_string(),
            secure,
            http_only,
            expires,
            created: 0,
        })
    }

    pub(crate) fn expired(&self, now: i64) -> bool {
        self.expires.is_some_and(|t| t <= now)
    }

    fn matches(&self, url: &Url, host: &str) -> bool {
        let domain_ok = if self.host_only {
            host == self.domain
        } else {
            domain_match(host, &self.domain)
        };
        domain_ok && path_match(url.path(), &self.path) && (!self.secure || url.scheme() == "https")
    }
}

/// A cookie jar.
#[derive(Debug, Clone, Default)]
pub struct CookieJar {
    cookies: Vec<Cookie>,
    counter: u64,
}

impl CookieJar {
    /// An empty jar.
    pub fn new() -> CookieJar {
        CookieJar::default()
    }

    /// The cookies, oldest first.
    pub fn cookies(&self) -> &[Cookie] {
        &self.cookies
    }

    /// Stores a `Set-Cookie` value received for `url` at `now` (Unix seconds). An
    /// expired one removes the cookie it names.
    pub fn store(&mut self, set_cookie: &str, url: &Url, now: i64) -> Result<(), SetCookieError> {
        let cookie = set_cookie::parse(set_cookie, url, now)?;
        self.insert(cookie, now);
        Ok(())
    }

    /// Adds or replaces a cookie (same name, domain and path), keeping the old one's
    /// creation order as RFC 6265 asks; an expired cookie only removes.
    pub fn insert(&mut self, mut cookie: Cookie, now: i64) {
        self.cookies.retain(|c| !c.expired(now));
        let same = self.cookies.iter().position(|c| {
            c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path
        });
        let created = same.map(|i| self.cookies.remove(i).created);
        if cookie.expired(now) {
            return;
        }
        cookie.created = created.unwrap_or_else(|| {
            self.counter += 1;
            self.counter
        });
        let at = self.cookies.partition_point(|c| c.created < cookie.created);
        self.cookies.insert(at, cookie);
        self.evict();
    }

    fn evict(&mut self) {
        // Oldest first: the list is in creation order.
        while self.cookies.len() > MAX_COOKIES {
            self.cookies.remove(0);
        }
        let Some(last) = self.cookies.iter().max_by_key(|c| c.created) else {
            return;
        };
        let domain = last.domain.clone();
        while self.cookies.iter().filter(|c| c.domain == domain).count() > MAX_PER_DOMAIN {
            let oldest = self
                .cookies
                .iter()
                .position(|c| c.domain == domain)
                .expect("counted above");
            self.cookies.remove(oldest);
        }
    }

    /// The `Cookie` header value for a request to `url` at `now`: longer paths first,
    /// then older cookies (RFC 6265 §5.4). `None` when no cookie applies.
    pub fn header_for(&self, url: &Url, now: i64) -> Option<String> {
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let mut matching: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| !c.expired(now) && c.matches(url, &host))
            .collect();
        if matching.is_empty() {
            return None;
        }
        matching.sort_by(|a, b| {
            b.path
                .len()
                .cmp(&a.path.len())
                .then(a.created.cmp(&b.created))
        });
        let pairs: Vec<String> = matching
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        Some(pairs.join("; "))
    }
}

/// RFC 6265 §5.1.3: `host` is `domain` or a name under it (never an address).
pub(crate) fn domain_match(host: &str, domain: &str) -> bool {
    host == domain
        || (!is_ip(host)
            && host.len() > domain.len()
            && host.ends_with(domain)
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
}

pub(crate) fn is_ip(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
}

/// RFC 6265 §5.1.4.
fn path_match(request: &str, cookie: &str) -> bool {
    let request = if request.is_empty() { "/" } else { request };
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request.as_bytes().get(cookie.len()) == Some(&b'/')))
}

/// RFC 6265 §5.1.4's default path: the request path up to its last `/`.
pub(crate) fn default_path(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".into(),
        Some(i) => path[..i].to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn host_only_domain_path_and_secure() {
        let mut jar = CookieJar::new();
        let at = url("https://www.example.com/a/b/file");
        jar.store("host=1", &at, NOW).unwrap();
        jar.store("dom=2; Domain=.Example.COM; Path=/", &at, NOW)
            .unwrap();
        jar.store("sec=3; Secure; Path=/a", &at, NOW).unwrap();
        assert_eq!(
            jar.header_for(&at, NOW).as_deref(),
            Some("host=1; sec=3; dom=2")
        );
        // The default path is /a/b: not sent to /a/x.
        assert_eq!(
            jar.header_for(&url("https://www.example.com/a/x"), NOW)
                .as_deref(),
            Some("sec=3; dom=2")
        );
        // Host-only and Secure stay behind on another subdomain over http.
        assert_eq!(
            jar.header_for(&url("http://cdn.example.com/a/b/f"), NOW)
                .as_deref(),
            Some("dom=2")
        );
        assert_eq!(jar.header_for(&url("https://badexample.com/"), NOW), None);
        assert_eq!(
            jar.header_for(&url("https://www.example.com/ab"), NOW)
                .as_deref(),
            Some("dom=2")
        );
    }

    #[test]
    fn foreign_domains_and_insecure_secure_are_refused() {
        let mut jar = CookieJar::new();
        let at = url("http://a.example.com/");
        for bad in [
            "x=1; Domain=other.com",
            "x=1; Domain=com",
            "x=1; Domain=b.a.example.com",
            "x=1; Secure",
            "x=a\tb",
            "x=1; Path=/a\tb",
            "novalue",
            "=1",
        ] {
            assert!(jar.store(bad, &at, NOW).is_err(), "{bad}");
        }
        assert!(
            jar.store("x=1; Domain=0.0.1", &url("http://127.0.0.1/"), NOW)
                .is_err()
        );
        assert!(
            jar.store(&format!("x={}", "v".repeat(5000)), &at, NOW)
                .is_err()
        );
        assert!(jar.cookies().is_empty());
    }

    #[test]
    fn expiry_replacement_and_deletion() {
        let mut jar = CookieJar::new();
        let at = url("http://h/");
        jar.store(
            "a=1; Max-Age=10; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            &at,
            NOW,
        )
        .unwrap();
        jar.store("b=1; Expires=Thu, 01 Jan 1970 00:00:01 GMT", &at, NOW)
            .unwrap();
        assert_eq!(jar.header_for(&at, NOW).as_deref(), Some("a=1"));
        assert_eq!(jar.header_for(&at, NOW + 10), None);
        jar.store("c=1", &at, NOW).unwrap();
        jar.store("d=1", &at, NOW).unwrap();
        jar.store("c=2", &at, NOW).unwrap();
        // Replacement keeps c's place.
        assert_eq!(jar.header_for(&at, NOW).as_deref(), Some("a=1; c=2; d=1"));
        jar.store("c=x; Max-Age=0", &at, NOW).unwrap();
        assert_eq!(jar.header_for(&at, NOW).as_deref(), Some("a=1; d=1"));
    }

    #[test]
    fn bounded_per_domain_and_in_all() {
        let mut jar = CookieJar::new();
        let at = url("http://h/");
        for i in 0..MAX_PER_DOMAIN + 5 {
            jar.store(&format!("c{i}=1"), &at, NOW).unwrap();
        }
        assert_eq!(jar.cookies().len(), MAX_PER_DOMAIN);
        assert_eq!(jar.cookies()[0].name, "c5", "the oldest went first");
        for i in 0..MAX_COOKIES + 10 {
            jar.store("x=1", &url(&format!("http://h{i}.example/")), NOW)
                .unwrap();
        }
        assert_eq!(jar.cookies().len(), MAX_COOKIES);
    }
}
