//! Metalink in the engine: documents turned into downloads ([`document`]), documents
//! fetched over HTTP(S)/FTP and then followed (`--follow-metalink`), and Metalink/HTTP
//! (RFC 6249) mirrors and digests read from a plain download's response headers.
//!
//! The command line reads local documents with [`document::load`] and queues what
//! [`document::specs`] gives; the engine does the same by itself for a document it
//! downloaded, so an RPC `addMetalink` can use the same path later.

pub mod document;
mod follow;
mod http;

pub use document::{
    Listed, WEB_SCHEMES, listed_files, load, mirrors, parse_document, preferences, read_source,
    specs,
};
pub(crate) use follow::Document;
pub(crate) use http::want_digest;
