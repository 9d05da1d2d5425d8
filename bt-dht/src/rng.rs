//! Randomness from a seed the caller supplies: the crate never reads the OS's entropy.
//!
//! Invariant: every output is SHA-1(seed ‖ counter) for a counter that never repeats, so
//! outputs are unpredictable to anyone who does not know the seed (token secrets and
//! transaction ids rely on that) and the same seed replays the same run (the simulation
//! relies on that).

use sha1::{Digest, Sha1};

/// A hash-based generator.
#[derive(Clone, Debug)]
pub(crate) struct HashRng {
    seed: [u8; 32],
    counter: u64,
    block: [u8; 20],
    used: usize,
}

impl HashRng {
    pub(crate) fn new(seed: [u8; 32]) -> Self {
        Self {
            seed,
            counter: 0,
            block: [0; 20],
            used: 20,
        }
    }

    pub(crate) fn fill(&mut self, out: &mut [u8]) {
        for byte in out {
            if self.used == self.block.len() {
                let mut h = Sha1::new();
                h.update(self.seed);
                h.update(self.counter.to_be_bytes());
                self.counter += 1;
                self.block = h.finalize().into();
                self.used = 0;
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }

    pub(crate) fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        self.fill(&mut out);
        out
    }
}
