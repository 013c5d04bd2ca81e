//! The storage contract, run against every backend (SQLite always, PostgreSQL when
//! `IRONCLOCK_TEST_POSTGRES_URL` is set), each test on a fresh database.

use crate::stores;

use chrono::{TimeZone, Utc};
use ironclock::domain::{
    Approval, DeviceId, DeviceSeen, Dialect, NewDevice, NewPunch, OperlogBatch, RejectedLine, StampTable,
    TemplateReport, UserReport,
};
use ironclock::store::admin::{AdminError, NewSchool, NewStudentInput, SchoolScope};
use ironclock::store::{DeviceTable, DeviceUpdate, NewMessage, PunchFilter};

fn school(name: &str, timezone: &str) -> NewSchool {
    NewSchool { name: name.into(), timezone: timezone.into(), pin_start: None }
}

fn new_device(serial: &str) -> NewDevice {
    NewDevice {
        serial_number: serial.into(),
        approval: Approval::Pending,
        dialect: Dialect::Att,
        pushver: Some("2.4.1".into()),
        language: Some("69".into()),
        last_ip: Some("10.0.0.7".into()),
        seen_at: Utc::now(),
    }
}

fn message(device: DeviceId, table: &str) -> NewMessage {
    NewMessage {
        device_id: Some(device),
        serial_number: "X".into(),
        path: "/iclock/cdata".into(),
        query: format!("SN=X&table={table}"),
        body: b"raw body".to_vec(),
        body_sealed: false,
        rejected: 0,
        table: Some(table.into()),
        status: "processed",
        records: 0,
        note: None,
    }
}

fn punch(pin: &str, local: &str) -> NewPunch {
    NewPunch {
        pin: pin.into(),
        local_time: local.into(),
        punched_at: Some(Utc.with_ymd_and_hms(2026, 3, 2, 6, 0, 0).unwrap()),
        status: Some(0),
        verify: Some(1),
        workcode: None,
        clock_flag: None,
        raw: format!("{pin}\t{local}\t0\t1"),
        source: Default::default(),
        event_index: None,
    }
}

#[tokio::test]
async fn registering_a_serial_twice_returns_the_same_pending_device() {
    for (backend, store, _db) in stores().await {
        let a = store.register_device(&new_device("CQZ7230961348")).await.unwrap();
        let b = store.register_device(&new_device("CQZ7230961348")).await.unwrap();
        assert_eq!(a.id, b.id, "{backend}");
        assert_eq!(a.approval, Approval::Pending, "{backend}");
        assert_eq!(a.last_ip.as_deref(), Some("10.0.0.7"), "{backend}");
        assert_eq!(store.list_devices().await.unwrap().len(), 1, "{backend}");
    }
}

#[tokio::test]
async fn re_sent_punches_are_counted_as_duplicates_and_stored_once() {
    for (backend, store, _db) in stores().await {
        let device = store.register_device(&new_device("D1")).await.unwrap();
        let punches = vec![
            punch("1", "2026-03-02 08:00:00"),
            punch("2", "2026-03-02 08:00:01"),
            punch("1", "2026-03-02 08:05:00"),
        ];
        let first = store.ingest_punches(&device, &message(device.id, "ATTLOG"), &[], &punches).await.unwrap();
        assert_eq!((first.inserted, first.duplicates), (3, 0), "{backend}");
        let again = store.ingest_punches(&device, &message(device.id, "ATTLOG"), &[], &punches).await.unwrap();
        assert_eq!((again.inserted, again.duplicates), (0, 3), "{backend}");
        assert_eq!(store.count_punches(Some(device.id)).await.unwrap(), 3, "{backend}");
        assert_eq!(store.count_messages(Some(device.id)).await.unwrap(), 2, "{backend}: both raw bodies are kept");
    }
}

#[tokio::test]
async fn a_batch_with_the_same_punch_twice_stores_it_once() {
    for (backend, store, _db) in stores().await {
        let device = store.register_device(&new_device("D2")).await.unwrap();
        let p = punch("7", "2026-03-02 08:00:00");
        let report = store.ingest_punches(&device, &message(device.id, "ATTLOG"), &[], &[p.clone(), p]).await.unwrap();
        assert_eq!((report.inserted, report.duplicates), (1, 1), "{backend}");
    }
}

