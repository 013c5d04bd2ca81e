//! Tenancy, endpoint by endpoint: a school admin can neither read nor change another school's
//! data, and is answered 404 (not 403) so that existence does not leak.
//!
//! The suite is driven by the mounted route table (`mounted_routes()`): every `Admin` route
//! must have cases here, so a new route without one fails this test. Each cross-school case
//! has an own-school control (the same request on the caller's own rows succeeds), so a route
//! that simply always failed would not pass. `SuperAdmin` routes must answer a school admin 403.

use ironclock::domain::SchoolId;
use ironclock::http::api::{mounted_routes, Access, ApiRoute};
use ironclock::store::admin::{GroupKind, JobStatus, NewGroup, NewStudentInput, SchoolScope};
use ironclock::store::DeviceUpdate;
use reqwest::Method;
use serde_json::{json, Value};

use super::{backends, call, call_raw, fixture, method_of, spawn_app, Reply, TestApp};

/// Rows of one school the suite reads and attacks.
#[derive(Debug, Clone, Copy)]
struct Rows {
    school: SchoolId,
    area: i64,
    class: i64,
    section: i64,
    student: i64,
    device: i64,
    job: i64,
    /// Spares for the own-school delete controls.
    spare_area: i64,
    spare_class: i64,
    spare_section: i64,
    spare_student: i64,
    spare_device: i64,
    /// A queued command of `device`.
    command: i64,
    /// Two open sync alerts of `device` (one to confirm, one to dismiss).
    alert: i64,
    spare_alert: i64,
}

async fn device(app: &TestApp, serial: &str, school: SchoolId, area: Option<i64>) -> i64 {
    app.handshake(serial).await;
    let id = app.device(serial).await.id.0;
    let update = DeviceUpdate {
        approval: Some(ironclock::domain::Approval::Approved),
        school_id: Some(Some(school)),
        area_id: Some(area),
        ..Default::default()
    };
    app.ctx.store.change_device(SchoolScope::all(), id, &update, None).await.unwrap();
    id
}

async fn rows(app: &TestApp, school: SchoolId, tag: &str) -> Rows {
    let store = &app.ctx.store;
    let group = |kind, name: &str, class_id| {
        let g = NewGroup { school_id: school, name: format!("{name} {tag}"), class_id };
        async move { store.add_group(kind, &g).await.unwrap().id }
    };
    let area = group(GroupKind::Area, "Gate", None).await;
    let spare_area = group(GroupKind::Area, "Spare gate", None).await;
    let class = group(GroupKind::Class, "Grade 5", None).await;
    let spare_class = group(GroupKind::Class, "Grade 9", None).await;
    let section = group(GroupKind::Section, "A", Some(class)).await;
    let spare_section = group(GroupKind::Section, "Z", Some(class)).await;
    let student = |name: &str, pin: &str| NewStudentInput {
        school_id: school,
        full_name: format!("{name} {tag}"),
        rfid_card_id: Some(format!("{pin}77")),
        class_id: Some(class),
        section_id: Some(section),
        is_active: true,
        pin: Some(pin.into()),
    };
    let pin = if tag == "A" { "1111" } else { "2222" };
    let student_row = store.add_student(&student("Pupil", pin)).await.unwrap();
    let spare_student = store.add_student(&student("Spare", &format!("{pin}9"))).await.unwrap().id;
    let serial = format!("TEN{tag}0001");
    let device_id = device(app, &serial, school, Some(area)).await;
    let spare_device = device(app, &format!("TEN{tag}0002"), school, None).await;
    let body = format!("{pin}\t2026-03-02 07:55:00\t0\t1\t0\t0\t0\n{pin}\t2026-03-02 15:30:00\t1\t1\t0\t0\t0\n");
    let upload = app.post(&format!("/iclock/cdata?SN={serial}&table=ATTLOG&Stamp=1"), body).await;
    assert_eq!(upload.status(), 200, "{}: upload for {tag}", app.backend);
    let job = store.start_job("area_sync", Some(school), None, chrono::Utc::now()).await.unwrap();
    let queued_for = app.ctx.store.get_device(ironclock::domain::DeviceId(device_id)).await.unwrap().unwrap();
    let command = app
        .ctx
        .queue
        .enqueue(&queued_for, ironclock::push::command::Command::Info, ironclock::queue::EnqueueOptions::default())
        .await
        .unwrap();
    store.finish_job(job, JobStatus::Succeeded, &json!({"synced_devices": 1}), None).await.unwrap();
    let alert = |kind: &'static str| async move {
        store.create_alert(school, device_id, kind, &format!("{kind} of {tag}"), &json!({})).await.unwrap()
    };
    let (alert, spare_alert) = (alert("delete_cap").await, alert("delete_cap").await);
    Rows {
        school,
        area,
        class,
        section,
        student: student_row.id,
        device: device_id,
        job,
        spare_area,
        spare_class,
        spare_section,
        spare_student,
        spare_device,
        command,
        alert,
        spare_alert,
    }
}

