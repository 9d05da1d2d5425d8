//! Passive mode: the `227` reply to `PASV` (RFC 959, RFC 1123 §4.1.2.6) and
//! the `229` reply to `EPSV` (RFC 2428 §3).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::config::PasvAddressPolicy;
use crate::reply::Reply;

/// Why a passive-mode reply gives no address to connect to. Offsets count
/// bytes of the reply's text ([`Reply::text_bytes`]), after the code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PassiveError {
    /// Neither a `227` nor a `229` reply.
    #[error("reply {code} is not a passive-mode reply (227 or 229)")]
    NotPassiveReply {
        /// The reply's code.
        code: u16,
    },
    /// No `h1,h2,h3,h4,p1,p2` anywhere in a `227` reply.
    #[error("no h1,h2,h3,h4,p1,p2 address in the 227 reply")]
    NoAddress,
    /// A number of the `227` address is above 255.
    #[error("byte {offset}: number above 255 in the 227 address")]
    NumberOutOfRange {
        /// Where the number starts.
        offset: usize,
    },
    /// The `229` reply lacks `(<d><d><d>port<d>)`.
    #[error("byte {offset}: expected (|||port|) in the 229 reply")]
    MalformedEpsv {
        /// Where the text stops matching.
        offset: usize,
    },
    /// The `229` port is above 65535.
    #[error("byte {offset}: port above 65535 in the 229 reply")]
    PortOutOfRange {
        /// Where the port starts.
        offset: usize,
    },
    /// The offered port is 0, which cannot be connected to.
    #[error("the server offered port 0")]
    PortZero,
    /// A `227` address that is not the control connection's peer, refused
    /// by [`PasvAddressPolicy::RejectForeign`].
    #[error("the server offered {offered}, which is not the control connection's peer {peer}")]
    ForeignAddress {
        /// What the reply said.
        offered: SocketAddrV4,
        /// The control connection's peer.
        peer: IpAddr,
    },
}

/// The address in a `227` reply: the first `h1,h2,h3,h4,p1,p2` anywhere in
/// its text, as RFC 1123 §4.1.2.6 advises (servers differ on parentheses and
/// wording). Spaces around the commas are allowed.
///
/// ```
/// use swarmget_ftp_client::{Reply, pasv_address};
/// let reply = Reply::new(227, "Entering Passive Mode (192,0,2,7,19,137).");
/// assert_eq!(pasv_address(&reply).unwrap().to_string(), "192.0.2.7:5001");
/// ```
pub fn pasv_address(reply: &Reply) -> Result<SocketAddrV4, PassiveError> {
    let text = reply.text_bytes();
    let starts = (0..text.len())
        .filter(|&i| text[i].is_ascii_digit() && (i == 0 || !text[i - 1].is_ascii_digit()));
    let (numbers, offsets) = starts
        .filter_map(|i| six_numbers(&text, i))
        .next()
        .ok_or(PassiveError::NoAddress)?;
    let mut bytes = [0u8; 6];
    for ((byte, number), offset) in bytes.iter_mut().zip(numbers).zip(offsets) {
        *byte = u8::try_from(number).map_err(|_| PassiveError::NumberOutOfRange { offset })?;
    }
    let [h1, h2, h3, h4, p1, p2] = bytes;
    let port = u16::from_be_bytes([p1, p2]);
    if port == 0 {
        return Err(PassiveError::PortZero);
    }
    Ok(SocketAddrV4::new(Ipv4Addr::new(h1, h2, h3, h4), port))
}

