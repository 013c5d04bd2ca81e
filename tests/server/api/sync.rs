//! Student sync through the API: a full sync queues each student once, the status page counts
//! what its rows say and filters and pages them, a failed student is retried, school policy is
//! validated, alerts are confirmed or dismissed once, and other schools' rows are 404s.

use std::collections::BTreeMap;

use chrono::{Duration, Timelike, Utc};
use ironclock::domain::Approval;
use ironclock::domain::SchoolId;
use ironclock::sim::push::firmware::Faults;
use ironclock::sim::push::SimPushDevice;
use ironclock::store::admin::{GroupKind, NewGroup, NewStudentInput, SchoolScope};
use ironclock::store::DeviceUpdate;
use reqwest::Method;
use serde_json::{json, Value};

use super::{backends, call, fixture, spawn_app, Reply, TestApp};

async fn set_approval(app: &TestApp, serial: &str, approval: Approval, school: Option<SchoolId>) -> i64 {
    let id = app.device(serial).await.id.0;
    let update = DeviceUpdate { approval: Some(approval), school_id: Some(school), ..Default::default() };
    app.ctx.store.change_device(SchoolScope::all(), id, &update, None).await.unwrap();
    id
}

/// Registers `serial` by handshake and approves it into `school` as a push device.
async fn approved(app: &TestApp, serial: &str, school: SchoolId) -> i64 {
    app.handshake(serial).await;
    set_approval(app, serial, Approval::Approved, Some(school)).await
}

async fn group(app: &TestApp, kind: GroupKind, school: SchoolId, name: &str, class_id: Option<i64>) -> i64 {
    let g = NewGroup { school_id: school, name: name.into(), class_id };
    app.ctx.store.add_group(kind, &g).await.unwrap().id
}

async fn pupil(app: &TestApp, school: SchoolId, name: &str, pin: &str, class: Option<i64>, active: bool) -> i64 {
    let s = NewStudentInput {
        school_id: school,
        full_name: name.into(),
        rfid_card_id: None,
        class_id: class,
        section_id: None,
        is_active: active,
        pin: Some(pin.into()),
    };
    app.ctx.store.add_student(&s).await.unwrap().id
}

/// Polls until the device gets nothing more; returns the `(command id, command)` delivered.
async fn drain(app: &TestApp, serial: &str) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    for _ in 0..20 {
        let text = app.poll(serial).await;
        let batch: Vec<(i64, String)> = text
            .lines()
            .filter_map(|l| l.strip_prefix("C:")?.split_once(':'))
            .map(|(id, cmd)| (id.parse().unwrap(), cmd.to_string()))
            .collect();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
    panic!("{}: the queue of {serial} never drained", app.backend);
}

/// Acknowledges commands as the device does (`Return` per command id).
async fn ack(app: &TestApp, serial: &str, acks: &[(i64, i64)]) {
    let body: Vec<String> = acks.iter().map(|(id, code)| format!("ID={id}&Return={code}&CMD=DATA")).collect();
    let resp = app.post(&format!("/iclock/devicecmd?SN={serial}"), body.join("\n")).await;
    assert_eq!(resp.status(), 200, "{}: ack", app.backend);
}

fn pin_of(command: &str) -> Option<&str> {
    command.split(['\t', ' ']).find_map(|f| f.strip_prefix("PIN="))
}

async fn status(app: &TestApp, token: &str, device: i64, query: &str) -> Reply {
    let reply =
        call(app, Method::GET, &format!("/api/v1/devices/{device}/sync-status{query}"), Some(token), None).await;
    assert_eq!(reply.status, 200, "{}: sync-status{query}: {}", app.backend, reply.text);
    reply
}

fn names(reply: &Reply) -> Vec<String> {
    let students = reply.body["data"]["students"].as_array().expect("students");
    students.iter().map(|s| s["full_name"].as_str().unwrap().to_string()).collect()
}

