//! The SOCKS5 client handshake: method negotiation and `CONNECT` (RFC 1928), with
//! user/password authentication (RFC 1929) when credentials are given.
//!
//! Invariants: every read asks for exactly the bytes of the current message that are
//! still missing (the reply's address length is known from its type byte, a name's
//! from its length byte, at most 255), so nothing past the handshake is consumed and
//! nothing is allocated from a length the proxy sent beyond 255 bytes.

use std::net::SocketAddr;

use crate::error::HandshakeError;
use crate::uri::Credentials;

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0;
const USER_PASSWORD: u8 = 2;
const NO_ACCEPTABLE: u8 = 0xff;
const CMD_CONNECT: u8 = 1;
const ATYP_V4: u8 = 1;
const ATYP_NAME: u8 = 3;
const ATYP_V6: u8 = 4;
/// RFC 1929's sub-negotiation version.
const AUTH_VERSION: u8 = 1;

/// Where the SOCKS5 server should connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Socks5Target {
    /// An address the client resolved (`socks5://`).
    Addr(SocketAddr),
    /// A name for the proxy to resolve (`socks5h://`), 1 to 255 bytes.
    Name(String, u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Waiting for the method choice (2 bytes).
    Method,
    /// Waiting for the RFC 1929 status (2 bytes).
    Auth,
    /// Waiting for the reply's first 4 bytes (version, code, reserved, type).
    ReplyHead,
    /// Waiting for the bound address's length byte (type 3).
    ReplyNameLen,
    /// Waiting for the bound address and port: `n` bytes in all.
    ReplyAddr(usize),
    Done,
    Failed,
}

/// A SOCKS5 exchange in progress.
#[derive(Debug, Clone)]
pub struct Socks5Handshake {
    out: Vec<u8>,
    sent: usize,
    /// The bytes of the message being read.
    inbox: Vec<u8>,
    step: Step,
    /// The `CONNECT` request, sent once authentication is settled.
    request: Vec<u8>,
    /// The RFC 1929 message, if credentials were given.
    auth: Option<Vec<u8>>,
}

