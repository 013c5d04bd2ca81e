//! HTTP surfaces: device endpoints (`/iclock/*`), admin API, dashboard, operations (`/readyz`, `/metrics`), and the [`State`] they share.

pub mod api;
pub mod client_addr;
pub mod dashboard;
pub mod device;
pub mod headers;
pub mod listener;
pub mod ops;
mod state;

pub use state::State;
