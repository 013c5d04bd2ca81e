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
