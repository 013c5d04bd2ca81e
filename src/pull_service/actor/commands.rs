//! A pull device's queue, served over its session: claims batches of commands (collections go
//! through the actor's own collection, the rest run as one batch of writes) and says when the
//! queue must be looked at again even without a wake-up.

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use super::super::work::{self, WorkError};
use super::super::Shared;
use super::{after_work, collect, open_for_work, State};

/// The queue is looked at every `claim_every` at the latest, sooner when a `sent` command
/// times out before then.
pub(super) fn next_claim(shared: &Shared, recheck: Option<DateTime<Utc>>) -> Instant {
    let mut at = Instant::now() + shared.settings.claim_every;
    if let Some(when) = recheck {
        let wait = (when - shared.core.clock.now()).to_std().unwrap_or_default();
        at = at.min(Instant::now() + wait);
    }
    at
}

/// Claims the device's queued commands and carries them out, batch after batch; returns when a
/// `sent` command of the last claim times out.
pub(super) async fn serve_commands(shared: &Shared, st: &mut State) -> Option<DateTime<Utc>> {
    let mut recheck = None;
    loop {
        let now = shared.core.clock.now();
        let claimed = match shared.core.store.claim_batch(st.device.id, &shared.core.settings.queue.policy, now).await {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!(device = st.device.id.0, error = %e, "pull: could not claim commands");
                return recheck;
            }
        };
        recheck = claimed.recheck_at;
        if claimed.commands.is_empty() {
            return recheck;
        }
        // Collections go through the actor's own collection (recorded as the device's last poll,
        // retried after 5, 10, 20 minutes when it fails); the rest run as one batch.
        let (collects, commands): (Vec<_>, Vec<_>) =
            claimed.commands.iter().map(|c| (c.id, c.payload.clone())).partition(|(_, p)| p == work::COLLECT);
        for (id, _) in &collects {
            let ack = match collect(shared, st).await {
                Ok(c) => work::done(*id, serde_json::to_string(&c).ok()),
                Err(e) => work::failed(*id, e),
            };
            if let Err(e) = shared.core.store.apply_acks(st.device.id, &[ack], shared.core.clock.now()).await {
                tracing::warn!(device = st.device.id.0, error = %e, "pull: could not record a collection's result");
            }
        }
        if commands.is_empty() {
            if claimed.more_waiting {
                continue;
            }
            return recheck;
        }
        let outcome = {
            let _permit = shared.busy.acquire().await;
            match open_for_work(shared, st).await {
                Err(e) => Err(e),
                Ok(fresh) => {
                    let result = match st.session.as_mut() {
                        Some(client) => work::execute(&shared.core, client, &st.device, &commands).await,
                        None => Err(WorkError::Device(crate::pull::Error::Protocol("no session".into()))),
                    };
                    after_work(st, fresh, result).await
                }
            }
        };
        let acks = match outcome {
            Ok(acks) => acks,
            Err(error) => {
                // Jobs a caller waits for fail now; user writes stay `sent` and are re-sent after
                // the ack timeout, as for a push device that went quiet.
                let jobs: Vec<_> = commands
                    .iter()
                    .filter(|(_, p)| p == work::TEST)
                    .map(|(id, _)| work::failed(*id, error.clone()))
                    .collect();
                if !jobs.is_empty() {
                    let _ = shared.core.store.apply_acks(st.device.id, &jobs, now).await;
                }
                return recheck;
            }
        };
        if let Err(e) = shared.core.store.apply_acks(st.device.id, &acks, shared.core.clock.now()).await {
            tracing::warn!(device = st.device.id.0, error = %e, "pull: could not record command results");
            return recheck;
        }
        if !claimed.more_waiting {
            return recheck;
        }
    }
}
