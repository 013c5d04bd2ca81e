//! Student sync end to end, on every backend: a real server, simulated devices that keep a
//! user table and answer queries, students changed through the store (the API's own path).

mod acc;
mod drift;
mod lifecycle;
mod rails;
mod storage;

use crate::support::{self, TestApp};
use ironclock::domain::DeviceId;
use ironclock::domain::SchoolId;
use ironclock::sim::push::{Faults, SimPushDevice};
use ironclock::store::admin::{NewStudentInput, SchoolScope, StudentPatch};
use ironclock::store::sync::SyncStatusFilter;
use ironclock::sync::verifier::{self, VerifyOptions, VerifyRun};

/// A school (UTC) with one approved push device per serial, each handshaken by its simulator.
pub async fn school_with_devices(app: &TestApp, serials: &[(&str, Faults)]) -> (SchoolId, Vec<SimPushDevice>) {
    let school = app.school("Sync School", "UTC").await;
    let mut sims = Vec::new();
    for (serial, faults) in serials {
        let sim = SimPushDevice::new(&app.base, serial, faults.clone());
        sim.handshake().await.unwrap();
        app.approve_into(serial, school).await;
        sims.push(sim);
    }
    (school, sims)
}

pub async fn add_student(app: &TestApp, school: SchoolId, name: &str, card: Option<&str>) -> (i64, String) {
    let input = NewStudentInput {
        school_id: school,
        full_name: name.into(),
        rfid_card_id: card.map(str::to_string),
        class_id: None,
        section_id: None,
        is_active: true,
        pin: None,
    };
    let s = app.ctx.store.add_student(&input).await.unwrap();
    (s.id, s.pin.0)
}

pub async fn rename(app: &TestApp, _school: SchoolId, id: i64, name: &str) {
    let patch = StudentPatch { full_name: Some(name.into()), ..Default::default() };
    app.ctx.store.update_student(SchoolScope::all(), id, &patch).await.unwrap();
}

pub async fn device_id(app: &TestApp, serial: &str) -> DeviceId {
    app.device(serial).await.id
}

/// Summary of the device's sync rows.
pub async fn summary(app: &TestApp, serial: &str) -> ironclock::store::sync::SyncSummary {
    let filter = SyncStatusFilter { limit: 1000, ..Default::default() };
    app.ctx.store.sync_status(device_id(app, serial).await, &filter).await.unwrap().summary
}

/// Runs the verifier now, judging read-backs at once (the simulator uploads right after its ack).
pub async fn verify(app: &TestApp) -> VerifyRun {
    app.ctx.activity.flush(&app.ctx.store).await.unwrap();
    let mut opts = VerifyOptions::new("test", app.ctx.clock.now());
    opts.readback_grace = chrono::Duration::zero();
    verifier::run(&app.ctx, opts).await.unwrap()
}

/// PINs and names the simulated device holds.
pub fn held(sim: &SimPushDevice) -> Vec<(String, String)> {
    sim.firmware.users.values().map(|u| (u.pin.clone(), u.name.clone().unwrap_or_default())).collect()
}
