//! The device page and the device's sync-status page: numbers equal to the API's, filters,
//! the live progress JSON moving to 100 % as a simulated device works through a full sync,
//! retry of a failed student, safe commands (reboot only when confirmed), alerts, scoping and
//! CSRF on every form.

use ironclock::domain::SchoolId;
use ironclock::domain::{CommandFilter, CommandState, DeviceId};
use ironclock::sim::push::{Faults, SimPushDevice};
use ironclock::store::admin::{GroupKind, NewGroup, NewStudentInput, SchoolScope};
use reqwest::Method;
use serde_json::Value;

use super::support::{backends, spawn_app, TestApp};
use super::*;

async fn group(app: &TestApp, kind: GroupKind, school: SchoolId, name: &str, class_id: Option<i64>) -> i64 {
    let g = NewGroup { school_id: school, name: name.into(), class_id };
    app.ctx.store.add_group(kind, &g).await.unwrap().id
}

async fn pupil(
    app: &TestApp,
    school: SchoolId,
    name: &str,
    pin: &str,
    class: Option<i64>,
    section: Option<i64>,
) -> i64 {
    let s = NewStudentInput {
        school_id: school,
        full_name: name.into(),
        rfid_card_id: Some(format!("99{pin}")),
        class_id: class,
        section_id: section,
        is_active: true,
        pin: Some(pin.into()),
    };
    let id = app.ctx.store.add_student(&s).await.unwrap().id;
    id
}

/// Polls as the device would (without acknowledging); returns `(command id, command)`.
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

fn pin_of(command: &str) -> Option<&str> {
    command.split(['\t', ' ']).find_map(|f| f.strip_prefix("PIN="))
}

