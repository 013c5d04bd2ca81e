//! HTTP surfaces: device endpoints (`/iclock/*`), admin API, dashboard, and the [`State`] they share.

pub mod api;
pub mod client_addr;
pub mod dashboard;
pub mod device;
pub mod headers;
mod state;

pub use state::State;
