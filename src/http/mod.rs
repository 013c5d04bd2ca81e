//! HTTP surfaces: device endpoints (`/iclock/*`), admin API, dashboard.

pub mod device;
