//! A decoder fed bytes in whatever chunks the socket gives.
//!
//! Invariant: the buffer holds at most one incomplete message beyond what the caller
//! pushed in its last [`FrameDecoder::extend`], and that message's declared length has
//! been checked against [`Limits`]; so memory is bounded by the limits plus one read.

use super::{Handshake, Limits, Message, WireError, decode_frame, frame_length};

/// Buffers input and yields messages that borrow from the buffer.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    start: usize,
    limits: Limits,
}

impl FrameDecoder {
    /// A decoder applying `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            limits,
        }
    }

    /// Changes the limits (once a magnet link's metadata gives the piece count).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Appends bytes read from the peer.
    pub fn extend(&mut self, data: &[u8]) {
        // Drop what was consumed before growing: keeps the buffer near one message.
        if self.start > 0 && (self.start == self.buf.len() || self.start >= self.buf.len() / 2) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Takes the handshake, which precedes every message.
    pub fn handshake(&mut self) -> Result<Option<Handshake>, WireError> {
        let h = Handshake::parse(&self.buf[self.start..])?;
        if h.is_some() {
            self.start += Handshake::LEN;
        }
        Ok(h)
    }

    /// The next complete message, `Ok(None)` until more bytes arrive.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Message<'_>>, WireError> {
        let Some(len) = frame_length(&self.buf[self.start..], &self.limits)? else {
            return Ok(None);
        };
        let frame = self.start..self.start + len;
        self.start += len;
        decode_frame(&self.buf[frame], &self.limits).map(Some)
    }
}
