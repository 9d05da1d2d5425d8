//! Deadlines in one heap: the loop sleeps until the earliest one and fires only what
//! is due, instead of scanning every connection each turn.
//!
//! Entries are never removed early. A connection records the earliest wake-up it
//! has in the heap (`Conn::armed`); moving a deadline later leaves a stale entry that
//! fires, finds nothing due and re-arms at the real time; moving it earlier pushes a
//! new entry. So every connection has at most a few entries, and none is missed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// What a deadline is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    /// Connection `key`'s own deadlines: connect attempts, timeouts, FTP session
    /// timers, the `--lowest-speed-limit` check.
    Conn(usize),
    /// A rate-limited reader may read again.
    Resume(usize),
    /// The DHT's next deadline (see `bt::dht`).
    Dht,
    /// Nothing to do but a turn of the loop (a mirror's retry wait is over).
    Wake,
}

#[derive(Default)]
pub(crate) struct Timers {
    heap: BinaryHeap<Reverse<(Instant, Timer)>>,
}

impl Timers {
    pub fn push(&mut self, when: Instant, timer: Timer) {
        self.heap.push(Reverse((when, timer)));
    }

    /// The earliest deadline.
    pub fn next(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse((when, _))| *when)
    }

    /// Removes and returns the next timer due at `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        match self.heap.peek() {
            Some(Reverse((when, _))) if *when <= now => self.heap.pop().map(|Reverse((_, t))| t),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn fires_in_deadline_order_and_only_when_due() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        t.push(t0 + Duration::from_secs(3), Timer::Conn(1));
        t.push(t0 + Duration::from_secs(1), Timer::Resume(2));
        t.push(t0 + Duration::from_secs(2), Timer::Wake);
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(t.pop_due(t0), None);
        let now = t0 + Duration::from_secs(2);
        assert_eq!(t.pop_due(now), Some(Timer::Resume(2)));
        assert_eq!(t.pop_due(now), Some(Timer::Wake));
        assert_eq!(t.pop_due(now), None);
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(3)));
    }
}
