//! Active mode: telling the server where to connect, with `PORT` (IPv4,
//! RFC 959) or `EPRT` (IPv6, RFC 2428 §2).

use std::net::SocketAddr;

use crate::command::Command;

/// The command announcing `listen`, and its argument: `PORT
/// h1,h2,h3,h4,p1,p2` for IPv4 (including IPv4-mapped IPv6), `EPRT
/// |2|addr|port|` for IPv6.
pub(crate) fn active_command(listen: SocketAddr) -> (Command, Vec<u8>) {
    let port = listen.port();
    match listen.ip().to_canonical() {
        std::net::IpAddr::V4(ip) => {
            let [h1, h2, h3, h4] = ip.octets();
            let [p1, p2] = port.to_be_bytes();
            let argument = format!("{h1},{h2},{h3},{h4},{p1},{p2}");
            (Command::Port, argument.into_bytes())
        }
        std::net::IpAddr::V6(ip) => (Command::Eprt, format!("|2|{ip}|{port}|").into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_and_eprt_arguments() {
        let cases = [
            ("192.0.2.7:5001", Command::Port, "192,0,2,7,19,137"),
            ("127.0.0.1:65535", Command::Port, "127,0,0,1,255,255"),
            ("[::ffff:10.1.2.3]:256", Command::Port, "10,1,2,3,1,0"),
            ("[::1]:2121", Command::Eprt, "|2|::1|2121|"),
            (
                "[2001:db8::7]:40000",
                Command::Eprt,
                "|2|2001:db8::7|40000|",
            ),
        ];
        for (addr, command, argument) in cases {
            let (got_command, got_argument) = active_command(addr.parse().unwrap());
            assert_eq!(got_command, command, "{addr}");
            assert_eq!(String::from_utf8(got_argument).unwrap(), argument, "{addr}");
        }
    }
}
