#![doc = include_str!("../README.md")]
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
