//! BEP 52 merkle trees: SHA-256 over 16 KiB blocks, padded to a power of two.
//!
//! Leaves beyond the end of a file are all-zero hashes, so the pad used at a piece layer is
//! the root of a subtree of `piece_length / 16 KiB` zero leaves.

use sha2::{Digest, Sha256};

/// The v2 block size: the leaves of every file's merkle tree hash this many bytes.
pub const BLOCK_SIZE: u64 = 16 * 1024;

fn parent(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of a perfect tree of `leaves` zero leaves (`leaves` a power of two).
pub fn zero_subtree_root(leaves: u64) -> [u8; 32] {
    let mut hash = [0u8; 32];
    let mut width = 1u64;
    while width < leaves {
        hash = parent(&hash, &hash);
        width *= 2;
    }
    hash
}

/// The merkle root over `leaves`, padded with `pad` up to the next power of two.
/// An empty slice has the root `pad`.
pub fn root(leaves: &[[u8; 32]], pad: [u8; 32]) -> [u8; 32] {
    if leaves.is_empty() {
        return pad;
    }
    let mut layer = leaves.to_vec();
    let mut pad = pad;
    while layer.len() > 1 {
        let next: Vec<[u8; 32]> = layer
            .chunks(2)
            .map(|pair| parent(&pair[0], pair.get(1).unwrap_or(&pad)))
            .collect();
        pad = parent(&pad, &pad);
        layer = next;
    }
    layer[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
        parent(a, b)
    }

    #[test]
    fn three_leaves_are_padded_to_four() {
        let (a, b, c, z) = ([1u8; 32], [2u8; 32], [3u8; 32], [0u8; 32]);
        assert_eq!(root(&[a, b, c], z), h(&h(&a, &b), &h(&c, &z)));
        assert_eq!(root(&[a], z), a);
    }

    #[test]
    fn the_pad_rises_with_the_layer() {
        // Five leaves: width 8; the right half is (c d)(e pad) over (pad pad).
        let l: Vec<[u8; 32]> = (1..=5u8).map(|i| [i; 32]).collect();
        let p = [9u8; 32];
        let left = h(&h(&l[0], &l[1]), &h(&l[2], &l[3]));
        let right = h(&h(&l[4], &p), &h(&p, &p));
        assert_eq!(root(&l, p), h(&left, &right));
    }

    #[test]
    fn zero_subtree_of_one_leaf_is_the_zero_hash() {
        assert_eq!(zero_subtree_root(1), [0u8; 32]);
        let z = [0u8; 32];
        assert_eq!(zero_subtree_root(4), h(&h(&z, &z), &h(&z, &z)));
    }
}
