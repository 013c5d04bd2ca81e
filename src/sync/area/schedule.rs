//! The scheduled area sync: every area with pull devices in service, one area after another,
//! under an instance-wide lock so that one instance runs it at a time (the others skip the tick).

use std::collections::BTreeMap;

use super::report::AreaSyncResult;
use super::run::{sync_area, AreaSyncOptions};
use crate::core::Core;
use crate::domain::SchoolId;
use crate::store::StoreError;

/// The instance-wide lock of the scheduled area sync.
pub const AREA_SYNC_LOCK_KEY: i64 = 0x1c_10c4_0003;

/// One scheduled run: each area's result, or `skipped` when another instance was running it.
#[derive(Debug, Clone, Default)]
pub struct ScheduledRun {
    pub skipped: bool,
    /// (area id, result), by area id.
    pub areas: Vec<(i64, AreaSyncResult)>,
}

/// Syncs every area holding at least two devices (pull devices in service, approved push devices) (each area recorded in
/// `job_executions` as its own run).
pub async fn sync_all_areas(core: &Core, opts: &AreaSyncOptions) -> Result<ScheduledRun, StoreError> {
    let Some(lock) = core.store.try_job_lock(AREA_SYNC_LOCK_KEY).await? else {
        tracing::info!("area sync already running on another instance; skipped");
        return Ok(ScheduledRun { skipped: true, areas: Vec::new() });
    };
    let run = sync_every_area(core, opts).await;
    lock.release().await;
    run
}

/// The cron's run (`IRONCLOCK_AREA_SYNC_CRON`): skipped while a stored interval (the settings
/// page) decides instead, see [`super::interval`].
pub async fn sync_by_cron(core: &Core, opts: &AreaSyncOptions) -> Result<Option<ScheduledRun>, StoreError> {
    if super::interval::stored(core).await?.is_some() {
        return Ok(None);
    }
    sync_all_areas(core, opts).await.map(Some)
}

/// [`sync_all_areas`] without the lock (the caller holds it).
pub(super) async fn sync_every_area(core: &Core, opts: &AreaSyncOptions) -> Result<ScheduledRun, StoreError> {
    let mut areas: BTreeMap<(i64, SchoolId), usize> = BTreeMap::new();
    for d in core.store.pull_devices().await? {
        if let (true, Some(area), Some(school)) = (d.in_service(), d.area_id, d.school_id) {
            *areas.entry((area, school)).or_default() += 1;
        }
    }
    for d in core.store.list_devices().await? {
        let push = d.mode == crate::domain::DeviceMode::Push && d.approval == crate::domain::Approval::Approved;
        if let (true, Some(area), Some(school)) = (push, d.area_id, d.school_id) {
            *areas.entry((area, school)).or_default() += 1;
        }
    }
    let mut out = ScheduledRun::default();
    let mut failure = None;
    for ((area, school), devices) in areas {
        if devices < 2 {
            continue;
        }
        let started = std::time::Instant::now();
        match sync_area(core, school, area, opts).await {
            Ok(result) => {
                // An area another run is syncing was passed over: no run to count.
                if result.error.as_deref() != Some(super::run::AREA_BUSY) {
                    core.metrics.job_run("area_sync", result.success, started.elapsed().as_secs_f64());
                }
                out.areas.push((area, result));
            }
            Err(e) => {
                tracing::error!(area, error = %e, "area sync could not run");
                failure = Some(e);
            }
        }
    }
    match failure {
        Some(e) if out.areas.is_empty() => Err(e),
        _ => Ok(out),
    }
}
