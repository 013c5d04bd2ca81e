//! What an admin does on a school morning, in the browser.

use ironclock::domain::SchoolId;
use ironclock::store::admin::{AdminRole, NewSchool};
use reqwest::Method;

use super::driver::{launch, Browser};
use super::support::api::{call, login as api_login, make_admin, PASSWORD};
use super::support::{backends, spawn_app, TestApp};

/// One app on the most production-like backend available (PostgreSQL when configured).
async fn app() -> TestApp {
    let db = backends().await.pop().expect("a backend");
    spawn_app(db, false).await
}

async fn log_in(b: &Browser, base: &str, email: &str) {
    b.client.goto(&format!("{base}/login")).await.unwrap();
    b.fill("#email", email).await;
    b.fill("#password", PASSWORD).await;
    b.click("#login").await;
    // The login page has a `#main h1` too: wait for the navigation away from it, or an element
    // found on the login page goes stale under the next read.
    b.until(10, "the login to leave /login", || async {
        b.client.current_url().await.map(|u| !u.path().starts_with("/login")).unwrap_or(false)
    })
    .await;
    b.css("#main h1").await;
}

#[tokio::test]
async fn an_admin_logs_in_sees_the_apis_numbers_and_approves_a_pending_device() {
    let Some(b) = launch().await else { return };
    let app = app().await;
    let school = app
        .ctx
        .store
        .add_school(&NewSchool { name: "Hillside Primary".into(), timezone: "UTC".into(), pin_start: None })
        .await
        .unwrap()
        .id;
    make_admin(&app, "root@example.org", AdminRole::SuperAdmin, None).await;
    app.handshake("GATE0001").await;

    b.client.goto(&format!("{}/", app.base)).await.unwrap();
    assert!(
        b.client.current_url().await.unwrap().path().starts_with("/login"),
        "not logged in: sent to the login page"
    );
    b.screenshot("login").await;
    log_in(&b, &app.base, "root@example.org").await;
    assert_eq!(b.text("#main h1").await, "Overview");

    // The numbers on the page are the API's numbers.
    let token = api_login(&app, "root@example.org").await;
    let pending = call(&app, Method::GET, "/api/v1/devices?status=pending", Some(&token), None).await;
    let pending_count = pending.body["data"].as_array().map(|a| a.len()).unwrap_or(0);
    assert_eq!(b.text("#pending-count").await, pending_count.to_string());
    assert_eq!(pending_count, 1);
    assert_eq!(b.text("#punches-today").await, "0");
    b.screenshot("overview-pending").await;

    // Approve the pending gate into the school.
    let device = app.device("GATE0001").await;
    let select = b.css(&format!("#school-{}", device.id.0)).await;
    select.select_by_value(&school.to_string()).await.unwrap();
    b.click("tr[data-pending='GATE0001'] button").await;
    b.css(".flash").await;
    assert!(b.text(".flash").await.contains("GATE0001 approved"));
    assert_eq!(app.device("GATE0001").await.approval, ironclock::domain::Approval::Approved);
    assert!(b.text("#devices").await.contains("GATE0001"));
    assert_eq!(b.text("#pending-count").await, "0");

    // On a phone.
    b.resize(390, 844).await;
    b.client.refresh().await.unwrap();
    b.css("#devices").await;
    b.screenshot("overview-phone").await;
    b.client.clone().close().await.unwrap();
}

async fn school_with_students(app: &TestApp, names: &[&str]) -> SchoolId {
    use ironclock::store::admin::NewStudentInput;
    let school = app
        .ctx
        .store
        .add_school(&NewSchool { name: "Riverside Secondary".into(), timezone: "UTC".into(), pin_start: None })
        .await
        .unwrap()
        .id;
    for (i, name) in names.iter().enumerate() {
        let s = NewStudentInput {
            school_id: school,
            full_name: name.to_string(),
            rfid_card_id: Some(format!("77{i:03}")),
            class_id: None,
            section_id: None,
            is_active: true,
            pin: None,
        };
        app.ctx.store.add_student(&s).await.unwrap();
    }
    school
}