async fn user_commands(app: &TestApp, token: &str, device: i64, kind: &str) -> Vec<Value> {
    let path = format!("/api/v1/devices/{device}/commands?kind={kind}&per_page=500");
    let reply = call(app, Method::GET, &path, Some(token), None).await;
    assert_eq!(reply.status, 200, "{}: {}", app.backend, reply.text);
    reply.body["data"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_full_sync_queues_every_active_student_once_and_repeating_it_queues_nothing() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        for (name, pin) in [("Amina Otieno", "101"), ("Brian Kamau", "102"), ("Cheru Wanjiku", "103")] {
            pupil(&app, fx.school_a, name, pin, None, true).await;
        }
        pupil(&app, fx.school_a, "Left Last Term", "104", None, false).await;
        pupil(&app, fx.school_b, "Other School", "201", None, true).await;
        let id = approved(&app, "SYNCAPI01", fx.school_a).await;
        let before = status(&app, &fx.admin_a, id, "").await;
        assert_eq!(before.body["data"]["summary"]["not_synced"], 3, "{}: {}", app.backend, before.text);

        let path = format!("/api/v1/devices/{id}/sync-students");
        let first = call(&app, Method::POST, &path, Some(&fx.admin_a), None).await;
        assert_eq!(first.status, 200, "{}: {}", app.backend, first.text);
        let d = &first.body["data"];
        assert_eq!((d["deviceId"].as_i64(), d["totalStudents"].as_i64()), (Some(id), Some(3)), "{}", app.backend);
        assert_eq!(d["commandsQueued"], 3, "{}: {d}", app.backend);
        assert_eq!(d["deferredUntil"], Value::Null, "{}", app.backend);
        assert_eq!(d["progress"]["queued"], 3, "{}: {d}", app.backend);
        assert_eq!(first.body["message"], d["message"], "{}", app.backend);

        let again =
            call(&app, Method::POST, &format!("/api/v1/device/{id}/sync-students"), Some(&fx.admin_a), None).await;
        assert_eq!(again.status, 200, "{}: {}", app.backend, again.text);
        assert_eq!(again.body["data"]["commandsQueued"], 0, "{}: {}", app.backend, again.text);

        let mut pins: Vec<String> = user_commands(&app, &fx.admin_a, id, "user_update")
            .await
            .iter()
            .map(|c| c["pin"].as_str().unwrap().to_string())
            .collect();
        pins.sort();
        assert_eq!(pins, ["101", "102", "103"], "{}: one command per active student of the school", app.backend);

        let audit =
            call(&app, Method::GET, "/api/v1/audit-log?action=device.sync_students", Some(&fx.root), None).await;
        assert_eq!(audit.body["meta"]["total"], 2, "{}: {}", app.backend, audit.text);
        assert_eq!(audit.body["data"][0]["target_id"], id, "{}", app.backend);

        // Not syncable: a device waiting for approval has no school's students to hold.
        app.handshake("SYNCAPI02").await;
        let pending = app.device("SYNCAPI02").await.id.0;
        let refused =
            call(&app, Method::POST, &format!("/api/v1/devices/{pending}/sync-students"), Some(&fx.root), None).await;
        assert_eq!((refused.status.as_u16(), refused.code()), (409, "conflict"), "{}: {}", app.backend, refused.text);
        assert!(refused.body["message"].as_str().unwrap().contains("cannot be synced"), "{}", refused.text);
        let blocked = set_approval(&app, "SYNCAPI02", Approval::Blocked, Some(fx.school_a)).await;
        let refused =
            call(&app, Method::POST, &format!("/api/v1/devices/{blocked}/sync-students"), Some(&fx.admin_a), None)
                .await;
        assert_eq!(refused.status, 409, "{}: a blocked device: {}", app.backend, refused.text);
    }
}

