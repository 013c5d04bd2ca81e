//! The admin storage contract (`AdminStore`), run against every backend (SQLite always,
//! PostgreSQL when `IRONCLOCK_TEST_POSTGRES_URL` is set), each test on a fresh database.

use crate::stores;

use chrono::{Duration, TimeZone, Utc};
use ironclock::domain::SchoolId;
use ironclock::domain::{Approval, Dialect, ImportRow, NewDevice, NewPunch};
use ironclock::store::admin::*;
use ironclock::store::{self, DeviceUpdate, DynStore, NewMessage};

fn audit(action: &str) -> NewAudit {
    NewAudit { action: action.into(), actor_email: Some("root@example.org".into()), ..Default::default() }
}

fn admin(email: &str, role: AdminRole, school_id: Option<SchoolId>) -> NewAdminUser {
    NewAdminUser { email: email.into(), password_hash: "$argon2id$fake".into(), role, school_id }
}

fn student(school_id: SchoolId, name: &str, pin: Option<&str>, card: Option<&str>) -> NewStudentInput {
    NewStudentInput {
        school_id,
        full_name: name.into(),
        rfid_card_id: card.map(Into::into),
        class_id: None,
        section_id: None,
        is_active: true,
        pin: pin.map(Into::into),
    }
}

async fn school(store: &DynStore, name: &str, pin_start: Option<i64>) -> SchoolRecord {
    store.add_school(&NewSchool { name: name.into(), timezone: "UTC".into(), pin_start }).await.unwrap()
}

#[tokio::test]
async fn admin_emails_are_unique_ignoring_case_and_found_ignoring_case() {
    for (backend, store, _db) in stores().await {
        let first = store.create_admin(&admin("Root@Example.org", AdminRole::SuperAdmin, None), None).await.unwrap();
        let err = store.create_admin(&admin("root@example.ORG", AdminRole::SuperAdmin, None), None).await.unwrap_err();
        assert!(matches!(err, AdminError::Conflict { field: "email", .. }), "{backend}: {err}");
        let found = store.find_credentials("ROOT@example.org").await.unwrap().expect("found");
        assert_eq!((found.user.id, found.password_hash.as_str()), (first.id, "$argon2id$fake"), "{backend}");
        let err = store
            .create_admin(&admin("x@example.org", AdminRole::SchoolAdmin, Some(SchoolId(999))), None)
            .await
            .unwrap_err();
        assert!(matches!(err, AdminError::Invalid { field: "school_id", .. }), "{backend}: {err}");
    }
}

#[tokio::test]
async fn the_last_enabled_super_admin_cannot_be_deleted_disabled_or_demoted() {
    for (backend, store, _db) in stores().await {
        let s = school(&store, "North", None).await;
        let root = store.create_admin(&admin("root@example.org", AdminRole::SuperAdmin, None), None).await.unwrap();
        let err = store.delete_admin(root.id, &audit("admin.delete")).await.unwrap_err();
        assert!(matches!(err, AdminError::Conflict { .. }), "{backend}: {err}");
        let disable = AdminUserPatch { disabled: Some(true), ..Default::default() };
        assert!(matches!(
            store.update_admin(root.id, &disable, None).await,
            Err(AdminError::Conflict { field: "disabled", .. })
        ));
        let demote = AdminUserPatch { role: Some((AdminRole::SchoolAdmin, Some(s.id))), ..Default::default() };
        assert!(matches!(
            store.update_admin(root.id, &demote, None).await,
            Err(AdminError::Conflict { field: "role", .. })
        ));

        let second = store.create_admin(&admin("two@example.org", AdminRole::SuperAdmin, None), None).await.unwrap();
        let demoted = store.update_admin(root.id, &demote, None).await.unwrap();
        assert_eq!((demoted.role, demoted.school_id), (AdminRole::SchoolAdmin, Some(s.id)), "{backend}");
        store.delete_admin(root.id, &audit("admin.delete")).await.unwrap();
        assert!(store.get_admin(root.id).await.unwrap().is_none(), "{backend}");
        assert_eq!(store.count_admins().await.unwrap(), 1);
        let err = store.delete_admin(second.id, &audit("admin.delete")).await.unwrap_err();
        assert!(matches!(err, AdminError::Conflict { .. }), "{backend}");
    }
}

