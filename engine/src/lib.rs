#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod bitfield;
mod conn;
pub mod control;
pub mod digest;
pub mod disk;
mod download;
mod engine;
pub mod error;
pub mod file_cache;
mod ftp;
pub mod hasher;
mod http;
pub mod naming;
pub mod options;
pub mod plan;
pub mod range_set;
pub mod resolve;
pub mod storage;
#[cfg(test)]
mod test_dir;
pub mod throttle;
pub mod tls;
pub mod transport;

pub use download::{DownloadSpec, DownloadState, DownloadStatus, Expect, SpeedMeter};
pub use engine::{Engine, Observer, Silent};
pub use error::{Error, ErrorCode};
pub use options::Options;
