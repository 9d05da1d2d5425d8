#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod hash;
pub mod http;
mod limits;
mod model;
mod name;
mod parse;
mod select;
mod time;
mod write;

pub use error::{Error, ErrorKind, FileRef, Warning, WarningKind};
pub use hash::{Hash, HashAlgorithm, HashValueError};
pub use limits::Limits;
pub use model::{
    File, Location, MetaUrl, Metalink, Origin, Pieces, Priority, Publisher, Resource, Signature,
};
pub use name::{FileName, UnsafeName};
pub use parse::{Format, NS_V3, NS_V4, ParseOptions, Parsed, parse};
pub use select::{Preferences, Protocol, UnknownProtocol};
pub use time::Timestamp;
pub use url::{self, Url};
pub use write::{WriteError, write};
