//! "Compact" addresses as BEP 5 and BEP 32 write them: a peer is its IP address then its
//! port, big-endian (6 bytes for IPv4, 18 for IPv6); a node is its id then its peer form
//! (26 or 38 bytes).
//!
//! Invariant: parsing accepts only whole records (a length that is not a multiple of the
//! record size is an error, never a truncated last record), so a list's length bounds the
//! number of records read.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::id::{ID_LEN, NodeId};

/// Which address family a table, a node or a compact list belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4: BEP 5's `nodes`, 6-byte peers.
    V4,
    /// IPv6: BEP 32's `nodes6`, 18-byte peers.
    V6,
}

impl Family {
    /// The family of `addr`. An IPv4-mapped IPv6 address counts as IPv6, as it arrives
    /// on an IPv6 socket.
    pub fn of(addr: &SocketAddr) -> Family {
        match addr {
            SocketAddr::V4(_) => Family::V4,
            SocketAddr::V6(_) => Family::V6,
        }
    }

    /// Bytes in a compact peer of this family.
    pub const fn peer_len(self) -> usize {
        match self {
            Family::V4 => 6,
            Family::V6 => 18,
        }
    }

    /// Bytes in a compact node of this family.
    pub const fn node_len(self) -> usize {
        ID_LEN + self.peer_len()
    }
}

/// A node: its id and where it listens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeAddr {
    /// The node's id.
    pub id: NodeId,
    /// Its UDP address.
    pub addr: SocketAddr,
}

/// Appends `addr` in compact peer form.
pub fn write_peer(addr: &SocketAddr, out: &mut Vec<u8>) {
    match addr.ip() {
        IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
    }
    out.extend_from_slice(&addr.port().to_be_bytes());
}

/// Reads one compact peer of 6 or 18 bytes.
pub fn read_peer(bytes: &[u8]) -> Option<SocketAddr> {
    let (ip, port) = match bytes.len() {
        6 => {
            let octets: [u8; 4] = bytes[..4].try_into().ok()?;
            (IpAddr::V4(Ipv4Addr::from(octets)), &bytes[4..])
        }
        18 => {
            let octets: [u8; 16] = bytes[..16].try_into().ok()?;
            (IpAddr::V6(Ipv6Addr::from(octets)), &bytes[16..])
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, u16::from_be_bytes([port[0], port[1]])))
}

/// Appends `nodes` in compact node form; nodes of the other family are skipped.
pub fn write_nodes(family: Family, nodes: &[NodeAddr], out: &mut Vec<u8>) {
    for node in nodes.iter().filter(|n| Family::of(&n.addr) == family) {
        out.extend_from_slice(node.id.as_bytes());
        write_peer(&node.addr, out);
    }
}

/// Reads a compact node list of `family`, or `None` if its length is not a whole number
/// of records.
pub fn read_nodes(family: Family, bytes: &[u8]) -> Option<Vec<NodeAddr>> {
    let len = family.node_len();
    if !bytes.len().is_multiple_of(len) {
        return None;
    }
    bytes
        .chunks_exact(len)
        .map(|record| {
            Some(NodeAddr {
                id: NodeId::from_slice(&record[..ID_LEN])?,
                addr: read_peer(&record[ID_LEN..])?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_round_trip_and_partial_records_are_refused() {
        let nodes = vec![
            NodeAddr {
                id: NodeId([1; 20]),
                addr: "1.2.3.4:6881".parse().unwrap(),
            },
            NodeAddr {
                id: NodeId([2; 20]),
                addr: "5.6.7.8:1".parse().unwrap(),
            },
        ];
        let mut out = Vec::new();
        write_nodes(Family::V4, &nodes, &mut out);
        assert_eq!(out.len(), 52);
        assert_eq!(read_nodes(Family::V4, &out), Some(nodes));
        assert_eq!(read_nodes(Family::V4, &out[..51]), None);
        assert_eq!(read_nodes(Family::V6, &out), None);
    }
}
