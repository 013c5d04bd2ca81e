//! Live progress: while an area sync runs, `GET /api/v1/areas/{id}/sync` answers its phase,
//! devices and items done of their totals and an ETA from the measured rate (kept in the run's
//! job row, so any instance answers it); once finished, the result. Another school's area is 404.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use ironclock::sim::pull::{Faults, SimConfig};
use ironclock::store::admin::AdminRole;

use super::{empty, sim, Area};
use crate::support::api::{call, login, make_admin};
use crate::support::backends;

fn photos_only() -> SimConfig {
    SimConfig { face_version: None, photos_supported: true, ..SimConfig::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_sync_reports_its_phase_counts_and_eta_and_then_its_result() {
    for db in backends().await {
        let area = Area::new(db).await;
        let backend = area.app.backend;
        let path = format!("/api/v1/areas/{}/sync", area.area);
        let never = area.call(Method::GET, &path, None).await;
        assert_eq!(never.status, 200, "{backend}: {}", never.text);
        assert!(never.body["data"].is_null(), "{backend}: no run yet: {}", never.text);

        // A: 40 users with a fingerprint and a photo each; B: empty and slow (25 ms a reply), so
        // its 120 writes (40 users, 40 fingerprints, 40 photos one by one) take a while.
        let a = sim(1..=40, 1, photos_only()).await;
        let b = empty(photos_only()).await;
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        b.set_faults(Faults { slow_reply: Duration::from_millis(25), ..Faults::default() });

        let sync = area.call(Method::POST, &path, None);
        let watch = async {
            let mut seen: Vec<Value> = Vec::new();
            for _ in 0..1000 {
                let reply = area.call(Method::GET, &path, None).await;
                assert_eq!(reply.status, 200, "{backend}: {}", reply.text);
                let run = reply.body["data"].clone();
                if run["status"] == "running" {
                    seen.push(run["progress"].clone());
                } else if !seen.is_empty() && run["status"] != Value::Null {
                    return (seen, run);
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            panic!("{backend}: the run never finished: {seen:?}");
        };
        let (posted, (seen, finished)) = tokio::join!(sync, watch);
        assert_eq!(posted.status, 200, "{backend}: {}", posted.text);
        assert_eq!(posted.body["data"]["success"], true, "{backend}: {}", posted.text);

        assert!(seen.iter().all(|p| p["devices_total"] == 2 || p["phase"] == "counting"), "{backend}: {seen:?}");
        let mid_write = seen
            .iter()
            .find(|p| {
                let (done, total) = (p["items_written"].as_u64().unwrap(), p["items_total"].as_u64().unwrap());
                p["phase"] == "writing" && done > 0 && done < total
            })
            .unwrap_or_else(|| panic!("{backend}: no snapshot in the middle of the writes: {seen:?}"));
        // 40 users + 40 fingerprints to B, and its 40 photos once every device's were read.
        let total = mid_write["items_total"].as_u64().unwrap();
        assert!(total == 80 || total == 120, "{backend}: {mid_write}");
        let totals: std::collections::BTreeSet<u64> = seen.iter().filter_map(|p| p["items_total"].as_u64()).collect();
        assert!(totals.iter().all(|t| [0, 80, 120].contains(t)), "{backend}: {totals:?}");
        assert!(mid_write["eta_seconds"].as_u64().unwrap() >= 1, "{backend}: an ETA while items remain: {mid_write}");
        for p in &seen {
            // The rate is of items while writing, of devices otherwise.
            let by_items = p["phase"] == "writing" && p["items_total"].as_u64().unwrap() > 0;
            let unit = if by_items { "items_written" } else { "devices_done" };
            let measured = p[unit].as_u64().unwrap() > 0;
            assert!(!measured || p["eta_seconds"].is_u64(), "{backend}: a rate measured gives an ETA: {p}");
        }

        assert_eq!(finished["status"], "succeeded", "{backend}: {finished}");
        assert_eq!(finished["job_id"], posted.body["data"]["job_id"], "{backend}");
        assert_eq!(finished["result"]["area_id"], area.area, "{backend}: {finished}");
        assert_eq!(finished["result"]["photos_synced"], 40, "{backend}: {finished}");
        assert!(finished["finished_at"].is_string(), "{backend}: {finished}");

        // Another school's admin does not see this area.
        let other = area.app.school("Other School", "UTC").await;
        make_admin(&area.app, "other@area.example", AdminRole::SchoolAdmin, Some(other)).await;
        let token = login(&area.app, "other@area.example").await;
        let hidden = call(&area.app, Method::GET, &path, Some(&token), None).await;
        assert_eq!(hidden.status, 404, "{backend}: {}", hidden.text);
    }
}
