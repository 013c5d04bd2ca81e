//! The dashboard's areas page over HTTP (no browser): each area's devices with the counts the
//! last run read back, the last run with its skips, the buttons (this area, all areas, a
//! device's Sync) behind CSRF, the run going on in the background; another school's area is 404.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use ironclock::sim::pull::SimConfig;
use ironclock::store::admin::AdminRole;

use super::{pins, plain, set, sim, Area};
use crate::dashboard::{Dash, Page, PASSWORD};
use crate::support::api::make_admin;
use crate::support::backends;

fn flash(page: &Page) -> String {
    assert_eq!(page.status, 303, "expected a redirect, got {}: {}", page.status, page.body);
    let url = reqwest::Url::parse(&format!("http://x{}", page.location.clone().unwrap())).unwrap();
    url.query_pairs().find(|(k, _)| k == "flash").map(|(_, v)| v.into_owned()).unwrap_or_default()
}

/// Waits until the area's latest run is finished and is not `previous`; returns it.
async fn finished_run(area: &Area, previous: &Value) -> Value {
    for _ in 0..400 {
        let run = area.call(Method::GET, &format!("/api/v1/areas/{}/sync", area.area), None).await.body["data"].clone();
        if !run.is_null() && run["status"] != "running" && run["job_id"] != previous["job_id"] {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{}: the area's run did not finish", area.app.backend);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_areas_page_shows_devices_and_runs_and_starts_syncs_in_scope() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        // A keeps faces and photos, B does not: its faces and photos are skipped with a reason.
        let a = sim(1..=5, 1, SimConfig::default()).await;
        let b = sim(6..=8, 1, plain()).await;
        area.add(&a, "Gate A", false).await;
        let idb = area.add(&b, "Gate B", false).await;
        let mut dash = Dash::new(&area.app);
        dash.login("root@area.example", PASSWORD).await;

        let page = dash.get("/areas").await;
        assert_eq!(page.status, 200, "{backend}: {}", page.body);
        for text in ["Gates", "Gate A", "Gate B", "Never synced", "Sync All Devices", "Sync this area"] {
            assert!(page.body.contains(text), "{backend}: no {text:?} on the page");
        }
        let csrf = page.csrf();
        let path = format!("/areas/{}/sync", area.area);
        assert_eq!(dash.post(&path, &[("csrf", "forged")]).await.status, 403, "{backend}: CSRF checked");

        let started = dash.post(&path, &[("csrf", &csrf)]).await;
        assert!(flash(&started).contains("sync started"), "{backend}: {}", flash(&started));
        let first = finished_run(&area, &Value::Null).await;
        assert_eq!(first["status"], "succeeded", "{backend}: {first}");
        assert_eq!(first["started_by"], "root@area.example", "{backend}");
        assert_eq!(pins(&b), set(1..=8), "{backend}: the background run converged");
        let page = dash.get("/areas").await;
        assert!(page.body.contains("run-status\">succeeded"), "{backend}: {}", page.body);
        assert_eq!(page.body.matches("<td class=\"users\">8</td>").count(), 2, "{backend}: both gates hold 8 users");
        assert_eq!(page.body.matches("<td class=\"fingerprints\">8</td>").count(), 2, "{backend}");
        assert!(page.body.contains("no face support"), "{backend}: the skip and its reason: {}", page.body);

        // A device's Sync runs its area; Sync All Devices every area with two devices or more.
        let by_device = dash.post(&format!("/devices/{idb}/area-sync"), &[("csrf", &csrf)]).await;
        assert!(flash(&by_device).contains("Gates: sync started"), "{backend}: {}", flash(&by_device));
        let second = finished_run(&area, &first).await;
        assert_eq!(second["result"]["total_users_synced"], 0, "{backend}: nothing left to write: {second}");
        let all = dash.post("/areas/sync-all", &[("csrf", &csrf)]).await;
        assert_eq!(flash(&all), "Sync started for 1 area(s): Gates.", "{backend}");
        let third = finished_run(&area, &second).await;
        assert_eq!(third["status"], "succeeded", "{backend}: {third}");

        // Another school's admin sees no such area and cannot start it.
        let other = area.app.school("Other School", "UTC").await;
        make_admin(&area.app, "other@area.example", AdminRole::SchoolAdmin, Some(other)).await;
        let mut outsider = Dash::new(&area.app);
        outsider.login("other@area.example", PASSWORD).await;
        let theirs = outsider.get("/areas").await;
        assert_eq!(theirs.status, 200, "{backend}");
        assert!(!theirs.body.contains("Gate A"), "{backend}: another school's area is not listed");
        let csrf = theirs.csrf();
        assert_eq!(outsider.post(&path, &[("csrf", &csrf)]).await.status, 404, "{backend}");
        assert_eq!(outsider.post(&format!("/devices/{idb}/area-sync"), &[("csrf", &csrf)]).await.status, 404);
        let nothing = outsider.post("/areas/sync-all", &[("csrf", &csrf)]).await;
        assert!(flash(&nothing).starts_with("No area"), "{backend}: {}", flash(&nothing));
        let after = area.call(Method::GET, &format!("/api/v1/areas/{}/sync", area.area), None).await;
        assert_eq!(after.body["data"]["job_id"], third["job_id"], "{backend}: the outsider started nothing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_student_page_says_which_gates_hold_their_fingerprints_and_face() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let student = area.student("1").await;
        let a = sim(1..=3, 1, SimConfig::default()).await;
        let b = sim([], 0, plain()).await;
        area.add(&a, "Gate A", false).await;
        area.add(&b, "Gate B", false).await;
        let mut dash = Dash::new(&area.app);
        dash.login("root@area.example", PASSWORD).await;
        let before = dash.get(&format!("/students/{student}/edit")).await;
        assert!(before.body.contains("No fingerprint or face of this student is kept yet"), "{backend}");

        let result = area.sync().await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        let page = dash.get(&format!("/students/{student}/edit")).await;
        assert_eq!(page.status, 200, "{backend}");
        let table = &page.body[page.body.find("id=\"student-gates\"").expect("the gates table")..];
        let finger = "(ZKFinger 10)</td><td class=\"holds\">Gate A, Gate B</td><td class=\"not-on\"></td>";
        assert!(table.contains(finger), "{backend}: the fingerprint reached B: {table}");
        let face =
            "<td>face (ZKFace 7)</td><td class=\"holds\">Gate A</td><td class=\"not-on\">Gate B: no face support</td>";
        assert!(table.contains(face), "{backend}: the face did not, and why: {table}");
    }
}
