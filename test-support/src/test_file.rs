//! Deterministic file contents and digests for download tests.

use sha2::{Digest, Sha256};

/// Generators for test file contents.
///
/// Every generator is deterministic: the same arguments give the same bytes on
/// every run and platform, so a failing test can be replayed exactly.
#[derive(Debug, Clone, Copy)]
pub struct TestFile;

impl TestFile {
    /// `len` pseudo-random bytes derived from `seed`.
    ///
    /// Different seeds give unrelated contents, so two files of the same length
    /// can never be mistaken for each other by a download that mixes them up.
    ///
    /// ```
    /// use swarmget_test_support::TestFile;
    /// let a = TestFile::random(1000, 1);
    /// assert_eq!(a.len(), 1000);
    /// assert_eq!(a, TestFile::random(1000, 1));
    /// assert_ne!(a, TestFile::random(1000, 2));
    /// ```
    pub fn random(len: usize, seed: u64) -> Vec<u8> {
        let mut rng = SplitMix64::new(seed);
        let mut bytes = Vec::with_capacity(len);
        while bytes.len() < len {
            let word = rng.next_u64().to_le_bytes();
            let take = word.len().min(len - bytes.len());
            bytes.extend_from_slice(&word[..take]);
        }
        bytes
    }
}

/// The SHA-256 digest of `data` as 64 lowercase hex digits.
///
/// ```
/// use swarmget_test_support::sha256_hex;
/// assert_eq!(
///     sha256_hex(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest.iter() {
        hex.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(HEX_DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// SplitMix64: tiny, fast, and good enough to make bytes look random; also used
/// for the server's "random-ish" chunk sizes.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_is_a_prefix_stable_stream() {
        let long = TestFile::random(1001, 9);
        let short = TestFile::random(13, 9);
        assert_eq!(&long[..13], &short[..]);
    }

    #[test]
    fn random_bytes_are_spread_out() {
        let bytes = TestFile::random(64 * 1024, 3);
        let mut seen = [0usize; 256];
        for &b in &bytes {
            seen[usize::from(b)] += 1;
        }
        // Uniform would be 256 per value; a broken generator lands far off.
        assert!(seen.iter().all(|&n| (128..=384).contains(&n)), "{seen:?}");
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