#[tokio::test]
async fn a_refresh_token_rotates_once_and_its_reuse_revokes_every_token_of_the_admin() {
    for (backend, store, _db) in stores().await {
        let root = store.create_admin(&admin("root@example.org", AdminRole::SuperAdmin, None), None).await.unwrap();
        let now = Utc::now();
        store.insert_refresh_token(root.id, "h1", now + Duration::days(1)).await.unwrap();
        store.insert_refresh_token(root.id, "other", now + Duration::days(1)).await.unwrap();
        let rotated = store.rotate_refresh_token("h1", "h2", now + Duration::days(1), now).await.unwrap();
        assert!(matches!(rotated, RefreshOutcome::Rotated(ref u) if u.id == root.id), "{backend}: {rotated:?}");
        let reused = store.rotate_refresh_token("h1", "h3", now + Duration::days(1), now).await.unwrap();
        assert!(matches!(reused, RefreshOutcome::Reused { admin_id } if admin_id == root.id), "{backend}");
        for hash in ["h2", "other"] {
            let after = store.rotate_refresh_token(hash, "h4", now + Duration::days(1), now).await.unwrap();
            assert!(matches!(after, RefreshOutcome::Reused { .. }), "{backend}: {hash} must be revoked");
        }
        store.insert_refresh_token(root.id, "old", now - Duration::seconds(1)).await.unwrap();
        let expired = store.rotate_refresh_token("old", "h5", now + Duration::days(1), now).await.unwrap();
        assert!(matches!(expired, RefreshOutcome::Invalid), "{backend}");
        assert!(matches!(store.rotate_refresh_token("nope", "h6", now, now).await.unwrap(), RefreshOutcome::Invalid));
    }
}

#[tokio::test]
async fn the_setup_token_creates_the_first_super_admin_once() {
    for (backend, store, _db) in stores().await {
        store.put_setting("setup_token_sha256", "hash-a").await.unwrap();
        store.put_setting("setup_token_sha256", "hash-b").await.unwrap();
        let root = admin("root@example.org", AdminRole::SuperAdmin, None);
        assert!(
            store.complete_setup("setup_token_sha256", "hash-a", &root, &audit("setup")).await.unwrap().is_none(),
            "{backend}"
        );
        let created = store.complete_setup("setup_token_sha256", "hash-b", &root, &audit("setup")).await.unwrap();
        assert_eq!(created.expect("created").role, AdminRole::SuperAdmin, "{backend}");
        let again = admin("second@example.org", AdminRole::SuperAdmin, None);
        assert!(store.complete_setup("setup_token_sha256", "hash-b", &again, &audit("setup")).await.unwrap().is_none());
        assert_eq!(store.count_admins().await.unwrap(), 1, "{backend}");
        let log = store.list_audit(&AuditFilter { page: Page::default(), ..Default::default() }).await.unwrap();
        assert_eq!(log.items[0].action, "setup", "{backend}");
    }
}

#[tokio::test]
async fn pins_are_assigned_from_the_school_start_and_never_reused_after_deletion() {
    for (backend, store, _db) in stores().await {
        let s = school(&store, "North", Some(5000)).await;
        let a = store.add_student(&student(s.id, "A", None, None)).await.unwrap();
        let explicit = store.add_student(&student(s.id, "B", Some("5001"), None)).await.unwrap();
        let c = store.add_student(&student(s.id, "C", None, None)).await.unwrap();
        assert_eq!((a.pin.as_str(), explicit.pin.as_str(), c.pin.as_str()), ("5000", "5001", "5002"), "{backend}");

        store.delete_student(SchoolScope::all(), c.id, &audit("student.delete")).await.unwrap();
        let d = store.add_student(&student(s.id, "D", None, None)).await.unwrap();
        assert_eq!(d.pin, "5003", "{backend}: a deleted student's PIN is not handed out again");
        let err = store.add_student(&student(s.id, "E", Some("5002"), None)).await.unwrap_err();
        assert!(
            matches!(err, AdminError::Conflict { field: "pin", ref message } if message.contains("deleted")),
            "{backend}: {err}"
        );
        let err = store.add_student(&student(s.id, "E", Some("5001"), None)).await.unwrap_err();
        assert!(
            matches!(err, AdminError::Conflict { field: "pin", ref message } if message.contains("B")),
            "{backend}: {err}"
        );

        let other = school(&store, "South", Some(5000)).await;
        assert_eq!(
            store.add_student(&student(other.id, "Z", None, None)).await.unwrap().pin,
            "5000",
            "{backend}: per school"
        );

        let lowered = SchoolPatch { pin_start: Some(10), ..Default::default() };
        store.update_school(SchoolScope::all(), s.id, &lowered).await.unwrap();
        assert_eq!(
            store.add_student(&student(s.id, "F", None, None)).await.unwrap().pin,
            "5004",
            "{backend}: never goes down"
        );
        let raised = SchoolPatch { pin_start: Some(9000), ..Default::default() };
        store.update_school(SchoolScope::all(), s.id, &raised).await.unwrap();
        assert_eq!(store.add_student(&student(s.id, "G", None, None)).await.unwrap().pin, "9000", "{backend}");
    }
}

