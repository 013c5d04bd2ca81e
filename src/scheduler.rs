//! Wiring only: cron strings → job functions. Jobs are plain async functions that tests call
//! directly (`sync::verifier::run`); this module just runs them on a schedule and stops cleanly.
//!
//! Every instance runs the scheduler; the verifier and the retention purge take an instance-wide lock (a PostgreSQL
//! advisory lock), so with several instances one runs each and the others skip that tick. Pull
//! collections run on every instance, each over the devices whose session (lease) it holds.

use std::sync::Arc;

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::core::Core;
use crate::pull_service::PullService;
use crate::sync::area::{self as area_sync, AreaSyncOptions};
use crate::sync::verifier::{self, VerifyOptions};

/// Normalises a cron string: 5 fields (minute first) get a leading `0` seconds field; empty or
/// `off` disables the job. Errors name the bad expression.
pub fn normalise_cron(spec: &str) -> Result<Option<String>, String> {
    let spec = spec.trim();
    if spec.is_empty() || spec.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let fields = spec.split_whitespace().count();
    let full = match fields {
        5 => format!("0 {spec}"),
        6 | 7 => spec.to_string(),
        _ => return Err(format!("cron {spec:?} needs 5 fields (min hour day month weekday) or 6 (with seconds)")),
    };
    Job::new_async(full.as_str(), |_, _| Box::pin(async {}))
        .map(|_| Some(full.clone()))
        .map_err(|e| format!("cron {spec:?} is not valid: {e}"))
}

/// A running scheduler; `shutdown` stops it (a run in progress finishes on its own task).
pub struct Scheduler {
    inner: Option<JobScheduler>,
    /// The task running handed-off area syncs (with the pull service), and its stop.
    requests: Option<(tokio_util::sync::CancellationToken, tokio::task::JoinHandle<()>)>,
}

