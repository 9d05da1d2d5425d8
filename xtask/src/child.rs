//! Child processes with a deadline: a hung downloader or server fails the run instead of
//! stalling CI, and a server stopped with everything it forked.

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

/// Every process below `pid`: its children, their children, and so on.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut found = children_of(pid);
    let mut i = 0;
    while let Some(&p) = found.get(i) {
        found.extend(children_of(p));
        i += 1;
    }
    found
}

/// The command name of `pid` (Linux /proc), empty once it is gone.
fn command_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

/// Stops a server started as `child`: TERM, up to 5 s to exit, then KILL. The processes
/// it had forked (nginx's workers, vsftpd's sessions) are killed too if they outlive it,
/// so none keeps a port or a file open; each only while it still has the name it had,
/// in case its number was reused.
pub fn stop(child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let forks: Vec<(u32, String)> = descendants(child.id())
        .into_iter()
        .map(|pid| (pid, command_name(pid)))
        .collect();
    signal(child.id(), "TERM");
    if !matches!(wait_for(child, Duration::from_secs(5)), Ok(Some(_))) {
        let _ = child.kill();
        let _ = child.wait();
    }
    for (pid, name) in forks {
        if !name.is_empty() && command_name(pid) == name {
            signal(pid, "KILL");
        }
    }
}