#[tokio::test]
async fn punches_resolve_their_pin_to_the_schools_student() {
    for (backend, store, _db) in stores().await {
        let school = store.add_school(&school("North", "Africa/Nairobi")).await.unwrap();
        let student = store
            .add_student(&NewStudentInput {
                school_id: school.id,
                full_name: "Amina W.".into(),
                rfid_card_id: None,
                pin: Some("42".into()),
                class_id: None,
                section_id: None,
                is_active: true,
            })
            .await
            .unwrap();
        let device = store.register_device(&new_device("D3")).await.unwrap();
        let update =
            DeviceUpdate { approval: Some(Approval::Approved), school_id: Some(Some(school.id)), ..Default::default() };
        store.change_device(SchoolScope::all(), device.id.0, &update, None).await.unwrap();
        let device = store.get_device(device.id).await.unwrap().unwrap();
        store
            .ingest_punches(
                &device,
                &message(device.id, "ATTLOG"),
                &[],
                &[punch("42", "2026-03-02 08:00:00"), punch("43", "2026-03-02 08:00:00")],
            )
            .await
            .unwrap();
        let punches =
            store.list_punches(&PunchFilter { device_id: Some(device.id), ..Default::default() }).await.unwrap();
        let by_pin = |pin: &str| punches.iter().find(|p| p.pin == pin).unwrap().student_id;
        assert_eq!(by_pin("42"), Some(student.id), "{backend}");
        assert_eq!(by_pin("43"), None, "{backend}: unknown PINs stay unresolved");
    }
}

#[tokio::test]
async fn rejected_lines_and_stamps_are_stored_with_the_upload() {
    for (backend, store, _db) in stores().await {
        let device = store.register_device(&new_device("D4")).await.unwrap();
        let rejected =
            vec![RejectedLine { line_no: 2, raw: "garbage".into(), error: "missing time".into(), raw_sealed: false }];
        store
            .ingest_punches(&device, &message(device.id, "ATTLOG"), &rejected, &[punch("1", "2026-03-02 08:00:00")])
            .await
            .unwrap();
        store.save_stamps(&[(device.id, StampTable::AttLog, "9999".into())]).await.unwrap();
        let lines = store.rejected_lines(device.id).await.unwrap();
        assert_eq!(lines.len(), 1, "{backend}");
        assert_eq!((lines[0].line_no, lines[0].raw.as_str(), lines[0].error.as_str()), (2, "garbage", "missing time"));
        let device = store.get_device(device.id).await.unwrap().unwrap();
        assert_eq!(device.attlog_stamp.as_deref(), Some("9999"), "{backend}");
    }
}

#[tokio::test]
async fn operlog_reports_upsert_users_and_templates_per_device() {
    for (backend, store, _db) in stores().await {
        let device = store.register_device(&new_device("D5")).await.unwrap();
        let user = |name: &str| UserReport {
            pin: "9998".into(),
            name: Some(name.into()),
            privilege: Some(0),
            card: None,
            group_id: Some("1".into()),
            verify: Some(-1),
            attributes: serde_json::json!({"TZ": "0000000100000000"}),
        };
        let template = TemplateReport {
            pin: "9998".into(),
            kind: "fp",
            bio_type: 1,
            finger_no: 1,
            template_index: 0,
            major_ver: None,
            minor_ver: None,
            format: None,
            valid: Some(1),
            duress: None,
            sealed: vec![1, 2, 3],
        };
        let batch =
            OperlogBatch { users: vec![user("PRUEBA")], templates: vec![template.clone()], ..Default::default() };
        let report = store.ingest_operlog(&device, &message(device.id, "OPERLOG"), &[], &batch).await.unwrap();
        store.save_stamps(&[(device.id, StampTable::OperLog, "9999".into())]).await.unwrap();
        assert_eq!(report.inserted, 2, "{backend}");
        let batch =
            OperlogBatch { users: vec![user("PRUEBA REPLICA")], templates: vec![template], ..Default::default() };
        store.ingest_operlog(&device, &message(device.id, "OPERLOG"), &[], &batch).await.unwrap();
        assert_eq!(store.count_device_rows(device.id, DeviceTable::Users).await.unwrap(), 1, "{backend}");
        assert_eq!(store.count_device_rows(device.id, DeviceTable::Templates).await.unwrap(), 1, "{backend}");
        assert_eq!(store.get_device(device.id).await.unwrap().unwrap().operlog_stamp.as_deref(), Some("9999"));
    }
}