impl Socks5Handshake {
    /// A handshake that offers "no authentication" and, with `credentials`,
    /// user/password; then asks for a connection to `target`.
    pub fn new(
        target: Socks5Target,
        credentials: Option<&Credentials>,
    ) -> Result<Socks5Handshake, HandshakeError> {
        let mut request = vec![VERSION, CMD_CONNECT, 0];
        let port = match &target {
            Socks5Target::Addr(SocketAddr::V4(a)) => {
                request.push(ATYP_V4);
                request.extend_from_slice(&a.ip().octets());
                a.port()
            }
            Socks5Target::Addr(SocketAddr::V6(a)) => {
                request.push(ATYP_V6);
                request.extend_from_slice(&a.ip().octets());
                a.port()
            }
            Socks5Target::Name(name, port) => {
                let len = u8::try_from(name.len())
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| {
                        HandshakeError::InvalidRequest(format!(
                            "SOCKS5 host names are 1 to 255 bytes, '{name}' is {}",
                            name.len()
                        ))
                    })?;
                request.push(ATYP_NAME);
                request.push(len);
                request.extend_from_slice(name.as_bytes());
                *port
            }
        };
        request.extend_from_slice(&port.to_be_bytes());
        let auth = credentials
            .map(|c| {
                let field = |s: &str, what: &str, min: usize| {
                    u8::try_from(s.len())
                        .ok()
                        .filter(|&n| usize::from(n) >= min)
                        .ok_or_else(|| {
                            HandshakeError::InvalidRequest(format!(
                                "SOCKS5 {what} must be {min} to 255 bytes"
                            ))
                        })
                };
                let mut m = vec![AUTH_VERSION, field(&c.user, "user name", 1)?];
                m.extend_from_slice(c.user.as_bytes());
                m.push(field(&c.password, "password", 0)?);
                m.extend_from_slice(c.password.as_bytes());
                Ok::<_, HandshakeError>(m)
            })
            .transpose()?;
        let out = if auth.is_some() {
            vec![VERSION, 2, NO_AUTH, USER_PASSWORD]
        } else {
            vec![VERSION, 1, NO_AUTH]
        };
        Ok(Socks5Handshake {
            out,
            sent: 0,
            inbox: Vec::with_capacity(8),
            step: Step::Method,
            request,
            auth,
        })
    }

    /// Bytes to send now.
    pub fn transmit(&self) -> &[u8] {
        if self.step == Step::Failed {
            return &[];
        }
        &self.out[self.sent..]
    }

    /// Reports `n` bytes of [`transmit`](Self::transmit) sent.
    pub fn sent(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.out.len());
    }

    /// The most bytes to read next: exactly what the current message still lacks.
    pub fn want_read(&self) -> usize {
        if self.sent < self.out.len() {
            return 0;
        }
        let total = match self.step {
            Step::Method | Step::Auth => 2,
            Step::ReplyHead => 4,
            Step::ReplyNameLen => 5,
            Step::ReplyAddr(n) => n,
            Step::Done | Step::Failed => return 0,
        };
        total - self.inbox.len()
    }

    /// Whether the tunnel is open.
    pub fn is_done(&self) -> bool {
        self.step == Step::Done
    }

    /// Takes bytes from the proxy; returns how many were consumed.
    pub fn receive(&mut self, mut data: &[u8]) -> Result<usize, HandshakeError> {
        let mut used = 0;
        while !data.is_empty() {
            let want = self.want_read();
            if want == 0 {
                if used == 0 {
                    return Err(HandshakeError::UnexpectedData);
                }
                return Ok(used);
            }
            let take = want.min(data.len());
            self.inbox.extend_from_slice(&data[..take]);
            data = &data[take..];
            used += take;
            if self.want_read() == 0
                && let Err(e) = self.message()
            {
                self.step = Step::Failed;
                return Err(e);
            }
        }
        Ok(used)
    }

    /// Queues `bytes` as the next message to send.
    fn send(&mut self, bytes: Vec<u8>) {
        self.out = bytes;
        self.sent = 0;
    }

    /// A whole message is in the inbox: act on it.
    fn message(&mut self) -> Result<(), HandshakeError> {
        let m = std::mem::take(&mut self.inbox);
        match self.step {
            Step::Method => {
                if m[0] != VERSION {
                    return Err(bad(format!("version {} in the method reply", m[0])));
                }
                match m[1] {
                    NO_AUTH => {
                        let request = self.request.clone();
                        self.send(request);
                        self.step = Step::ReplyHead;
                    }
                    USER_PASSWORD => {
                        let auth = self.auth.take().ok_or(HandshakeError::CredentialsNeeded)?;
                        self.send(auth);
                        self.step = Step::Auth;
                    }
                    NO_ACCEPTABLE => {
                        return Err(HandshakeError::NoAcceptableMethod {
                            offered_password: self.auth.is_some(),
                        });
                    }
                    other => return Err(bad(format!("method {other}, which was not offered"))),
                }
            }
            Step::Auth => {
                if m[0] != AUTH_VERSION {
                    return Err(bad(format!("version {} in the authentication reply", m[0])));
                }
                if m[1] != 0 {
                    return Err(HandshakeError::AuthFailed { status: m[1] });
                }
                let request = self.request.clone();
                self.send(request);
                self.step = Step::ReplyHead;
            }
            Step::ReplyHead | Step::ReplyNameLen => {
                if m[0] != VERSION {
                    return Err(bad(format!("version {} in the connect reply", m[0])));
                }
                if m[1] != 0 {
                    return Err(HandshakeError::Socks5Refused { code: m[1] });
                }
                // The rest is read into the same inbox, so the lengths count from 0.
                self.step = match m[3] {
                    ATYP_V4 if m.len() == 4 => Step::ReplyAddr(4 + 4 + 2),
                    ATYP_V6 if m.len() == 4 => Step::ReplyAddr(4 + 16 + 2),
                    ATYP_NAME if m.len() == 4 => Step::ReplyNameLen,
                    ATYP_NAME => Step::ReplyAddr(5 + usize::from(m[4]) + 2),
                    other => return Err(bad(format!("address type {other} in the connect reply"))),
                };
                // Keep what was read: the remaining lengths include it.
                self.inbox = m;
            }
            Step::ReplyAddr(_) => {
                self.step = Step::Done;
                self.out.clear();
                self.sent = 0;
            }
            Step::Done | Step::Failed => return Err(HandshakeError::UnexpectedData),
        }
        Ok(())
    }
}

