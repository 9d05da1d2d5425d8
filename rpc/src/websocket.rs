//! RFC 6455 WebSocket on the server's side: the opening handshake's answer, and a
//! frame decoder and encoder.
//!
//! Invariants:
//! - Every frame from a client is masked; an unmasked one is a protocol error
//!   (RFC 6455 §5.1). Reserved bits and unknown opcodes are errors too (no extension
//!   is ever negotiated).
//! - A frame's declared length is checked against the message limit before its payload
//!   is buffered, and a fragmented message's total is checked as each fragment arrives,
//!   so the decoder holds at most one message's limit plus one frame header.
//! - Control frames (close, ping, pong) are whole (FIN set) and carry at most 125
//!   bytes; they may arrive between the fragments of a message.
//! - A text message is valid UTF-8 once whole (its fragments may split a character).

use std::fmt;

use base64::Engine as _;
use sha1::{Digest, Sha1};

use crate::http::{Request, Response};

const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Frame opcodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    /// 0: a later fragment of a message.
    Continuation,
    /// 1: UTF-8 text.
    Text,
    /// 2: bytes.
    Binary,
    /// 8: closing handshake.
    Close,
    /// 9: ping.
    Ping,
    /// 10: pong.
    Pong,
}

impl Opcode {
    fn from_bits(b: u8) -> Option<Opcode> {
        Some(match b {
            0 => Opcode::Continuation,
            1 => Opcode::Text,
            2 => Opcode::Binary,
            8 => Opcode::Close,
            9 => Opcode::Ping,
            10 => Opcode::Pong,
            _ => return None,
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0,
            Opcode::Text => 1,
            Opcode::Binary => 2,
            Opcode::Close => 8,
            Opcode::Ping => 9,
            Opcode::Pong => 10,
        }
    }

    fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A whole message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A ping; answer with a pong carrying the same bytes.
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// The client closes, with its status code if it sent one.
    Close(Option<u16>),
}

/// Why the stream is no longer a WebSocket. The server sends a close frame with
/// [`WsError::close_code`] and drops the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsError {
    /// A rule of RFC 6455 broken (`what`).
    Protocol(&'static str),
    /// A message over the limit.
    TooBig(u64),
    /// A text message that is not UTF-8.
    NotUtf8,
}

impl WsError {
    /// The close status for this error.
    pub fn close_code(&self) -> u16 {
        match self {
            WsError::Protocol(_) => 1002,
            WsError::TooBig(_) => 1009,
            WsError::NotUtf8 => 1007,
        }
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WsError::Protocol(what) => write!(f, "WebSocket protocol error: {what}"),
            WsError::TooBig(n) => write!(f, "WebSocket message of {n} bytes is over the limit"),
            WsError::NotUtf8 => write!(f, "WebSocket text message is not UTF-8"),
        }
    }
}

impl std::error::Error for WsError {}

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Whether a request asks to become a WebSocket.
pub fn is_upgrade(request: &Request) -> bool {
    request.header_has("upgrade", "websocket")
}

/// The answer to an upgrade request: `101 Switching Protocols`, or why not (400, or
/// 426 with the version this server speaks).
pub fn handshake(request: &Request) -> Result<Response, Response> {
    let bad = || Response::empty(400);
    if request.method != "GET" || !request.header_has("connection", "upgrade") {
        return Err(bad());
    }
    if request.header("sec-websocket-version").map(str::trim) != Some("13") {
        return Err(Response::empty(426).with("Sec-WebSocket-Version", "13"));
    }
    let key = request.header("sec-websocket-key").ok_or_else(bad)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(key.trim())
        .map_err(|_| bad())?;
    if decoded.len() != 16 {
        return Err(bad());
    }
    Ok(Response::empty(101)
        .with("Upgrade", "websocket")
        .with("Connection", "Upgrade")
        .with("Sec-WebSocket-Accept", &accept_key(key)))
}

/// Reads client frames into messages.
#[derive(Debug)]
pub struct Decoder {
    max_message: usize,
    /// Bytes fed; those before `pos` are consumed.
    buf: Vec<u8>,
    pos: usize,
    /// The message being assembled from fragments: its opcode and bytes so far.
    partial: Option<(Opcode, Vec<u8>)>,
    failed: Option<WsError>,
}

impl Decoder {
    /// A decoder refusing messages over `max_message` bytes.
    pub fn new(max_message: usize) -> Decoder {
        Decoder {
            max_message,
            buf: Vec::new(),
            pos: 0,
            partial: None,
            failed: None,
        }
    }

