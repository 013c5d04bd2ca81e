//! HTTP surfaces: device endpoints (`/iclock/*`), admin API, dashboard.

pub mod api;
pub mod dashboard;
pub mod device;
