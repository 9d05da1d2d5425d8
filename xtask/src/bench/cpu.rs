//! CPU time spent outside the measured client during a run, read from /proc: the
//! server's (nginx's master and workers, vsftpd's listener and session processes) and
//! everyone else's, which is the noise on a shared machine. Both matter on two cores,
//! where the server competes with the client.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::child::descendants;

/// How often the server's processes are read during a run.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// How long a server may take to end the processes it forked for a client that exited.
const SETTLE_LIMIT: Duration = Duration::from_secs(5);

/// Ticks of each process, by pid.
type Ticks = HashMap<u32, u64>;

/// Measures one run: started before the client, finished after it. Several servers
/// (`bench metalink`'s nginx and vsftpd) count as one.
///
/// The server's processes are read every 10 ms from a thread of their own, and each
/// one's ticks as last seen are kept after it ends. A parent's counters for children it
/// waited for would not do: vsftpd's session processes often exit before anyone waits
/// for them, and their time is then nobody's.
pub struct Meter {
    servers: Vec<u32>,
    /// Non-idle ticks of the whole machine, all CPUs, at the start.
    machine: u64,
    /// The server's processes and their ticks at the start.
    base: Ticks,
    stop: Arc<AtomicBool>,
    sampler: JoinHandle<Ticks>,
}

impl Meter {
    /// Starts measuring; `servers` are the servers' main process ids.
    pub fn start(servers: &[u32]) -> Meter {
        let servers = servers.to_vec();
        let base = server_ticks(&servers);
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let stop = Arc::clone(&stop);
            let mut seen = base.clone();
            let servers = servers.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    seen.extend(server_ticks(&servers));
                    std::thread::sleep(SAMPLE_EVERY);
                }
                seen
            })
        };
        Meter {
            servers,
            machine: machine_busy_ticks(),
            base,
            stop,
            sampler,
        }
    }

    /// Once the processes the server forked for the run have ended (or after 5 s):
    /// the seconds of CPU the server used, and those everything else used apart from
    /// the server and `client_cpu` (the measured client's own seconds).
    pub fn finish(self, client_cpu: f64) -> (f64, f64) {
        let end = Instant::now() + SETTLE_LIMIT;
        while Instant::now() < end
            && self
                .servers
                .iter()
                .flat_map(|&s| descendants(s))
                .any(|pid| !self.base.contains_key(&pid))
        {
            std::thread::sleep(SAMPLE_EVERY);
        }
        let machine = machine_busy_ticks();
        self.stop.store(true, Ordering::Relaxed);
        let mut seen = self.sampler.join().unwrap_or_default();
        seen.extend(server_ticks(&self.servers));
        let server: u64 = seen
            .iter()
            .map(|(pid, &ticks)| ticks.saturating_sub(self.base.get(pid).copied().unwrap_or(0)))
            .sum();
        let hz = ticks_per_second();
        let server = server as f64 / hz;
        let machine = machine.saturating_sub(self.machine) as f64 / hz;
        (server, (machine - server - client_cpu).max(0.0))
    }
}

/// The ticks of each server process and of each of their descendants now.
fn server_ticks(servers: &[u32]) -> Ticks {
    servers
        .iter()
        .flat_map(|&s| std::iter::once(s).chain(descendants(s)))
        .filter_map(|pid| Some((pid, process_ticks(pid)?)))
        .collect()
}

/// USER_HZ, the unit of /proc's tick counts (100 on every common Linux build).
fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|&hz: &f64| hz > 0.0)
        .unwrap_or(100.0)
}

/// user + nice + system + irq + softirq + steal from the `cpu` line of /proc/stat.
fn machine_busy_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0;
    };
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal
    [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| f.get(i)).sum()
}

/// utime + stime of one process from /proc/PID/stat; `None` once it is gone.
fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses; the fields after the last ')'
    // start with the state (field 3), so utime (14) and stime (15) are at 11 and 12.
    let (_, rest) = stat.rsplit_once(')')?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i)?.parse::<u64>().ok();
    Some(ticks(11)? + ticks(12)?)
}
