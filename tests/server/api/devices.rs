//! Devices: pending devices are listed and approved, `online` and `last_seen_at` are shown,
//! blocking takes effect at once on the device surface, pull devices are added, deletes guard punches.

use reqwest::Method;
use serde_json::json;

use super::{backends, call, column, fixture, spawn_app};

const PUNCH: &str = "1452\t2026-03-02 07:55:00\t0\t1\t0\t0\t0\n";

#[tokio::test]
async fn a_pending_device_is_approved_through_the_api_and_its_data_accepted_at_once() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        app.handshake("APIDEV01").await;
        let refused = app.post("/iclock/cdata?SN=APIDEV01&table=ATTLOG&Stamp=1", PUNCH).await;
        assert_eq!(refused.status(), 403, "{}", app.backend);

        let pending = call(&app, Method::GET, "/api/v1/devices?status=pending", Some(&fx.root), None).await;
        assert_eq!(column(&pending, "serial_number"), vec![json!("APIDEV01")], "{}", app.backend);
        let device = &pending.body["data"][0];
        assert_eq!(
            (device["status"].as_str(), device["online"].as_bool()),
            (Some("pending"), Some(true)),
            "{}",
            app.backend
        );
        assert!(device["last_seen_at"].is_string(), "{}", app.backend);
        let id = device["id"].as_i64().unwrap();

        let area = call(
            &app,
            Method::POST,
            "/api/v1/areas",
            Some(&fx.root),
            Some(json!({"school_id": fx.school_a, "name": "Gate"})),
        )
        .await;
        let area_id = area.body["data"]["id"].as_i64();
        let no_school =
            call(&app, Method::POST, &format!("/api/v1/devices/{id}/approve"), Some(&fx.root), Some(json!({}))).await;
        assert_eq!(
            (no_school.status.as_u16(), no_school.body["fields"][0]["field"].as_str()),
            (422, Some("school_id"))
        );
        let approved = call(
            &app,
            Method::POST,
            &format!("/api/v1/devices/{id}/approve"),
            Some(&fx.root),
            Some(json!({"school_id": fx.school_a, "area_id": area_id})),
        )
        .await;
        assert_eq!(approved.status, 200, "{}: {approved:?}", app.backend);
        assert_eq!(
            (approved.body["data"]["status"].as_str(), approved.body["data"]["area_id"].as_i64()),
            (Some("approved"), area_id)
        );
        let accepted = app.post("/iclock/cdata?SN=APIDEV01&table=ATTLOG&Stamp=1", PUNCH).await;
        assert_eq!(accepted.status(), 200, "{}: no waiting for the device cache", app.backend);

        let visible = call(&app, Method::GET, &format!("/api/v1/device/{id}"), Some(&fx.admin_a), None).await;
        assert_eq!(visible.status, 200, "{}: singular route, school admin of the school", app.backend);
        let blocked = call(&app, Method::POST, &format!("/api/v1/device/{id}/block"), Some(&fx.admin_a), None).await;
        assert_eq!(blocked.body["data"]["status"], "blocked", "{}", app.backend);
        assert_eq!(app.get("/iclock/getrequest?SN=APIDEV01").await.status(), 403, "{}: blocked at once", app.backend);

        let tz = call(
            &app,
            Method::PATCH,
            &format!("/api/v1/devices/{id}"),
            Some(&fx.admin_a),
            Some(json!({"timezone": "Nope/Nope"})),
        )
        .await;
        assert_eq!(tz.status, 422, "{}", app.backend);
        let renamed = call(
            &app,
            Method::PATCH,
            &format!("/api/v1/devices/{id}"),
            Some(&fx.admin_a),
            Some(json!({"name": "Front gate", "timezone": "Africa/Lagos"})),
        )
        .await;
        assert_eq!(
            (renamed.body["data"]["name"].as_str(), renamed.body["data"]["timezone"].as_str()),
            (Some("Front gate"), Some("Africa/Lagos"))
        );

        let guarded = call(&app, Method::DELETE, &format!("/api/v1/devices/{id}"), Some(&fx.admin_a), None).await;
        assert_eq!(
            (guarded.status.as_u16(), guarded.body["fields"][0]["field"].as_str()),
            (409, Some("purge")),
            "{}",
            app.backend
        );
        let purged =
            call(&app, Method::DELETE, &format!("/api/v1/devices/{id}?purge=true"), Some(&fx.admin_a), None).await;
        assert_eq!(purged.status, 200, "{}", app.backend);
        assert_eq!(app.ctx.store.count_punches(None).await.unwrap(), 0, "{}", app.backend);
    }
}

#[tokio::test]
async fn a_pull_device_is_added_with_its_comm_key_encrypted() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let body =
            json!({"mode": "pull", "host": "192.168.1.201", "port": 4370, "name": "Old gate", "comm_key": 123456});
        let created = call(&app, Method::POST, "/api/v1/devices", Some(&fx.admin_a), Some(body.clone())).await;
        assert_eq!(created.status, 201, "{}: {created:?}", app.backend);
        let data = &created.body["data"];
        assert_eq!(
            (data["mode"].as_str(), data["status"].as_str(), data["port"].as_i64()),
            (Some("pull"), Some("approved"), Some(4370))
        );
        assert_eq!(data["school_id"].as_i64(), Some(fx.school_a.0));
        assert!(!created.text.contains("123456"), "{}: the comm key is never echoed", app.backend);
        let again = call(&app, Method::POST, "/api/v1/devices", Some(&fx.admin_a), Some(body)).await;
        assert_eq!(again.status, 409, "{}", app.backend);
        let push = call(
            &app,
            Method::POST,
            "/api/v1/devices",
            Some(&fx.admin_a),
            Some(json!({"mode": "push", "host": "x", "port": 1})),
        )
        .await;
        assert_eq!((push.status.as_u16(), push.body["fields"][0]["field"].as_str()), (422, Some("mode")));
        let port = call(
            &app,
            Method::POST,
            "/api/v1/devices",
            Some(&fx.admin_a),
            Some(json!({"mode": "pull", "host": "x", "port": 70000})),
        )
        .await;
        assert_eq!((port.status.as_u16(), port.body["fields"][0]["field"].as_str()), (400, Some("port")));
    }
}