/// What a case expects of the cross-school request.
#[derive(Debug, Clone)]
enum Expect {
    /// 404 with the envelope.
    NotFound,
    /// 422 (a reference to another school's row is refused like a missing one).
    Invalid,
    /// 200 and every listed item's `field` equals `value`; at least one item (not vacuous).
    OnlyOwn { field: &'static str, value: Value },
    /// 200 and an empty list.
    Empty,
    /// 200 and the body does not contain any of these strings.
    Without(Vec<String>),
}

#[derive(Debug, Clone)]
enum Body {
    None,
    Json(Value),
    Csv(String),
}

#[derive(Debug, Clone)]
struct Request {
    method: Method,
    path: String,
    body: Body,
}

/// A cross-school request, what it must get, and the same request on own rows (must be 2xx).
#[derive(Debug, Clone)]
struct Case {
    attack: Request,
    expect: Expect,
    control: Option<Request>,
}

fn req(method: &Method, path: String, body: Body) -> Request {
    Request { method: method.clone(), path, body }
}

/// `/api/v1/devices/{id}/approve` with `{id}` replaced.
fn with_id(route: &ApiRoute, id: i64) -> String {
    route.path.replace("{id}", &id.to_string())
}

fn cases(route: &ApiRoute, own: &Rows, other: &Rows, pending: i64, global_job: i64) -> Option<Vec<Case>> {
    let method = method_of(route);
    let m = &method;
    let p = route.path.as_str();
    let json_ = Body::Json;
    let nf = |id_other: i64, id_own: Option<i64>, body: Body| Case {
        attack: req(m, with_id(route, id_other), body.clone()),
        expect: Expect::NotFound,
        control: id_own.map(|id| req(m, with_id(route, id), body)),
    };
    let list = |field: &'static str, value: i64, other_school_query: bool| {
        let mut out = vec![Case {
            attack: req(m, p.to_string(), Body::None),
            expect: Expect::OnlyOwn { field, value: json!(value) },
            control: None,
        }];
        if other_school_query {
            out.push(Case {
                attack: req(m, format!("{p}?school_id={}", other.school.0), Body::None),
                expect: Expect::NotFound,
                control: Some(req(m, format!("{p}?school_id={}", own.school.0), Body::None)),
            });
        }
        out
    };
    let create_in_other = |body: Value, own_body: Value| Case {
        attack: req(m, p.to_string(), Body::Json(body)),
        expect: Expect::NotFound,
        control: Some(req(m, p.to_string(), Body::Json(own_body))),
    };
    let out = match p {
        "/api/v1/auth/me" => vec![Case {
            attack: req(m, p.into(), Body::None),
            expect: Expect::Without(vec![format!("\"school_id\":{}", other.school.0)]),
            control: None,
        }],
        "/api/v1/schools" => list("id", own.school.0, false),
        "/api/v1/schools/{id}" if *m == Method::GET => vec![nf(other.school.0, Some(own.school.0), Body::None)],
        "/api/v1/schools/{id}" if *m == Method::PATCH => {
            vec![nf(other.school.0, Some(own.school.0), json_(json!({"name": "Renamed by a neighbour"})))]
        }
        "/api/v1/areas" | "/api/v1/classes" if *m == Method::GET => list("school_id", own.school.0, true),
        "/api/v1/sections" if *m == Method::GET => {
            let mut out = list("school_id", own.school.0, true);
            out.push(Case {
                attack: req(m, format!("{p}?class_id={}", other.class), Body::None),
                expect: Expect::Empty,
                control: Some(req(m, format!("{p}?class_id={}", own.class), Body::None)),
            });
            out
        }
        "/api/v1/areas" | "/api/v1/classes" => {
            vec![create_in_other(json!({"school_id": other.school.0, "name": "Intruder"}), json!({"name": "Own new"}))]
        }
        "/api/v1/sections" => vec![
            create_in_other(json!({"school_id": other.school.0, "name": "Intruder"}), json!({"name": "Own new"})),
            Case {
                attack: req(m, p.into(), json_(json!({"name": "Borrowed class", "class_id": other.class}))),
                expect: Expect::Invalid,
                control: Some(req(m, p.into(), json_(json!({"name": "Own class", "class_id": own.class})))),
            },
        ],
        "/api/v1/areas/{id}/sync" => vec![nf(other.area, Some(own.area), Body::None)],
        "/api/v1/devices/sync" => vec![Case {
            attack: req(m, p.into(), json_(json!({"ips": ["10.0.0.9", "10.0.0.10"]}))),
            expect: Expect::Invalid,
            control: None,
        }],
        "/api/v1/areas/{id}" | "/api/v1/classes/{id}" | "/api/v1/sections/{id}" => {
            let (theirs, mine, spare) = match p.split('/').nth(3) {
                Some("areas") => (other.area, own.area, own.spare_area),
                Some("classes") => (other.class, own.class, own.spare_class),
                _ => (other.section, own.section, own.spare_section),
            };
            match *m {
                Method::GET => vec![nf(theirs, Some(mine), Body::None)],
                Method::PATCH => vec![nf(theirs, Some(mine), json_(json!({"name": "Renamed by a neighbour"})))],
                _ => vec![nf(theirs, Some(spare), Body::None)],
            }
        }
        "/api/v1/students" if *m == Method::GET => {
            let mut out = list("school_id", own.school.0, true);
            out.push(Case {
                attack: req(m, format!("{p}?class_id={}", other.class), Body::None),
                expect: Expect::Empty,
                control: None,
            });
            out
        }
        "/api/v1/students" => vec![
            create_in_other(
                json!({"school_id": other.school.0, "full_name": "Intruder"}),
                json!({"full_name": "Own new"}),
            ),
            Case {
                attack: req(m, p.into(), json_(json!({"full_name": "Borrowed class", "class_id": other.class}))),
                expect: Expect::Invalid,
                control: Some(req(m, p.into(), json_(json!({"full_name": "Own class", "class_id": own.class})))),
            },
        ],
        "/api/v1/students/export" => vec![
            Case {
                attack: req(m, p.into(), Body::None),
                expect: Expect::Without(vec!["Pupil B".into(), "2222".into()]),
                control: None,
            },
            Case {
                attack: req(m, format!("{p}?school_id={}", other.school.0), Body::None),
                expect: Expect::NotFound,
                control: Some(req(m, format!("{p}?school_id={}", own.school.0), Body::None)),
            },
        ],
        "/api/v1/students/import" => vec![Case {
            attack: req(m, format!("{p}?school_id={}", other.school.0), Body::Csv("full_name\nIntruder\n".into())),
            expect: Expect::NotFound,
            control: Some(req(
                m,
                format!("{p}?school_id={}", own.school.0),
                Body::Csv("full_name\nOwn import\n".into()),
            )),
        }],
        "/api/v1/students/{id}/biometrics" => vec![nf(other.student, Some(own.student), Body::None)],
        "/api/v1/students/{id}" => match *m {
            Method::GET => vec![nf(other.student, Some(own.student), Body::None)],
            Method::PATCH => {
                vec![nf(other.student, Some(own.student), json_(json!({"full_name": "Renamed by a neighbour"})))]
            }
            _ => vec![nf(other.student, Some(own.spare_student), Body::None)],
        },
        "/api/v1/devices" if *m == Method::GET => {
            let mut out = list("school_id", own.school.0, true);
            out.push(Case {
                attack: req(m, format!("{p}?status=pending"), Body::None),
                expect: Expect::Empty,
                control: None,
            });
            out
        }
        "/api/v1/devices" => vec![create_in_other(
            json!({"school_id": other.school.0, "mode": "pull", "host": "10.0.0.9", "port": 4370}),
            json!({"mode": "pull", "host": "10.0.0.8", "port": 4370}),
        )],
        "/api/v1/devices/{id}" | "/api/v1/device/{id}" => match *m {
            Method::GET => vec![nf(other.device, Some(own.device), Body::None), nf(pending, None, Body::None)],
            Method::PATCH => vec![
                nf(other.device, Some(own.device), json_(json!({"name": "Renamed by a neighbour"}))),
                nf(pending, None, json_(json!({"school_id": own.school.0}))),
                Case {
                    attack: req(m, with_id(route, own.device), json_(json!({"school_id": other.school.0}))),
                    expect: Expect::NotFound,
                    control: None,
                },
            ],
            // The spare is deleted once, through the plural route.
            _ if p.starts_with("/api/v1/devices/") => {
                vec![nf(other.device, Some(own.spare_device), Body::None), nf(pending, None, Body::None)]
            }
            _ => vec![nf(other.device, None, Body::None), nf(pending, None, Body::None)],
        },
        "/api/v1/devices/{id}/approve" | "/api/v1/device/{id}/approve" => vec![
            nf(other.device, Some(own.device), json_(json!({}))),
            nf(pending, None, json_(json!({"school_id": own.school.0}))),
            Case {
                attack: req(m, with_id(route, own.device), json_(json!({"school_id": other.school.0}))),
                expect: Expect::NotFound,
                control: None,
            },
            Case {
                attack: req(m, with_id(route, own.device), json_(json!({"area_id": other.area}))),
                expect: Expect::Invalid,
                control: Some(req(m, with_id(route, own.device), json_(json!({"area_id": own.area})))),
            },
        ],
        "/api/v1/devices/{id}/path-token"
        | "/api/v1/device/{id}/path-token"
        | "/api/v1/devices/{id}/address-alerts"
        | "/api/v1/device/{id}/address-alerts"
        | "/api/v1/devices/{id}/capabilities"
        | "/api/v1/device/{id}/capabilities" => {
            vec![nf(other.device, Some(own.device), Body::None), nf(pending, None, Body::None)]
        }
        "/api/v1/devices/{id}/commands" | "/api/v1/device/{id}/commands" => match method.as_str() {
            "GET" => vec![nf(other.device, Some(own.device), Body::None), nf(pending, None, Body::None)],
            _ => vec![
                nf(other.device, Some(own.device), json_(json!({"kind": "info"}))),
                nf(pending, None, json_(json!({"kind": "info"}))),
            ],
        },
        "/api/v1/devices/{id}/commands/{command_id}/cancel"
        | "/api/v1/device/{id}/commands/{command_id}/cancel"
        | "/api/v1/devices/{id}/commands/{command_id}/retry"
        | "/api/v1/device/{id}/commands/{command_id}/retry" => {
            let at = |device: i64, command: i64| with_id(route, device).replace("{command_id}", &command.to_string());
            vec![
                // Another school's device, with its own command id.
                Case {
                    attack: req(m, at(other.device, other.command), Body::None),
                    expect: Expect::NotFound,
                    control: None,
                },
                // Own device, another school's command id: commands are scoped to their device.
                Case {
                    attack: req(m, at(own.device, other.command), Body::None),
                    expect: Expect::NotFound,
                    control: None,
                },
            ]
        }
        "/api/v1/devices/{id}/sync-students"
        | "/api/v1/device/{id}/sync-students"
        | "/api/v1/devices/{id}/sync-status"
        | "/api/v1/device/{id}/sync-status" => {
            vec![nf(other.device, Some(own.device), Body::None), nf(pending, None, Body::None)]
        }
        // Pull device actions: another school's device (or a pending one) is missing. The fixture's
        // own device is a push device, which these routes refuse (409; area-sync: 422, it is in no
        // area), so there is no control.
        "/api/v1/devices/{id}/test-connection"
        | "/api/v1/device/{id}/test-connection"
        | "/api/v1/devices/{id}/sync-attendance"
        | "/api/v1/device/{id}/sync-attendance"
        | "/api/v1/devices/{id}/area-sync"
        | "/api/v1/device/{id}/area-sync" => {
            vec![nf(other.device, None, Body::None), nf(pending, None, Body::None)]
        }
        "/api/v1/attendance/sync-all" => vec![Case {
            attack: req(m, p.into(), Body::None),
            expect: Expect::Without(vec![format!("\"device_ids\":[{}", other.device), "TENB000".into()]),
            control: None,
        }],
        "/api/v1/devices/{id}/students/{student_id}/retry" | "/api/v1/device/{id}/students/{student_id}/retry" => {
            let at = |device: i64, student: i64| with_id(route, device).replace("{student_id}", &student.to_string());
            vec![
                Case {
                    attack: req(m, at(other.device, other.student), Body::None),
                    expect: Expect::NotFound,
                    control: None,
                },
                // Own device, another school's student.
                Case {
                    attack: req(m, at(own.device, other.student), Body::None),
                    expect: Expect::NotFound,
                    control: Some(req(m, at(own.device, own.student), Body::None)),
                },
            ]
        }
        "/api/v1/sync/summary" | "/api/v1/sync/verify" => vec![
            Case {
                attack: req(m, p.into(), Body::None),
                expect: Expect::Without(vec![
                    "TENB000".into(),
                    format!("\"school_id\":{}", other.school.0),
                    format!("\"device_id\":{}", other.device),
                ]),
                control: None,
            },
            Case {
                attack: req(m, format!("{p}?school_id={}", other.school.0), Body::None),
                expect: Expect::NotFound,
                control: Some(req(m, format!("{p}?school_id={}", own.school.0), Body::None)),
            },
        ],
        "/api/v1/sync/alerts" => list("school_id", own.school.0, true),
        "/api/v1/sync/alerts/{id}/confirm" => vec![nf(other.alert, Some(own.alert), Body::None)],
        "/api/v1/sync/alerts/{id}/dismiss" => vec![nf(other.alert, Some(own.spare_alert), Body::None)],
        "/api/v1/devices/{id}/block" | "/api/v1/device/{id}/block" => {
            vec![nf(other.device, Some(own.spare_device), Body::None), nf(pending, None, Body::None)]
        }
        "/api/v1/attendance" => vec![
            Case {
                attack: req(m, p.into(), Body::None),
                expect: Expect::OnlyOwn { field: "device_id", value: json!(own.device) },
                control: None,
            },
            Case {
                attack: req(m, format!("{p}?device_id={}", other.device), Body::None),
                expect: Expect::Empty,
                control: Some(req(m, format!("{p}?device_id={}", own.device), Body::None)),
            },
            Case {
                attack: req(m, format!("{p}?student_id={}", other.student), Body::None),
                expect: Expect::Empty,
                control: Some(req(m, format!("{p}?student_id={}", own.student), Body::None)),
            },
        ],
        "/api/v1/attendance/daily" => vec![Case {
            attack: req(m, p.into(), Body::None),
            expect: Expect::OnlyOwn { field: "student_id", value: json!(own.student) },
            control: None,
        }],
        "/api/v1/attendance/export" => vec![Case {
            attack: req(m, p.into(), Body::None),
            expect: Expect::Without(vec!["TENB0001".into(), "Pupil B".into()]),
            control: None,
        }],
        "/api/v1/jobs" => list("school_id", own.school.0, false),
        "/api/v1/jobs/{id}" => vec![nf(other.job, Some(own.job), Body::None), nf(global_job, None, Body::None)],
        _ => return None,
    };
    Some(out)
}

