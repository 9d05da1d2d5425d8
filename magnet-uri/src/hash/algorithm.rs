//! Which hashes to compute.

use std::fmt;
use std::str::FromStr;

/// One of the file hashes a magnet link can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// CRC-32 (IEEE).
    Crc32,
    /// MD5.
    Md5,
    /// SHA-1.
    Sha1,
    /// Tiger tree hash.
    Tth,
    /// eDonkey2000 hash.
    Ed2k,
    /// eMule AICH root hash.
    Aich,
}

impl Algorithm {
    /// Every algorithm, in the order `rhash --magnet` writes them.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Crc32,
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Tth,
        Algorithm::Ed2k,
        Algorithm::Aich,
    ];

    /// The lowercase name used on command lines (`crc32`, `md5`, `sha1`, `tth`, `ed2k`,
    /// `aich`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "crc32",
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Tth => "tth",
            Algorithm::Ed2k => "ed2k",
            Algorithm::Aich => "aich",
        }
    }

    /// Relative cost per byte, for splitting work between two threads: CPU time per GiB in
    /// hundredths of a second, as measured for `swarmget magnet --hash <one>` on x86-64
    /// with SHA extensions (which make SHA-1 and AICH cheap). Only the ratios matter.
    pub(crate) fn cost(self) -> u32 {
        match self {
            Algorithm::Crc32 => 2,
            Algorithm::Md5 => 176,
            Algorithm::Sha1 => 60,
            Algorithm::Tth => 174,
            Algorithm::Ed2k => 106,
            Algorithm::Aich => 58,
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of the [`Algorithm`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownAlgorithm(pub String);

impl fmt::Display for UnknownAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown hash algorithm {:?} (known: crc32, md5, sha1, tth, ed2k, aich, all)",
            self.0
        )
    }
}

impl std::error::Error for UnknownAlgorithm {}

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Reads a name case-insensitively; `tree:tiger` and `tiger-tree` also mean `tth`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == lower)
            .or_else(|| {
                matches!(lower.as_str(), "tree:tiger" | "tiger-tree").then_some(Algorithm::Tth)
            })
            .ok_or_else(|| UnknownAlgorithm(s.to_owned()))
    }
}

/// A set of [`Algorithm`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Algorithms(u8);

impl Algorithms {
    /// No algorithm.
    pub const NONE: Algorithms = Algorithms(0);

    /// Every algorithm.
    pub const ALL: Algorithms = Algorithms(0b11_1111);

    /// What `rhash --magnet` computes when no hash is named: Tiger tree, ed2k and AICH.
    pub const RHASH_DEFAULT: Algorithms = Algorithms(0b11_1000);

    /// This set plus `algorithm`.
    #[must_use]
    pub const fn with(self, algorithm: Algorithm) -> Algorithms {
        Algorithms(self.0 | 1 << algorithm as u8)
    }

    /// Whether `algorithm` is in the set.
    pub fn contains(self, algorithm: Algorithm) -> bool {
        self.0 & algorithm.bit() != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in [`Algorithm::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Algorithm> {
        Algorithm::ALL
            .into_iter()
            .filter(move |&a| self.contains(a))
    }

    /// Reads a comma-separated list such as `sha1,tth,ed2k`; `all` means every algorithm.
    pub fn parse_list(list: &str) -> Result<Algorithms, UnknownAlgorithm> {
        list.split(',').try_fold(Algorithms::NONE, |set, name| {
            if name.eq_ignore_ascii_case("all") {
                Ok(Algorithms::ALL)
            } else {
                name.parse().map(|a| set.with(a))
            }
        })
    }

    fn cost(self) -> u32 {
        self.iter().map(Algorithm::cost).sum()
    }

    /// Splits the set in two halves of about equal cost, for two threads, the cheaper half
    /// first. Either half may be empty when one algorithm dominates.
    pub(crate) fn split_balanced(self) -> (Algorithms, Algorithms) {
        // 64 subsets at most: try them all.
        let mut best = (self, Algorithms::NONE);
        let mut best_load = self.cost();
        for bits in 0..=self.0 {
            if bits & !self.0 != 0 {
                continue;
            }
            let (a, b) = (Algorithms(bits), Algorithms(self.0 & !bits));
            let load = a.cost().max(b.cost());
            if load < best_load {
                best = (a, b);
                best_load = load;
            }
        }
        if best.0.cost() > best.1.cost() {
            (best.1, best.0)
        } else {
            best
        }
    }
}

impl fmt::Debug for Algorithms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Algorithm> for Algorithms {
    fn from_iter<I: IntoIterator<Item = Algorithm>>(iter: I) -> Self {
        iter.into_iter().fold(Algorithms::NONE, Algorithms::with)
    }
}

impl FromStr for Algorithms {
    type Err = UnknownAlgorithm;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithms::parse_list(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lists() {
        let set = Algorithms::parse_list("sha1,TTH,ed2k").unwrap();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Algorithm::Sha1, Algorithm::Tth, Algorithm::Ed2k]
        );
        assert_eq!(Algorithms::parse_list("all").unwrap(), Algorithms::ALL);
        assert!(Algorithms::parse_list("sha1,sha256").is_err());
        assert!(Algorithms::parse_list("").is_err());
        let rhash: Algorithms = [Algorithm::Tth, Algorithm::Ed2k, Algorithm::Aich]
            .into_iter()
            .collect();
        assert_eq!(rhash, Algorithms::RHASH_DEFAULT);
    }

    #[test]
    fn balanced_split_is_a_partition() {
        let (a, b) = Algorithms::ALL.split_balanced();
        assert_eq!(a.0 & b.0, 0);
        assert_eq!(a.0 | b.0, Algorithms::ALL.0);
        assert!(a.cost() <= b.cost());
        // The best split of these costs leaves the halves within 5% of each other.
        assert!(
            b.cost() - a.cost() <= Algorithms::ALL.cost() / 20,
            "{a:?} vs {b:?}"
        );
    }
}
