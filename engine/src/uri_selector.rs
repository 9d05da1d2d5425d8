//! Which mirror the next connection of a download goes to (`--uri-selector`).
//!
//! - `inorder`: the first usable mirror in the order given.
//! - `feedback` (aria2's default): a mirror on a host the download does not use yet,
//!   the fastest of those known faster than 20 KiB/s, else the first not known to
//!   fail; when every usable mirror's host is in use, the least used host.
//! - `adaptive`: until three mirrors have been measured, an unmeasured one; then the
//!   fastest for the download's first connection and, for the others, an unmeasured
//!   mirror, else one measured more than five minutes ago, else the fastest.
//!
//! The candidates given are the usable mirrors (not failed, not waiting to retry,
//! with room for a connection), in the order the user gave them.

use crate::server_stat::{ServerStat, ServerStats};

/// `--uri-selector`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriSelector {
    /// In the order given.
    InOrder,
    /// By measured speed, spreading over hosts.
    Feedback,
    /// Measuring mirrors, then the fastest.
    Adaptive,
}

/// A usable mirror.
pub(crate) struct Candidate<'a> {
    /// Its index among the download's mirrors.
    pub index: usize,
    pub host: &'a str,
    pub protocol: &'a str,
    /// The download's connections to this host, over all its mirrors.
    pub host_conns: usize,
}

/// Faster than this counts as fast for `feedback` (aria2's threshold).
const FAST: u64 = 20 * 1024;
/// A measurement older than this is taken again by `adaptive`.
const RETEST_SECS: i64 = 300;

/// The mirror for the next connection; `first` when the download has none open.
pub(crate) fn pick(
    selector: UriSelector,
    candidates: &[Candidate<'_>],
    stats: &ServerStats,
    first: bool,
    now: i64,
) -> Option<usize> {
    let stat = |c: &Candidate<'_>| stats.get(c.host, c.protocol);
    match selector {
        UriSelector::InOrder => candidates.first().map(|c| c.index),
        UriSelector::Feedback => {
            let unused = candidates.iter().filter(|c| c.host_conns == 0);
            let fastest = unused
                .clone()
                .filter_map(|c| {
                    stat(c)
                        .filter(|s| s.ok && s.download_speed > FAST)
                        .map(|s| (c, s))
                })
                .max_by_key(|(c, s)| (s.download_speed, std::cmp::Reverse(c.index)))
                .map(|(c, _)| c.index);
            fastest
                .or_else(|| {
                    unused
                        .clone()
                        .find(|c| stat(c).is_none_or(|s| s.ok))
                        .map(|c| c.index)
                })
                .or_else(|| {
                    candidates
                        .iter()
                        .min_by_key(|c| (c.host_conns, c.index))
                        .map(|c| c.index)
                })
        }
        UriSelector::Adaptive => {
            let measured = |c: &&Candidate<'_>| stat(c).is_some_and(|s| s.counter > 0);
            let untested = candidates.iter().find(|c| !measured(c)).map(|c| c.index);
            let tested = candidates.iter().filter(measured).count();
            let best = || {
                candidates
                    .iter()
                    .filter_map(|c| stat(c).filter(|s| s.ok).map(|s| (c, speed(s))))
                    .max_by_key(|(c, v)| (*v, std::cmp::Reverse(c.index)))
                    .map(|(c, _)| c.index)
                    .or_else(|| candidates.first().map(|c| c.index))
            };
            if tested < 3 && untested.is_some() {
                return untested;
            }
            if first {
                return best();
            }
            untested
                .or_else(|| {
                    candidates
                        .iter()
                        .find(|c| stat(c).is_some_and(|s| now - s.last_updated > RETEST_SECS))
                        .map(|c| c.index)
                })
                .or_else(best)
        }
    }
}

/// The speed a mirror is ranked by: the better of its two averages.
fn speed(s: &ServerStat) -> u64 {
    s.single_avg.max(s.multi_avg).max(s.download_speed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(index: usize, host: &'static str, host_conns: usize) -> Candidate<'static> {
        Candidate {
            index,
            host,
            protocol: "http",
            host_conns,
        }
    }

    #[test]
    fn inorder_takes_the_first() {
        let stats = ServerStats::default();
        let cands = [c(1, "b", 0), c(2, "c", 0)];
        assert_eq!(pick(UriSelector::InOrder, &cands, &stats, true, 0), Some(1));
    }

    #[test]
    fn feedback_prefers_a_fast_unused_host_then_the_least_used() {
        let mut stats = ServerStats::default();
        stats.record_speed("slow", "http", 10_000, true, 0);
        stats.record_speed("fast", "http", 900_000, true, 0);
        stats.record_error("down", "http", 0);
        let cands = [c(0, "slow", 0), c(1, "down", 0), c(2, "fast", 0)];
        assert_eq!(
            pick(UriSelector::Feedback, &cands, &stats, true, 0),
            Some(2)
        );
        // Fast host in use: an unused one that is not known to fail.
        let cands = [c(0, "down", 0), c(1, "slow", 0), c(2, "fast", 1)];
        assert_eq!(
            pick(UriSelector::Feedback, &cands, &stats, false, 0),
            Some(1)
        );
        // Every host in use: the least used.
        let cands = [c(0, "slow", 2), c(2, "fast", 1)];
        assert_eq!(
            pick(UriSelector::Feedback, &cands, &stats, false, 0),
            Some(2)
        );
    }

    #[test]
    fn adaptive_measures_three_then_takes_the_best_first() {
        let mut stats = ServerStats::default();
        let cands = [c(0, "a", 0), c(1, "b", 0), c(2, "c", 0), c(3, "d", 0)];
        assert_eq!(
            pick(UriSelector::Adaptive, &cands, &stats, true, 0),
            Some(0)
        );
        stats.record_speed("a", "http", 100, true, 0);
        stats.record_speed("b", "http", 900, true, 0);
        stats.record_speed("c", "http", 500, true, 0);
        assert_eq!(
            pick(UriSelector::Adaptive, &cands, &stats, true, 10),
            Some(1)
        );
        // Supplementary connections measure what is not measured yet.
        assert_eq!(
            pick(UriSelector::Adaptive, &cands, &stats, false, 10),
            Some(3)
        );
        stats.record_speed("d", "http", 50, true, 10);
        // ...then what was measured long ago.
        assert_eq!(
            pick(UriSelector::Adaptive, &cands, &stats, false, 400),
            Some(0)
        );
    }
}
