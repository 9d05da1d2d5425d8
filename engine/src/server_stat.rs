//! What the engine knows of each server's performance (aria2's server-stat): per host
//! and protocol, the speed its connections reached and whether the last one failed.
//! The URI selectors ([`crate::uri_selector`]) pick mirrors by it, `--server-stat-if`
//! loads it when the engine starts and `--server-stat-of` writes it when it stops, in
//! aria2's line format so the two tools can share the file:
//!
//! ```text
//! host=mirror.example, protocol=http, dl_speed=1048576, sc_avg_speed=1048576, mc_avg_speed=0, last_updated=1765000000, counter=1, status=OK
//! ```
//!
//! Invariants: `counter` counts the speeds recorded; the averages are over the
//! recorded speeds of their kind (running mean for the first five, then an exponential
//! one weighting the newest by 1/5, as aria2 does); an entry older than
//! `--server-stat-timeout` when loaded is dropped.

use std::collections::HashMap;
use std::fmt::Write as _;

/// One server's record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerStat {
    /// The last connection's average speed, bytes per second.
    pub download_speed: u64,
    /// Average speed of connections that were their download's only one.
    pub single_avg: u64,
    /// Average speed of connections that ran beside others of their download.
    pub multi_avg: u64,
    /// Unix seconds of the last update.
    pub last_updated: i64,
    /// Speeds recorded.
    pub counter: u64,
    /// The last connection did not fail to connect.
    pub ok: bool,
}

/// Every server's record, by (host, protocol).
#[derive(Debug, Clone, Default)]
pub struct ServerStats {
    map: HashMap<(String, String), ServerStat>,
}

impl ServerStats {
    /// Reads aria2's format, dropping entries last updated more than `timeout_secs`
    /// before `now` and lines that do not parse (aria2 skips them too).
    pub fn parse(text: &str, now: i64, timeout_secs: u64) -> ServerStats {
        let mut stats = ServerStats::default();
        for line in text.lines() {
            let Some((key, stat)) = parse_line(line) else {
                continue;
            };
            if now.saturating_sub(stat.last_updated)
                > i64::try_from(timeout_secs).unwrap_or(i64::MAX)
            {
                continue;
            }
            stats.map.insert(key, stat);
        }
        stats
    }

    /// Writes aria2's format, one line per server, sorted so the file is stable.
    pub fn format(&self) -> String {
        let mut keys: Vec<_> = self.map.keys().collect();
        keys.sort();
        let mut out = String::new();
        for key in keys {
            let s = &self.map[key];
            let _ = writeln!(
                out,
                "host={}, protocol={}, dl_speed={}, sc_avg_speed={}, mc_avg_speed={}, \
                 last_updated={}, counter={}, status={}",
                key.0,
                key.1,
                s.download_speed,
                s.single_avg,
                s.multi_avg,
                s.last_updated,
                s.counter,
                if s.ok { "OK" } else { "ERROR" }
            );
        }
        out
    }

    /// The record of `host` over `protocol`.
    pub fn get(&self, host: &str, protocol: &str) -> Option<&ServerStat> {
        self.map.get(&(host.to_string(), protocol.to_string()))
    }

    /// A connection to `host` reached `speed` bytes per second on average; `single`
    /// when it was its download's only connection.
    pub fn record_speed(&mut self, host: &str, protocol: &str, speed: u64, single: bool, now: i64) {
        let s = self.entry(host, protocol);
        s.counter += 1;
        s.download_speed = speed;
        s.ok = true;
        s.last_updated = now;
        let avg = if single {
            &mut s.single_avg
        } else {
            &mut s.multi_avg
        };
        *avg = if s.counter < 5 {
            let n = s.counter;
            (*avg * (n - 1) + speed) / n
        } else {
            (*avg * 4 + speed) / 5
        };
    }

    /// A connection to `host` failed to reach it.
    pub fn record_error(&mut self, host: &str, protocol: &str, now: i64) {
        let s = self.entry(host, protocol);
        s.ok = false;
        s.last_updated = now;
    }

    fn entry(&mut self, host: &str, protocol: &str) -> &mut ServerStat {
        self.map
            .entry((host.to_string(), protocol.to_string()))
            .or_insert_with(|| ServerStat {
                ok: true,
                ..ServerStat::default()
            })
    }
}

fn parse_line(line: &str) -> Option<((String, String), ServerStat)> {
    let mut host = None;
    let mut protocol = None;
    let mut s = ServerStat {
        ok: true,
        ..ServerStat::default()
    };
    for field in line.split(',') {
        let (name, value) = field.trim().split_once('=')?;
        match name {
            "host" => host = Some(value.to_string()),
            "protocol" => protocol = Some(value.to_string()),
            "dl_speed" => s.download_speed = value.parse().ok()?,
            "sc_avg_speed" => s.single_avg = value.parse().ok()?,
            "mc_avg_speed" => s.multi_avg = value.parse().ok()?,
            "last_updated" => s.last_updated = value.parse().ok()?,
            "counter" => s.counter = value.parse().ok()?,
            "status" => s.ok = value == "OK",
            _ => {}
        }
    }
    let host = host.filter(|h| !h.is_empty())?;
    Some(((host, protocol?), s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aria2s_lines_round_trip_and_stale_ones_are_dropped() {
        let text = "host=a.example, protocol=http, dl_speed=100, sc_avg_speed=90, mc_avg_speed=0, last_updated=1000, counter=2, status=OK\n\
                    host=b.example, protocol=ftp, dl_speed=5, sc_avg_speed=5, mc_avg_speed=7, last_updated=10, counter=1, status=ERROR\n\
                    garbage line\n";
        let stats = ServerStats::parse(text, 1000, 86400);
        assert_eq!(stats.get("a.example", "http").unwrap().single_avg, 90);
        assert!(!stats.get("b.example", "ftp").unwrap().ok);
        assert_eq!(
            ServerStats::parse(&stats.format(), 1000, 86400).format(),
            stats.format()
        );
        let fresh = ServerStats::parse(text, 1000, 500);
        assert!(fresh.get("b.example", "ftp").is_none());
        assert!(fresh.get("a.example", "http").is_some());
    }

    #[test]
    fn averages_run_then_weight_the_newest_by_a_fifth() {
        let mut stats = ServerStats::default();
        for speed in [100, 200, 300] {
            stats.record_speed("h", "http", speed, true, 1);
        }
        assert_eq!(stats.get("h", "http").unwrap().single_avg, 200);
        stats.record_speed("h", "http", 200, true, 1);
        stats.record_speed("h", "http", 700, true, 1);
        assert_eq!(
            stats.get("h", "http").unwrap().single_avg,
            (200 * 4 + 700) / 5
        );
        stats.record_error("h", "http", 2);
        assert!(!stats.get("h", "http").unwrap().ok);
    }
}