#[tokio::test]
async fn sync_status_counts_equal_its_rows_and_filters_and_pages_narrow_the_students() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let grade1 = group(&app, GroupKind::Class, fx.school_a, "Grade 1", None).await;
        let grade2 = group(&app, GroupKind::Class, fx.school_a, "Grade 2", None).await;
        let roster = [
            ("Amina Otieno", "101", grade1),
            ("Brian Kamau", "102", grade1),
            ("Cheru Wanjiku", "103", grade1),
            ("Daudi Mwangi", "104", grade2),
            ("Esther Njeri", "105", grade2),
        ];
        let mut ids = BTreeMap::new();
        for (name, pin, class) in roster {
            ids.insert(pin, pupil(&app, fx.school_a, name, pin, Some(class), true).await);
        }
        let id = approved(&app, "SYNCAPI03", fx.school_a).await;
        let sync =
            call(&app, Method::POST, &format!("/api/v1/devices/{id}/sync-students"), Some(&fx.admin_a), None).await;
        assert_eq!(sync.body["data"]["commandsQueued"], 5, "{}: {}", app.backend, sync.text);

        // Delivered: 102 is refused by the device, the others are acknowledged.
        let delivered = drain(&app, "SYNCAPI03").await;
        let acks: Vec<(i64, i64)> =
            delivered.iter().map(|(cmd, text)| (*cmd, if pin_of(text) == Some("102") { -1 } else { 0 })).collect();
        assert_eq!(acks.len(), 5, "{}: {delivered:?}", app.backend);
        ack(&app, "SYNCAPI03", &acks).await;
        // The device shows 101 (confirms it); 106 arrives after the sync and is still queued.
        let shown =
            "USER PIN=101\tName=Amina Otieno\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=0\tViceCard=\n";
        let upload = app.post("/iclock/cdata?SN=SYNCAPI03&table=OPERLOG&Stamp=1", shown).await;
        assert_eq!(upload.status(), 200, "{}", app.backend);
        ids.insert("106", pupil(&app, fx.school_a, "Fatuma Achieng", "106", Some(grade2), true).await);

        let all = status(&app, &fx.admin_a, id, "?per_page=500").await;
        let data = &all.body["data"];
        let students = data["students"].as_array().unwrap();
        let count =
            |wanted: &[&str]| students.iter().filter(|s| wanted.contains(&s["sync_status"].as_str().unwrap())).count();
        let summary = &data["summary"];
        assert_eq!(summary["total"], students.len(), "{}: {data}", app.backend);
        assert_eq!(summary["synced"], count(&["synced"]), "{}: {data}", app.backend);
        assert_eq!(summary["pending"], count(&["pending", "sent"]), "{}: {data}", app.backend);
        assert_eq!(summary["failed"], count(&["failed"]), "{}: {data}", app.backend);
        assert_eq!(summary["not_synced"], count(&["not_synced"]), "{}: {data}", app.backend);
        assert_eq!(summary["deleting"], 0, "{}", app.backend);
        let by_pin: BTreeMap<&str, &str> =
            students.iter().map(|s| (s["device_pin"].as_str().unwrap(), s["sync_status"].as_str().unwrap())).collect();
        let expected = BTreeMap::from([
            ("101", "synced"),
            ("102", "failed"),
            ("103", "sent"),
            ("104", "sent"),
            ("105", "sent"),
            ("106", "pending"),
        ]);
        assert_eq!(by_pin, expected, "{}: {data}", app.backend);
        let failed = students.iter().find(|s| s["device_pin"] == "102").unwrap();
        assert!(failed["error_message"].is_string(), "{}: the device's refusal is shown: {failed}", app.backend);
        assert_eq!((data["page"].as_i64(), data["total"].as_i64()), (Some(1), Some(6)), "{}", app.backend);
        assert_eq!(data["progress"]["confirmed"], 1, "{}: {data}", app.backend);
        assert_eq!(data["unknown_users"], json!({"total": 0, "users": []}), "{}", app.backend);

        let failed_only = status(&app, &fx.admin_a, id, "?status=failed").await;
        assert_eq!(names(&failed_only), ["Brian Kamau"], "{}", app.backend);
        let pending = status(&app, &fx.admin_a, id, "?status=pending").await;
        assert_eq!(pending.body["data"]["total"], 4, "{}: pending includes sent: {}", app.backend, pending.text);
        let sent = status(&app, &fx.admin_a, id, "?status=sent").await;
        assert_eq!(sent.body["data"]["total"], 3, "{}: {}", app.backend, sent.text);
        let class = status(&app, &fx.admin_a, id, &format!("?class_id={grade2}")).await;
        assert_eq!(names(&class), ["Daudi Mwangi", "Esther Njeri", "Fatuma Achieng"], "{}", app.backend);
        assert!(class.body["data"]["students"].as_array().unwrap().iter().all(|s| s["class_name"] == "Grade 2"));
        let search = status(&app, &fx.admin_a, id, "?search=KAM").await;
        assert_eq!(names(&search), ["Brian Kamau"], "{}", app.backend);
        let by_pin = status(&app, &fx.admin_a, id, "?search=104").await;
        assert_eq!(names(&by_pin), ["Daudi Mwangi"], "{}", app.backend);
        let combined = status(&app, &fx.admin_a, id, &format!("?class_id={grade1}&status=sent")).await;
        assert_eq!(names(&combined), ["Cheru Wanjiku"], "{}", app.backend);

        // Paging: by name, 2 a page; the summary always counts the whole school.
        let page2 = status(&app, &fx.admin_a, id, "?per_page=2&page=2").await;
        assert_eq!(names(&page2), ["Cheru Wanjiku", "Daudi Mwangi"], "{}", app.backend);
        let d = &page2.body["data"];
        assert_eq!((d["page"].as_i64(), d["per_page"].as_i64(), d["total"].as_i64()), (Some(2), Some(2), Some(6)));
        assert_eq!(d["summary"]["total"], 6, "{}", app.backend);
        let page4 = status(&app, &fx.admin_a, id, "?per_page=2&page=4").await;
        assert_eq!(names(&page4), Vec::<String>::new(), "{}", app.backend);

        for (query, param) in [("?status=done", "status"), ("?per_page=0", "per_page"), ("?class_id=x", "class_id")] {
            let path = format!("/api/v1/devices/{id}/sync-status{query}");
            let bad = call(&app, Method::GET, &path, Some(&fx.admin_a), None).await;
            assert_eq!((bad.status.as_u16(), bad.code()), (400, "invalid_parameter"), "{}: {}", app.backend, bad.text);
            assert!(bad.text.contains(param), "{}: {}", app.backend, bad.text);
        }
        let bad =
            call(&app, Method::GET, &format!("/api/v1/devices/{id}/sync-status?status=done"), Some(&fx.admin_a), None)
                .await;
        assert!(
            bad.body["message"].as_str().unwrap().contains("synced, pending, sent, failed, not_synced"),
            "{}",
            bad.text
        );
    }
}

