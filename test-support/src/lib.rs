#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod behaviour;
mod bt;
mod config;
mod connection;
mod delivery;
mod dht;
mod dns;
mod ftp;
mod metadata_peer;
mod peer_io;
mod pex_source;
mod plan;
mod proxy;
mod range;
mod record;
mod request;
mod scripted_peer;
mod server;
mod test_file;
mod tls;
mod transport;

pub use behaviour::{Behaviour, NewLength, new_version};
pub use bt::{
    Seeder, SeederConfig, SeederLog, Tracker, UdpTrackerServer, make_torrent,
    make_torrent_with_web_seeds, make_v2_torrent,
};
pub use config::ServerConfig;
pub use dht::{DhtLiar, DhtNode};
pub use dns::DnsServer;
pub use ftp::{FtpCommandRecord, FtpConfig, FtpServer};
pub use metadata_peer::{MetadataBehaviour, MetadataPeer};
pub use pex_source::PexSource;
pub use proxy::{HttpProxy, ProxyConfig, ProxyRecord, Socks5Proxy};
pub use record::RequestRecord;
pub use scripted_peer::{Script, ScriptedPeer};
pub use server::HttpServer;
pub use test_file::{TestFile, sha256_hex};
pub use tls::{ClientIdentity, TestCa};

/// The rustls this crate builds on, for tests that make their own TLS clients
/// (see [`TestCa::client_config`]).
pub use rustls;
