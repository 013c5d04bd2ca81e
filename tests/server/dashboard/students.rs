//! The student pages: list, search and paging; add, edit, deactivate and delete through the
//! same service as the API (device commands queued); form errors next to their fields; CSV
//! import (all or nothing); school scoping and CSRF.

use ironclock::domain::SchoolId;
use ironclock::domain::{CommandFilter, DeviceId};
use ironclock::store::admin::{GroupKind, NewGroup, NewStudentInput, SchoolScope, StudentFilter, StudentRecord};

use super::support::{backends, spawn_app, TestApp};
use super::*;

/// Registers `serial` and approves it into `school`; returns its id.
pub async fn device_of(app: &TestApp, serial: &str, school: SchoolId) -> DeviceId {
    app.handshake(serial).await;
    ironclock::domain::DeviceId(app.approve_into(serial, school).await)
}

/// Live students of a school, straight from the store.
async fn roster(app: &TestApp, school: SchoolId) -> Vec<StudentRecord> {
    let mut f = StudentFilter::new(SchoolScope::school(school));
    f.page.limit = 500;
    app.ctx.store.list_students(&f).await.unwrap().items
}

async fn add(app: &TestApp, school: SchoolId, name: &str, card: Option<&str>) -> StudentRecord {
    let s = NewStudentInput {
        school_id: school,
        full_name: name.into(),
        rfid_card_id: card.map(Into::into),
        class_id: None,
        section_id: None,
        is_active: true,
        pin: None,
    };
    app.ctx.store.add_student(&s).await.unwrap()
}

async fn commands(app: &TestApp, device: DeviceId, kind: &str) -> Vec<ironclock::domain::QueuedCommand> {
    app.ctx.queue.list(device, &CommandFilter { kind: Some(kind.into()), ..Default::default() }).await.unwrap()
}

