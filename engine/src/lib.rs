#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod bitfield;
mod bt;
pub mod change;
mod change_uri;
pub mod clock;
mod commands;
mod conn;
pub mod control;
mod cookie_db;
mod cookies;
pub mod digest;
pub mod disk;
pub mod dns_message;
mod dns_stub;
mod download;
mod engine;
pub mod error;
pub mod file_cache;
mod ftp;
pub mod gid;
mod handle;
pub mod hasher;
mod http;
mod lifecycle;
pub mod log;
pub mod magnet_download;
mod manifest;
pub mod metalink;
pub mod naming;
pub mod netrc;
pub mod options;
pub mod param_uri;
pub mod plan;
mod proxy;
pub mod queue;
pub mod range_set;
pub mod resolve;
pub mod server_stat;
mod socket;
pub mod status;
pub mod storage;
#[cfg(test)]
mod test_dir;
pub mod throttle;
mod timers;
pub mod tls;
pub mod transport;
pub mod uri_selector;
pub mod validators;
mod verify;
mod version;

pub use bt::{BtStatus, DhtStatus, MagnetLink, MagnetStatus, PeerOrigins, Torrent, scrape};
pub use change_uri::UriChange;
pub use clock::Clock;
pub use download::{DocumentRef, DownloadSpec, DownloadState, Expect, Metadata, SpeedMeter};
pub use engine::Engine;
pub use error::{Error, ErrorCode};
pub use gid::Gid;
pub use handle::{Event, Handle, Interrupter};
pub use options::Options;
pub use queue::{Forgotten, PositionFrom};
pub use status::{
    DownloadStatus, FileStatus, GlobalStat, HeldMemory, PeerStatus, Server, ServerStatus, UriStatus,
};
