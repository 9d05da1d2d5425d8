//! Proxy cases of `cargo xtask interop`: nginx's files fetched through Debian's
//! tinyproxy (absolute-form GET for http://, CONNECT for https:// with the origin's
//! certificate checked through the tunnel, Basic authentication) and microsocks (SOCKS5
//! with RFC 1929 user/password, names sent or resolved here), and each proxy's refusal
//! of missing or wrong credentials with aria2's exit code.

use std::collections::BTreeSet;
use std::path::Path;

use super::Env;
use crate::payload::Payload;
use crate::proxies::{self, Proxy};
use crate::pyftpd;

/// aria2's exit code for an HTTP answer it cannot use (what a 407 gets).
const EXIT_BAD_HTTP: i32 = 22;
/// aria2's exit code for refused credentials.
const EXIT_AUTH: i32 = 24;

pub fn http_get(env: &Env, dir: &Path) -> Result<(), String> {
    let proxy = format!("--http-proxy={}", env.tinyproxy.uri("http", true));
    through(env, &env.tinyproxy, false, &env.big, || {
        env.fetch_http(dir, false, &env.big, &[&proxy, "-x4", "-s4", "-k1M"])
    })
}

pub fn https_connect(env: &Env, dir: &Path) -> Result<(), String> {
    // The proxy's own user options, not the URI, carry the credentials here.
    let uri = env.tinyproxy.uri("http", false);
    let proxy = format!("--https-proxy={uri}");
    let user = format!("--https-proxy-user={}", proxies::USER);
    let passwd = format!("--https-proxy-passwd={}", env.tinyproxy.password());
    through(env, &env.tinyproxy, true, &env.small, || {
        env.fetch_http(dir, true, &env.small, &[&proxy, &user, &passwd])
    })
}

pub fn http_407(env: &Env, dir: &Path) -> Result<(), String> {
    let proxy = format!("--http-proxy={}", env.tinyproxy.uri("http", false));
    let url = env.server.url(false, &env.small.name);
    env.run(dir, &[&proxy, &url])?.expect(EXIT_BAD_HTTP)
}

pub fn socks_http(env: &Env, dir: &Path) -> Result<(), String> {
    let proxy = format!("--all-proxy={}", env.socks.uri("socks5h", true));
    through(env, &env.socks, false, &env.big, || {
        env.fetch_http(dir, false, &env.big, &[&proxy, "-x4", "-s4", "-k1M"])
    })
}

pub fn socks_https(env: &Env, dir: &Path) -> Result<(), String> {
    let proxy = format!("--https-proxy={}", env.socks.uri("socks5", true));
    through(env, &env.socks, true, &env.small, || {
        env.fetch_http(dir, true, &env.small, &[&proxy])
    })
}

pub fn socks_wrong_password(env: &Env, dir: &Path) -> Result<(), String> {
    let proxy = format!(
        "--all-proxy={}",
        env.socks
            .uri("socks5h", false)
            .replace("://", "://swarmget:wrong@")
    );
    let url = env.server.url(false, &env.small.name);
    env.run(dir, &[&proxy, &url])?.expect(EXIT_AUTH)
}

/// Runs `fetch` of `payload` from nginx and checks that `proxy` connected to nginx
/// for it: a download that went around the proxy must not pass.
fn through(
    env: &Env,
    proxy: &Proxy,
    tls: bool,
    payload: &Payload,
    fetch: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    through_url(proxy, &env.server.url(tls, &payload.name), fetch).map(drop)
}

/// Runs `fetch` and checks that what `proxy` logged meanwhile names `url`'s
/// host:port; returns the loopback ports it logged meanwhile.
fn through_url(
    proxy: &Proxy,
    url: &str,
    fetch: impl FnOnce() -> Result<(), String>,
) -> Result<BTreeSet<u16>, String> {
    let authority = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split('/').next())
        .map(|a| a.rsplit_once('@').map_or(a, |(_, host)| host))
        .unwrap_or_default()
        .to_string();
    let before = proxy.log().len();
    fetch()?;
    let log = proxy.log();
    let new = log.get(before..).unwrap_or_default();
    if !new.contains(&authority) {
        return Err(format!(
            "the proxy's log does not name {authority}: the download went around it\n{}",
            log.lines().rev().take(10).collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(new
        .split("127.0.0.1:")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect())
}

/// An FTP download through `proxy`: the control port and at least one data port
/// must show in the proxy's log.
fn ftp_through(
    env: &Env,
    dir: &Path,
    proxy: &Proxy,
    url: &str,
    options: &[&str],
) -> Result<(), String> {
    let control: u16 = url
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| format!("no port in {url}"))?;
    let ports = through_url(proxy, url, || {
        env.fetch(dir, &[url.to_string()], &env.big, options)
    })?;
    if !ports.iter().any(|&p| p != control) {
        return Err(format!(
            "the proxy saw only the control port {control}: the data connections went around it"
        ));
    }
    Ok(())
}

pub fn ftp_tunnel(env: &Env, dir: &Path) -> Result<(), String> {
    let proxy = format!("--ftp-proxy={}", env.tinyproxy.uri("http", true));
    let url = env.vsftpd.url(&env.big.name);
    let options = [&proxy, "--proxy-method=tunnel", "-x4", "-s4", "-k1M"];
    ftp_through(env, dir, &env.tinyproxy, &url, &options)
}

pub fn ftp_socks(env: &Env, dir: &Path) -> Result<(), String> {
    let proxy = format!("--ftp-proxy={}", env.socks.uri("socks5", true));
    let url = env.pyftpd.url(&env.big.name).replacen(
        "ftp://",
        &format!("ftp://{}:{}@", pyftpd::USER, env.pyftpd.password()),
        1,
    );
    let options = [&proxy, "-x4", "-s4", "-k1M"];
    ftp_through(env, dir, &env.socks, &url, &options)
}
