//! HTTP surfaces: device endpoints (`/iclock/*`), admin API, dashboard, and the [`State`] they share.

pub mod api;
pub mod dashboard;
pub mod device;
mod state;

pub use state::State;
