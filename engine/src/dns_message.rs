//! DNS messages for `--async-dns-server` (RFC 1035): the A and AAAA queries the
//! resolver sends and the addresses read back from answers. Sans-IO: bytes in and out.
//!
//! Invariants: every read is bounds-checked against the message; name compression
//! pointers are followed at most [`MAX_POINTERS`] times (a loop of pointers ends
//! there); at most [`MAX_ANSWERS`] records are read, so a message decides its cost by
//! its length only.

use std::net::IpAddr;

/// Record type A.
pub const TYPE_A: u16 = 1;
/// Record type AAAA.
pub const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
/// Pointers followed in one name.
pub const MAX_POINTERS: usize = 16;
/// Answer records read from one message.
pub const MAX_ANSWERS: usize = 64;

/// Why an answer gave no addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The message is cut short or malformed.
    Malformed(&'static str),
    /// Not the answer to our query (another ID, not a response).
    NotOurs,
    /// The name does not exist (NXDOMAIN).
    NoSuchName,
    /// The server failed (its RCODE).
    Server(u8),
}

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsError::Malformed(why) => write!(f, "malformed DNS answer: {why}"),
            DnsError::NotOurs => f.write_str("DNS answer to another query"),
            DnsError::NoSuchName => f.write_str("no such name"),
            DnsError::Server(code) => write!(f, "DNS server failure (rcode {code})"),
        }
    }
}

/// A recursive query for `name`'s records of `qtype`, with `id`. `None` when `name`
/// cannot be a DNS name (an empty label, a label over 63 bytes, over 253 in all).
pub fn query(id: u16, name: &str, qtype: u16) -> Option<Vec<u8>> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > 253 {
        return None;
    }
    let mut out = Vec::with_capacity(18 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    // Flags: recursion desired; one question.
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Some(out)
}

/// The addresses an answer to query `id` gives (A and AAAA records of any name in the
/// answer section: a CNAME chain's target comes with its records).
pub fn addresses(id: u16, msg: &[u8]) -> Result<Vec<IpAddr>, DnsError> {
    let mut r = Reader { msg, at: 0 };
    let got_id = r.u16()?;
    let flags = r.u16()?;
    if got_id != id || flags & 0x8000 == 0 {
        return Err(DnsError::NotOurs);
    }
    match (flags & 0x000f) as u8 {
        0 => {}
        3 => return Err(DnsError::NoSuchName),
        code => return Err(DnsError::Server(code)),
    }
    let questions = r.u16()?;
    let answers = r.u16()?;
    r.u16()?;
    r.u16()?;
    for _ in 0..questions {
        r.skip_name()?;
        r.take(4)?;
    }
    let mut out = Vec::new();
    for _ in 0..usize::from(answers).min(MAX_ANSWERS) {
        r.skip_name()?;
        let rtype = r.u16()?;
        let class = r.u16()?;
        r.take(4)?;
        let len = usize::from(r.u16()?);
        let data = r.take(len)?;
        match (rtype, class, len) {
            (TYPE_A, CLASS_IN, 4) => out.push(IpAddr::from(<[u8; 4]>::try_from(data).expect("4"))),
            (TYPE_AAAA, CLASS_IN, 16) => {
                out.push(IpAddr::from(<[u8; 16]>::try_from(data).expect("16")))
            }
            _ => {}
        }
    }
    Ok(out)
}

struct Reader<'a> {
    msg: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DnsError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.msg.len());
        let end = end.ok_or(DnsError::Malformed("cut short"))?;
        let bytes = &self.msg[self.at..end];
        self.at = end;
        Ok(bytes)
    }

    fn u16(&mut self) -> Result<u16, DnsError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Moves past a name: labels ending in a zero byte or a compression pointer (the
    /// name it points at is not read: only where this one ends matters).
    fn skip_name(&mut self) -> Result<(), DnsError> {
        for _ in 0..128 {
            let len = self.take(1)?[0];
            match len {
                0 => return Ok(()),
                l if l & 0xc0 == 0xc0 => {
                    self.take(1)?;
                    return Ok(());
                }
                l if l & 0xc0 != 0 => return Err(DnsError::Malformed("reserved label type")),
                l => {
                    self.take(usize::from(l))?;
                }
            }
        }
        Err(DnsError::Malformed("name too long"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer to `q` with these records (each a compressed pointer to the
    /// question's name).
    fn answer(q: &[u8], rcode: u8, records: &[(u16, &[u8])]) -> Vec<u8> {
        let mut m = q.to_vec();
        m[2] = 0x81;
        m[3] = 0x80 | rcode;
        m[6..8].copy_from_slice(&(records.len() as u16).to_be_bytes());
        for (rtype, data) in records {
            m.extend_from_slice(&[0xc0, 12]);
            m.extend_from_slice(&rtype.to_be_bytes());
            m.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
            m.extend_from_slice(&(data.len() as u16).to_be_bytes());
            m.extend_from_slice(data);
        }
        m
    }

    #[test]
    fn queries_are_rfc1035_questions() {
        let q = query(0x1234, "mirror.example.", TYPE_A).unwrap();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..], b"\x06mirror\x07example\x00\x00\x01\x00\x01");
        assert!(query(1, "a..b", TYPE_A).is_none());
        assert!(query(1, &"x".repeat(64), TYPE_A).is_none());
    }

    #[test]
    fn answers_give_their_addresses_and_errors_their_reason() {
        let q = query(7, "m.test", TYPE_A).unwrap();
        let a = answer(&q, 0, &[(5, b"\x01x\x00"), (TYPE_A, &[127, 0, 0, 9])]);
        assert_eq!(addresses(7, &a).unwrap(), [IpAddr::from([127, 0, 0, 9])]);
        assert_eq!(addresses(8, &a), Err(DnsError::NotOurs));
        assert_eq!(addresses(7, &answer(&q, 3, &[])), Err(DnsError::NoSuchName));
        assert_eq!(addresses(7, &answer(&q, 2, &[])), Err(DnsError::Server(2)));
        assert_eq!(
            addresses(7, &a[..a.len() - 2]),
            Err(DnsError::Malformed("cut short"))
        );
        let v6 = answer(
            &query(9, "m.test", TYPE_AAAA).unwrap(),
            0,
            &[(TYPE_AAAA, &[0; 16])],
        );
        assert_eq!(addresses(9, &v6).unwrap(), [IpAddr::from([0u8; 16])]);
    }
}
