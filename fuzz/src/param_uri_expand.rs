//! Arbitrary text as a `-P` parameterized URI.
//!
//! Invariants checked besides "never panics":
//! - a pattern that parses gives exactly `count()` URIs, never more than the bound;
//! - text without `{` or `[` is its own single expansion.

use swarmget_engine::param_uri::{MAX_EXPANSIONS, Pattern};

/// The target body.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok(pattern) = Pattern::parse(&text) else {
        assert!(text.contains(['{', '[']), "plain text refused: {text:?}");
        return;
    };
    assert!(pattern.count() <= MAX_EXPANSIONS);
    if !text.contains(['{', '[']) {
        assert_eq!(pattern.iter().collect::<Vec<_>>(), [text.to_string()]);
        return;
    }
    // Walking a million URIs per input would stall the fuzzer: check the count on
    // small patterns, and the first few URIs on any.
    if pattern.count() <= 10_000 {
        assert_eq!(pattern.iter().count() as u64, pattern.count());
    } else {
        assert_eq!(pattern.iter().take(16).count(), 16);
    }
}
