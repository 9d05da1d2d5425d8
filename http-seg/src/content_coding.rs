//! Undoing `Content-Encoding: gzip` / `deflate` as the body streams in.
//!
//! Servers sometimes compress a file even when the client asked for identity,
//! and a whole-file (non-range) download of such a response must be
//! decompressed to be the file. Output is bounded per call by the caller's
//! buffer, so a decompression bomb costs time, not memory.

use flate2::{Decompress, FlushDecompress, Status};

/// A response's content coding, as far as this crate is concerned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ContentEncoding {
    /// No coding (absent, or only `identity`).
    Identity,
    /// `gzip` or `x-gzip` (RFC 1952), possibly several members.
    Gzip,
    /// `deflate`: zlib-wrapped (RFC 1950) as the RFC says, or raw deflate as
    /// some servers send; told apart by the first two bytes.
    Deflate,
    /// Anything else, or several codings stacked: the value as listed.
    Unsupported(String),
}

impl ContentEncoding {
    /// Reads a `Content-Encoding` field value.
    pub fn parse(value: &str) -> ContentEncoding {
        let codings: Vec<&str> = crate::syntax::list_elements(value).collect();
        ContentEncoding::from_codings(&codings)
    }

    pub(crate) fn from_codings(codings: &[&str]) -> ContentEncoding {
        let applied: Vec<&str> = codings
            .iter()
            .copied()
            .filter(|c| !c.eq_ignore_ascii_case("identity"))
            .collect();
        match applied.as_slice() {
            [] => ContentEncoding::Identity,
            [one] if one.eq_ignore_ascii_case("gzip") || one.eq_ignore_ascii_case("x-gzip") => {
                ContentEncoding::Gzip
            }
            [one] if one.eq_ignore_ascii_case("deflate") => ContentEncoding::Deflate,
            many => ContentEncoding::Unsupported(many.join(", ")),
        }
    }
}

/// What one [`ContentDecoder::decode`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Inflated {
    /// Compressed bytes used from the input.
    pub consumed: usize,
    /// Decompressed bytes written to the output buffer.
    pub produced: usize,
}

/// Why a compressed body could not be decoded. Offsets count compressed bytes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContentError {
    /// A coding this decoder does not implement.
    #[error("unsupported content coding {coding:?}")]
    Unsupported {
        /// The coding.
        coding: String,
    },
    /// A gzip member does not start with the magic bytes 1f 8b.
    #[error("byte {offset}: not a gzip member (bad magic)")]
    NotGzip {
        /// The first wrong byte.
        offset: u64,
    },
    /// A gzip member uses a compression method other than deflate (8).
    #[error("byte {offset}: gzip compression method {method} is not deflate")]
    UnsupportedGzipMethod {
        /// Where the method byte is.
        offset: u64,
        /// The method.
        method: u8,
    },
    /// Reserved gzip flag bits are set (RFC 1952 says reject).
    #[error("byte {offset}: reserved gzip flags {flags:#04x}")]
    ReservedGzipFlags {
        /// Where the flag byte is.
        offset: u64,
        /// The flag byte.
        flags: u8,
    },
    /// The deflate data is corrupt.
    #[error("byte {offset}: corrupt deflate data: {message}")]
    Corrupt {
        /// Compressed bytes consumed before the failing call.
        offset: u64,
        /// The inflater's message.
        message: String,
    },
    /// A gzip member's CRC-32 does not match its data.
    #[error("gzip CRC-32 mismatch: trailer says {expected:#010x}, data gives {actual:#010x}")]
    ChecksumMismatch {
        /// From the trailer.
        expected: u32,
        /// Computed.
        actual: u32,
    },
    /// A gzip member's ISIZE does not match its data length (mod 2^32).
    #[error("gzip size mismatch: trailer says {expected}, data gives {actual} (mod 2^32)")]
    SizeMismatch {
        /// From the trailer.
        expected: u32,
        /// Computed.
        actual: u32,
    },
    /// Bytes after the end of a deflate stream.
    #[error("byte {offset}: data after the end of the deflate stream")]
    TrailingData {
        /// The first extra byte.
        offset: u64,
    },
    /// The body ended inside the compressed stream.
    #[error("compressed body ends before the compressed stream does")]
    Truncated,
}

