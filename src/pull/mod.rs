//! ZKTeco binary "pull" protocol (port 4370, TCP and UDP): the pure wire layer, the sans-IO
//! session state, the transports, the async client and the shell tool.

#![warn(missing_docs)]

pub mod client;
pub mod error;
pub mod session;
pub mod shell;
pub mod transport;
pub mod wire;

pub use client::{Client, ConnectOptions, DeviceLocks, TransportMode};
pub use error::{Error, Result};
