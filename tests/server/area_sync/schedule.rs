//! The scheduled run: every area with two or more pull devices in service, one instance at a
//! time (the job lock); each area's run recorded.

use ironclock::sync::area::{sync_all_areas, AreaSyncOptions, AREA_SYNC_LOCK_KEY};

use super::{pins, plain, set, sim, Area};
use crate::support::backends;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_scheduled_run_syncs_every_area_and_skips_while_another_instance_holds_the_lock() {
    for db in backends().await {
        let area = Area::new(db).await;
        let a = sim(1..=3, 1, plain()).await;
        let b = sim(4..=6, 1, plain()).await;
        area.add(&a, "A", false).await;
        area.add(&b, "B", false).await;
        let core = &area.app.ctx.core;
        let backend = area.app.backend;
        let opts = AreaSyncOptions { started_by: "test schedule".into(), ..AreaSyncOptions::default() };

        let held = core.store.try_job_lock(AREA_SYNC_LOCK_KEY).await.unwrap().expect("the lock is free");
        let skipped = sync_all_areas(core, &opts).await.unwrap();
        assert!(skipped.skipped && skipped.areas.is_empty(), "{backend}: another holder: nothing runs");
        assert_eq!(pins(&b), set(4..=6), "{backend}");
        held.release().await;

        let run = sync_all_areas(core, &opts).await.unwrap();
        assert!(!run.skipped, "{backend}");
        assert_eq!(run.areas.len(), 1, "{backend}: the one area with devices");
        assert_eq!(run.areas[0].0, area.area, "{backend}");
        assert!(run.areas[0].1.success, "{backend}: {:?}", run.areas[0].1);
        assert_eq!(pins(&a), set(1..=6), "{backend}");
        assert_eq!(pins(&b), set(1..=6), "{backend}");
        let by: String = area.app.query_one("select instance from job_executions where job = 'area_sync'").await;
        assert_eq!(by, "test schedule", "{backend}: the run is recorded with who started it");
    }
}
