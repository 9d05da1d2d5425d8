//! Debian's nginx on loopback, owned by this process: configuration, logs and pid file in
//! a directory of ours, free ports picked at start, and the server stopped on drop, so
//! neither a failing check nor a panic leaves it running.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::child::{children_of, signal, wait_for};
use crate::cmd::apt_install;
use crate::tls::TestPki;

/// How many times to pick new ports when another process takes ours between the probe
/// bind and nginx's own.
const PORT_ATTEMPTS: u32 = 5;

/// A running nginx serving one directory over HTTP and HTTPS on 127.0.0.1.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    http_port: u16,
    https_port: u16,
}

/// The nginx binary, installing Debian's package when there is none.
pub fn binary() -> Result<PathBuf, String> {
    if let Some(found) = find_binary() {
        return Ok(found);
    }
    eprintln!("xtask: nginx not found; installing Debian's nginx");
    apt_install(&["nginx"]).map_err(|e| {
        format!("nginx is required (loopback HTTP/HTTPS server) and could not be installed: {e}")
    })?;
    find_binary().ok_or_else(|| "`apt-get install nginx` ran but no nginx binary appeared".into())
}

fn find_binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    // Non-root PATHs often lack the sbin directories Debian puts nginx in.
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("nginx"))
        .find(|p| p.is_file())
}

impl Nginx {
    /// Starts `nginx` with its files under `dir` (created if needed), serving `www` on
    /// http://127.0.0.1:PORT/ and https://127.0.0.1:PORT/ with `pki`'s certificate.
    /// Returns once the server answers.
    pub fn start(nginx: &Path, dir: &Path, www: &Path, pki: &TestPki) -> Result<Nginx, String> {
        std::fs::create_dir_all(dir.join("tmp")).map_err(|e| format!("{}: {e}", dir.display()))?;
        let token = format!(
            "swarmget-probe-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let (http_port, https_port) = free_port_pair()?;
            let conf = dir.join("nginx.conf");
            std::fs::write(&conf, config(dir, www, pki, http_port, https_port, &token)?)
                .map_err(|e| format!("{}: {e}", conf.display()))?;
            let error_log = dir.join("error.log");
            let _ = std::fs::remove_file(&error_log);
            let out_path = dir.join("nginx.out");
            let out =
                File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
            let err = out.try_clone().map_err(|e| e.to_string())?;
            let mut prefix = dir.as_os_str().to_owned();
            prefix.push("/");
            let child = Command::new(nginx)
                .arg("-p")
                .arg(prefix)
                .arg("-e")
                .arg(&error_log)
                .arg("-c")
                .arg(&conf)
                .args(["-g", "daemon off;"])
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", nginx.display()))?;
            let mut server = Nginx {
                child,
                dir: dir.to_path_buf(),
                http_port,
                https_port,
            };
            match server.wait_ready(&token) {
                Ok(()) => return Ok(server),
                Err(e) => {
                    drop(server);
                    let logs = format!(
                        "{}{}",
                        std::fs::read_to_string(&error_log).unwrap_or_default(),
                        std::fs::read_to_string(&out_path).unwrap_or_default()
                    );
                    last_error = format!("nginx did not start: {e}\n{}", logs.trim());
                    if !logs.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        Err(last_error)
    }

    /// Polls until our nginx answers the probe on its HTTP port. All listening sockets are
    /// bound before nginx serves anything, so an answer means the HTTPS port is ours too.
    fn wait_ready(&mut self, token: &str) -> Result<(), String> {
        // nginx retries a busy port for a few seconds before giving up.
        let end = Instant::now() + Duration::from_secs(15);
        while Instant::now() < end {
            if let Some(status) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("it exited with {status}"));
            }
            if probe(self.http_port, token) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("it did not answer on 127.0.0.1 within 15 s".into())
    }

    /// `http://127.0.0.1:PORT/name` or its https twin.
    pub fn url(&self, tls: bool, name: &str) -> String {
        if tls {
            format!("https://127.0.0.1:{}/{name}", self.https_port)
        } else {
            format!("http://127.0.0.1:{}/{name}", self.http_port)
        }
    }

    /// The access log: `status bytes_sent "user agent" "request" "range"` per request.
    pub fn access_log(&self) -> PathBuf {
        self.dir.join("access.log")
    }

    /// The master process id (nginx forks its workers from it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // TERM is nginx's fast shutdown: the master stops its workers, then exits.
        signal(self.child.id(), "TERM");
        if let Ok(Some(_)) = wait_for(&mut self.child, Duration::from_secs(5)) {
            return;
        }
        // A master killed outright would orphan workers still holding the ports.
        let workers = children_of(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        for worker in workers {
            signal(worker, "KILL");
        }
    }
}

/// Two distinct ports the kernel just handed out for 127.0.0.1. nginx cannot listen on
/// port 0, so the listeners are closed again and the numbers passed on; a collision in
/// between shows up as nginx failing to bind, and `start` tries again.
fn free_port_pair() -> Result<(u16, u16), String> {
    let bind = || {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| Ok((l.local_addr()?.port(), l)))
            .map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))
    };
    let (a, _first) = bind()?;
    let (b, _second) = bind()?;
    Ok((a, b))
}

fn probe(port: u16, token: &str) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut reply = String::new();
    stream
        .write_all(b"GET /__swarmget_probe HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_ok()
        && stream.read_to_string(&mut reply).is_ok()
        && reply.contains(token)
}

fn config(
    dir: &Path,
    www: &Path,
    pki: &TestPki,
    http_port: u16,
    https_port: u16,
    token: &str,
) -> Result<String, String> {
    let q = |p: &Path| -> Result<String, String> {
        let s = p
            .to_str()
            .ok_or_else(|| format!("{}: not UTF-8, cannot go in nginx.conf", p.display()))?;
        if s.contains(['"', '\\', '$']) {
            return Err(format!(
                "{s}: quote, backslash or $ cannot go in nginx.conf"
            ));
        }
        Ok(format!("\"{s}\""))
    };
    let tmp = dir.join("tmp");
    let (tmp_body, tmp_proxy, tmp_fastcgi, tmp_uwsgi, tmp_scgi) = (
        q(&tmp.join("body"))?,
        q(&tmp.join("proxy"))?,
        q(&tmp.join("fastcgi"))?,
        q(&tmp.join("uwsgi"))?,
        q(&tmp.join("scgi"))?,
    );
    // As root the workers would drop to nobody, who may not be able to read the files;
    // anyone else keeps their own identity, and the directive would only draw a warning.
    let user = if is_root() { "user root root;" } else { "" };
    Ok(format!(
        r#"# Generated by cargo xtask; serves {www} on loopback only.
{user}
worker_processes auto;
pid {pid};
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    log_format swarmget '$status $body_bytes_sent "$http_user_agent" "$request" "$http_range"';
    access_log {access} swarmget;
    client_body_temp_path {tmp_body};
    proxy_temp_path {tmp_proxy};
    fastcgi_temp_path {tmp_fastcgi};
    uwsgi_temp_path {tmp_uwsgi};
    scgi_temp_path {tmp_scgi};
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{http_port};
        root {www};
        location = /__swarmget_probe {{ return 200 "{token}"; }}
    }}
    server {{
        listen 127.0.0.1:{https_port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        root {www};
    }}
}}
"#,
        www = q(www)?,
        pid = q(&dir.join("nginx.pid"))?,
        access = q(&dir.join("access.log"))?,
        cert = q(&pki.cert)?,
        key = q(&pki.key)?,
    ))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
