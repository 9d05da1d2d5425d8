//! aria2's RPC protocol without I/O.
//!
//! The pieces a daemon needs to answer aria2's clients (AriaNg, aria2p, the npm `aria2`
//! package…) unchanged, each a pure function of the bytes given to it:
//!
//! - [`http`]: HTTP/1.1 requests read with bounds (`--rpc-max-request-size`) and
//!   responses written;
//! - [`json`]: JSON-RPC 2.0, single, batch and the GET/JSONP form, with aria2's output;
//! - [`xml`]: XML-RPC calls and responses;
//! - [`websocket`]: the RFC 6455 handshake and frame codec for `/jsonrpc`;
//! - [`auth`]: `--rpc-secret`, checked in constant time before anything else;
//! - [`method`]: aria2's 36 methods as typed calls;
//! - [`Fault`]: aria2's error codes and messages.
//!
//! ```
//! use swarmget_rpc::{auth, json, method::Method};
//!
//! let body = br#"{"jsonrpc":"2.0","id":"1","method":"aria2.tellActive","params":["token:s",["gid"]]}"#;
//! let json::Request::Single(Ok(mut call)) = json::parse(body)? else { unreachable!() };
//! let secret = auth::Secret::new("s");
//! auth::authorize(&call.method, &mut call.params, Some(&secret))?;
//! let method = Method::parse(&call.method, call.params)?;
//! assert_eq!(method, Method::TellActive { keys: vec!["gid".into()] });
//! let answer = json::encode(&json::response(&call.id, &Ok(serde_json::json!([]))));
//! assert_eq!(answer, r#"{"id":"1","jsonrpc":"2.0","result":[]}"#);
//! # Ok::<(), swarmget_rpc::Fault>(())
//! ```

#![warn(missing_docs)]

pub mod auth;
mod fault;
pub mod http;
pub mod json;
pub mod method;
pub mod websocket;
pub mod xml;

pub use fault::Fault;
pub use serde_json::{Map, Value};
