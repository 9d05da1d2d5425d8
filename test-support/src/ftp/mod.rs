//! An in-process FTP server (RFC 959 with EPSV/EPRT, SIZE, MDTM and REST)
//! that serves files from memory and misbehaves on demand.

mod config;
mod control;
mod record;
mod reply;
mod server;
mod transfer;
mod tree;

pub use config::FtpConfig;
pub use record::FtpCommandRecord;
pub use server::FtpServer;