    /// Adds bytes from the stream.
    pub fn feed(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            // Consumed frames leave once per feed, not once per frame: a read full of
            // tiny frames costs one move of the rest, not one per frame.
            self.buf.drain(..self.pos);
            self.pos = 0;
            self.buf.extend_from_slice(data);
        }
    }

    /// The next whole message, `Ok(None)` while more bytes are needed. After an error
    /// every later call returns the same error.
    pub fn poll(&mut self) -> Result<Option<Message>, WsError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        loop {
            match self.step() {
                Ok(Some(Some(m))) => return Ok(Some(m)),
                // A fragment was taken in; look for the next frame.
                Ok(Some(None)) => continue,
                Ok(None) => return Ok(None),
                Err(e) => {
                    self.buf = Vec::new();
                    self.pos = 0;
                    self.partial = None;
                    self.failed = Some(e.clone());
                    return Err(e);
                }
            }
        }
    }

    /// One frame: `None` if incomplete, `Some(None)` for a non-final fragment.
    fn step(&mut self) -> Result<Option<Option<Message>>, WsError> {
        let b = &self.buf[self.pos..];
        if b.len() < 2 {
            return Ok(None);
        }
        let fin = b[0] & 0x80 != 0;
        if b[0] & 0x70 != 0 {
            return Err(WsError::Protocol("reserved bits set"));
        }
        let opcode = Opcode::from_bits(b[0] & 0x0f).ok_or(WsError::Protocol("unknown opcode"))?;
        if b[1] & 0x80 == 0 {
            return Err(WsError::Protocol("unmasked client frame"));
        }
        let (len, mut at) = match b[1] & 0x7f {
            126 => {
                let Some(x) = b.get(2..4) else {
                    return Ok(None);
                };
                (u64::from(u16::from_be_bytes([x[0], x[1]])), 4)
            }
            127 => {
                let Some(x) = b.get(2..10) else {
                    return Ok(None);
                };
                let mut a = [0u8; 8];
                a.copy_from_slice(x);
                let n = u64::from_be_bytes(a);
                if n >> 63 != 0 {
                    return Err(WsError::Protocol("length with the top bit set"));
                }
                (n, 10)
            }
            n => (u64::from(n), 2),
        };
        if opcode.is_control() {
            if !fin {
                return Err(WsError::Protocol("fragmented control frame"));
            }
            if len > 125 {
                return Err(WsError::Protocol("control frame over 125 bytes"));
            }
        } else {
            let so_far = self.partial.as_ref().map_or(0, |(_, p)| p.len() as u64);
            let total = so_far.saturating_add(len);
            if total > self.max_message as u64 {
                return Err(WsError::TooBig(total));
            }
            match (opcode, &self.partial) {
                (Opcode::Continuation, None) => {
                    return Err(WsError::Protocol("continuation without a message"));
                }
                (Opcode::Text | Opcode::Binary, Some(_)) => {
                    return Err(WsError::Protocol("new message inside a fragmented one"));
                }
                _ => {}
            }
        }
        let Some(mask) = b.get(at..at + 4) else {
            return Ok(None);
        };
        let mask = [mask[0], mask[1], mask[2], mask[3]];
        at += 4;
        // len is bounded by max_message (or 125) here, so it fits in usize.
        let end = at + len as usize;
        if b.len() < end {
            return Ok(None);
        }
        let mut payload: Vec<u8> = b[at..end].to_vec();
        for (i, byte) in payload.iter_mut().enumerate() {
            *byte ^= mask[i % 4];
        }
        self.pos += end;
        let message = match opcode {
            Opcode::Ping => Message::Ping(payload),
            Opcode::Pong => Message::Pong(payload),
            Opcode::Close => {
                let code = match payload.len() {
                    0 => None,
                    1 => return Err(WsError::Protocol("close payload of one byte")),
                    _ => Some(u16::from_be_bytes([payload[0], payload[1]])),
                };
                if std::str::from_utf8(payload.get(2..).unwrap_or(&[])).is_err() {
                    return Err(WsError::NotUtf8);
                }
                Message::Close(code)
            }
            Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                let (kind, mut data) = match self.partial.take() {
                    Some((kind, mut data)) => {
                        data.extend_from_slice(&payload);
                        (kind, data)
                    }
                    None => (opcode, payload),
                };
                if !fin {
                    self.partial = Some((kind, data));
                    return Ok(Some(None));
                }
                if kind == Opcode::Text {
                    match String::from_utf8(data) {
                        Ok(s) => Message::Text(s),
                        Err(_) => return Err(WsError::NotUtf8),
                    }
                } else {
                    data.shrink_to_fit();
                    Message::Binary(data)
                }
            }
        };
        Ok(Some(Some(message)))
    }
}

/// A whole unmasked frame, as a server sends it.
pub fn encode(opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    encode_frame(opcode, payload, true, None)
}

/// A close frame with a status code.
pub fn close(code: u16) -> Vec<u8> {
    encode(Opcode::Close, &code.to_be_bytes())
}

