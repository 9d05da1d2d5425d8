//! Debian's vsftpd on loopback, owned by this process: anonymous read-only FTP of one
//! directory, configuration and log in a directory of ours, a free control port and a
//! free passive range picked at start, and the server (with its session processes)
//! stopped on drop.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::child::{children_of, stop};
use crate::cmd::{is_root, program_or_install};
use crate::loopback::{PORT_ATTEMPTS, free_port_range, free_ports, token, wait_ready};

/// Passive ports: enough that eight connections starting transfer after transfer never
/// wait for one.
const PASV_PORTS: u16 = 100;

/// A running vsftpd serving one directory anonymously on 127.0.0.1.
pub struct Vsftpd {
    child: Child,
    dir: PathBuf,
    port: u16,
}

/// The vsftpd binary, installing Debian's package when there is none.
pub fn binary() -> Result<PathBuf, String> {
    program_or_install("vsftpd", "vsftpd", "loopback FTP server")
}

impl Vsftpd {
    /// Starts `vsftpd` with its files under `dir` (created if needed), serving `www` on
    /// ftp://127.0.0.1:PORT/ to anonymous users. Returns once the server answers.
    pub fn start(vsftpd: &Path, dir: &Path, www: &Path) -> Result<Vsftpd, String> {
        let empty = dir.join("empty");
        std::fs::create_dir_all(&empty).map_err(|e| format!("{}: {e}", empty.display()))?;
        share(www)?;
        let token = token();
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_ports(1)?[0];
            let pasv = free_port_range(PASV_PORTS)?;
            let conf = dir.join("vsftpd.conf");
            write_private(&conf, &config(dir, www, port, pasv, &token)?)?;
            let out_path = dir.join("vsftpd.out");
            let out =
                File::create(&out_path).map_err(|e| format!("{}: {e}", out_path.display()))?;
            let err = out.try_clone().map_err(|e| e.to_string())?;
            let child = Command::new(vsftpd)
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", vsftpd.display()))?;
            let mut server = Vsftpd {
                child,
                dir: dir.to_path_buf(),
                port,
            };
            match wait_ready(&mut server.child, || probe(port, &token)) {
                Ok(()) => return Ok(server),
                Err(e) => {
                    drop(server);
                    let output = std::fs::read_to_string(&out_path).unwrap_or_default();
                    last_error = format!("vsftpd did not start: {e}\n{}", output.trim());
                    // "500 OOPS: could not bind listening IPv4 socket"
                    if !output.contains("could not bind") {
                        break;
                    }
                }
            }
        }
        Err(last_error)
    }

    /// `ftp://127.0.0.1:PORT/name`.
    pub fn url(&self, name: &str) -> String {
        format!("ftp://127.0.0.1:{}/{name}", self.port)
    }

    /// The log: every command and reply, and a line per transfer, read by [`sent_spans`].
    pub fn log(&self) -> PathBuf {
        self.dir.join("vsftpd.log")
    }

    /// The listener's process id (each session is a process forked from it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits up to `limit` until no session is left, so everything the clients that
    /// already exited did is in the log.
    pub fn idle(&self, limit: Duration) -> Result<(), String> {
        let end = Instant::now() + limit;
        while !children_of(self.pid()).is_empty() {
            if Instant::now() >= end {
                return Err(format!(
                    "vsftpd still has sessions {} s after their clients ended",
                    limit.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

impl Drop for Vsftpd {
    fn drop(&mut self) {
        // The sessions are processes of their own that outlive the listener unless
        // killed as well; `stop` does both.
        stop(&mut self.child);
    }
}

/// The byte ranges `[start, end)` of `/name` that vsftpd sent, one per transfer, from
/// the log's text: a transfer starts where the session's last `REST` before its `RETR`
/// said (0 without one) and runs for the bytes its `OK DOWNLOAD` or `FAIL DOWNLOAD` line
/// counts (none: empty). The error is the line that could not be read.
pub fn sent_spans(log: &str, name: &str) -> Result<Vec<(u64, u64)>, String> {
    let suffix = format!("/{name}");
    // Per session process: the offset of the last REST, and that of the running RETR.
    let mut rest: HashMap<&str, u64> = HashMap::new();
    let mut retr: HashMap<&str, u64> = HashMap::new();
    let mut spans = Vec::new();
    for line in log.lines() {
        let unreadable = || line.to_string();
        let Some(pid) = line
            .split_once("[pid ")
            .and_then(|(_, rest)| rest.split_once(']'))
            .map(|(pid, _)| pid)
        else {
            continue;
        };
        // ... FTP command: Client "127.0.0.1", "REST 1048576"
        // ... OK DOWNLOAD: Client "127.0.0.1", "/big.bin", 1048576 bytes, 9.20Kbyte/sec
        let fields: Vec<&str> = line.split('"').collect();
        if line.contains("] FTP command: Client ") {
            let command = fields.get(3).ok_or_else(unreadable)?;
            if let Some(offset) = command.strip_prefix("REST ") {
                rest.insert(pid, offset.trim().parse().map_err(|_| unreadable())?);
            } else if command.starts_with("RETR ") {
                retr.insert(pid, rest.remove(pid).unwrap_or(0));
            }
        } else if line.contains(" DOWNLOAD: Client ") {
            let path = fields.get(3).ok_or_else(unreadable)?;
            let start = retr.remove(pid).unwrap_or(0);
            if !path.ends_with(&suffix) {
                continue;
            }
            // ", 1048576 bytes, 9.20Kbyte/sec"; a RETR that never opened the file has no
            // byte count: ", 0.00Kbyte/sec".
            let tail = fields.get(4).ok_or_else(unreadable)?;
            let sent: u64 = match tail.split(", ").find_map(|f| f.strip_suffix(" bytes")) {
                Some(count) => count.trim().parse().map_err(|_| unreadable())?,
                None => 0,
            };
            spans.push((start, start + sent));
        }
    }
    Ok(spans)
}

/// Makes `www` and the files in it readable by everyone: vsftpd serves them as its
/// unprivileged `ftp_username`, and only world-readable files to anonymous users.
fn share(www: &Path) -> Result<(), String> {
    let chmod = |path: &Path, mode: u32| -> Result<(), String> {
        let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut perms = meta.permissions();
        perms.set_mode(perms.mode() | mode);
        std::fs::set_permissions(path, perms).map_err(|e| format!("{}: {e}", path.display()))
    };
    chmod(www, 0o755)?;
    let entries = std::fs::read_dir(www).map_err(|e| format!("{}: {e}", www.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_file() {
            chmod(&path, 0o644)?;
        }
    }
    Ok(())
}

/// vsftpd refuses a configuration file that is not owned by the user who starts it; it
/// also holds nothing anyone else needs to read.
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    let result = (|| {
        let mut file = File::create(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(text.as_bytes())
    })();
    result.map_err(|e| format!("{}: {e}", path.display()))
}

/// Answers with our banner on `port`.
fn probe(port: u16, token: &str) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut banner = String::new();
    let ok = BufReader::new(&stream).read_line(&mut banner).is_ok()
        && banner.starts_with("220 ")
        && banner.contains(token);
    let _ = stream.write_all(b"QUIT\r\n");
    ok
}

fn config(
    dir: &Path,
    www: &Path,
    port: u16,
    (pasv_min, pasv_max): (u16, u16),
    token: &str,
) -> Result<String, String> {
    // A value runs to the end of its line, unquoted.
    let v = |p: &Path| -> Result<String, String> {
        p.to_str()
            .filter(|s| !s.contains(['\n', '\r']))
            .map(str::to_string)
            .ok_or_else(|| format!("{}: cannot go in vsftpd.conf", p.display()))
    };
    // vsftpd needs an existing unprivileged user to serve anonymous sessions as, and
    // must be root to switch to it; anyone else serves as themselves.
    let identity = if is_root() {
        let user = if user_exists("ftp") { "ftp" } else { "nobody" };
        format!("ftp_username={user}")
    } else {
        "run_as_launching_user=YES".into()
    };
    Ok(format!(
        "# Generated by cargo xtask; serves {www} read-only on loopback only.
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port={port}
background=NO
{identity}
anonymous_enable=YES
anon_root={www}
anon_world_readable_only=YES
local_enable=NO
write_enable=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port={pasv_min}
pasv_max_port={pasv_max}
port_enable=YES
connect_from_port_20=NO
secure_chroot_dir={empty}
use_sendfile=YES
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
max_clients=200
max_per_ip=200
idle_session_timeout=60
data_connection_timeout=60
dirmessage_enable=NO
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
vsftpd_log_file={log}
ftpd_banner={token}
",
        www = v(www)?,
        empty = v(&dir.join("empty"))?,
        log = v(&dir.join("vsftpd.log"))?,
    ))
}

fn user_exists(name: &str) -> bool {
    Command::new("id")
        .arg(name)
        .output()
        .is_ok_and(|o| o.status.success())
}

#[cfg(test)]
mod tests {
    use super::sent_spans;

    const LOG: &str = r#"Sun Nov 22 02:03:41 2026 [pid 11] [ftp] FTP command: Client "127.0.0.1", "RETR big.bin"
Sun Nov 22 02:03:41 2026 [pid 11] [ftp] FTP command: Client "127.0.0.1", "REST 13631488"
Sun Nov 22 02:03:41 2026 [pid 12] [ftp] FTP command: Client "127.0.0.1", "REST 4096"
Sun Nov 22 02:03:41 2026 [pid 11] [ftp] FAIL DOWNLOAD: Client "127.0.0.1", "/big.bin", 9684408 bytes, 790622.78Kbyte/sec
Sun Nov 22 02:03:41 2026 [pid 12] [ftp] FTP command: Client "127.0.0.1", "RETR small.bin"
Sun Nov 22 02:03:41 2026 [pid 11] [ftp] FTP command: Client "127.0.0.1", "RETR big.bin"
Sun Nov 22 02:03:41 2026 [pid 12] [ftp] OK DOWNLOAD: Client "127.0.0.1", "/small.bin", 100 bytes, 9.00Kbyte/sec
Sun Nov 22 02:03:42 2026 [pid 11] [ftp] OK DOWNLOAD: Client "127.0.0.1", "/srv/www/big.bin", 6368512 bytes, 1863761.47Kbyte/sec
Sun Nov 22 02:03:42 2026 [pid 11] [ftp] FTP command: Client "127.0.0.1", "RETR big.bin"
Sun Nov 22 02:03:42 2026 [pid 11] [ftp] FAIL DOWNLOAD: Client "127.0.0.1", "/big.bin", 10 bytes, 0.01Kbyte/sec
Sun Nov 22 02:03:42 2026 [pid 11] [ftp] FTP command: Client "127.0.0.1", "RETR big.bin"
Sun Nov 22 02:03:42 2026 [pid 11] [ftp] FAIL DOWNLOAD: Client "127.0.0.1", "/big.bin", 0.00Kbyte/sec
"#;

    #[test]
    fn a_transfer_starts_at_the_rest_before_its_retr() {
        assert_eq!(
            sent_spans(LOG, "big.bin"),
            // The first RETR had no REST; the REST after it belongs to the second; the
            // third starts from 0 again; the fourth sent nothing.
            Ok(vec![
                (0, 9684408),
                (13631488, 13631488 + 6368512),
                (0, 10),
                (0, 0)
            ])
        );
        assert_eq!(sent_spans(LOG, "small.bin"), Ok(vec![(4096, 4196)]));
        assert_eq!(sent_spans(LOG, "other.bin"), Ok(vec![]));
    }

    #[test]
    fn a_transfer_line_without_a_byte_count_is_an_error() {
        let line = r#"Sun Nov 22 02:03:42 2026 [pid 11] [ftp] OK DOWNLOAD: Client "127.0.0.1", "/big.bin", many bytes, 1.00Kbyte/sec"#;
        assert_eq!(sent_spans(line, "big.bin"), Err(line.to_string()));
    }
}