/// The number inside the element with this id (`<span id="x">12</span>`).
fn number(body: &str, id: &str) -> i64 {
    let marker = format!("id=\"{id}\">");
    let at = body.find(&marker).unwrap_or_else(|| panic!("no #{id} in {body}")) + marker.len();
    body[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}

/// Student ids of the sync table's rows, in page order.
fn rows(body: &str) -> Vec<i64> {
    body.split("data-student=\"").skip(1).map(|s| s[..s.find('"').unwrap()].parse().unwrap()).collect()
}

/// `data-status` of the row of this student.
fn row_status(body: &str, student: i64) -> String {
    let marker = format!("data-student=\"{student}\" data-status=\"");
    let at = body.find(&marker).unwrap_or_else(|| panic!("no row of {student}")) + marker.len();
    body[at..body[at..].find('"').unwrap() + at].to_string()
}

async fn commands(app: &TestApp, device: i64, kind: &str) -> Vec<ironclock::domain::QueuedCommand> {
    let filter = CommandFilter { kind: Some(kind.into()), ..Default::default() };
    app.ctx.queue.list(DeviceId(device), &filter).await.unwrap()
}

/// School A with a class (Grade 4, section Blue) and three students synced to a device: the
/// device refused Amina's write (`Return=-1`), acknowledged the others.
struct Synced {
    a: SchoolId,
    b: SchoolId,
    device: i64,
    class: i64,
    section: i64,
    amina: i64,
    brian: i64,
    chen: i64,
}

async fn synced_with_one_failure(app: &TestApp, serial: &str) -> Synced {
    let (a, b) = people(app).await;
    let class = group(app, GroupKind::Class, a, "Grade 4", None).await;
    let section = group(app, GroupKind::Section, a, "Blue", Some(class)).await;
    app.handshake(serial).await;
    let device = app.approve_into(serial, a).await;
    let amina = pupil(app, a, "Amina Otieno", "101", Some(class), Some(section)).await;
    let brian = pupil(app, a, "Brian Kamau", "102", Some(class), None).await;
    let chen = pupil(app, a, "Chen Wei", "103", None, None).await;
    let delivered = drain(app, serial).await;
    assert_eq!(delivered.len(), 3, "{}: {delivered:?}", app.backend);
    let body: Vec<String> = delivered
        .iter()
        .map(|(id, text)| format!("ID={id}&Return={}&CMD=DATA", if pin_of(text) == Some("101") { -1 } else { 0 }))
        .collect();
    let resp = app.post(&format!("/iclock/devicecmd?SN={serial}"), body.join("\n")).await;
    assert_eq!(resp.status(), 200, "{}: ack", app.backend);
    Synced { a, b, device, class, section, amina, brian, chen }
}

#[tokio::test]
async fn the_sync_page_shows_the_apis_summary_and_its_filters_narrow_the_rows() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let s = synced_with_one_failure(&app, "DASHSY01").await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let page = dash.get(&format!("/devices/{}/sync", s.device)).await;
        assert_eq!(page.status, 200, "{}: {}", app.backend, page.body);

        let token = support::api::login(&app, "a@example.org").await;
        let path = format!("/api/v1/devices/{}/sync-status", s.device);
        let api = support::api::call(&app, Method::GET, &path, Some(&token), None).await;
        let summary: &Value = &api.body["data"]["summary"];
        for (id, key) in [
            ("summary-total", "total"),
            ("summary-synced", "synced"),
            ("summary-pending", "pending"),
            ("summary-failed", "failed"),
            ("summary-not-synced", "not_synced"),
        ] {
            assert_eq!(Some(number(&page.body, id)), summary[key].as_i64(), "{}: {id} vs {summary}", app.backend);
        }
        assert_eq!((number(&page.body, "summary-total"), number(&page.body, "summary-failed")), (3, 1));
        let mut all = rows(&page.body);
        all.sort();
        assert_eq!(all, vec![s.amina, s.brian, s.chen], "{}", app.backend);
        assert_eq!(row_status(&page.body, s.amina), "failed");
        assert!(page.body.contains(&format!("id=\"retry-{}\"", s.amina)), "{}: a retry button", app.backend);
        assert!(!page.body.contains(&format!("id=\"retry-{}\"", s.brian)), "{}: only failed rows", app.backend);
        assert!(page.body.contains("Grade 4 - Blue"), "{}: class - section", app.backend);

        let base = format!("/devices/{}/sync", s.device);
        for (query, expected) in [
            ("?status=failed".to_string(), vec![s.amina]),
            (format!("?class_id={}", s.class), vec![s.amina, s.brian]),
            (format!("?section_id={}", s.section), vec![s.amina]),
            ("?search=chen".to_string(), vec![s.chen]),
            (format!("?status=pending&class_id={}&section_id=&search=", s.class), vec![s.brian]),
        ] {
            let filtered = dash.get(&format!("{base}{query}")).await;
            assert_eq!(filtered.status, 200, "{}: {query}", app.backend);
            let mut got = rows(&filtered.body);
            got.sort();
            assert_eq!(got, expected, "{}: {query}", app.backend);
            // The summary is the device's, whatever the filter.
            assert_eq!(number(&filtered.body, "summary-total"), 3, "{}: {query}", app.backend);
        }
        let selected = dash.get(&format!("{base}?class_id={}", s.class)).await;
        assert!(selected.body.contains(&format!("<option value=\"{}\" selected>Grade 4</option>", s.class)));
        assert_eq!(dash.get(&format!("{base}?status=lost")).await.status, 400, "{}", app.backend);
    }
}

#[tokio::test]
async fn a_failed_student_gets_a_retry_button_and_the_retry_queues_it_again() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let s = synced_with_one_failure(&app, "DASHSY02").await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let page = dash.get(&format!("/devices/{}/sync?status=failed", s.device)).await;
        assert!(page.body.contains(&format!("id=\"retry-{}\"", s.amina)), "{}", app.backend);
        let before = commands(&app, s.device, "user_update").await.len();
        let retry = format!("/devices/{}/students/{}/retry", s.device, s.amina);

        let forged = dash.post(&retry, &[("csrf", "forged-token-forged-token-forged-token")]).await;
        assert_eq!(forged.status, 403, "{}", app.backend);
        assert_eq!(commands(&app, s.device, "user_update").await.len(), before, "{}: refused", app.backend);

        let done = dash.post(&retry, &[("csrf", &page.csrf())]).await;
        assert_eq!(done.status, 303, "{}: {}", app.backend, done.body);
        let location = done.location.unwrap();
        assert!(location.starts_with(&format!("/devices/{}/sync?flash=", s.device)), "{location}");
        let writes = commands(&app, s.device, "user_update").await;
        let queued: Vec<_> = writes.iter().filter(|c| c.state == CommandState::Queued).collect();
        assert_eq!(queued.len(), 1, "{}: {writes:?}", app.backend);
        assert_eq!(queued[0].pin.as_deref(), Some("101"));
        let after = dash.get(&location).await;
        assert!(after.body.contains("1 commands queued"), "{}: flash", app.backend);
        assert_eq!(row_status(&after.body, s.amina), "pending", "{}", app.backend);
        assert!(!after.body.contains(&format!("id=\"retry-{}\"", s.amina)), "{}", app.backend);

        // Another school's student cannot be retried on this device.
        let other = pupil(&app, s.b, "Other School", "201", None, None).await;
        let csrf = after.csrf();
        let refused = dash.post(&format!("/devices/{}/students/{other}/retry", s.device), &[("csrf", &csrf)]).await;
        assert_eq!(refused.status, 404, "{}", app.backend);
    }
}

