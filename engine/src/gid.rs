//! Download identifiers: aria2's GIDs.

use std::fmt;

/// Names one download for its whole life, as aria2's GID does: a 64-bit number
/// printed and parsed as exactly 16 hexadecimal digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gid(u64);

impl Gid {
    /// The GID with this value.
    pub const fn new(value: u64) -> Gid {
        Gid(value)
    }

    /// Its numeric value.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Parses 16 hex digits (either case), as aria2's RPC and `--gid` accept them.
    pub fn parse(text: &str) -> Option<Gid> {
        if text.len() != 16 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u64::from_str_radix(text, 16).ok().map(Gid)
    }
}

impl fmt::Display for Gid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Hands out GIDs that differ between runs (aria2's are random), never zero and never
/// one already in use.
#[derive(Debug)]
pub(crate) struct GidSource(u64);

impl GidSource {
    pub fn seeded() -> GidSource {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        GidSource(t ^ u64::from(std::process::id()).rotate_left(32))
    }

    /// The next GID for which `taken` is false.
    pub fn next(&mut self, taken: impl Fn(Gid) -> bool) -> Gid {
        loop {
            // A 64-bit LCG walks every value before repeating, so this ends.
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let gid = Gid(self.0);
            if self.0 != 0 && !taken(gid) {
                return gid;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_and_parses_sixteen_hex_digits() {
        let g = Gid::new(0x2089b05ecca3d829);
        assert_eq!(g.to_string(), "2089b05ecca3d829");
        assert_eq!(Gid::parse("2089B05ECCA3D829"), Some(g));
        assert_eq!(Gid::new(1).to_string(), "0000000000000001");
        assert_eq!(Gid::parse("2089b05ecca3d82"), None);
        assert_eq!(Gid::parse("+089b05ecca3d829"), None);
    }

    #[test]
    fn source_skips_taken_gids() {
        let mut a = GidSource(7);
        let first = a.next(|_| false);
        let mut b = GidSource(7);
        let second = b.next(|g| g == first);
        assert_ne!(first, second);
    }
}
