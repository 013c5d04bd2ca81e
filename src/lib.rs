//! ironclock: a ZKTeco attendance server for schools.
//!
//! Module map (see `ARCHITECTURE.md` in the shared docs and `docs/` in this repo):
//! protocol code (`push`, `pull::wire`) is pure; I/O lives in `http`, `store`, `pull::client`, `sim`.

pub mod app;
pub mod cli;
pub mod config;
pub mod core;
pub mod crypto;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod pull;
pub mod pull_service;
pub mod push;
pub mod queue;
pub mod retention;
pub mod scheduler;
pub mod shutdown;
pub mod sim;
pub mod store;
pub mod sync;
pub mod telemetry;
