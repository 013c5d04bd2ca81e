//! The hand-off of a run from a web-only instance (`--pull-service off`) to the instance running
//! the pull service: the request is announced through the store's notify path, so the other
//! instance starts it at once (not at its minute tick); a request nobody claims expires with a
//! status that says why, in the API and on the dashboard, and is never run.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use ironclock::store::admin::AdminRole;
use ironclock::sync::area::requests::{keep_alive, run_requested};
use ironclock::sync::area::AreaSyncOptions;

use super::single_device::add_lone;
use super::{empty, pins, plain, set, sim, Area};
use crate::dashboard::{Dash, PASSWORD};
use crate::support::api::{call, login, make_admin};
use crate::support::{backends, spawn_app_with, TestApp};

/// The handed-off run is expected within this (the fallback tick would take up to a minute).
const WITHIN: Duration = Duration::from_secs(5);

/// Polls `GET path` on `app` until the latest run has finished with no request left waiting;
/// the run. Panics after 20 s.
pub async fn finished(app: &TestApp, token: &str, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let data = call(app, Method::GET, path, Some(token), None).await.body["data"].clone();
        let done = data["status"] == "succeeded" || data["status"] == "failed";
        if done && data.get("request").is_none() {
            return data;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{}: no finished run at {path} within 20 s", app.backend);
}

/// Polls `cond` until it holds; panics after 20 s.
pub async fn until(backend: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "{backend}: condition not met within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_web_only_instance_wakes_the_pull_service_instance_through_the_notify_path() {
    for db in backends().await {
        if db.backend == "sqlite" {
            // Instances on one SQLite file share no notifications (the minute tick serves them;
            // `triggers` covers that path).
            continue;
        }
        let twin = db.shared();
        let area = Area::new(db).await;
        let backend = area.app.backend;
        for pin in 1..=3 {
            area.student(&pin.to_string()).await;
        }
        let a = sim(1..=3, 1, plain()).await;
        let b = empty(plain()).await;
        let l = empty(plain()).await;
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        let idl = add_lone(&area, &l, "L").await;
        let web = spawn_app_with(twin, |args| args.pull_service = "off".into()).await;
        let token = login(&web, "root@area.example").await;

        // An area's sync.
        let path = format!("/api/v1/areas/{}/sync", area.area);
        let asked = Instant::now();
        let handed = call(&web, Method::POST, &path, Some(&token), None).await;
        assert_eq!(handed.status, 202, "{backend}: {}", handed.text);
        let run = finished(&web, &token, &path).await;
        let took = asked.elapsed();
        assert_eq!(run["status"], "succeeded", "{backend}: {run}");
        assert!(took < WITHIN, "{backend}: the area's run took {took:?} to finish after the hand-off");
        eprintln!("{backend}: the handed-off area run finished {took:?} after the request");
        assert_eq!(pins(&b), set(1..=3), "{backend}");

        // A device's single-device sync (a device in no area).
        let path = format!("/api/v1/devices/{idl}/area-sync");
        let asked = Instant::now();
        let handed = call(&web, Method::POST, &path, Some(&token), None).await;
        assert_eq!(handed.status, 202, "{backend}: {}", handed.text);
        assert_eq!(handed.body["data"]["device_id"], idl, "{backend}: {}", handed.text);
        let run = finished(&web, &token, &path).await;
        let took = asked.elapsed();
        assert_eq!(run["status"], "succeeded", "{backend}: {run}");
        assert_eq!(run["result"]["primary_device"]["name"], "store", "{backend}: {run}");
        assert!(took < WITHIN, "{backend}: the device's run took {took:?} to finish after the hand-off");
        eprintln!("{backend}: the handed-off device run finished {took:?} after the request");
        assert_eq!(pins(&l), set(1..=3), "{backend}: the roster reached the device in no area");
        assert_eq!(run["started_by"], "root@area.example", "{backend}: {run}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_request_no_instance_picks_up_expires_with_a_clear_status_and_never_runs() {
    for db in backends().await {
        let web = spawn_app_with(db, |args| args.pull_service = "off".into()).await;
        let backend = web.backend;
        make_admin(&web, "root@web.example", AdminRole::SuperAdmin, None).await;
        let token = login(&web, "root@web.example").await;
        let school = web.school("Web School", "UTC").await;
        let body = json!({"school_id": school, "name": "Gates"});
        let area = call(&web, Method::POST, "/api/v1/areas", Some(&token), Some(body)).await;
        assert_eq!(area.status, 201, "{backend}: {}", area.text);
        let area = area.body["data"]["id"].as_i64().unwrap();
        let body = json!({"school_id": school, "mode": "pull", "host": "127.0.0.1", "port": 9, "name": "Lone"});
        let lone = call(&web, Method::POST, "/api/v1/devices", Some(&token), Some(body)).await;
        assert_eq!(lone.status, 201, "{backend}: {}", lone.text);
        let lone = lone.body["data"]["id"].as_i64().unwrap();

        let paths = [format!("/api/v1/areas/{area}/sync"), format!("/api/v1/devices/{lone}/area-sync")];
        for path in &paths {
            let handed = call(&web, Method::POST, path, Some(&token), None).await;
            assert_eq!(handed.status, 202, "{backend}: {}", handed.text);
            let data = call(&web, Method::GET, path, Some(&token), None).await.body["data"].clone();
            assert_eq!(data["request"]["status"], "pending", "{backend}: {data}");
            assert!(data.get("status").is_none(), "{backend}: no run yet: {data}");
        }
        // While an instance running the pull service is up (busy with a long run, say), its
        // minute tick keeps them alive.
        web.clock.advance(chrono::Duration::seconds(100));
        keep_alive(&web.ctx.core).await.unwrap();
        web.clock.advance(chrono::Duration::seconds(100));
        for path in &paths {
            let data = call(&web, Method::GET, path, Some(&token), None).await.body["data"].clone();
            assert_eq!(data["request"]["status"], "pending", "{backend}: kept alive: {data}");
        }
        // Nobody runs the pull service: two minutes on, the requests have expired, and a late
        // tick does not bring them back.
        web.clock.advance(chrono::Duration::seconds(21));
        keep_alive(&web.ctx.core).await.unwrap();
        for path in &paths {
            let data = call(&web, Method::GET, path, Some(&token), None).await.body["data"].clone();
            assert_eq!(data["request"]["status"], "expired", "{backend}: {data}");
            let message = data["request"]["message"].as_str().unwrap();
            assert!(message.contains("no instance runs the pull service"), "{backend}: {message}");
        }
        let mut dash = Dash::new(&web);
        dash.login("root@web.example", PASSWORD).await;
        let page = dash.get("/areas").await;
        assert_eq!(page.status, 200, "{backend}: {}", page.body);
        assert_eq!(page.body.matches("data-request=\"expired\"").count(), 2, "{backend}: {}", page.body);
        assert!(page.body.contains("no instance runs the pull service"), "{backend}");
        assert!(page.body.contains("Devices in no area"), "{backend}: the lone device's Sync is on the page");

        // An instance that comes up later does not run an expired request.
        let runs = run_requested(&web.ctx.core, &AreaSyncOptions::default()).await.unwrap();
        assert!(runs.is_empty(), "{backend}: {runs:?}");
        let data = call(&web, Method::GET, &paths[0], Some(&token), None).await.body["data"].clone();
        assert_eq!(data["request"]["status"], "expired", "{backend}: still shown: {data}");
    }
}
