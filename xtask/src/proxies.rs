//! Real proxies on loopback for the interop cases, owned by this process and stopped
//! on drop: Debian's tinyproxy (HTTP: absolute-form GET and CONNECT, Basic
//! authentication) and microsocks (SOCKS5 with RFC 1929 user/password). Each gets a
//! fresh random password, which is also how a probe tells it from another server that
//! might hold the same port.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::child::stop;
use crate::cmd::apt_install;
use crate::loopback::{PORT_ATTEMPTS, free_ports, token, wait_ready};

/// The user both proxies know.
pub const USER: &str = "swarmget";

/// A running proxy.
pub struct Proxy {
    child: Child,
    port: u16,
    password: String,
    log: std::path::PathBuf,
}

impl Proxy {
    /// The proxy URI with `scheme`, with our credentials when `login`.
    pub fn uri(&self, scheme: &str, login: bool) -> String {
        if login {
            format!(
                "{scheme}://{USER}:{}@127.0.0.1:{}",
                self.password, self.port
            )
        } else {
            format!("{scheme}://127.0.0.1:{}", self.port)
        }
    }
}

impl Proxy {
    /// The password [`USER`] logs in with.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// What the proxy has logged so far (each names the host:port it connects to).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Installs tinyproxy when missing and starts it on a free port, requiring [`USER`]
/// and a fresh password, with its log in `dir`.
pub fn tinyproxy(dir: &Path) -> Result<Proxy, String> {
    apt_install(&["tinyproxy"]).map_err(|e| {
        format!("tinyproxy is required (loopback HTTP proxy) and could not be installed: {e}")
    })?;
    start(
        dir,
        "tinyproxy",
        |port, password, log| {
            // No ConnectPort line: CONNECT may reach any port (nginx's is random).
            let conf = dir.join("tinyproxy.conf");
            let text = format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 60\nLogLevel Info\nMaxClients 100\n\
             Allow 127.0.0.1\nBasicAuth {USER} {password}\nDisableViaHeader Yes\n"
            );
            std::fs::write(&conf, text).map_err(|e| format!("{}: {e}", conf.display()))?;
            let mut cmd = Command::new("tinyproxy");
            cmd.arg("-d").arg("-c").arg(&conf);
            redirect(&mut cmd, log)?;
            Ok(cmd)
        },
        probe_http,
    )
}

/// Installs microsocks when missing and starts it on a free port, requiring [`USER`]
/// and a fresh password, with its output in `dir`.
pub fn microsocks(dir: &Path) -> Result<Proxy, String> {
    apt_install(&["microsocks"]).map_err(|e| {
        format!("microsocks is required (loopback SOCKS5 proxy) and could not be installed: {e}")
    })?;
    start(
        dir,
        "microsocks",
        |port, password, log| {
            let mut cmd = Command::new("microsocks");
            cmd.args([
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-u",
                USER,
                "-P",
                password,
            ]);
            redirect(&mut cmd, log)?;
            Ok(cmd)
        },
        probe_socks,
    )
}

fn redirect(cmd: &mut Command, log: &Path) -> Result<(), String> {
    let out = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    Ok(())
}

/// Starts `name` on free ports until one holds, and waits until `probe` logs in.
fn start(
    dir: &Path,
    name: &str,
    command: impl Fn(u16, &str, &Path) -> Result<Command, String>,
    probe: fn(u16, &str) -> bool,
) -> Result<Proxy, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let password = token();
    let log = dir.join(format!("{name}.log"));
    let mut last_error = String::new();
    for _ in 0..PORT_ATTEMPTS {
        let port = free_ports(1)?[0];
        let child = command(port, &password, &log)?
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let mut proxy = Proxy {
            child,
            port,
            password: password.clone(),
            log: log.clone(),
        };
        match wait_ready(&mut proxy.child, || probe(port, &password)) {
            Ok(()) => return Ok(proxy),
            Err(e) => {
                let output = std::fs::read_to_string(&log).unwrap_or_default();
                last_error = format!("{name} did not start: {e}\n{}", output.trim());
                drop(proxy);
                if !output.contains("in use") {
                    break;
                }
            }
        }
    }
    Err(last_error)
}

fn connect(port: u16) -> Option<TcpStream> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    Some(s)
}

/// An HTTP proxy that accepts our credentials (anything but 407 to a request for
/// a closed port).
fn probe_http(port: u16, password: &str) -> bool {
    let Some(mut s) = connect(port) else {
        return false;
    };
    let auth = base64(format!("{USER}:{password}").as_bytes());
    let request =
        format!("GET http://127.0.0.1:1/ HTTP/1.0\r\nProxy-Authorization: Basic {auth}\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.") && &head[9..12] != b"407"
}

/// A SOCKS5 server that takes user/password authentication with our credentials.
fn probe_socks(port: u16, password: &str) -> bool {
    let Some(mut s) = connect(port) else {
        return false;
    };
    let mut reply = [0u8; 2];
    if s.write_all(&[5, 1, 2]).is_err() || s.read_exact(&mut reply).is_err() || reply != [5, 2] {
        return false;
    }
    let mut auth = vec![1, USER.len() as u8];
    auth.extend_from_slice(USER.as_bytes());
    auth.push(password.len() as u8);
    auth.extend_from_slice(password.as_bytes());
    s.write_all(&auth).is_ok() && s.read_exact(&mut reply).is_ok() && reply == [1, 0]
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc_4648() {
        assert_eq!(super::base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(super::base64(b"foob"), "Zm9vYg==");
    }
}
