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
