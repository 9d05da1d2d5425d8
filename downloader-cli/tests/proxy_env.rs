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