/// Six comma-separated decimal numbers starting at `text[start]`, with where
/// each starts. Numbers too long for `u32` saturate: they are out of range
/// either way.
fn six_numbers(text: &[u8], start: usize) -> Option<([u32; 6], [usize; 6])> {
    let mut numbers = [0u32; 6];
    let mut offsets = [0usize; 6];
    let mut at = start;
    let skip_spaces = |mut at: usize| {
        while text.get(at) == Some(&b' ') {
            at += 1;
        }
        at
    };
    for k in 0..6 {
        if k > 0 {
            at = skip_spaces(at);
            if text.get(at) != Some(&b',') {
                return None;
            }
            at = skip_spaces(at + 1);
        }
        let digits = text[at.min(text.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        offsets[k] = at;
        numbers[k] = text[at..at + digits].iter().fold(0u32, |n, d| {
            n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
        });
        at += digits;
    }
    Some((numbers, offsets))
}

/// The port in a `229` reply, `(<d><d><d>port<d>)` with `<d>` any printable
/// ASCII character but a digit (RFC 2428 §3; usually `|`).
///
/// ```
/// use swarmget_ftp_client::{Reply, epsv_port};
/// let reply = Reply::new(229, "Entering Extended Passive Mode (|||6446|)");
/// assert_eq!(epsv_port(&reply), Ok(6446));
/// ```
pub fn epsv_port(reply: &Reply) -> Result<u16, PassiveError> {
    let text = reply.text_bytes();
    let open = text
        .iter()
        .position(|&b| b == b'(')
        .ok_or(PassiveError::MalformedEpsv { offset: text.len() })?;
    let malformed = |offset: usize| PassiveError::MalformedEpsv { offset };
    let delimiter = *text.get(open + 1).ok_or(malformed(open + 1))?;
    if !(33..=126).contains(&delimiter) || delimiter.is_ascii_digit() {
        return Err(malformed(open + 1));
    }
    for at in open + 2..open + 4 {
        if text.get(at) != Some(&delimiter) {
            return Err(malformed(at));
        }
    }
    let port_at = open + 4;
    let digits = text[port_at.min(text.len())..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 {
        return Err(malformed(port_at));
    }
    let end = port_at + digits;
    if text.get(end) != Some(&delimiter) {
        return Err(malformed(end));
    }
    if text.get(end + 1) != Some(&b')') {
        return Err(malformed(end + 1));
    }
    let port = text[port_at..end].iter().fold(0u32, |n, d| {
        n.saturating_mul(10).saturating_add(u32::from(d - b'0'))
    });
    match u16::try_from(port) {
        Ok(0) => Err(PassiveError::PortZero),
        Ok(port) => Ok(port),
        Err(_) => Err(PassiveError::PortOutOfRange { offset: port_at }),
    }
}

/// Where to open the data connection after a `227` or `229` reply, given
/// the control connection's `peer` address.
///
/// A `229` reply gives a port on `peer`. A `227` address equal to `peer`
/// (IPv4-mapped IPv6 peers compare by their IPv4 address) or `0.0.0.0`
/// (which some servers send to mean "the same host") gives that port on
/// `peer`; any other address is handled as `policy` says.
///
/// ```
/// use std::net::IpAddr;
/// use swarmget_ftp_client::{PassiveError, PasvAddressPolicy, Reply, passive_data_address};
///
/// let peer: IpAddr = "192.0.2.7".parse().unwrap();
/// let foreign = Reply::new(227, "Entering Passive Mode (10,0,0,1,19,137)");
/// assert!(matches!(
///     passive_data_address(&foreign, peer, PasvAddressPolicy::RejectForeign),
///     Err(PassiveError::ForeignAddress { .. })
/// ));
/// let addr = passive_data_address(&foreign, peer, PasvAddressPolicy::UsePeerAddress).unwrap();
/// assert_eq!(addr.to_string(), "192.0.2.7:5001");
/// ```
pub fn passive_data_address(
    reply: &Reply,
    peer: IpAddr,
    policy: PasvAddressPolicy,
) -> Result<SocketAddr, PassiveError> {
    match reply.code() {
        229 => Ok(SocketAddr::new(peer, epsv_port(reply)?)),
        227 => {
            let offered = pasv_address(reply)?;
            let same_host =
                offered.ip().is_unspecified() || IpAddr::V4(*offered.ip()) == peer.to_canonical();
            match policy {
                _ if same_host => Ok(SocketAddr::new(peer, offered.port())),
                PasvAddressPolicy::RejectForeign => {
                    Err(PassiveError::ForeignAddress { offered, peer })
                }
                PasvAddressPolicy::UsePeerAddress => Ok(SocketAddr::new(peer, offered.port())),
                PasvAddressPolicy::TrustReply => Ok(SocketAddr::V4(offered)),
            }
        }
        code => Err(PassiveError::NotPassiveReply { code }),
    }
}
