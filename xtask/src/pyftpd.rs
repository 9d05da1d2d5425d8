//! pyftpdlib (Debian's python3-pyftpdlib) on loopback, owned by this process: one
//! directory served read-only to one user with a random password, and the server
//! stopped on drop. A second FTP implementation beside vsftpd, with other replies,
//! other passive ports (the kernel's) and other timing.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::child::stop;
use crate::cmd::apt_install;
use crate::loopback::{PORT_ATTEMPTS, free_ports, token, wait_ready};

/// Debian's interpreter: a `python3` earlier on PATH (pyenv, a venv) lacks the module.
const PYTHON: &str = "/usr/bin/python3";
/// The account the server knows; its password is a fresh token per start.
pub const USER: &str = "swarmget";

/// A running pyftpdlib serving one directory on 127.0.0.1.
pub struct PyFtpd {
    child: Child,
    port: u16,
    password: String,
}

impl PyFtpd {
    /// Installs python3-pyftpdlib when missing, then starts it with its output in
    /// `dir` (created if needed), serving `www` on ftp://127.0.0.1:PORT/ to [`USER`].
    /// Returns once the server accepts that user's login.
    pub fn start(dir: &Path, www: &Path) -> Result<PyFtpd, String> {
        apt_install(&["python3-pyftpdlib"]).map_err(|e| {
            format!("pyftpdlib is required (loopback FTP server) and could not be installed: {e}")
        })?;
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        // The password is what tells our server from another on the same port.
        let password = token();
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_ports(1)?[0];
            let out_path = dir.join("pyftpdlib.log");
            let out =
                File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
            let err = out.try_clone().map_err(|e| e.to_string())?;
            // Read-only (no -w); with -u only that user may log in.
            let child = Command::new(PYTHON)
                .args([
                    "-m",
                    "pyftpdlib",
                    "-i",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .arg("-d")
                .arg(www)
                .args(["-u", USER, "-P", &password])
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .map_err(|e| format!("cannot start {PYTHON} -m pyftpdlib: {e}"))?;
            let mut server = PyFtpd {
                child,
                port,
                password: password.clone(),
            };
            match wait_ready(&mut server.child, || probe(port, &password)) {
                Ok(()) => return Ok(server),
                Err(e) => {
                    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
                    last_error = format!("pyftpdlib did not start: {e}\n{}", output.trim());
                    drop(server);
                    if !output.contains("Address already in use") {
                        break;
                    }
                }
            }
        }
        Err(last_error)
    }

    /// `ftp://127.0.0.1:PORT/name`, without credentials.
    pub fn url(&self, name: &str) -> String {
        format!("ftp://127.0.0.1:{}/{name}", self.port)
    }

    /// [`USER`]'s password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl Drop for PyFtpd {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Logs in on `port` as [`USER`] with `password`.
fn probe(port: u16, password: &str) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(&stream);
    let mut writer = &stream;
    // One reply per step; pyftpdlib's are single lines.
    let mut expect = |code: &str| {
        let mut line = String::new();
        reader.read_line(&mut line).is_ok() && line.starts_with(code)
    };
    let ok = expect("220")
        && writer
            .write_all(format!("USER {USER}\r\n").as_bytes())
            .is_ok()
        && expect("331")
        && writer
            .write_all(format!("PASS {password}\r\n").as_bytes())
            .is_ok()
        && expect("230");
    let _ = writer.write_all(b"QUIT\r\n");
    ok
}
