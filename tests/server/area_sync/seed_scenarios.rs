//! The two scenarios the school described, with every template, read back with pyzk-new; and a
//! second run that writes nothing.

use super::{empty, fingers, pins, plain, put_users, pyzk, set, sim, Area};
use crate::support::backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_empty_device_scenario_leaves_120_users_and_95_templates_on_every_device_and_a_rerun_writes_nothing() {
    for db in backends().await {
        let area = Area::new(db).await;
        // A: 100 users, 80 templates. B: empty. C: 20 other users, 15 templates.
        let a = sim(1..=80, 1, plain()).await;
        put_users(&a, 81..=100);
        let b = empty(plain()).await;
        let c = sim(201..=215, 1, plain()).await;
        put_users(&c, 216..=220);
        let ida = area.add(&a, "A", false).await;
        let idb = area.add(&b, "B", false).await;
        let idc = area.add(&c, "C", false).await;

        let first = area.sync().await;
        let backend = area.app.backend;
        assert_eq!(first["success"], true, "{backend}: {first}");
        assert_eq!(first["primary_device"]["id"], ida, "{backend}: A has the most users + templates");
        assert_eq!(first["synced_devices"], 3, "{backend}");
        // B gets 120 users and 95 templates, A gets C's 20 and 15, C gets A's 100 and 80.
        assert_eq!(first["total_users_synced"], 240, "{backend}: {first}");
        assert_eq!(first["total_templates_synced"], 190, "{backend}: {first}");
        assert_eq!(first["not_taken"], serde_json::json!([]), "{backend}: everything took");
        assert!(first["duration_ms"].is_u64(), "{backend}");

        let everyone: std::collections::BTreeSet<String> = set(1..=100).union(&set(201..=220)).cloned().collect();
        let reference = fingers(&a);
        for (name, device) in [("A", &a), ("B", &b), ("C", &c)] {
            assert_eq!(pins(device), everyone, "{backend}: users on {name}");
            let (users, templates) = pyzk(device).await;
            assert_eq!(users, everyone, "{backend}: pyzk reads 120 users on {name}");
            assert_eq!(templates.len(), 95, "{backend}: pyzk reads 95 templates on {name}");
            // The same bytes as the enrolling device, under the same person (whatever the uid).
            let held = fingers(device);
            for (key, bytes) in &reference {
                assert_eq!(held.get(key), Some(bytes), "{backend}: {name} {key:?}");
            }
        }
        let _ = (idb, idc);

        let second = area.sync().await;
        assert_eq!(second["success"], true, "{backend}: {second}");
        for field in ["total_users_synced", "total_templates_synced", "face_templates_synced", "photos_synced"] {
            assert_eq!(second[field], 0, "{backend}: a second run writes nothing ({field}): {second}");
        }
        let runs: i64 = area.app.query_one("select count(*) from job_executions where job = 'area_sync'").await;
        assert_eq!(runs, 2, "{backend}: each run is recorded");
        let summary: String = area
            .app
            .query_one(
                "select cast(summary as text) from job_executions where job = 'area_sync' order by id desc limit 1",
            )
            .await;
        let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
        assert_eq!(summary["synced_devices"], 3, "{backend}: the result is kept with the run");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_partial_scenario_leaves_users_1_to_100_with_their_templates_on_every_device() {
    for db in backends().await {
        let area = Area::new(db).await;
        let a = sim(1..=50, 2, plain()).await;
        let b = sim(51..=100, 2, plain()).await;
        let c = sim(1..=25, 2, plain()).await;
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        area.add(&c, "C", false).await;
        let result = area.sync().await;
        let backend = area.app.backend;
        assert_eq!(result["success"], true, "{backend}: {result}");
        for (name, device) in [("A", &a), ("B", &b), ("C", &c)] {
            assert_eq!(pins(device), set(1..=100), "{backend}: users on {name}");
            let (users, templates) = pyzk(device).await;
            assert_eq!(users, set(1..=100), "{backend}: pyzk on {name}");
            assert_eq!(templates.len(), 200, "{backend}: two fingers of each of 100 people on {name}");
        }
    }
}