/// Any frame; `mask` makes it a client's frame (for tests and clients).
pub fn encode_frame(opcode: Opcode, payload: &[u8], fin: bool, mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 14);
    out.push(if fin { 0x80 } else { 0 } | opcode.bits());
    let m = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n <= 0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(k) => {
            out.extend_from_slice(&k);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: Option<[u8; 4]> = Some([1, 2, 3, 4]);

    fn decode_all(data: &[u8], piece: usize, max: usize) -> (Vec<Message>, Option<WsError>) {
        let mut d = Decoder::new(max);
        let mut out = Vec::new();
        for chunk in data.chunks(piece.max(1)) {
            d.feed(chunk);
            loop {
                match d.poll() {
                    Ok(Some(m)) => out.push(m),
                    Ok(None) => break,
                    Err(e) => return (out, Some(e)),
                }
            }
        }
        (out, None)
    }

    #[test]
    fn rfc_6455_accept_key_example() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn fragments_with_a_ping_between_at_every_split() {
        let mut wire = encode_frame(Opcode::Text, "hé".as_bytes()[..2].as_ref(), false, K);
        wire.extend(encode_frame(Opcode::Ping, b"p", true, K));
        wire.extend(encode_frame(
            Opcode::Continuation,
            &"hé".as_bytes()[2..],
            true,
            K,
        ));
        let big = vec![b'x'; 70_000];
        wire.extend(encode_frame(Opcode::Binary, &big, true, K));
        wire.extend(encode_frame(Opcode::Close, &1000u16.to_be_bytes(), true, K));
        let want = vec![
            Message::Ping(b"p".to_vec()),
            Message::Text("hé".into()),
            Message::Binary(big),
            Message::Close(Some(1000)),
        ];
        for piece in [1, 2, 3, 5, 13, 4096, wire.len()] {
            assert_eq!(decode_all(&wire, piece, 1 << 20), (want.clone(), None));
        }
    }

    #[test]
    fn rules_broken() {
        let cases: Vec<(Vec<u8>, WsError)> = vec![
            (
                encode_frame(Opcode::Text, b"a", true, None),
                WsError::Protocol("unmasked client frame"),
            ),
            (
                vec![0x83, 0x80, 0, 0, 0, 0],
                WsError::Protocol("unknown opcode"),
            ),
            (
                vec![0xc1, 0x80, 0, 0, 0, 0],
                WsError::Protocol("reserved bits set"),
            ),
            (
                encode_frame(Opcode::Ping, b"a", false, K),
                WsError::Protocol("fragmented control frame"),
            ),
            (
                encode_frame(Opcode::Ping, &[0; 126], true, K),
                WsError::Protocol("control frame over 125 bytes"),
            ),
            (
                encode_frame(Opcode::Continuation, b"a", true, K),
                WsError::Protocol("continuation without a message"),
            ),
            (
                encode_frame(Opcode::Text, &[0xff], true, K),
                WsError::NotUtf8,
            ),
            (
                encode_frame(Opcode::Binary, &[0; 11], true, K),
                WsError::TooBig(11),
            ),
        ];
        for (wire, want) in cases {
            assert_eq!(decode_all(&wire, wire.len(), 10).1, Some(want));
        }
        // The limit holds across fragments, before the payload arrives.
        let mut wire = encode_frame(Opcode::Binary, &[0; 6], false, K);
        wire.extend(&encode_frame(Opcode::Continuation, &[0; 6], true, K)[..2]);
        assert_eq!(decode_all(&wire, 1, 10).1, Some(WsError::TooBig(12)));
        // A declared 2^63 length is refused from the header alone.
        let huge = [0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            decode_all(&huge, 10, 10).1,
            Some(WsError::Protocol("length with the top bit set"))
        );
    }

    #[test]
    fn handshake_checks_version_and_key() {
        let req = |version: &str, key: &str| Request {
            method: "GET".into(),
            path: "/jsonrpc".into(),
            query: None,
            http10: false,
            headers: vec![
                ("Upgrade".into(), "websocket".into()),
                ("Connection".into(), "keep-alive, Upgrade".into()),
                ("Sec-WebSocket-Version".into(), version.into()),
                ("Sec-WebSocket-Key".into(), key.into()),
            ],
            body: Vec::new(),
        };
        let ok = handshake(&req("13", "dGhlIHNhbXBsZSBub25jZQ==")).unwrap();
        assert_eq!(ok.status, 101);
        assert!(ok.headers.contains(&(
            "Sec-WebSocket-Accept".into(),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".into()
        )));
        assert_eq!(
            handshake(&req("8", "dGhlIHNhbXBsZSBub25jZQ=="))
                .unwrap_err()
                .status,
            426
        );
        assert_eq!(handshake(&req("13", "short")).unwrap_err().status, 400);
    }
}
