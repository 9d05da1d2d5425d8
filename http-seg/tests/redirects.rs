//! Redirect following: method rules, resolution, loops, limits, credentials.

use swarmget_http_seg::{
    HeadLimits, Method, RedirectError, Redirects, Request, ResponseHead, Url, parse_response_head,
};

fn redirect(status: u16, location: Option<&str>) -> ResponseHead {
    let mut text = format!("HTTP/1.1 {status} Redirect\r\n");
    if let Some(location) = location {
        text.push_str(&format!("Location: {location}\r\n"));
    }
    text.push_str("\r\n");
    parse_response_head(text.as_bytes(), &HeadLimits::default())
        .unwrap()
        .unwrap()
        .0
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

#[test]
fn method_rules() {
    use Method::*;
    let table = [
        (301, Get, Get),
        (301, Head, Head),
        (301, Post, Get),
        (302, Get, Get),
        (302, Head, Head),
        (302, Post, Get),
        (303, Get, Get),
        (303, Head, Head),
        (303, Post, Get),
        (307, Get, Get),
        (307, Head, Head),
        (307, Post, Post),
        (308, Get, Get),
        (308, Head, Head),
        (308, Post, Post),
    ];
    for (status, method, want) in table {
        let mut chain = Redirects::new(20);
        let got = chain
            .follow(
                &redirect(status, Some("/next")),
                &url("http://h/start"),
                method,
            )
            .unwrap();
        assert_eq!(
            got,
            Some((url("http://h/next"), want)),
            "{status} {method:?}"
        );
    }
}

#[test]
fn non_redirect_statuses_are_not_followed() {
    for status in [200, 206, 300, 304, 305, 306, 404, 500] {
        let mut chain = Redirects::new(20);
        assert_eq!(
            chain.follow(
                &redirect(status, Some("/x")),
                &url("http://h/"),
                Method::Get
            ),
            Ok(None),
            "{status}"
        );
    }
}

#[test]
fn locations_resolve_against_the_current_url() {
    let current = url("https://user:pw@example.com:8443/a/b/c?q=1#part");
    for (location, want) in [
        ("d", "https://user:pw@example.com:8443/a/b/d#part"),
        ("../d?x", "https://user:pw@example.com:8443/a/d?x#part"),
        ("/root", "https://user:pw@example.com:8443/root#part"),
        (
            "?only=query",
            "https://user:pw@example.com:8443/a/b/c?only=query#part",
        ),
        ("/x#own", "https://user:pw@example.com:8443/x#own"),
        // Naming another authority never carries the current credentials.
        ("//mirror.example/f", "https://mirror.example/f#part"),
        ("http://other.example/f", "http://other.example/f#part"),
        (
            "  /spaced  ",
            "https://user:pw@example.com:8443/spaced#part",
        ),
        (
            "/with space/ü",
            "https://user:pw@example.com:8443/with%20space/%C3%BC#part",
        ),
    ] {
        let mut chain = Redirects::new(20);
        let (got, _) = chain
            .follow(&redirect(302, Some(location)), &current, Method::Get)
            .unwrap()
            .unwrap();
        assert_eq!(got.as_str(), want, "{location}");
    }
}

#[test]
fn bad_locations() {
    let mut chain = Redirects::new(20);
    let here = url("http://h/");
    assert_eq!(
        chain.follow(&redirect(301, None), &here, Method::Get),
        Err(RedirectError::MissingLocation { status: 301 })
    );
    assert_eq!(
        chain.follow(&redirect(301, Some("")), &here, Method::Get),
        Err(RedirectError::MissingLocation { status: 301 })
    );
    assert!(matches!(
        chain.follow(&redirect(302, Some("http://[::1")), &here, Method::Get),
        Err(RedirectError::InvalidLocation { .. })
    ));
    assert!(matches!(
        chain.follow(&redirect(302, Some("http://")), &here, Method::Get),
        Err(RedirectError::InvalidLocation { .. })
    ));
    assert_eq!(
        chain.follow(&redirect(302, Some("ftp://h/file")), &here, Method::Get),
        Err(RedirectError::UnsupportedScheme {
            url: url("ftp://h/file")
        })
    );
}

#[test]
fn loops_are_detected() {
    let mut chain = Redirects::new(20);
    let a = url("http://h/a");
    let (b, _) = chain
        .follow(&redirect(302, Some("/b")), &a, Method::Get)
        .unwrap()
        .unwrap();
    let (c, _) = chain
        .follow(&redirect(302, Some("/c")), &b, Method::Get)
        .unwrap()
        .unwrap();
    assert_eq!(
        chain.follow(&redirect(302, Some("/a#frag")), &c, Method::Get),
        Err(RedirectError::Loop { url: a.clone() })
    );
    assert_eq!(chain.count(), 2);
    assert_eq!(chain.visited(), [a.clone(), b, c]);

    let mut self_loop = Redirects::new(20);
    assert_eq!(
        self_loop.follow(&redirect(301, Some("a")), &a, Method::Get),
        Err(RedirectError::Loop { url: a })
    );
}

#[test]
fn the_limit_is_enforced() {
    let mut chain = Redirects::new(3);
    let mut current = url("http://h/0");
    for i in 1..=3 {
        let (next, _) = chain
            .follow(
                &redirect(307, Some(&format!("/{i}"))),
                &current,
                Method::Get,
            )
            .unwrap()
            .unwrap();
        current = next;
    }
    assert_eq!(chain.count(), 3);
    assert_eq!(
        chain.follow(&redirect(307, Some("/4")), &current, Method::Get),
        Err(RedirectError::TooMany { limit: 3 })
    );
    let mut none_allowed = Redirects::new(0);
    assert_eq!(
        none_allowed.follow(&redirect(301, Some("/x")), &url("http://h/"), Method::Get),
        Err(RedirectError::TooMany { limit: 0 })
    );
}

#[test]
fn credentials_stay_with_their_origin() {
    let start = url("https://files.example/get");
    let request = Request::get(&start).basic_auth("me", "secret");
    let mut chain = Redirects::new(20);
    let (next, method) = chain
        .follow(
            &redirect(302, Some("https://cdn.example/blob")),
            &start,
            Method::Get,
        )
        .unwrap()
        .unwrap();
    let mut bytes = Vec::new();
    request
        .redirect(&next, method)
        .write_to(&mut bytes)
        .unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.contains("Host: cdn.example\r\n"));
    assert!(!text.contains("Authorization"));
}
