//! BEP 11's `ut_pex` message: peers the sender connected to (`added`, `added6`, with a
//! flags byte each in `added.f`, `added6.f`) and dropped (`dropped`, `dropped6`).
//!
//! Invariants: a payload over [`MAX_PAYLOAD`] bytes, a list that is not whole compact
//! records, or a list of more than [`MAX_PEERS`] peers is refused before anything is
//! allocated for it; a flags list shorter than its peers leaves the rest with flags 0
//! (BEP 11 makes them optional in practice); encoding writes every flag, so a decoded
//! message re-encodes to one that decodes the same. (BEP 11 asks senders for at most 50
//! added and 50 dropped per message; the bound here leaves room for clients that send a
//! few more.)

use std::net::SocketAddr;

use swarmget_bencode::{Decoder, Encoder, Value};

use super::ExtensionError;

/// Peers accepted in one list.
pub const MAX_PEERS: usize = 200;
/// The longest payload accepted: four full lists and their flags, and room for keys.
pub const MAX_PAYLOAD: usize = 2 * MAX_PEERS * (6 + 18) + 2 * MAX_PEERS + 256;

/// Flag bits of an added peer.
pub mod flags {
    /// Prefers encryption.
    pub const ENCRYPTION: u8 = 0x01;
    /// Is a seed (or upload only).
    pub const SEED: u8 = 0x02;
    /// Speaks uTP.
    pub const UTP: u8 = 0x04;
    /// Supports the holepunch extension.
    pub const HOLEPUNCH: u8 = 0x08;
    /// Reachable: the sender made an outgoing connection to it.
    pub const REACHABLE: u8 = 0x10;
}

/// An added peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PexPeer {
    /// Its address.
    pub addr: SocketAddr,
    /// Its [`flags`].
    pub flags: u8,
}

/// One `ut_pex` message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PexMessage {
    /// Peers connected to since the last message (IPv4 and IPv6).
    pub added: Vec<PexPeer>,
    /// Peers dropped since the last message.
    pub dropped: Vec<SocketAddr>,
}

fn peers(
    dict: &Value<'_>,
    key: &'static str,
    len: usize,
) -> Result<Vec<SocketAddr>, ExtensionError> {
    let Some(value) = dict.get(key) else {
        return Ok(Vec::new());
    };
    let bytes = value.as_bytes().ok_or(ExtensionError::Field(key))?;
    if !bytes.len().is_multiple_of(len) {
        return Err(ExtensionError::Field(key));
    }
    let count = bytes.len() / len;
    if count > MAX_PEERS {
        return Err(ExtensionError::TooManyPeers {
            list: key,
            count,
            max: MAX_PEERS,
        });
    }
    Ok(bytes
        .chunks_exact(len)
        .map(|record| {
            let (ip, port) = record.split_at(len - 2);
            let port = u16::from_be_bytes([port[0], port[1]]);
            let ip: std::net::IpAddr = match ip.len() {
                4 => <[u8; 4]>::try_from(ip).expect("4 bytes").into(),
                _ => <[u8; 16]>::try_from(ip).expect("16 bytes").into(),
            };
            SocketAddr::new(ip, port)
        })
        .collect())
}

fn with_flags(dict: &Value<'_>, addrs: Vec<SocketAddr>, key: &str) -> Vec<PexPeer> {
    let flags = dict.get(key).and_then(Value::as_bytes).unwrap_or_default();
    addrs
        .into_iter()
        .enumerate()
        .map(|(i, addr)| PexPeer {
            addr,
            flags: flags.get(i).copied().unwrap_or(0),
        })
        .collect()
}

impl PexMessage {
    /// Parses an extended message's payload.
    pub fn parse(payload: &[u8]) -> Result<Self, ExtensionError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(ExtensionError::TooLong {
                len: payload.len(),
                max: MAX_PAYLOAD,
            });
        }
        let dict = Decoder::new()
            .lenient(true)
            .max_depth(4)
            .decode(payload)
            .map_err(|e| ExtensionError::NotBencode(e.to_string()))?
            .value;
        if dict.as_dict().is_none() {
            return Err(ExtensionError::NotBencode("not a dictionary".into()));
        }
        let mut added = with_flags(&dict, peers(&dict, "added", 6)?, "added.f");
        added.extend(with_flags(&dict, peers(&dict, "added6", 18)?, "added6.f"));
        let mut dropped = peers(&dict, "dropped", 6)?;
        dropped.extend(peers(&dict, "dropped6", 18)?);
        Ok(PexMessage { added, dropped })
    }

    /// The payload. Lists longer than [`MAX_PEERS`] per family are cut there, so that the
    /// receiver (this parser among others) takes the message.
    pub fn encode(&self) -> Vec<u8> {
        let mut lists: [Vec<u8>; 6] = Default::default();
        let [a4, f4, a6, f6, d4, d6] = &mut lists;
        let (mut n4, mut n6) = (0, 0);
        for p in &self.added {
            match p.addr {
                SocketAddr::V4(v4) if n4 < MAX_PEERS => {
                    n4 += 1;
                    a4.extend_from_slice(&v4.ip().octets());
                    a4.extend_from_slice(&v4.port().to_be_bytes());
                    f4.push(p.flags);
                }
                SocketAddr::V6(v6) if n6 < MAX_PEERS => {
                    n6 += 1;
                    a6.extend_from_slice(&v6.ip().octets());
                    a6.extend_from_slice(&v6.port().to_be_bytes());
                    f6.push(p.flags);
                }
                _ => {}
            }
        }
        let (mut n4, mut n6) = (0, 0);
        for addr in &self.dropped {
            match addr {
                SocketAddr::V4(v4) if n4 < MAX_PEERS => {
                    n4 += 1;
                    d4.extend_from_slice(&v4.ip().octets());
                    d4.extend_from_slice(&v4.port().to_be_bytes());
                }
                SocketAddr::V6(v6) if n6 < MAX_PEERS => {
                    n6 += 1;
                    d6.extend_from_slice(&v6.ip().octets());
                    d6.extend_from_slice(&v6.port().to_be_bytes());
                }
                _ => {}
            }
        }
        let mut e = Encoder::new();
        e.value().dict(|d| {
            d.entry(b"added").bytes(a4);
            d.entry(b"added.f").bytes(f4);
            d.entry(b"added6").bytes(a6);
            d.entry(b"added6.f").bytes(f6);
            d.entry(b"dropped").bytes(d4);
            d.entry(b"dropped6").bytes(d6);
        });
        e.into_bytes()
    }
}
