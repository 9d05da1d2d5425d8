//! Message body framing: where a response body ends on the connection.

mod chunked;

use chunked::ChunkedDecoder;

use crate::head::HeadError;
use crate::headers::Headers;

/// How a response body is delimited (RFC 9112 §6.3); see
/// [`ResponseHead::framing`](crate::ResponseHead::framing).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Framing {
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// The chunked transfer coding.
    Chunked,
    /// Everything until the server closes the connection.
    UntilClose,
    /// No body at all (HEAD, 1xx, 204, 304).
    Empty,
}

/// Bounds on the framing bytes of a chunked body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    /// Longest chunk-size line, extensions and CRLF included (4 KiB).
    pub max_chunk_line: usize,
    /// Longest trailer section, final empty line included (16 KiB).
    pub max_trailer_bytes: usize,
    /// Most trailer fields (64).
    pub max_trailers: usize,
}

impl Default for BodyLimits {
    fn default() -> BodyLimits {
        BodyLimits {
            max_chunk_line: 4 * 1024,
            max_trailer_bytes: 16 * 1024,
            max_trailers: 64,
        }
    }
}

/// What one [`BodyDecoder::decode`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// Input bytes used. Bytes after them (when `done`) belong to whatever
    /// follows on the connection, such as the next response.
    pub consumed: usize,
    /// Whether the body is complete.
    pub done: bool,
}

/// Why a body could not be read.
/// Offsets count bytes on the wire from the start of the body.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The connection closed before `Content-Length` bytes arrived.
    #[error("body truncated: {received} of {expected} bytes arrived")]
    TruncatedLength {
        /// `Content-Length`.
        expected: u64,
        /// Bytes received.
        received: u64,
    },
    /// The connection closed inside a chunked body.
    #[error("chunked body truncated at byte {offset}")]
    TruncatedChunked {
        /// Bytes of the body received.
        offset: u64,
    },
    /// A chunk-size line does not start with a hex digit, or has junk after it.
    #[error("byte {offset}: invalid chunk size")]
    InvalidChunkSize {
        /// The offending byte.
        offset: u64,
    },
    /// A chunk size does not fit in 64 bits.
    #[error("byte {offset}: chunk size overflows 64 bits")]
    ChunkSizeOverflow {
        /// The digit that overflowed.
        offset: u64,
    },
    /// A control character inside chunk extensions.
    #[error("byte {offset}: control character in chunk extension")]
    InvalidChunkExtension {
        /// The offending byte.
        offset: u64,
    },
    /// A chunk-size line longer than the limit.
    #[error("byte {offset}: chunk-size line longer than {limit} bytes")]
    ChunkLineTooLong {
        /// The byte that went over.
        offset: u64,
        /// [`BodyLimits::max_chunk_line`].
        limit: usize,
    },
    /// A CR not followed by LF in a chunk-size line.
    #[error("byte {offset}: CR not followed by LF")]
    BareCr {
        /// The CR.
        offset: u64,
    },
    /// Chunk data not followed by CRLF: the size was wrong.
    #[error("byte {offset}: chunk data not followed by CRLF")]
    MissingChunkTerminator {
        /// Where CRLF should be.
        offset: u64,
    },
    /// A trailer section longer than the limit.
    #[error("trailer section longer than {limit} bytes")]
    TrailersTooLarge {
        /// [`BodyLimits::max_trailer_bytes`].
        limit: usize,
    },
    /// A malformed trailer field.
    #[error("trailer section at byte {section_offset}: {source}")]
    InvalidTrailer {
        /// Where the trailer section starts; `source`'s offsets count from here.
        section_offset: u64,
        /// The rule the field breaks.
        #[source]
        source: HeadError,
    },
    /// [`BodyDecoder::advance`] past the bytes that may be taken raw.
    #[error("cannot skip {requested} bytes: only {available} body bytes may be taken raw")]
    AdvanceTooFar {
        /// Bytes asked to skip.
        requested: u64,
        /// [`BodyDecoder::raw_bytes_ahead`] at the time.
        available: u64,
    },
}

#[derive(Clone, Debug)]
enum State {
    Length { remaining: u64 },
    Chunked(Box<ChunkedDecoder>),
    UntilClose,
    Done,
    Failed(BodyError),
}

/// Finds the end of a response body and hands its bytes out.
///
/// Feed it whatever the connection delivered after the head; it passes body
/// bytes to `out` (sub-slices of the input, never copies) and says how many
/// input bytes it used. Anything past the end of the body is left alone for
/// the next response. Once an error is returned, every later call returns it.
///
/// For `Length` framing (and inside a chunk) the caller may skip the decoder
/// and move bytes from the socket straight into the file, then report them
/// with [`advance`](BodyDecoder::advance): see
/// [`raw_bytes_ahead`](BodyDecoder::raw_bytes_ahead).
#[derive(Clone, Debug)]
pub struct BodyDecoder {
    framing: Framing,
    state: State,
    /// Wire bytes consumed.
    position: u64,
    /// Body bytes delivered.
    delivered: u64,
}