#[tokio::test]
async fn sync_all_queues_the_students_and_the_progress_reaches_100_percent_as_the_device_works() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        // Students exist before the device joins the school: nothing is queued for it yet.
        for (name, pin) in [("Amina Otieno", "101"), ("Brian Kamau", "102"), ("Chen Wei", "103")] {
            pupil(&app, a, name, pin, None, None).await;
        }
        let mut sim = SimPushDevice::new(&app.base, "DASHSY03", Faults::default());
        sim.handshake().await.unwrap();
        let device = app.approve_into("DASHSY03", a).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let overview = dash.get("/").await;
        assert!(overview.body.contains(&format!("href=\"/devices/{device}\"")), "{}: linked", app.backend);
        assert!(overview.body.contains(&format!("href=\"/devices/{device}/sync\"")), "{}: linked", app.backend);

        let page = dash.get(&format!("/devices/{device}")).await;
        assert_eq!(page.status, 200, "{}: {}", app.backend, page.body);
        assert!(page.body.contains("DASHSY03") && page.body.contains("School A"), "{}: identity", app.backend);
        assert!(
            page.body.contains(&format!("id=\"sync-progress\" data-progress-url=\"/devices/{device}/progress\"")),
            "{}",
            app.backend
        );
        assert!(commands(&app, device, "user_update").await.is_empty());

        let done = dash.post(&format!("/devices/{device}/sync-all"), &[("csrf", &page.csrf())]).await;
        assert_eq!(done.status, 303, "{}: {}", app.backend, done.body);
        assert_eq!(commands(&app, device, "user_update").await.len(), 3, "{}", app.backend);
        // A second click before the device polled queues nothing twice.
        let again = dash.post(&format!("/devices/{device}/sync-all"), &[("csrf", &page.csrf())]).await;
        let again = again.location.unwrap();
        assert!(again.contains("nothing%20new%20queued"), "{}: {again}", app.backend);
        assert_eq!(commands(&app, device, "user_update").await.len(), 3, "{}", app.backend);
        let progress: Value =
            serde_json::from_str(&dash.get(&format!("/devices/{device}/progress")).await.body).unwrap();
        assert_eq!((progress["queued"].as_i64(), progress["confirmed"].as_i64()), (Some(3), Some(0)), "{progress}");
        assert_eq!(progress["percent"].as_f64(), Some(0.0), "{}: {progress}", app.backend);
        let page = dash.get(done.location.as_deref().unwrap()).await;
        assert!(page.body.contains("3 commands queued"), "{}: flash", app.backend);
        assert!(page.body.contains("<progress max=\"100\" value=\"0\""), "{}: server-rendered bar", app.backend);

        sim.poll_until_idle(20).await.unwrap();
        let progress: Value =
            serde_json::from_str(&dash.get(&format!("/devices/{device}/progress")).await.body).unwrap();
        assert_eq!(progress["percent"].as_f64(), Some(100.0), "{}: {progress}", app.backend);
        assert_eq!(
            (progress["queued"].as_i64(), progress["delivered"].as_i64(), progress["confirmed"].as_i64()),
            (Some(0), Some(0), Some(3)),
            "{}",
            app.backend
        );
        assert!(progress.get("estimated_finish").is_some(), "{progress}");
        let page = dash.get(&format!("/devices/{device}")).await;
        assert!(page.body.contains("<progress max=\"100\" value=\"100\""), "{}", app.backend);
        assert!(page.body.contains("data-kind=\"user_update\""), "{}: recent commands", app.backend);
    }
}

