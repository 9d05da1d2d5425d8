//! The peer wire protocol: BEP 3 messages, the fast extension (BEP 6) and the extension
//! protocol (BEP 10), as a codec without I/O.
//!
//! Invariants:
//! - every length prefix is checked against the bound for its message id (see [`Limits`])
//!   as soon as the five header bytes are visible, before any more input is buffered for it;
//! - a bitfield is exactly as long as the piece count requires and its spare bits are zero;
//! - decoded messages borrow their payloads (bitfields, blocks, extension payloads) from the
//!   buffer they were decoded from: nothing is copied per message;
//! - decoding is independent of how the input was split into chunks.

mod decoder;
mod error;
mod extension;
mod handshake;
mod message;

pub use decoder::FrameDecoder;
pub use error::WireError;
pub use extension::ExtensionHandshake;
pub use handshake::{Handshake, PROTOCOL};
pub use message::{BlockRequest, Limits, Message, decode_frame, frame_length, piece_header};

#[cfg(test)]
mod tests;
