//! Issue 15, finding 4: moving a device to another school does not hand it the device's history.
//! Every row written for a school keeps that school; admin reads are scoped by the row's school.

use reqwest::Method;

use super::{backends, call, fixture, spawn_app, PASSWORD};
use crate::dashboard::Dash;

#[tokio::test]
async fn a_device_moved_from_school_a_to_b_shows_b_nothing_of_a_and_a_keeps_its_history() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        app.handshake("MOV0001").await;
        let id = app.approve_into("MOV0001", fx.school_a).await;
        // School A's time with the device: a punch, a user (name and card), an error, a command.
        let punch = "1000\t2026-03-02 08:00:00\t0\t1\t0\t0\t0\n";
        assert_eq!(app.post("/iclock/cdata?SN=MOV0001&table=ATTLOG", punch).await.text().await.unwrap(), "OK:1");
        let user = "USER PIN=1000\tName=Amina Wanjiru\tPri=0\tPasswd=\tCard=99887766\tGrp=1\n";
        assert_eq!(app.post("/iclock/cdata?SN=MOV0001&table=USERINFO", user).await.status(), 200);
        let error =
            "ERRORLOG ErrCode=D01E0001\tErrMsg=template extraction failed\tDataOrigin=cmd\tCmdId=42\tAdditional=\n";
        assert_eq!(app.post("/iclock/cdata?SN=MOV0001&table=ERRORLOG", error).await.status(), 200);
        let commands = format!("/api/v1/devices/{id}/commands");
        let queued =
            call(&app, Method::POST, &commands, Some(&fx.admin_a), Some(serde_json::json!({"kind": "user_query"})))
                .await;
        assert_eq!(queued.status, 201, "{}: {}", app.backend, queued.body);

        app.approve_into("MOV0001", fx.school_b).await;

        let b = &fx.admin_b;
        let seen = call(&app, Method::GET, "/api/v1/attendance", Some(b), None).await;
        assert_eq!(seen.body["data"], serde_json::json!([]), "{}: A's punches shown to B: {}", app.backend, seen.text);
        let seen = call(&app, Method::GET, &commands, Some(b), None).await;
        assert_eq!(seen.status, 200, "{}", app.backend);
        assert_eq!(seen.body["data"], serde_json::json!([]), "{}: A's commands shown to B: {}", app.backend, seen.text);
        let seen = call(&app, Method::GET, &format!("/api/v1/devices/{id}/sync-status"), Some(b), None).await;
        assert_eq!(
            seen.body["data"]["unknown_users"]["total"], 0,
            "{}: A's device users shown to B: {}",
            app.backend, seen.text
        );
        assert!(!seen.text.contains("Amina") && !seen.text.contains("99887766"), "{}", app.backend);
        let cmd = queued.body["data"]["id"].as_i64().unwrap();
        let cancel = call(&app, Method::POST, &format!("{commands}/{cmd}/cancel"), Some(b), None).await;
        assert_eq!(cancel.status, 404, "{}: B cancelled A's command: {}", app.backend, cancel.text);
        let mut dash = Dash::new(&app);
        dash.login("b@example.org", PASSWORD).await;
        let page = dash.get(&format!("/devices/{id}")).await;
        assert_eq!(page.status, 200, "{}", app.backend);
        assert!(!page.body.contains("D01E0001"), "{}: A's device errors shown to B", app.backend);
        assert!(!page.body.contains("Amina"), "{}: A's command or user shown to B", app.backend);

        // A keeps its attendance history; what the device does for B from now on is B's.
        let seen = call(&app, Method::GET, "/api/v1/attendance", Some(&fx.admin_a), None).await;
        assert_eq!(seen.body["data"].as_array().map(Vec::len), Some(1), "{}: {}", app.backend, seen.text);
        let punch = "2000\t2026-03-03 08:00:00\t0\t1\t0\t0\t0\n";
        assert_eq!(app.post("/iclock/cdata?SN=MOV0001&table=ATTLOG", punch).await.text().await.unwrap(), "OK:1");
        let seen = call(&app, Method::GET, "/api/v1/attendance", Some(b), None).await;
        let pins: Vec<_> = seen.body["data"].as_array().unwrap().iter().map(|p| p["pin"].clone()).collect();
        assert_eq!(pins, vec![serde_json::json!("2000")], "{}", app.backend);
        let seen = call(&app, Method::GET, "/api/v1/attendance", Some(&fx.admin_a), None).await;
        assert_eq!(seen.body["data"].as_array().map(Vec::len), Some(1), "{}: B's punch shown to A", app.backend);
    }
}