#[tokio::test]
async fn a_card_belongs_to_one_live_student_and_the_conflict_names_the_holder() {
    for (backend, store, _db) in stores().await {
        let s = school(&store, "North", None).await;
        let holder = store.add_student(&student(s.id, "Amina", None, Some("0012345"))).await.unwrap();
        let err = store.add_student(&student(s.id, "Brian", None, Some("0012345"))).await.unwrap_err();
        match err {
            AdminError::Conflict { field: "rfid_card_id", message } => {
                assert!(message.contains(&holder.id.to_string()) && message.contains("Amina"), "{backend}: {message}")
            }
            other => panic!("{backend}: {other:?}"),
        }
        let brian = store.add_student(&student(s.id, "Brian", None, None)).await.unwrap();
        let take = StudentPatch { rfid_card_id: Some(Some("0012345".into())), ..Default::default() };
        assert!(matches!(
            store.update_student(SchoolScope::all(), brian.id, &take).await,
            Err(AdminError::Conflict { .. })
        ));
        store.delete_student(SchoolScope::all(), holder.id, &audit("student.delete")).await.unwrap();
        let moved = store.update_student(SchoolScope::all(), brian.id, &take).await.unwrap();
        assert_eq!(
            moved.rfid_card_id.as_deref(),
            Some("0012345"),
            "{backend}: a deleted student's card can be handed on"
        );
        let other = school(&store, "South", None).await;
        store.add_student(&student(other.id, "Other", None, Some("0012345"))).await.expect("cards are per school");
    }
}

#[tokio::test]
async fn every_read_and_write_outside_the_scope_behaves_like_a_missing_row() {
    for (backend, store, _db) in stores().await {
        let a = school(&store, "A", None).await;
        let b = school(&store, "B", None).await;
        let only_a = SchoolScope::school(a.id);
        let pupil = store.add_student(&student(b.id, "In B", None, None)).await.unwrap();
        let class = store
            .add_group(GroupKind::Class, &NewGroup { school_id: b.id, name: "5".into(), class_id: None })
            .await
            .unwrap();

        assert!(store.get_student(only_a, pupil.id).await.unwrap().is_none(), "{backend}");
        let rename = StudentPatch { full_name: Some("x".into()), ..Default::default() };
        assert!(matches!(store.update_student(only_a, pupil.id, &rename).await, Err(AdminError::NotFound("student"))));
        assert!(matches!(
            store.delete_student(only_a, pupil.id, &audit("d")).await,
            Err(AdminError::NotFound("student"))
        ));
        assert!(store.get_group(GroupKind::Class, only_a, class.id).await.unwrap().is_none(), "{backend}");
        let patch = GroupPatch { name: Some("6".into()), ..Default::default() };
        assert!(matches!(
            store.update_group(GroupKind::Class, only_a, class.id, &patch).await,
            Err(AdminError::NotFound(_))
        ));
        assert!(store.get_school_record(only_a, b.id).await.unwrap().is_none(), "{backend}");
        assert!(matches!(
            store.update_school(only_a, b.id, &SchoolPatch::default()).await,
            Err(AdminError::NotFound(_))
        ));
        let listed = store.list_students(&StudentFilter::new(only_a)).await.unwrap();
        assert_eq!(listed.total, 0, "{backend}");
        assert_eq!(store.list_schools(only_a, &SchoolFilter::default()).await.unwrap().total, 1, "{backend}");

        let mut in_a = student(a.id, "In A", None, None);
        in_a.class_id = Some(class.id);
        let err = store.add_student(&in_a).await.unwrap_err();
        assert!(
            matches!(err, AdminError::Invalid { field: "class_id", .. }),
            "{backend}: another school's class: {err}"
        );
        assert_eq!(
            store.get_student(SchoolScope::all(), pupil.id).await.unwrap().unwrap().full_name,
            "In B",
            "{backend}"
        );
    }
}

