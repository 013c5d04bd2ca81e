//! Device commands through the API: queue a safe command, see its state and Return-code meaning,
//! cancel and retry; SHELL/UPGRADE cannot be asked for; unsupported verbs are refused with a reason.

use reqwest::Method;
use serde_json::json;

use super::{backends, call, fixture, spawn_app, TestApp};
use ironclock::domain::SchoolId;
use ironclock::store::admin::SchoolScope;
use ironclock::store::DeviceUpdate;

async fn approved(app: &TestApp, serial: &str, school: SchoolId) -> i64 {
    app.handshake(serial).await;
    let id = app.device(serial).await.id.0;
    let update = DeviceUpdate {
        approval: Some(ironclock::domain::Approval::Approved),
        school_id: Some(Some(school)),
        ..Default::default()
    };
    app.ctx.store.change_device(SchoolScope::all(), id, &update, None).await.unwrap();
    id
}

#[tokio::test]
async fn a_queued_command_is_delivered_and_its_result_is_listed_with_its_meaning() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let id = approved(&app, "APICMD01", fx.school_a).await;
        let path = format!("/api/v1/devices/{id}/commands");
        let queued = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(json!({"kind": "user_query"}))).await;
        assert_eq!(queued.status, 201, "{}: {}", app.backend, queued.body);
        assert_eq!(queued.body["data"]["state"], "queued");
        assert_eq!(queued.body["data"]["command"], "DATA QUERY USERINFO");
        let cmd = queued.body["data"]["id"].as_i64().unwrap();
        assert_eq!(app.poll("APICMD01").await, format!("C:{cmd}:DATA QUERY USERINFO\n"), "{}", app.backend);
        app.post("/iclock/devicecmd?SN=APICMD01", format!("ID={cmd}&Return=-1002&CMD=DATA")).await;

        let listed =
            call(&app, Method::GET, &format!("/api/v1/device/{id}/commands?state=failed"), Some(&fx.admin_a), None)
                .await;
        assert_eq!(listed.status, 200, "{}", app.backend);
        let c = &listed.body["data"][0];
        assert_eq!((c["id"].as_i64(), c["return_code"].as_i64()), (Some(cmd), Some(-1002)), "{}", app.backend);
        assert_eq!(c["return_message"], "not supported by this device (or invalid syntax)");

        let again = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(json!({"kind": "user_query"}))).await;
        assert_eq!((again.status.as_u16(), again.code()), (409, "conflict"), "{}: {}", app.backend, again.body);
        assert!(again.body["message"].as_str().unwrap().contains("does not support DATA QUERY USERINFO"));
    }
}

#[tokio::test]
async fn shell_and_upgrade_cannot_be_queued_and_bad_parameters_are_field_errors() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let id = approved(&app, "APICMD02", fx.school_a).await;
        let path = format!("/api/v1/devices/{id}/commands");
        for body in [json!({"kind": "shell", "command": "rm -rf /"}), json!({"kind": "upgrade"})] {
            let r = call(&app, Method::POST, &path, Some(&fx.root), Some(body)).await;
            assert_eq!(r.status, 400, "{}: {}", app.backend, r.body);
            r.assert_error_envelope();
        }
        let bad_time = call(
            &app,
            Method::POST,
            &path,
            Some(&fx.admin_a),
            Some(json!({"kind": "attlog_query", "start": "yesterday", "end": "2026-03-02 09:00:00"})),
        )
        .await;
        assert_eq!(bad_time.status, 422, "{}", app.backend);
        let bad_key = call(
            &app,
            Method::POST,
            &path,
            Some(&fx.admin_a),
            Some(json!({"kind": "set_option", "key": "De lay", "value": "5"})),
        )
        .await;
        assert_eq!(bad_key.status, 422, "{}", app.backend);
        assert_eq!(app.poll("APICMD02").await, "OK", "nothing was queued");
    }
}

#[tokio::test]
async fn queued_commands_cancel_and_failed_ones_retry_and_reboot_is_audited() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let id = approved(&app, "APICMD03", fx.school_a).await;
        let path = format!("/api/v1/devices/{id}/commands");
        let reboot = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(json!({"kind": "reboot"}))).await;
        let cmd = reboot.body["data"]["id"].as_i64().unwrap();
        let cancelled = call(&app, Method::POST, &format!("{path}/{cmd}/cancel"), Some(&fx.admin_a), None).await;
        assert_eq!(
            (cancelled.status.as_u16(), cancelled.body["data"]["state"].as_str()),
            (200, Some("cancelled")),
            "{}",
            app.backend
        );
        let twice = call(&app, Method::POST, &format!("{path}/{cmd}/cancel"), Some(&fx.admin_a), None).await;
        assert_eq!(twice.status, 409, "{}", app.backend);
        let retried = call(&app, Method::POST, &format!("{path}/{cmd}/retry"), Some(&fx.admin_a), None).await;
        assert_eq!(
            (retried.status.as_u16(), retried.body["data"]["state"].as_str()),
            (200, Some("queued")),
            "{}",
            app.backend
        );
        assert_eq!(app.poll("APICMD03").await, format!("C:{cmd}:REBOOT\n"));
        let missing = call(&app, Method::POST, &format!("{path}/999999/cancel"), Some(&fx.admin_a), None).await;
        assert_eq!(missing.status, 404);
        let audit = call(&app, Method::GET, "/api/v1/audit-log", Some(&fx.root), None).await;
        assert!(audit.body.to_string().contains("device.command.reboot"), "{}: reboots are audited", app.backend);
    }
}
