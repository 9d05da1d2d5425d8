#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod connect;
mod error;
mod handshake;
mod no_proxy;
mod socks5;
mod uri;

pub use connect::ConnectHandshake;
pub use error::HandshakeError;
pub use handshake::Handshake;
pub use no_proxy::{NoProxy, NoProxyError};
pub use socks5::{Socks5Handshake, Socks5Target};
pub use uri::{Credentials, ProxyKind, ProxyUri, ProxyUriError};