#[tokio::test]
async fn info_fills_the_counters_and_reboot_needs_its_confirmation_box() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        let mut sim = SimPushDevice::new(&app.base, "DASHSY04", Faults::default());
        sim.handshake().await.unwrap();
        let device = app.approve_into("DASHSY04", a).await;
        pupil(&app, a, "Amina Otieno", "101", None, None).await;
        pupil(&app, a, "Brian Kamau", "102", None, None).await;
        sim.poll_until_idle(20).await.unwrap();
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let page = dash.get(&format!("/devices/{device}")).await;
        assert!(page.body.contains("<td class=\"device-value\">not reported</td>"), "{}", app.backend);
        let csrf = page.csrf();
        let command = format!("/devices/{device}/command");

        let info = dash.post(&command, &[("csrf", &csrf), ("kind", "info")]).await;
        assert_eq!(info.status, 303, "{}: {}", app.backend, info.body);
        assert_eq!(commands(&app, device, "info").await.len(), 1, "{}", app.backend);
        sim.poll_until_idle(20).await.unwrap();
        let page = dash.get(&format!("/devices/{device}")).await;
        assert!(
            page.body.contains("<tr data-counter=\"UserCount\"><td>Users</td><td class=\"device-value\">2</td>"),
            "{}: {}",
            app.backend,
            page.body
        );
        assert!(page.body.contains("2 confirmed of 2 students"), "{}", app.backend);

        let unconfirmed = dash.post(&command, &[("csrf", &csrf), ("kind", "reboot")]).await;
        assert_eq!(unconfirmed.status, 422, "{}", app.backend);
        assert!(unconfirmed.body.contains("id=\"command-error\""), "{}", app.backend);
        let wiping = dash.post(&command, &[("csrf", &csrf), ("kind", "clear_data")]).await;
        assert_eq!(wiping.status, 422, "{}: not a safe command", app.backend);
        assert!(
            commands(&app, device, "reboot").await.is_empty() && commands(&app, device, "clear_data").await.is_empty()
        );

        let reboot = dash.post(&command, &[("csrf", &csrf), ("kind", "reboot"), ("confirm_reboot", "yes")]).await;
        assert_eq!(reboot.status, 303, "{}: {}", app.backend, reboot.body);
        assert_eq!(commands(&app, device, "reboot").await.len(), 1, "{}", app.backend);
        let filter = ironclock::store::admin::AuditFilter {
            action: Some("device.command.reboot".into()),
            actor_id: None,
            school_id: Some(a),
            from: None,
            to: None,
            page: ironclock::store::admin::Page { limit: 10, offset: 0 },
        };
        assert_eq!(app.ctx.store.list_audit(&filter).await.unwrap().total, 1, "{}: audited", app.backend);

        let verify = dash.post(&format!("/devices/{device}/verify"), &[("csrf", &csrf)]).await;
        assert_eq!(verify.status, 303, "{}: {}", app.backend, verify.body);
        let shown = dash.get(verify.location.as_deref().unwrap()).await;
        assert!(shown.body.contains("Verifier: "), "{}: findings in the flash", app.backend);
    }
}

#[tokio::test]
async fn the_device_page_lists_what_the_device_refused_and_its_reset_button_forgets_it() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        app.handshake("DASHCAP1").await;
        let device = app.approve_into("DASHCAP1", a).await;
        let known = app.device("DASHCAP1").await;
        let query = ironclock::push::command::Command::UserQuery { pin: None };
        let id = app.ctx.queue.enqueue(&known, query, Default::default()).await.unwrap();
        app.poll("DASHCAP1").await;
        app.post("/iclock/devicecmd?SN=DASHCAP1", format!("ID={id}&Return=-1002&CMD=DATA")).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let page = dash.get(&format!("/devices/{device}")).await;
        assert!(
            page.body.contains("<tr><td>DATA QUERY USERINFO</td><td>-1002</td></tr>"),
            "{}: {}",
            app.backend,
            page.body
        );
        assert!(page.body.contains("id=\"reset-capabilities\""), "{}", app.backend);
        let reset = format!("/devices/{device}/capabilities/reset");
        let forged = dash.post(&reset, &[("csrf", "forged-token-forged-token-forged-token")]).await;
        assert_ne!(forged.status, 303, "{}: the form needs its CSRF token", app.backend);
        let done = dash.post(&reset, &[("csrf", &page.csrf())]).await;
        assert_eq!(done.status, 303, "{}: {}", app.backend, done.body);
        assert!(app.ctx.store.capabilities(DeviceId(device)).await.unwrap().is_empty(), "{}", app.backend);
        let shown = dash.get(done.location.as_deref().unwrap()).await;
        assert!(shown.body.contains("id=\"no-refused\""), "{}", app.backend);
        let again = ironclock::push::command::Command::UserQuery { pin: None };
        assert!(app.ctx.queue.enqueue(&known, again, Default::default()).await.is_ok(), "{}", app.backend);
        let filter = ironclock::store::admin::AuditFilter {
            action: Some("device.capabilities_reset".into()),
            actor_id: None,
            school_id: Some(a),
            from: None,
            to: None,
            page: ironclock::store::admin::Page { limit: 10, offset: 0 },
        };
        assert_eq!(app.ctx.store.list_audit(&filter).await.unwrap().total, 1, "{}: audited", app.backend);
    }
}