#[tokio::test]
async fn a_failed_student_is_queued_again_by_a_retry_and_other_schools_students_are_not_found() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let amina = pupil(&app, fx.school_a, "Amina Otieno", "101", None, true).await;
        let brian = pupil(&app, fx.school_a, "Brian Kamau", "102", None, true).await;
        let other = pupil(&app, fx.school_b, "Other School", "201", None, true).await;
        let id = approved(&app, "SYNCAPI04", fx.school_a).await;
        let other_device = approved(&app, "SYNCAPI05", fx.school_b).await;
        call(&app, Method::POST, &format!("/api/v1/devices/{id}/sync-students"), Some(&fx.admin_a), None).await;
        let delivered = drain(&app, "SYNCAPI04").await;
        let acks: Vec<(i64, i64)> =
            delivered.iter().map(|(cmd, text)| (*cmd, if pin_of(text) == Some("101") { -1 } else { 0 })).collect();
        ack(&app, "SYNCAPI04", &acks).await;
        let failed = status(&app, &fx.admin_a, id, "?status=failed").await;
        assert_eq!(names(&failed), ["Amina Otieno"], "{}: {}", app.backend, failed.text);

        let path = |device: i64, student: i64| format!("/api/v1/devices/{device}/students/{student}/retry");
        let retried = call(&app, Method::POST, &path(id, amina), Some(&fx.admin_a), None).await;
        assert_eq!(retried.status, 200, "{}: {}", app.backend, retried.text);
        assert_eq!(retried.body["data"], json!({"deviceId": id, "studentId": amina, "commandsQueued": 1}));
        let row = status(&app, &fx.admin_a, id, "?search=Amina").await;
        assert_eq!(row.body["data"]["students"][0]["sync_status"], "pending", "{}: {}", app.backend, row.text);
        let again = drain(&app, "SYNCAPI04").await;
        let updates: Vec<&(i64, String)> =
            again.iter().filter(|(_, c)| c.starts_with("DATA UPDATE USERINFO")).collect();
        assert_eq!(updates.len(), 1, "{}: {again:?}", app.backend);
        assert_eq!(pin_of(&updates[0].1), Some("101"), "{}", app.backend);
        assert!(!again.iter().any(|(_, c)| c.starts_with("DATA UPDATE USERINFO") && pin_of(c) == Some("102")));

        // The singular alias answers too; Brian's write was acknowledged: nothing to queue now.
        let singular = format!("/api/v1/device/{id}/students/{brian}/retry");
        let nothing = call(&app, Method::POST, &singular, Some(&fx.admin_a), None).await;
        assert_eq!(nothing.status, 200, "{}: {}", app.backend, nothing.text);

        // Another school's student, on an own device: 404 for everyone (the root too).
        for token in [&fx.admin_a, &fx.root] {
            let r = call(&app, Method::POST, &path(id, other), Some(token), None).await;
            assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"), "{}: {}", app.backend, r.text);
        }
        // Another school's device: 404 for its neighbour, on every device route.
        for (method, p) in [
            (Method::POST, path(other_device, other)),
            (Method::GET, format!("/api/v1/devices/{other_device}/sync-status")),
            (Method::POST, format!("/api/v1/device/{other_device}/sync-students")),
        ] {
            let r = call(&app, method, &p, Some(&fx.admin_a), None).await;
            assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"), "{}: {p}: {}", app.backend, r.text);
        }
        let missing = call(&app, Method::POST, &path(id, 999_999), Some(&fx.admin_a), None).await;
        assert_eq!(missing.status, 404, "{}", app.backend);
        let bad =
            call(&app, Method::POST, &format!("/api/v1/devices/{id}/students/x/retry"), Some(&fx.admin_a), None).await;
        assert_eq!((bad.status.as_u16(), bad.code()), (400, "invalid_parameter"), "{}", app.backend);
    }
}

