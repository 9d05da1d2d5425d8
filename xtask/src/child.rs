//! Child processes with a deadline: a hung downloader or server fails the run instead of
//! stalling CI.

use std::io;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Waits for `child` up to `limit`; `None` if it is still running then.
pub fn wait_for(child: &mut Child, limit: Duration) -> io::Result<Option<ExitStatus>> {
    let end = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= end {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child` up to `limit`; past it the child is killed and `None` returned.
pub fn wait_or_kill(child: &mut Child, limit: Duration) -> io::Result<Option<ExitStatus>> {
    let status = wait_for(child, limit)?;
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    Ok(status)
}

/// Sends signal `name` (`TERM`, `KILL`, ...) to `pid` through the shell's `kill` builtin,
/// which every Debian has even without procps.
pub fn signal(pid: u32, name: &str) {
    let _ = Command::new("sh")
        .args(["-c", &format!("kill -{name} {pid} 2>/dev/null")])
        .status();
}

/// The direct children of `pid` (Linux /proc), e.g. nginx's workers.
pub fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}
