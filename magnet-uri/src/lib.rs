#![doc = include_str!("../README.md")]
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
