//! BEP 12 tiers: try each tracker of the first tier in turn, then the next tier; a tracker
//! that answers moves to the front of its tier, and the next announce starts again from
//! the first tier.
//!
//! Invariant: the cursor always names an existing tracker, or the tiers are empty.

/// Tracker tiers and which tracker to try next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tiers {
    tiers: Vec<Vec<String>>,
    tier: usize,
    index: usize,
}

impl Tiers {
    /// The tiers, each shuffled by `shuffle` first (BEP 12 asks for a random order inside
    /// a tier; the caller owns the randomness). Empty tiers are dropped.
    pub fn new(tiers: Vec<Vec<String>>, mut shuffle: impl FnMut(&mut [String])) -> Self {
        let mut tiers: Vec<Vec<String>> = tiers.into_iter().filter(|t| !t.is_empty()).collect();
        for tier in &mut tiers {
            shuffle(tier);
        }
        Self {
            tiers,
            tier: 0,
            index: 0,
        }
    }

    /// The tracker to announce to now.
    pub fn current(&self) -> Option<&str> {
        self.tiers
            .get(self.tier)?
            .get(self.index)
            .map(String::as_str)
    }

    /// The current tracker failed: move to the next one. Returns `false` once every tracker
    /// has been tried (the cursor then starts over at the first).
    pub fn failed(&mut self) -> bool {
        let Some(tier) = self.tiers.get(self.tier) else {
            return false;
        };
        if self.index + 1 < tier.len() {
            self.index += 1;
            return true;
        }
        self.index = 0;
        self.tier += 1;
        if self.tier < self.tiers.len() {
            return true;
        }
        self.tier = 0;
        false
    }

    /// The current tracker answered: it goes to the front of its tier, and the next
    /// announce starts from the first tier.
    pub fn succeeded(&mut self) {
        if let Some(tier) = self.tiers.get_mut(self.tier) {
            let url = tier.remove(self.index);
            tier.insert(0, url);
        }
        self.tier = 0;
        self.index = 0;
    }

    /// The tiers in their current order.
    pub fn tiers(&self) -> &[Vec<String>] {
        &self.tiers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiers() -> Tiers {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        Tiers::new(vec![s(&["a", "b", "c"]), vec![], s(&["d"])], |t| {
            t.reverse()
        })
    }

    #[test]
    fn tries_each_tier_in_order_then_wraps() {
        let mut t = tiers();
        let mut seen = vec![t.current().unwrap().to_string()];
        while t.failed() {
            seen.push(t.current().unwrap().to_string());
        }
        assert_eq!(
            seen,
            ["c", "b", "a", "d"],
            "shuffled by the caller, empty tier dropped"
        );
        assert_eq!(t.current(), Some("c"), "wrapped to the start");
    }

    #[test]
    fn a_responding_tracker_moves_to_the_front_of_its_tier() {
        let mut t = tiers();
        t.failed();
        t.failed();
        assert_eq!(t.current(), Some("a"));
        t.succeeded();
        assert_eq!(t.tiers()[0], ["a", "c", "b"]);
        assert_eq!(t.current(), Some("a"));
        t.failed();
        t.failed();
        t.failed();
        assert_eq!(t.current(), Some("d"));
        t.succeeded();
        assert_eq!(
            t.current(),
            Some("a"),
            "next announce starts at the first tier"
        );
        assert!(!Tiers::new(vec![], |_| {}).clone().failed());
    }
}
