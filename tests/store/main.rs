//! The storage contract (`src/store`), one test binary: each test is one story run against every
//! backend (SQLite always, PostgreSQL when `IRONCLOCK_TEST_POSTGRES_URL` is set), each backend on
//! a fresh database.

#[path = "../support/mod.rs"]
mod support;

mod admin_contract;
mod commands_contract;
mod contract;
