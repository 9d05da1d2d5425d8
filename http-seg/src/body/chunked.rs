//! The chunked transfer coding (RFC 9112 §7.1), decoded incrementally.
//!
//! A byte-at-a-time state machine for the framing (size lines, CRLFs,
//! trailers), with chunk data passed through as sub-slices of the input.

use super::{BodyError, BodyLimits};
use crate::head::field_section;
use crate::headers::Headers;
use crate::syntax::is_field_value_byte;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// In the hex digits of a chunk-size; `digits` says whether any were seen.
    Size { digits: bool },
    /// Whitespace after the size (some servers pad it), before `;` or CRLF.
    SizeTail,
    /// In chunk extensions, which are skipped.
    Extension,
    /// Saw CR ending the size line; LF must follow.
    SizeLf,
    /// Inside chunk data with this many bytes to go.
    Data { remaining: u64 },
    /// After chunk data: CRLF (or a bare LF) must follow.
    DataCr,
    /// Saw CR after chunk data; LF must follow.
    DataLf,
    /// After the last chunk: trailer fields up to an empty line.
    Trailer,
    /// The body is complete.
    Done,
}

/// Decoder state for one chunked body.
#[derive(Clone, Debug)]
pub(crate) struct ChunkedDecoder {
    state: State,
    limits: BodyLimits,
    /// Bytes of the current chunk-size line so far.
    line_len: usize,
    /// The chunk size being read.
    size: u64,
    /// The trailer section's raw bytes, kept until it ends.
    trailer: Vec<u8>,
    /// Where the trailer section began, for error offsets.
    trailer_start: u64,
    trailers: Option<Headers>,
}

impl ChunkedDecoder {
    pub(crate) fn new(limits: BodyLimits) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size { digits: false },
            limits,
            line_len: 0,
            size: 0,
            trailer: Vec::new(),
            trailer_start: 0,
            trailers: None,
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    pub(crate) fn trailers(&self) -> Option<&Headers> {
        self.trailers.as_ref()
    }

    /// Bytes of chunk data that follow verbatim on the wire from here.
    pub(crate) fn data_ahead(&self) -> u64 {
        match self.state {
            State::Data { remaining } => remaining,
            _ => 0,
        }
    }

    /// Skips `n` bytes of chunk data the caller moved itself; `n` must not
    /// exceed [`data_ahead`](ChunkedDecoder::data_ahead).
    pub(crate) fn skip_data(&mut self, n: u64) {
        if let State::Data { remaining } = self.state {
            let left = remaining.saturating_sub(n);
            self.state = if left == 0 {
                State::DataCr
            } else {
                State::Data { remaining: left }
            };
        }
    }

    /// Decodes from `input`, whose first byte is at body offset `position`.
    /// Returns how many bytes were consumed; stops at the end of the body.
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        position: u64,
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<usize, BodyError> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Done => break,
                State::Data { remaining } => {
                    let n = remaining.min((input.len() - i) as u64) as usize;
                    out(&input[i..i + n]);
                    i += n;
                    self.skip_data(n as u64);
                }
                State::Trailer => {
                    let b = input[i];
                    i += 1;
                    self.trailer_byte(b)?;
                }
                _ => {
                    let b = input[i];
                    self.frame_byte(b, position + i as u64)?;
                    i += 1;
                    if self.state == State::Trailer {
                        self.trailer_start = position + i as u64;
                    }
                }
            }
        }
        Ok(i)
    }

    /// One byte of a size line or of the CRLF after chunk data.
    fn frame_byte(&mut self, b: u8, at: u64) -> Result<(), BodyError> {
        if matches!(
            self.state,
            State::Size { .. } | State::SizeTail | State::Extension | State::SizeLf
        ) {
            self.line_len += 1;
            if self.line_len > self.limits.max_chunk_line {
                return Err(BodyError::ChunkLineTooLong {
                    offset: at,
                    limit: self.limits.max_chunk_line,
                });
            }
        }
        self.state = match (self.state, b) {
            (State::Size { .. }, b) if b.is_ascii_hexdigit() => {
                let digit = u64::from(char::from(b).to_digit(16).unwrap_or(0));
                self.size = self
                    .size
                    .checked_mul(16)
                    .and_then(|s| s.checked_add(digit))
                    .ok_or(BodyError::ChunkSizeOverflow { offset: at })?;
                State::Size { digits: true }
            }
            (State::Size { digits: false }, _) => {
                return Err(BodyError::InvalidChunkSize { offset: at });
            }
            (State::Size { .. } | State::SizeTail, b' ' | b'\t') => State::SizeTail,
            (State::Size { .. } | State::SizeTail, b';') => State::Extension,
            (State::Size { .. } | State::SizeTail | State::Extension, b'\r') => State::SizeLf,
            (State::Size { .. } | State::SizeTail | State::Extension | State::SizeLf, b'\n') => {
                self.end_size_line()
            }
            (State::Size { .. } | State::SizeTail, _) => {
                return Err(BodyError::InvalidChunkSize { offset: at });
            }
            (State::Extension, b) if is_field_value_byte(b) => State::Extension,
            (State::Extension, _) => {
                return Err(BodyError::InvalidChunkExtension { offset: at });
            }
            (State::SizeLf, _) => return Err(BodyError::BareCr { offset: at - 1 }),
            (State::DataCr, b'\r') => State::DataLf,
            (State::DataCr | State::DataLf, b'\n') => State::Size { digits: false },
            (State::DataCr | State::DataLf, _) => {
                return Err(BodyError::MissingChunkTerminator { offset: at });
            }
            (State::Data { .. } | State::Trailer | State::Done, _) => self.state,
        };
        Ok(())
    }

    fn end_size_line(&mut self) -> State {
        let size = std::mem::take(&mut self.size);
        self.line_len = 0;
        if size == 0 {
            State::Trailer
        } else {
            State::Data { remaining: size }
        }
    }

    /// One byte of the trailer section; parses it once the empty line arrives.
    fn trailer_byte(&mut self, b: u8) -> Result<(), BodyError> {
        if self.trailer.len() >= self.limits.max_trailer_bytes {
            return Err(BodyError::TrailersTooLarge {
                limit: self.limits.max_trailer_bytes,
            });
        }
        self.trailer.push(b);
        let t = &self.trailer[..];
        let ended = b == b'\n'
            && (t == b"\n" || t == b"\r\n" || t.ends_with(b"\n\n") || t.ends_with(b"\n\r\n"));
        if !ended {
            return Ok(());
        }
        let parsed = field_section(t, 0, 0, self.limits.max_trailers);
        let trailers = match parsed {
            Ok(Some((headers, _))) => headers,
            // The empty line just seen ends the section, so the parser found it.
            Ok(None) => Headers::new(),
            Err(source) => {
                return Err(BodyError::InvalidTrailer {
                    section_offset: self.trailer_start,
                    source,
                });
            }
        };
        self.trailers = Some(trailers);
        self.trailer = Vec::new();
        self.state = State::Done;
        Ok(())
    }
}
