//! Black-box tests of the device surface (`/iclock/*`) on every backend: spawn the app on
//! 127.0.0.1:0 and talk HTTP to it like firmware does.

mod acc_registry;
mod acc_uploads;
mod approval;
mod commands;
mod first_contacts;
mod handshake;
mod hardening;
mod operlog;
mod pinning;
mod polls;
mod uploads;

use crate::support::TestApp;
use ironclock::domain::SchoolId;

/// Approves a device and attaches it to a new school in `tz`, as an admin would.
pub async fn approve(app: &TestApp, serial: &str, tz: &str) -> SchoolId {
    let school = app.school("Test School", tz).await;
    app.approve_into(serial, school).await;
    school
}

/// Registers (handshake) and approves a device in `tz`.
pub async fn approved_device(app: &TestApp, serial: &str, tz: &str) -> SchoolId {
    app.handshake(serial).await;
    approve(app, serial, tz).await
}
