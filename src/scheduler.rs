//! Wiring only: cron strings → job functions. Jobs are plain async functions that tests call
//! directly (`sync::verifier::run`); this module just runs them on a schedule and stops cleanly.
//!
//! Every instance runs the scheduler; the verifier takes an instance-wide lock (a PostgreSQL
//! advisory lock), so with several instances one runs it and the others skip that tick.

use std::sync::Arc;

use tokio_cron_scheduler::{Job, JobScheduler};

use crate::core::Core;
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
}

impl Scheduler {
    /// Starts the configured jobs (none when the verifier cron is off).
    pub async fn start(core: Arc<Core>) -> anyhow::Result<Self> {
        let Some(cron) = normalise_cron(&core.settings.verify_cron).map_err(anyhow::Error::msg)? else {
            tracing::info!("verifier schedule off (IRONCLOCK_VERIFY_CRON)");
            return Ok(Self { inner: None });
        };
        let scheduler = JobScheduler::new().await?;
        let job_core = core.clone();
        let job = Job::new_async(cron.as_str(), move |_, _| {
            let core = job_core.clone();
            Box::pin(async move {
                let mut opts = VerifyOptions::new("scheduler");
                opts.now = core.clock.now();
                opts.online_within = core.settings.verify_online;
                if let Err(error) = verifier::run(&core, opts).await {
                    tracing::error!(%error, "scheduled verifier run failed");
                }
            })
        })?;
        scheduler.add(job).await?;
        scheduler.start().await?;
        tracing::info!(%cron, "verifier scheduled");
        Ok(Self { inner: Some(scheduler) })
    }

    pub async fn shutdown(mut self) {
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
