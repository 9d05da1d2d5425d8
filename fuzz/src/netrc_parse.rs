//! Arbitrary text as a `.netrc` file.
//!
//! Invariants checked besides "never panics":
//! - a file that parses finds an entry for every name that follows a `machine`
//!   token outside a macro (lookups ignore case);
//! - CRLF line ends read as LF ones do.

use swarmget_engine::netrc::Netrc;

/// The target body.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let parsed = Netrc::parse(&text);
    if !text.contains('\r') {
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(parsed, Netrc::parse(&crlf), "CRLF differs");
    }
    let Ok(netrc) = parsed else {
        return;
    };
    if text.contains("macdef") {
        return;
    }
    let mut tokens = text.split_whitespace();
    while let Some(token) = tokens.next() {
        if matches!(token, "machine" | "login" | "password" | "account") {
            let Some(value) = tokens.next() else { break };
            if token == "machine" {
                assert!(
                    netrc.find(&value.to_ascii_uppercase()).is_some(),
                    "{value} lost"
                );
            }
        }
    }
}
