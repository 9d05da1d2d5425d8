//! The 68-byte handshake: protocol string, reserved bits, info-hash, peer id.

use super::WireError;

/// `\x13BitTorrent protocol`.
pub const PROTOCOL: &[u8; 20] = b"\x13BitTorrent protocol";

/// A peer's handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake {
    /// Eight reserved bytes announcing extensions.
    pub reserved: [u8; 8],
    /// The torrent's (wire) info-hash.
    pub info_hash: [u8; 20],
    /// The sender's peer id.
    pub peer_id: [u8; 20],
}

impl Handshake {
    /// Bytes on the wire.
    pub const LEN: usize = 68;

    /// A handshake announcing the fast extension (BEP 6), the extension protocol (BEP 10)
    /// and, when `dht`, DHT (BEP 5).
    pub fn new(info_hash: [u8; 20], peer_id: [u8; 20], dht: bool) -> Self {
        let mut reserved = [0u8; 8];
        reserved[5] |= 0x10;
        reserved[7] |= 0x04;
        if dht {
            reserved[7] |= 0x01;
        }
        Self {
            reserved,
            info_hash,
            peer_id,
        }
    }

    /// BEP 6: reserved bit 62.
    pub fn fast(&self) -> bool {
        self.reserved[7] & 0x04 != 0
    }

    /// BEP 10: reserved bit 20 (from the left).
    pub fn extension_protocol(&self) -> bool {
        self.reserved[5] & 0x10 != 0
    }

    /// BEP 5: the last reserved bit.
    pub fn dht(&self) -> bool {
        self.reserved[7] & 0x01 != 0
    }

    /// The handshake's bytes.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        out[..20].copy_from_slice(PROTOCOL);
        out[20..28].copy_from_slice(&self.reserved);
        out[28..48].copy_from_slice(&self.info_hash);
        out[48..].copy_from_slice(&self.peer_id);
        out
    }

    /// Reads a handshake from the start of `buf`: `Ok(None)` until 68 bytes are there, an
    /// error as soon as the bytes seen cannot start a handshake.
    pub fn parse(buf: &[u8]) -> Result<Option<Self>, WireError> {
        let seen = buf.len().min(PROTOCOL.len());
        if buf[..seen] != PROTOCOL[..seen] {
            return Err(WireError::BadHandshake);
        }
        if buf.len() < Self::LEN {
            return Ok(None);
        }
        let mut h = Self {
            reserved: [0; 8],
            info_hash: [0; 20],
            peer_id: [0; 20],
        };
        h.reserved.copy_from_slice(&buf[20..28]);
        h.info_hash.copy_from_slice(&buf[28..48]);
        h.peer_id.copy_from_slice(&buf[48..68]);
        Ok(Some(h))
    }
}
