//! Arbitrary bytes as a peer's stream, after the handshake.
//!
//! Input: two bytes of piece count (big-endian, 0 = unknown as before a magnet's metadata),
//! one byte of flags (bit 0: fast extension), then the stream.
//!
//! Invariants checked besides "never panics":
//! - the decoder reads the same messages (and the same error) from the stream whole, byte
//!   by byte and in odd pieces;
//! - re-encoding the decoded messages gives back exactly the bytes they were read from;
//! - an extension handshake that parses encodes to one that parses to the same value;
//! - the peer state machine takes every message (or refuses it with an error) and its
//!   outstanding requests never exceed its queue depth.

use std::time::{Duration, Instant};

use swarmget_bt_wire::peer::{Peer, PeerConfig};
use swarmget_bt_wire::wire::{
    BlockRequest, ExtensionHandshake, FrameDecoder, Limits, Message, WireError,
};

const SPLIT_CHECK_MAX: usize = 4096;

/// Decodes `stream` fed in chunks of `chunk` bytes: each message re-encoded, then the
/// error if one ended the stream, and the bytes consumed.
fn decode(stream: &[u8], limits: Limits, chunk: usize) -> (Vec<Vec<u8>>, Option<WireError>) {
    let mut d = FrameDecoder::new(limits);
    let mut out = Vec::new();
    for piece in stream.chunks(chunk.max(1)) {
        d.extend(piece);
        loop {
            match d.next() {
                Ok(Some(m)) => {
                    let mut e = Vec::new();
                    m.encode(&mut e);
                    out.push(e);
                }
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
    }
    (out, None)
}

/// Decodes `data` as described in the module documentation.
pub fn run(data: &[u8]) {
    let Some((head, stream)) = data.split_first_chunk::<3>() else {
        return;
    };
    let count = u32::from(u16::from_be_bytes([head[0], head[1]]));
    let fast = head[2] & 1 != 0;
    let mut limits = Limits::default();
    if count > 0 {
        limits = limits.with_piece_count(count);
    }

    let (whole, error) = decode(stream, limits, stream.len());
    let consumed: usize = whole.iter().map(Vec::len).sum();
    assert_eq!(
        whole.concat(),
        stream[..consumed],
        "re-encoding differs from the input"
    );
    if stream.len() <= SPLIT_CHECK_MAX {
        for chunk in [1, 7, 4099] {
            assert_eq!(
                decode(stream, limits, chunk),
                (whole.clone(), error.clone())
            );
        }
    }

    let t0 = Instant::now();
    let mut peer = Peer::new(PeerConfig::default(), count, fast, t0);
    peer.set_choking(false);
    let mut d = FrameDecoder::new(limits);
    d.extend(stream);
    let mut out = Vec::new();
    for step in 0u64.. {
        let now = t0 + Duration::from_secs(step * 7);
        let Ok(Some(m)) = d.next() else { break };
        if let Message::Extended { id: 0, payload } = m
            && let Ok(h) = ExtensionHandshake::parse(payload)
        {
            assert_eq!(ExtensionHandshake::parse(&h.encode()), Ok(h));
        }
        if peer.handle_message(now, m).is_err() {
            break;
        }
        for n in 0..peer.wants_blocks(now) as u32 {
            peer.request(BlockRequest {
                index: n % count.max(1),
                begin: n * 16384,
                length: 16384,
            });
        }
        peer.poll_transmit(now, &mut out);
        let depth = peer.queue_depth(now) as usize;
        assert!(peer.outstanding().count() <= depth.max(1));
        while peer.poll_event().is_some() {}
        if peer.handle_timeout(now).is_err() {
            break;
        }
    }
}
