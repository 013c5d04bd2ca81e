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

#[tokio::test]
async fn set_option_takes_only_allowed_keys_and_the_clock_goes_through_the_typed_time_sync() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let id = approved(&app, "APIOPT01", fx.school_a).await;
        let path = format!("/api/v1/devices/{id}/commands");
        let set = |key: &str, value: &str| json!({"kind": "set_option", "key": key, "value": value});
        for (key, value) in [("ICLOCKSVRURL", "http://evil.example"), ("IPAddress", "10.0.0.9"), ("DateTime", "1")] {
            let r = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(set(key, value))).await;
            assert_eq!(r.status, 422, "{}: {key} refused: {}", app.backend, r.body);
        }
        let bad = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(set("Delay", "0"))).await;
        assert_eq!(bad.status, 422, "{}: Delay must be 1..3600: {}", app.backend, bad.body);
        let ok = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(set("delay", "10"))).await;
        assert_eq!(ok.status, 201, "{}: {}", app.backend, ok.body);
        assert_eq!(ok.body["data"]["command"], "SET OPTION Delay=10");
        let delay = ok.body["data"]["id"].as_i64().unwrap();
        app.post("/iclock/devicecmd?SN=APIOPT01", format!("ID={delay}&Return=0&CMD=SET OPTION")).await;

        // The time sync: device-local time (the school is in Nairobi, UTC+3) in OldEncodeTime,
        // taken when the command goes out, not when it was queued.
        let sync = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(json!({"kind": "sync_time"}))).await;
        assert_eq!(sync.status, 201, "{}: {}", app.backend, sync.body);
        assert_eq!(sync.body["data"]["kind"], "set_time");
        let cmd = sync.body["data"]["id"].as_i64().unwrap();
        app.clock.advance(chrono::Duration::seconds(600));
        let polled = app.poll("APIOPT01").await;
        let sent_at = ironclock::core::Clock::now(&*app.clock);
        let value: u32 = polled
            .strip_prefix(&format!("C:{cmd}:SET OPTION DateTime="))
            .and_then(|v| v.trim_end().parse().ok())
            .unwrap_or_else(|| panic!("{}: {polled}", app.backend));
        let nairobi = (sent_at + chrono::Duration::hours(3)).naive_utc();
        let expected = ironclock::push::time::old_encode_time(nairobi);
        assert!(value.abs_diff(expected) <= 2, "{}: {value} vs {expected} ({polled})", app.backend);
    }
}

#[tokio::test]
async fn a_minus_1004_marks_only_its_option_and_an_admin_reset_forgets_it_with_an_audit_entry() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let id = approved(&app, "APILRN01", fx.school_a).await;
        let path = format!("/api/v1/devices/{id}/commands");
        let set = |key: &str, value: &str| json!({"kind": "set_option", "key": key, "value": value});
        let first = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(set("Delay", "10"))).await;
        let cmd = first.body["data"]["id"].as_i64().unwrap();
        app.poll("APILRN01").await;
        app.post("/iclock/devicecmd?SN=APILRN01", format!("ID={cmd}&Return=-1004&CMD=SET OPTION")).await;

        let again = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(set("Delay", "20"))).await;
        assert_eq!(again.status, 409, "{}: the refused key is not sent again: {}", app.backend, again.body);
        assert!(again.body["message"].as_str().unwrap().contains("SET OPTION Delay"), "{}", again.body);
        let other = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(set("TransInterval", "2"))).await;
        assert_eq!(other.status, 201, "{}: another option is still offered: {}", app.backend, other.body);
        let clock = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(json!({"kind": "sync_time"}))).await;
        assert_eq!(clock.status, 201, "{}: the time sync too: {}", app.backend, clock.body);

        let caps = format!("/api/v1/devices/{id}/capabilities");
        let learned = call(&app, Method::GET, &caps, Some(&fx.admin_a), None).await;
        assert_eq!(learned.status, 200, "{}", app.backend);
        assert_eq!(learned.body["data"][0]["capability"], "SET OPTION Delay", "{}: {}", app.backend, learned.body);
        assert_eq!(learned.body["data"][0]["supported"], false);
        let foreign = call(&app, Method::DELETE, &caps, Some(&fx.admin_b), None).await;
        assert_eq!(foreign.status, 404, "{}: another school's admin cannot reset it", app.backend);
        let reset = call(&app, Method::DELETE, &caps, Some(&fx.admin_a), None).await;
        assert_eq!(reset.status, 200, "{}: {}", app.backend, reset.body);
        assert_eq!(reset.body["data"][0]["capability"], "SET OPTION Delay");
        let after = call(&app, Method::GET, &caps, Some(&fx.admin_a), None).await;
        assert_eq!(after.body["data"], json!([]), "{}", app.backend);
        let retried = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(set("Delay", "20"))).await;
        assert_eq!(retried.status, 201, "{}: offered again after the reset: {}", app.backend, retried.body);
        let audit = call(&app, Method::GET, "/api/v1/audit-log", Some(&fx.root), None).await;
        let text = audit.body.to_string();
        assert!(
            text.contains("device.capabilities_reset") && text.contains("SET OPTION Delay"),
            "{}: {text}",
            app.backend
        );
    }
}