#[tokio::test]
async fn adding_editing_deactivating_and_deleting_a_student_through_the_pages_changes_the_store_and_queues_device_commands(
) {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        let device = device_of(&app, "STUDASH1", a).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;

        let form = dash.get("/students/new").await;
        assert_eq!(form.status, 200, "{}", app.backend);
        let csrf = form.csrf();
        let done = dash
            .post(
                "/students/new",
                &[("csrf", &csrf), ("full_name", "Asha Rao"), ("rfid_card_id", "7788"), ("is_active", "true")],
            )
            .await;
        assert_eq!(done.status, 303, "{}: {}", app.backend, done.body);
        let students = roster(&app, a).await;
        assert_eq!(students.len(), 1, "{}", app.backend);
        let asha = students[0].clone();
        assert_eq!(
            (asha.full_name.as_str(), asha.rfid_card_id.as_deref(), asha.is_active),
            ("Asha Rao", Some("7788"), true)
        );
        let writes = commands(&app, device, "user_update").await;
        assert_eq!(writes.len(), 1, "{}: one USERINFO command for the approved device", app.backend);
        assert!(writes[0].payload.contains(&format!("PIN={}\t", asha.pin)), "{}", writes[0].payload);
        let list = dash.get(done.location.as_deref().unwrap()).await;
        assert!(list.body.contains(&format!("data-pin=\"{}\"", asha.pin)), "{}", list.body);
        assert!(list.body.contains(&format!("added with PIN {}", asha.pin)), "flash names the PIN");

        let edit = dash.get(&format!("/students/{}/edit", asha.id)).await;
        assert_eq!(edit.status, 200);
        assert!(edit.body.contains("value=\"Asha Rao\"") && edit.body.contains("id=\"student-sync\""), "{}", edit.body);
        let saved = dash
            .post(
                &format!("/students/{}/edit", asha.id),
                &[("csrf", &csrf), ("full_name", "Asha R. Rao"), ("rfid_card_id", ""), ("is_active", "true")],
            )
            .await;
        assert_eq!(saved.status, 303, "{}: {}", app.backend, saved.body);
        let now = app.ctx.store.get_student(SchoolScope::all(), asha.id).await.unwrap().unwrap();
        assert_eq!((now.full_name.as_str(), now.rfid_card_id.as_deref()), ("Asha R. Rao", None), "{}", app.backend);
        let writes = commands(&app, device, "user_update").await;
        assert!(writes.iter().any(|c| c.payload.contains("Name=Asha R. Rao\t")), "{}: {writes:?}", app.backend);

        let off = dash.post(&format!("/students/{}/active", asha.id), &[("csrf", &csrf), ("active", "false")]).await;
        assert_eq!(off.status, 303, "{}", app.backend);
        assert!(!app.ctx.store.get_student(SchoolScope::all(), asha.id).await.unwrap().unwrap().is_active);
        assert_eq!(commands(&app, device, "user_delete").await.len(), 1, "{}: removed from the device", app.backend);
        let inactive = dash.get("/students?status=inactive").await;
        assert!(inactive.body.contains(&format!("data-student=\"{}\"", asha.id)), "{}", app.backend);
        assert!(inactive.body.contains("data-status=\"inactive\""));
        let active = dash.get("/students?status=active").await;
        assert!(!active.body.contains(&format!("data-student=\"{}\"", asha.id)), "{}", app.backend);
        let on = dash.post(&format!("/students/{}/active", asha.id), &[("csrf", &csrf), ("active", "true")]).await;
        assert_eq!(on.status, 303);
        assert!(app.ctx.store.get_student(SchoolScope::all(), asha.id).await.unwrap().unwrap().is_active);

        let unconfirmed = dash.post(&format!("/students/{}/delete", asha.id), &[("csrf", &csrf)]).await;
        assert_eq!(unconfirmed.status, 422, "{}", app.backend);
        assert!(unconfirmed.body.contains("id=\"confirm-error\""), "{}", unconfirmed.body);
        assert!(app.ctx.store.get_student(SchoolScope::all(), asha.id).await.unwrap().is_some());
        let gone = dash.post(&format!("/students/{}/delete", asha.id), &[("csrf", &csrf), ("confirm", "yes")]).await;
        assert_eq!(gone.status, 303, "{}: {}", app.backend, gone.body);
        assert!(app.ctx.store.get_student(SchoolScope::all(), asha.id).await.unwrap().is_none(), "{}", app.backend);
        assert_eq!(dash.get(&format!("/students/{}/edit", asha.id)).await.status, 404);
    }
}

#[tokio::test]
async fn a_duplicate_card_is_shown_next_to_the_field_naming_the_other_student_and_the_typed_values_are_kept() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        let first = add(&app, a, "Brian Otieno", Some("5555")).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let csrf = dash.get("/students/new").await.csrf();
        let clash = dash
            .post("/students/new", &[("csrf", &csrf), ("full_name", "Chloe Mwangi"), ("rfid_card_id", "5555")])
            .await;
        assert_eq!(clash.status, 409, "{}: {}", app.backend, clash.body);
        let at = clash.body.find("id=\"rfid_card_id-error\"").expect("message next to the card field");
        assert!(clash.body[at..].contains("Brian Otieno"), "{}: names the other student", app.backend);
        assert!(
            clash.body.contains("value=\"Chloe Mwangi\"") && clash.body.contains("value=\"5555\""),
            "typed values kept"
        );
        assert_eq!(roster(&app, a).await.len(), 1, "{}", app.backend);

        // The same on the edit form, and an empty name is refused before the store is asked.
        let other = add(&app, a, "Dan", None).await;
        let edit = dash
            .post(
                &format!("/students/{}/edit", other.id),
                &[("csrf", &csrf), ("full_name", " "), ("rfid_card_id", "5555")],
            )
            .await;
        assert_eq!(edit.status, 422, "{}", app.backend);
        assert!(edit.body.contains("id=\"full_name-error\""), "{}", edit.body);
        let edit = dash
            .post(
                &format!("/students/{}/edit", other.id),
                &[("csrf", &csrf), ("full_name", "Dan"), ("rfid_card_id", "5555")],
            )
            .await;
        assert_eq!(edit.status, 409, "{}", app.backend);
        assert!(edit.body.contains("id=\"rfid_card_id-error\""));
        let dan = app.ctx.store.get_student(SchoolScope::all(), other.id).await.unwrap().unwrap();
        assert_eq!(dan.rfid_card_id, None, "{}", app.backend);
        assert_eq!(first.rfid_card_id.as_deref(), Some("5555"));
    }
}

