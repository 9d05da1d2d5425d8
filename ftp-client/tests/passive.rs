//! Passive-mode replies: well-formed, oddly worded and hostile `227` and
//! `229` replies, and the bounce protection.

use std::net::{IpAddr, SocketAddr, SocketAddrV4};

use swarmget_ftp_client::{
    PassiveError, PasvAddressPolicy, Reply, epsv_port, passive_data_address, pasv_address,
};

fn pasv(text: &str) -> Result<SocketAddrV4, PassiveError> {
    pasv_address(&Reply::new(227, text))
}

fn epsv(text: &str) -> Result<u16, PassiveError> {
    epsv_port(&Reply::new(229, text))
}

#[test]
fn pasv_addresses_anywhere_in_the_text() {
    let cases = [
        ("Entering Passive Mode (192,0,2,7,19,137)", "192.0.2.7:5001"),
        (
            "Entering Passive Mode (192,0,2,7,19,137).",
            "192.0.2.7:5001",
        ),
        ("Entering Passive Mode 192,0,2,7,19,137", "192.0.2.7:5001"),
        ("=192,0,2,7,19,137", "192.0.2.7:5001"),
        ("192,0,2,7,19,137", "192.0.2.7:5001"),
        (
            "Entering Passive Mode (192, 0, 2, 7, 19, 137)",
            "192.0.2.7:5001",
        ),
        (
            "Entering Passive Mode (127,0,0,1,255,255)",
            "127.0.0.1:65535",
        ),
        ("Entering Passive Mode (127,0,0,1,0,1)", "127.0.0.1:1"),
        // Digits before the address that are not six numbers are skipped.
        ("Mode 3 of 2024,1 (10,1,2,3,4,5)", "10.1.2.3:1029"),
        (
            "Entering Passive Mode\n(10,1,2,3,4,5)\nsee you",
            "10.1.2.3:1029",
        ),
        // Leading zeros are decimal, not octal.
        ("(010,001,002,003,004,005)", "10.1.2.3:1029"),
        // A seventh number is not part of the address.
        ("(10,1,2,3,4,5,6)", "10.1.2.3:1029"),
    ];
    for (text, addr) in cases {
        assert_eq!(
            pasv(text).map(|a| a.to_string()),
            Ok(addr.to_owned()),
            "{text:?}"
        );
    }
}

#[test]
fn hostile_or_broken_pasv_replies() {
    let cases = [
        ("Entering Passive Mode", PassiveError::NoAddress),
        ("", PassiveError::NoAddress),
        ("(1,2,3,4,5)", PassiveError::NoAddress),
        ("(1,2,3,4,5,)", PassiveError::NoAddress),
        ("(1;2;3;4;5;6)", PassiveError::NoAddress),
        (
            "(256,0,0,1,4,1)",
            PassiveError::NumberOutOfRange { offset: 1 },
        ),
        (
            "(127,0,0,1,256,1)",
            PassiveError::NumberOutOfRange { offset: 11 },
        ),
        (
            "(127,0,0,1,4,1000)",
            PassiveError::NumberOutOfRange { offset: 13 },
        ),
        (
            "(127,0,0,1,4,99999999999999999999999999)",
            PassiveError::NumberOutOfRange { offset: 13 },
        ),
        ("(127,0,0,1,0,0)", PassiveError::PortZero),
    ];
    for (text, error) in cases {
        assert_eq!(pasv(text), Err(error), "{text:?}");
    }
}

