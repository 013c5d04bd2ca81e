//! Issue 15, finding 2: a serial is not enough. A device is pinned to the address it was approved
//! from (the school decides: off, alert or refuse), commands carrying personal data reach only
//! that address, and a device may be given a secret path (`/<token>/iclock/…`).
//! Other addresses are simulated with `X-Forwarded-For` behind a trusted proxy.

use reqwest::Method;
use serde_json::json;

use crate::support::api::{call, fixture, Fixture};
use crate::support::{backends, spawn_app_with, TestApp};

const DEVICE_IP: &str = "10.0.0.5";
const STRANGER: &str = "10.9.9.9";

async fn get_from(app: &TestApp, ip: &str, path: &str) -> (u16, String) {
    let resp = app.client.get(format!("{}{path}", app.base)).header("x-forwarded-for", ip).send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn post_from(app: &TestApp, ip: &str, path: &str, body: &str) -> (u16, String) {
    let resp = app
        .client
        .post(format!("{}{path}", app.base))
        .header("x-forwarded-for", ip)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// A device that first called from [`DEVICE_IP`], approved into school A (which has a student
/// queued for it: a `USERINFO` with her name and card), with the school's pinning `policy`.
async fn pinned_device(app: &TestApp, fx: &Fixture, serial: &str, policy: &str) -> i64 {
    let (status, _) = get_from(app, DEVICE_IP, &format!("/iclock/cdata?SN={serial}&options=all")).await;
    assert_eq!(status, 200);
    let id = app.device(serial).await.id.0;
    let approved = call(
        app,
        Method::POST,
        &format!("/api/v1/devices/{id}/approve"),
        Some(&fx.root),
        Some(json!({"school_id": fx.school_a.0})),
    )
    .await;
    assert_eq!(approved.status, 200, "{}", approved.text);
    assert_eq!(approved.body["data"]["pinned_ip"], DEVICE_IP, "approval pins the address: {}", approved.text);
    let school = format!("/api/v1/schools/{}", fx.school_a.0);
    let set = call(app, Method::PATCH, &school, Some(&fx.admin_a), Some(json!({"device_pinning": policy}))).await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.body["data"]["device_pinning"], policy);
    let student = json!({"school_id": fx.school_a.0, "full_name": "Amina Wanjiru", "rfid_card_id": "99887766"});
    let made = call(app, Method::POST, "/api/v1/students", Some(&fx.admin_a), Some(student)).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let sync = call(app, Method::POST, &format!("/api/v1/devices/{id}/sync-students"), Some(&fx.admin_a), None).await;
    assert!(sync.status.is_success(), "{}", sync.text);
    id
}

async fn alerts(app: &TestApp, fx: &Fixture, id: i64) -> Vec<serde_json::Value> {
    let reply = call(app, Method::GET, &format!("/api/v1/devices/{id}/address-alerts"), Some(&fx.admin_a), None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn with_refuse_a_stranger_using_the_serial_gets_403_stores_nothing_and_receives_no_child_data() {
    for db in backends().await {
        let app = spawn_app_with(db, |a| a.trust_forwarded_for = true).await;
        let fx = fixture(&app).await;
        let id = pinned_device(&app, &fx, "PIN0001", "refuse").await;
        let (status, body) = get_from(&app, STRANGER, "/iclock/getrequest?SN=PIN0001").await;
        assert_eq!(status, 403, "{}: {body}", app.backend);
        assert!(body.contains("pinned to 10.0.0.5") && !body.contains("Amina"), "{}: {body}", app.backend);
        let punch = "1\t2026-03-02 08:00:00\t0\t1\t0\t0\t0\n";
        let (status, _) = post_from(&app, STRANGER, "/iclock/cdata?SN=PIN0001&table=ATTLOG", punch).await;
        assert_eq!(status, 403, "{}", app.backend);
        let (status, _) = post_from(&app, STRANGER, "/iclock/devicecmd?SN=PIN0001", "ID=1&Return=-1002&CMD=DATA").await;
        assert_eq!(status, 403, "{}", app.backend);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 0, "{}", app.backend);
        assert_eq!(app.ctx.store.count_messages(None).await.unwrap(), 0, "{}", app.backend);
        let seen = alerts(&app, &fx, id).await;
        assert_eq!(seen.len(), 1, "{}: one alert per address, not one per request: {seen:?}", app.backend);
        assert_eq!((seen[0]["ip"].as_str(), seen[0]["policy"].as_str()), (Some(STRANGER), Some("refuse")));
        // The device itself, at its address, gets its commands and is heard.
        let (status, body) = get_from(&app, DEVICE_IP, "/iclock/getrequest?SN=PIN0001").await;
        assert_eq!(status, 200, "{}", app.backend);
        assert!(body.contains("DATA UPDATE USERINFO") && body.contains("Amina"), "{}: {body}", app.backend);
        let (_, ok) = post_from(&app, DEVICE_IP, "/iclock/cdata?SN=PIN0001&table=ATTLOG", punch).await;
        assert_eq!(ok, "OK:1", "{}", app.backend);
    }
}

#[tokio::test]
async fn with_alert_a_stranger_is_served_without_commands_and_the_admin_sees_it() {
    for db in backends().await {
        let app = spawn_app_with(db, |a| a.trust_forwarded_for = true).await;
        let fx = fixture(&app).await;
        let id = pinned_device(&app, &fx, "PIN0002", "alert").await;
        for _ in 0..3 {
            let (status, body) = get_from(&app, STRANGER, "/iclock/getrequest?SN=PIN0002").await;
            assert_eq!((status, body.as_str()), (200, "OK"), "{}: no command reaches a stranger", app.backend);
        }
        let seen = alerts(&app, &fx, id).await;
        assert_eq!(seen.len(), 1, "{}: {seen:?}", app.backend);
        assert_eq!(seen[0]["policy"], "alert");
        let mut dash = crate::dashboard::Dash::new(&app);
        dash.login("a@example.org", crate::support::api::PASSWORD).await;
        let page = dash.get(&format!("/devices/{id}")).await;
        assert!(
            page.body.contains("ADDRESS") && page.body.contains(STRANGER),
            "{}: alert on the device page",
            app.backend
        );
        // A pinned subnet: the /24 around the approved address is the device's.
        let path = format!("/api/v1/devices/{id}");
        let set = call(&app, Method::PATCH, &path, Some(&fx.admin_a), Some(json!({"pin_prefix": 24}))).await;
        assert_eq!((set.status.as_u16(), set.body["data"]["pin_prefix"].as_i64()), (200, Some(24)), "{}", set.text);
        let (_, body) = get_from(&app, "10.0.0.77", "/iclock/getrequest?SN=PIN0002").await;
        assert!(body.contains("DATA UPDATE USERINFO"), "{}: inside the pinned subnet: {body}", app.backend);
        // A stranger cannot answer for the device: its forged result changes nothing.
        let cmd = body.trim().strip_prefix("C:").and_then(|r| r.split(':').next()).unwrap().to_string();
        let forged = format!("ID={cmd}&Return=-1002&CMD=DATA");
        let (status, _) = post_from(&app, STRANGER, "/iclock/devicecmd?SN=PIN0002", &forged).await;
        assert_eq!(status, 200, "{}", app.backend);
        let listed = call(&app, Method::GET, &format!("/api/v1/devices/{id}/commands"), Some(&fx.admin_a), None).await;
        let state = listed.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(cmd.as_str()))
            .unwrap()["state"]
            .clone();
        assert_eq!(state, "sent", "{}: {}", app.backend, listed.text);
        assert_eq!(app.ctx.store.count_messages(None).await.unwrap(), 0, "{}: nothing stored", app.backend);
        let bad = call(&app, Method::PATCH, &path, Some(&fx.admin_a), Some(json!({"pinned_ip": "not-an-ip"}))).await;
        assert_eq!(bad.status.as_u16(), 422, "{}", bad.text);
    }
}

#[tokio::test]
async fn a_device_with_a_secret_path_is_refused_on_the_plain_path_and_the_token_is_shown_once() {
    for db in backends().await {
        let app = spawn_app_with(db, |_| {}).await;
        let fx = fixture(&app).await;
        app.handshake("TOK0001").await;
        let id = app.device("TOK0001").await.id.0;
        let approve = json!({"school_id": fx.school_a.0, "path_token": true});
        let approved =
            call(&app, Method::POST, &format!("/api/v1/devices/{id}/approve"), Some(&fx.root), Some(approve)).await;
        let token = approved.body["data"]["path_token"].as_str().expect("the token, once").to_string();
        assert_eq!(token.len(), 32, "{}", app.backend);
        let again = call(&app, Method::GET, &format!("/api/v1/devices/{id}"), Some(&fx.admin_a), None).await;
        assert_eq!(again.body["data"]["has_path_token"], true);
        assert!(!again.text.contains(&token), "{}: shown once only", app.backend);

        let punch = "1\t2026-03-02 08:00:00\t0\t1\t0\t0\t0\n";
        let plain = app.post("/iclock/cdata?SN=TOK0001&table=ATTLOG", punch).await;
        assert_eq!(plain.status(), 403, "{}", app.backend);
        assert!(plain.text().await.unwrap().contains("secret path"), "{}", app.backend);
        let wrong = app.post("/0123456789abcdef0123456789abcdef/iclock/cdata?SN=TOK0001&table=ATTLOG", punch).await;
        assert_eq!(wrong.status(), 403, "{}", app.backend);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 0, "{}", app.backend);
        let secret = app.post(&format!("/{token}/iclock/cdata?SN=TOK0001&table=ATTLOG"), punch).await;
        assert_eq!(secret.text().await.unwrap(), "OK:1", "{}", app.backend);
        let poll = app.get(&format!("/{token}/iclock/getrequest?SN=TOK0001")).await;
        assert_eq!(poll.status(), 200, "{}", app.backend);
        // Stored hashed; the raw message keeps the path without the token.
        let device = app.device("TOK0001").await;
        assert!(device.path_token_hash.as_deref().is_some_and(|h| h != token && !h.contains(&token)));
        let paths: Vec<String> =
            app.query_rows::<(String,)>("select path from device_messages").await.into_iter().map(|(p,)| p).collect();
        assert!(paths.iter().all(|p| !p.contains(&token)), "{}: {paths:?}", app.backend);

        // A new token replaces the old one; removing it opens the plain path again.
        let path = format!("/api/v1/devices/{id}/path-token");
        let rotated = call(&app, Method::POST, &path, Some(&fx.admin_a), None).await;
        let new_token = rotated.body["data"]["path_token"].as_str().unwrap().to_string();
        assert_ne!(new_token, token);
        let old = app.get(&format!("/{token}/iclock/getrequest?SN=TOK0001")).await;
        assert_eq!(old.status(), 403, "{}", app.backend);
        let removed = call(&app, Method::DELETE, &path, Some(&fx.admin_a), None).await;
        assert_eq!(removed.body["data"]["has_path_token"], false, "{}", removed.text);
        assert_eq!(app.get("/iclock/getrequest?SN=TOK0001").await.status(), 200, "{}", app.backend);
    }
}
