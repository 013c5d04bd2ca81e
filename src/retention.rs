//! The retention job: raw device uploads, quarantined lines, finished commands and job history
//! are kept for a configured number of days, then purged in small batches that never hold up
//! ingestion. Punches are kept forever unless an age limit is configured for them too. Expired
//! photo URLs (media tokens) whose command did not deliver are purged whatever the policy, and a job run still `running` long
//! after any run ends ([`ABANDONED_AFTER`]: its instance stopped, or could not record the end)
//! is marked failed so that no dashboard shows it running forever.
//!
//! A plain async function (`run`) that the scheduler calls on its cron and tests call directly;
//! one instance runs it at a time (the job lock), and each run is recorded in `job_executions`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use serde::Serialize;

use crate::core::Core;
use crate::store::admin::JobStatus;
use crate::store::{PurgeTable, StoreResult};

/// Instance-wide lock of the retention job (the verifier's is `0x1c_10c4_0001`).
pub const RETENTION_LOCK_KEY: i64 = 0x1c_10c4_0002;

/// A job run still `running` this long after it started was abandoned (no job runs for hours:
/// an area sync of thousands of people takes minutes).
pub const ABANDONED_AFTER: chrono::Duration = chrono::Duration::hours(12);

/// Age limits in days (0 keeps rows forever), and how the purge runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Raw uploads that were processed cleanly.
    pub messages_days: u32,
    /// Quarantined lines and the raw uploads that need an admin's attention.
    pub quarantine_days: u32,
    /// Acknowledged, failed and cancelled commands.
    pub commands_days: u32,
    /// Finished job runs.
    pub jobs_days: u32,
    /// Punches: 0 (the default) keeps them forever.
    pub punches_days: u32,
    /// When the job runs (cron, 5 or 6 fields; `off` disables it).
    pub cron: String,
    /// Rows deleted per statement.
    pub batch: u32,
    /// Pause between batches, so ingestion's writes interleave with the purge.
    pub pause: Duration,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            messages_days: 30,
            quarantine_days: 180,
            commands_days: 90,
            jobs_days: 90,
            punches_days: 0,
            cron: "0 30 3 * * *".into(),
            batch: 500,
            pause: Duration::from_millis(20),
        }
    }
}

impl RetentionPolicy {
    /// The rows of `table` older than this are purged at `now`; `None`: kept forever (a
    /// configured age of 0 days). Media tokens go by their own expiry (`now`), login throttle
    /// counts a day after their last attempt (the longest window is 15 minutes).
    pub fn cutoff(&self, table: PurgeTable, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let days = match table {
            PurgeTable::Messages => self.messages_days,
            PurgeTable::Quarantine => self.quarantine_days,
            PurgeTable::Commands => self.commands_days,
            PurgeTable::Jobs => self.jobs_days,
            PurgeTable::Punches => self.punches_days,
            PurgeTable::MediaTokens => return Some(now),
            PurgeTable::LoginCounts => 1,
        };
        (days > 0).then(|| now - chrono::Duration::days(i64::from(days)))
    }
}

/// Rows purged by one run, per table (tables kept forever are absent).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct PurgeReport {
    /// The `job_executions` row of the run; `None` when another instance was running it.
    pub job_id: Option<i64>,
    pub skipped: bool,
    pub deleted: Vec<(String, u64)>,
    /// Runs found `running` past [`ABANDONED_AFTER`] and marked failed.
    pub abandoned_jobs: u64,
}

impl PurgeReport {
    /// Rows purged from `table` by this run.
    pub fn deleted(&self, table: PurgeTable) -> u64 {
        self.deleted.iter().find(|(t, _)| t == table.as_str()).map_or(0, |(_, n)| *n)
    }
}

/// Runs the purge once with the core's policy and clock (skips when another instance runs it).
pub async fn run(core: &Core, started_by: &str) -> StoreResult<PurgeReport> {
    let Some(lock) = core.store.try_job_lock(RETENTION_LOCK_KEY).await? else {
        tracing::info!("retention already running on another instance; skipped");
        return Ok(PurgeReport { skipped: true, ..Default::default() });
    };
    let started = Instant::now();
    let job = core.store.start_job("retention", None, Some(started_by), core.clock.now()).await;
    let result = purge(core, job.as_ref().ok().copied()).await;
    let succeeded = result.is_ok();
    if let Ok(job) = &job {
        let (status, summary, error) = match &result {
            Ok((deleted, abandoned)) => {
                (JobStatus::Succeeded, serde_json::json!({ "deleted": deleted, "abandoned_jobs": abandoned }), None)
            }
            Err(e) => (JobStatus::Failed, serde_json::json!({}), Some(e.to_string())),
        };
        if let Err(e) = core.store.finish_job(*job, status, &summary, error.as_deref()).await {
            tracing::error!(error = %e, "could not record the retention run");
        }
    }
    lock.release().await;
    core.metrics.job_run("retention", succeeded, started.elapsed().as_secs_f64());
    let (deleted, abandoned_jobs) = result?;
    tracing::info!(?deleted, abandoned_jobs, "retention run finished");
    Ok(PurgeReport { job_id: job.ok(), skipped: false, deleted, abandoned_jobs })
}

/// The rows deleted per table, and the abandoned runs marked failed (never `own`, this run).
async fn purge(core: &Core, own: Option<i64>) -> StoreResult<(Vec<(String, u64)>, u64)> {
    let policy = &core.settings.retention;
    let limit = i64::from(policy.batch.max(1));
    let now = core.clock.now();
    let abandoned = core.store.abandon_jobs(now - ABANDONED_AFTER, own, now).await?;
    if abandoned > 0 {
        tracing::warn!(abandoned, "job runs still marked running after 12 hours were marked failed");
    }
    let mut deleted = Vec::new();
    for table in PurgeTable::ALL {
        let Some(before) = policy.cutoff(table, now) else { continue };
        let mut total = 0;
        loop {
            let n = core.store.purge_batch(table, before, limit).await?;
            total += n;
            if n < limit as u64 {
                break;
            }
            tokio::time::sleep(policy.pause).await;
        }
        deleted.push((table.as_str().to_string(), total));
    }
    Ok((deleted, abandoned))
}