#[tokio::test]
async fn quiet_hours_and_the_unknown_user_policy_are_validated_stored_and_defer_a_full_sync() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let school = format!("/api/v1/schools/{}", fx.school_a);
        let fresh = call(&app, Method::GET, &school, Some(&fx.admin_a), None).await;
        assert_eq!(
            (&fresh.body["data"]["quiet_hours"], &fresh.body["data"]["unknown_user_policy"]),
            (&json!(""), &json!("report"))
        );

        for (body, needle) in [
            (json!({"quiet_hours": "7am-8am"}), "not a time"),
            (json!({"quiet_hours": "07:00"}), "HH:MM-HH:MM"),
            (json!({"quiet_hours": "08:00-08:00"}), "empty"),
            (json!({"unknown_user_policy": "shred"}), "report or delete"),
        ] {
            let r = call(&app, Method::PATCH, &school, Some(&fx.admin_a), Some(body.clone())).await;
            assert_eq!(r.status, 400, "{}: {body}: {}", app.backend, r.text);
            assert!(r.body["message"].as_str().unwrap().contains(needle), "{}: {body}: {}", app.backend, r.text);
        }
        let unchanged = call(&app, Method::GET, &school, Some(&fx.admin_a), None).await;
        assert_eq!(unchanged.body["data"]["quiet_hours"], "", "{}: a refused patch changes nothing", app.backend);

        let set = json!({"quiet_hours": " 07:00-08:30 , 22:00-05:00", "unknown_user_policy": "delete"});
        let r = call(&app, Method::PATCH, &school, Some(&fx.admin_a), Some(set)).await;
        assert_eq!(r.status, 200, "{}: {}", app.backend, r.text);
        assert_eq!(r.body["data"]["quiet_hours"], "07:00-08:30,22:00-05:00", "{}", app.backend);
        assert_eq!(r.body["data"]["unknown_user_policy"], "delete", "{}", app.backend);
        let policy = app.ctx.store.school_policy(fx.school_a).await.unwrap().unwrap();
        assert_eq!(
            (policy.quiet_hours.as_str(), policy.unknown_user_policy.as_str()),
            ("07:00-08:30,22:00-05:00", "delete")
        );
        let other = call(
            &app,
            Method::PATCH,
            &format!("/api/v1/schools/{}", fx.school_b),
            Some(&fx.admin_a),
            Some(json!({"quiet_hours": ""})),
        )
        .await;
        assert_eq!(other.status, 404, "{}", app.backend);

        // A window around now (school time, Africa/Nairobi = UTC+3): a full sync is deferred.
        let local = Utc::now() + Duration::hours(3);
        let hhmm = |t: chrono::DateTime<Utc>| format!("{:02}:{:02}", t.hour(), t.minute());
        let window = format!("{}-{}", hhmm(local - Duration::minutes(60)), hhmm(local + Duration::minutes(60)));
        let r = call(&app, Method::PATCH, &school, Some(&fx.admin_a), Some(json!({"quiet_hours": window}))).await;
        assert_eq!(r.status, 200, "{}: {}", app.backend, r.text);
        pupil(&app, fx.school_a, "Amina Otieno", "101", None, true).await;
        let id = approved(&app, "SYNCAPI06", fx.school_a).await;
        let sync =
            call(&app, Method::POST, &format!("/api/v1/devices/{id}/sync-students"), Some(&fx.admin_a), None).await;
        let d = &sync.body["data"];
        assert_eq!(d["commandsQueued"], 1, "{}: {}", app.backend, sync.text);
        assert!(d["deferredUntil"].is_string(), "{}: {d}", app.backend);
        assert!(d["message"].as_str().unwrap().contains("quiet hours"), "{}: {d}", app.backend);
        assert!(drain(&app, "SYNCAPI06").await.is_empty(), "{}: nothing is delivered in quiet hours", app.backend);

        let cleared = call(&app, Method::PATCH, &school, Some(&fx.admin_a), Some(json!({"quiet_hours": ""}))).await;
        assert_eq!(cleared.body["data"]["quiet_hours"], "", "{}: {}", app.backend, cleared.text);
        assert_eq!(cleared.body["data"]["unknown_user_policy"], "delete", "{}: left as it was", app.backend);
    }
}

