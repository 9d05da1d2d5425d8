//! Debian's nginx on loopback, owned by this process: configuration, logs and pid file in
//! a directory of ours, free ports picked at start, and the server stopped on drop, so
//! neither a failing check nor a panic leaves it running.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::child::stop;
use crate::cmd::{is_root, program_or_install};
use crate::loopback::{PORT_ATTEMPTS, free_ports, token, wait_ready};
use crate::tls::TestPki;

/// A running nginx serving one directory over HTTP and HTTPS on 127.0.0.1.
pub struct Nginx {
    child: Child,
    dir: PathBuf,
    http_port: u16,
    https_port: u16,
}

/// The nginx binary, installing Debian's package when there is none.
pub fn binary() -> Result<PathBuf, String> {
    program_or_install("nginx", "nginx", "loopback HTTP/HTTPS server")
}

impl Nginx {
    /// Starts `nginx` with its files under `dir` (created if needed), serving `www` on
    /// http://127.0.0.1:PORT/ and https://127.0.0.1:PORT/ with `pki`'s certificate.
    /// Returns once the server answers.
    pub fn start(nginx: &Path, dir: &Path, www: &Path, pki: &TestPki) -> Result<Nginx, String> {
        std::fs::create_dir_all(dir.join("tmp")).map_err(|e| format!("{}: {e}", dir.display()))?;
        let token = token();
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let ports = free_ports(2)?;
            let (http_port, https_port) = (ports[0], ports[1]);
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
            // All listening sockets are bound before nginx serves anything, so an answer
            // on the HTTP port means the HTTPS port is ours too.
            match wait_ready(&mut server.child, || probe(http_port, &token)) {
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

    /// `http://127.0.0.1:PORT/name` or its https twin.
    pub fn url(&self, tls: bool, name: &str) -> String {
        if tls {
            format!("https://127.0.0.1:{}/{name}", self.https_port)
        } else {
            format!("http://127.0.0.1:{}/{name}", self.http_port)
        }
    }

    /// The access log: `status bytes_sent "user agent" "request" "range"` per request,
    /// read by [`sent_spans`].
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
        // TERM is nginx's fast shutdown: the master stops its workers, then exits. A
        // master killed outright would orphan workers still holding the ports, which
        // `stop` kills as well.
        stop(&mut self.child);
    }
}

/// The byte ranges `[start, end)` of `/name` that requests with user agent `agent` were
/// sent, one per request, from the access log's text. A request without a Range header
/// starts at 0; an open-ended range counts only what was sent. The error is the line
/// that could not be read.
pub fn sent_spans(log: &str, name: &str, agent: &str) -> Result<Vec<(u64, u64)>, String> {
    let get = format!("GET /{name} ");
    let mut spans = Vec::new();
    for line in log.lines() {
        // status bytes "agent" "request" "range"
        let fields: Vec<&str> = line.split('"').collect();
        if fields.get(1) != Some(&agent) || !fields.get(3).is_some_and(|r| r.starts_with(&get)) {
            continue;
        }
        let unreadable = || line.to_string();
        let sent: u64 = fields[0]
            .split_whitespace()
            .nth(1)
            .and_then(|b| b.parse().ok())
            .ok_or_else(unreadable)?;
        // "-" (no Range header) starts at 0; "bytes=A-" and "bytes=A-B" at A.
        let start: u64 = match fields.get(5).and_then(|r| r.strip_prefix("bytes=")) {
            Some(range) => range
                .split('-')
                .next()
                .and_then(|a| a.parse().ok())
                .ok_or_else(unreadable)?,
            None => 0,
        };
        spans.push((start, start + sent));
    }
    Ok(spans)
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

#[cfg(test)]
mod tests {
    use super::sent_spans;

    #[test]
    fn spans_start_at_the_range_and_run_for_the_bytes_sent() {
        let log = "\
206 4160217 \"b\" \"GET /big.bin HTTP/1.1\" \"bytes=0-\"
206 100 \"a\" \"GET /big.bin HTTP/1.1\" \"bytes=0-\"
206 2097152 \"b\" \"GET /big.bin HTTP/1.1\" \"bytes=19922944-22020095\"
200 10 \"b\" \"GET /small.bin HTTP/1.1\" \"-\"
";
        assert_eq!(
            sent_spans(log, "big.bin", "b"),
            Ok(vec![(0, 4160217), (19922944, 22020096)])
        );
        assert_eq!(sent_spans(log, "big.bin", "a"), Ok(vec![(0, 100)]));
        assert_eq!(sent_spans(log, "small.bin", "b"), Ok(vec![(0, 10)]));
        assert_eq!(sent_spans(log, "big.bin", "nobody"), Ok(vec![]));
    }

    #[test]
    fn spans_reject_a_line_without_a_byte_count() {
        let line = "206 - \"b\" \"GET /big.bin HTTP/1.1\" \"bytes=0-\"";
        assert_eq!(sent_spans(line, "big.bin", "b"), Err(line.to_string()));
    }
}
