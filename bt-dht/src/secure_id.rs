//! BEP 42: node ids tied to the node's IP address, so one machine cannot choose ids near
//! a target of its liking.
//!
//! The first 21 bits of a conforming id equal the first 21 bits of
//! CRC-32C((ip & mask) | (r << 29)), where `r` is the id's last byte's low 3 bits and the
//! mask keeps 6 bits of the first IPv4 byte or 8 of the first IPv6 bytes. Addresses that
//! cannot be checked (loopback, private, link-local, unique-local) are exempt.
//!
//! Invariant: [`secure_id`] always produces an id that [`is_secure`] accepts for the same
//! address.

use std::net::IpAddr;

use crate::id::NodeId;

const V4_MASK: [u8; 4] = [0x03, 0x0f, 0x3f, 0xff];
const V6_MASK: [u8; 8] = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/// CRC-32C (Castagnoli), bit by bit: ids are checked a few times per second at most.
fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn ip_crc(ip: &IpAddr, r: u8) -> u32 {
    let r = r & 7;
    match ip {
        IpAddr::V4(v4) => {
            let mut masked = v4.octets();
            for (byte, mask) in masked.iter_mut().zip(V4_MASK) {
                *byte &= mask;
            }
            masked[0] |= r << 5;
            crc32c(&masked)
        }
        IpAddr::V6(v6) => {
            let mut masked: [u8; 8] = v6.octets()[..8].try_into().expect("8 of 16 bytes");
            for (byte, mask) in masked.iter_mut().zip(V6_MASK) {
                *byte &= mask;
            }
            masked[0] |= r << 5;
            crc32c(&masked)
        }
    }
}

/// Whether BEP 42 exempts `ip` (it has no public, checkable address).
pub fn is_exempt(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link local
        }
    }
}

/// Whether `id` is one BEP 42 allows a node at `ip` to have (exempt addresses: any id).
pub fn is_secure(id: &NodeId, ip: &IpAddr) -> bool {
    if is_exempt(ip) {
        return true;
    }
    let crc = ip_crc(ip, id.0[19]).to_be_bytes();
    id.0[0] == crc[0] && id.0[1] == crc[1] && (id.0[2] & 0xf8) == (crc[2] & 0xf8)
}

/// A BEP 42 id for a node at `ip`, its free bits taken from `random`.
pub fn secure_id(ip: &IpAddr, random: [u8; 20]) -> NodeId {
    let mut id = random;
    let crc = ip_crc(ip, id[19]).to_be_bytes();
    id[0] = crc[0];
    id[1] = crc[1];
    id[2] = (crc[2] & 0xf8) | (id[2] & 0x07);
    NodeId(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BEP 42's own table: IP, rand (last byte), and the id prefix it must give.
    #[test]
    fn matches_the_examples_in_bep_42() {
        let cases: [(&str, u8, [u8; 3]); 5] = [
            ("124.31.75.21", 1, [0x5f, 0xbf, 0xbf]),
            ("21.75.31.124", 86, [0x5a, 0x3c, 0xe9]),
            ("65.23.51.170", 22, [0xa5, 0xd4, 0x32]),
            ("84.124.73.14", 65, [0x1b, 0x03, 0x21]),
            ("43.213.53.83", 90, [0xe5, 0x6f, 0x6c]),
        ];
        for (ip, r, prefix) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            let mut random = [0u8; 20];
            random[19] = r;
            random[2] = prefix[2];
            let id = secure_id(&ip, random);
            assert_eq!(&id.0[..2], &prefix[..2], "{ip}");
            assert_eq!(id.0[2] & 0xf8, prefix[2] & 0xf8, "{ip}");
            assert!(is_secure(&id, &ip));
            let mut wrong = id;
            wrong.0[0] ^= 0x80;
            assert!(!is_secure(&wrong, &ip));
        }
    }

    #[test]
    fn private_addresses_are_exempt() {
        assert!(is_secure(&NodeId([0; 20]), &"10.1.2.3".parse().unwrap()));
        assert!(is_secure(&NodeId([0; 20]), &"::1".parse().unwrap()));
    }
}