async fn send(app: &TestApp, token: &str, r: &Request) -> Reply {
    match &r.body {
        Body::None => call(app, r.method.clone(), &r.path, Some(token), None).await,
        Body::Json(v) => call(app, r.method.clone(), &r.path, Some(token), Some(v.clone())).await,
        Body::Csv(text) => {
            call_raw(app, r.method.clone(), &r.path, Some(token), "text/csv", text.clone().into_bytes()).await
        }
    }
}

fn check(backend: &str, case: &Case, reply: &Reply) {
    let what = format!("{backend}: {} {} -> {} {}", case.attack.method, case.attack.path, reply.status, reply.text);
    match &case.expect {
        Expect::NotFound => {
            assert_eq!(reply.status, 404, "{what}");
            assert_eq!(reply.assert_error_envelope(), "not_found", "{what}");
        }
        Expect::Invalid => {
            assert_eq!(reply.status, 422, "{what}");
            assert_eq!(reply.assert_error_envelope(), "validation_failed", "{what}");
        }
        Expect::OnlyOwn { field, value } => {
            assert_eq!(reply.status, 200, "{what}");
            let items = reply.body["data"].as_array().unwrap_or_else(|| panic!("{what}: no list"));
            assert!(!items.is_empty(), "{what}: the own school has rows, so an empty list proves nothing");
            assert!(items.iter().all(|i| &i[*field] == value), "{what}: an item of another school");
        }
        Expect::Empty => {
            assert_eq!(reply.status, 200, "{what}");
            assert_eq!(reply.body["data"], json!([]), "{what}");
            assert_eq!(reply.body["meta"]["total"], 0, "{what}");
        }
        Expect::Without(needles) => {
            assert_eq!(reply.status, 200, "{what}");
            for needle in needles {
                assert!(!reply.text.contains(needle.as_str()), "{what}: leaks {needle:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_school_admin_can_neither_read_nor_change_another_schools_data_on_any_route() {
    for db in backends().await {
        let app = spawn_app(db, false).await;
        let fx = fixture(&app).await;
        let a = rows(&app, fx.school_a, "A").await;
        let b = rows(&app, fx.school_b, "B").await;
        app.handshake("PENDING01").await;
        let pending = app.device("PENDING01").await.id.0;
        let global_job = app.ctx.store.start_job("verifier", None, Some("test"), chrono::Utc::now()).await.unwrap();
        let before = snapshot(&app, &fx.root, fx.school_b).await;

        let mut covered = 0;
        let mut missing = Vec::new();
        let mut controls = Vec::new();
        for route in mounted_routes() {
            match route.access {
                Access::Public => continue,
                Access::SuperAdmin => {
                    let path = with_id(&route, b.school.0);
                    let body = matches!(method_of(&route), Method::POST | Method::PATCH).then(|| json!({}));
                    let reply = call(&app, method_of(&route), &path, Some(&fx.admin_a), body).await;
                    assert_eq!(
                        (reply.status.as_u16(), reply.code()),
                        (403, "forbidden"),
                        "{}: {} {path}",
                        app.backend,
                        route.method
                    );
                    covered += 1;
                }
                Access::Admin => match cases(&route, &a, &b, pending, global_job) {
                    None => missing.push(format!("{} {}", route.method, route.path)),
                    Some(cases) => {
                        assert!(!cases.is_empty());
                        for case in cases {
                            let reply = send(&app, &fx.admin_a, &case.attack).await;
                            check(app.backend, &case, &reply);
                            controls.extend(case.control);
                        }
                        covered += 1;
                    }
                },
            }
        }
        assert!(
            missing.is_empty(),
            "routes without a tenancy case (add them to tests/server/api/tenancy.rs): {missing:?}"
        );

        assert_eq!(snapshot(&app, &fx.root, fx.school_b).await, before, "{}: school B's data changed", app.backend);

        // Own-school controls, deletes last: the same requests on school A's rows succeed.
        controls.sort_by_key(|r| r.method == Method::DELETE);
        for control in &controls {
            let reply = send(&app, &fx.admin_a, control).await;
            assert!(
                reply.status.is_success(),
                "{}: control {} {} -> {} {}",
                app.backend,
                control.method,
                control.path,
                reply.status,
                reply.text
            );
        }
        assert!(covered >= 40, "{}: only {covered} routes covered", app.backend);
        assert!(controls.len() >= 25, "{}: only {} controls", app.backend, controls.len());
    }
}

/// Everything of school B a neighbour could try to change, as the super admin sees it.
async fn snapshot(app: &TestApp, root: &str, school: SchoolId) -> Vec<String> {
    let mut out = Vec::new();
    for path in [
        format!("/api/v1/schools/{school}"),
        format!("/api/v1/areas?school_id={school}"),
        format!("/api/v1/classes?school_id={school}"),
        format!("/api/v1/sections?school_id={school}"),
        format!("/api/v1/students?school_id={school}"),
        format!("/api/v1/devices?school_id={school}"),
        "/api/v1/devices?status=pending".to_string(),
        "/api/v1/attendance?per_page=500".to_string(),
        format!("/api/v1/sync/alerts?school_id={school}&open=false"),
        format!("/api/v1/sync/summary?school_id={school}"),
    ] {
        let reply = call(app, Method::GET, &path, Some(root), None).await;
        assert_eq!(reply.status, 200, "{}: {path}", app.backend);
        let mut data = reply.body["data"].clone();
        // `online` and `last_seen_at` move with time, not with anybody's request.
        if let Some(items) = data.as_array_mut() {
            for item in items {
                if let Some(obj) = item.as_object_mut() {
                    obj.remove("online");
                    obj.remove("last_seen_at");
                }
            }
        }
        out.push(format!("{path} {data}"));
    }
    out
}
