// The README's example hashes, so it is the crate documentation only with `hash` on.
#![cfg_attr(feature = "hash", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "hash"),
    doc = "Magnet URI parsing and formatting for every URN kind (see the README for details; \
           enable the `hash` feature for one-pass file hashing)."
)]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod codec;
mod error;
mod format;
mod magnet;
mod multihash;
mod parse;
mod peer;
mod percent;
mod select;
mod topic;

#[cfg(feature = "hash")]
pub mod hash;

pub use error::{Encoding, ErrorKind, ParseError};
pub use magnet::{Group, Magnet};
pub use multihash::{Multihash, MultihashError};
pub use peer::{PeerAddr, PeerHost};
pub use select::SelectOnly;
pub use topic::ExactTopic;
