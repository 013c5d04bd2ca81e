//! The biometric store per student and area sync: every pull device of an area ends with the
//! same users, fingerprints, faces and photos, the roster deciding who is removed. Devices are
//! `ironclock sim pull` devices on loopback and push devices posting over HTTP (`push_members`);
//! what they hold is read back with the simulator's own view and, where it matters, with
//! pyzk-new (an independent client, its own process).

mod biometric_store;
mod cli;
mod dashboard;
mod faces_and_versions;
mod failures;
mod handoff;
mod progress;
mod push_errorlog;
mod push_faces;
mod push_members;
mod roster;
mod schedule;
mod seed_scenarios;
mod single_device;
mod triggers;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::api::{call, login, make_admin, Reply};
use crate::support::{spawn_pull_app, TestApp, TestDb};
use ironclock::domain::{DeviceId, SchoolId};
use ironclock::pull::wire::user::User;
use ironclock::sim::pull::{Seed, SimConfig, SimDevice};
use ironclock::store::admin::AdminRole;

/// An app with a pull service, a school, an area and a super admin.
pub struct Area {
    pub app: TestApp,
    pub token: String,
    pub school: SchoolId,
    pub area: i64,
}

impl Area {
    pub async fn new(db: TestDb) -> Area {
        let app = spawn_pull_app(db).await;
        make_admin(&app, "root@area.example", AdminRole::SuperAdmin, None).await;
        let token = login(&app, "root@area.example").await;
        let school = app.school("Area School", "UTC").await;
        let area = call(
            &app,
            Method::POST,
            "/api/v1/areas",
            Some(&token),
            Some(json!({"school_id": school, "name": "Gates"})),
        )
        .await;
        assert_eq!(area.status, 201, "{}", area.text);
        let area = area.body["data"]["id"].as_i64().unwrap();
        Area { app, token, school, area }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        call(&self.app, method, path, Some(&self.token), body).await
    }

    /// Adds the sim as a pull device of the area and waits until the pull service holds it.
    pub async fn add(&self, sim: &SimDevice, name: &str, realtime: bool) -> i64 {
        let body = json!({
            "school_id": self.school, "area_id": self.area, "mode": "pull", "host": "127.0.0.1",
            "port": sim.addr().port(), "transport": "tcp", "name": name, "realtime_enabled": realtime,
        });
        let reply = self.call(Method::POST, "/api/v1/devices", Some(body)).await;
        assert_eq!(reply.status, 201, "{}: {}", self.app.backend, reply.text);
        let id = reply.body["data"]["id"].as_i64().unwrap();
        for _ in 0..200 {
            if self.app.ctx.store.lease_holder(DeviceId(id), self.app.ctx.clock.now()).await.unwrap().is_some() {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{}: device {id} was not picked up by the pull service", self.app.backend);
    }

    /// `POST /api/v1/areas/{id}/sync`; the result.
    pub async fn sync(&self) -> Value {
        let reply = self.call(Method::POST, &format!("/api/v1/areas/{}/sync", self.area), None).await;
        assert_eq!(reply.status, 200, "{}: {}", self.app.backend, reply.text);
        reply.body["data"].clone()
    }

    /// Adds a student with this PIN; returns its id.
    pub async fn student(&self, pin: &str) -> i64 {
        let body = json!({"school_id": self.school, "full_name": format!("Student {pin}"), "pin": pin});
        let reply = self.call(Method::POST, "/api/v1/students", Some(body)).await;
        assert_eq!(reply.status, 201, "{}: {}", self.app.backend, reply.text);
        reply.body["data"]["id"].as_i64().unwrap()
    }
}

/// A sim device on a free loopback port.
pub async fn sim(users: impl IntoIterator<Item = u32>, fingers: u8, config: SimConfig) -> SimDevice {
    let faces = config.face_version.is_some();
    let photos = config.photos_supported;
    let seed = Seed { user_ids: users.into_iter().collect(), fingers_per_user: fingers, faces, photos, records: 0 };
    SimDevice::start("127.0.0.1:0".parse().unwrap(), config, &seed).await.unwrap()
}

/// A sim device holding nothing.
pub async fn empty(config: SimConfig) -> SimDevice {
    sim([], 0, config).await
}

/// A device without faces or photos.
pub fn plain() -> SimConfig {
    SimConfig { face_version: None, photos_supported: false, ..SimConfig::default() }
}

/// Adds users without templates (uids after the highest).
pub fn put_users(sim: &SimDevice, pins: impl IntoIterator<Item = u32>) {
    let mut next = sim.users().iter().map(|u| u.uid).max().unwrap_or(0);
    for pin in pins {
        next += 1;
        sim.put_user(User::new(next, pin.to_string(), format!("User {pin}")));
    }
}

/// The user ids on the device.
pub fn pins(sim: &SimDevice) -> BTreeSet<String> {
    sim.users().into_iter().map(|u| u.user_id).collect()
}

/// (user id, finger) → template bytes on the device.
pub fn fingers(sim: &SimDevice) -> std::collections::BTreeMap<(String, u8), Vec<u8>> {
    let users = sim.users();
    sim.templates()
        .into_iter()
        .map(|t| {
            let pin = users.iter().find(|u| u.uid == t.uid).map(|u| u.user_id.clone()).unwrap_or_default();
            ((pin, t.finger), t.data)
        })
        .collect()
}

/// The device as pyzk-new reads it: user ids, and (user id, finger) of its templates.
pub async fn pyzk(sim: &SimDevice) -> (BTreeSet<String>, BTreeSet<(String, i64)>) {
    let read = pyzk_read(sim).await;
    let users = read["users"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap().to_string()).collect();
    let templates = pyzk_templates(&read).into_keys().collect();
    (users, templates)
}

/// Everything read_back.py prints for the device (users and templates; see the script).
pub async fn pyzk_read(sim: &SimDevice) -> Value {
    let addr = sim.addr();
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/pull");
    let out = tokio::process::Command::new("python3")
        .current_dir(&dir)
        .args(["read_back.py", &addr.ip().to_string(), &addr.port().to_string(), "--templates"])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .await
        .expect("python3 runs");
    assert!(out.status.success(), "pyzk read-back failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON from read_back.py")
}

/// (user id, finger) → valid flag of the templates in a [`pyzk_read`].
pub fn pyzk_templates(read: &Value) -> BTreeMap<(String, i64), i64> {
    let templates = read["templates"].as_array().unwrap().iter();
    templates
        .map(|t| {
            ((t["user_id"].as_str().unwrap().to_string(), t["fid"].as_i64().unwrap()), t["valid"].as_i64().unwrap())
        })
        .collect()
}

/// `skipped` entries of a result for one device and kind.
pub fn skips(result: &Value, device: i64, what: &str) -> Vec<Value> {
    result["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["device_id"] == device && s["what"] == what)
        .cloned()
        .collect()
}

/// Numbers as a set of strings.
pub fn set(range: impl IntoIterator<Item = u32>) -> BTreeSet<String> {
    range.into_iter().map(|n| n.to_string()).collect()
}
