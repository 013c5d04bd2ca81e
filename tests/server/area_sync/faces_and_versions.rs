//! Faces and photos go to devices that can hold them (same ZKFace version) and are skipped with
//! a reason elsewhere; fingerprints go only between devices of the same ZKFinger version.

use ironclock::sim::pull::SimConfig;

use super::{empty, fingers, pins, plain, set, sim, skips, Area};
use crate::support::backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn faces_and_photos_reach_a_face_capable_device_and_are_skipped_with_a_reason_on_a_face_less_one() {
    for db in backends().await {
        let area = Area::new(db).await;
        let a = sim(1..=4, 1, SimConfig::default()).await; // ZKFace 7, photos
        let b = empty(SimConfig::default()).await;
        let c = empty(plain()).await;
        area.add(&a, "A", false).await;
        let idb = area.add(&b, "B", false).await;
        let idc = area.add(&c, "C", false).await;
        let result = area.sync().await;
        let backend = area.app.backend;
        assert_eq!(result["success"], true, "{backend}: {result}");
        assert_eq!(result["face_templates_synced"], 4, "{backend}: {result}");
        assert_eq!(result["photos_synced"], 4, "{backend}: {result}");
        for user in b.users() {
            let face = b.face_blob(user.uid).unwrap_or_else(|| panic!("{backend}: B has no face for {}", user.user_id));
            assert_eq!(face.len(), 15 * 2576, "{backend}: all 15 records");
            assert_eq!(b.photo(&user.user_id), a.photo(&user.user_id), "{backend}: the same photo");
        }
        assert_eq!(pins(&c), set(1..=4), "{backend}: the face-less device still gets the people");
        assert_eq!(fingers(&c).len(), 4, "{backend}: and their fingerprints");
        let face_skip = skips(&result, idc, "face");
        assert_eq!(face_skip.len(), 1, "{backend}: {result}");
        assert_eq!(face_skip[0]["count"], 4, "{backend}");
        assert!(face_skip[0]["reason"].as_str().unwrap().contains("C: no face support"), "{backend}: {face_skip:?}");
        assert!(!skips(&result, idc, "photo").is_empty(), "{backend}: photos skipped on C with a reason");
        assert!(skips(&result, idb, "face").is_empty(), "{backend}: nothing skipped on B");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fingerprints_of_another_zkfinger_version_are_skipped_with_a_reason() {
    for db in backends().await {
        let area = Area::new(db).await;
        let a = sim(1..=5, 1, plain()).await; // ZKFinger 10
        let b = sim(6..=10, 1, SimConfig { fp_version: 9, ..plain() }).await;
        let c = empty(plain()).await; // ZKFinger 10
        let ida = area.add(&a, "A", false).await;
        let idb = area.add(&b, "B", false).await;
        let idc = area.add(&c, "C", false).await;
        let result = area.sync().await;
        let backend = area.app.backend;
        assert_eq!(result["success"], true, "{backend}: {result}");
        for device in [&a, &b, &c] {
            assert_eq!(pins(device), set(1..=10), "{backend}: every person everywhere");
        }
        let c_fingers: Vec<String> = fingers(&c).into_keys().map(|(pin, _)| pin).collect();
        assert_eq!(c_fingers, ["1", "2", "3", "4", "5"], "{backend}: only A's (same version) templates on C");
        assert_eq!(fingers(&b).len(), 5, "{backend}: B keeps only its own");
        assert_eq!(fingers(&a).len(), 5, "{backend}: A gets none of B's");
        let on_c = skips(&result, idc, "fingerprint");
        assert_eq!(on_c.len(), 1, "{backend}: {result}");
        assert_eq!(on_c[0]["count"], 5, "{backend}");
        assert!(
            on_c[0]["reason"].as_str().unwrap().contains("ZKFinger 9 templates cannot go to a ZKFinger 10 device"),
            "{backend}: {on_c:?}"
        );
        assert_eq!(skips(&result, idb, "fingerprint")[0]["count"], 5, "{backend}: A's five cannot go to B");
        assert_eq!(skips(&result, ida, "fingerprint")[0]["count"], 5, "{backend}: B's five cannot go to A");
    }
}
