//! A transfer rate measured on the caller's clock.
//!
//! Bytes are counted into one-second buckets; each finished bucket moves the estimate half
//! way to its own rate, so a peer that stalls falls to zero in a few seconds and a burst is
//! smoothed. Idle seconds count as zero-byte buckets.

use std::time::{Duration, Instant};

const BUCKET: Duration = Duration::from_secs(1);

/// Bytes per second, smoothed.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    bucket_start: Instant,
    bucket_bytes: u64,
    rate: f64,
    total: u64,
}

impl Rate {
    /// A rate of zero from `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            bucket_start: now,
            bucket_bytes: 0,
            rate: 0.0,
            total: 0,
        }
    }

    fn roll(&mut self, now: Instant) {
        let mut elapsed = now.saturating_duration_since(self.bucket_start);
        // At most a minute of idle buckets matters: 0.5^60 of the old rate is nothing.
        let mut rolled = 0;
        while elapsed >= BUCKET && rolled < 60 {
            let sample = self.bucket_bytes as f64 / BUCKET.as_secs_f64();
            self.rate = (self.rate + sample) / 2.0;
            self.bucket_bytes = 0;
            self.bucket_start += BUCKET;
            elapsed -= BUCKET;
            rolled += 1;
        }
        if elapsed >= BUCKET {
            self.rate = 0.0;
            self.bucket_start = now;
        }
    }

    /// Counts `bytes` transferred at `now`.
    pub fn add(&mut self, now: Instant, bytes: u64) {
        self.roll(now);
        self.bucket_bytes += bytes;
        self.total += bytes;
    }

    /// The smoothed rate at `now`, in bytes per second.
    pub fn get(&mut self, now: Instant) -> u64 {
        self.roll(now);
        self.rate as u64
    }

    /// Bytes counted in all.
    pub fn total(&self) -> u64 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converges_and_decays() {
        let t0 = Instant::now();
        let mut r = Rate::new(t0);
        for s in 0..10 {
            r.add(t0 + Duration::from_secs(s), 1_000_000);
        }
        let at = t0 + Duration::from_secs(10);
        let rate = r.get(at);
        assert!((998_000..=1_000_000).contains(&rate), "{rate}");
        assert_eq!(r.get(t0 + Duration::from_secs(40)), 0);
        assert_eq!(r.get(t0 + Duration::from_secs(4000)), 0);
        assert_eq!(r.total(), 10_000_000);
    }
}
