//! A device in no area: its "Sync" is a single-device sync from the school's roster and the
//! biometric store (the primary, never written): the active students it lacks with their
//! fingerprints, faces and photos, the same gating and skip reasons as an area sync, deleted or
//! deactivated students removed and never re-added; recorded in `job_executions` and followed by
//! `GET /api/v1/devices/{id}/area-sync`; another school's device is a 404.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;

use reqwest::Method;
use serde_json::{json, Value};

use ironclock::domain::DeviceId;
use ironclock::sim::pull::{SimConfig, SimDevice};
use ironclock::store::admin::AdminRole;
use ironclock::sync::area::{sync_device, AreaProgress, AreaSyncOptions, ProgressSink};

use super::{empty, fingers, pins, plain, set, sim, skips, Area};
use crate::dashboard::{Dash, PASSWORD};
use crate::support::api::{call, login, make_admin};
use crate::support::backends;

/// Adds the sim as a pull device of the school in NO area; waits until the pull service holds it.
pub async fn add_lone(area: &Area, sim: &SimDevice, name: &str) -> i64 {
    let body = json!({
        "school_id": area.school, "mode": "pull", "host": "127.0.0.1", "port": sim.addr().port(),
        "transport": "tcp", "name": name, "realtime_enabled": false,
    });
    let reply = area.call(Method::POST, "/api/v1/devices", Some(body)).await;
    assert_eq!(reply.status, 201, "{}: {}", area.app.backend, reply.text);
    let id = reply.body["data"]["id"].as_i64().unwrap();
    for _ in 0..200 {
        if area.app.ctx.store.lease_holder(DeviceId(id), area.app.ctx.clock.now()).await.unwrap().is_some() {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{}: device {id} was not picked up by the pull service", area.app.backend);
}

/// `POST /api/v1/devices/{id}/area-sync`: the result (200 expected).
async fn sync_lone(area: &Area, id: i64) -> Value {
    let reply = area.call(Method::POST, &format!("/api/v1/devices/{id}/area-sync"), None).await;
    assert_eq!(reply.status, 200, "{}: {}", area.app.backend, reply.text);
    reply.body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_in_no_area_gets_the_roster_and_the_stores_copies_and_loses_removed_students() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let mut ids = Vec::new();
        for pin in 1..=6 {
            ids.push(area.student(&pin.to_string()).await);
        }
        // The store learns students 1–3 (two fingerprints each, ZKFinger 10, a ZKFace 7 face set
        // and a photo) from an area sync of A and B.
        let a = sim(1..=3, 2, SimConfig::default()).await;
        let b = empty(SimConfig::default()).await;
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        assert_eq!(area.sync().await["success"], true, "{backend}");
        // 5 deleted, 6 deactivated; 4 has no copies in the store.
        let deleted = area.call(Method::DELETE, &format!("/api/v1/students/{}", ids[4]), None).await;
        assert!(deleted.status.is_success(), "{backend}: {}", deleted.text);
        let path = format!("/api/v1/students/{}", ids[5]);
        let off = area.call(Method::PATCH, &path, Some(json!({"is_active": false}))).await;
        assert_eq!(off.status, 200, "{backend}: {}", off.text);

        // L (faces, photos) holds 1, 5, 6 and a guard (900); P keeps no faces or photos; Q is ZKFinger 9.
        let l = sim([1, 5, 6, 900], 1, SimConfig::default()).await;
        let p = empty(plain()).await;
        let q = empty(SimConfig { fp_version: 9, ..plain() }).await;
        let idl = add_lone(&area, &l, "L").await;
        let idp = add_lone(&area, &p, "P").await;
        let idq = add_lone(&area, &q, "Q").await;

        let before = fingers(&l);
        let first = sync_lone(&area, idl).await;
        assert_eq!(first["success"], true, "{backend}: {first}");
        assert_eq!(first["primary_device"]["name"], "store", "{backend}: {first}");
        assert_eq!(first["device_id"], idl, "{backend}: {first}");
        assert!(first["area_id"].is_null(), "{backend}: {first}");
        assert_eq!(first["synced_devices"], 1, "{backend}: the store is not a device: {first}");
        assert_eq!(first["devices"].as_array().unwrap().len(), 1, "{backend}: {first}");
        assert_eq!(first["total_users_synced"], 3, "{backend}: students 2, 3, 4: {first}");
        assert_eq!(first["users_removed"], 2, "{backend}: students 5 and 6: {first}");
        // L's own copies of 1 are the same as the store's (the sim seeds them alike): 2 and 3 only.
        assert_eq!(first["face_templates_synced"], 2, "{backend}: {first}");
        assert_eq!(first["photos_synced"], 2, "{backend}: {first}");
        assert_eq!(first["not_taken"], json!([]), "{backend}: everything read back: {first}");
        let mut expected = set(1..=4);
        expected.insert("900".into());
        assert_eq!(pins(&l), expected, "{backend}: the roster, the guard kept, 5 and 6 removed");
        let (from_a, on_l) = (fingers(&a), fingers(&l));
        for (key, data) in &from_a {
            assert_eq!(on_l.get(key), Some(data), "{backend}: fingerprint {key:?} from the store");
        }
        let lacking = from_a.iter().filter(|(k, d)| before.get(*k) != Some(*d)).count();
        assert!(lacking >= 4, "{backend}: students 2 and 3 had none on L");
        assert_eq!(first["total_templates_synced"], lacking, "{backend}: what L lacked or held differently: {first}");
        for user in l.users().into_iter().filter(|u| ["2", "3"].contains(&u.user_id.as_str())) {
            let face = l.face_blob(user.uid).unwrap_or_else(|| panic!("{backend}: L has no face for {}", user.user_id));
            assert_eq!(face.len(), 15 * 2576, "{backend}: the whole face set");
            assert_eq!(l.photo(&user.user_id), a.photo(&user.user_id), "{backend}: the store's photo");
        }

        // Nothing to change: a second run writes nothing, and 5 and 6 are not re-added.
        let second = sync_lone(&area, idl).await;
        for figure in ["total_users_synced", "total_templates_synced", "face_templates_synced", "photos_synced"] {
            assert_eq!(second[figure], 0, "{backend}: {figure}: {second}");
        }
        assert_eq!(second["users_removed"], 0, "{backend}: {second}");
        assert_eq!(pins(&l), expected, "{backend}");

        // Live progress counts the device, not the store's members.
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let progress = ProgressSink::new(move |p: &AreaProgress| sink.lock().unwrap().push(p.clone()));
        let opts = AreaSyncOptions { progress, ..AreaSyncOptions::default() };
        let third = sync_device(&area.app.ctx.core, area.school, DeviceId(idl), &opts).await.unwrap();
        assert!(third.success, "{backend}: {third:?}");
        let seen = seen.lock().unwrap().clone();
        assert!(seen.iter().any(|p| p.devices_total == 1), "{backend}: {seen:?}");
        assert!(seen.iter().all(|p| p.devices_total <= 1 && p.devices_done <= 1), "{backend}: {seen:?}");

        // The same gating and skip reasons as an area sync.
        let on_p = sync_lone(&area, idp).await;
        assert_eq!(on_p["success"], true, "{backend}: {on_p}");
        assert_eq!(pins(&p), set(1..=4), "{backend}");
        assert_eq!(fingers(&p).len(), 6, "{backend}: same ZKFinger version");
        let face = skips(&on_p, idp, "face");
        assert_eq!(face.len(), 1, "{backend}: {on_p}");
        assert_eq!(face[0]["count"], 3, "{backend}: {on_p}");
        assert!(face[0]["reason"].as_str().unwrap().contains("P: no face support"), "{backend}: {face:?}");
        assert!(!skips(&on_p, idp, "photo").is_empty(), "{backend}: {on_p}");
        assert!(on_p["skipped"].as_array().unwrap().iter().all(|s| s["device_id"] == idp), "{backend}: {on_p}");
        let on_q = sync_lone(&area, idq).await;
        assert_eq!(pins(&q), set(1..=4), "{backend}: people go whatever the version");
        assert!(fingers(&q).is_empty(), "{backend}: no ZKFinger 10 template on a ZKFinger 9 device");
        let fp = skips(&on_q, idq, "fingerprint");
        assert_eq!(fp.len(), 1, "{backend}: {on_q}");
        assert_eq!(fp[0]["count"], 6, "{backend}: {on_q}");
        let reason = fp[0]["reason"].as_str().unwrap();
        assert!(reason.contains("ZKFinger 10 templates cannot go to a ZKFinger 9 device"), "{backend}: {reason}");

        // Kept in job_executions, followed by GET.
        let run = area.call(Method::GET, &format!("/api/v1/devices/{idl}/area-sync"), None).await;
        assert_eq!(run.status, 200, "{backend}: {}", run.text);
        assert_eq!(run.body["data"]["status"], "succeeded", "{backend}: {}", run.text);
        assert_eq!(run.body["data"]["job_id"], third.job_id.unwrap(), "{backend}: the latest run");
        assert_eq!(run.body["data"]["device_id"], idl, "{backend}");
        assert_eq!(run.body["data"]["result"]["primary_device"]["name"], "store", "{backend}");

        // Another school's admin: a 404, and nothing runs.
        let other = area.app.school("Other School", "UTC").await;
        make_admin(&area.app, "other@area.example", AdminRole::SchoolAdmin, Some(other)).await;
        let token = login(&area.app, "other@area.example").await;
        let path = format!("/api/v1/devices/{idl}/area-sync");
        let refused = call(&area.app, Method::POST, &path, Some(&token), None).await;
        assert_eq!(refused.status, 404, "{backend}: {}", refused.text);
        assert_eq!(call(&area.app, Method::GET, &path, Some(&token), None).await.status, 404, "{backend}");
    }
}

/// Registers `sn` as a push device with these `options`, approved into the school, in no area.
async fn lone_push(area: &Area, sn: &str, options: &str) -> i64 {
    area.app.handshake(sn).await;
    let resp = area.app.post(&format!("/iclock/cdata?SN={sn}&table=options"), options.to_string()).await;
    assert_eq!(resp.status(), 200, "{}: options upload", area.app.backend);
    area.app.approve_into(sn, area.school).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_device_in_no_area_gets_the_stores_fingerprint_queued_after_its_user() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        area.student("101").await;
        // X (no area either, and it never said its ZKFinger version) uploads two fingerprints of
        // 101: finger 6 as BIODATA (the store keeps it as ZKFinger 10: MajorVer), finger 5 as FP
        // (kept as of an unknown version).
        lone_push(&area, "SXPUSH1", "FingerFunOn=1\n").await;
        let template: Vec<u8> = (0..1100u32).map(|i| (i * 37 % 251) as u8).collect();
        let tmp = B64.encode(&template);
        let upload = format!(
            "USER PIN=101\tName=Student 101\tPri=0\tPasswd=\tCard=\tGrp=1\tTZ=0000000100000000\tVerify=-1\n\
             BIODATA Pin=101\tNo=6\tIndex=0\tValid=1\tDuress=0\tType=1\tMajorVer=10\tMinorVer=0\tFormat=0\tTmp={tmp}\n\
             FP PIN=101\tFID=5\tSize={}\tValid=1\tTMP={tmp}\n",
            tmp.len()
        );
        let resp = area.app.post("/iclock/cdata?SN=SXPUSH1&table=OPERLOG&OpStamp=1", upload).await;
        assert_eq!(resp.status(), 200, "{backend}");

        let y = lone_push(&area, "SYPUSH1", "FPVersion=10\nFingerFunOn=1\n").await;
        let result = sync_lone(&area, y).await;
        assert_eq!(result["success"], true, "{backend}: {result}");
        assert_eq!(result["primary_device"]["name"], "store", "{backend}: {result}");
        assert_eq!(result["devices"][0]["queued"], true, "{backend}: {result}");
        assert_eq!(result["templates_queued"], 1, "{backend}: queued, not claimed written: {result}");
        assert_eq!(result["total_templates_synced"], 0, "{backend}: {result}");
        let fp = skips(&result, y, "fingerprint");
        assert_eq!(fp.len(), 1, "{backend}: {result}");
        let reason = fp[0]["reason"].as_str().unwrap();
        assert!(reason.contains("ZKFinger unknown templates cannot go to a ZKFinger 10 device"), "{backend}: {reason}");

        let body = area.app.poll("SYPUSH1").await;
        let lines: Vec<&str> =
            body.lines().filter_map(|l| l.strip_prefix("C:")).filter_map(|l| l.split_once(':')).map(|l| l.1).collect();
        let fp = format!("DATA UPDATE FINGERTMP PIN=101\tFID=6\tSize={}\tValid=1\tTMP={tmp}", tmp.len());
        let at = lines.iter().position(|l| *l == fp).unwrap_or_else(|| panic!("{backend}: {fp:?} not in {lines:#?}"));
        let user = lines.iter().position(|l| l.starts_with("DATA UPDATE USERINFO PIN=101\t"));
        assert!(user.is_some_and(|u| u < at), "{backend}: the user before the template: {lines:#?}");
        // A second run queues nothing again.
        let again = sync_lone(&area, y).await;
        assert_eq!(again["templates_queued"], 0, "{backend}: {again}");
        assert_eq!(again["users_queued"], 0, "{backend}: {again}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_areas_page_lists_devices_in_no_area_and_their_sync_runs_the_single_device_sync() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        for pin in 1..=2 {
            area.student(&pin.to_string()).await;
        }
        let l = empty(plain()).await;
        let idl = add_lone(&area, &l, "Lone Gate").await;
        let mut dash = Dash::new(&area.app);
        dash.login("root@area.example", PASSWORD).await;
        let page = dash.get("/areas").await;
        assert_eq!(page.status, 200, "{backend}: {}", page.body);
        assert!(page.body.contains("Devices in no area") && page.body.contains("Lone Gate"), "{backend}");
        assert!(page.body.contains(&format!("action=\"/devices/{idl}/area-sync\"")), "{backend}: its Sync button");
        let started = dash.post(&format!("/devices/{idl}/area-sync"), &[("csrf", &page.csrf())]).await;
        assert_eq!(started.status, 303, "{backend}: {}", started.body);
        let url = reqwest::Url::parse(&format!("http://x{}", started.location.clone().unwrap())).unwrap();
        let flash: String = url.query_pairs().filter(|(k, _)| k == "flash").map(|(_, v)| v.into_owned()).collect();
        assert!(flash.contains("Lone Gate: sync started"), "{backend}: {flash}");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let run =
                area.call(Method::GET, &format!("/api/v1/devices/{idl}/area-sync"), None).await.body["data"].clone();
            if run["status"] == "succeeded" {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{backend}: no run finished: {run}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(pins(&l), set(1..=2), "{backend}: the roster reached the device");
        let page = dash.get("/areas").await;
        assert!(page.body.contains("succeeded"), "{backend}: the last run on the page");
    }
}