fn import_row(row: usize, name: &str, pin: Option<&str>, class: Option<&str>) -> ImportRow {
    ImportRow {
        row,
        full_name: name.into(),
        rfid_card_id: None,
        class: class.map(Into::into),
        section: None,
        is_active: true,
        pin: pin.map(Into::into),
    }
}

#[tokio::test]
async fn an_import_with_one_bad_row_writes_nothing_and_a_good_one_creates_and_updates() {
    for (backend, store, _db) in stores().await {
        let s = school(&store, "North", None).await;
        store
            .add_group(GroupKind::Class, &NewGroup { school_id: s.id, name: "Grade 5".into(), class_id: None })
            .await
            .unwrap();
        let existing = store.add_student(&student(s.id, "Old Name", Some("77"), None)).await.unwrap();
        let bad = [import_row(2, "A", None, Some("Grade 5")), import_row(3, "B", None, Some("Grade 9"))];
        let err = store.import_students(s.id, &bad, false, &audit("student.import")).await.unwrap_err();
        match err {
            AdminError::Rows(rows) => {
                assert_eq!((rows.len(), rows[0].row, rows[0].field.as_str()), (1, 3, "class"), "{backend}")
            }
            other => panic!("{backend}: {other:?}"),
        }
        assert_eq!(store.list_students(&StudentFilter::new(SchoolScope::all())).await.unwrap().total, 1, "{backend}");

        let good = [import_row(2, "A", None, Some("grade 5")), import_row(3, "New Name", Some("77"), None)];
        let dry = store.import_students(s.id, &good, true, &audit("student.import")).await.unwrap();
        assert_eq!((dry.created, dry.updated, dry.dry_run), (1, 1, true), "{backend}");
        assert_eq!(
            store.list_students(&StudentFilter::new(SchoolScope::all())).await.unwrap().total,
            1,
            "{backend}: dry run"
        );
        let done = store.import_students(s.id, &good, false, &audit("student.import")).await.unwrap();
        assert_eq!((done.created, done.updated), (1, 1), "{backend}");
        assert_eq!(store.get_student(SchoolScope::all(), existing.id).await.unwrap().unwrap().full_name, "New Name");
        let created = store.add_student(&student(s.id, "After", None, None)).await.unwrap();
        assert_eq!(created.pin, "1001", "{backend}: the import advanced the counter past 1000");
    }
}

fn new_device(serial: &str) -> NewDevice {
    NewDevice {
        serial_number: serial.into(),
        approval: Approval::Pending,
        dialect: Dialect::Att,
        pushver: None,
        language: None,
        last_ip: None,
        seen_at: Utc::now(),
    }
}

