//! `-D/--daemon` and `--stop-with-process`: how the process lives beside others.
//!
//! [`detach`] forks, so it must run while the process has one thread: before the
//! engine starts. The daemon binds and announces its RPC listeners first, so the
//! parent reports a port in use and exits 0 only once the daemon is listening.
//! Unlike aria2 (which changes to `/`), the working directory stays, so relative
//! paths from the command line (`-d`, `--save-session`, hooks) keep their meaning.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use swarmget_engine::Interrupter;

/// Detaches: the parent exits 0 here; the child returns in a new session, with
/// standard input, output and error on `/dev/null`.
pub fn detach() -> Result<(), String> {
    let threads = std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(1);
    if threads != 1 {
        // fork copies only the calling thread: the others' work would be lost.
        return Err(format!(
            "cannot run as a daemon: {threads} threads are running"
        ));
    }
    let null = std::fs::File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| format!("cannot open /dev/null: {e}"))?;
    use std::io::Write;
    let _ = io::stdout().flush();
    let _ = io::stderr().flush();
    // SAFETY: the process has one thread (checked above), so the child is a whole copy.
    match unsafe { libc::fork() } {
        -1 => Err(format!("cannot fork: {}", io::Error::last_os_error())),
        0 => {
            // SAFETY: plain system calls on descriptors this process owns.
            unsafe {
                libc::setsid();
                for fd in 0..3 {
                    libc::dup2(null.as_raw_fd(), fd);
                }
            }
            Ok(())
        }
        // SAFETY: _exit ends the parent without running the child's shared state down.
        _ => unsafe { libc::_exit(0) },
    }
}

/// `--stop-with-process=PID`: once a second, whether `pid` still runs; when it is
/// gone, `interrupter` stops the engine as SIGTERM would (aria2 checks as often).
pub fn stop_with_process(pid: u32, interrupter: Interrupter) {
    let watch = move || {
        while alive(pid) {
            std::thread::sleep(Duration::from_secs(1));
        }
        eprintln!("swarmget: process {pid} is gone (--stop-with-process): stopping");
        interrupter.interrupt();
    };
    if let Err(e) = std::thread::Builder::new()
        .name("stop-with-process".into())
        .spawn(watch)
    {
        eprintln!("swarmget: --stop-with-process: {e}");
    }
}

fn alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    // EPERM: it exists, owned by someone else.
    r == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}
