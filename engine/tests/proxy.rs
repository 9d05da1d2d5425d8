//! Downloads through proxies: GET through an HTTP proxy, CONNECT tunnels for https://
//! (the origin's certificate checked through the tunnel), SOCKS5 with local and
//! remote name resolution, --no-proxy, and each way a proxy can fail.

use swarmget_engine::options::{NoProxy, ProxyMethod, ProxyUri};
use swarmget_engine::{ErrorCode, Options};
use swarmget_test_support::{
    FtpConfig, FtpServer, HttpProxy, HttpServer, ProxyConfig, ServerConfig, Socks5Proxy, TestCa,
    TestFile,
};

mod common;

use common::{Dir, assert_err, assert_message, assert_ok, opts, run, segmented};

fn proxy(uri: &str) -> Option<ProxyUri> {
    Some(ProxyUri::parse(uri).unwrap())
}

/// An HTTPS origin whose certificate (for `localhost`) the options trust.
fn tls_origin(dir: &Dir, data: &[u8]) -> (HttpServer, Options) {
    let ca = TestCa::new();
    let ca_path = dir.0.join("ca.pem");
    std::fs::write(&ca_path, ca.cert_pem()).unwrap();
    let server =
        HttpServer::start_tls(ServerConfig::new().file("/f", data.to_vec()).tls_ca(&ca)).unwrap();
    let o = Options {
        ca_certificate: Some(ca_path),
        ..segmented(&dir.0, 2)
    };
    (server, o)
}

fn with_credentials(user: &str, password: &str) -> ProxyConfig {
    ProxyConfig {
        credentials: Some((user.into(), password.into())),
        ..ProxyConfig::default()
    }
}

#[test]
fn get_through_an_http_proxy_with_credentials_from_the_uri() {
    let data = TestFile::random(600_000, 1);
    let origin = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let p = HttpProxy::start(with_credentials("u", "p w")).unwrap();
    let dir = Dir::new("proxy-get");
    let uri = p.url().replace("http://", "http://u:p%20w@");
    let o = Options {
        http_proxy: proxy(&uri),
        ..segmented(&dir.0, 2)
    };
    assert_ok(&run(vec![origin.url("/f")], o), &data);
    let log = p.log();
    assert!(!log.is_empty());
    for r in &log {
        assert_eq!(r.method, "GET");
        assert_eq!(r.target, origin.url("/f"), "absolute form");
        assert_eq!(r.credentials.as_deref(), Some("Basic dTpwIHc="));
    }
    // Every byte came through the proxy.
    assert_eq!(origin.log().len(), log.len());
}

#[test]
fn proxy_user_options_replace_the_uri_and_all_proxy_is_the_fallback() {
    let data = TestFile::random(10_000, 2);
    let origin = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let p = HttpProxy::start(with_credentials("opt", "secret")).unwrap();
    let dir = Dir::new("proxy-user");
    let o = Options {
        all_proxy: proxy(&p.url().replace("http://", "http://uri:wrong@")),
        all_proxy_user: Some("opt".into()),
        all_proxy_passwd: Some("secret".into()),
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![origin.url("/f")], o), &data);
    assert_eq!(
        p.log()[0].credentials.as_deref(),
        Some("Basic b3B0OnNlY3JldA==")
    );
}

#[test]
fn a_407_without_credentials_fails_at_once_with_aria2s_code() {
    let origin = HttpServer::start(ServerConfig::new().file("/f", vec![1; 100])).unwrap();
    let p = HttpProxy::start(with_credentials("u", "p")).unwrap();
    let dir = Dir::new("proxy-407");
    let o = Options {
        http_proxy: proxy(&p.url()),
        ..opts(&dir.0)
    };
    let st = run(vec![origin.url("/f")], o);
    assert_err(&st, ErrorCode::HttpHeader);
    assert_message(&st, "wants a user name and password");
    // Not retried: the same request cannot get another answer.
    assert_eq!(p.log().len(), 1);
    assert!(origin.log().is_empty());
}

