//! The roster wins over the union: a deleted or deactivated student is removed from every
//! device and never re-added; nobody is removed because one device lacks them; device users who
//! are no student are unioned and listed for adoption.

use reqwest::Method;
use serde_json::json;

use super::{pins, plain, set, sim, Area};
use crate::support::backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_or_deactivated_student_is_removed_everywhere_and_not_re_added() {
    for db in backends().await {
        let area = Area::new(db).await;
        let mut ids = Vec::new();
        for pin in 1..=4 {
            ids.push(area.student(&pin.to_string()).await);
        }
        // Student 2 deleted and student 3 deactivated before the gates join the area: their
        // users linger on the devices (enrolled there long ago).
        let deleted = area.call(Method::DELETE, &format!("/api/v1/students/{}", ids[1]), None).await;
        assert_eq!(deleted.status, 200, "{}", deleted.text);
        let off =
            area.call(Method::PATCH, &format!("/api/v1/students/{}", ids[2]), Some(json!({"is_active": false}))).await;
        assert_eq!(off.status, 200, "{}", off.text);
        let a = sim(1..=6, 1, plain()).await;
        let b = sim([1, 2, 3], 1, plain()).await;
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        let backend = area.app.backend;

        let first = area.sync().await;
        assert_eq!(first["success"], true, "{backend}: {first}");
        assert_eq!(first["users_removed"], 4, "{backend}: 2 and 3 from A and from B, by the area sync: {first}");
        let expected = set([1, 4, 5, 6]);
        assert_eq!(pins(&a), expected, "{backend}: A");
        assert_eq!(pins(&b), expected, "{backend}: B gains 4, 5, 6 and loses 2 and 3");
        let adoptable: Vec<&str> =
            first["adoptable"].as_array().unwrap().iter().map(|u| u["pin"].as_str().unwrap()).collect();
        assert_eq!(adoptable, ["5", "6"], "{backend}: device users who are no student: {first}");

        // The biometric store learned the students' fingerprints from the pull reads.
        let kept = area.call(Method::GET, &format!("/api/v1/students/{}/biometrics", ids[0]), None).await;
        assert_eq!(kept.status, 200, "{backend}: {}", kept.text);
        let item = &kept.body["data"]["items"][0];
        assert_eq!(
            (item["kind"].as_str(), item["version"].as_str()),
            (Some("finger"), Some("10")),
            "{backend}: {item}"
        );
        assert_eq!(item["source"], "area_sync", "{backend}");
        let removed = area
            .app
            .query_one::<i64>(&format!(
                "select count(*) from student_biometrics where student_id in ({}, {})",
                ids[1], ids[2]
            ))
            .await;
        assert_eq!(removed, 0, "{backend}: nothing kept for removed students");

        let second = area.sync().await;
        assert_eq!(second["success"], true, "{backend}: {second}");
        assert_eq!(second["total_users_synced"], 0, "{backend}: {second}");
        assert_eq!(pins(&a), expected, "{backend}: not re-added");
        assert_eq!(pins(&b), expected, "{backend}: not re-added");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_area_with_fewer_than_two_reachable_devices_answers_success_false_with_the_reason() {
    for db in backends().await {
        let area = Area::new(db).await;
        let a = sim(1..=3, 1, plain()).await;
        area.add(&a, "A", false).await;
        let result = area.sync().await;
        let backend = area.app.backend;
        assert_eq!(result["success"], false, "{backend}: {result}");
        assert!(result["error"].as_str().unwrap().contains("at least two reachable devices"), "{backend}: {result}");
        assert_eq!(pins(&a), set(1..=3), "{backend}: nothing touched");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registered_devices_named_by_address_are_synced_with_each_other() {
    for db in backends().await {
        let area = Area::new(db).await;
        let a = sim(1..=5, 1, plain()).await;
        let b = sim(6..=8, 1, plain()).await;
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        let backend = area.app.backend;
        let ips = json!({"ips": [a.addr().to_string(), b.addr().to_string()]});
        let reply = area.call(Method::POST, "/api/v1/devices/sync", Some(ips)).await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.text);
        assert_eq!(reply.body["data"]["success"], true, "{backend}: {}", reply.text);
        assert_eq!(pins(&a), set(1..=8), "{backend}");
        assert_eq!(pins(&b), set(1..=8), "{backend}");
        let unknown = json!({"ips": [a.addr().to_string(), "10.9.9.9"]});
        let refused = area.call(Method::POST, "/api/v1/devices/sync", Some(unknown)).await;
        assert_eq!(refused.status, 422, "{backend}: {}", refused.text);
        assert!(refused.text.contains("10.9.9.9"), "{backend}: the unknown address is named: {}", refused.text);
        // Both simulators listen on 127.0.0.1: the bare host names two devices, never "the first".
        let bare = json!({"ips": ["127.0.0.1", b.addr().to_string()]});
        let refused = area.call(Method::POST, "/api/v1/devices/sync", Some(bare)).await;
        assert_eq!(refused.status, 422, "{backend}: {}", refused.text);
        assert!(refused.text.contains("127.0.0.1 names 2 devices"), "{backend}: {}", refused.text);
        assert!(refused.text.contains(&format!("A (127.0.0.1:{})", a.addr().port())), "{backend}: {}", refused.text);
    }
}
