//! Proxy environment variables as aria2 reads them: over the config file, under the
//! command line, lower case before upper case.

mod common;

use std::time::Duration;

use common::{TempDir, run, swarmget};
use swarmget_test_support::{HttpProxy, HttpServer, ProxyConfig, ServerConfig, TestFile};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn http_proxy_from_the_environment_no_proxy_and_the_command_line_over_both() {
    let data = TestFile::random(5_000, 1);
    let origin = HttpServer::start(ServerConfig::new().file("/f", data)).unwrap();
    let proxy = HttpProxy::start(ProxyConfig::default()).unwrap();
    let dir = TempDir::new("proxy-env");
    let get = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = swarmget(dir.path());
        cmd.arg("-d")
            .arg(dir.path())
            .arg("--allow-overwrite=true")
            .args(args)
            .arg(origin.url("/f"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        run(&mut cmd, LIMIT)
    };
    // Upper case alone counts.
    get(&[("HTTP_PROXY", &proxy.url())], &[]).expect_code(0);
    assert_eq!(proxy.log().len(), 1);
    assert_eq!(proxy.log()[0].target, origin.url("/f"));
    // Lower case wins over upper case: a dead upper-case proxy is not used.
    get(
        &[
            ("http_proxy", &proxy.url()),
            ("HTTP_PROXY", "http://127.0.0.1:1"),
        ],
        &[],
    )
    .expect_code(0);
    assert_eq!(proxy.log().len(), 2);
    // no_proxy bypasses it.
    get(
        &[("http_proxy", &proxy.url()), ("NO_PROXY", "127.0.0.1")],
        &[],
    )
    .expect_code(0);
    assert_eq!(proxy.log().len(), 2);
    // The command line clears it.
    get(&[("all_proxy", &proxy.url())], &["--all-proxy="]).expect_code(0);
    assert_eq!(proxy.log().len(), 2);
    assert_eq!(origin.log().len(), 4);
}

#[test]
fn proxy_failures_exit_with_aria2s_codes_and_say_which_proxy() {
    let origin = HttpServer::start(ServerConfig::new().file("/f", vec![1; 100])).unwrap();
    let dir = TempDir::new("proxy-codes");
    let get = |proxy: &str| {
        let mut cmd = swarmget(dir.path());
        cmd.arg("-d")
            .arg(dir.path())
            .arg("--max-tries=1")
            .arg(format!("--http-proxy={proxy}"))
            .arg(origin.url("/f"));
        run(&mut cmd, LIMIT)
    };
    let refusing = common::RefusingPort::new();
    let dead = refusing.url("/").trim_end_matches('/').to_string();
    let r = get(&dead);
    r.expect_code(6);
    assert!(
        r.stdout
            .contains(&format!("cannot connect to proxy {dead}"))
            || r.stderr
                .contains(&format!("cannot connect to proxy {dead}")),
        "{r:?}"
    );
    let wants_login = HttpProxy::start(ProxyConfig {
        credentials: Some(("u".into(), "p".into())),
        ..ProxyConfig::default()
    })
    .unwrap();
    get(&wants_login.url()).expect_code(22);
    // A bad proxy URI is a bad option.
    get("https://proxy:1").expect_code(28);
    assert!(origin.log().is_empty(), "nothing went around the proxy");
}
