//! The server's view of a running area sync: its live progress is kept in the run's
//! `job_executions` row (`summary = {"area_id", "device_id", "progress"}` while `running`), so every instance
//! (the API, the dashboard) reads it from the store, whichever instance runs the sync. The
//! result replaces it when the run finishes.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use super::progress::AreaProgress;
use super::run::AreaSyncOptions;
use crate::core::Core;

/// At most one progress write per this interval (the latest snapshot wins).
const EVERY: Duration = Duration::from_millis(200);

/// Runs `run` with options whose progress also goes to job row `job` (`run` must drop them when
/// it ends); returns its output once the last snapshot is written.
pub(super) async fn recorded<F, Fut, T>(core: &Core, job: i64, opts: &AreaSyncOptions, run: F) -> (T, ())
where
    F: FnOnce(AreaSyncOptions) -> Fut,
    Fut: Future<Output = T>,
{
    let (tx, rx) = watch::channel(None::<AreaProgress>);
    let with_job = AreaSyncOptions {
        progress: opts.progress.and(move |p| {
            tx.send_replace(Some(p.clone()));
        }),
        ..opts.clone()
    };
    // Found by its area at once, before the first step reports.
    let at = (opts.area_id, opts.device_id);
    save(core, job, at, &AreaProgress::default()).await;
    futures::join!(run(with_job), keep(core, job, at, rx))
}

/// (area, device): what a run is found by.
type RunOf = (Option<i64>, Option<i64>);

async fn keep(core: &Core, job: i64, at: RunOf, mut rx: watch::Receiver<Option<AreaProgress>>) {
    while rx.changed().await.is_ok() {
        let Some(p) = rx.borrow_and_update().clone() else { continue };
        save(core, job, at, &p).await;
        tokio::time::sleep(EVERY).await;
    }
}

async fn save(core: &Core, job: i64, (area, device): RunOf, p: &AreaProgress) {
    let summary = serde_json::json!({ "area_id": area, "device_id": device, "progress": p });
    if let Err(e) = core.store.job_progress(job, &summary).await {
        tracing::warn!(job, error = %e, "area sync: progress not recorded");
    }
}

/// An area's (or a single-device sync's) latest run as its job row tells it: the live progress
/// while `running`, the result once finished.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AreaRun {
    pub job_id: i64,
    /// The area (null for a single-device sync).
    pub area_id: Option<i64>,
    /// The device of a single-device sync (null for an area's run).
    pub device_id: Option<i64>,
    /// `running`, `succeeded` or `failed`.
    pub status: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Who started it.
    pub started_by: Option<String>,
    /// While running (and the last snapshot of a run that ended without a result).
    pub progress: Option<AreaProgress>,
    /// Once finished.
    pub result: Option<super::AreaSyncResult>,
}

/// Runs of `area_sync` looked through for an area's latest.
const RECENT_RUNS: i64 = 200;

/// The latest run of `area` (in `school`), from the store; `None` when it never ran (among the
/// school's last 200 area-sync runs).
pub async fn latest_run(
    store: &crate::store::DynStore,
    school: crate::domain::SchoolId,
    area: i64,
) -> crate::store::StoreResult<Option<AreaRun>> {
    latest_where(store, school, "area_id", area).await
}

/// The latest single-device sync of `device` (in `school`), as [`latest_run`].
pub async fn latest_device_run(
    store: &crate::store::DynStore,
    school: crate::domain::SchoolId,
    device: i64,
) -> crate::store::StoreResult<Option<AreaRun>> {
    latest_where(store, school, "device_id", device).await
}

async fn latest_where(
    store: &crate::store::DynStore,
    school: crate::domain::SchoolId,
    key: &str,
    id: i64,
) -> crate::store::StoreResult<Option<AreaRun>> {
    use crate::store::admin::{JobFilter, JobStatus, Page, SchoolScope};
    let filter = JobFilter {
        scope: SchoolScope::school(school),
        job: Some("area_sync".into()),
        status: None,
        page: Page { limit: RECENT_RUNS, offset: 0 },
    };
    let runs = store.list_jobs(&filter).await?.items;
    let Some(job) = runs.into_iter().find(|j| j.summary.get(key).and_then(|a| a.as_i64()) == Some(id)) else {
        return Ok(None);
    };
    let running = job.status == JobStatus::Running;
    let progress = job.summary.get("progress").and_then(|p| serde_json::from_value(p.clone()).ok());
    let result = if running { None } else { serde_json::from_value(job.summary.clone()).ok() };
    let field = |k: &str| job.summary.get(k).and_then(|a| a.as_i64());
    Ok(Some(AreaRun {
        job_id: job.id,
        area_id: field("area_id"),
        device_id: field("device_id"),
        status: job.status.as_str().to_string(),
        started_at: job.started_at,
        finished_at: job.finished_at,
        started_by: job.instance,
        progress,
        result,
    }))
}
