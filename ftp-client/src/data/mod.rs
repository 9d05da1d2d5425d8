//! Data-connection addresses: reading passive-mode replies, writing
//! active-mode arguments.

mod active;
mod passive;

pub(crate) use active::active_command;
pub use passive::{PassiveError, epsv_port, passive_data_address, pasv_address};