#[test]
fn https_goes_through_connect_and_the_origin_certificate_is_checked() {
    let data = TestFile::random(700_000, 3);
    let dir = Dir::new("proxy-connect");
    let (origin, o) = tls_origin(&dir, &data);
    let p = HttpProxy::start(with_credentials("u", "p")).unwrap();
    let o = Options {
        // --proxy-method=get does not matter: https always tunnels.
        proxy_method: ProxyMethod::Get,
        https_proxy: proxy(&p.url().replace("http://", "http://u:p@")),
        ..o
    };
    assert_ok(
        &run(vec![origin.url_with_host("localhost", "/f")], o),
        &data,
    );
    let log = p.log();
    assert!(!log.is_empty());
    for r in &log {
        assert_eq!(r.method, "CONNECT");
        assert_eq!(r.target, format!("localhost:{}", origin.addr().port()));
        assert_eq!(r.credentials.as_deref(), Some("Basic dTpw"));
    }
    // The origin saw TLS requests in origin form: nothing was decrypted on the way.
    assert!(origin.log().iter().all(|r| r.tls && r.target == "/f"));
}

#[test]
fn a_proxy_that_puts_another_certificate_in_the_middle_fails_with_6() {
    let data = TestFile::random(10_000, 4);
    let dir = Dir::new("proxy-mitm");
    let (origin, o) = tls_origin(&dir, &data);
    // Same name, a certificate from a CA the client does not trust.
    let impostor = HttpServer::start_tls(ServerConfig::new().file("/f", data.clone())).unwrap();
    let p = HttpProxy::start(ProxyConfig {
        divert_connect: Some(impostor.addr()),
        ..ProxyConfig::default()
    })
    .unwrap();
    let o = Options {
        https_proxy: proxy(&p.url()),
        max_tries: 1,
        ..o
    };
    let st = run(vec![origin.url_with_host("localhost", "/f")], o);
    assert_err(&st, ErrorCode::Network);
    assert_message(&st, "invalid peer certificate");
    assert!(impostor.log().is_empty(), "no request reached the impostor");
}

#[test]
fn a_refused_connect_and_a_connect_407_end_the_source() {
    let dir = Dir::new("proxy-refused");
    let (origin, o) = tls_origin(&dir, &[5; 100]);
    let refusing = HttpProxy::start(ProxyConfig {
        refuse_connect: Some(403),
        ..ProxyConfig::default()
    })
    .unwrap();
    let st = run(
        vec![origin.url_with_host("localhost", "/f")],
        Options {
            https_proxy: proxy(&refusing.url()),
            ..o.clone()
        },
    );
    assert_err(&st, ErrorCode::HttpHeader);
    assert_message(&st, "refused CONNECT: HTTP 403");
    assert_eq!(refusing.log().len(), 1);

    let wants_login = HttpProxy::start(with_credentials("u", "p")).unwrap();
    let st = run(
        vec![origin.url_with_host("localhost", "/f")],
        Options {
            https_proxy: proxy(&wants_login.url()),
            ..o
        },
    );
    assert_err(&st, ErrorCode::HttpHeader);
    assert_message(&st, "proxy authentication required");
    assert_eq!(wants_login.log().len(), 1);
}

#[test]
fn proxy_method_tunnel_sends_http_through_connect() {
    let data = TestFile::random(300_000, 5);
    let origin = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let p = HttpProxy::start(ProxyConfig::default()).unwrap();
    let dir = Dir::new("proxy-tunnel");
    let o = Options {
        http_proxy: proxy(&p.url()),
        proxy_method: ProxyMethod::Tunnel,
        ..segmented(&dir.0, 2)
    };
    assert_ok(&run(vec![origin.url("/f")], o), &data);
    assert!(p.log().iter().all(|r| r.method == "CONNECT"));
    assert!(origin.log().iter().all(|r| r.target == "/f"));
}

