//! BEP 10's extension handshake: which extensions the peer speaks, and under which ids.

use std::collections::BTreeMap;

use swarmget_bencode::{Decoder, Encoder, Value};

use super::WireError;

/// The bencoded dictionary sent as extended message 0.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtensionHandshake {
    /// Extension name → the id the *sender* wants to receive it under; 0 disables it.
    pub m: BTreeMap<String, u8>,
    /// Client name and version.
    pub v: Option<String>,
    /// The sender's listen port.
    pub p: Option<u16>,
    /// How many outstanding requests the sender queues.
    pub reqq: Option<u32>,
    /// ut_metadata (BEP 9): size of the info dictionary.
    pub metadata_size: Option<u64>,
    /// The receiver's address as the sender sees it (4 or 16 bytes).
    pub yourip: Option<Vec<u8>>,
}

impl ExtensionHandshake {
    /// Parses the payload of extended message 0. Unknown keys, and `m` entries that are not
    /// small integers, are ignored (BEP 10 lets each client add its own).
    pub fn parse(payload: &[u8]) -> Result<Self, WireError> {
        let bad = WireError::BadExtensionHandshake;
        let value = Decoder::new()
            .lenient(true)
            .decode(payload)
            .map_err(|_| bad("not bencode"))?
            .value;
        let dict = value.as_dict().ok_or(bad("not a dictionary"))?;
        let mut h = Self::default();
        if let Some(m) = dict.get("m") {
            let m = m.as_dict().ok_or(bad("`m` is not a dictionary"))?;
            for (name, id) in m.iter() {
                let (Ok(name), Some(id)) = (std::str::from_utf8(name), id.as_int()) else {
                    continue;
                };
                if let Ok(id) = u8::try_from(id) {
                    h.m.insert(name.to_string(), id);
                }
            }
        }
        let int = |key: &str| dict.get(key).and_then(Value::as_int);
        h.v = dict.get("v").and_then(Value::as_str).map(str::to_string);
        h.p = int("p")
            .and_then(|p| u16::try_from(p).ok())
            .filter(|&p| p != 0);
        h.reqq = int("reqq").and_then(|r| u32::try_from(r).ok());
        h.metadata_size = int("metadata_size").and_then(|s| u64::try_from(s).ok());
        h.yourip = dict
            .get("yourip")
            .and_then(Value::as_bytes)
            .filter(|ip| ip.len() == 4 || ip.len() == 16)
            .map(<[u8]>::to_vec);
        Ok(h)
    }

    /// The id under which the sender wants to receive extension `name`, if enabled.
    pub fn id_of(&self, name: &str) -> Option<u8> {
        self.m.get(name).copied().filter(|&id| id != 0)
    }

    /// The bencoded payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.value().dict(|d| {
            d.entry(b"m").dict(|m| {
                for (name, id) in &self.m {
                    m.entry(name.as_bytes()).int(i64::from(*id));
                }
            });
            if let Some(size) = self.metadata_size {
                d.entry(b"metadata_size")
                    .int(i64::try_from(size).unwrap_or(i64::MAX));
            }
            if let Some(p) = self.p {
                d.entry(b"p").int(i64::from(p));
            }
            if let Some(r) = self.reqq {
                d.entry(b"reqq").int(i64::from(r));
            }
            if let Some(v) = &self.v {
                d.entry(b"v").str(v);
            }
            if let Some(ip) = &self.yourip {
                d.entry(b"yourip").bytes(ip);
            }
        });
        e.into_bytes()
    }
}
