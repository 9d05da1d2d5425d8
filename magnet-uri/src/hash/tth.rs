//! Tiger tree hash (THEX), as Direct Connect and Gnutella2 use it.
//!
//! The file is cut into 1024-byte leaves; a leaf hashes to `tiger(0x00 ‖ leaf)` and an
//! inner node to `tiger(0x01 ‖ left ‖ right)`. A level with an odd number of nodes
//! promotes its last node unchanged to the level above. The empty file is one empty leaf,
//! `tiger(0x00)`.

use tiger::{Digest, Tiger};

/// Bytes per leaf.
pub const LEAF_SIZE: usize = 1024;

/// Streaming Tiger tree hasher.
///
/// Completed subtrees are kept on a stack, at most one per level (so at most 64
/// entries): pushing a leaf merges equal-level subtrees the way binary carry propagates.
/// At the end, merging the stack from the right reproduces THEX's "promote the odd node"
/// rule.
#[derive(Clone)]
pub struct TigerTree {
    leaf: Tiger,
    leaf_len: usize,
    leaves: u64,
    stack: Vec<(u32, [u8; 24])>,
}

impl Default for TigerTree {
    fn default() -> Self {
        Self::new()
    }
}

impl TigerTree {
    /// A hasher for an empty input.
    pub fn new() -> Self {
        TigerTree {
            leaf: leaf_hasher(),
            leaf_len: 0,
            leaves: 0,
            stack: Vec::new(),
        }
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (LEAF_SIZE - self.leaf_len).min(data.len());
            let (head, rest) = data.split_at(take);
            self.leaf.update(head);
            self.leaf_len += take;
            data = rest;
            if self.leaf_len == LEAF_SIZE {
                self.close_leaf();
            }
        }
    }

    fn close_leaf(&mut self) {
        let leaf = std::mem::replace(&mut self.leaf, leaf_hasher());
        self.leaf_len = 0;
        self.leaves += 1;
        let mut node = (0u32, digest(leaf));
        while let Some(&(level, left)) = self.stack.last() {
            if level != node.0 {
                break;
            }
            self.stack.pop();
            node = (level + 1, inner(&left, &node.1));
        }
        self.stack.push(node);
    }

    /// The root hash.
    pub fn finish(mut self) -> [u8; 24] {
        // A partial last leaf counts; so does the single empty leaf of an empty file.
        if self.leaf_len > 0 || self.leaves == 0 {
            self.close_leaf();
        }
        let mut root = self.stack.pop().map(|(_, hash)| hash).unwrap_or_default();
        while let Some((_, left)) = self.stack.pop() {
            root = inner(&left, &root);
        }
        root
    }
}

fn leaf_hasher() -> Tiger {
    Tiger::new_with_prefix([0x00])
}

fn inner(left: &[u8; 24], right: &[u8; 24]) -> [u8; 24] {
    let mut h = Tiger::new_with_prefix([0x01]);
    h.update(left);
    h.update(right);
    digest(h)
}

fn digest(h: Tiger) -> [u8; 24] {
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// THEX by definition, level by level, for checking the streaming version.
    fn by_levels(data: &[u8]) -> [u8; 24] {
        let mut level: Vec<[u8; 24]> = if data.is_empty() {
            vec![digest(leaf_hasher())]
        } else {
            data.chunks(LEAF_SIZE)
                .map(|c| {
                    let mut h = leaf_hasher();
                    h.update(c);
                    digest(h)
                })
                .collect()
        };
        while level.len() > 1 {
            level = level
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => inner(l, r),
                    [odd] => *odd,
                    _ => unreachable!("chunks(2)"),
                })
                .collect();
        }
        level[0]
    }

    #[test]
    fn matches_the_level_by_level_definition() {
        let data: Vec<u8> = (0..11 * LEAF_SIZE + 300)
            .map(|i| (i * 7 + i / 1000) as u8)
            .collect();
        for len in [
            0,
            1,
            1023,
            1024,
            1025,
            2048,
            3 * 1024,
            5 * 1024 + 1,
            8 * 1024,
            data.len(),
        ] {
            let mut t = TigerTree::new();
            // Odd-sized updates cross leaf boundaries at different points.
            for chunk in data[..len].chunks(333) {
                t.update(chunk);
            }
            assert_eq!(t.finish(), by_levels(&data[..len]), "length {len}");
        }
    }
}
