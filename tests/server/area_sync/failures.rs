//! A device that drops mid-sync is reported and the others converge (it converges on the next
//! run); live punches made while a device's session is lent to the sync are stored once.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use ironclock::domain::DeviceId;
use ironclock::sim::pull::Faults;

use super::{empty, fingers, pins, plain, set, sim, Area};
use crate::support::backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_device_dropping_mid_sync_is_reported_the_others_converge_and_the_next_run_catches_it_up() {
    for db in backends().await {
        let area = Area::new(db).await;
        let a = sim(1..=30, 1, plain()).await;
        let b = empty(plain()).await;
        let c = empty(plain()).await;
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        let idc = area.add(&c, "C", false).await;
        // C's session ends without a reply in the middle of its writes (request 40 of its
        // session: after the counts, the reads and the first user's own write).
        c.set_faults(Faults { cut_at_request: 40, ..Faults::default() });
        let first = area.sync().await;
        let backend = area.app.backend;
        assert_eq!(first["success"], false, "{backend}: {first}");
        let errors = first["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{backend}: {first}");
        assert_eq!(errors[0]["device_id"], idc, "{backend}: C is reported");
        assert!(first["error"].as_str().unwrap().contains("next run"), "{backend}: {first}");
        let c_line = first["devices"].as_array().unwrap().iter().find(|d| d["device_id"] == idc).unwrap().clone();
        // Users go in one batch upload and fingerprints in another: the cut lands in either.
        let (users, prints) =
            (c_line["users_written"].as_u64().unwrap(), c_line["fingerprints_written"].as_u64().unwrap());
        assert!(users < 30 || prints < 30, "{backend}: cut while writing: {c_line}");
        assert!(!pins(&c).is_empty(), "{backend}: some users reached C before the cut");
        assert_eq!(pins(&b), set(1..=30), "{backend}: B converged anyway");
        assert_eq!(fingers(&b).len(), 30, "{backend}");

        let second = area.sync().await;
        assert_eq!(second["success"], true, "{backend}: {second}");
        assert_eq!(pins(&c), set(1..=30), "{backend}: C caught up");
        assert_eq!(fingers(&c).len(), 30, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn live_punches_made_during_a_sync_are_stored_once() {
    for db in backends().await {
        let area = Area::new(db).await;
        let a = sim(1..=200, 2, plain()).await;
        let b = empty(plain()).await;
        let ida = area.add(&a, "A", true).await;
        let idb = area.add(&b, "B", true).await;
        let store = &area.app.ctx.store;
        let backend = area.app.backend;
        // Both realtime sessions open before the sync borrows them.
        for _ in 0..100 {
            if a.session_count() > 0 && b.session_count() > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let path = format!("/api/v1/areas/{}/sync", area.area);
        let sync = area.call(Method::POST, &path, None);
        let punching = async {
            for n in 0..20u32 {
                // Distinct people: punches are unique on (device, person, second).
                a.inject_punch(&(1 + n).to_string(), 1, 0);
                b.inject_punch(&(101 + n).to_string(), 1, 0);
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
        };
        let (reply, ()) = tokio::join!(sync, punching);
        assert_eq!(reply.status, 200, "{backend}: {}", reply.text);
        assert_eq!(reply.body["data"]["success"], true, "{backend}: {}", reply.text);
        let distinct = |sim: &ironclock::sim::pull::SimDevice| {
            let keys: std::collections::BTreeSet<_> =
                sim.attendance().into_iter().map(|r| (r.user_id, r.timestamp)).collect();
            keys.len() as i64
        };
        let (recorded_a, recorded_b) = (distinct(&a), distinct(&b));
        assert_eq!(recorded_a, 20, "{backend}: A took every punch");
        assert!(recorded_b > 0, "{backend}: B took punches once the people reached it");
        for (id, want) in [(ida, recorded_a), (idb, recorded_b)] {
            let mut stored = 0;
            for _ in 0..100 {
                stored = store.count_punches(Some(DeviceId(id))).await.unwrap();
                if stored >= want {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(stored, want, "{backend}: device {id}: every live punch stored");
            // A collection afterwards finds them all already stored: none lost, none doubled.
            let collected =
                area.call(Method::POST, &format!("/api/v1/devices/{id}/sync-attendance"), Some(json!({}))).await;
            assert_eq!(collected.body["data"]["logs_synced"], 0, "{backend}: {}", collected.text);
            assert_eq!(store.count_punches(Some(DeviceId(id))).await.unwrap(), want, "{backend}: once");
        }
    }
}