/// gzip header flag bits (RFC 1952 §2.3.1).
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;
const FRESERVED: u8 = 0xe0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gz {
    /// The fixed 10-byte header; `got` bytes seen.
    Fixed {
        got: u8,
    },
    ExtraLen {
        got: u8,
    },
    Extra {
        remaining: u16,
    },
    Name,
    Comment,
    HeaderCrc {
        got: u8,
    },
    Deflate,
    /// The 8-byte trailer; `got` bytes seen.
    Trailer {
        got: u8,
    },
    /// Between members: the stream may end here, or another member may follow.
    MemberEnd,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flate {
    /// Waiting for the first two bytes to tell zlib from raw deflate.
    Sniff,
    Deflate,
    Done,
}

/// A gzip stream: members of header, deflate data and trailer.
struct Gzip {
    state: Gz,
    flags: u8,
    /// Header or trailer bytes being collected.
    scratch: [u8; 10],
    crc: crc32fast::Hasher,
    size: u32,
    inflate: Decompress,
}

/// A `deflate` stream, zlib-wrapped or raw.
struct Deflate {
    state: Flate,
    /// Bytes taken while sniffing, fed to the inflater before the input.
    pending: Vec<u8>,
    inflate: Decompress,
}

enum Kind {
    Identity,
    Gzip(Box<Gzip>),
    Deflate(Box<Deflate>),
}

/// A streaming decoder for a response body's content coding.
///
/// Call [`decode`](ContentDecoder::decode) with the body bytes (after
/// [`BodyDecoder`](crate::BodyDecoder)) and an output buffer, until all input
/// is consumed and the output is not filled; then
/// [`finish`](ContentDecoder::finish) at the end of the body.
/// [`decode_to`](ContentDecoder::decode_to) runs that loop for you.
pub struct ContentDecoder {
    kind: Kind,
    /// Compressed bytes consumed, for error offsets.
    offset: u64,
    /// Buffer for [`decode_to`](ContentDecoder::decode_to), allocated on first use.
    buffer: Vec<u8>,
}

impl std::fmt::Debug for ContentDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Identity => "identity",
            Kind::Gzip(_) => "gzip",
            Kind::Deflate(_) => "deflate",
        };
        f.debug_struct("ContentDecoder")
            .field("coding", &kind)
            .field("offset", &self.offset)
            .finish()
    }
}

/// Size of the buffer [`ContentDecoder::decode_to`] decompresses into.
const DECODE_TO_BUFFER: usize = 32 * 1024;

impl ContentDecoder {
    /// A decoder for `encoding`; [`ContentEncoding::Unsupported`] is an error.
    pub fn new(encoding: &ContentEncoding) -> Result<ContentDecoder, ContentError> {
        let kind = match encoding {
            ContentEncoding::Identity => Kind::Identity,
            ContentEncoding::Gzip => Kind::Gzip(Box::new(Gzip {
                state: Gz::Fixed { got: 0 },
                flags: 0,
                scratch: [0; 10],
                crc: crc32fast::Hasher::new(),
                size: 0,
                inflate: Decompress::new(false),
            })),
            ContentEncoding::Deflate => Kind::Deflate(Box::new(Deflate {
                state: Flate::Sniff,
                pending: Vec::with_capacity(2),
                inflate: Decompress::new(false),
            })),
            ContentEncoding::Unsupported(coding) => {
                return Err(ContentError::Unsupported {
                    coding: coding.clone(),
                });
            }
        };
        Ok(ContentDecoder {
            kind,
            offset: 0,
            buffer: Vec::new(),
        })
    }

    /// Decodes from `input` into `output`. Returns when the input is used up
    /// or the output is full; decompressed data may still be pending inside
    /// when `produced == output.len()`, so call again (with the rest of the
    /// input, possibly empty) until it is not.
    pub fn decode(&mut self, input: &[u8], output: &mut [u8]) -> Result<Inflated, ContentError> {
        let result = match &mut self.kind {
            Kind::Identity => {
                let n = input.len().min(output.len());
                output[..n].copy_from_slice(&input[..n]);
                Ok(Inflated {
                    consumed: n,
                    produced: n,
                })
            }
            Kind::Gzip(gzip) => gzip.decode(self.offset, input, output),
            Kind::Deflate(deflate) => deflate.decode(self.offset, input, output),
        };
        if let Ok(done) = &result {
            self.offset += done.consumed as u64;
        }
        result
    }

