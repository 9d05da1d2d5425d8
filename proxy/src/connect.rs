//! The HTTP `CONNECT` handshake (RFC 9110 §9.3.6): ask an HTTP proxy for a tunnel to
//! `host:port`, read its reply head, and succeed on 2xx.
//!
//! Invariants: the reply head is never longer than [`MAX_REPLY_HEAD`]; `want_read`
//! never asks for a byte past the head's end (the head ends with an empty line, so
//! while its last byte is not CR or LF at least two more bytes must come, and once it
//! is, one at a time).

use swarmget_http_seg::{HeadLimits, parse_final_response_head};

use crate::error::HandshakeError;
use crate::uri::Credentials;

/// Longest `CONNECT` reply head accepted.
pub const MAX_REPLY_HEAD: usize = 16 * 1024;

/// A `CONNECT` exchange in progress.
#[derive(Debug, Clone)]
pub struct ConnectHandshake {
    request: Vec<u8>,
    sent: usize,
    head: Vec<u8>,
    done: bool,
    failed: bool,
}

impl ConnectHandshake {
    /// A `CONNECT host:port` request, with `Proxy-Authorization: Basic` when
    /// `credentials` are given. `host` is a name or an address (IPv6 with or without
    /// brackets); anything that could break the request line is refused.
    pub fn new(
        host: &str,
        port: u16,
        credentials: Option<&Credentials>,
        user_agent: Option<&str>,
    ) -> Result<ConnectHandshake, HandshakeError> {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let clean = |s: &str| !s.bytes().any(|b| b.is_ascii_control() || b == b' ');
        if bare.is_empty() || !clean(bare) {
            return Err(HandshakeError::InvalidRequest(format!(
                "CONNECT target '{host}'"
            )));
        }
        let authority = if bare.contains(':') {
            format!("[{bare}]:{port}")
        } else {
            format!("{bare}:{port}")
        };
        let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
        if let Some(agent) = user_agent.filter(|a| clean(a.trim_end_matches(' '))) {
            request.push_str(&format!("User-Agent: {agent}\r\n"));
        }
        if let Some(c) = credentials {
            if !clean(&c.user) || c.password.bytes().any(|b| b == b'\r' || b == b'\n') {
                return Err(HandshakeError::InvalidRequest(
                    "proxy user name with control characters".into(),
                ));
            }
            request.push_str(&format!("Proxy-Authorization: {}\r\n", c.basic()));
        }
        request.push_str("\r\n");
        Ok(ConnectHandshake {
            request: request.into_bytes(),
            sent: 0,
            head: Vec::new(),
            done: false,
            failed: false,
        })
    }

    /// Bytes to send now.
    pub fn transmit(&self) -> &[u8] {
        if self.failed {
            return &[];
        }
        &self.request[self.sent..]
    }

