//! `hash_reader` over awkward readers: short reads, interruptions, failures.

use std::io::{self, Read};

use swarmget_magnet_uri::hash::{Algorithm, Algorithms, Hasher, hash_reader};

fn data(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).rotate_left(7) as u8)
        .collect()
}

fn expected(bytes: &[u8], algorithms: Algorithms) -> swarmget_magnet_uri::hash::Digests {
    let mut h = Hasher::new(algorithms);
    h.update(bytes);
    h.finish()
}

/// Hands out at most `step` bytes per call and is interrupted now and then, like a pipe.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
    calls: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 7 == 3 {
            return Err(io::ErrorKind::Interrupted.into());
        }
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Gives `good` bytes, then fails.
struct FailsAfter {
    good: usize,
}

impl Read for FailsAfter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.good == 0 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = self.good.min(buf.len());
        buf[..n].fill(0xaa);
        self.good -= n;
        Ok(n)
    }
}

#[test]
fn short_and_interrupted_reads_give_the_same_digests() {
    let bytes = data(5 << 20 | 12345);
    for step in [4096, 65_537, 1 << 20] {
        let reader = Trickle {
            data: &bytes,
            step,
            calls: 0,
        };
        let got = hash_reader(reader, Algorithms::ALL).unwrap();
        assert_eq!(got, expected(&bytes, Algorithms::ALL), "step {step}");
    }
}

#[test]
fn every_subset_is_split_and_merged_correctly() {
    let bytes = data(3 << 19);
    for bits in 1u8..64 {
        let set: Algorithms = Algorithm::ALL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| bits >> i & 1 == 1)
            .map(|(_, a)| a)
            .collect();
        assert_eq!(
            hash_reader(bytes.as_slice(), set).unwrap(),
            expected(&bytes, set),
            "{set:?}"
        );
    }
}

#[test]
fn read_errors_are_returned_on_either_path() {
    for good in [0, 100, 1 << 20, 9 << 20] {
        let err = hash_reader(FailsAfter { good }, Algorithms::ALL).unwrap_err();
        assert_eq!(err.to_string(), "disk on fire", "after {good} bytes");
    }
}
