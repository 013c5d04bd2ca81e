//! Operations, black-box on every backend: readiness, the Prometheus metrics, the retention
//! purge, backup and restore, the tested deploy kit (nginx in front), and the fault drills.

mod backup;
mod connection_cap;
mod deploy_files;
mod deploy_nginx;
mod disk_full;
mod logs;
mod metrics;
mod postgres_outage;
mod readiness;
mod retention;

use crate::support::TestApp;

/// One number from the app's database (tests look behind the server's back).
pub async fn count(app: &TestApp, sql: &str) -> i64 {
    let url = &app.ctx.config.database_url;
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
        pool.close().await;
        n
    }
}

/// Registers (handshake) and approves a device in a new school in UTC.
pub async fn approved_device(app: &TestApp, serial: &str) {
    app.handshake(serial).await;
    let school = app.school("Ops School", "UTC").await;
    app.approve_into(serial, school).await;
}

/// An ATTLOG line for `pin` at `at` (the device's local time, here UTC).
pub fn attlog_line(pin: u32, at: chrono::DateTime<chrono::Utc>) -> String {
    format!("{pin}\t{}\t0\t1\t0\t0\t0\n", at.format("%Y-%m-%d %H:%M:%S"))
}