    /// Reports `n` bytes of [`transmit`](Self::transmit) sent.
    pub fn sent(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.request.len());
    }

    /// The most bytes to read next.
    pub fn want_read(&self) -> usize {
        if self.done || self.failed || self.sent < self.request.len() {
            return 0;
        }
        match self.head.last() {
            Some(b'\r' | b'\n') => 1,
            _ => 2,
        }
    }

    /// Whether the tunnel is open.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Takes reply bytes; returns how many were consumed (never past the head).
    pub fn receive(&mut self, data: &[u8]) -> Result<usize, HandshakeError> {
        if self.done || self.failed || self.sent < self.request.len() {
            return if data.is_empty() {
                Ok(0)
            } else {
                Err(HandshakeError::UnexpectedData)
            };
        }
        let mut used = 0;
        for &b in data {
            if self.head.len() >= MAX_REPLY_HEAD {
                self.failed = true;
                return Err(HandshakeError::ReplyTooLong {
                    limit: MAX_REPLY_HEAD,
                });
            }
            self.head.push(b);
            used += 1;
            if self.head.ends_with(b"\n\r\n") || self.head.ends_with(b"\n\n") {
                return self.finish().map(|()| used);
            }
        }
        Ok(used)
    }

    /// The head is complete: judge the status.
    fn finish(&mut self) -> Result<(), HandshakeError> {
        let limits = HeadLimits {
            max_head_bytes: MAX_REPLY_HEAD,
            ..HeadLimits::default()
        };
        self.failed = true;
        let head = match parse_final_response_head(&self.head, &limits) {
            Ok(Some((head, _))) => head,
            // A 1xx head alone: the real reply should follow.
            Ok(None) => {
                self.failed = false;
                return Ok(());
            }
            Err(e) => return Err(HandshakeError::BadReply(e.to_string())),
        };
        match head.status {
            200..=299 => {
                self.failed = false;
                self.done = true;
                self.head = Vec::new();
                Ok(())
            }
            407 => Err(HandshakeError::ProxyAuthRequired {
                reason: head.reason.clone(),
            }),
            status => Err(HandshakeError::ConnectRefused {
                status,
                reason: head.reason.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drive(hs: &mut ConnectHandshake, reply: &[u8]) -> Result<usize, HandshakeError> {
        let n = hs.transmit().len();
        hs.sent(n);
        let mut at = 0;
        while !hs.is_done() && at < reply.len() {
            let take = hs.want_read().min(reply.len() - at);
            assert!(take > 0);
            at += hs.receive(&reply[at..at + take])?;
        }
        Ok(at)
    }

    #[test]
    fn request_carries_target_and_credentials() {
        let c = Credentials {
            user: "u".into(),
            password: "p".into(),
        };
        let hs = ConnectHandshake::new("::1", 443, Some(&c), Some("swarmget/1")).unwrap();
        let text = String::from_utf8(hs.transmit().to_vec()).unwrap();
        assert!(text.starts_with("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n"));
        assert!(text.contains("Proxy-Authorization: Basic dTpw\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
        assert!(ConnectHandshake::new("a\r\nX: y", 1, None, None).is_err());
    }

    #[test]
    fn stops_exactly_at_the_end_of_the_head() {
        let mut hs = ConnectHandshake::new("h", 21, None, None).unwrap();
        let reply = b"HTTP/1.1 200 Connection established\r\nVia: p\r\n\r\n220 ftp ready\r\n";
        let used = drive(&mut hs, reply).unwrap();
        assert!(hs.is_done());
        assert_eq!(&reply[used..], b"220 ftp ready\r\n");
        let mut lf = ConnectHandshake::new("h", 1, None, None).unwrap();
        assert_eq!(drive(&mut lf, b"HTTP/1.0 200 OK\n\nX").unwrap(), 17);
    }

    #[test]
    fn refusals_and_bad_replies() {
        let mut hs = ConnectHandshake::new("h", 1, None, None).unwrap();
        assert_eq!(
            drive(
                &mut hs,
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"
            ),
            Err(HandshakeError::ProxyAuthRequired {
                reason: "Proxy Authentication Required".into()
            })
        );
        let mut hs = ConnectHandshake::new("h", 1, None, None).unwrap();
        assert!(matches!(
            drive(&mut hs, b"HTTP/1.1 403 Forbidden\r\n\r\n"),
            Err(HandshakeError::ConnectRefused { status: 403, .. })
        ));
        let mut hs = ConnectHandshake::new("h", 1, None, None).unwrap();
        assert!(matches!(
            drive(&mut hs, b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(HandshakeError::BadReply(_))
        ));
        let mut hs = ConnectHandshake::new("h", 1, None, None).unwrap();
        let endless = vec![b'a'; MAX_REPLY_HEAD + 10];
        assert_eq!(
            drive(&mut hs, &endless),
            Err(HandshakeError::ReplyTooLong {
                limit: MAX_REPLY_HEAD
            })
        );
        // Interim 100 heads are skipped.
        let mut hs = ConnectHandshake::new("h", 1, None, None).unwrap();
        drive(
            &mut hs,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
        )
        .unwrap();
        assert!(hs.is_done());
    }

    #[test]
    fn data_before_the_request_is_sent_is_refused() {
        let mut hs = ConnectHandshake::new("h", 1, None, None).unwrap();
        assert_eq!(hs.want_read(), 0);
        assert_eq!(hs.receive(b"x"), Err(HandshakeError::UnexpectedData));
    }
}
