//! --http-auth-challenge: credentials wait for the server's 401, then go with every
//! request to that origin; without it they go with the first request (aria2's default).

use swarmget_engine::{ErrorCode, Options};
use swarmget_test_support::{HttpServer, ServerConfig, TestFile};

mod common;

use common::{Dir, assert_err, assert_ok, run, segmented};

fn unauthorized(server: &HttpServer) -> usize {
    server
        .log()
        .iter()
        .filter(|r| r.header("authorization").is_none())
        .count()
}

#[test]
fn credentials_wait_for_the_challenge_when_asked_to() {
    let data = TestFile::random(400_000, 1);
    let server = HttpServer::start(
        ServerConfig::new()
            .file("/f", data.clone())
            .basic_auth("alice", "pw"),
    )
    .unwrap();
    let dir = Dir::new("auth-challenge");
    let o = Options {
        http_user: Some("alice".into()),
        http_passwd: Some("pw".into()),
        allow_overwrite: true,
        ..segmented(&dir.0, 2)
    };
    // aria2's default: sent at once.
    assert_ok(&run(vec![server.url("/f")], o.clone()), &data);
    assert_eq!(unauthorized(&server), 0);

    let challenge = Options {
        http_auth_challenge: true,
        ..o.clone()
    };
    let before = server.log().len();
    assert_ok(&run(vec![server.url("/f")], challenge.clone()), &data);
    let log = server.log();
    assert!(
        log[before].header("authorization").is_none(),
        "first asks without"
    );
    // Only that first request: the origin is remembered for the others.
    assert_eq!(unauthorized(&server), 1);
    assert!(log.len() - before >= 3, "{log:?}");

    // A wrong password is refused once, not retried in a loop.
    let wrong = Options {
        http_passwd: Some("nope".into()),
        max_tries: 1,
        ..challenge
    };
    let st = run(vec![server.url("/f")], wrong);
    assert_err(&st, ErrorCode::HttpAuth);
    let none = Options {
        http_user: None,
        http_passwd: None,
        http_auth_challenge: true,
        max_tries: 1,
        ..o
    };
    assert_err(&run(vec![server.url("/f")], none), ErrorCode::HttpAuth);
}
