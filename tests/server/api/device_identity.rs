//! Issue 15, finding 14: what a device says about itself is not shown as fact before approval,
//! and pull device identities are per school (nothing about another school's devices leaks).

use reqwest::Method;
use serde_json::json;

use super::{backends, call, fixture, spawn_app};

#[tokio::test]
async fn a_pending_devices_self_reported_name_is_not_its_name_until_approval() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        app.handshake("NAM0001").await;
        let options = "~DeviceName=Principal Office (trusted)\nFWVersion=Ver 8.0.4.2\n";
        assert_eq!(app.post("/iclock/cdata?SN=NAM0001&table=options", options).await.status(), 200);
        let pending = call(&app, Method::GET, "/api/v1/devices?status=pending", Some(&fx.root), None).await;
        let device = &pending.body["data"][0];
        assert_eq!(device["serial_number"], "NAM0001", "{}: {}", app.backend, pending.text);
        assert_eq!(device["name"], serde_json::Value::Null, "{}: a pending device named itself", app.backend);
        assert!(!pending.text.contains("Principal Office"), "{}: {}", app.backend, pending.text);

        // Approved, the device's own name fills an empty name on its next options upload.
        let id = app.approve_into("NAM0001", fx.school_a).await;
        assert_eq!(app.post("/iclock/cdata?SN=NAM0001&table=options", options).await.status(), 200);
        let got = call(&app, Method::GET, &format!("/api/v1/devices/{id}"), Some(&fx.admin_a), None).await;
        assert_eq!(got.body["data"]["name"], "Principal Office (trusted)", "{}: {}", app.backend, got.text);
    }
}

#[tokio::test]
async fn a_pull_address_used_by_another_school_is_accepted_and_reveals_nothing() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let body = json!({"mode": "pull", "host": "10.20.30.40", "port": 4370, "name": "Main gate"});
        let a = call(&app, Method::POST, "/api/v1/devices", Some(&fx.admin_a), Some(body.clone())).await;
        assert_eq!(a.status, 201, "{}: {}", app.backend, a.text);
        // The same address in another school (another LAN behind its own VPN): its own device.
        let b = call(&app, Method::POST, "/api/v1/devices", Some(&fx.admin_b), Some(body.clone())).await;
        assert_eq!(b.status, 201, "{}: {}", app.backend, b.text);
        assert_ne!(a.body["data"]["id"], b.body["data"]["id"]);
        assert_ne!(a.body["data"]["serial_number"], b.body["data"]["serial_number"], "{}", app.backend);
        // The same address twice in one school is a conflict that names only the school's own device.
        let again = call(&app, Method::POST, "/api/v1/devices", Some(&fx.admin_b), Some(body)).await;
        assert_eq!(again.status, 409, "{}: {}", app.backend, again.text);
        let a_id = a.body["data"]["id"].to_string();
        assert!(!again.text.contains(&format!("device {a_id} ")), "{}: names A's device: {}", app.backend, again.text);
        let listed = call(&app, Method::GET, "/api/v1/devices", Some(&fx.admin_b), None).await;
        assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1), "{}: {}", app.backend, listed.text);
    }
}
