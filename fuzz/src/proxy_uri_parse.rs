//! Arbitrary text as a proxy URI (`--http-proxy` and the other proxy options, and the
//! `http_proxy` family of environment variables).
//!
//! Invariants checked besides "never panics":
//! - what parses prints (credentials left out) as a URI that parses to the same
//!   kind, host and port, without credentials;
//! - the printed form never carries credentials.

use swarmget_proxy::ProxyUri;

/// The target body.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(uri) = ProxyUri::parse(&text) else {
        return;
    };
    let shown = uri.to_string();
    let again = ProxyUri::parse(&shown).unwrap_or_else(|e| panic!("{shown:?}: {e}"));
    assert_eq!(
        (again.kind, &again.host, again.port, &again.credentials),
        (uri.kind, &uri.host, uri.port, &None),
        "{text:?} printed as {shown:?}"
    );
    // No user-info at all in what is shown (a password of ":" or "1" would be found
    // in any printed URI, so look for the '@' that would introduce it).
    assert!(!shown.contains('@'), "{shown:?} shows credentials");
}
