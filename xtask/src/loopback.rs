//! What the loopback servers (nginx, vsftpd, pyftpdlib) share: free ports, a token that
//! tells our own server from a stranger that took the same port, and waiting until the
//! server answers.

use std::net::{Ipv4Addr, TcpListener};
use std::process::Child;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How many times a server is restarted on new ports when another process takes ours
/// between the probe bind and the server's own.
pub const PORT_ATTEMPTS: u32 = 5;

/// How long a server may take to answer after it starts (nginx retries a busy port for a
/// few seconds before giving up).
const READY_LIMIT: Duration = Duration::from_secs(15);

/// `n` distinct ports the kernel just handed out for 127.0.0.1. Servers that cannot
/// listen on port 0 get the numbers after the listeners are closed again; a collision in
/// between shows up as the server failing to bind, and its `start` tries again.
pub fn free_ports(n: usize) -> Result<Vec<u16>, String> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("cannot bind 127.0.0.1:0: {e}"))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot read a bound port: {e}"))
}

/// `len` consecutive ports that are free on 127.0.0.1 now, below the kernel's ephemeral
/// range: ports for an FTP server's passive listeners, which no outgoing connection of
/// the downloader being tested can occupy there.
pub fn free_port_range(len: u16) -> Result<(u16, u16), String> {
    const LOWEST: u16 = 10_000;
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|t| t.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32_768);
    let span = ephemeral.saturating_sub(LOWEST).saturating_sub(len);
    if span == 0 {
        return Err(format!(
            "no room for {len} ports between {LOWEST} and the ephemeral range at {ephemeral}"
        ));
    }
    // Start somewhere new each attempt, so concurrent runs rarely pick the same range.
    let mut seed = u64::from(std::process::id()) ^ u64::from(nanos());
    for _ in 0..20 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let first = LOWEST + (seed >> 33) as u16 % span;
        let last = first + len - 1;
        if (first..=last).all(|p| TcpListener::bind((Ipv4Addr::LOCALHOST, p)).is_ok()) {
            return Ok((first, last));
        }
    }
    Err(format!(
        "found no {len} free consecutive ports on 127.0.0.1 below {ephemeral}"
    ))
}

/// A string no other server would answer with: our process id and the time.
pub fn token() -> String {
    format!("swarmget-probe-{}-{}", std::process::id(), nanos())
}

fn nanos() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos())
}

/// Polls `probe` until it succeeds, failing as soon as `child` exits or after 15 s.
pub fn wait_ready(child: &mut Child, probe: impl Fn() -> bool) -> Result<(), String> {
    let end = Instant::now() + READY_LIMIT;
    while Instant::now() < end {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("it exited with {status}"));
        }
        if probe() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "it did not answer on 127.0.0.1 within {} s",
        READY_LIMIT.as_secs()
    ))
}
