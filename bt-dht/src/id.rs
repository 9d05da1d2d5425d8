//! 160-bit node ids and info-hashes, and the XOR metric over them.
//!
//! Invariants:
//! - an id is exactly 20 bytes; distances compare as 160-bit big-endian integers, so
//!   sorting by [`NodeId::distance`] sorts by closeness;
//! - [`NodeId::shared_prefix`] of an id with itself is 160, and of two different ids the
//!   number of leading bits they share (0..=159).

use std::fmt;

/// Bytes in a node id or info-hash.
pub const ID_LEN: usize = 20;

/// A node id, or any other 160-bit key in the DHT's space (an info-hash, a lookup target).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct NodeId(pub [u8; ID_LEN]);

impl NodeId {
    /// The id made of these bytes, if there are exactly 20.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8; ID_LEN] {
        &self.0
    }

    /// The XOR distance to `other`; smaller is closer.
    pub fn distance(&self, other: &NodeId) -> [u8; ID_LEN] {
        let mut d = [0u8; ID_LEN];
        for (i, byte) in d.iter_mut().enumerate() {
            *byte = self.0[i] ^ other.0[i];
        }
        d
    }

    /// How many leading bits `self` and `other` have in common (160 when equal).
    pub fn shared_prefix(&self, other: &NodeId) -> usize {
        for (i, (a, b)) in self.0.iter().zip(other.0.iter()).enumerate() {
            let x = a ^ b;
            if x != 0 {
                return i * 8 + x.leading_zeros() as usize;
            }
        }
        ID_LEN * 8
    }

    /// Bit `index` (0 is the most significant bit of the first byte).
    pub fn bit(&self, index: usize) -> bool {
        self.0[index / 8] & (0x80 >> (index % 8)) != 0
    }

    /// This id with its first `prefix` bits kept and the rest taken from `random`: a
    /// random id that shares exactly the first `prefix` bits with `self` when `random`
    /// differs from `self` at bit `prefix` (used to refresh a bucket).
    pub fn with_prefix_of(&self, prefix: usize, random: [u8; ID_LEN]) -> NodeId {
        let mut id = random;
        for bit in 0..prefix.min(ID_LEN * 8) {
            let mask = 0x80 >> (bit % 8);
            id[bit / 8] = (id[bit / 8] & !mask) | (self.0[bit / 8] & mask);
        }
        if prefix < ID_LEN * 8 {
            // Flip bit `prefix` so the id lands in the bucket of that depth, not deeper.
            let mask = 0x80 >> (prefix % 8);
            id[prefix / 8] = (id[prefix / 8] & !mask) | (!self.0[prefix / 8] & mask);
        }
        NodeId(id)
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_prefix_counts_leading_equal_bits() {
        let a = NodeId([0; 20]);
        let mut b = [0; 20];
        b[1] = 0x10;
        assert_eq!(a.shared_prefix(&NodeId(b)), 11);
        assert_eq!(a.shared_prefix(&a), 160);
    }

    #[test]
    fn with_prefix_of_lands_at_exactly_that_depth() {
        let own = NodeId([0xab; 20]);
        for prefix in [0, 1, 7, 8, 100, 159] {
            let id = own.with_prefix_of(prefix, [0x5c; 20]);
            assert_eq!(own.shared_prefix(&id), prefix);
        }
    }
}
