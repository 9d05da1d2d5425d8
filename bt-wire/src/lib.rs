#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod choke;
pub mod extension;
pub mod lpd;
pub mod metainfo;
pub mod peer;
pub mod tracker;
pub mod wire;

pub use metainfo::{Metainfo, MetainfoError};
