//! CPU time spent outside the measured client during a run, read from /proc: the
//! server's (nginx's master and workers) and everyone else's, which is the noise on a
//! shared machine. Both matter on two cores, where the server competes with the client.

use std::process::Command;

use crate::child::children_of;

/// Cumulative CPU ticks at one instant.
#[derive(Clone, Copy)]
pub struct Snapshot {
    /// Non-idle ticks of the whole machine, all CPUs.
    machine: u64,
    /// User + system ticks of the server process and its children.
    server: u64,
}

impl Snapshot {
    /// Reads the counters now; `server` is the nginx master's pid.
    pub fn take(server: u32) -> Snapshot {
        let server = std::iter::once(server)
            .chain(children_of(server))
            .map(process_ticks)
            .sum();
        Snapshot {
            machine: machine_busy_ticks(),
            server,
        }
    }

    /// Seconds of CPU the server used since `earlier`, and the seconds everything else
    /// used apart from the server and `client_cpu` (the measured client's own seconds).
    pub fn since(&self, earlier: &Snapshot, client_cpu: f64) -> (f64, f64) {
        let hz = ticks_per_second();
        let server = self.server.saturating_sub(earlier.server) as f64 / hz;
        let machine = self.machine.saturating_sub(earlier.machine) as f64 / hz;
        (server, (machine - server - client_cpu).max(0.0))
    }
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

/// utime + stime of one process from /proc/PID/stat (0 once it is gone).
fn process_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces and parentheses; the fields after the last ')'
    // start with the state (field 3), so utime (14) and stime (15) are at 11 and 12.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    [11, 12]
        .iter()
        .filter_map(|&i| f.get(i)?.parse::<u64>().ok())
        .sum()
}
