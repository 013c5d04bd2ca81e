//! The server end to end, one test binary, on every backend: the device surface (`/iclock/*`),
//! the admin API (`/api/v1/*`), the dashboard pages over HTTP, student sync against simulated
//! devices, the `ironclock devices` command, two instances on one PostgreSQL database, and the
//! crash and shutdown drills against the real binary. The real-browser tests are in
//! `tests/browser/` (their own binary: they need Chromium).

#[path = "../support/mod.rs"]
mod support;

mod api;
mod area_sync;
mod cli_devices;
mod dashboard;
mod device;
mod fault_kill;
mod graceful_shutdown;
mod group_commit;
mod multi_instance;
mod ops;
mod pull_service;
mod sim_acc;
mod sim_push;
mod sync;
mod websec;
