//! The storage contract (`src/store`), one test binary: each test is one story run against every
//! backend (SQLite always, PostgreSQL when `IRONCLOCK_TEST_POSTGRES_URL` is set), each backend on
//! a fresh database.

#[path = "../support/mod.rs"]
mod support;

mod admin_contract;
mod commands_contract;
mod contract;
mod devices_batch;

use ironclock::store::{self, DynStore};

/// Every backend this run has, each a fresh database and a store on it.
async fn stores() -> Vec<(&'static str, DynStore, support::TestDb)> {
    let mut out = Vec::new();
    for db in support::backends().await {
        let store = store::connect(&db.url, 4).await.expect("connect");
        out.push((db.backend, store, db));
    }
    out
}
