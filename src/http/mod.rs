//! HTTP surfaces: device endpoints (`/iclock/*`), admin API, dashboard.
