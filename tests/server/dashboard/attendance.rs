//! The attendance page: today's punches of the admin's school only, the live stream of new
//! punches (server-sent events), the date filter and the CSV export.

use std::time::Duration;

use chrono::Utc;
use ironclock::store::admin::{NewStudentInput, PunchQuery, SchoolScope};
use reqwest::header::COOKIE;

use super::students::device_of;
use super::support::{backends, spawn_app, TestApp};
use super::*;

/// Posts one ATTLOG line for `pin` at the current UTC time (the schools are in UTC).
async fn punch(app: &TestApp, serial: &str, pin: &str) {
    let now = Utc::now().format("%Y-%m-%d %H:%M:%S");
    let resp =
        app.post(&format!("/iclock/cdata?SN={serial}&table=ATTLOG"), format!("{pin}\t{now}\t0\t1\t0\t0\t0\n")).await;
    assert_eq!(resp.status(), 200, "{}", app.backend);
    assert_eq!(resp.text().await.unwrap(), "OK:1", "{}", app.backend);
}

/// Two schools with a device and a student each; returns the students' PINs.
async fn two_schools(app: &TestApp) -> (String, String) {
    let (a, b) = people(app).await;
    device_of(app, "ATTA0001", a).await;
    device_of(app, "ATTB0001", b).await;
    let mut pins = Vec::new();
    // Distinct PINs (each school's automatic PINs start at the same number).
    for (school, name, pin) in [(a, "Asha Rao", "5101"), (b, "Bob Marsh", "5202")] {
        let s = NewStudentInput {
            school_id: school,
            full_name: name.into(),
            rfid_card_id: None,
            class_id: None,
            section_id: None,
            is_active: true,
            pin: Some(pin.into()),
        };
        pins.push(app.ctx.store.add_student(&s).await.unwrap().pin.0);
    }
    (pins[0].clone(), pins[1].clone())
}

#[tokio::test]
async fn the_attendance_page_lists_todays_punches_of_the_callers_school_only() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (pin_a, pin_b) = two_schools(&app).await;
        punch(&app, "ATTA0001", &pin_a).await;
        punch(&app, "ATTA0001", "9191").await;
        punch(&app, "ATTB0001", &pin_b).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let page = dash.get("/attendance").await;
        assert_eq!(page.status, 200, "{}", app.backend);
        assert_eq!(page.body.matches("<tr data-pin=").count(), 2, "{}: {}", app.backend, page.body);
        assert!(page.body.contains(&format!("data-pin=\"{pin_a}\"")) && page.body.contains("Asha Rao"));
        assert!(!page.body.contains(&format!("data-pin=\"{pin_b}\"")) && !page.body.contains("Bob Marsh"));
        assert!(page.body.contains("data-live-count>2<"), "{}", app.backend);
        assert!(page.body.contains("data-stream-url=\"/attendance/stream"), "today's list is live");

        let mut root = Dash::new(&app);
        root.login("root@example.org", PASSWORD).await;
        let all = root.get("/attendance").await;
        let total = app.ctx.store.list_punch_records(&PunchQuery::new(SchoolScope::all())).await.unwrap().total;
        assert_eq!(all.body.matches("<tr data-pin=").count() as i64, total, "{}", app.backend);
        assert_eq!(total, 3);

        // Another day has none of them and is not live; a bad date is said next to the field.
        let past = dash.get("/attendance?from=2020-01-01&until=2020-01-31").await;
        assert_eq!(past.body.matches("<tr data-pin=").count(), 0, "{}", app.backend);
        assert!(past.body.contains("id=\"no-punches\"") && !past.body.contains("data-stream-url"));
        let bad = dash.get("/attendance?from=yesterday").await;
        assert_eq!(bad.status, 400, "{}", app.backend);
        assert!(bad.body.contains("id=\"from-error\""));
    }
}

/// Opens the stream (with `Last-Event-ID` when given) and returns it.
async fn open_stream(app: &TestApp, dash: &Dash, last_event_id: Option<&str>) -> reqwest::Response {
    let url = format!("{}/attendance/stream", app.base);
    let mut req = reqwest::Client::new().get(url).header(COOKIE, dash.cookie_header());
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", app.backend);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    res
}

/// The data of the first `punch` event (within 15 s) and everything read until then.
async fn first_punch(mut res: reqwest::Response) -> (serde_json::Value, String) {
    let mut seen = String::new();
    let data = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(chunk) = res.chunk().await.unwrap() {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if let Some(at) = seen.find("event: punch\n") {
                if let Some(end) = seen[at..].find("\n\n") {
                    return seen[at..at + end].lines().find_map(|l| l.strip_prefix("data: ")).unwrap().to_string();
                }
            }
        }
        panic!("the stream ended: {seen}");
    })
    .await
    .expect("a punch event within 15 s");
    (serde_json::from_str(&data).unwrap(), seen)
}

#[tokio::test]
async fn the_stream_delivers_a_punch_of_the_callers_school_posted_after_it_opened() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (pin_a, pin_b) = two_schools(&app).await;
        punch(&app, "ATTA0001", &pin_a).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let res = open_stream(&app, &dash, None).await;
        // Another school's punch first: it must not be sent; then ours.
        punch(&app, "ATTB0001", &pin_b).await;
        punch(&app, "ATTA0001", "7070").await;
        let (json, seen) = first_punch(res).await;
        assert_eq!(
            json["pin"], "7070",
            "{}: the first event is our new punch, not the old one nor school B's",
            app.backend
        );
        assert_eq!(json["serial_number"], "ATTA0001");
        assert!(json["local_time"].as_str().unwrap().starts_with(&Utc::now().format("%Y-%m-%d").to_string()));
        assert!(!seen.contains(&pin_b), "{}", app.backend);

        // A reconnecting browser resumes after the last id it got: from 0, the oldest punch comes first.
        let (json, _) = first_punch(open_stream(&app, &dash, Some("0")).await).await;
        assert_eq!(json["pin"], pin_a.as_str(), "{}", app.backend);
        assert_eq!(json["student_name"], "Asha Rao");
    }
}

#[tokio::test]
async fn the_csv_export_has_the_apis_columns_and_only_the_callers_punches() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (pin_a, pin_b) = two_schools(&app).await;
        punch(&app, "ATTA0001", &pin_a).await;
        punch(&app, "ATTB0001", &pin_b).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let page = dash.get("/attendance").await;
        let at = page.body.find("id=\"export-csv\"").expect("an export link");
        let href_at = page.body[..at].rfind("href=\"").unwrap() + 6;
        let href = page.body[href_at..].split('"').next().unwrap().replace("&amp;", "&");
        let csv = dash.get(&href).await;
        assert_eq!(csv.status, 200, "{}: {href}", app.backend);
        let mut lines = csv.body.lines();
        assert_eq!(
            lines.next(),
            Some("id,local_time,punched_at,pin,student_id,student_name,device_id,serial_number,status,verify,source,clock_flag")
        );
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 1, "{}: {}", app.backend, csv.body);
        assert!(
            rows[0].contains(&format!(",{pin_a},")) && rows[0].contains("Asha Rao") && rows[0].contains("ATTA0001")
        );
        let none = dash.get("/attendance/export.csv?from=2020-01-01&until=2020-01-02").await;
        assert_eq!(none.body.lines().count(), 1, "{}: only the header", app.backend);
    }
}
