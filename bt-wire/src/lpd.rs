//! Local Service Discovery (BEP 14): the `BT-SEARCH` datagram a client multicasts on
//! its local network to say it has a torrent, and its parser.
//!
//! Invariants: a datagram longer than [`MAX_MESSAGE`] is refused before it is read; at
//! most [`MAX_INFOHASHES`] info-hashes are taken from one; nothing a sender writes can
//! make a panic (the fuzz target `lpd_message` checks it).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// BEP 14's IPv4 multicast group and port.
pub const GROUP_V4: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(239, 192, 152, 143), 6771);
/// BEP 14's IPv6 multicast group and port.
pub const GROUP_V6: SocketAddrV6 = SocketAddrV6::new(
    Ipv6Addr::new(0xff15, 0, 0, 0, 0, 0, 0xefc0, 0x988f),
    6771,
    0,
    0,
);
/// The longest datagram read.
pub const MAX_MESSAGE: usize = 1400;
/// Info-hashes taken from one datagram (BEP 14 lets one announce several).
pub const MAX_INFOHASHES: usize = 16;

/// One announce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LpdAnnounce {
    /// The TCP port the sender's peer listens on.
    pub port: u16,
    /// The torrents it has.
    pub info_hashes: Vec<[u8; 20]>,
    /// The sender's cookie, to recognise its own announces coming back.
    pub cookie: Option<String>,
}

/// Why a datagram is not an announce.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LpdError {
    /// Longer than [`MAX_MESSAGE`].
    #[error("LSD datagram of {0} bytes, longer than {MAX_MESSAGE}")]
    TooLong(usize),
    /// Not a `BT-SEARCH * HTTP/1.1` request.
    #[error("not a BT-SEARCH request")]
    NotSearch,
    /// No valid `Port` header.
    #[error("LSD announce without a valid Port")]
    Port,
    /// No valid `Infohash` header.
    #[error("LSD announce without a valid Infohash")]
    Infohash,
}

impl LpdAnnounce {
    /// The datagram announcing `info_hashes` to `group`.
    pub fn encode(&self, group: SocketAddr) -> Vec<u8> {
        let mut out = format!(
            "BT-SEARCH * HTTP/1.1\r\nHost: {group}\r\nPort: {}\r\n",
            self.port
        );
        for h in &self.info_hashes {
            out.push_str("Infohash: ");
            for b in h {
                out.push_str(&format!("{b:02x}"));
            }
            out.push_str("\r\n");
        }
        if let Some(c) = &self.cookie {
            out.push_str(&format!("cookie: {c}\r\n"));
        }
        out.push_str("\r\n\r\n");
        out.into_bytes()
    }

    /// Parses a datagram. Header names are matched without regard to case; unknown
    /// headers are skipped; an `Infohash` that is not 40 hex digits is skipped.
    pub fn parse(datagram: &[u8]) -> Result<LpdAnnounce, LpdError> {
        if datagram.len() > MAX_MESSAGE {
            return Err(LpdError::TooLong(datagram.len()));
        }
        let text = std::str::from_utf8(datagram).map_err(|_| LpdError::NotSearch)?;
        let mut lines = text.split("\r\n");
        if lines.next() != Some("BT-SEARCH * HTTP/1.1") {
            return Err(LpdError::NotSearch);
        }
        let (mut port, mut info_hashes, mut cookie) = (None, Vec::new(), None);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("port") {
                port = value.parse::<u16>().ok().filter(|&p| p != 0);
            } else if name.eq_ignore_ascii_case("infohash") {
                if info_hashes.len() < MAX_INFOHASHES
                    && let Some(h) = hex20(value)
                {
                    info_hashes.push(h);
                }
            } else if name.eq_ignore_ascii_case("cookie") {
                // Cut to 64 characters, then trimmed again: a cut that ends in a
                // space would not read back the same.
                let cut: String = value.chars().take(64).collect();
                cookie = Some(cut.trim_end().to_string());
            }
        }
        let port = port.ok_or(LpdError::Port)?;
        if info_hashes.is_empty() {
            return Err(LpdError::Infohash);
        }
        Ok(LpdAnnounce {
            port,
            info_hashes,
            cookie,
        })
    }
}

fn hex20(text: &str) -> Option<[u8; 20]> {
    let bytes = text.as_bytes();
    if bytes.len() != 40 {
        return None;
    }
    let mut out = [0u8; 20];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16);
        out[i] = (digit(pair[0])? * 16 + digit(pair[1])?) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announces_read_back_and_bad_ones_are_refused() {
        let a = LpdAnnounce {
            port: 6881,
            info_hashes: vec![[0xab; 20], [0x01; 20]],
            cookie: Some("swarmget-1".into()),
        };
        let bytes = a.encode(SocketAddr::V4(GROUP_V4));
        assert!(bytes.starts_with(b"BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\n"));
        assert_eq!(LpdAnnounce::parse(&bytes), Ok(a));
        // Case-insensitive names, an upper-case hash, a bad hash skipped.
        let other = b"BT-SEARCH * HTTP/1.1\r\nHOST: x\r\nport: 51413\r\n\
            infohash: ABABABABABABABABABABABABABABABABABABABAB\r\nInfohash: zz\r\n\r\n\r\n";
        let p = LpdAnnounce::parse(other).unwrap();
        assert_eq!(
            (p.port, p.info_hashes, p.cookie),
            (51413, vec![[0xab; 20]], None)
        );
        assert_eq!(
            LpdAnnounce::parse(b"GET / HTTP/1.1\r\n\r\n"),
            Err(LpdError::NotSearch)
        );
        assert_eq!(
            LpdAnnounce::parse(b"BT-SEARCH * HTTP/1.1\r\nPort: 0\r\n\r\n"),
            Err(LpdError::Port)
        );
        assert_eq!(
            LpdAnnounce::parse(b"BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n\r\n"),
            Err(LpdError::Infohash)
        );
        assert_eq!(
            LpdAnnounce::parse(&vec![b'a'; MAX_MESSAGE + 1]),
            Err(LpdError::TooLong(MAX_MESSAGE + 1))
        );
        let many: String = (0..20)
            .map(|i| format!("Infohash: {:040x}\r\n", i))
            .collect();
        let flood = format!("BT-SEARCH * HTTP/1.1\r\nPort: 9\r\n{many}\r\n");
        assert_eq!(
            LpdAnnounce::parse(flood.as_bytes()).map(|a| a.info_hashes.len()),
            Ok(MAX_INFOHASHES)
        );
    }
}
