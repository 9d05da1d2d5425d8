#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod compact;
pub mod id;
pub mod krpc;
pub mod lookup;
mod node;
pub mod peer_store;
pub mod persist;
pub mod rate_limit;
mod rng;
pub mod routing;
pub mod secure_id;
pub mod token;

pub use compact::{Family, NodeAddr};
pub use id::NodeId;
pub use lookup::{LookupId, LookupStats};
pub use node::{
    Config, Dht, EXTERNAL_VOTES, Event, MAX_VALUES, REBOOTSTRAP_AFTER, StartError, Transmit,
};
