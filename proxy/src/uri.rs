//! Proxy URIs as aria2's `--http-proxy` takes them —
//! `[http://][USER:PASSWORD@]HOST[:PORT]` — and, beyond aria2, `socks5://` (the client
//! resolves the origin's name) and `socks5h://` (the proxy does).

use std::fmt;

use percent_encoding::percent_decode_str;
use thiserror::Error;
use url::Url;

/// A user name and password for a proxy (or, in RFC 1929, a SOCKS5 server).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for Credentials {
    // Passwords stay out of logs and panics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The `Proxy-Authorization` value: `Basic base64(user:password)` (RFC 7617).
    pub fn basic(&self) -> String {
        let pair = format!("{}:{}", self.user, self.password);
        format!("Basic {}", data_encoding::BASE64.encode(pair.as_bytes()))
    }
}

/// What protocol the proxy speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyKind {
    /// An HTTP proxy: absolute-form requests, or `CONNECT` tunnels.
    Http,
    /// A SOCKS5 proxy.
    Socks5 {
        /// `socks5h://`: the proxy resolves the origin's name; `socks5://`: the
        /// client resolves it and sends the address.
        remote_dns: bool,
    },
}

/// A parsed proxy URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUri {
    /// The protocol.
    pub kind: ProxyKind,
    /// Host name or address literal, IPv6 without brackets.
    pub host: String,
    /// Port (80 for HTTP, 1080 for SOCKS5 when not given).
    pub port: u16,
    /// Credentials from the URI's user-info, percent-decoded.
    pub credentials: Option<Credentials>,
}

/// Why a proxy URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProxyUriError {
    /// Not a URI.
    #[error("bad proxy URI '{uri}': {why}")]
    Syntax {
        /// The value given (credentials removed).
        uri: String,
        /// What is wrong.
        why: String,
    },
    /// A scheme other than `http`, `socks5` and `socks5h`.
    #[error("proxy scheme '{0}' is not supported (http, socks5 or socks5h)")]
    Scheme(String),
    /// A path, query or fragment after the authority.
    #[error("a proxy URI names only a host and port, not a path ('{0}')")]
    Path(String),
}

impl ProxyUri {
    /// Parses `[SCHEME://][USER[:PASSWORD]@]HOST[:PORT][/]`, the scheme `http` when
    /// left out (as aria2). User and password are percent-decoded.
    pub fn parse(value: &str) -> Result<ProxyUri, ProxyUriError> {
        let value = value.trim();
        let with_scheme = if value.contains("://") {
            value.to_string()
        } else {
            format!("http://{value}")
        };
        let syntax = |why: String| ProxyUriError::Syntax {
            uri: redact(value),
            why,
        };
        let url = Url::parse(&with_scheme).map_err(|e| syntax(e.to_string()))?;
        let kind = match url.scheme() {
            "http" => ProxyKind::Http,
            "socks5" => ProxyKind::Socks5 { remote_dns: false },
            "socks5h" => ProxyKind::Socks5 { remote_dns: true },
            other => return Err(ProxyUriError::Scheme(other.to_string())),
        };
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(ProxyUriError::Path(redact(value)));
        }
        let host = match url.host() {
            Some(url::Host::Ipv6(a)) => a.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_ascii_lowercase(),
            _ => return Err(syntax("no host".into())),
        };
        let port = url.port().unwrap_or(match kind {
            ProxyKind::Http => 80,
            ProxyKind::Socks5 { .. } => 1080,
        });
        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let decode = |s: &str| {
                percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| syntax("user or password is not UTF-8".into()))
            };
            Some(Credentials {
                user: decode(url.username())?,
                password: decode(url.password().unwrap_or(""))?,
            })
        };
        Ok(ProxyUri {
            kind,
            host,
            port,
            credentials,
        })
    }

    /// `host:port` with IPv6 literals bracketed.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for ProxyUri {
    /// The URI without credentials, for messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Http => "http",
            ProxyKind::Socks5 { remote_dns: false } => "socks5",
            ProxyKind::Socks5 { remote_dns: true } => "socks5h",
        };
        write!(f, "{scheme}://{}", self.authority())
    }
}

/// `value` with anything before an `@` in the authority replaced, for messages.
fn redact(value: &str) -> String {
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), value),
    };
    match rest.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}***@{host}"),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aria2_forms_and_socks_schemes() {
        let p = ProxyUri::parse("proxy.example:3128").unwrap();
        assert_eq!(
            (p.kind, p.host.as_str(), p.port),
            (ProxyKind::Http, "proxy.example", 3128)
        );
        assert_eq!(ProxyUri::parse("http://Proxy.Example/").unwrap().port, 80);
        let s = ProxyUri::parse("socks5h://u%40x:p%3Aw@[::1]").unwrap();
        assert_eq!(s.kind, ProxyKind::Socks5 { remote_dns: true });
        assert_eq!((s.host.as_str(), s.port), ("::1", 1080));
        let c = s.credentials.clone().unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("u@x", "p:w"));
        assert_eq!(s.to_string(), "socks5h://[::1]:1080");
        assert_eq!(
            ProxyUri::parse("socks5://10.0.0.1:9050").unwrap().kind,
            ProxyKind::Socks5 { remote_dns: false }
        );
    }

    #[test]
    fn refusals_name_the_problem_without_the_password() {
        assert_eq!(
            ProxyUri::parse("https://p:1"),
            Err(ProxyUriError::Scheme("https".into()))
        );
        assert!(matches!(
            ProxyUri::parse("http://p:1/path"),
            Err(ProxyUriError::Path(_))
        ));
        let e = ProxyUri::parse("http://user:secret@bad host:1").unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(ProxyUri::parse("http://p:99999").is_err());
    }

    #[test]
    fn basic_credentials() {
        let c = Credentials {
            user: "Aladdin".into(),
            password: "open sesame".into(),
        };
        assert_eq!(c.basic(), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(!format!("{c:?}").contains("sesame"));
    }
}