#[tokio::test]
async fn an_acc_terminal_gets_set_options_from_the_same_allow_list_and_a_clock_set_of_its_own_grammar() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let registry = "DeviceType=acc,~DeviceName=SenseFace 2A,FirmVer=ZAM70-NF24HA-Ver3.0.15";
        let reply = app.post("/iclock/registry?SN=APIACC01", registry).await.text().await.unwrap();
        assert!(reply.starts_with("RegistryCode="), "{}: {reply}", app.backend);
        let id = app.device("APIACC01").await.id.0;
        let update = DeviceUpdate {
            approval: Some(ironclock::domain::Approval::Approved),
            school_id: Some(Some(fx.school_a)),
            ..Default::default()
        };
        app.ctx.store.change_device(SchoolScope::all(), id, &update, None).await.unwrap();
        let path = format!("/api/v1/devices/{id}/commands");
        let set = |key: &str, value: &str| json!({"kind": "set_option", "key": key, "value": value});

        // The network and server settings stay the installer's, whatever the dialect.
        for key in ["IPAddress", "ICLOCKSVRURL", "DateTime"] {
            let refused = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(set(key, "1"))).await;
            assert_eq!(refused.status, 422, "{}: {key}: {}", app.backend, refused.body);
        }
        let delay = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(set("Delay", "10"))).await;
        assert_eq!(delay.status, 201, "{}: {}", app.backend, delay.body);
        let delay = delay.body["data"]["id"].as_i64().unwrap();
        let sync = call(&app, Method::POST, &path, Some(&fx.admin_a), Some(json!({"kind": "sync_time"}))).await;
        assert_eq!(sync.status, 201, "{}: an acc device takes a clock set too: {}", app.backend, sync.body);
        let clock = sync.body["data"]["id"].as_i64().unwrap();

        app.clock.advance(chrono::Duration::seconds(600));
        let polled = app.poll("APIACC01").await;
        assert!(polled.contains(&format!("C:{delay}:SET OPTIONS RequestDelay=10\n")), "{}: {polled}", app.backend);
        let sent_at = ironclock::core::Clock::now(&*app.clock);
        let line = polled.lines().find_map(|l| l.strip_prefix(&format!("C:{clock}:"))).expect("the clock set");
        let value: u32 = line
            .strip_prefix("SET OPTIONS DateTime=")
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{}: {line}", app.backend));
        let nairobi = (sent_at + chrono::Duration::hours(3)).naive_utc();
        let expected = ironclock::push::time::old_encode_time(nairobi);
        assert!(value.abs_diff(expected) <= 2, "{}: delivery time, device-local: {value} vs {expected}", app.backend);
    }
}