#[tokio::test]
async fn device_changes_keep_area_and_school_consistent_and_deleting_punches_needs_purge() {
    for (backend, store, _db) in stores().await {
        let a = school(&store, "A", None).await;
        let b = school(&store, "B", None).await;
        let area_b = store
            .add_group(GroupKind::Area, &NewGroup { school_id: b.id, name: "Gate".into(), class_id: None })
            .await
            .unwrap();
        let device = store.register_device(&new_device("SN1")).await.unwrap();
        let id = device.id.0;

        let approve_alone = DeviceUpdate { approval: Some(Approval::Approved), ..Default::default() };
        let err = store.change_device(SchoolScope::all(), id, &approve_alone, None).await.unwrap_err();
        assert!(matches!(err, AdminError::Invalid { field: "school_id", .. }), "{backend}: {err}");
        let wrong_area = DeviceUpdate {
            approval: Some(Approval::Approved),
            school_id: Some(Some(a.id)),
            area_id: Some(Some(area_b.id)),
            ..Default::default()
        };
        let err = store.change_device(SchoolScope::all(), id, &wrong_area, None).await.unwrap_err();
        assert!(matches!(err, AdminError::Invalid { field: "area_id", .. }), "{backend}: {err}");
        assert!(
            matches!(
                store.change_device(SchoolScope::school(a.id), id, &approve_alone, None).await,
                Err(AdminError::NotFound("device"))
            ),
            "{backend}: a pending device is outside every school scope"
        );

        let approve = DeviceUpdate {
            approval: Some(Approval::Approved),
            school_id: Some(Some(b.id)),
            area_id: Some(Some(area_b.id)),
            ..Default::default()
        };
        let approved =
            store.change_device(SchoolScope::all(), id, &approve, Some(&audit("device.approve"))).await.unwrap();
        assert_eq!((approved.approval.as_str(), approved.area_id), ("approved", Some(area_b.id)), "{backend}");
        assert!(approved.approved_at.is_some(), "{backend}");
        let moved = store
            .change_device(
                SchoolScope::all(),
                id,
                &DeviceUpdate { school_id: Some(Some(a.id)), ..Default::default() },
                None,
            )
            .await
            .unwrap();
        assert_eq!(moved.area_id, None, "{backend}: the old school's area is dropped");

        let device = store.get_device(device.id).await.unwrap().unwrap();
        let punch = NewPunch {
            pin: "1".into(),
            local_time: "2026-03-02 08:00:00".into(),
            punched_at: Some(Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()),
            status: Some(0),
            verify: Some(1),
            workcode: None,
            clock_flag: None,
            raw: "1\t2026-03-02 08:00:00".into(),
            source: Default::default(),
            event_index: None,
        };
        let message = NewMessage {
            device_id: Some(device.id),
            serial_number: "SN1".into(),
            path: "/iclock/cdata".into(),
            query: String::new(),
            body: vec![],
            body_sealed: false,
            rejected: 0,
            table: Some("ATTLOG".into()),
            status: "processed",
            records: 1,
            note: None,
        };
        store.ingest_punches(&device, &message, &[], &[punch]).await.unwrap();
        let err = store.delete_device(SchoolScope::all(), id, false, &audit("device.delete")).await.unwrap_err();
        assert!(matches!(err, AdminError::Conflict { field: "purge", .. }), "{backend}: {err}");
        store.delete_device(SchoolScope::all(), id, true, &audit("device.delete")).await.unwrap();
        assert!(store.get_device_record(SchoolScope::all(), id).await.unwrap().is_none(), "{backend}");
        let log = store
            .list_audit(&AuditFilter { action: Some("device.delete".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(log.items[0].detail["punches_deleted"], 1, "{backend}");
    }
}

#[tokio::test]
async fn the_daily_summary_gives_first_in_and_last_out_per_student_and_local_day() {
    for (backend, store, _db) in stores().await {
        let s = school(&store, "North", None).await;
        let amina = store.add_student(&student(s.id, "Amina", Some("1"), None)).await.unwrap();
        let device = store.register_device(&new_device("SN2")).await.unwrap();
        let approve =
            DeviceUpdate { approval: Some(Approval::Approved), school_id: Some(Some(s.id)), ..Default::default() };
        store.change_device(SchoolScope::all(), device.id.0, &approve, None).await.unwrap();
        let device = store.get_device(device.id).await.unwrap().unwrap();
        let punch = |pin: &str, local: &str| NewPunch {
            pin: pin.into(),
            local_time: local.into(),
            punched_at: None,
            status: None,
            verify: None,
            workcode: None,
            clock_flag: None,
            raw: local.into(),
            source: Default::default(),
            event_index: None,
        };
        let punches = [
            punch("1", "2026-03-02 07:55:00"),
            punch("1", "2026-03-02 12:00:00"),
            punch("1", "2026-03-02 15:30:00"),
            punch("1", "2026-03-03 07:50:00"),
            punch("9", "2026-03-02 08:00:00"),
        ];
        let message = NewMessage {
            device_id: Some(device.id),
            serial_number: "SN2".into(),
            path: "/iclock/cdata".into(),
            query: String::new(),
            body: vec![],
            body_sealed: false,
            rejected: 0,
            table: Some("ATTLOG".into()),
            status: "processed",
            records: 5,
            note: None,
        };
        store.ingest_punches(&device, &message, &[], &punches).await.unwrap();
        let days = store.daily_attendance(&PunchQuery::new(SchoolScope::school(s.id))).await.unwrap();
        assert_eq!(days.total, 2, "{backend}: the unknown PIN has no student");
        let first = &days.items[0];
        assert_eq!(
            (first.date.as_str(), first.student_id, first.first_in.as_str(), first.last_out.as_deref(), first.punches),
            ("2026-03-02", amina.id, "2026-03-02 07:55:00", Some("2026-03-02 15:30:00"), 3),
            "{backend}"
        );
        assert_eq!(days.items[1].last_out, None, "{backend}: one punch is no way out");

        let mut range = PunchQuery::new(SchoolScope::school(s.id));
        range.from_date = Some("2026-03-03".into());
        range.until_date = Some("2026-03-04".into());
        let listed = store.list_punch_records(&range).await.unwrap();
        assert_eq!((listed.total, listed.items[0].student_name.as_deref()), (1, Some("Amina")), "{backend}");
        let other = school(&store, "South", None).await;
        assert_eq!(store.list_punch_records(&PunchQuery::new(SchoolScope::school(other.id))).await.unwrap().total, 0);
    }
}

#[tokio::test]
async fn job_runs_are_recorded_and_a_school_sees_only_its_own() {
    for (backend, store, _db) in stores().await {
        let s = school(&store, "North", None).await;
        let global = store.start_job("verifier", None, Some("host-1"), chrono::Utc::now()).await.unwrap();
        let mine = store.start_job("area_sync", Some(s.id), None, chrono::Utc::now()).await.unwrap();
        store
            .finish_job(mine, JobStatus::Failed, &serde_json::json!({"synced_devices": 1}), Some("device 3 offline"))
            .await
            .unwrap();
        let all = store
            .list_jobs(&JobFilter { scope: SchoolScope::all(), job: None, status: None, page: Page::default() })
            .await
            .unwrap();
        assert_eq!(all.total, 2, "{backend}");
        let scoped = JobFilter { scope: SchoolScope::school(s.id), job: None, status: None, page: Page::default() };
        let seen = store.list_jobs(&scoped).await.unwrap();
        assert_eq!((seen.total, seen.items[0].id), (1, mine), "{backend}");
        let run = &seen.items[0];
        assert_eq!((run.status, run.error.as_deref()), (JobStatus::Failed, Some("device 3 offline")), "{backend}");
        assert_eq!(run.summary["synced_devices"], 1, "{backend}");
        assert!(run.finished_at.is_some());
        assert!(store.get_job(SchoolScope::school(s.id), global).await.unwrap().is_none(), "{backend}");
    }
}

#[tokio::test]
async fn an_announced_setting_is_heard_by_every_instance_and_a_replacement_needs_the_old_value() {
    use ironclock::store::instances::StoreChange;
    use std::sync::{Arc, Mutex};
    for (backend, store, db) in stores().await {
        let other = store::connect(&db.url, 2).await.expect("a second instance");
        let (here, there) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let (h, t) = (here.clone(), there.clone());
        store.subscribe(Arc::new(move |c: &StoreChange| h.lock().unwrap().push(*c))).await.unwrap();
        let hears_others = other.subscribe(Arc::new(move |c: &StoreChange| t.lock().unwrap().push(*c))).await.unwrap();

        store.put_setting_announced("area_sync.request.7", "v1", StoreChange::AreaSyncRequested).await.unwrap();
        assert_eq!(store.get_setting("area_sync.request.7").await.unwrap().as_deref(), Some("v1"), "{backend}");
        assert!(here.lock().unwrap().contains(&StoreChange::AreaSyncRequested), "{backend}: heard here at commit");
        if hears_others {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while !there.lock().unwrap().contains(&StoreChange::AreaSyncRequested) {
                assert!(std::time::Instant::now() < deadline, "{backend}: the other instance never heard it");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }

        assert!(!store.replace_setting("area_sync.request.7", "stale", "v2").await.unwrap(), "{backend}");
        assert_eq!(store.get_setting("area_sync.request.7").await.unwrap().as_deref(), Some("v1"), "{backend}");
        assert!(store.replace_setting("area_sync.request.7", "v1", "v2").await.unwrap(), "{backend}");
        assert_eq!(store.get_setting("area_sync.request.7").await.unwrap().as_deref(), Some("v2"), "{backend}");
        assert!(store.delete_setting("area_sync.request.7").await.unwrap(), "{backend}");
        assert!(
            !store.replace_setting("area_sync.request.7", "v2", "v3").await.unwrap(),
            "{backend}: not brought back"
        );
        assert_eq!(store.get_setting("area_sync.request.7").await.unwrap(), None, "{backend}");
    }
}
