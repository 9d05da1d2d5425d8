//! A fixed-length bit set, most significant bit first in each byte (the layout BitTorrent
//! and aria2's control file use, so the bytes can be written out as they are).

/// One bit per piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitfield {
    bytes: Vec<u8>,
    len: usize,
    ones: usize,
}

impl Bitfield {
    /// `len` bits, all clear.
    pub fn new(len: usize) -> Self {
        Bitfield {
            bytes: vec![0; len.div_ceil(8)],
            len,
            ones: 0,
        }
    }

    /// Reads `len` bits from `bytes`; `None` if the byte count is wrong or a spare bit
    /// past `len` is set.
    pub fn from_bytes(bytes: &[u8], len: usize) -> Option<Self> {
        if bytes.len() != len.div_ceil(8) {
            return None;
        }
        if !len.is_multiple_of(8) {
            let spare = 0xffu8 >> (len % 8);
            if bytes.last().is_some_and(|b| b & spare != 0) {
                return None;
            }
        }
        let ones = bytes.iter().map(|b| b.count_ones() as usize).sum();
        Some(Bitfield {
            bytes: bytes.to_vec(),
            len,
            ones,
        })
    }

    /// The bits as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bits at all.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of set bits.
    pub fn count(&self) -> usize {
        self.ones
    }

    /// Whether every bit is set.
    pub fn all(&self) -> bool {
        self.ones == self.len
    }

    /// Bit `i`; out of range reads as clear.
    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.bytes[i / 8] & (0x80 >> (i % 8)) != 0
    }

    /// `len` bits, all set.
    pub fn full(len: usize) -> Self {
        let mut b = Bitfield::new(len);
        for byte in &mut b.bytes {
            *byte = 0xff;
        }
        if !len.is_multiple_of(8)
            && let Some(last) = b.bytes.last_mut()
        {
            *last &= !(0xffu8 >> (len % 8));
        }
        b.ones = len;
        b
    }

    /// Clears bit `i` (ignored when out of range).
    pub fn clear(&mut self, i: usize) {
        if self.get(i) {
            self.bytes[i / 8] &= !(0x80 >> (i % 8));
            self.ones -= 1;
        }
    }

    /// Sets bit `i` (ignored when out of range).
    pub fn set(&mut self, i: usize) {
        if i < self.len && !self.get(i) {
            self.bytes[i / 8] |= 0x80 >> (i % 8);
            self.ones += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_count_and_layout() {
        let mut b = Bitfield::new(10);
        b.set(0);
        b.set(9);
        b.set(9);
        assert!(b.get(0) && b.get(9) && !b.get(5) && !b.get(10));
        assert_eq!(b.count(), 2);
        assert_eq!(b.as_bytes(), &[0x80, 0x40]);
        assert_eq!(Bitfield::from_bytes(&[0x80, 0x40], 10).as_ref(), Some(&b));
        assert_eq!(
            Bitfield::from_bytes(&[0x80, 0x60], 10),
            None,
            "spare bit set"
        );
        assert_eq!(Bitfield::from_bytes(&[0x80], 10), None, "short");
        b.clear(0);
        b.clear(0);
        b.clear(10);
        assert_eq!(b.count(), 1);
        assert_eq!(b.as_bytes(), &[0x00, 0x40]);
    }

    #[test]
    fn full_leaves_spare_bits_clear() {
        let b = Bitfield::full(10);
        assert!(b.all());
        assert_eq!(b.as_bytes(), &[0xff, 0xc0]);
        assert_eq!(Bitfield::from_bytes(b.as_bytes(), 10), Some(b));
        assert!(Bitfield::full(0).all());
    }
}