fn bad(why: String) -> HandshakeError {
    HandshakeError::BadReply(format!("SOCKS5: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `hs` against a scripted proxy, feeding `replies` in chunks of at most
    /// `step` bytes; returns what the client sent.
    fn drive(
        hs: &mut Socks5Handshake,
        replies: &[u8],
        step: usize,
    ) -> Result<Vec<u8>, HandshakeError> {
        let mut sent = Vec::new();
        let mut at = 0;
        loop {
            let out = hs.transmit().to_vec();
            sent.extend_from_slice(&out);
            hs.sent(out.len());
            if hs.is_done() || at == replies.len() {
                return Ok(sent);
            }
            let take = hs.want_read().min(step).min(replies.len() - at);
            assert!(take > 0, "stalled");
            at += hs.receive(&replies[at..at + take])?;
        }
    }

    fn creds(user: &str, password: &str) -> Credentials {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }

    #[test]
    fn name_target_without_authentication_at_every_split() {
        let reply = [5, 0, 5, 0, 0, 3, 3, b'a', b'b', b'c', 0, 80, 0xEE];
        for step in 1..=4 {
            let mut hs =
                Socks5Handshake::new(Socks5Target::Name("example.org".into(), 443), None).unwrap();
            let sent = drive(&mut hs, &reply, step).unwrap();
            assert!(hs.is_done());
            let mut want = vec![5, 1, 0, 5, 1, 0, 3, 11];
            want.extend_from_slice(b"example.org");
            want.extend_from_slice(&[1, 187]);
            assert_eq!(sent, want);
            assert_eq!(hs.want_read(), 0);
        }
    }

    #[test]
    fn address_target_with_user_and_password() {
        let target = Socks5Target::Addr("[::1]:8080".parse().unwrap());
        let mut hs = Socks5Handshake::new(target, Some(&creds("u", "pw"))).unwrap();
        let mut reply = vec![5, 2, 1, 0, 5, 0, 0, 1, 127, 0, 0, 1, 4, 0];
        let sent = drive(&mut hs, &reply, 64).unwrap();
        assert!(hs.is_done());
        assert_eq!(&sent[..4], [5, 2, 0, 2]);
        assert_eq!(&sent[4..9], [1, 1, b'u', 2, b'p']);
        assert_eq!(&sent[10..14], [5, 1, 0, 4]);
        assert_eq!(sent.len(), 10 + 4 + 16 + 2);
        // A refused password.
        reply[3] = 1;
        let mut hs = Socks5Handshake::new(
            Socks5Target::Addr("1.2.3.4:1".parse().unwrap()),
            Some(&creds("u", "x")),
        )
        .unwrap();
        assert_eq!(
            drive(&mut hs, &reply, 64),
            Err(HandshakeError::AuthFailed { status: 1 })
        );
    }

    #[test]
    fn refusals_and_protocol_violations() {
        let t = || Socks5Target::Name("h".into(), 1);
        let run = |reply: &[u8], c: Option<&Credentials>| {
            let mut hs = Socks5Handshake::new(t(), c).unwrap();
            drive(&mut hs, reply, 64).map(|_| hs.is_done())
        };
        assert_eq!(
            run(&[5, 0xff], None),
            Err(HandshakeError::NoAcceptableMethod {
                offered_password: false
            })
        );
        assert_eq!(run(&[5, 2], None), Err(HandshakeError::CredentialsNeeded));
        assert_eq!(
            run(&[5, 0, 5, 5, 0, 1], None),
            Err(HandshakeError::Socks5Refused { code: 5 })
        );
        assert!(matches!(
            run(&[4, 0], None),
            Err(HandshakeError::BadReply(_))
        ));
        assert!(matches!(
            run(&[5, 0, 5, 0, 0, 9], None),
            Err(HandshakeError::BadReply(_))
        ));
        assert!(matches!(
            run(&[5, 1], None),
            Err(HandshakeError::BadReply(_))
        ));
    }

    #[test]
    fn over_long_names_and_credentials_are_refused() {
        let long = "a".repeat(256);
        assert!(Socks5Handshake::new(Socks5Target::Name(long.clone(), 1), None).is_err());
        assert!(Socks5Handshake::new(Socks5Target::Name(String::new(), 1), None).is_err());
        let t = Socks5Target::Name("h".into(), 1);
        assert!(Socks5Handshake::new(t.clone(), Some(&creds(&long, "p"))).is_err());
        assert!(Socks5Handshake::new(t, Some(&creds("u", &long))).is_err());
    }
}
