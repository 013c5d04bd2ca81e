//! Administrative shell commands that work directly on the database (no server needed).

pub mod admin;
pub mod area_sync;
pub mod backup;
pub mod devices;
mod sync_bars;
