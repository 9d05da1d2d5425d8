//! Arbitrary text as `Set-Cookie` values and as a `cookies.txt` file.
//!
//! The first byte picks the request URL's scheme and host; each further line is a
//! `Set-Cookie` value stored at a fixed time; then the whole input is loaded as a
//! Netscape file. Invariants checked besides "never panics":
//! - the jar stays within its bounds;
//! - what `to_netscape` writes loads back to the same cookies (the save/load round
//!   trip of `--save-cookies` then `--load-cookies`);
//! - a `Cookie` header never carries a cookie expired at the time asked.

use swarmget_cookies::{Cookie, CookieJar};
use url::Url;

const NOW: i64 = 1_700_000_000;

fn fields(c: &Cookie) -> (&str, &str, &str, bool, &str, bool, bool, Option<i64>) {
    (
        &c.name,
        &c.value,
        &c.domain,
        c.host_only,
        &c.path,
        c.secure,
        c.http_only,
        c.expires,
    )
}

fn round_trip(jar: &CookieJar) {
    let text = jar.to_netscape(NOW);
    let mut again = CookieJar::new();
    again
        .load_netscape(&text, NOW)
        .unwrap_or_else(|e| panic!("{e} in what to_netscape wrote:\n{text}"));
    let a: Vec<_> = jar.cookies().iter().map(fields).collect();
    let b: Vec<_> = again.cookies().iter().map(fields).collect();
    assert_eq!(a, b, "round trip through:\n{text}");
}

/// The target body.
pub fn run(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let url = Url::parse(match selector % 4 {
        0 => "https://www.example.com/a/b/file",
        1 => "http://example.com/",
        2 => "http://127.0.0.1:8080/x",
        _ => "https://[::1]/deep/path/",
    })
    .expect("static URL");
    let text = String::from_utf8_lossy(rest);
    let mut jar = CookieJar::new();
    for (i, line) in text.lines().enumerate() {
        let _ = jar.store(line, &url, NOW + i as i64);
    }
    assert!(jar.cookies().len() <= 3000);
    round_trip(&jar);
    for later in [NOW, NOW + 1_000_000_000] {
        if let Some(header) = jar.header_for(&url, later) {
            for c in jar
                .cookies()
                .iter()
                .filter(|c| c.expires.is_some_and(|t| t <= later))
            {
                assert!(
                    !header
                        .split("; ")
                        .any(|p| p == format!("{}={}", c.name, c.value)
                            && !jar.cookies().iter().any(|o| o.name == c.name
                                && o.value == c.value
                                && o.expires.is_none_or(|t| t > later))),
                    "expired {c:?} sent"
                );
            }
        }
    }
    let mut file = CookieJar::new();
    if file.load_netscape(&text, NOW).is_ok() {
        round_trip(&file);
    }
}