#[tokio::test]
async fn an_alert_is_confirmed_or_dismissed_once_and_only_within_its_school() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let mut students = Vec::new();
        for (name, pin) in
            [("Amina Otieno", "101"), ("Brian Kamau", "102"), ("Cheru Wanjiku", "103"), ("Daudi Mwangi", "104")]
        {
            students.push(pupil(&app, fx.school_a, name, pin, None, true).await);
        }
        let mut device = SimPushDevice::new(&app.base, "SYNCAPI07", Faults::default());
        device.handshake().await.unwrap();
        let id = set_approval(&app, "SYNCAPI07", Approval::Approved, Some(fx.school_a)).await;
        call(&app, Method::POST, &format!("/api/v1/devices/{id}/sync-students"), Some(&fx.admin_a), None).await;
        device.poll_until_idle(10).await.unwrap();
        let synced = status(&app, &fx.admin_a, id, "").await;
        assert_eq!(
            synced.body["data"]["summary"]["synced"], 4,
            "{}: confirmed by read-back: {}",
            app.backend, synced.text
        );
        // A user the school does not know shows up on the device.
        let ghost =
            "USER PIN=9999\tName=Ghost\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=0\tViceCard=\n";
        device.upload("OPERLOG", ghost).await.unwrap();
        let unknown = status(&app, &fx.admin_a, id, "").await;
        assert_eq!(unknown.body["data"]["unknown_users"]["total"], 1, "{}: {}", app.backend, unknown.text);
        assert_eq!(unknown.body["data"]["unknown_users"]["users"][0]["pin"], "9999", "{}", app.backend);

        // Three students leave while the device is blocked: their deletes wait (as the cap would hold them).
        set_approval(&app, "SYNCAPI07", Approval::Blocked, Some(fx.school_a)).await;
        for student in &students[1..] {
            let r = call(&app, Method::DELETE, &format!("/api/v1/students/{student}"), Some(&fx.admin_a), None).await;
            assert_eq!(r.status, 200, "{}: {}", app.backend, r.text);
        }
        set_approval(&app, "SYNCAPI07", Approval::Approved, Some(fx.school_a)).await;
        assert!(user_commands(&app, &fx.admin_a, id, "user_delete").await.is_empty(), "{}", app.backend);
        let store = &app.ctx.store;
        let cap = store
            .create_alert(fx.school_a, id, "delete_cap", "3 deletes held back", &json!({"deletes": 3}))
            .await
            .unwrap();
        let second = store.create_alert(fx.school_a, id, "delete_cap", "again", &json!({})).await.unwrap();
        let b_device = approved(&app, "SYNCAPI08", fx.school_b).await;
        let theirs = store.create_alert(fx.school_b, b_device, "delete_cap", "school B's", &json!({})).await.unwrap();

        let listed = call(&app, Method::GET, "/api/v1/sync/alerts", Some(&fx.admin_a), None).await;
        let ids: Vec<i64> = listed.body["data"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [second, cap], "{}: open alerts of the own school, newest first: {}", app.backend, listed.text);
        let all = call(&app, Method::GET, "/api/v1/sync/alerts", Some(&fx.root), None).await;
        assert_eq!(all.body["data"].as_array().unwrap().len(), 3, "{}: a super admin sees every school", app.backend);

        let confirm = |alert: i64| format!("/api/v1/sync/alerts/{alert}/confirm");
        let dismiss = |alert: i64| format!("/api/v1/sync/alerts/{alert}/dismiss");
        for p in [confirm(theirs), dismiss(theirs), confirm(999_999)] {
            let r = call(&app, Method::POST, &p, Some(&fx.admin_a), None).await;
            assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"), "{}: {p}: {}", app.backend, r.text);
        }

        let done = call(&app, Method::POST, &confirm(cap), Some(&fx.admin_a), None).await;
        assert_eq!(done.status, 200, "{}: {}", app.backend, done.text);
        let d = &done.body["data"];
        assert_eq!(d["deletesQueued"], 3, "{}: {d}", app.backend);
        assert_eq!(
            (d["alert"]["resolution"].as_str(), d["alert"]["resolved_by"].as_str()),
            (Some("confirmed"), Some("a@example.org"))
        );
        let mut deleted: Vec<String> = user_commands(&app, &fx.admin_a, id, "user_delete")
            .await
            .iter()
            .map(|c| c["pin"].as_str().unwrap().to_string())
            .collect();
        deleted.sort();
        assert_eq!(deleted, ["102", "103", "104"], "{}", app.backend);

        for p in [confirm(cap), dismiss(cap)] {
            let r = call(&app, Method::POST, &p, Some(&fx.admin_a), None).await;
            assert_eq!((r.status.as_u16(), r.code()), (409, "conflict"), "{}: {p}: {}", app.backend, r.text);
        }
        let dismissed = call(&app, Method::POST, &dismiss(second), Some(&fx.admin_a), None).await;
        assert_eq!(dismissed.body["data"]["resolution"], "dismissed", "{}: {}", app.backend, dismissed.text);
        assert_eq!(
            user_commands(&app, &fx.admin_a, id, "user_delete").await.len(),
            3,
            "{}: a dismissal deletes nothing",
            app.backend
        );

        let open = call(&app, Method::GET, "/api/v1/sync/alerts", Some(&fx.admin_a), None).await;
        assert_eq!(open.body["data"], json!([]), "{}", app.backend);
        let history = call(&app, Method::GET, "/api/v1/sync/alerts?open=false", Some(&fx.admin_a), None).await;
        assert_eq!(history.body["data"].as_array().unwrap().len(), 2, "{}", app.backend);
        let theirs_still = store.get_alert(theirs).await.unwrap().unwrap();
        assert!(theirs_still.resolved_at.is_none(), "{}: school B's alert untouched", app.backend);
        let audit =
            call(&app, Method::GET, "/api/v1/audit-log?action=sync.alert.confirmed", Some(&fx.root), None).await;
        assert_eq!(audit.body["meta"]["total"], 1, "{}: {}", app.backend, audit.text);
        let bad = call(&app, Method::GET, "/api/v1/sync/alerts?open=maybe", Some(&fx.admin_a), None).await;
        assert_eq!(bad.status, 400, "{}", app.backend);
    }
}

