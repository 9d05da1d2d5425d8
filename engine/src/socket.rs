//! Outgoing TCP sockets as the options shape them: bound to `--interface` (or the next
//! of `--multiple-interface`), and with `--socket-recv-buffer-size` set before the
//! connect, so the window scale the handshake announces can make use of it.
//!
//! An interface is named by an address (`192.0.2.7`, `::1`) or by its name (`eth0`,
//! `lo`); a name stands for its first address of the family the peer needs. Host names
//! are not looked up here (that would block the loop): aria2 accepts them, swarmget
//! refuses them with the interface's name in the message.

use std::io;
use std::net::{IpAddr, SocketAddr};

use mio::net::TcpStream;
use socket2::{Domain, Protocol, Socket, Type};

/// Starts a non-blocking connect to `addr`, from `local` when given.
pub(crate) fn connect(
    addr: SocketAddr,
    local: Option<IpAddr>,
    recv_buffer: u64,
) -> io::Result<TcpStream> {
    if local.is_none() && recv_buffer == 0 {
        return TcpStream::connect(addr);
    }
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    if recv_buffer > 0 {
        socket.set_recv_buffer_size(usize::try_from(recv_buffer).unwrap_or(usize::MAX))?;
    }
    if let Some(ip) = local {
        socket.bind(&SocketAddr::new(ip, 0).into())?;
    }
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(socket.into()))
}

/// The local address for the next connection to `peer` under these options:
/// `--multiple-interface` in turn (`turn` counts the connections made), else
/// `--interface`, else none (the kernel chooses).
pub(crate) fn local_address(
    opts: &crate::Options,
    turn: &mut usize,
    peer: &SocketAddr,
) -> io::Result<Option<IpAddr>> {
    if !opts.multiple_interface.is_empty() {
        let which = &opts.multiple_interface[*turn % opts.multiple_interface.len()];
        *turn = turn.wrapping_add(1);
        return interface_address(which, peer).map(Some);
    }
    match &opts.interface {
        Some(interface) => interface_address(interface, peer).map(Some),
        None => Ok(None),
    }
}

/// The address to bind for a connection to `peer` through `interface` (an address or
/// an interface's name).
pub(crate) fn interface_address(interface: &str, peer: &SocketAddr) -> io::Result<IpAddr> {
    let wrong_family = || {
        io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!(
                "interface {interface} has no IPv{} address for {peer}",
                if peer.is_ipv4() { 4 } else { 6 }
            ),
        )
    };
    if let Ok(ip) = interface.parse::<IpAddr>() {
        return if ip.is_ipv4() == peer.is_ipv4() {
            Ok(ip)
        } else {
            Err(wrong_family())
        };
    }
    let addresses = interface_addresses(interface)?;
    if addresses.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("no network interface or address '{interface}'"),
        ));
    }
    addresses
        .into_iter()
        .find(|ip| ip.is_ipv4() == peer.is_ipv4())
        .ok_or_else(wrong_family)
}

/// The addresses of the interface named `name`, in the order the kernel lists them.
fn interface_addresses(name: &str) -> io::Result<Vec<IpAddr>> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a linked list we free below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut out = Vec::new();
    let mut at = list;
    while !at.is_null() {
        // SAFETY: `at` is a node of the list getifaddrs returned, not yet freed.
        let node = unsafe { &*at };
        at = node.ifa_next;
        if node.ifa_addr.is_null() || node.ifa_name.is_null() {
            continue;
        }
        // SAFETY: ifa_name is a NUL-terminated string owned by the list.
        let node_name = unsafe { std::ffi::CStr::from_ptr(node.ifa_name) };
        if node_name.to_bytes() != name.as_bytes() {
            continue;
        }
        // SAFETY: ifa_addr points at a sockaddr whose family says its real type.
        let ip = unsafe {
            match i32::from((*node.ifa_addr).sa_family) {
                libc::AF_INET => {
                    let sin = &*(node.ifa_addr as *const libc::sockaddr_in);
                    Some(IpAddr::from(
                        u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
                    ))
                }
                libc::AF_INET6 => {
                    let sin6 = &*(node.ifa_addr as *const libc::sockaddr_in6);
                    Some(IpAddr::from(sin6.sin6_addr.s6_addr))
                }
                _ => None,
            }
        };
        out.extend(ip);
    }
    // SAFETY: frees the list getifaddrs made; no node is used after this.
    unsafe { libc::freeifaddrs(list) };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_pick_the_peers_family() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(
            interface_address("127.0.0.2", &v4).unwrap(),
            IpAddr::from([127, 0, 0, 2])
        );
        assert_eq!(
            interface_address("lo", &v4).unwrap(),
            IpAddr::from([127, 0, 0, 1])
        );
        let e = interface_address("127.0.0.2", &v6).unwrap_err();
        assert_eq!(
            e.to_string(),
            "interface 127.0.0.2 has no IPv6 address for [::1]:80"
        );
        let e = interface_address("no-such-if0", &v4).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no network interface or address 'no-such-if0'"
        );
    }

    #[test]
    fn the_receive_buffer_is_set_before_the_connect() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let sock = connect(listener.local_addr().unwrap(), None, 1 << 20).unwrap();
        let size = socket2::SockRef::from(&sock).recv_buffer_size().unwrap();
        // Linux doubles the value asked for (its bookkeeping overhead).
        assert!(size >= 1 << 20, "SO_RCVBUF {size}");
    }
}