    /// Decodes all of `input`, handing decompressed data to `out` in pieces of
    /// at most 32 KiB.
    pub fn decode_to(
        &mut self,
        mut input: &[u8],
        out: &mut dyn FnMut(&[u8]),
    ) -> Result<(), ContentError> {
        let mut buffer = std::mem::take(&mut self.buffer);
        buffer.resize(DECODE_TO_BUFFER, 0);
        let result = loop {
            match self.decode(input, &mut buffer) {
                Err(e) => break Err(e),
                Ok(step) => {
                    if step.produced > 0 {
                        out(&buffer[..step.produced]);
                    }
                    input = &input[step.consumed..];
                    let drained = step.produced < buffer.len();
                    if (input.is_empty() && drained) || (step.consumed == 0 && step.produced == 0) {
                        break Ok(());
                    }
                }
            }
        };
        self.buffer = buffer;
        result
    }

    /// Checks that the compressed stream ended cleanly, to be called once the
    /// body is complete. An empty body is accepted as an empty stream.
    pub fn finish(&self) -> Result<(), ContentError> {
        let complete = match &self.kind {
            Kind::Identity => true,
            Kind::Gzip(gzip) => {
                gzip.state == Gz::MemberEnd
                    || (gzip.state == Gz::Fixed { got: 0 } && self.offset == 0)
            }
            Kind::Deflate(deflate) => {
                deflate.state == Flate::Done
                    || (deflate.state == Flate::Sniff && deflate.pending.is_empty())
            }
        };
        if complete {
            Ok(())
        } else {
            Err(ContentError::Truncated)
        }
    }
}

/// Runs the inflater once over `input` into `output`, returning the bytes
/// consumed and produced and whether the deflate stream ended.
fn inflate_step(
    inflate: &mut Decompress,
    input: &[u8],
    output: &mut [u8],
    offset: u64,
) -> Result<(usize, usize, bool), ContentError> {
    let (in_before, out_before) = (inflate.total_in(), inflate.total_out());
    let status = inflate
        .decompress(input, output, FlushDecompress::None)
        .map_err(|e| ContentError::Corrupt {
            offset,
            message: e.to_string(),
        })?;
    let consumed = (inflate.total_in() - in_before) as usize;
    let produced = (inflate.total_out() - out_before) as usize;
    Ok((consumed, produced, status == Status::StreamEnd))
}