impl Scheduler {
    /// Starts the configured jobs: the verifier (`verify_cron`) and, when this process runs the
    /// pull service, the collection of its pull devices (`pull_poll_cron`). `off` disables either.
    pub async fn start(core: Arc<Core>, pull: Option<Arc<PullService>>) -> anyhow::Result<Self> {
        let verify = normalise_cron(&core.settings.verify_cron).map_err(anyhow::Error::msg)?;
        let retention = normalise_cron(&core.settings.retention.cron).map_err(anyhow::Error::msg)?;
        let poll = match &pull {
            Some(_) => normalise_cron(&core.settings.pull_poll_cron).map_err(anyhow::Error::msg)?,
            None => None,
        };
        // Area sync borrows device sessions: it runs where the pull service runs.
        let area = match &pull {
            Some(_) => normalise_cron(&core.settings.area_sync_cron).map_err(anyhow::Error::msg)?,
            None => None,
        };
        if verify.is_none() && poll.is_none() && retention.is_none() && area.is_none() && pull.is_none() {
            tracing::info!(
                "no scheduled jobs (IRONCLOCK_VERIFY_CRON, IRONCLOCK_PULL_POLL_CRON and IRONCLOCK_RETENTION_CRON off)"
            );
            return Ok(Self { inner: None, requests: None });
        }
        let scheduler = JobScheduler::new().await?;
        if let Some(cron) = verify {
            let job_core = core.clone();
            let job = Job::new_async(cron.as_str(), move |_, _| {
                let core = job_core.clone();
                Box::pin(async move {
                    let mut opts = VerifyOptions::new("scheduler", core.clock.now());
                    opts.online_within = core.settings.verify_online;
                    if let Err(error) = verifier::run(&core, opts).await {
                        tracing::error!(%error, "scheduled verifier run failed");
                    }
                })
            })?;
            scheduler.add(job).await?;
            tracing::info!(%cron, "verifier scheduled");
        }
        if let Some(cron) = retention {
            let job_core = core.clone();
            let job = Job::new_async(cron.as_str(), move |_, _| {
                let core = job_core.clone();
                Box::pin(async move {
                    if let Err(error) = crate::retention::run(&core, "scheduler").await {
                        tracing::error!(%error, "scheduled retention run failed");
                    }
                })
            })?;
            scheduler.add(job).await?;
            tracing::info!(%cron, "retention purge scheduled");
        }
        if let Some(cron) = area {
            let job_core = core.clone();
            let job = Job::new_async(cron.as_str(), move |_, _| {
                let core = job_core.clone();
                Box::pin(async move {
                    let opts = AreaSyncOptions {
                        concurrency: core.settings.area_sync_concurrency,
                        ..AreaSyncOptions::default()
                    };
                    match area_sync::sync_by_cron(&core, &opts).await {
                        Ok(Some(run)) => {
                            tracing::info!(areas = run.areas.len(), skipped = run.skipped, "area sync run")
                        }
                        Ok(None) => {}
                        Err(error) => tracing::error!(%error, "scheduled area sync failed"),
                    }
                })
            })?;
            scheduler.add(job).await?;
            // The interval set on the settings page (stored) is read every minute: it replaces
            // the cron without a restart.
            let job_core = core.clone();
            let tick = Job::new_async("0 * * * * *", move |_, _| {
                let core = job_core.clone();
                Box::pin(async move {
                    let opts = AreaSyncOptions {
                        concurrency: core.settings.area_sync_concurrency,
                        ..AreaSyncOptions::default()
                    };
                    match area_sync::interval::tick(&core, &opts).await {
                        Ok(Some(run)) => tracing::info!(areas = run.areas.len(), "area sync run (stored interval)"),
                        Ok(None) => {}
                        Err(error) => tracing::error!(%error, "scheduled area sync failed"),
                    }
                })
            })?;
            scheduler.add(tick).await?;
            tracing::info!(%cron, "area sync scheduled (unless the settings page stores an interval)");
        }
        let mut requests = None;
        if pull.is_some() {
            // Area syncs handed off by an instance without the pull service run here: at once
            // when the store announces them, and the minute tick looks too (a missed
            // notification) and keeps the pending ones from expiring while this instance is up.
            let wake = Arc::new(tokio::sync::Notify::new());
            core.store.subscribe(area_sync::requests::wake_hook(wake.clone())).await?;
            let stop = tokio_util::sync::CancellationToken::new();
            let task = tokio::spawn(area_sync::requests::serve(core.clone(), wake.clone(), stop.clone()));
            requests = Some((stop, task));
            let job_core = core.clone();
            let job = Job::new_async("30 * * * * *", move |_, _| {
                let core = job_core.clone();
                let wake = wake.clone();
                Box::pin(async move {
                    if let Err(error) = area_sync::requests::keep_alive(&core).await {
                        tracing::error!(%error, "area sync requests not kept alive");
                    }
                    wake.notify_one();
                })
            })?;
            scheduler.add(job).await?;
        }
        if let (Some(cron), Some(service)) = (poll, pull) {
            let metrics = core.metrics.clone();
            let job = Job::new_async(cron.as_str(), move |_, _| {
                let service = service.clone();
                let metrics = metrics.clone();
                Box::pin(async move {
                    let started = std::time::Instant::now();
                    let run = service.collect_all("scheduler").await;
                    let ok = run.iter().all(|r| r.error.is_none());
                    metrics.job_run("pull_collect", ok, started.elapsed().as_secs_f64());
                    tracing::info!(
                        devices = run.len(),
                        failed = run.iter().filter(|r| r.error.is_some()).count(),
                        "pull devices collected"
                    );
                })
            })?;
            scheduler.add(job).await?;
            tracing::info!(%cron, "pull collection scheduled");
        }
        scheduler.start().await?;
        Ok(Self { inner: Some(scheduler), requests })
    }

    pub async fn shutdown(mut self) {
        if let Some((stop, _task)) = self.requests.take() {
            // A requested run in progress finishes on its own task, as the jobs' runs do.
            stop.cancel();
        }
        if let Some(mut s) = self.inner.take() {
            if let Err(error) = s.shutdown().await {
                tracing::warn!(%error, "scheduler did not stop cleanly");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_strings_are_normalised_or_named_when_bad() {
        assert_eq!(normalise_cron("0 0 */2 * * *").unwrap().as_deref(), Some("0 0 */2 * * *"));
        assert_eq!(normalise_cron("30 */2 * * *").unwrap().as_deref(), Some("0 30 */2 * * *"));
        assert_eq!(normalise_cron("off").unwrap(), None);
        assert_eq!(normalise_cron("").unwrap(), None);
        assert!(normalise_cron("every two hours").unwrap_err().contains("fields"));
        assert!(
            normalise_cron("0 0 */2 * * * nonsense-year-field").is_err() || normalise_cron("0 99 * * * *").is_err()
        );
        assert!(normalise_cron("0 99 * * * *").unwrap_err().contains("not valid"));
    }
}
