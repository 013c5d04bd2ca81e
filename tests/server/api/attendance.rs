//! Attendance: punches by date range and student with paging, CSV export, daily first in / last out.

use ironclock::store::admin::{NewStudentInput, SchoolScope};
use ironclock::store::DeviceUpdate;
use reqwest::Method;
use serde_json::json;

use super::{backends, call, column, fixture, spawn_app, Fixture, TestApp};

/// A device of school A with punches for two students over two days (device-local times).
async fn punches(app: &TestApp, fx: &Fixture) -> (i64, i64) {
    let student = |name: &str, pin: &str| NewStudentInput {
        school_id: fx.school_a,
        full_name: name.into(),
        rfid_card_id: None,
        class_id: None,
        section_id: None,
        is_active: true,
        pin: Some(pin.into()),
    };
    let amina = app.ctx.store.add_student(&student("Amina", "11")).await.unwrap().id;
    let brian = app.ctx.store.add_student(&student("Brian", "12")).await.unwrap().id;
    app.handshake("ATT00001").await;
    let id = app.device("ATT00001").await.id.0;
    let approve = DeviceUpdate {
        approval: Some(ironclock::domain::Approval::Approved),
        school_id: Some(Some(fx.school_a)),
        ..Default::default()
    };
    app.ctx.store.change_device(SchoolScope::all(), id, &approve, None).await.unwrap();
    let body = "11\t2026-03-02 07:55:00\t0\t1\t0\t0\t0\n11\t2026-03-02 12:10:00\t1\t1\t0\t0\t0\n11\t2026-03-02 15:30:00\t1\t1\t0\t0\t0\n\
                12\t2026-03-02 08:01:00\t0\t1\t0\t0\t0\n11\t2026-03-03 07:50:00\t0\t1\t0\t0\t0\n99\t2026-03-03 09:00:00\t0\t1\t0\t0\t0\n";
    let reply = app.post("/iclock/cdata?SN=ATT00001&table=ATTLOG&Stamp=1", body).await;
    assert_eq!(reply.text().await.unwrap(), "OK:6");
    (amina, brian)
}

#[tokio::test]
async fn punches_are_queried_by_local_date_range_student_and_page() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let (amina, _) = punches(&app, &fx).await;
        let token = Some(fx.admin_a.as_str());
        let day = call(&app, Method::GET, "/api/v1/attendance?from=2026-03-02&to=2026-03-02", token, None).await;
        assert_eq!(day.body["meta"]["total"], 4, "{}: {day:?}", app.backend);
        let hers = call(
            &app,
            Method::GET,
            &format!("/api/v1/attendance?student_id={amina}&sort=-local_time&per_page=2"),
            token,
            None,
        )
        .await;
        assert_eq!(
            column(&hers, "local_time"),
            vec![json!("2026-03-03 07:50:00"), json!("2026-03-02 15:30:00")],
            "{}",
            app.backend
        );
        assert_eq!(
            (hers.body["meta"]["total"].as_i64(), hers.body["data"][0]["student_name"].as_str()),
            (Some(4), Some("Amina"))
        );
        // 07:55 in Nairobi (UTC+3) is 04:55 UTC: instants are compared in UTC.
        let instant = call(
            &app,
            Method::GET,
            "/api/v1/attendance?from=2026-03-02T04:55:00Z&to=2026-03-02T05:00:00Z",
            token,
            None,
        )
        .await;
        assert_eq!(column(&instant, "local_time"), vec![json!("2026-03-02 07:55:00")], "{}", app.backend);
        let reversed = call(&app, Method::GET, "/api/v1/attendance?from=2026-03-03&to=2026-03-02", token, None).await;
        assert_eq!((reversed.status.as_u16(), reversed.body["fields"][0]["field"].as_str()), (400, Some("to")));
        let class = call(&app, Method::POST, "/api/v1/classes", token, Some(json!({"name": "Grade 5"}))).await;
        let class_id = class.body["data"]["id"].as_i64().unwrap();
        let moved =
            call(&app, Method::PATCH, &format!("/api/v1/students/{amina}"), token, Some(json!({"class_id": class_id})))
                .await;
        assert_eq!(moved.status, 200);
        let by_class = call(&app, Method::GET, &format!("/api/v1/attendance?class_id={class_id}"), token, None).await;
        assert_eq!(by_class.body["meta"]["total"], 4, "{}: Amina's punches only", app.backend);
        let bad_date = call(&app, Method::GET, "/api/v1/attendance?from=yesterday", token, None).await;
        assert_eq!((bad_date.status.as_u16(), bad_date.code()), (400, "invalid_parameter"), "{}", app.backend);
    }
}

#[tokio::test]
async fn the_daily_summary_gives_each_students_first_in_and_last_out() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let (amina, brian) = punches(&app, &fx).await;
        let daily =
            call(&app, Method::GET, "/api/v1/attendance/daily?from=2026-03-02&to=2026-03-03", Some(&fx.admin_a), None)
                .await;
        assert_eq!(daily.status, 200, "{}: {daily:?}", app.backend);
        let rows: Vec<_> = daily.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["date"].clone(),
                    r["student_id"].clone(),
                    r["first_in"].clone(),
                    r["last_out"].clone(),
                    r["punches"].clone(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                (
                    json!("2026-03-02"),
                    json!(amina),
                    json!("2026-03-02 07:55:00"),
                    json!("2026-03-02 15:30:00"),
                    json!(3)
                ),
                (json!("2026-03-02"), json!(brian), json!("2026-03-02 08:01:00"), json!(null), json!(1)),
                (json!("2026-03-03"), json!(amina), json!("2026-03-03 07:50:00"), json!(null), json!(1)),
            ],
            "{}",
            app.backend
        );
    }
}

#[tokio::test]
async fn attendance_exports_as_csv_with_the_same_filters() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let (_, brian) = punches(&app, &fx).await;
        let all = call(&app, Method::GET, "/api/v1/attendance/export", Some(&fx.admin_a), None).await;
        assert_eq!(all.status, 200, "{}", app.backend);
        assert!(all.content_type.starts_with("text/csv"), "{}", all.content_type);
        let lines: Vec<&str> = all.text.lines().collect();
        assert!(lines[0].starts_with("id,local_time,punched_at,pin,student_id,student_name"), "{}", lines[0]);
        assert_eq!(lines.len(), 7, "{}: header + 6 punches", app.backend);
        let his =
            call(&app, Method::GET, &format!("/api/v1/attendance/export?student_id={brian}"), Some(&fx.admin_a), None)
                .await;
        let lines: Vec<&str> = his.text.lines().collect();
        assert_eq!(lines.len(), 2, "{}: {}", app.backend, his.text);
        assert!(
            lines[1].contains(",2026-03-02 08:01:00,2026-03-02T05:01:00+00:00,12,") && lines[1].contains(",Brian,"),
            "{}",
            lines[1]
        );
    }
}