#[tokio::test]
async fn a_full_sync_fills_the_progress_bar_and_a_failed_student_is_retried() {
    use ironclock::sim::push::{Faults, SimPushDevice};
    let Some(b) = launch().await else { return };
    let app = app().await;
    let names = ["Amina Otieno", "Brian Mwangi", "Chen Wei", "Dina Haile", "Emeka Obi", "Fatuma Ali"];
    let school = school_with_students(&app, &names).await;
    make_admin(&app, "office@riverside.example", AdminRole::SchoolAdmin, Some(school)).await;
    let mut gate = SimPushDevice::new(&app.base, "GATE0002", Faults::default());
    gate.handshake().await.unwrap();
    let gate_id = app.approve_into("GATE0002", school).await;

    log_in(&b, &app.base, "office@riverside.example").await;
    b.client.goto(&format!("{}/devices/{gate_id}", app.base)).await.unwrap();
    b.click("#sync-all").await;
    b.css(".flash").await;
    let percent = || async { b.attr("#sync-progress", "data-percent").await.unwrap_or_default() };
    // The device works through its queue while the page watches (bounded: at most 40 polls).
    let worker = tokio::spawn(async move {
        for _ in 0..40 {
            gate.poll_once().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
        gate
    });
    b.until(30, "the progress bar to reach 100 %", || async { percent().await == "100" }).await;
    let text = b.text("#sync-progress [data-progress-text]").await;
    assert!(text.starts_with("100%") && text.contains("6 confirmed"), "{text}");
    b.screenshot("device").await;
    let gate = worker.await.unwrap();
    assert_eq!(gate.firmware.users.len(), 6, "the device holds every student");

    // The sync page agrees with the API.
    b.click("#sync-link").await;
    b.css("#summary-total").await;
    let token = api_login(&app, "office@riverside.example").await;
    let api = call(&app, Method::GET, &format!("/api/v1/devices/{gate_id}/sync-status"), Some(&token), None).await;
    let summary = &api.body["data"]["summary"];
    for (id, key) in [("#summary-total", "total"), ("#summary-synced", "synced"), ("#summary-failed", "failed")] {
        assert_eq!(b.text(id).await, summary[key].to_string(), "{id}");
    }
    assert_eq!(b.text("#summary-synced").await, "6");
    b.screenshot("sync-status").await;

    // A second gate refuses one student (Return=-1): the admin retries it from the sync page.
    app.handshake("GATE0003").await;
    let second = app.approve_into("GATE0003", school).await;
    let device = app.device("GATE0003").await;
    ironclock::sync::full_sync(&app.ctx, &device, "test").await.unwrap();
    let text = app.poll("GATE0003").await;
    let ids: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("C:")?.split(':').next()).collect();
    let acks: Vec<String> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| format!("ID={id}&Return={}&CMD=DATA", if i == 0 { -1 } else { 0 }))
        .collect();
    app.post("/iclock/devicecmd?SN=GATE0003", acks.join("\n")).await;
    b.client.goto(&format!("{}/devices/{second}/sync?status=failed", app.base)).await.unwrap();
    let student = b.attr("#sync-rows tr[data-status='failed']", "data-student").await.expect("data-student");
    b.click(&format!("#retry-{student}")).await;
    b.css(".flash").await;
    b.client.goto(&format!("{}/devices/{second}/sync", app.base)).await.unwrap();
    let status = b.attr(&format!("#sync-rows tr[data-student='{student}']"), "data-status").await;
    assert_eq!(status.as_deref(), Some("pending"), "re-queued");
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn a_csv_with_a_bad_row_is_shown_row_by_row_and_nothing_is_imported() {
    let Some(b) = launch().await else { return };
    let app = app().await;
    let school = school_with_students(&app, &["Amina Otieno", "Brian Mwangi"]).await;
    make_admin(&app, "office@riverside.example", AdminRole::SchoolAdmin, Some(school)).await;
    log_in(&b, &app.base, "office@riverside.example").await;
    b.client.goto(&format!("{}/students", app.base)).await.unwrap();
    b.css("#students").await;
    b.screenshot("students").await;

    // Row 3 has no name; row 4 repeats the card of row 2.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new-pupils.csv");
    std::fs::write(
        &path,
        "full_name,pin,rfid_card_id,class,section,is_active\nGrace Njeri,,880001,,,true\n,,880002,,,true\nHassan Idris,,880001,,,true\n",
    )
    .unwrap();
    b.client.goto(&format!("{}/students/import", app.base)).await.unwrap();
    b.css("#file").await.send_keys(&path.display().to_string()).await.unwrap();
    b.click("#import").await;
    b.css("#import-errors").await;
    let rows = b.client.find_all(fantoccini::Locator::Css("#import-errors tr[data-row]")).await.unwrap();
    let mut listed = Vec::new();
    for r in rows {
        listed.push(r.attr("data-row").await.unwrap().unwrap_or_default());
    }
    assert!(listed.contains(&"3".to_string()), "the nameless row is listed: {listed:?}");
    b.screenshot("students-import-errors").await;
    let filter = ironclock::store::admin::StudentFilter::new(ironclock::store::admin::SchoolScope::school(school));
    assert_eq!(app.ctx.store.list_students(&filter).await.unwrap().total, 2, "nothing was imported");

    // Fixed, the same file goes in.
    std::fs::write(
        &path,
        "full_name,pin,rfid_card_id,class,section,is_active\nGrace Njeri,,880001,,,true\nHassan Idris,,880003,,,true\n",
    )
    .unwrap();
    b.client.goto(&format!("{}/students/import", app.base)).await.unwrap();
    b.css("#file").await.send_keys(&path.display().to_string()).await.unwrap();
    b.click("#import").await;
    b.css(".flash").await;
    assert_eq!(app.ctx.store.list_students(&filter).await.unwrap().total, 4);
    assert!(b.text("#students").await.contains("Hassan Idris"));

    // Attendance: a punch at the gate appears live on the open page.
    let gate = ironclock::sim::push::SimPushDevice::new(&app.base, "GATE0009", Default::default());
    gate.handshake().await.unwrap();
    app.approve_into("GATE0009", school).await;
    b.client.goto(&format!("{}/attendance", app.base)).await.unwrap();
    b.css("#punch-rows").await;
    let before = b.text("#punch-count").await;
    let today = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S");
    let pin = app.ctx.store.list_students(&filter).await.unwrap().items[0].pin.to_string();
    gate.upload("ATTLOG", &format!("{pin}\t{today}\t0\t1\t0\t0\t0\n")).await.unwrap();
    b.until(15, "the punch to stream in", || async { b.text("#punch-count").await != before }).await;
    assert!(b.text("#punch-rows").await.contains(&pin));
    b.screenshot("attendance").await;
    b.client.clone().close().await.unwrap();
}