/// A loopback address nothing listens on.
fn dead_address() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

#[test]
fn an_unreachable_proxy_is_a_network_problem_that_names_the_proxy() {
    let origin = HttpServer::start(ServerConfig::new().file("/f", vec![1; 10])).unwrap();
    let dir = Dir::new("proxy-dead");
    let dead = dead_address();
    let o = Options {
        http_proxy: proxy(&dead),
        max_tries: 2,
        ..opts(&dir.0)
    };
    let st = run(vec![origin.url("/f")], o);
    assert_err(&st, ErrorCode::Network);
    assert_message(&st, &format!("cannot connect to proxy {dead}"));
    assert!(origin.log().is_empty());
}

#[test]
fn no_proxy_hosts_go_direct() {
    let data = TestFile::random(10_000, 6);
    let origin = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let dir = Dir::new("proxy-bypass");
    let mut o = Options {
        all_proxy: proxy(&dead_address()),
        no_proxy: NoProxy::parse("example.org,127.0.0.0/8").unwrap(),
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![origin.url("/f")], o.clone()), &data);
    // The same without the bypass goes to the dead proxy.
    o.no_proxy = NoProxy::parse(".localhost").unwrap();
    o.max_tries = 1;
    o.allow_overwrite = true;
    assert_err(&run(vec![origin.url("/f")], o), ErrorCode::Network);
}

#[test]
fn socks5_resolves_here_and_socks5h_sends_the_name() {
    let data = TestFile::random(400_000, 7);
    let origin = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let url = origin.url_with_host("localhost", "/f");
    let port = origin.addr().port();
    for remote in [false, true] {
        let s = Socks5Proxy::start(None).unwrap();
        let dir = Dir::new(&format!("socks-{remote}"));
        let o = Options {
            http_proxy: proxy(&s.url(remote)),
            // localhost may resolve to ::1 first, where the origin is not.
            disable_ipv6: true,
            ..segmented(&dir.0, 2)
        };
        assert_ok(&run(vec![url.clone()], o), &data);
        let log = s.log();
        assert!(!log.is_empty());
        for r in &log {
            if remote {
                assert_eq!(
                    (r.target.clone(), r.by_name),
                    (format!("localhost:{port}"), true)
                );
            } else {
                assert_eq!(
                    (r.target.clone(), r.by_name),
                    (format!("127.0.0.1:{port}"), false)
                );
            }
        }
    }
}

#[test]
fn socks5_with_a_password_and_https_inside() {
    let data = TestFile::random(200_000, 8);
    let dir = Dir::new("socks-auth");
    let (origin, o) = tls_origin(&dir, &data);
    let s = Socks5Proxy::start(Some(("user", "pw"))).unwrap();
    let ok = Options {
        all_proxy: proxy(&s.url(true).replace("://", "://user:pw@")),
        ..o.clone()
    };
    assert_ok(
        &run(vec![origin.url_with_host("localhost", "/f")], ok),
        &data,
    );
    assert_eq!(s.log()[0].credentials.as_deref(), Some("user:pw"));

    let wrong = Options {
        all_proxy: proxy(&s.url(true).replace("://", "://user:nope@")),
        allow_overwrite: true,
        ..o.clone()
    };
    let before = s.log().len();
    let st = run(vec![origin.url_with_host("localhost", "/f")], wrong);
    assert_err(&st, ErrorCode::HttpAuth);
    assert_message(&st, "refused the user name and password");
    assert_eq!(s.log().len(), before + 1, "not retried");

    let none = Options {
        all_proxy: proxy(&s.url(true)),
        allow_overwrite: true,
        ..o
    };
    let st = run(vec![origin.url_with_host("localhost", "/f")], none);
    assert_err(&st, ErrorCode::HttpAuth);
    assert_message(&st, "user name and password");
}