#[tokio::test]
async fn another_schools_device_is_404_everywhere_and_every_form_needs_the_csrf_token() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let s = synced_with_one_failure(&app, "DASHSY05").await;
        let alert = app
            .ctx
            .store
            .create_alert(s.a, s.device, "delete_cap", "3 deletes held back", &serde_json::json!({"deletes": 3}))
            .await
            .unwrap();
        let device = s.device;
        let posts = [
            (format!("/devices/{device}/sync-all"), vec![]),
            (format!("/devices/{device}/verify"), vec![]),
            (format!("/devices/{device}/command"), vec![("kind", "info")]),
            (format!("/devices/{device}/students/{}/retry", s.amina), vec![]),
            (format!("/sync/alerts/{alert}/confirm"), vec![]),
            (format!("/sync/alerts/{alert}/dismiss"), vec![]),
        ];
        let queued = app.ctx.queue.list(DeviceId(device), &CommandFilter::default()).await.unwrap().len();

        let mut other = Dash::new(&app);
        other.login("b@example.org", PASSWORD).await;
        for path in
            [format!("/devices/{device}"), format!("/devices/{device}/sync"), format!("/devices/{device}/progress")]
        {
            assert_eq!(other.get(&path).await.status, 404, "{}: {path}", app.backend);
        }
        let csrf = other.get("/").await.csrf();
        for (path, fields) in &posts {
            let mut form = vec![("csrf", csrf.as_str())];
            form.extend(fields.iter().copied());
            assert_eq!(other.post(path, &form).await.status, 404, "{}: {path}", app.backend);
        }

        let mut mine = Dash::new(&app);
        mine.login("a@example.org", PASSWORD).await;
        let page = mine.get(&format!("/devices/{device}/sync")).await;
        assert!(page.body.contains(&format!("id=\"confirm-alert-{alert}\"")), "{}: the open alert", app.backend);
        for (path, fields) in &posts {
            let mut form = vec![("csrf", "forged-token-forged-token-forged-token")];
            form.extend(fields.iter().copied());
            assert_eq!(mine.post(path, &form).await.status, 403, "{}: {path}", app.backend);
            let mut no_field: Vec<(&str, &str)> = Vec::new();
            no_field.extend(fields.iter().copied());
            no_field.push(("csrf", ""));
            assert_eq!(mine.post(path, &no_field).await.status, 403, "{}: {path} without a token", app.backend);
        }
        let now = app.ctx.queue.list(DeviceId(device), &CommandFilter::default()).await.unwrap().len();
        assert_eq!(now, queued, "{}: nothing was queued by refused forms", app.backend);
        assert!(app.ctx.store.get_alert(alert).await.unwrap().unwrap().resolved_at.is_none());

        // The super admin sees it; the school admin dismisses the alert once.
        let mut root = Dash::new(&app);
        root.login("root@example.org", PASSWORD).await;
        assert_eq!(root.get(&format!("/devices/{device}")).await.status, 200, "{}", app.backend);
        let csrf = page.csrf();
        let dismissed = mine.post(&format!("/sync/alerts/{alert}/dismiss"), &[("csrf", &csrf)]).await;
        assert_eq!(dismissed.status, 303, "{}: {}", app.backend, dismissed.body);
        let stored = app.ctx.store.get_alert(alert).await.unwrap().unwrap();
        assert_eq!(stored.resolution.as_deref(), Some("dismissed"), "{}", app.backend);
        let again = mine.post(&format!("/sync/alerts/{alert}/confirm"), &[("csrf", &csrf)]).await;
        assert!(again.location.unwrap().contains("already%20resolved"), "{}", app.backend);
        let page = mine.get(&format!("/devices/{device}/sync")).await;
        assert!(!page.body.contains(&format!("data-alert=\"{alert}\"")), "{}: resolved alerts go", app.backend);
    }
}