#[tokio::test]
async fn another_schools_student_is_a_404_and_its_classes_cannot_be_used() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, b) = people(&app).await;
        let theirs = add(&app, b, "Elif Kaya", None).await;
        let grade = NewGroup { school_id: b, name: "Grade 9".into(), class_id: None };
        let their_class = app.ctx.store.add_group(GroupKind::Class, &grade).await.unwrap().id;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let list = dash.get("/students").await;
        assert!(!list.body.contains("Elif Kaya") && !list.body.contains("Grade 9"), "{}", app.backend);
        assert_eq!(dash.get(&format!("/students/{}/edit", theirs.id)).await.status, 404, "{}", app.backend);
        let csrf = list.csrf();
        let path = format!("/students/{}/edit", theirs.id);
        let changed = dash.post(&path, &[("csrf", &csrf), ("full_name", "Hijacked"), ("is_active", "true")]).await;
        assert_eq!(changed.status, 404, "{}", app.backend);
        let off = dash.post(&format!("/students/{}/active", theirs.id), &[("csrf", &csrf), ("active", "false")]).await;
        assert_eq!(off.status, 404);
        let del = dash.post(&format!("/students/{}/delete", theirs.id), &[("csrf", &csrf), ("confirm", "yes")]).await;
        assert_eq!(del.status, 404);
        let still = app.ctx.store.get_student(SchoolScope::all(), theirs.id).await.unwrap().unwrap();
        assert_eq!((still.full_name.as_str(), still.is_active), ("Elif Kaya", true), "{}", app.backend);

        let class = their_class.to_string();
        let wrong = dash.post("/students/new", &[("csrf", &csrf), ("full_name", "Fay"), ("class_id", &class)]).await;
        assert_eq!(wrong.status, 422, "{}: {}", app.backend, wrong.body);
        assert!(wrong.body.contains("id=\"class_id-error\""), "{}", wrong.body);
        assert!(roster(&app, a).await.is_empty(), "{}", app.backend);
    }
}

#[tokio::test]
async fn the_list_searches_names_pins_and_cards_and_pages_by_fifty() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        let mut all = Vec::new();
        for i in 0..55 {
            all.push(add(&app, a, &format!("Pupil {i:02}"), Some(&format!("C{i:04}"))).await);
        }
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let rows = |body: &str| body.matches("data-student=\"").count();
        let first = dash.get("/students").await;
        assert_eq!(rows(&first.body), 50, "{}", app.backend);
        assert!(first.body.contains("55 students"), "{}", app.backend);
        let next = first.body.find("id=\"next-page\"").expect("a next link");
        let second = dash.get("/students?page=2").await;
        assert_eq!(rows(&second.body), 5, "{}", app.backend);
        assert!(next > 0 && !second.body.contains("id=\"next-page\""));

        let by_pin = dash.get(&format!("/students?q={}", all[7].pin)).await;
        assert!(by_pin.body.contains(&format!("data-student=\"{}\"", all[7].id)), "{}", app.backend);
        let by_card = dash.get("/students?q=C0042").await;
        assert_eq!(rows(&by_card.body), 1, "{}", app.backend);
        assert!(by_card.body.contains(&format!("data-student=\"{}\"", all[42].id)));
        let by_name = dash.get("/students?q=pupil+1").await;
        assert_eq!(rows(&by_name.body), 10, "{}: Pupil 10..19", app.backend);
    }
}