#[test]
fn ftp_control_and_data_connections_go_through_connect_and_socks5() {
    let data = TestFile::random(700_000, 10);
    let ftp = FtpServer::start(FtpConfig::new().file("/pub/f", data.clone())).unwrap();
    let port = ftp
        .url("/")
        .split(':')
        .nth(2)
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let http = HttpProxy::start(ProxyConfig::default()).unwrap();
    let dir = Dir::new("proxy-ftp-tunnel");
    let o = Options {
        ftp_proxy: proxy(&http.url()),
        proxy_method: ProxyMethod::Tunnel,
        allow_overwrite: true,
        ..segmented(&dir.0, 2)
    };
    assert_ok(&run(vec![ftp.url("/pub/f")], o.clone()), &data);
    let log = http.log();
    assert!(log.iter().all(|r| r.method == "CONNECT"));
    let control = format!("127.0.0.1:{port}");
    assert!(log.iter().any(|r| r.target == control), "{log:?}");
    assert!(
        log.iter().any(|r| r.target != control),
        "the data connections went around the proxy: {log:?}"
    );

    let socks = Socks5Proxy::start(Some(("u", "p"))).unwrap();
    let o = Options {
        ftp_proxy: proxy(&socks.url(false).replace("://", "://u:p@")),
        ..o
    };
    assert_ok(&run(vec![ftp.url("/pub/f")], o.clone()), &data);
    let log = socks.log();
    assert!(log.iter().any(|r| r.target == control), "{log:?}");
    assert!(log.iter().any(|r| r.target != control), "{log:?}");

    // Active mode cannot work through a proxy: said, not attempted.
    let active = Options {
        ftp_pasv: false,
        ..o
    };
    let st = run(vec![ftp.url("/pub/f")], active);
    assert_err(&st, ErrorCode::BadOption);
    assert_message(&st, "cannot go through a proxy");
}

/// `--http-proxy-user/-passwd` go to the HTTP proxy and `--ftp-proxy-user/-passwd` to
/// the FTP proxy (here a CONNECT tunnel for FTP), each instead of the other's.
#[test]
fn per_scheme_proxy_user_options_reach_their_own_proxy() {
    let data = TestFile::random(20_000, 11);
    let origin = HttpServer::start(ServerConfig::new().file("/f", data.clone())).unwrap();
    let http = HttpProxy::start(with_credentials("huser", "hpw")).unwrap();
    let dir = Dir::new("proxy-per-scheme-user");
    let o = Options {
        http_proxy: proxy(&http.url()),
        http_proxy_user: Some("huser".into()),
        http_proxy_passwd: Some("hpw".into()),
        ftp_proxy_user: Some("fuser".into()),
        ftp_proxy_passwd: Some("fpw".into()),
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![origin.url("/f")], o), &data);
    // base64("huser:hpw")
    assert_eq!(
        http.log()[0].credentials.as_deref(),
        Some("Basic aHVzZXI6aHB3")
    );

    let ftp = FtpServer::start(FtpConfig::new().file("/pub/f", data.clone())).unwrap();
    let ftp_proxy = HttpProxy::start(with_credentials("fuser", "fpw")).unwrap();
    let dir = Dir::new("proxy-per-scheme-user-ftp");
    let o = Options {
        ftp_proxy: proxy(&ftp_proxy.url()),
        ftp_proxy_user: Some("fuser".into()),
        ftp_proxy_passwd: Some("fpw".into()),
        http_proxy_user: Some("huser".into()),
        http_proxy_passwd: Some("hpw".into()),
        proxy_method: ProxyMethod::Tunnel,
        ..opts(&dir.0)
    };
    assert_ok(&run(vec![ftp.url("/pub/f")], o), &data);
    let log = ftp_proxy.log();
    assert!(!log.is_empty());
    // base64("fuser:fpw")
    for r in &log {
        assert_eq!(
            r.credentials.as_deref(),
            Some("Basic ZnVzZXI6ZnB3"),
            "{r:?}"
        );
    }
}
