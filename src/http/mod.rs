//! HTTP surfaces: device endpoints (`/iclock/*`), admin API, dashboard, operations (`/readyz`, `/metrics`), and the [`State`] they share.

pub mod api;
pub mod dashboard;
pub mod device;
pub mod ops;
mod state;

pub use state::State;