#[tokio::test]
async fn an_import_with_one_bad_row_lists_that_row_and_writes_nothing_and_a_good_one_creates_the_students() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        let page = dash.get("/students/import").await;
        assert!(page.body.contains("href=\"/students/import/example.csv\""), "{}", app.backend);
        let example = dash.get("/students/import/example.csv").await;
        assert!(example.body.starts_with("full_name,pin,rfid_card_id,class,section,is_active\n"));
        let csrf = page.csrf();

        let bad = "full_name,pin,is_active\nGood One,,true\nBad Pin,0x1,true\nGood Two,,yes\n";
        let refused = dash.post_file("/students/import", &[("csrf", &csrf)], ("file", "s.csv", bad.into())).await;
        assert_eq!(refused.status, 422, "{}: {}", app.backend, refused.body);
        assert!(refused.body.contains("id=\"import-errors\""));
        assert_eq!(refused.body.matches("<tr data-row=").count(), 1, "{}", refused.body);
        let at = refused.body.find("data-row=\"3\"").expect("row 3 listed");
        assert!(refused.body[at..].contains("digits"), "{}", &refused.body[at..]);
        assert!(roster(&app, a).await.is_empty(), "{}: nothing written", app.backend);

        let good = "full_name,pin,is_active\nGood One,,true\nGood Two,4242,no\n";
        let dry = dash
            .post_file("/students/import", &[("csrf", &csrf), ("dry_run", "true")], ("file", "s.csv", good.into()))
            .await;
        assert_eq!(dry.status, 200, "{}: {}", app.backend, dry.body);
        assert!(dry.body.contains("id=\"import-result\"") && dry.body.contains("2 students would be created"));
        assert!(roster(&app, a).await.is_empty(), "{}: a dry run writes nothing", app.backend);

        let done = dash.post_file("/students/import", &[("csrf", &csrf)], ("file", "s.csv", good.into())).await;
        assert_eq!(done.status, 303, "{}: {}", app.backend, done.body);
        let flash = dash.get(done.location.as_deref().unwrap()).await;
        assert!(flash.body.contains("2 students created, 0 updated"), "{}", flash.body);
        let mut names: Vec<(String, String, bool)> =
            roster(&app, a).await.into_iter().map(|s| (s.full_name, s.pin.0, s.is_active)).collect();
        names.sort();
        assert_eq!(names[1], ("Good Two".to_string(), "4242".to_string(), false), "{}", app.backend);
        assert_eq!(names[0].0, "Good One");

        // A super admin must say which school.
        let mut root = Dash::new(&app);
        root.login("root@example.org", PASSWORD).await;
        let csrf = root.get("/students/import").await.csrf();
        let which = root.post_file("/students/import", &[("csrf", &csrf)], ("file", "s.csv", good.into())).await;
        assert_eq!(which.status, 422, "{}", app.backend);
        assert!(which.body.contains("Choose the school"), "{}", which.body);
    }
}

#[tokio::test]
async fn student_forms_without_the_csrf_token_are_refused_and_change_nothing() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let (a, _) = people(&app).await;
        let kid = add(&app, a, "Gus", None).await;
        let mut dash = Dash::new(&app);
        dash.login("a@example.org", PASSWORD).await;
        dash.get("/students").await;
        let forged = "forged-token-forged-token-forged-token";
        let id = kid.id;
        for (path, fields) in [
            ("/students/new".to_string(), vec![("csrf", forged), ("full_name", "Intruder")]),
            (format!("/students/{id}/edit"), vec![("csrf", forged), ("full_name", "Renamed")]),
            (format!("/students/{id}/active"), vec![("csrf", forged), ("active", "false")]),
            (format!("/students/{id}/delete"), vec![("csrf", forged), ("confirm", "yes")]),
        ] {
            assert_eq!(dash.post(&path, &fields).await.status, 403, "{}: {path}", app.backend);
        }
        let csv = "full_name\nIntruder\n";
        let import = dash.post_file("/students/import", &[("csrf", forged)], ("file", "s.csv", csv.into())).await;
        assert_eq!(import.status, 403, "{}", app.backend);
        let students = roster(&app, a).await;
        assert_eq!(students.len(), 1, "{}", app.backend);
        assert_eq!((students[0].full_name.as_str(), students[0].is_active), ("Gus", true));
    }
}
