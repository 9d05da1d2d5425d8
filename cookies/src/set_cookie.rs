//! `Set-Cookie` parsing (RFC 6265 §5.2) into the fields the jar stores (§5.3).

use swarmget_http_seg::parse_http_date;
use thiserror::Error;
use url::Url;

use crate::jar::{Cookie, MAX_COOKIE_BYTES, default_path, domain_match, is_ip};

/// Why a `Set-Cookie` value was not stored.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SetCookieError {
    /// No `=` in the name-value pair, or an empty name.
    #[error("Set-Cookie without a name=value pair")]
    NoName,
    /// Name and value longer than the limit.
    #[error("cookie longer than {MAX_COOKIE_BYTES} bytes")]
    TooLong,
    /// A `Domain` the request's host is not within (or an address's neighbour).
    #[error("cookie for domain '{domain}' set by host '{host}'")]
    ForeignDomain {
        /// The `Domain` attribute.
        domain: String,
        /// The host that sent it.
        host: String,
    },
    /// A `Secure` cookie from a request that was not over https.
    #[error("Secure cookie set over plain http")]
    InsecureSecure,
    /// A control character (TAB included) in the name, value, domain or path: it
    /// could not be written back to a cookie file.
    #[error("control character in a cookie")]
    ControlCharacter,
    /// The request URL has no host.
    #[error("no host to set a cookie for")]
    NoHost,
}

/// Parses `value`, received in answer to a request for `url` at `now` (Unix seconds).
/// `Ok(cookie)` with `expires <= now` means "delete".
pub(crate) fn parse(value: &str, url: &Url, now: i64) -> Result<Cookie, SetCookieError> {
    let host = url
        .host_str()
        .ok_or(SetCookieError::NoHost)?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let mut parts = value.split(';');
    let pair = parts.next().unwrap_or_default();
    let (name, val) = pair.split_once('=').ok_or(SetCookieError::NoName)?;
    let (name, val) = (name.trim(), val.trim());
    if name.is_empty() {
        return Err(SetCookieError::NoName);
    }
    if name.len() + val.len() > MAX_COOKIE_BYTES {
        return Err(SetCookieError::TooLong);
    }
    let clean = |s: &str| !s.chars().any(char::is_control);
    if !clean(name) || !clean(val) {
        return Err(SetCookieError::ControlCharacter);
    }
    let (mut expires, mut max_age, mut domain, mut path) = (None, None, None, None);
    let (mut secure, mut http_only) = (false, false);
    for attr in parts {
        let (key, arg) = match attr.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (attr.trim(), ""),
        };
        match key.to_ascii_lowercase().as_str() {
            "expires" => {
                if let Some(t) = parse_http_date(arg) {
                    expires = Some(i64::try_from(t).unwrap_or(i64::MAX));
                }
            }
            "max-age" => {
                let digits = arg.strip_prefix('-').unwrap_or(arg);
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    // Overflow saturates: a huge Max-Age is "forever", a huge
                    // negative one "already expired".
                    let n = digits.parse::<i64>().unwrap_or(i64::MAX);
                    max_age = Some(if arg.starts_with('-') { i64::MIN } else { n });
                }
            }
            _ if !clean(arg) => return Err(SetCookieError::ControlCharacter),
            "domain" if !arg.is_empty() => {
                domain = Some(arg.trim_start_matches('.').to_ascii_lowercase());
            }
            "path" => path = arg.starts_with('/').then(|| arg.to_string()),
            "secure" => secure = true,
            "httponly" => http_only = true,
            _ => {}
        }
    }
    // §5.3 step 3: Max-Age wins over Expires; a non-positive one expires now.
    let expires = match max_age {
        Some(n) if n <= 0 => Some(i64::MIN),
        Some(n) => Some(now.saturating_add(n)),
        None => expires,
    };
    let (domain, host_only) = match domain {
        Some(d) if d != host => {
            if !domain_match(&host, &d) || is_ip(&host) || !d.contains('.') {
                return Err(SetCookieError::ForeignDomain { domain: d, host });
            }
            (d, false)
        }
        _ => (host, true),
    };
    if secure && url.scheme() != "https" {
        return Err(SetCookieError::InsecureSecure);
    }
    Ok(Cookie {
        name: name.to_string(),
        value: val.to_string(),
        domain,
        host_only,
        path: path.unwrap_or_else(|| default_path(url.path())),
        secure,
        http_only,
        expires,
        created: 0,
    })
}
