//! eMule's AICH (Advanced Intelligent Corruption Handling) root hash.
//!
//! # Tree shape
//!
//! The file is cut into ed2k parts of 9,728,000 bytes, and each part into 53 blocks: 52
//! of 184,320 bytes (180 KiB) and a last one of 143,360 bytes (140 KiB). A block's hash is
//! the SHA-1 of its bytes, and an inner node's is `sha1(left ‖ right)`.
//!
//! A node covering `n > 1` leaves splits them unevenly, and which side gets the extra
//! leaf depends on which side of its parent the node itself hangs: a *left* child gives
//! its left subtree `⌈n/2⌉` leaves, a *right* child gives its left subtree `⌊n/2⌋`. The
//! root counts as a left child.
//!
//! * A file of at most one part is one such tree over its blocks (so a file of at most
//!   one block hashes to the SHA-1 of its bytes, and the empty file to `sha1("")`).
//! * A larger file is such a tree over its parts, and each part is in turn a tree over its
//!   blocks. A part's subtree has the same left/right orientation as the part node in the
//!   tree above, which is not known until the file ends, so each finished part keeps two
//!   hashes: the one it has as a left child and the one it has as a right child.
//!
//! Unlike ed2k, a file whose size is a multiple of the part size has no extra empty part.
//! This is the tree eMule (`CAICHHashTree`, `SHAHashSet.cpp`) and `rhash --aich` build.

use sha1::{Digest, Sha1};

use super::ed2k::CHUNK_SIZE as PART_SIZE;

/// Bytes in a full AICH block.
pub const BLOCK_SIZE: u64 = 184_320;

/// Streaming AICH hasher.
#[derive(Clone, Default)]
pub struct Aich {
    block: Sha1,
    /// Bytes hashed so far in the current part.
    in_part: u64,
    /// Hashes of the finished blocks of the current part (at most 53).
    blocks: Vec<[u8; 20]>,
    /// For each finished part, its hash as a left child and as a right child.
    parts: Vec<([u8; 20], [u8; 20])>,
}

impl Aich {
    /// A hasher for an empty input.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            // Blocks restart at every part boundary; the last block of a part is shorter.
            let to_block_end = BLOCK_SIZE - self.in_part % BLOCK_SIZE;
            let room = to_block_end.min(PART_SIZE - self.in_part);
            let take = usize::try_from(room).map_or(data.len(), |room| room.min(data.len()));
            let (head, rest) = data.split_at(take);
            self.block.update(head);
            self.in_part += take as u64;
            data = rest;
            if take as u64 == room {
                self.close_block();
                if self.in_part == PART_SIZE {
                    self.close_part();
                }
            }
        }
    }

    fn close_block(&mut self) {
        let block = std::mem::take(&mut self.block);
        self.blocks.push(block.finalize().into());
    }

    fn close_part(&mut self) {
        let as_left = tree(&self.blocks, true, |h, _| *h);
        let as_right = tree(&self.blocks, false, |h, _| *h);
        self.parts.push((as_left, as_right));
        self.blocks.clear();
        self.in_part = 0;
    }

    /// The AICH root hash.
    pub fn finish(mut self) -> [u8; 20] {
        // Every finished block of the current part is full, so this is the pending block's size.
        let pending = self.in_part - self.blocks.len() as u64 * BLOCK_SIZE;
        if pending > 0 || (self.in_part == 0 && self.parts.is_empty()) {
            // A partial last block, or the single empty block of an empty file.
            self.close_block();
        }
        if !self.blocks.is_empty() {
            self.close_part();
        }
        tree(
            &self.parts,
            true,
            |&(left, right), is_left| if is_left { left } else { right },
        )
    }
}

/// The root of the AICH tree over `leaves`, for a node on the `is_left` side of its parent.
/// `leaf` picks a leaf's hash given the side it hangs on.
fn tree<T>(leaves: &[T], is_left: bool, leaf: impl Fn(&T, bool) -> [u8; 20] + Copy) -> [u8; 20] {
    match leaves {
        [] => [0; 20],
        [one] => leaf(one, is_left),
        _ => {
            let n = leaves.len();
            let left_count = if is_left { n.div_ceil(2) } else { n / 2 };
            let (l, r) = leaves.split_at(left_count);
            let mut h = Sha1::new();
            h.update(tree(l, true, leaf));
            h.update(tree(r, false, leaf));
            h.finalize().into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha1(data: &[u8]) -> [u8; 20] {
        Sha1::digest(data).into()
    }

    fn node(l: [u8; 20], r: [u8; 20]) -> [u8; 20] {
        sha1(&[l, r].concat())
    }

    fn aich(data: &[u8]) -> [u8; 20] {
        let mut a = Aich::new();
        for chunk in data.chunks(100_000) {
            a.update(chunk);
        }
        a.finish()
    }

    #[test]
    fn small_files_are_plain_sha1() {
        for len in [0usize, 1, 1000, BLOCK_SIZE as usize] {
            let data = vec![0x5a; len];
            assert_eq!(aich(&data), sha1(&data), "length {len}");
        }
    }

    #[test]
    fn three_blocks_split_two_then_one() {
        // Root is a left child: of 3 leaves its left subtree takes 2.
        let data: Vec<u8> = (0..2 * BLOCK_SIZE as usize + 10).map(|i| i as u8).collect();
        let b: Vec<[u8; 20]> = data.chunks(BLOCK_SIZE as usize).map(sha1).collect();
        assert_eq!(aich(&data), node(node(b[0], b[1]), b[2]));
    }

    #[test]
    fn right_children_put_the_extra_leaf_on_the_right() {
        // 5 leaves under a left root: left gets 3 (a left child: 2 + 1),
        // right gets 2.
        let leaves: Vec<[u8; 20]> = (0u8..5).map(|i| sha1(&[i])).collect();
        let expected = node(
            node(node(leaves[0], leaves[1]), leaves[2]),
            node(leaves[3], leaves[4]),
        );
        assert_eq!(tree(&leaves, true, |h, _| *h), expected);
        // The same 5 under a right parent: left gets 2, right gets 3 (a right child: 1 + 2).
        let expected = node(
            node(leaves[0], leaves[1]),
            node(leaves[2], node(leaves[3], leaves[4])),
        );
        assert_eq!(tree(&leaves, false, |h, _| *h), expected);
    }
}