#[test]
fn epsv_ports() {
    let cases = [
        ("Entering Extended Passive Mode (|||6446|)", Ok(6446)),
        ("Entering Extended Passive Mode (|||6446|).", Ok(6446)),
        ("(!!!1!)", Ok(1)),
        ("(###65535#)", Ok(65535)),
        (
            "(|||65536|)",
            Err(PassiveError::PortOutOfRange { offset: 4 }),
        ),
        (
            "(|||99999999999999999999|)",
            Err(PassiveError::PortOutOfRange { offset: 4 }),
        ),
        ("(|||0|)", Err(PassiveError::PortZero)),
        (
            "Entering Extended Passive Mode",
            Err(PassiveError::MalformedEpsv { offset: 30 }),
        ),
        ("(", Err(PassiveError::MalformedEpsv { offset: 1 })),
        ("( ||6446|)", Err(PassiveError::MalformedEpsv { offset: 1 })),
        (
            "(1116446 1)",
            Err(PassiveError::MalformedEpsv { offset: 1 }),
        ),
        ("(||6446|)", Err(PassiveError::MalformedEpsv { offset: 3 })),
        ("(|||6446)", Err(PassiveError::MalformedEpsv { offset: 8 })),
        ("(|||6446|", Err(PassiveError::MalformedEpsv { offset: 9 })),
        ("(|||6446/)", Err(PassiveError::MalformedEpsv { offset: 8 })),
        ("(|||port|)", Err(PassiveError::MalformedEpsv { offset: 4 })),
        // An address inside is not what RFC 2428 allows in a 229 reply.
        (
            "(|1|10.0.0.1|6446|)",
            Err(PassiveError::MalformedEpsv { offset: 2 }),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(epsv(text), expected, "{text:?}");
    }
}

#[test]
fn foreign_pasv_addresses_are_refused_unless_allowed() {
    let peer: IpAddr = "192.0.2.7".parse().unwrap();
    let own = Reply::new(227, "Entering Passive Mode (192,0,2,7,19,137)");
    let foreign = Reply::new(227, "Entering Passive Mode (10,0,0,1,19,137)");
    let unspecified = Reply::new(227, "Entering Passive Mode (0,0,0,0,19,137)");
    let at_peer: SocketAddr = "192.0.2.7:5001".parse().unwrap();
    let at_foreign: SocketAddr = "10.0.0.1:5001".parse().unwrap();

    for policy in [
        PasvAddressPolicy::RejectForeign,
        PasvAddressPolicy::UsePeerAddress,
        PasvAddressPolicy::TrustReply,
    ] {
        assert_eq!(passive_data_address(&own, peer, policy), Ok(at_peer));
        assert_eq!(
            passive_data_address(&unspecified, peer, policy),
            Ok(at_peer)
        );
    }
    assert_eq!(
        passive_data_address(&foreign, peer, PasvAddressPolicy::RejectForeign),
        Err(PassiveError::ForeignAddress {
            offered: "10.0.0.1:5001".parse().unwrap(),
            peer
        })
    );
    assert_eq!(
        passive_data_address(&foreign, peer, PasvAddressPolicy::UsePeerAddress),
        Ok(at_peer)
    );
    assert_eq!(
        passive_data_address(&foreign, peer, PasvAddressPolicy::TrustReply),
        Ok(at_foreign)
    );
}

#[test]
fn peers_over_ipv6() {
    let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
    let own = Reply::new(227, "Entering Passive Mode (192,0,2,7,19,137)");
    assert_eq!(
        passive_data_address(&own, mapped, PasvAddressPolicy::RejectForeign),
        Ok(SocketAddr::new(mapped, 5001))
    );
    let v6: IpAddr = "2001:db8::7".parse().unwrap();
    assert!(matches!(
        passive_data_address(&own, v6, PasvAddressPolicy::RejectForeign),
        Err(PassiveError::ForeignAddress { .. })
    ));
    let epsv = Reply::new(229, "Entering Extended Passive Mode (|||6446|)");
    assert_eq!(
        passive_data_address(&epsv, v6, PasvAddressPolicy::RejectForeign),
        Ok(SocketAddr::new(v6, 6446))
    );
    assert_eq!(
        passive_data_address(&Reply::new(200, "ok"), v6, PasvAddressPolicy::TrustReply),
        Err(PassiveError::NotPassiveReply { code: 200 })
    );
}
