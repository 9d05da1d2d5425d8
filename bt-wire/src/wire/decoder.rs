//! A decoder fed bytes in whatever chunks the socket gives.
//!
//! Invariant: the buffer holds at most one incomplete message beyond what the caller
//! pushed in its last [`FrameDecoder::extend`] (or read into [`FrameDecoder::spare`]),
//! and that message's declared length has been checked against [`Limits`]; so memory
//! is bounded by the limits plus one read.

use super::{Handshake, Limits, Message, WireError, decode_frame, frame_length};

/// Buffers input and yields messages that borrow from the buffer.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// Initialised storage: bytes `start..end` are received and not yet decoded; the
    /// rest is room for the next read.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    limits: Limits,
}

impl FrameDecoder {
    /// A decoder applying `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            end: 0,
            limits,
        }
    }

    /// Changes the limits (once a magnet link's metadata gives the piece count).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Appends bytes read from the peer.
    pub fn extend(&mut self, data: &[u8]) {
        self.spare(data.len())[..data.len()].copy_from_slice(data);
        self.filled(data.len());
    }

    /// Room for at least `min` more bytes, for the caller to read the socket straight
    /// into (saving a copy of every byte received); [`FrameDecoder::filled`] then says
    /// how many it wrote. The undecoded bytes move to the front only when the room at
    /// the end is short, so the buffer stays near one message plus `min`.
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        } else if self.buf.len() - self.end < min {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.buf.len() - self.end < min {
            self.buf.resize(self.end + min, 0);
        }
        &mut self.buf[self.end..]
    }

    /// Counts `n` bytes written at the start of the last [`FrameDecoder::spare`] slice.
    ///
    /// # Panics
    /// If `n` is larger than that slice.
    pub fn filled(&mut self, n: usize) {
        assert!(n <= self.buf.len() - self.end, "filled past the spare room");
        self.end += n;
    }

    /// Bytes received but not yet decoded.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// Bytes the buffer takes in memory (undecoded bytes and room for the next read).
    pub fn allocated(&self) -> usize {
        self.buf.len()
    }

    /// Takes the handshake, which precedes every message.
    pub fn handshake(&mut self) -> Result<Option<Handshake>, WireError> {
        let h = Handshake::parse(&self.buf[self.start..self.end])?;
        if h.is_some() {
            self.start += Handshake::LEN;
        }
        Ok(h)
    }

    /// The next complete message, `Ok(None)` until more bytes arrive.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Message<'_>>, WireError> {
        let Some(len) = frame_length(&self.buf[self.start..self.end], &self.limits)? else {
            return Ok(None);
        };
        let frame = self.start..self.start + len;
        self.start += len;
        decode_frame(&self.buf[frame], &self.limits).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::BlockRequest;

    #[test]
    fn reading_into_the_spare_room_decodes_as_extend_does_in_bounded_memory() {
        let limits = Limits::default().with_piece_count(64);
        let block = vec![9u8; 16 << 10];
        let mut wire = Vec::new();
        for i in 0..40 {
            Message::Piece {
                index: i,
                begin: 0,
                data: &block,
            }
            .encode(&mut wire);
            Message::Request(BlockRequest {
                index: i,
                begin: 0,
                length: 16 << 10,
            })
            .encode(&mut wire);
        }
        let mut whole = FrameDecoder::new(limits);
        whole.extend(&wire);
        let mut expected = Vec::new();
        while let Some(m) = whole.next().unwrap() {
            expected.push(format!("{m:?}"));
        }
        // Reads of 64 KiB cut messages anywhere; each is taken as soon as complete.
        let mut d = FrameDecoder::new(limits);
        let mut got = Vec::new();
        for chunk in wire.chunks(64 << 10) {
            let room = d.spare(64 << 10);
            room[..chunk.len()].copy_from_slice(chunk);
            d.filled(chunk.len());
            while let Some(m) = d.next().unwrap() {
                got.push(format!("{m:?}"));
            }
            // One incomplete message kept, plus room for one read.
            assert!(
                d.buf.len() <= (64 << 10) + block.len() + 13,
                "{}",
                d.buf.len()
            );
        }
        assert_eq!(got, expected);
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    #[should_panic(expected = "filled past the spare room")]
    fn filling_more_than_the_room_is_a_bug() {
        let mut d = FrameDecoder::new(Limits::default());
        let room = d.spare(10).len();
        d.filled(room + 1);
    }
}
