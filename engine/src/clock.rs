//! The loop's clock: the real one, or a manual one that tests move forward so that
//! timeouts (peer requests, snubbing, retry waits) happen without sleeping.
//!
//! A manual clock reads `Instant::now() + offset`: real time still passes (sockets and
//! worker threads need it), and [`Clock::advance`] adds to the offset and wakes the
//! loop, whose next turn sees every deadline up to the new time due at once.
//!
//! Invariants: the offset only grows, so the clock never goes backwards; reading it is
//! one relaxed atomic load (no lock on the hot path). Only the loop thread reads this
//! clock — everything it times (connections, peers, trackers' re-announce, choking,
//! retry waits) goes through [`Clock::now`]. Worker threads (disk, hashers, resolver)
//! and the tracker announce threads keep the real clock for their own socket
//! deadlines; a test that advances the clock does not shorten those.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The engine loop's time source; clones share one offset.
#[derive(Clone, Default)]
pub struct Clock {
    /// `None`: the real clock.
    manual: Option<Arc<Manual>>,
}

#[derive(Default)]
struct Manual {
    /// Nanoseconds added to the real clock.
    offset: AtomicU64,
    /// The engine's waker, once an engine runs on this clock.
    waker: OnceLock<Arc<mio::Waker>>,
}

impl Clock {
    /// The real clock.
    pub fn real() -> Clock {
        Clock::default()
    }

    /// A clock that runs with real time and jumps forward on [`Clock::advance`].
    pub fn manual() -> Clock {
        Clock {
            manual: Some(Arc::default()),
        }
    }

    /// The time now.
    pub fn now(&self) -> Instant {
        let now = Instant::now();
        match &self.manual {
            None => now,
            Some(m) => now + Duration::from_nanos(m.offset.load(Ordering::Relaxed)),
        }
    }

    /// Moves a manual clock forward by `by` and wakes the engine's loop, so what falls
    /// due by then fires on its next turn. Panics on the real clock (a test bug).
    pub fn advance(&self, by: Duration) {
        let m = self.manual.as_ref().expect("only a manual clock advances");
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        m.offset.fetch_add(nanos, Ordering::Relaxed);
        if let Some(waker) = m.waker.get() {
            let _ = waker.wake();
        }
    }

    /// Lets [`Clock::advance`] wake the loop that `waker` belongs to.
    pub(crate) fn attach(&self, waker: &Arc<mio::Waker>) {
        if let Some(m) = &self.manual {
            let _ = m.waker.set(waker.clone());
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.manual {
            None => f.write_str("Clock::Real"),
            Some(m) => write!(
                f,
                "Clock::Manual(+{:?})",
                Duration::from_nanos(m.offset.load(Ordering::Relaxed))
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_jumps_by_what_was_advanced_and_its_clones_follow() {
        let clock = Clock::manual();
        let copy = clock.clone();
        let before = Instant::now();
        clock.advance(Duration::from_secs(90));
        let read = copy.now();
        assert!(read >= before + Duration::from_secs(90));
        assert!(Clock::real().now() < read);
    }
}
