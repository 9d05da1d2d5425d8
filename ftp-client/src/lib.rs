#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod command;
mod config;
mod data;
mod error;
mod path;
mod reply;
mod session;
mod url;

pub use ::url::Url;
pub use command::Command;
pub use config::{Config, Credentials, PasvAddressPolicy, TransferType};
pub use data::{PassiveError, epsv_port, passive_data_address, pasv_address};
pub use error::FtpError;
pub use path::{ArgumentError, RemotePath};
pub use reply::{Reply, ReplyClass, ReplyError, ReplyLimits, ReplyParser, parse_reply};
pub use session::{Event, Session, UsageError};
pub use url::{FtpUrl, UrlError, ftp_url_parts};
