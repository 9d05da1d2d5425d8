//! `--no-proxy` / `no_proxy`: the hosts that bypass proxies, with aria2's rules.
//!
//! A comma-separated list; each entry is one of:
//! - a domain with a leading dot, `.example.com`: every name that ends with it
//!   (`a.example.com`, not `example.com` itself), never an address literal;
//! - a host name or address, `example.com`, `10.1.2.3`, `::1`: that host exactly
//!   (names compared without case, addresses as addresses);
//! - a network, `10.0.0.0/8`, `fd00::/8`: any address literal inside it. As in
//!   aria2, a name is not resolved to be compared with a network.
//!
//! Empty entries and surrounding blanks are ignored.

use std::net::IpAddr;

use thiserror::Error;

/// A parsed no-proxy list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// Lowercase, with its leading dot.
    Suffix(String),
    /// Lowercase.
    Host(String),
    Addr(IpAddr),
    Net(IpAddr, u8),
}

/// Why a no-proxy list was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoProxyError {
    /// A `/` entry whose address or prefix length is not valid.
    #[error("no-proxy: '{0}' is not a network (ADDRESS/BITS)")]
    Network(String),
    /// An entry with characters no host name has.
    #[error("no-proxy: '{0}' is not a host name, domain or network")]
    Entry(String),
}

impl NoProxy {
    /// Parses a list.
    pub fn parse(value: &str) -> Result<NoProxy, NoProxyError> {
        let mut entries = Vec::new();
        for raw in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let entry = match raw.split_once('/') {
                Some((addr, bits)) => {
                    let bad = || NoProxyError::Network(raw.to_string());
                    let addr: IpAddr = strip_brackets(addr).parse().map_err(|_| bad())?;
                    let max = if addr.is_ipv4() { 32 } else { 128 };
                    let bits: u8 = bits.parse().ok().filter(|&b| b <= max).ok_or_else(bad)?;
                    Entry::Net(addr, bits)
                }
                None => {
                    let bare = strip_brackets(raw);
                    if let Ok(addr) = bare.parse::<IpAddr>() {
                        Entry::Addr(addr)
                    } else if bare.bytes().any(|b| b.is_ascii_control() || b == b' ') {
                        return Err(NoProxyError::Entry(raw.to_string()));
                    } else {
                        // A fully qualified name's final dot means nothing here: hosts
                        // are compared without it too.
                        let name = bare.trim_end_matches('.').to_ascii_lowercase();
                        match name.len() {
                            0 => continue,
                            _ if name.starts_with('.') => Entry::Suffix(name),
                            _ => Entry::Host(name),
                        }
                    }
                }
            };
            entries.push(entry);
        }
        Ok(NoProxy { entries })
    }

    /// Whether the list is empty (nothing bypasses the proxy).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `host` (a URL's host: a name, or an address, IPv6 bracketed or not)
    /// bypasses the proxy.
    pub fn matches(&self, host: &str) -> bool {
        let bare = strip_brackets(host);
        let addr = bare.parse::<IpAddr>().ok();
        let name = bare.trim_end_matches('.').to_ascii_lowercase();
        self.entries.iter().any(|entry| match (entry, addr) {
            (Entry::Addr(a), Some(b)) => *a == b,
            (Entry::Net(net, bits), Some(b)) => in_network(*net, *bits, b),
            (Entry::Suffix(s), None) => name.ends_with(s.as_str()),
            (Entry::Host(h), None) => name == *h,
            _ => false,
        })
    }
}

fn strip_brackets(s: &str) -> &str {
    s.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(s)
}

/// Whether `addr` is within `net/bits` (families must agree).
fn in_network(net: IpAddr, bits: u8, addr: IpAddr) -> bool {
    let (net, addr, width) = match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => (u128::from(u32::from(n)), u128::from(u32::from(a)), 32),
        (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
        _ => return false,
    };
    if bits == 0 {
        return true;
    }
    let shift = width - u32::from(bits);
    (net >> shift) == (addr >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aria2_rules() {
        let list =
            NoProxy::parse(" localhost, .Example.com,10.0.0.0/8 ,::1,fd00::/8,,[::2]").unwrap();
        for yes in [
            "localhost",
            "LOCALHOST",
            "a.example.com",
            "b.a.example.com.",
            "10.200.1.1",
            "[::1]",
            "fd00::5",
            "::2",
        ] {
            assert!(list.matches(yes), "{yes}");
        }
        for no in [
            "example.com",
            "localhost.evil",
            "11.0.0.1",
            "::3",
            "xexample.com",
            "fe80::1",
        ] {
            assert!(!list.matches(no), "{no}");
        }
        assert!(NoProxy::parse("0.0.0.0/0").unwrap().matches("8.8.8.8"));
        assert!(NoProxy::parse("").unwrap().is_empty());
        // Trailing dots on either side (found by the no_proxy_parse fuzz target).
        let dotted = NoProxy::parse(".exampl.,host.").unwrap();
        assert!(dotted.matches("x.exampl.") && dotted.matches("x.exampl"));
        assert!(dotted.matches("host") && dotted.matches("HOST."));
        assert!(NoProxy::parse("..,.").unwrap().is_empty());
    }

    #[test]
    fn bad_networks_are_refused() {
        for bad in ["10.0.0.0/33", "x/8", "10.0.0.0/", "::/129", "a b"] {
            assert!(NoProxy::parse(bad).is_err(), "{bad}");
        }
    }
}
