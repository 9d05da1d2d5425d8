//! Credentials (`--http-user`/`--http-passwd`, `Authorization` and `Cookie` given with
//! `--header`) go only to the origin the user named, not to another one a redirect
//! points at — curl's rule since 2018; aria2 sends them anywhere.

use swarmget_engine::Options;
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

mod common;

use common::{Dir, assert_ok, opts, run};

#[test]
fn credentials_and_cookies_stay_with_the_origin_after_a_redirect() {
    let data = TestFile::random(20_000, 9);
    let other = HttpServer::start_on(
        std::net::Ipv4Addr::new(127, 0, 0, 2).into(),
        ServerConfig::new().file("/f", data.clone()),
    )
    .unwrap();
    let first = HttpServer::start(
        ServerConfig::new()
            .file("/same", data.clone())
            .redirect("/g", "/same", 302)
            .redirect("/f", &other.url("/f"), 302),
    )
    .unwrap();
    let dir = Dir::new("redirect-creds");
    let o = Options {
        http_user: Some("alice".into()),
        http_passwd: Some("secret".into()),
        headers: vec!["Cookie: session=1".into(), "X-Kept: yes".into()],
        allow_overwrite: true,
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![first.url("/f")], o.clone()), &data);
    let asked = &first.requests_for("/f")[0];
    assert!(asked.header("authorization").is_some());
    assert_eq!(asked.header("cookie"), Some("session=1"));
    let elsewhere = &other.log()[0];
    assert_eq!(elsewhere.header("authorization"), None);
    assert_eq!(elsewhere.header("cookie"), None);
    assert_eq!(elsewhere.header("x-kept"), Some("yes"));
    // A redirect within the origin keeps them.
    assert_ok(&run(vec![first.url("/g")], o), &data);
    let same = &first.requests_for("/same")[0];
    assert!(same.header("authorization").is_some());
    assert_eq!(same.header("cookie"), Some("session=1"));
}
