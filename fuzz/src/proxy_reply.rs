//! Arbitrary bytes as a proxy's replies to the CONNECT and SOCKS5 handshakes.
//!
//! The first byte picks the handshake (CONNECT, SOCKS5 by name or address, with or
//! without credentials); the rest is what the proxy sends. Invariants checked besides
//! "never panics":
//! - the handshake never consumes more than `want_read` offered, and stops consuming
//!   once done or failed;
//! - fed whole (in `want_read`-sized reads), byte by byte, and in pieces of 3, it
//!   ends the same way: same bytes consumed, same outcome, same bytes sent;
//! - once done it wants nothing more.

use swarmget_proxy::{Credentials, Handshake, HandshakeError, Socks5Target};

fn make(selector: u8) -> Handshake {
    let creds = Credentials {
        user: "user".into(),
        password: "pw".into(),
    };
    let auth = (selector & 1 == 1).then_some(&creds);
    let made = match selector % 6 {
        0 | 1 => Handshake::connect("example.org", 443, auth, Some("fuzz")),
        2 | 3 => Handshake::socks5(Socks5Target::Name("example.org".into(), 443), auth),
        _ => Handshake::socks5(
            Socks5Target::Addr("[2001:db8::1]:21".parse().unwrap()),
            auth,
        ),
    };
    made.expect("static handshake")
}

/// Runs the handshake over `reply`, reading at most `chunk` bytes at a time.
fn drive(
    selector: u8,
    reply: &[u8],
    chunk: usize,
) -> (usize, Result<bool, HandshakeError>, Vec<u8>) {
    let mut hs = make(selector);
    let mut sent = Vec::new();
    let mut at = 0;
    loop {
        let out = hs.transmit().to_vec();
        sent.extend_from_slice(&out);
        hs.sent(out.len());
        if hs.is_done() {
            assert_eq!(hs.want_read(), 0, "done but wants more");
            return (at, Ok(true), sent);
        }
        let want = hs.want_read();
        if want == 0 || at == reply.len() {
            return (at, Ok(false), sent);
        }
        let take = want.min(chunk).min(reply.len() - at);
        match hs.receive(&reply[at..at + take]) {
            Ok(n) => {
                assert!(n <= take, "consumed {n} of {take}");
                assert!(n > 0 || take == 0, "a read that moved nothing");
                at += n;
            }
            Err(e) => {
                assert_eq!(hs.transmit(), b"", "sends after failing");
                return (at, Err(e), sent);
            }
        }
    }
}

/// The target body.
pub fn run(data: &[u8]) {
    let Some((&selector, reply)) = data.split_first() else {
        return;
    };
    let whole = drive(selector, reply, usize::MAX);
    let (at, result, _) = &whole;
    assert!(*at <= reply.len());
    if reply.len() <= 4096 {
        // Errors are compared by kind: a failure's position can differ only in
        // how much of the failing read was counted.
        let same = |a: &(usize, Result<bool, HandshakeError>, Vec<u8>),
                    b: &(usize, Result<bool, HandshakeError>, Vec<u8>)| {
            match (&a.1, &b.1) {
                (Ok(x), Ok(y)) => x == y && a.0 == b.0 && a.2 == b.2,
                (Err(x), Err(y)) => x == y && a.2 == b.2,
                _ => false,
            }
        };
        for chunk in [1, 3] {
            let split = drive(selector, reply, chunk);
            assert!(
                same(&whole, &split),
                "{whole:?} vs {split:?} in pieces of {chunk}"
            );
        }
    }
    let _ = result;
}
