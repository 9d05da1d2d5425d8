//! What every integration test of the `swarmget` binary needs: a scratch directory,
//! a way to run the real binary with a time limit, and checks on what it left on disk.
//!
//! Each test file is its own crate and uses only part of this module.
#![allow(dead_code)]

pub mod daemon;

use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use swarmget_engine::bitfield::Bitfield;
use swarmget_engine::control::{ControlState, control_path};
use swarmget_test_support::sha256_hex;

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory whose name says which test made it.
    pub fn new(test: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let path =
            std::env::temp_dir().join(format!("swarmget-cli-{test}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `name` inside the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// The directory as a string argument.
    pub fn arg(&self) -> String {
        self.0.display().to_string()
    }

    /// The names of the files in the directory, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read temp dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `swarmget` binary, isolated from the user's configuration: `HOME` points at
/// `home`, so no `~/.aria2/aria2.conf` or `~/.config/aria2/aria2.conf` is read.
pub fn swarmget(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_swarmget"));
    cmd.env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .stdin(Stdio::null());
    // The machine's proxy settings must not change what a test sees.
    for var in [
        "http_proxy",
        "https_proxy",
        "ftp_proxy",
        "all_proxy",
        "no_proxy",
    ] {
        cmd.env_remove(var).env_remove(var.to_ascii_uppercase());
    }
    cmd
}

/// What a finished run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` if a signal ended it).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// Panics with both outputs unless the run exited with `code`.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit code {code}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `cmd` to the end, with piped output, killing it (and failing the test) if it
/// is still running after `limit`.
#[track_caller]
pub fn run(cmd: &mut Command, limit: Duration) -> Run {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn swarmget");
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let status = wait_for(&mut child, limit);
    let stdout = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    match status {
        Some(status) => Run {
            code: status.code(),
            stdout,
            stderr,
        },
        None => panic!(
            "swarmget still running after {limit:?}: {cmd:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}"
        ),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits up to `limit` for `child`; on timeout kills it, reaps it and returns `None`.
pub fn wait_for(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        thread::sleep(Duration::from_millis(5));
    }
}

/// Sends `signal` to `child` (which must not have been reaped yet).
pub fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    // SAFETY: kill(2) with the pid of a child we spawned and have not reaped, so the
    // pid cannot have been reused by another process.
    let rc = unsafe { libc::kill(pid, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal}) failed");
}

/// Asserts that `path` holds exactly `expected` and that no control file is left.
#[track_caller]
pub fn assert_download(path: &Path, expected: &[u8]) {
    let got = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        got.len(),
        expected.len(),
        "{}: wrong length",
        path.display()
    );
    assert_eq!(
        sha256_hex(&got),
        sha256_hex(expected),
        "{}: wrong bytes",
        path.display()
    );
    let control = control_path(path);
    assert!(
        !control.exists(),
        "control file {} left behind",
        control.display()
    );
}

/// Reads the control file beside `path` (if any) and checks that every piece it
/// claims, and every written range it records, is on disk with the right bytes. Returns the pieces it claims, or `None`
/// when there is no control file.
#[track_caller]
pub fn check_control(path: &Path, source: &[u8], piece_len: u64) -> Option<Bitfield> {
    check_control_with(path, source, piece_len, Partial::Trusted)
}

/// What a resume does with bytes the control file records as written outside counted
/// pieces.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Partial {
    /// Keeps them (no piece hashes): they must be the source's bytes.
    Trusted,
    /// Hashes them again (chunk checksums): they may be a bad mirror's bytes still
    /// waiting for their piece's verdict, and need only lie inside the file.
    Rehashed,
}

/// [`check_control`] for a download whose partial bytes are handled as `partial` says.
#[track_caller]
pub fn check_control_with(
    path: &Path,
    source: &[u8],
    piece_len: u64,
    partial: Partial,
) -> Option<Bitfield> {
    let bytes = match std::fs::read(control_path(path)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("reading control file: {e}"),
    };
    let record = ControlState::decode(&bytes)
        .unwrap_or_else(|e| panic!("control file of {} is unreadable: {e}", path.display()));
    assert_eq!(record.total_len, source.len() as u64, "control file total");
    assert_eq!(record.piece_len, piece_len, "control file piece length");
    let on_disk = std::fs::read(path).unwrap_or_default();
    for piece in 0..record.verified.len() {
        if !record.verified.get(piece) {
            continue;
        }
        let start = piece * piece_len as usize;
        let end = (start + piece_len as usize).min(source.len());
        let got = on_disk.get(start..end);
        assert!(
            got == Some(&source[start..end]),
            "control file claims piece {piece} ({start}..{end}) but the file holds {}",
            match got {
                None => format!("only {} bytes", on_disk.len()),
                Some(_) => "different bytes".to_string(),
            }
        );
    }
    // Bytes recorded as written outside counted pieces are kept on resume: they
    // must be the source's bytes too.
    for range in &record.partial {
        let (start, end) = (range.start as usize, range.end as usize);
        assert!(
            end <= source.len(),
            "control file records bytes {start}..{end} past the end"
        );
        assert!(
            partial == Partial::Rehashed || on_disk.get(start..end) == Some(&source[start..end]),
            "control file claims bytes {start}..{end} written, but the file differs"
        );
    }
    Some(record.verified)
}

/// A loopback port that refuses every connection for as long as this is held.
///
/// The port is the local end of a connection the test keeps open: nothing listens on it,
/// so a connect gets a reset (connection refused), and while the connection holds the
/// port no other test can bind it and start listening there, as could happen to a
/// port that was bound and released, or to a well-known one like 9.
pub struct RefusingPort {
    port: u16,
    _ends: (TcpStream, TcpStream),
}

impl RefusingPort {
    pub fn new() -> RefusingPort {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
        let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
        let (server, _) = listener.accept().expect("accept");
        // The listener goes; its port is not the one handed out.
        RefusingPort {
            port: client.local_addr().unwrap().port(),
            _ends: (client, server),
        }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// What a run on a terminal printed: everything the child wrote to its standard output
/// (a pseudo-terminal `cols` wide), escape sequences and carriage returns included.
pub struct TtyRun {
    /// The exit code (`None` if a signal ended it).
    pub code: Option<i32>,
    /// The terminal's bytes, lossily decoded.
    pub output: String,
    /// Standard error (a pipe), lossily decoded.
    pub stderr: String,
}

/// Runs `cmd` with its standard output on a new pseudo-terminal of `cols` columns, so
/// it draws what a person at a terminal sees; fails the test after `limit`.
#[track_caller]
pub fn run_on_tty(mut cmd: Command, cols: u16, limit: Duration) -> TtyRun {
    use std::os::fd::{FromRawFd, OwnedFd};
    let size = libc::winsize {
        ws_row: 24,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors we then own; the name buffer may be null.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty failed: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned nowhere else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    cmd.stdout(Stdio::from(slave)).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn swarmget");
    // The slave's last copy in this process goes with the command, so the master
    // reads EIO (the end) once the child exits.
    drop(cmd);
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let output = drain(std::fs::File::from(master));
    let status = wait_for(&mut child, limit);
    let output = output.join().expect("tty reader");
    let stderr = stderr.join().expect("stderr reader");
    let Some(status) = status else {
        panic!(
            "swarmget still running after {limit:?}\n--- tty ---\n{output}\n--- stderr ---\n{stderr}"
        );
    };
    TtyRun {
        code: status.code(),
        output,
        stderr,
    }
}