impl BodyDecoder {
    /// A decoder for a body with this framing and the default limits.
    pub fn new(framing: Framing) -> BodyDecoder {
        BodyDecoder::with_limits(framing, BodyLimits::default())
    }

    /// A decoder with explicit limits for chunked framing.
    pub fn with_limits(framing: Framing, limits: BodyLimits) -> BodyDecoder {
        let state = match framing {
            Framing::Length(0) | Framing::Empty => State::Done,
            Framing::Length(n) => State::Length { remaining: n },
            Framing::Chunked => State::Chunked(Box::new(ChunkedDecoder::new(limits))),
            Framing::UntilClose => State::UntilClose,
        };
        BodyDecoder {
            framing,
            state,
            position: 0,
            delivered: 0,
        }
    }

    /// The framing this decoder follows.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Decodes body bytes from `input`, passing them to `out`.
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<Decoded, BodyError> {
        let consumed = match &mut self.state {
            State::Failed(e) => return Err(e.clone()),
            State::Done => 0,
            State::Length { remaining } => {
                let n = (*remaining).min(input.len() as u64) as usize;
                if n > 0 {
                    out(&input[..n]);
                }
                *remaining -= n as u64;
                self.delivered += n as u64;
                n
            }
            State::UntilClose => {
                if !input.is_empty() {
                    out(input);
                }
                self.delivered += input.len() as u64;
                input.len()
            }
            State::Chunked(chunked) => {
                let delivered = &mut self.delivered;
                let result = chunked.decode(input, self.position, &mut |data| {
                    *delivered += data.len() as u64;
                    out(data);
                });
                match result {
                    Ok(n) => n,
                    Err(e) => {
                        self.state = State::Failed(e.clone());
                        return Err(e);
                    }
                }
            }
        };
        self.position += consumed as u64;
        self.settle();
        Ok(Decoded {
            consumed,
            done: self.is_done(),
        })
    }

    /// Body bytes still expected under `Length` framing; `None` for other framings.
    pub fn remaining(&self) -> Option<u64> {
        match (&self.state, self.framing) {
            (State::Length { remaining }, _) => Some(*remaining),
            (_, Framing::Length(n)) => Some(n - self.delivered.min(n)),
            _ => None,
        }
    }

    /// How many of the next bytes on the connection are body bytes verbatim:
    /// the rest of a `Length` body, the rest of the current chunk, or
    /// `u64::MAX` until close. The caller may write that many bytes from the
    /// socket straight to their destination and then call
    /// [`advance`](BodyDecoder::advance).
    pub fn raw_bytes_ahead(&self) -> u64 {
        match &self.state {
            State::Length { remaining } => *remaining,
            State::Chunked(chunked) => chunked.data_ahead(),
            State::UntilClose => u64::MAX,
            State::Done | State::Failed(_) => 0,
        }
    }

    /// Records `n` body bytes the caller took straight from the connection.
    pub fn advance(&mut self, n: u64) -> Result<(), BodyError> {
        let available = self.raw_bytes_ahead();
        if n > available {
            return Err(BodyError::AdvanceTooFar {
                requested: n,
                available,
            });
        }
        match &mut self.state {
            State::Length { remaining } => *remaining -= n,
            State::Chunked(chunked) => chunked.skip_data(n),
            State::UntilClose | State::Done | State::Failed(_) => {}
        }
        self.position += n;
        self.delivered += n;
        self.settle();
        Ok(())
    }

    /// Tells the decoder the peer closed the connection. That ends an
    /// `UntilClose` body; any other body not yet complete was truncated.
    pub fn finish_eof(&mut self) -> Result<(), BodyError> {
        let result = match &self.state {
            State::Done => Ok(()),
            State::Chunked(chunked) if chunked.is_done() => Ok(()),
            State::Failed(e) => Err(e.clone()),
            State::UntilClose => {
                self.state = State::Done;
                Ok(())
            }
            State::Length { .. } => Err(BodyError::TruncatedLength {
                expected: match self.framing {
                    Framing::Length(n) => n,
                    _ => self.delivered,
                },
                received: self.delivered,
            }),
            State::Chunked(_) => Err(BodyError::TruncatedChunked {
                offset: self.position,
            }),
        };
        if let Err(e) = &result {
            self.state = State::Failed(e.clone());
        }
        result
    }

    /// Whether the body is complete.
    pub fn is_done(&self) -> bool {
        match &self.state {
            State::Done => true,
            State::Chunked(chunked) => chunked.is_done(),
            _ => false,
        }
    }

    /// Body bytes delivered (or advanced over) so far.
    pub fn body_bytes(&self) -> u64 {
        self.delivered
    }

    /// Wire bytes consumed so far, framing included.
    pub fn wire_bytes(&self) -> u64 {
        self.position
    }

    /// The trailer fields of a chunked body, once it is complete.
    pub fn trailers(&self) -> Option<&Headers> {
        match &self.state {
            State::Chunked(chunked) => chunked.trailers(),
            _ => None,
        }
    }

    /// Moves to `Done` when the body has ended.
    fn settle(&mut self) {
        if let State::Length { remaining: 0 } = self.state {
            self.state = State::Done;
        }
    }
}