#[tokio::test]
async fn the_school_summary_and_a_verifier_run_stay_within_the_callers_school() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        pupil(&app, fx.school_a, "Amina Otieno", "101", None, true).await;
        pupil(&app, fx.school_a, "Brian Kamau", "102", None, true).await;
        let a = approved(&app, "SYNCAPI09", fx.school_a).await;
        let b = approved(&app, "SYNCAPI10", fx.school_b).await;

        let summary = call(&app, Method::GET, "/api/v1/sync/summary", Some(&fx.admin_a), None).await;
        assert_eq!(summary.status, 200, "{}: {}", app.backend, summary.text);
        let lines = summary.body["data"].as_array().unwrap();
        assert_eq!(lines.len(), 1, "{}: {}", app.backend, summary.text);
        assert_eq!((lines[0]["device_id"].as_i64(), lines[0]["serial_number"].as_str()), (Some(a), Some("SYNCAPI09")));
        assert_eq!(lines[0]["summary"]["not_synced"], 2, "{}: {}", app.backend, summary.text);

        let root = call(&app, Method::GET, "/api/v1/sync/summary", Some(&fx.root), None).await;
        assert_eq!((root.status.as_u16(), root.code()), (400, "invalid_parameter"), "{}: {}", app.backend, root.text);
        assert!(root.text.contains("school_id"), "{}", root.text);
        let root_b =
            call(&app, Method::GET, &format!("/api/v1/sync/summary?school_id={}", fx.school_b), Some(&fx.root), None)
                .await;
        assert_eq!(root_b.body["data"][0]["device_id"], b, "{}: {}", app.backend, root_b.text);
        for token in [&fx.admin_a, &fx.root] {
            let r = call(&app, Method::GET, "/api/v1/sync/summary?school_id=999999", Some(token), None).await;
            assert_eq!(r.status, 404, "{}: {}", app.backend, r.text);
        }

        // The verifier sees the own school's device (it handshook just now) and asks it for its users.
        let run = call(&app, Method::POST, "/api/v1/sync/verify", Some(&fx.admin_a), None).await;
        assert_eq!(run.status, 200, "{}: {}", app.backend, run.text);
        let d = &run.body["data"];
        assert_eq!(d["skipped"], false, "{}", app.backend);
        assert!(d["job_id"].is_i64(), "{}: {d}", app.backend);
        let schools = d["schools"].as_array().unwrap();
        assert_eq!(schools.len(), 1, "{}: {d}", app.backend);
        assert_eq!(schools[0]["school_id"], fx.school_a.0, "{}", app.backend);
        assert_eq!(schools[0]["devices"][0]["device_id"], a, "{}: {d}", app.backend);
        assert_eq!(schools[0]["devices"][0]["read_back"], "queued", "{}: {d}", app.backend);
        assert_eq!(user_commands(&app, &fx.root, a, "user_query").await.len(), 1, "{}", app.backend);
        assert_eq!(user_commands(&app, &fx.root, b, "user_query").await.len(), 0, "{}", app.backend);
        assert_eq!(user_commands(&app, &fx.root, b, "user_update").await.len(), 0, "{}", app.backend);
        let r = call(
            &app,
            Method::POST,
            &format!("/api/v1/sync/verify?school_id={}", fx.school_b),
            Some(&fx.admin_a),
            None,
        )
        .await;
        assert_eq!(r.status, 404, "{}: {}", app.backend, r.text);
        let audit = call(&app, Method::GET, "/api/v1/audit-log?action=sync.verify", Some(&fx.root), None).await;
        assert_eq!(audit.body["meta"]["total"], 1, "{}: {}", app.backend, audit.text);
    }
}

