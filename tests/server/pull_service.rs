//! Pull devices in service, end to end with `ironclock sim pull` devices over loopback (TCP and
//! UDP): collection (5,000 records, then nothing new), live punches, a device that drops
//! replies mid-read, a day of realtime failures (injected clock), the roster reaching the
//! device and leaving it, connection tests, bad input, and a dead instance's lease taken over.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use ironclock::domain::{DeviceId, SchoolId};
use ironclock::sim::pull::{Faults, Seed, SimConfig, SimDevice};
use ironclock::store::admin::AdminRole;

use super::support::api::{call, login, make_admin};
use super::support::{backends, spawn_pull_app, TestApp};

/// The device's users as pyzk-new (an independent client, run as its own process) reads them.
pub async fn pyzk_users(addr: std::net::SocketAddr) -> Vec<(String, String, i64)> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oracles/pull");
    let out = tokio::process::Command::new("python3")
        .current_dir(&dir)
        .args(["read_back.py", &addr.ip().to_string(), &addr.port().to_string()])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .await
        .expect("python3 runs");
    assert!(out.status.success(), "pyzk read-back failed: {}", String::from_utf8_lossy(&out.stderr));
    let read: Value = serde_json::from_slice(&out.stdout).expect("JSON from read_back.py");
    read["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["user_id"].as_str().unwrap().to_string(),
                u["name"].as_str().unwrap().to_string(),
                u["card"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// A sim device on a free loopback port holding `users` users and `records` records.
async fn sim(users: u32, records: usize, config: SimConfig) -> SimDevice {
    let seed = Seed { user_ids: (1..=users).collect(), fingers_per_user: 1, faces: false, photos: false, records };
    SimDevice::start("127.0.0.1:0".parse().unwrap(), config, &seed).await.unwrap()
}

struct Pulled {
    app: TestApp,
    token: String,
    school: SchoolId,
}

async fn pulled(app: TestApp) -> Pulled {
    make_admin(&app, "root@pull.example", AdminRole::SuperAdmin, None).await;
    let token = login(&app, "root@pull.example").await;
    let school = app.school("Pull School", "UTC").await;
    Pulled { app, token, school }
}

impl Pulled {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> super::support::api::Reply {
        call(&self.app, method, path, Some(&self.token), body).await
    }

    /// Adds the sim as a pull device through the API; returns its id.
    async fn add(&self, sim: &SimDevice, transport: &str, realtime: bool) -> i64 {
        let body = json!({
            "school_id": self.school, "mode": "pull", "host": "127.0.0.1", "port": sim.addr().port(),
            "transport": transport, "name": format!("gate {transport}"), "realtime_enabled": realtime,
        });
        let reply = self.call(Method::POST, "/api/v1/devices", Some(body)).await;
        assert_eq!(reply.status, 201, "{}: {}", self.app.backend, reply.text);
        reply.body["data"]["id"].as_i64().unwrap()
    }

    /// Waits until some instance holds the device's session.
    async fn in_service(&self, id: i64) {
        for _ in 0..100 {
            let now = self.app.ctx.clock.now();
            if self.app.ctx.store.lease_holder(DeviceId(id), now).await.unwrap().is_some() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{}: device {id} was not picked up by the pull service", self.app.backend);
    }

    async fn collect(&self, id: i64) -> Value {
        let reply = self.call(Method::POST, &format!("/api/v1/devices/{id}/sync-attendance"), None).await;
        assert_eq!(reply.status, 200, "{}: {}", self.app.backend, reply.text);
        reply.body["data"].clone()
    }

    async fn punches(&self, id: i64) -> i64 {
        self.app.ctx.store.count_punches(Some(DeviceId(id))).await.unwrap()
    }
}

async fn until<F: std::future::Future<Output = bool>>(what: &str, limit: Duration, mut check: impl FnMut() -> F) {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what}: not within {limit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_thousand_records_are_collected_over_tcp_and_udp_and_a_second_run_stores_none() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        for transport in ["tcp", "udp"] {
            let device = sim(50, 5_000, SimConfig::default()).await;
            let id = p.add(&device, transport, false).await;
            p.in_service(id).await;
            let first = p.collect(id).await;
            assert_eq!(first["success"], true, "{} {transport}: {first}", p.app.backend);
            assert_eq!((first["logs_synced"].as_i64(), first["total_records"].as_i64()), (Some(5_000), Some(5_000)));
            let again = p.collect(id).await;
            assert_eq!((again["logs_synced"].as_i64(), again["duplicates"].as_i64()), (Some(0), Some(5_000)));
            assert_eq!(p.punches(id).await, 5_000, "{} {transport}: each record once", p.app.backend);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_punches_are_stored_within_two_seconds() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        let device = sim(5, 0, SimConfig::default()).await;
        let id = p.add(&device, "tcp", true).await;
        p.in_service(id).await;
        until("the realtime session", Duration::from_secs(5), || async {
            p.app.ctx.store.pull_device(DeviceId(id)).await.unwrap().is_some_and(|d| d.realtime_failures == 0)
                && device.session_count() > 0
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await; // registered for events
        let start = std::time::Instant::now();
        assert!(device.inject_punch("3", 1, 0));
        until("the live punch", Duration::from_secs(2), || async { p.punches(id).await == 1 }).await;
        let punch = &p.app.ctx.store.list_punches(&Default::default()).await.unwrap()[0];
        assert_eq!((punch.pin.as_str(), punch.source.as_str()), ("3", "pull"), "{}", p.app.backend);
        eprintln!("{}: live punch stored after {:?}", p.app.backend, start.elapsed());
        // The next poll reads it again and stores nothing new.
        let again = p.collect(id).await;
        assert_eq!((again["logs_synced"].as_i64(), again["duplicates"].as_i64()), (Some(0), Some(1)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_that_goes_away_mid_read_is_retried_and_nothing_is_doubled() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        let device = sim(20, 3_000, SimConfig { tcp_frame_max: 1_008, ..SimConfig::default() }).await;
        let id = p.add(&device, "tcp", false).await;
        p.in_service(id).await;
        // Replies lost now and then (the client resends), and once the connection ends in the
        // middle of the attendance read (the collection fails and is retried on its own).
        device.set_faults(Faults { drop_every: 7, cut_at_request: 4, ..Faults::default() });
        let first = p.collect(id).await;
        assert_eq!(first["success"], false, "{}: the cut collection fails: {first}", p.app.backend);
        assert!(first["error"].as_str().unwrap_or_default().contains("127.0.0.1"), "{first}");
        until("the automatic retry", Duration::from_secs(10), || async { p.punches(id).await == 3_000 }).await;
        // The retry's outcome is recorded just after its rows are committed.
        until("the retry recorded as a success", Duration::from_secs(5), || async {
            p.app.ctx.store.pull_device(DeviceId(id)).await.unwrap().is_some_and(|d| d.poll_failures == 0)
        })
        .await;
        let last = p.collect(id).await;
        assert_eq!((last["logs_synced"].as_i64(), last["duplicates"].as_i64()), (Some(0), Some(3_000)));
        assert_eq!(p.punches(id).await, 3_000, "{}: every record, once", p.app.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_day_of_realtime_failures_switches_realtime_off_and_a_successful_poll_switches_it_back_on() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        let device = sim(5, 3, SimConfig::default()).await;
        let addr = device.addr();
        let id = p.add(&device, "tcp", true).await;
        p.in_service(id).await;
        let row = || async { p.app.ctx.store.pull_device(DeviceId(id)).await.unwrap().unwrap() };
        until("realtime connected", Duration::from_secs(5), || async {
            row().await.realtime_failures == 0 && device.session_count() > 0
        })
        .await;
        device.stop().await; // the gate loses power
        until("failures counted", Duration::from_secs(10), || async { row().await.realtime_failures >= 5 }).await;
        // The alert is written right after the count that reaches 5 (a second write: wait for it).
        until("an alert after 5 failures", Duration::from_secs(10), || async {
            let alerts = p.app.ctx.store.list_alerts(Some(p.school), true).await.unwrap();
            alerts.iter().any(|a| a.device_id == id && a.kind == ironclock::pull_service::REALTIME_ALERT)
        })
        .await;
        assert!(row().await.realtime_disabled_at.is_none(), "{}: not switched off before a day", p.app.backend);
        p.app.clock.advance(chrono::Duration::hours(24));
        until("realtime switched off", Duration::from_secs(10), || async {
            row().await.realtime_disabled_at.is_some()
        })
        .await;
        let off = row().await;
        assert!(off.realtime_disabled_reason.unwrap_or_default().contains("24 hours"), "{}", p.app.backend);
        let view = p.call(Method::GET, &format!("/api/v1/devices/{id}"), None).await;
        assert_eq!(view.body["data"]["pull"]["realtime_state"], "off", "{}: {}", p.app.backend, view.text);

        // Power is back: a successful poll switches realtime on again, and it reconnects.
        let device = SimDevice::start(
            addr,
            SimConfig::default(),
            &Seed { user_ids: (1..=5).collect(), records: 3, ..Seed::default() },
        )
        .await
        .unwrap();
        let collected = p.collect(id).await;
        assert_eq!(collected["success"], true, "{}: {collected}", p.app.backend);
        until("realtime back on, connected, and the alert resolved", Duration::from_secs(10), || async {
            let d = row().await;
            let view = p.call(Method::GET, &format!("/api/v1/devices/{id}"), None).await;
            let alerts = p.app.ctx.store.list_alerts(Some(p.school), true).await.unwrap();
            d.realtime_disabled_at.is_none()
                && view.body["data"]["pull"]["realtime_state"] == "connected"
                && !alerts.iter().any(|a| a.device_id == id)
        })
        .await;
        assert!(device.session_count() > 0, "{}: the realtime session is open", p.app.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_student_reaches_the_pull_device_and_a_deleted_one_leaves_it() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        let device = sim(2, 0, SimConfig::default()).await;
        let id = p.add(&device, "tcp", true).await;
        p.in_service(id).await;
        let created = p
            .call(
                Method::POST,
                "/api/v1/students",
                Some(json!({"school_id": p.school, "full_name": "Amina Wanjiru", "rfid_card_id": "7788"})),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.text);
        let pin = created.body["data"]["pin"].as_str().unwrap().to_string();
        let student = created.body["data"]["id"].as_i64().unwrap();
        until("the student on the device", Duration::from_secs(10), || async {
            device.users().iter().any(|u| u.user_id == pin && u.name == "Amina Wanjiru" && u.card == 7788)
        })
        .await;
        let synced = || async {
            let s = p.call(Method::GET, &format!("/api/v1/devices/{id}/sync-status"), None).await;
            s.body["data"]["summary"]["synced"].as_i64()
        };
        until("synced on evidence", Duration::from_secs(10), || async { synced().await == Some(1) }).await;
        let read = pyzk_users(device.addr()).await;
        assert!(
            read.contains(&(pin.clone(), "Amina Wanjiru".to_string(), 7788)),
            "{}: pyzk reads {read:?}",
            p.app.backend
        );
        let gone = p.call(Method::DELETE, &format!("/api/v1/students/{student}"), None).await;
        assert_eq!(gone.status, 200, "{}", gone.text);
        until("the student off the device", Duration::from_secs(10), || async {
            !device.users().iter().any(|u| u.user_id == pin)
        })
        .await;
        assert_eq!(device.users().len(), 2, "{}: the device's own users are untouched", p.app.backend);
        let read = pyzk_users(device.addr()).await;
        assert!(!read.iter().any(|u| u.0 == pin) && read.len() == 2, "{}: pyzk reads {read:?}", p.app.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_connection_test_names_a_refused_connection_a_timeout_and_a_wrong_comm_key() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        let ok = sim(3, 7, SimConfig { serial: "GATE-OK-1".into(), ..SimConfig::default() }).await;
        let id = p.add(&ok, "tcp", false).await;
        let reply = p.call(Method::POST, &format!("/api/v1/devices/{id}/test-connection"), None).await;
        let data = &reply.body["data"];
        assert_eq!(
            (data["success"].as_bool(), data["serial_number"].as_str()),
            (Some(true), Some("GATE-OK-1")),
            "{}",
            reply.text
        );
        assert_eq!((data["users"].as_i64(), data["records"].as_i64()), (Some(3), Some(7)));

        // Nothing listens on a port that was just freed.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let body = json!({"school_id": p.school, "mode": "pull", "host": "127.0.0.1", "port": closed, "transport": "tcp", "enabled": false});
        let refused = p.call(Method::POST, "/api/v1/devices", Some(body)).await.body["data"]["id"].as_i64().unwrap();
        let t = p.call(Method::POST, &format!("/api/v1/devices/{refused}/test-connection"), None).await;
        assert!(t.body["data"]["message"].as_str().unwrap().contains("connection refused"), "{}", t.text);

        // A port that accepts and never answers.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let silent_port = silent.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        });
        let body = json!({"school_id": p.school, "mode": "pull", "host": "127.0.0.1", "port": silent_port, "transport": "tcp", "enabled": false});
        let quiet = p.call(Method::POST, "/api/v1/devices", Some(body)).await.body["data"]["id"].as_i64().unwrap();
        let started = std::time::Instant::now();
        let t = p.call(Method::POST, &format!("/api/v1/devices/{quiet}/test-connection"), None).await;
        assert!(t.body["data"]["message"].as_str().unwrap().contains("no answer"), "{}", t.text);
        assert!(started.elapsed() < Duration::from_secs(11), "answered within 10 s");

        // The device wants another comm key.
        let keyed = sim(1, 0, SimConfig { comm_key: 4242, ..SimConfig::default() }).await;
        let body = json!({"school_id": p.school, "mode": "pull", "host": "127.0.0.1", "port": keyed.addr().port(), "comm_key": 1111, "enabled": false});
        let wrong = p.call(Method::POST, "/api/v1/devices", Some(body)).await.body["data"]["id"].as_i64().unwrap();
        let t = p.call(Method::POST, &format!("/api/v1/devices/{wrong}/test-connection"), None).await;
        assert!(t.body["data"]["message"].as_str().unwrap().contains("comm key"), "{}", t.text);
        let fixed = p.call(Method::PATCH, &format!("/api/v1/devices/{wrong}"), Some(json!({"comm_key": 4242}))).await;
        assert_eq!(fixed.status, 200, "{}", fixed.text);
        let t = p.call(Method::POST, &format!("/api/v1/devices/{wrong}/test-connection"), None).await;
        assert_eq!(t.body["data"]["success"], true, "{}", t.text);
    }
}

#[tokio::test]
async fn pull_device_addresses_are_checked_field_by_field() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        for (body, field) in [
            (json!({"host": "gate.invalid", "port": 4370}), "host"),
            (json!({"host": "not a host!", "port": 4370}), "host"),
            (json!({"host": "127.0.0.1", "port": 0}), "port"),
            (json!({"host": "127.0.0.1", "port": 65536}), "port"),
            (json!({"host": "127.0.0.1", "port": 4370, "comm_key": 1_000_000}), "comm_key"),
            (json!({"host": "127.0.0.1", "port": 4370, "transport": "serial"}), "transport"),
        ] {
            let mut body = body;
            body["mode"] = json!("pull");
            body["school_id"] = json!(p.school);
            let reply = p.call(Method::POST, "/api/v1/devices", Some(body.clone())).await;
            assert_eq!(
                (reply.status.as_u16(), reply.body["fields"][0]["field"].as_str()),
                (400, Some(field)),
                "{}: {body} -> {}",
                p.app.backend,
                reply.text
            );
        }
        let named = p
            .call(
                Method::POST,
                "/api/v1/devices",
                Some(json!({"school_id": p.school, "mode": "pull", "host": "localhost", "port": 4370})),
            )
            .await;
        assert_eq!(named.status, 201, "{}: a resolvable name is fine: {}", p.app.backend, named.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_instance_holds_a_pull_device_and_another_takes_over_a_dead_holders_lease() {
    let Ok(admin) = std::env::var("IRONCLOCK_TEST_POSTGRES_URL") else {
        eprintln!("NOTICE: IRONCLOCK_TEST_POSTGRES_URL is not set; the lease test needs PostgreSQL and is skipped");
        return;
    };
    let db = super::support::postgres_db(&admin).await;
    let twin = db.shared();
    let p = pulled(spawn_pull_app(db).await).await;
    let b = spawn_pull_app(twin).await;
    let device = sim(5, 0, SimConfig::default()).await;
    let id = p.add(&device, "tcp", true).await;
    p.in_service(id).await;
    let holder = || async { b.ctx.store.lease_holder(DeviceId(id), b.ctx.clock.now()).await.unwrap() };
    let first = holder().await.expect("held");
    until("one realtime session", Duration::from_secs(5), || async { device.session_count() == 1 }).await;
    for _ in 0..20 {
        assert!(device.session_count() <= 1, "two instances talk to the device at once");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The holder dies without releasing: its lease row stays until it expires.
    b.exec_sql(&format!(
        "update device_leases set holder = 'dead-instance', expires_at = now() + interval '1 second' where device_id = {id}"
    ))
    .await;
    let started = std::time::Instant::now();
    until("a live instance takes the device over", Duration::from_secs(10), || async {
        holder().await.is_some_and(|h| h != "dead-instance")
    })
    .await;
    eprintln!("takeover after {:?} (holder was {first})", started.elapsed());
    until("its realtime session", Duration::from_secs(5), || async { device.session_count() == 1 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(device.inject_punch("4", 1, 0));
    until("a live punch after the takeover", Duration::from_secs(3), || async { p.punches(id).await == 1 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refresh_all_logs_queues_a_collection_on_every_pull_device_of_the_school() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        let a = sim(3, 40, SimConfig::default()).await;
        let b = sim(3, 25, SimConfig::default()).await;
        let (ia, ib) = (p.add(&a, "tcp", false).await, p.add(&b, "udp", false).await);
        p.in_service(ia).await;
        p.in_service(ib).await;
        let reply = p.call(Method::POST, "/api/v1/attendance/sync-all", None).await;
        let data = &reply.body["data"];
        assert_eq!(
            (data["total_devices"].as_i64(), data["tasks_triggered"].as_i64()),
            (Some(2), Some(2)),
            "{}",
            reply.text
        );
        until("both collected", Duration::from_secs(10), || async {
            p.punches(ia).await == 40 && p.punches(ib).await == 25
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_schedule_collects_every_pull_device_and_records_each_run() {
    for db in backends().await {
        let app = super::support::spawn_app_hooked(
            db,
            |args| args.pull.pull_poll_cron = "*/1 * * * * *".into(),
            Some(super::support::fast_pull()),
        )
        .await;
        let p = pulled(app).await;
        let device = sim(4, 30, SimConfig::default()).await;
        let id = p.add(&device, "tcp", false).await;
        p.in_service(id).await;
        until("a scheduled collection", Duration::from_secs(10), || async { p.punches(id).await == 30 }).await;
        let filter = ironclock::store::admin::JobFilter {
            scope: ironclock::store::admin::SchoolScope::all(),
            job: Some("pull_poll".into()),
            status: None,
            page: Default::default(),
        };
        until("the run recorded", Duration::from_secs(5), || async {
            p.app.ctx.store.list_jobs(&filter).await.unwrap().items.iter().any(|j| j.summary["logs_synced"] == 30)
        })
        .await;
        let row = p.app.ctx.store.pull_device(DeviceId(id)).await.unwrap().unwrap();
        assert!(row.last_poll_at.is_some() && row.last_contact_at.is_some(), "{}", p.app.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_pull_service_runs_as_its_own_process_beside_a_web_server_without_one() {
    use base64::Engine;
    for db in backends().await {
        if db.backend == "sqlite" {
            // No notifications between processes on SQLite: refused with the reason.
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_ironclock"))
                .args(["pull-service", "--database-url", &db.url])
                .output()
                .unwrap();
            assert!(!out.status.success());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("needs PostgreSQL") && err.contains("--pull-service on"), "{err}");
            continue;
        }
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let url = db.url.clone();
        let web_key = key.clone();
        let app = super::support::spawn_app_hooked(
            db,
            move |a| {
                a.pull_service = "off".into();
                a.data_key = Some(web_key);
            },
            None,
        )
        .await;
        let p = pulled(app).await;
        let device = sim(10, 40, SimConfig::default()).await;
        let id = p.add(&device, "tcp", true).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = p.app.ctx.clock.now();
        assert!(
            p.app.ctx.store.lease_holder(DeviceId(id), now).await.unwrap().is_none(),
            "the web server alone holds no device"
        );

        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ironclock"))
            .arg("pull-service")
            .env("IRONCLOCK_DATABASE_URL", &url)
            .env("IRONCLOCK_DATA_KEY", &key)
            .env("IRONCLOCK_PULL_POLL_CRON", "off")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        p.in_service(id).await;
        // A collection asked of the web server is carried out by the other process.
        let collected = p.collect(id).await;
        assert_eq!(collected["success"], true, "{collected}");
        assert_eq!(p.punches(id).await, 40);
        // Live punches reach the database through the other process's realtime session.
        until("the realtime session", Duration::from_secs(10), || async { device.session_count() > 0 }).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(device.inject_punch("3", 1, 0));
        until("the live punch", Duration::from_secs(5), || async { p.punches(id).await == 41 }).await;
        // SIGTERM: sessions closed, the lease released, a clean exit.
        let pid = child.id().unwrap().to_string();
        std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = tokio::time::timeout(Duration::from_secs(30), child.wait()).await.unwrap().unwrap();
        assert!(status.success(), "{status:?}");
        until("the sessions closed", Duration::from_secs(5), || async { device.session_count() == 0 }).await;
        assert!(device.is_enabled(), "the keypad is left unlocked");
        let now = p.app.ctx.clock.now();
        assert!(p.app.ctx.store.lease_holder(DeviceId(id), now).await.unwrap().is_none(), "the lease is released");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_sync_in_quiet_hours_reaches_the_pull_device_when_they_end() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        // Quiet from now for two hours (school zone UTC); two students, then the device and its
        // full sync (a student added later would go out at once: quiet hours hold back bulk work).
        let now = p.app.ctx.clock.now();
        let quiet = format!("{}-{}", now.format("%H:00"), (now + chrono::Duration::hours(2)).format("%H:00"));
        let set =
            p.call(Method::PATCH, &format!("/api/v1/schools/{}", p.school), Some(json!({"quiet_hours": quiet}))).await;
        assert_eq!(set.status, 200, "{}", set.text);
        for name in ["Quiet One", "Quiet Two"] {
            let body = json!({"school_id": p.school, "full_name": name});
            assert_eq!(p.call(Method::POST, "/api/v1/students", Some(body)).await.status, 201);
        }
        let device = sim(0, 0, SimConfig::default()).await;
        let id = p.add(&device, "tcp", false).await;
        p.in_service(id).await;
        let full = p.call(Method::POST, &format!("/api/v1/devices/{id}/sync-students"), None).await;
        assert_eq!(full.status, 200, "{}", full.text);
        assert!(full.body["data"]["deferredUntil"].is_string(), "{}: {}", p.app.backend, full.text);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(device.users().is_empty(), "{}: nothing written in quiet hours", p.app.backend);
        // Quiet hours end (injected clock): the device's own periodic look at its queue delivers.
        p.app.clock.advance(chrono::Duration::hours(3));
        until("the students after quiet hours", Duration::from_secs(10), || async { device.users().len() == 2 }).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_verifier_puts_back_a_student_deleted_at_a_pull_devices_keypad() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        let device = sim(0, 0, SimConfig::default()).await;
        // Realtime on: the open session keeps the device "seen", as the 5-minute collections do.
        let id = p.add(&device, "tcp", true).await;
        p.in_service(id).await;
        let body = json!({"school_id": p.school, "full_name": "Keypad Victim", "rfid_card_id": "4455"});
        let created = p.call(Method::POST, "/api/v1/students", Some(body)).await;
        let pin = created.body["data"]["pin"].as_str().unwrap().to_string();
        until("the student on the device", Duration::from_secs(10), || async {
            device.users().iter().any(|u| u.user_id == pin)
        })
        .await;
        assert!(device.delete_user_at_keypad(&pin));
        // The verifier reads the device back; a later run (after the 2-minute read-back grace,
        // injected clock) finds the student missing and writes it again.
        let verify = format!("/api/v1/sync/verify?school_id={}", p.school);
        for _ in 0..10 {
            let run = p.call(Method::POST, &verify, None).await;
            assert_eq!(run.status, 200, "{}", run.text);
            tokio::time::sleep(Duration::from_millis(700)).await;
            p.app.clock.advance(chrono::Duration::minutes(3));
            if device.users().iter().any(|u| u.user_id == pin) {
                break;
            }
        }
        let read = pyzk_users(device.addr()).await;
        assert!(
            read.contains(&(pin.clone(), "Keypad Victim".to_string(), 4455)),
            "{}: pyzk reads {read:?}",
            p.app.backend
        );
    }
}

/// A "device" that answers every connection with bytes that are no protocol at all.
async fn garbage_device() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        // Bounded: enough connections for the test, then the listener goes away.
        for _ in 0..200 {
            let Ok((mut conn, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 256];
                for _ in 0..20 {
                    if conn.read(&mut buf).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let junk: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37).wrapping_add(11)).collect();
                    if conn.write_all(&junk).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_answering_garbage_is_marked_failed_with_the_reason_and_the_others_carry_on() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        let junk = garbage_device().await;
        let body = json!({
            "school_id": p.school, "mode": "pull", "host": "127.0.0.1", "port": junk.port(),
            "transport": "tcp", "name": "junk", "realtime_enabled": true,
        });
        let added = p.call(Method::POST, "/api/v1/devices", Some(body)).await;
        assert_eq!(added.status, 201, "{}", added.text);
        let junk_id = added.body["data"]["id"].as_i64().unwrap();
        let good = sim(3, 25, SimConfig::default()).await;
        let good_id = p.add(&good, "tcp", true).await;
        p.in_service(good_id).await;

        let test = p.call(Method::POST, &format!("/api/v1/devices/{junk_id}/test-connection"), None).await;
        assert_eq!(test.status, 200, "{}", test.text);
        assert_eq!(test.body["data"]["success"], false, "{}", test.text);
        assert!(!test.body["data"]["message"].as_str().unwrap_or_default().is_empty());
        p.in_service(junk_id).await;
        let failed = p.collect(junk_id).await;
        assert_eq!(failed["success"], false, "{}: {failed}", p.app.backend);
        let reason = failed["error"].as_str().unwrap_or_default().to_string();
        assert!(reason.contains("127.0.0.1"), "{}: the reason names the device: {reason}", p.app.backend);
        let view = p.call(Method::GET, &format!("/api/v1/devices/{junk_id}"), None).await;
        assert_eq!(view.body["data"]["pull"]["last_poll_ok"], false, "{}", view.text);
        assert!(view.body["data"]["pull"]["last_poll_error"].as_str().is_some_and(|e| !e.is_empty()));
        // The realtime listener keeps failing on it without taking anything else down.
        until("realtime failures recorded", Duration::from_secs(10), || async {
            p.app.ctx.store.pull_device(DeviceId(junk_id)).await.unwrap().is_some_and(|d| d.realtime_failures >= 2)
        })
        .await;
        let ok = p.collect(good_id).await;
        assert_eq!((ok["success"].as_bool(), ok["total_records"].as_i64()), (Some(true), Some(25)), "{ok}");
        assert!(good.inject_punch("2", 1, 0));
        until("a live punch from the good device", Duration::from_secs(5), || async { p.punches(good_id).await == 26 })
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn nothing_may_push_as_a_pull_device() {
    for db in backends().await {
        let p = pulled(spawn_pull_app(db).await).await;
        let device = sim(2, 3, SimConfig { serial: "GATE-PULL-7".into(), ..SimConfig::default() }).await;
        let id = p.add(&device, "tcp", false).await;
        let client = reqwest::Client::new();
        let forge = |serial: String| {
            let client = client.clone();
            let base = p.app.base.clone();
            async move {
                let url = format!("{base}/iclock/cdata?SN={serial}&table=ATTLOG&Stamp=9999");
                let reply = client.post(&url).body("1\t2026-12-01 08:00:00\t0\t1\t0\n").send().await.unwrap();
                let status = reply.status().as_u16();
                let text = reply.text().await.unwrap();
                let poll = client.get(format!("{base}/iclock/getrequest?SN={serial}")).send().await.unwrap();
                (status, text, poll.status().as_u16())
            }
        };
        // The placeholder serial a pull device has before its first contact…
        let placeholder = p.app.ctx.store.pull_device(DeviceId(id)).await.unwrap().unwrap().serial_number;
        let (status, text, poll) = forge(placeholder).await;
        assert_eq!((status, poll), (403, 403), "{}: {text}", p.app.backend);
        assert!(text.contains("pull device"), "{text}");
        // …and the real one it reports at contact.
        let test = p.call(Method::POST, &format!("/api/v1/devices/{id}/test-connection"), None).await;
        assert_eq!(test.body["data"]["serial_number"], "GATE-PULL-7", "{}", test.text);
        let (status, text, poll) = forge("GATE-PULL-7".into()).await;
        assert_eq!((status, poll), (403, 403), "{}: {text}", p.app.backend);
        assert!(text.contains("pull device"), "{text}");
        assert_eq!(p.punches(id).await, 0, "{}: nothing stored from the forged uploads", p.app.backend);
    }
}
