//! On-demand triggers: a device's "Sync" runs its area's sync (a device in no area gets a
//! single-device sync, `single_device`); an instance running `--pull-service off` hands the run
//! to the instance running the pull service (202), which claims it once and runs it; any instance
//! then reads the result (`handoff`: within a second through the notify path, or expired).

use reqwest::Method;
use serde_json::json;

use ironclock::sync::area::requests::run_requested;
use ironclock::sync::area::AreaSyncOptions;

use super::{empty, pins, plain, put_users, set, sim, Area};
use crate::support::api::{call, login};
use crate::support::{backends, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_sync_runs_its_area_and_a_web_only_instance_hands_the_run_to_the_pull_service() {
    for db in backends().await {
        let twin = db.shared();
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let a = sim(1..=5, 1, plain()).await;
        let b = empty(plain()).await;
        let ida = area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;

        let by_device = area.call(Method::POST, &format!("/api/v1/devices/{ida}/area-sync"), None).await;
        assert_eq!(by_device.status, 200, "{backend}: {}", by_device.text);
        assert_eq!(by_device.body["data"]["success"], true, "{backend}: {}", by_device.text);
        assert_eq!(by_device.body["data"]["area_id"], area.area, "{backend}: the device's area ran");
        assert_eq!(pins(&b), set(1..=5), "{backend}");

        let body = json!({"school_id": area.school, "mode": "pull", "host": "127.0.0.1", "port": 9, "name": "Lone"});
        let lone = area.call(Method::POST, "/api/v1/devices", Some(body)).await;
        assert_eq!(lone.status, 201, "{backend}: {}", lone.text);
        let lone = lone.body["data"]["id"].as_i64().unwrap();
        // In no area: a single-device sync, here of a device that does not answer.
        let alone = area.call(Method::POST, &format!("/api/v1/devices/{lone}/area-sync"), None).await;
        assert_eq!(alone.status, 200, "{backend}: {}", alone.text);
        assert_eq!(alone.body["data"]["success"], false, "{backend}: {}", alone.text);
        assert_eq!(alone.body["data"]["device_id"], lone, "{backend}: {}", alone.text);
        assert!(
            alone.body["data"]["error"].as_str().unwrap().contains("could not be reached"),
            "{backend}: {}",
            alone.text
        );

        // A web-only instance on the same database.
        put_users(&a, 6..=8);
        let web = spawn_app_with(twin, |args| args.pull_service = "off".into()).await;
        let token = login(&web, "root@area.example").await;
        let path = format!("/api/v1/areas/{}/sync", area.area);
        let handed = call(&web, Method::POST, &path, Some(&token), None).await;
        assert_eq!(handed.status, 202, "{backend}: {}", handed.text);
        assert_eq!(handed.body["data"]["handed_off"], true, "{backend}: {}", handed.text);
        assert!(handed.text.contains("pull service"), "{backend}: the reply says where it runs: {}", handed.text);
        let again = call(&web, Method::POST, &format!("/api/v1/devices/{ida}/area-sync"), Some(&token), None).await;
        assert_eq!(again.status, 202, "{backend}: a device's Sync is handed off too: {}", again.text);
        if backend == "sqlite" {
            // Nothing ran on the web-only instance (the 202 says the same). Only SQLite can check
            // it here: on PostgreSQL the pull-service instance hears the request within half a
            // second and may already have run it, which is the point of the hand-off.
            assert_eq!(pins(&b), set(1..=5), "{backend}: nothing ran on the web-only instance");
        }

        let core = &area.app.ctx.core;
        let job_id: i64 = if backend == "sqlite" {
            // No notifications between instances on SQLite: the pull-service instance's minute
            // tick claims the request (once) and runs it; called here instead of waited for.
            let runs = run_requested(core, &AreaSyncOptions::default()).await.unwrap();
            assert_eq!(runs.len(), 1, "{backend}: asked twice before it ran: one run");
            assert!(runs[0].1.success, "{backend}: {:?}", runs[0].1);
            runs[0].1.job_id.unwrap()
        } else {
            // PostgreSQL: the pull-service instance heard the request and runs it on its own.
            super::handoff::finished(&web, &token, &path).await["job_id"].as_i64().unwrap()
        };
        super::handoff::until(backend, || pins(&b) == set(1..=8)).await;
        assert!(run_requested(core, &AreaSyncOptions::default()).await.unwrap().is_empty(), "{backend}: claimed once");

        let status = super::handoff::finished(&web, &token, &path).await;
        assert_eq!(status["status"], "succeeded", "{backend}: {status}");
        assert_eq!(status["started_by"], "root@area.example", "{backend}: {status}");
        if backend == "sqlite" {
            assert_eq!(status["job_id"], job_id, "{backend}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_area_being_synced_is_not_synced_a_second_time_at_once() {
    use ironclock::sync::area::run::{area_lock_key, AREA_BUSY};
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let a = sim(1..=3, 1, plain()).await;
        let b = empty(plain()).await;
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        // The scheduled run (or another instance) is syncing this area: it holds the area's lock.
        let held = area.app.ctx.store.try_job_lock(area_lock_key(area.area)).await.unwrap().expect("free");
        let busy = area.sync().await;
        assert_eq!(busy["success"], false, "{backend}: {busy}");
        assert_eq!(busy["error"], AREA_BUSY, "{backend}: {busy}");
        assert!(pins(&b).is_empty(), "{backend}: nothing was written by the refused run");
        let scheduled = ironclock::sync::area::sync_all_areas(&area.app.ctx.core, &AreaSyncOptions::default()).await;
        let run = scheduled.unwrap();
        assert_eq!(run.areas.len(), 1, "{backend}");
        assert_eq!(run.areas[0].1.error.as_deref(), Some(AREA_BUSY), "{backend}: the schedule leaves it too");
        held.release().await;
        let done = area.sync().await;
        assert_eq!(done["success"], true, "{backend}: {done}");
        assert_eq!(pins(&b), set(1..=3), "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_handed_off_device_sync_of_a_device_put_into_an_area_meanwhile_runs_its_area() {
    use ironclock::domain::DeviceId;
    use ironclock::store::admin::SchoolScope;
    use ironclock::store::DeviceUpdate;
    for db in backends().await {
        // SQLite only: on PostgreSQL the pull-service instance hears the request at once and
        // runs it before the device can be moved (the rule is the same code on both).
        if db.backend != "sqlite" {
            continue;
        }
        let twin = db.shared();
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let (a, b, c) = (sim(1..=3, 1, plain()).await, empty(plain()).await, sim(4..=4, 1, plain()).await);
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        let body = json!({"school_id": area.school, "mode": "pull", "host": "127.0.0.1", "port": c.addr().port(), "name": "C"});
        let lone = area.call(Method::POST, "/api/v1/devices", Some(body)).await;
        assert_eq!(lone.status, 201, "{backend}: {}", lone.text);
        let lone = lone.body["data"]["id"].as_i64().unwrap();

        // C's Sync, asked on a web-only instance while C is in no area: a single-device request.
        let web = spawn_app_with(twin, |args| args.pull_service = "off".into()).await;
        let token = login(&web, "root@area.example").await;
        let handed = call(&web, Method::POST, &format!("/api/v1/devices/{lone}/area-sync"), Some(&token), None).await;
        assert_eq!(handed.status, 202, "{backend}: {}", handed.text);
        // Before it runs, the admin puts C into the area.
        let update = DeviceUpdate { area_id: Some(Some(area.area)), ..Default::default() };
        area.app.ctx.store.change_device(SchoolScope::all(), lone, &update, None).await.unwrap();
        assert!(area.app.ctx.store.get_device(DeviceId(lone)).await.unwrap().unwrap().area_id.is_some());

        let runs = run_requested(&area.app.ctx.core, &AreaSyncOptions::default()).await.unwrap();
        assert_eq!(runs.len(), 1, "{backend}: {runs:?}");
        assert_eq!(runs[0].1.area_id, Some(area.area), "{backend}: the area's sync ran: {:?}", runs[0].1);
        super::handoff::until(backend, || pins(&b) == set(1..=4)).await;
        assert_eq!(pins(&a), set(1..=4), "{backend}: C is one of the area's devices now");
        // Followed from C, the run that synced it is its area's.
        let followed = area.call(Method::GET, &format!("/api/v1/devices/{lone}/area-sync"), None).await;
        assert_eq!(followed.body["data"]["area_id"], area.area, "{backend}: {}", followed.text);
    }
}