impl Gzip {
    fn decode(
        &mut self,
        base: u64,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<Inflated, ContentError> {
        let Gzip {
            state,
            flags,
            scratch,
            crc,
            size,
            inflate,
        } = self;
        let mut consumed = 0;
        let mut produced = 0;
        loop {
            let at = base + consumed as u64;
            if *state == Gz::Deflate {
                let (i, o, end) =
                    inflate_step(inflate, &input[consumed..], &mut output[produced..], at)?;
                crc.update(&output[produced..produced + o]);
                *size = size.wrapping_add(o as u32);
                consumed += i;
                produced += o;
                if end {
                    *state = Gz::Trailer { got: 0 };
                    continue;
                }
                if i == 0 && o == 0 {
                    break;
                }
                continue;
            }
            let Some(&b) = input.get(consumed) else {
                break;
            };
            consumed += 1;
            *state = match *state {
                Gz::MemberEnd => {
                    // Another member follows; reread this byte as its first.
                    consumed -= 1;
                    inflate.reset(false);
                    *crc = crc32fast::Hasher::new();
                    *size = 0;
                    Gz::Fixed { got: 0 }
                }
                Gz::Fixed { got } => {
                    scratch[usize::from(got)] = b;
                    match got {
                        0 if b != 0x1f => return Err(ContentError::NotGzip { offset: at }),
                        1 if b != 0x8b => return Err(ContentError::NotGzip { offset: at }),
                        2 if b != 8 => {
                            return Err(ContentError::UnsupportedGzipMethod {
                                offset: at,
                                method: b,
                            });
                        }
                        3 if b & FRESERVED != 0 => {
                            return Err(ContentError::ReservedGzipFlags {
                                offset: at,
                                flags: b,
                            });
                        }
                        3 => {
                            *flags = b;
                            Gz::Fixed { got: 4 }
                        }
                        9 => after_fixed(*flags),
                        _ => Gz::Fixed { got: got + 1 },
                    }
                }
                Gz::ExtraLen { got: 0 } => {
                    scratch[0] = b;
                    Gz::ExtraLen { got: 1 }
                }
                Gz::ExtraLen { .. } => {
                    let remaining = u16::from_le_bytes([scratch[0], b]);
                    if remaining == 0 {
                        after_extra(*flags)
                    } else {
                        Gz::Extra { remaining }
                    }
                }
                Gz::Extra { remaining: 1 } => after_extra(*flags),
                Gz::Extra { remaining } => Gz::Extra {
                    remaining: remaining - 1,
                },
                Gz::Name if b == 0 => after_name(*flags),
                Gz::Name => Gz::Name,
                Gz::Comment if b == 0 => after_comment(*flags),
                Gz::Comment => Gz::Comment,
                // The header CRC is optional and rarely sent; it is skipped, not checked.
                Gz::HeaderCrc { got: 0 } => Gz::HeaderCrc { got: 1 },
                Gz::HeaderCrc { .. } => Gz::Deflate,
                Gz::Trailer { got } => {
                    scratch[usize::from(got)] = b;
                    if got < 7 {
                        Gz::Trailer { got: got + 1 }
                    } else {
                        let expected =
                            u32::from_le_bytes([scratch[0], scratch[1], scratch[2], scratch[3]]);
                        let length =
                            u32::from_le_bytes([scratch[4], scratch[5], scratch[6], scratch[7]]);
                        let actual = crc.clone().finalize();
                        if expected != actual {
                            return Err(ContentError::ChecksumMismatch { expected, actual });
                        }
                        if length != *size {
                            return Err(ContentError::SizeMismatch {
                                expected: length,
                                actual: *size,
                            });
                        }
                        Gz::MemberEnd
                    }
                }
                Gz::Deflate => Gz::Deflate,
            };
        }
        Ok(Inflated { consumed, produced })
    }
}

fn after_fixed(flags: u8) -> Gz {
    if flags & FEXTRA != 0 {
        Gz::ExtraLen { got: 0 }
    } else {
        after_extra(flags)
    }
}

fn after_extra(flags: u8) -> Gz {
    if flags & FNAME != 0 {
        Gz::Name
    } else {
        after_name(flags)
    }
}

fn after_name(flags: u8) -> Gz {
    if flags & FCOMMENT != 0 {
        Gz::Comment
    } else {
        after_comment(flags)
    }
}

fn after_comment(flags: u8) -> Gz {
    if flags & FHCRC != 0 {
        Gz::HeaderCrc { got: 0 }
    } else {
        Gz::Deflate
    }
}

impl Deflate {
    fn decode(
        &mut self,
        base: u64,
        input: &[u8],
        output: &mut [u8],
    ) -> Result<Inflated, ContentError> {
        let Deflate {
            state,
            pending,
            inflate,
        } = self;
        let mut consumed = 0;
        let mut produced = 0;
        if *state == Flate::Sniff {
            let take = (2 - pending.len()).min(input.len());
            pending.extend_from_slice(&input[..take]);
            consumed += take;
            if let [cmf, flg] = pending[..] {
                // RFC 1950 §2.2: CM = 8, window ≤ 32 KiB, header checksum multiple of 31.
                let zlib = cmf & 0x0f == 8
                    && cmf >> 4 <= 7
                    && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0;
                *inflate = Decompress::new(zlib);
                *state = Flate::Deflate;
            } else {
                return Ok(Inflated { consumed, produced });
            }
        }
        // Bytes held back while sniffing go first; they were counted as consumed then.
        while !pending.is_empty() && *state == Flate::Deflate {
            let (i, o, end) = inflate_step(inflate, pending, &mut output[produced..], base)?;
            pending.drain(..i);
            produced += o;
            if end {
                *state = Flate::Done;
            } else if i == 0 {
                return Ok(Inflated { consumed, produced });
            }
        }
        while *state == Flate::Deflate {
            let at = base + consumed as u64;
            let (i, o, end) =
                inflate_step(inflate, &input[consumed..], &mut output[produced..], at)?;
            consumed += i;
            produced += o;
            if end {
                *state = Flate::Done;
            } else if i == 0 && o == 0 {
                break;
            }
        }
        if *state == Flate::Done && (consumed < input.len() || !pending.is_empty()) {
            return Err(ContentError::TrailingData {
                offset: base + consumed as u64,
            });
        }
        Ok(Inflated { consumed, produced })
    }
}