#[tokio::test]
async fn in_quiet_hours_the_page_says_when_a_full_sync_will_be_delivered() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        // Two windows that cover the whole day: it is always quiet.
        let patch = ironclock::store::admin::SchoolPatch {
            quiet_hours: Some("00:00-12:00,12:00-00:00".into()),
            ..Default::default()
        };
        app.ctx.store.update_school(SchoolScope::all(), a, &patch).await.unwrap();
        pupil(&app, a, "Amina Otieno", "101", None, None).await;
        app.handshake("DASHSY06").await;
        let device = app.approve_into("DASHSY06", a).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let page = dash.get(&format!("/devices/{device}")).await;
        assert!(page.body.contains("Quiet hours: 00:00-12:00,12:00-00:00 (UTC)"), "{}: {}", app.backend, page.body);
        assert!(page.body.contains("Quiet now: a full sync queued now is delivered from "), "{}", app.backend);

        let done = dash.post(&format!("/devices/{device}/sync-all"), &[("csrf", &page.csrf())]).await;
        let location = done.location.unwrap();
        assert!(location.contains("quiet%20hours%3A%20delivery%20starts%20at"), "{}: {location}", app.backend);
        assert_eq!(commands(&app, device, "user_update").await.len(), 1, "{}: queued, held back", app.backend);
        assert_eq!(app.poll("DASHSY06").await.trim(), "OK", "{}: not delivered in quiet hours", app.backend);

        let verify = dash.post(&format!("/devices/{device}/verify"), &[("csrf", &page.csrf())]).await;
        let shown = dash.get(verify.location.as_deref().unwrap()).await;
        assert!(shown.body.contains("the school is in quiet hours"), "{}: {}", app.backend, shown.body);
    }
}

#[tokio::test]
async fn the_devices_own_error_log_is_shown_on_its_page() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        app.handshake("ERRLOG01").await;
        let id = app.approve_into("ERRLOG01", a).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        assert!(dash.get(&format!("/devices/{id}")).await.body.contains("id=\"no-device-errors\""), "{}", app.backend);
        let body =
            "ERRORLOG ErrCode=D01E0001\tErrMsg=template extraction failed\tDataOrigin=cmd\tCmdId=42\tAdditional=\n";
        let resp = app.post("/iclock/cdata?SN=ERRLOG01&table=ERRORLOG", body).await;
        assert_eq!(resp.status(), 200, "{}", app.backend);
        let page = dash.get(&format!("/devices/{id}")).await;
        assert!(page.body.contains("id=\"device-errors\""), "{}: {}", app.backend, page.body);
        assert!(page.body.contains("D01E0001") && page.body.contains("template extraction failed (command 42)"));
    }
}

#[tokio::test]
async fn the_device_page_shows_the_pin_and_creates_a_secret_path_shown_once() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        app.handshake("SECRET01").await;
        let id = app.approve_into("SECRET01", a).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let page = dash.get(&format!("/devices/{id}")).await;
        assert!(
            page.body.contains("id=\"device-pinned\">127.0.0.1 · school policy: off"),
            "{}: {}",
            app.backend,
            page.body
        );
        let made = dash.post(&format!("/devices/{id}/path-token"), &[("csrf", &page.csrf())]).await;
        assert_eq!(made.status, 200, "{}: {}", app.backend, made.body);
        let at = made.body.find("<code id=\"path-token\">/").expect("the token on the reply page") + 23;
        let token = made.body[at..at + 32].to_string();
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()), "{}: {token}", app.backend);
        assert_eq!(app.get(&format!("/{token}/iclock/getrequest?SN=SECRET01")).await.status(), 200);
        assert_eq!(app.get("/iclock/getrequest?SN=SECRET01").await.status(), 403, "{}", app.backend);
        let again = dash.get(&format!("/devices/{id}")).await;
        assert!(again.body.contains("id=\"device-secret-path\">set"), "{}", app.backend);
        assert!(!again.body.contains(&token), "{}: shown once", app.backend);
        // Without the form's token, nothing changes.
        let forged = dash.post(&format!("/devices/{id}/path-token"), &[("csrf", "nope")]).await;
        assert_ne!(forged.status, 200, "{}", app.backend);
        assert_eq!(app.get(&format!("/{token}/iclock/getrequest?SN=SECRET01")).await.status(), 200);
    }
}
