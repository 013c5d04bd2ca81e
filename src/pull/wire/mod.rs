//! The pure wire layer of the pull protocol: bytes in, values out, and back. No I/O, no async,
//! no clocks; every decoder is total (returns [`WireError`], never panics) and is exercised by
//! the capture vectors in `tests/pull/wire_vectors.rs` and the properties in `tests/pull/wire_props.rs`.

pub mod attendance;
pub mod base64_bytes;
pub mod batch;
pub mod buffer;
pub mod checksum;
pub mod command;
pub mod commkey;
pub mod envelope;
pub mod error;
pub mod event;
pub mod face;
mod fields;
pub mod header;
pub mod options;
pub mod packet;
pub mod photo;
pub mod reply;
pub mod sizes;
pub mod template;
#[cfg(test)]
mod test_hex;
pub mod time;
pub mod user;

pub use error::WireError;
pub use packet::Packet;
