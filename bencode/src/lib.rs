#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod decoder;
mod dict;
mod encoder;
mod error;
mod owned;
mod parse;
mod value;
mod warning;

#[cfg(feature = "serde")]
pub mod de;
#[cfg(feature = "serde")]
pub mod ser;
#[cfg(feature = "serde")]
mod serde_error;
#[cfg(feature = "serde")]
mod serde_value;

pub use decoder::{Decoded, Decoder, decode};
pub use dict::{Canonical, Dict, Iter};
pub use encoder::{DictEncoder, Encoder, ListEncoder, ValueEncoder};
pub use error::{Error, ErrorKind};
pub use owned::OwnedValue;
pub use value::{Kind, Value};
pub use warning::{Warning, WarningKind};

#[cfg(feature = "serde")]
pub use de::{from_bytes, from_value};
#[cfg(feature = "serde")]
pub use ser::to_bytes;
#[cfg(feature = "serde")]
pub use serde_error::{SerdeError, SerdeErrorKind};