/// Students added while a device was pending get no sync row for it; once it is approved the
/// verifier queues them (regression: a NULL in the Verify filter once dropped such pairs).
#[tokio::test]
async fn a_verifier_run_queues_students_the_device_never_got() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        pupil(&app, fx.school_a, "Amina Otieno", "101", None, true).await;
        pupil(&app, fx.school_a, "Brian Kamau", "102", None, true).await;
        let a = approved(&app, "SYNCAPI11", fx.school_a).await;
        let run = call(&app, Method::POST, "/api/v1/sync/verify", Some(&fx.admin_a), None).await;
        assert_eq!(run.body["data"]["schools"][0]["devices"][0]["missing"], 2, "{}: {}", app.backend, run.text);
        assert_eq!(user_commands(&app, &fx.root, a, "user_update").await.len(), 2, "{}", app.backend);
    }
}

#[tokio::test]
async fn cards_go_to_the_device_in_decimal_and_the_device_showing_them_confirms_the_student() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let add = |name: &str, card: &str| json!({"school_id": fx.school_a.0, "full_name": name, "rfid_card_id": card});
        let hex =
            call(&app, Method::POST, "/api/v1/students", Some(&fx.admin_a), Some(add("Hex Card", "00BC614E"))).await;
        assert_eq!(hex.status, 201, "{}: {}", app.backend, hex.text);
        let padded = add("Padded Card", "0000196793");
        assert_eq!(call(&app, Method::POST, "/api/v1/students", Some(&fx.admin_a), Some(padded)).await.status, 201);
        let id = approved(&app, "CARDDEC1", fx.school_a).await;
        call(&app, Method::POST, &format!("/api/v1/devices/{id}/sync-students"), Some(&fx.admin_a), None).await;
        let delivered = drain(&app, "CARDDEC1").await;
        let cards: Vec<&str> =
            delivered.iter().filter_map(|(_, text)| text.split('\t').find_map(|f| f.strip_prefix("Card="))).collect();
        assert_eq!(cards.len(), 2, "{}: {delivered:?}", app.backend);
        assert!(cards.contains(&"12345678") && cards.contains(&"196793"), "{}: {cards:?}", app.backend);
        let acks: Vec<(i64, i64)> = delivered.iter().map(|(cmd, _)| (*cmd, 0)).collect();
        ack(&app, "CARDDEC1", &acks).await;
        // The device shows the hex student's card as the number it stored: that confirms it.
        let hex_pin = hex.body["data"]["pin"].as_str().unwrap().to_string();
        let shown = format!("USER PIN={hex_pin}\tName=Hex Card\tPri=0\tPasswd=\tCard=12345678\tGrp=1\n");
        assert_eq!(app.post("/iclock/cdata?SN=CARDDEC1&table=OPERLOG&Stamp=1", shown).await.status(), 200);
        let all = status(&app, &fx.admin_a, id, "").await;
        let row = all.body["data"]["students"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["device_pin"] == hex_pin.as_str())
            .cloned()
            .unwrap();
        assert_eq!(row["sync_status"], "synced", "{}: {row}", app.backend);
    }
}
