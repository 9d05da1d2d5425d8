//! Extension messages carried by BEP 10's extended message (id 20), after the extension
//! handshake has said under which id each travels:
//!
//! - [`ut_metadata`] (BEP 9): the info dictionary of a magnet link's torrent, fetched from
//!   peers in 16 KiB pieces; [`MetadataAssembler`] collects the pieces and hands out the
//!   dictionary only once its SHA-1 equals the info-hash;
//! - [`ut_pex`] (BEP 11): peer exchange, peers a peer connected to or dropped.
//!
//! Invariants: every parser here bounds what it allocates by constants checked before
//! allocating ([`MAX_METADATA_SIZE`], [`ut_pex::MAX_PEERS`]), and nothing a peer sends can
//! make a panic; the fuzz targets `ut_metadata` and `ut_pex` check both.

mod assembler;
mod error;
pub mod ut_metadata;
pub mod ut_pex;

pub use assembler::{MetadataAssembler, Progress};
pub use error::ExtensionError;
pub use ut_metadata::{MAX_METADATA_SIZE, METADATA_PIECE, MetadataMessage};
pub use ut_pex::{PexMessage, PexPeer};

#[cfg(test)]
mod tests;
