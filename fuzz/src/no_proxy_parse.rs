//! Arbitrary text as a `--no-proxy` list (and as hosts to look up in it).
//!
//! Invariants checked besides "never panics":
//! - a list that parses matches every address literal it names on its own;
//! - a list that parses matches each `.domain` entry's subdomain `x.domain` (final
//!   dots aside);
//! - adding an empty entry or blanks changes nothing.

use swarmget_proxy::NoProxy;

/// The target body.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(list) = NoProxy::parse(&text) else {
        return;
    };
    let padded = NoProxy::parse(&format!(" ,{text}, ,")).expect("blanks and empty entries");
    assert_eq!(list, padded);
    for entry in text.split(',').map(str::trim) {
        let bare = entry.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<std::net::IpAddr>().is_ok() {
            assert!(list.matches(entry), "{entry} not matched by its own list");
        } else if entry.starts_with('.')
            && entry.trim_end_matches('.').len() > 1
            && !entry.contains('/')
        {
            let sub = format!("x{}", entry.trim_end_matches('.'));
            if sub.parse::<std::net::IpAddr>().is_err() {
                assert!(list.matches(&sub), "{sub} not matched by {entry}");
            }
        }
        // Arbitrary hosts must not panic either.
        let _ = list.matches(entry);
    }
}
