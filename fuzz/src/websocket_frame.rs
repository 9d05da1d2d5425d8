//! Arbitrary bytes as frames from a WebSocket client.
//!
//! Invariants checked besides "never panics":
//! - the decoder gives the same messages (or the same error) from the input whole, byte
//!   by byte and in 7-byte pieces;
//! - no message is over the limit, control payloads are at most 125 bytes;
//! - each message, encoded again as a masked client frame, decodes to itself.

use swarmget_rpc::websocket::{Decoder, Message, Opcode, encode_frame};

const SPLIT_CHECK_MAX: usize = 4096;
const LIMIT: usize = 1024;

/// Fuzz body: must never panic on any input.
pub fn run(data: &[u8]) {
    let whole = decode_all(data, data.len().max(1));
    if data.len() <= SPLIT_CHECK_MAX {
        for piece in [1, 7] {
            assert_eq!(decode_all(data, piece), whole, "{piece}-byte pieces");
        }
    }
    for m in &whole.0 {
        let (op, payload) = match m {
            Message::Text(t) => (Opcode::Text, t.as_bytes().to_vec()),
            Message::Binary(b) => (Opcode::Binary, b.clone()),
            Message::Ping(p) => (Opcode::Ping, p.clone()),
            Message::Pong(p) => (Opcode::Pong, p.clone()),
            Message::Close(Some(code)) => (Opcode::Close, code.to_be_bytes().to_vec()),
            Message::Close(None) => (Opcode::Close, Vec::new()),
        };
        assert!(payload.len() <= LIMIT);
        if op == Opcode::Ping || op == Opcode::Pong || op == Opcode::Close {
            assert!(payload.len() <= 125);
        }
        let again = encode_frame(op, &payload, true, Some([9, 8, 7, 6]));
        assert_eq!(decode_all(&again, again.len()), (vec![m.clone()], None));
    }
}

fn decode_all(data: &[u8], piece: usize) -> (Vec<Message>, Option<String>) {
    let mut d = Decoder::new(LIMIT);
    let mut out = Vec::new();
    for chunk in data.chunks(piece) {
        d.feed(chunk);
        loop {
            match d.poll() {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(e) => return (out, Some(e.to_string())),
            }
        }
    }
    (out, None)
}