#[tokio::test]
async fn options_are_merged_and_identity_fields_lifted() {
    for (backend, store, _db) in stores().await {
        let device = store.register_device(&new_device("D6")).await.unwrap();
        let opts =
            |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        store
            .merge_device_options(
                device.id,
                &opts(&[("~DeviceName", "SpeedFace-V5L"), ("FWVersion", "ZAM180-NF50VA-Ver3.4.9")]),
            )
            .await
            .unwrap();
        store
            .merge_device_options(
                device.id,
                &opts(&[("PushVersion", "Ver 2.0.33S-20220623"), ("~Platform", "ZAM180_TFT")]),
            )
            .await
            .unwrap();
        let d = store.get_device(device.id).await.unwrap().unwrap();
        assert_eq!(d.firmware.as_deref(), Some("ZAM180-NF50VA-Ver3.4.9"), "{backend}");
        assert_eq!(d.platform.as_deref(), Some("ZAM180_TFT"), "{backend}");
        assert_eq!(d.push_version.as_deref(), Some("Ver 2.0.33S-20220623"), "{backend}");
        assert_eq!(d.name, None, "{backend}: a pending device's self-reported name is not its name");
        // Approved, the reported name fills an empty name.
        let approved =
            store.register_device(&NewDevice { approval: Approval::Approved, ..new_device("D6A") }).await.unwrap();
        store.merge_device_options(approved.id, &opts(&[("~DeviceName", "SpeedFace-V5L")])).await.unwrap();
        let d = store.get_device(approved.id).await.unwrap().unwrap();
        assert_eq!(d.name.as_deref(), Some("SpeedFace-V5L"), "{backend}");
    }
}

#[tokio::test]
async fn last_seen_only_moves_forward() {
    for (backend, store, _db) in stores().await {
        let device = store.register_device(&new_device("D7")).await.unwrap();
        let later = Utc::now() + chrono::Duration::seconds(60);
        let earlier = Utc::now() - chrono::Duration::seconds(60);
        store.touch_devices(&[DeviceSeen { id: device.id, at: later, ip: Some("10.0.0.9".into()) }]).await.unwrap();
        store.touch_devices(&[DeviceSeen { id: device.id, at: earlier, ip: None }]).await.unwrap();
        let d = store.get_device(device.id).await.unwrap().unwrap();
        let seen = d.last_seen_at.unwrap();
        assert!((seen - later).num_milliseconds().abs() < 5, "{backend}: {seen} vs {later}");
        assert_eq!(d.last_ip.as_deref(), Some("10.0.0.9"), "{backend}");
    }
}

#[tokio::test]
async fn init_setting_keeps_the_first_value() {
    for (backend, store, _db) in stores().await {
        assert_eq!(store.init_setting("jwt_secret", "a").await.unwrap(), "a", "{backend}");
        assert_eq!(store.init_setting("jwt_secret", "b").await.unwrap(), "a", "{backend}");
        assert_eq!(store.get_setting("jwt_secret").await.unwrap().as_deref(), Some("a"), "{backend}");
        assert_eq!(store.get_setting("missing").await.unwrap(), None, "{backend}");
    }
}

#[tokio::test]
async fn a_pin_is_unique_within_a_school() {
    for (backend, store, _db) in stores().await {
        let school = store.add_school(&school("South", "UTC")).await.unwrap();
        let s = NewStudentInput {
            school_id: school.id,
            full_name: "A".into(),
            rfid_card_id: None,
            pin: Some("1".into()),
            class_id: None,
            section_id: None,
            is_active: true,
        };
        store.add_student(&s).await.unwrap();
        let err = store.add_student(&s).await.unwrap_err();
        assert!(matches!(err, AdminError::Conflict { field: "pin", .. }), "{backend}: {err}");
    }
}
