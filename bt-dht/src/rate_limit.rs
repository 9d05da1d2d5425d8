//! Limits on incoming queries, per source address and in total, so that a flood costs
//! us neither unbounded CPU nor answers that amplify an attack on a spoofed address.
//!
//! Invariants:
//! - token buckets refill from `now` only (no clock of their own); a source may burst
//!   [`RateLimits::per_source_burst`] queries, then [`RateLimits::per_source_per_sec`];
//!   all sources together [`RateLimits::total_burst`] and [`RateLimits::total_per_sec`];
//! - at most [`RateLimits::sources`] sources are tracked: when full, the source heard
//!   from least recently is forgotten (a forgotten source starts with a full bucket, so
//!   the total limit is what bounds a flood from many addresses).

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// The limits.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    /// Queries one address may send at once.
    pub per_source_burst: f64,
    /// Queries per second one address may sustain.
    pub per_source_per_sec: f64,
    /// Queries all addresses together may send at once.
    pub total_burst: f64,
    /// Queries per second all addresses together may sustain.
    pub total_per_sec: f64,
    /// Addresses tracked.
    pub sources: usize,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_source_burst: 20.0,
            per_source_per_sec: 5.0,
            total_burst: 1000.0,
            total_per_sec: 500.0,
            sources: 4096,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct TokenBucket {
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    fn take(&mut self, now: Instant, burst: f64, per_sec: f64) -> bool {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_sec).min(burst);
        self.at = now.max(self.at);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The limiter.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    total: TokenBucket,
    sources: HashMap<IpAddr, TokenBucket>,
}

impl RateLimiter {
    /// A limiter with full buckets at `now`.
    pub fn new(limits: RateLimits, now: Instant) -> Self {
        RateLimiter {
            limits,
            total: TokenBucket {
                tokens: limits.total_burst,
                at: now,
            },
            sources: HashMap::new(),
        }
    }

    /// Whether a query from `ip` at `now` may be answered (and counts it if so).
    pub fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        let l = self.limits;
        if !self.sources.contains_key(&ip) && self.sources.len() >= l.sources {
            let stalest = self
                .sources
                .iter()
                .min_by_key(|(_, b)| b.at)
                .map(|(k, _)| *k);
            if let Some(key) = stalest {
                self.sources.remove(&key);
            }
        }
        let source = self.sources.entry(ip).or_insert(TokenBucket {
            tokens: l.per_source_burst,
            at: now,
        });
        // The source's own bucket is charged first: a source over its limit must not
        // also drain the total that other sources share.
        source.take(now, l.per_source_burst, l.per_source_per_sec)
            && self.total.take(now, l.total_burst, l.total_per_sec)
    }

    /// Addresses tracked.
    pub fn tracked(&self) -> usize {
        self.sources.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn one_source_is_held_to_its_rate_and_others_still_pass() {
        let t0 = Instant::now();
        let mut limiter = RateLimiter::new(RateLimits::default(), t0);
        let flood: IpAddr = "198.51.100.1".parse().unwrap();
        let allowed = (0..1000).filter(|_| limiter.allow(flood, t0)).count();
        assert_eq!(allowed, 20);
        assert!(limiter.allow("198.51.100.2".parse().unwrap(), t0));
        // A second later, five more.
        let later = t0 + Duration::from_secs(1);
        assert_eq!((0..100).filter(|_| limiter.allow(flood, later)).count(), 5);
    }

    #[test]
    fn many_sources_are_tracked_within_the_bound() {
        let t0 = Instant::now();
        let limits = RateLimits {
            sources: 100,
            ..RateLimits::default()
        };
        let mut limiter = RateLimiter::new(limits, t0);
        let mut allowed = 0;
        for i in 0..10_000u32 {
            if limiter.allow(IpAddr::from(i.to_be_bytes()), t0) {
                allowed += 1;
            }
        }
        assert_eq!(limiter.tracked(), 100);
        assert_eq!(
            allowed, 1000,
            "the total burst bounds a flood from many addresses"
        );
    }
}
