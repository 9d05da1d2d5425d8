//! The routing table saved as bytes, in aria2's `dht.dat` format (version 3), so that a
//! file written by aria2 starts swarmget's table and the other way round. The engine
//! writes and reads the file; this module only turns a table into bytes and back.
//!
//! Layout, all integers big-endian:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | header `a1 a2 02 00 00 00 00 03` (magic, format 2, version 3) |
//! | 8 | save time, seconds since the Unix epoch |
//! | 8 | reserved |
//! | 20 | our node id |
//! | 4 | reserved |
//! | 4 | node count `n` |
//! | 4 | reserved |
//! | 56 × n | per node: 1 byte compact address length (6 or 18), 7 reserved, the compact address padded to 24 bytes, 20 bytes id, 4 reserved |
//!
//! Invariants:
//! - [`load`] never reads past the input and never allocates for more nodes than the
//!   input holds (the count is checked against the length first);
//! - a node whose address length is not its file's family's, or whose address is all
//!   zeros (aria2 writes zeros for an address of the other family), is skipped, not an
//!   error; a bad header or a short file is an error;
//! - `load(save(t))` gives back `t`'s id and nodes in order.

use std::net::SocketAddr;

use thiserror::Error;

use crate::compact::{self, Family, NodeAddr};
use crate::id::NodeId;

const HEADER: [u8; 8] = [0xa1, 0xa2, 0x02, 0x00, 0x00, 0x00, 0x00, 0x03];
const PREAMBLE: usize = 8 + 8 + 8 + 20 + 4 + 4 + 4;
const RECORD: usize = 56;

/// A routing table as saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedTable {
    /// When it was saved (seconds since the Unix epoch).
    pub saved_at: u64,
    /// Our node id.
    pub id: NodeId,
    /// The nodes, in the order saved.
    pub nodes: Vec<NodeAddr>,
}

/// Why saved bytes could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Not aria2's DHT format version 3 (or not a DHT file at all).
    #[error("not a DHT routing table file (bad header)")]
    BadHeader,
    /// Shorter than its header or its node count says.
    #[error("DHT routing table file is truncated: {0} bytes, {1} expected")]
    Truncated(usize, usize),
}

/// The bytes of a table: id `id`, `nodes` of `family` (others are skipped), saved at
/// `saved_at` (seconds since the Unix epoch).
pub fn save(family: Family, id: &NodeId, nodes: &[NodeAddr], saved_at: u64) -> Vec<u8> {
    let nodes: Vec<&NodeAddr> = nodes
        .iter()
        .filter(|n| Family::of(&n.addr) == family)
        .collect();
    let mut out = Vec::with_capacity(PREAMBLE + RECORD * nodes.len());
    out.extend_from_slice(&HEADER);
    out.extend_from_slice(&saved_at.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&[0; 4]);
    let count = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&count.to_be_bytes());
    out.extend_from_slice(&[0; 4]);
    for node in nodes.iter().take(count as usize) {
        let start = out.len();
        out.push(family.peer_len() as u8);
        out.extend_from_slice(&[0; 7]);
        compact::write_peer(&node.addr, &mut out);
        out.resize(start + 8 + 24, 0);
        out.extend_from_slice(node.id.as_bytes());
        out.extend_from_slice(&[0; 4]);
    }
    out
}

/// Reads a table saved for `family`.
pub fn load(family: Family, bytes: &[u8]) -> Result<SavedTable, LoadError> {
    if bytes.len() < PREAMBLE {
        return Err(LoadError::Truncated(bytes.len(), PREAMBLE));
    }
    if bytes[..8] != HEADER {
        return Err(LoadError::BadHeader);
    }
    let saved_at = u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"));
    let id = NodeId::from_slice(&bytes[24..44]).expect("20 bytes");
    let count = u32::from_be_bytes(bytes[48..52].try_into().expect("4 bytes")) as usize;
    let expected = count
        .checked_mul(RECORD)
        .and_then(|n| n.checked_add(PREAMBLE))
        .unwrap_or(usize::MAX);
    if bytes.len() < expected {
        return Err(LoadError::Truncated(bytes.len(), expected));
    }
    let nodes = bytes[PREAMBLE..expected]
        .chunks_exact(RECORD)
        .filter_map(|record| {
            let len = usize::from(record[0]);
            if len != family.peer_len() {
                return None;
            }
            let addr: SocketAddr = compact::read_peer(&record[8..8 + len])?;
            if addr.ip().is_unspecified() || addr.port() == 0 {
                return None;
            }
            Some(NodeAddr {
                id: NodeId::from_slice(&record[32..52])?,
                addr,
            })
        })
        .collect();
    Ok(SavedTable {
        saved_at,
        id,
        nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(family: Family) -> Vec<NodeAddr> {
        let addrs: [&str; 2] = match family {
            Family::V4 => ["192.0.2.1:6881", "198.51.100.7:51413"],
            Family::V6 => ["[2001:db8::1]:6881", "[2001:db8::7]:51413"],
        };
        addrs
            .iter()
            .enumerate()
            .map(|(i, a)| NodeAddr {
                id: NodeId([i as u8 + 1; 20]),
                addr: a.parse().unwrap(),
            })
            .collect()
    }

    #[test]
    fn both_families_round_trip_in_aria2s_layout() {
        for family in [Family::V4, Family::V6] {
            let bytes = save(family, &NodeId([9; 20]), &nodes(family), 1_700_000_000);
            assert_eq!(bytes.len(), PREAMBLE + 2 * RECORD);
            assert_eq!(bytes[..8], HEADER);
            assert_eq!(bytes[PREAMBLE], family.peer_len() as u8);
            let loaded = load(family, &bytes).unwrap();
            assert_eq!(loaded.id, NodeId([9; 20]));
            assert_eq!(loaded.saved_at, 1_700_000_000);
            assert_eq!(loaded.nodes, nodes(family));
        }
    }

    #[test]
    fn a_count_beyond_the_file_is_refused_without_allocating() {
        let mut bytes = save(Family::V4, &NodeId([9; 20]), &nodes(Family::V4), 0);
        bytes[48..52].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            load(Family::V4, &bytes),
            Err(LoadError::Truncated(..))
        ));
        bytes[0] = 0;
        assert_eq!(load(Family::V4, &bytes), Err(LoadError::BadHeader));
    }

    #[test]
    fn records_of_the_other_family_are_skipped() {
        let bytes = save(Family::V4, &NodeId([9; 20]), &nodes(Family::V4), 0);
        assert_eq!(load(Family::V6, &bytes).unwrap().nodes, vec![]);
    }
}
