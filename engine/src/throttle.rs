//! Token buckets for `--max-download-limit` and `--max-overall-download-limit`.
//!
//! A reader asks how many bytes it may take now; when the bucket is empty it pauses
//! (the engine keeps it on its paused list and sets a timer for when the bucket will
//! hold enough again) instead of spinning.

use std::time::Instant;

/// A byte-rate limit; rate 0 means unlimited.
#[derive(Debug, Clone)]
pub struct Throttle {
    rate: u64,
    tokens: f64,
    last: Option<Instant>,
}

impl Throttle {
    /// A bucket refilling at `rate` bytes/s (0 = no limit), holding at most a tenth
    /// of a second's worth so bursts stay short.
    pub fn new(rate: u64) -> Throttle {
        Throttle {
            rate,
            tokens: 0.0,
            last: None,
        }
    }

    /// Bytes that may be read now (`usize::MAX` when unlimited).
    pub fn allowance(&mut self, now: Instant) -> usize {
        if self.rate == 0 {
            return usize::MAX;
        }
        let last = *self.last.get_or_insert(now);
        let burst = (self.rate as f64 / 10.0).max(16.0 * 1024.0);
        self.tokens = (self.tokens
            + now.saturating_duration_since(last).as_secs_f64() * self.rate as f64)
            .min(burst);
        self.last = Some(now);
        self.tokens.max(0.0) as usize
    }

    /// How long until `bytes` may be read, from the state the last
    /// [`Throttle::allowance`] left (zero when unlimited or already allowed).
    pub fn wait_for(&self, bytes: usize) -> std::time::Duration {
        if self.rate == 0 {
            return std::time::Duration::ZERO;
        }
        let missing = (bytes as f64 - self.tokens).max(0.0);
        std::time::Duration::from_secs_f64(missing / self.rate as f64)
    }

    /// Records `n` bytes read.
    pub fn consume(&mut self, n: usize) {
        if self.rate != 0 {
            self.tokens -= n as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn limits_to_the_rate() {
        let t0 = Instant::now();
        let mut t = Throttle::new(100_000);
        assert_eq!(t.allowance(t0), 0);
        let mut got = 0;
        for ms in 1..=1000 {
            let now = t0 + Duration::from_millis(ms);
            let a = t.allowance(now).min(4096);
            t.consume(a);
            got += a;
        }
        assert!((95_000..=105_000).contains(&got), "{got}");
        assert_eq!(Throttle::new(0).allowance(t0), usize::MAX);
    }
}
