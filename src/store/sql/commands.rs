//! The device command queue and learned device capabilities. Safe for several instances: a
//! device's batch is claimed under its device row (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's
//! one writer makes the claim atomic), so two instances polled by the same device at once never
//! hand out the same command; the loser answers "nothing for you now" (`busy`).
//!
//! Enqueueing, retrying and acks that may unblock dependents announce `StoreChange::Commands`,
//! so the instance the device polls next delivers them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Dialect, List, SqlStore};
use crate::domain::command::batch::{pick_batch, OpenCommand};
use crate::domain::{
    AckUpdate, BatchPolicy, Capability, ClaimedBatch, CommandFilter, CommandState, DeviceId, NewCommand, QueuedCommand,
};
use crate::store::commands::CommandStore;
use crate::store::{StoreChange, StoreResult};

/// [`crate::domain::command::INTERACTIVE_KINDS`] as an SQL list.
const INTERACTIVE: &str = "('enroll_fp', 'enroll_bio')";

const COLUMNS: &str =
    "id, device_id, kind, verb, payload, ends_batch, state, attempts, max_attempts, created_at, sent_at,
    acked_at, finished_at, return_code, return_message, result, error, student_id, pin, depends_on, created_by,
    school_id";

/// Fails commands whose attempts are used up and commands whose dependency failed.
async fn expire<D: Dialect>(
    conn: &mut D::Connection,
    device: i64,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    enroll_cutoff: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = format!(
        "update device_commands set state = 'failed', finished_at = $2,
                error = 'no acknowledgement after ' || attempts || ' deliveries'
         where device_id = $1 and state = 'sent' and attempts >= max_attempts
           and sent_at < $3 and (sent_at < $4 or kind not in {INTERACTIVE})"
    );
    SqlStore::<D>::sql(&sql).bind(device).bind(now).bind(cutoff).bind(enroll_cutoff).execute(&mut *conn).await?;
    SqlStore::<D>::sql(
        "update device_commands as c set state = 'failed', finished_at = $2,
                error = 'depends on command ' || d.id || ', which ' || d.state
         from device_commands as d
         where c.device_id = $1 and c.state = 'queued' and d.id = c.depends_on and d.state in ('failed', 'cancelled')",
    )
    .bind(device)
    .bind(now)
    .run(&mut *conn)
    .await
}

#[async_trait]
impl<D: Dialect> CommandStore for SqlStore<D> {
    async fn devices_with_open_commands(&self) -> StoreResult<Vec<DeviceId>> {
        let ids: Vec<i64> =
            Self::sql("select distinct device_id from device_commands where state in ('queued', 'sent')")
                .scalars(&mut *self.read().await?)
                .await?;
        Ok(ids.into_iter().map(DeviceId).collect())
    }

    async fn enqueue_commands(&self, commands: &[NewCommand]) -> StoreResult<Vec<i64>> {
        if commands.is_empty() {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let mut tx = self.write().await?;
        let mut ids: Vec<i64> = Vec::with_capacity(commands.len());
        for c in commands {
            let depends_on = c.depends_on_index.and_then(|i| ids.get(i).copied()).or(c.depends_on);
            let id: i64 = Self::sql(
                "insert into device_commands (device_id, kind, verb, payload, ends_batch, max_attempts, student_id, pin,
                                              depends_on, created_by, created_at, school_id)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, (select school_id from devices where id = $1))
                 returning id",
            )
            .bind(c.device_id.0)
            .bind(&c.kind)
            .bind(&c.verb)
            .bind(&c.payload)
            .bind(c.ends_batch)
            .bind(c.max_attempts)
            .bind(c.student_id)
            .bind(&c.pin)
            .bind(depends_on)
            .bind(&c.created_by)
            .bind(now)
            .scalar(&mut tx)
            .await?;
            ids.push(id);
            // Announced (once per device) when the transaction commits, never before.
            tx.changed(StoreChange::Commands(c.device_id));
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn claim_batch(
        &self,
        device: DeviceId,
        policy: &BatchPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<ClaimedBatch> {
        // A `sent` command older than this has waited out its ack timeout.
        let cutoff = now - policy.ack_timeout;
        // An enrolment waits longer: the person may still be at the terminal.
        let enroll_cutoff = now - policy.enroll_timeout();
        let fetch_limit = (policy.max_count * 4 + 16) as i64;
        let mut tx = self.write().await?;
        // Claim the device: on PostgreSQL another instance serving it holds the row and we see
        // none (busy); on SQLite the writer lock already makes this transaction the only one.
        let claim = format!("select id from devices where id = $1 {}", D::SKIP_LOCKED);
        let claimed: Option<i64> = Self::sql(&claim).bind(device.0).scalar_optional(&mut tx).await?;
        if claimed.is_none() {
            return Ok(ClaimedBatch { busy: true, ..Default::default() });
        }
        expire::<D>(&mut tx, device.0, now, cutoff, enroll_cutoff).await?;
        let open_sql = format!(
            "select c.id, c.payload, c.ends_batch, c.depends_on, d.state as dependency_state, c.created_at as queued_at
             from device_commands c left join device_commands d on d.id = c.depends_on
             where c.device_id = $1
               and (c.state = 'queued'
                    or (c.state = 'sent' and c.sent_at < $2 and (c.sent_at < $5 or c.kind not in {INTERACTIVE})))
               and (c.not_before is null or c.not_before <= $4)
             order by c.id
             limit $3"
        );
        let open: Vec<OpenCommand> = Self::sql(&open_sql)
            .bind(device.0)
            .bind(cutoff)
            .bind(fetch_limit)
            .bind(now)
            .bind(enroll_cutoff)
            .fetch_all(&mut tx)
            .await?;
        let fetched = open.len() as i64;
        let (commands, more_waiting) = pick_batch(&open, policy);
        let ids: Vec<i64> = commands.iter().map(|c| c.id).collect();
        if !ids.is_empty() {
            let sql = format!(
                "update device_commands set state = 'sent', sent_at = $2, attempts = attempts + 1 where {}",
                D::in_list("id", 1)
            );
            Self::sql(&sql).bind(List::of(&ids)).bind(now).execute(&mut tx).await?;
        }
        // Look again when the oldest delivery times out or a deferred (quiet hours) command is due.
        let times_sql = format!(
            "select min(sent_at) filter (where state = 'sent' and kind not in {INTERACTIVE}),
                    min(sent_at) filter (where state = 'sent' and kind in {INTERACTIVE}),
                    min(not_before) filter (where state = 'queued' and not_before > $2)
             from device_commands where device_id = $1 and state in ('queued', 'sent')"
        );
        #[allow(clippy::type_complexity)]
        let (oldest_sent, oldest_enroll, deferred): (
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        ) = Self::sql(&times_sql).bind(device.0).bind(now).fetch_one(&mut tx).await?;
        super::sync::refresh_rows::<D>(&mut tx, device.0, now).await?;
        tx.commit().await?;
        let timeout =
            match (oldest_sent.map(|t| t + policy.ack_timeout), oldest_enroll.map(|t| t + policy.enroll_timeout())) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        // The earliest deferral still ahead (a due command waiting on a dependency must not hide it).
        let recheck_at = match (timeout, deferred) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(ClaimedBatch { commands, more_waiting: more_waiting || fetched == fetch_limit, recheck_at, busy: false })
    }

    async fn apply_acks(
        &self,
        device: DeviceId,
        acks: &[AckUpdate],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<QueuedCommand>> {
        let sql = format!(
            "update device_commands set state = $3, return_code = $4, return_message = $5, result = coalesce($6, result),
                    error = $7, acked_at = $8, finished_at = $8
             where id = $1 and device_id = $2 and state not in ('acked', 'cancelled')
             returning {COLUMNS}"
        );
        let mut tx = self.write().await?;
        let mut updated = Vec::new();
        for a in acks {
            let row: Option<QueuedCommand> = Self::sql(&sql)
                .bind(a.id)
                .bind(device.0)
                .bind(a.state.as_str())
                .bind(a.return_code)
                .bind(&a.return_message)
                .bind(&a.result)
                .bind(&a.error)
                .bind(now)
                .fetch_optional(&mut tx)
                .await?;
            if let Some(row) = row {
                updated.push(row);
            }
        }
        if !updated.is_empty() {
            // An ack (or a failure) can unblock dependents that another instance must now deliver.
            tx.changed(StoreChange::Commands(device));
        }
        super::sync::refresh_rows::<D>(&mut tx, device.0, now).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn fail_reported(
        &self,
        device: DeviceId,
        id: i64,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<QueuedCommand>> {
        let sql = format!(
            "update device_commands set state = 'failed', error = $3, finished_at = $4
             where id = $1 and device_id = $2 and state <> 'cancelled'
             returning {COLUMNS}"
        );
        let mut tx = self.write().await?;
        let row: Option<QueuedCommand> =
            Self::sql(&sql).bind(id).bind(device.0).bind(error).bind(now).fetch_optional(&mut tx).await?;
        if let Some(pin) = row.as_ref().and_then(|c| c.pin.as_deref()) {
            Self::sql(
                "update device_user_sync_status set error_message = $3, updated_at = $4
                 where device_id = $1 and device_pin = $2",
            )
            .bind(device.0)
            .bind(pin)
            .bind(error)
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        if row.is_some() {
            // Dependents of a failed command are cancelled on the next claim, on any instance.
            tx.changed(StoreChange::Commands(device));
        }
        tx.commit().await?;
        Ok(row)
    }

    async fn get_command(&self, device: DeviceId, id: i64) -> StoreResult<Option<QueuedCommand>> {
        let sql = format!("select {COLUMNS} from device_commands where id = $1 and device_id = $2");
        Self::sql(&sql).bind(id).bind(device.0).fetch_optional(&mut *self.read().await?).await
    }

    async fn list_commands(&self, device: DeviceId, f: &CommandFilter) -> StoreResult<Vec<QueuedCommand>> {
        let sql = format!(
            "select {COLUMNS} from device_commands
             where device_id = $1 and ($2 is null or state = $2) and ($3 is null or kind = $3)
               and ($4 is null or student_id = $4) and ($7 is null or pin = $7) and ($8 is null or school_id = $8)
             order by id desc limit $5 offset $6"
        );
        Self::sql(&sql)
            .bind(device.0)
            .bind(f.state.map(CommandState::as_str))
            .bind(&f.kind)
            .bind(f.student_id)
            .bind(f.limit.unwrap_or(100))
            .bind(f.offset.unwrap_or(0))
            .bind(&f.pin)
            .bind(f.school_id)
            .fetch_all(&mut *self.read().await?)
            .await
    }

    async fn cancel_command(
        &self,
        device: DeviceId,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<QueuedCommand>> {
        let sql = format!(
            "update device_commands set state = 'cancelled', error = $3, finished_at = $4
             where id = $1 and device_id = $2 and state = 'queued' returning {COLUMNS}"
        );
        let mut tx = self.write().await?;
        let row: Option<QueuedCommand> =
            Self::sql(&sql).bind(id).bind(device.0).bind(reason).bind(now).fetch_optional(&mut tx).await?;
        super::sync::refresh_rows::<D>(&mut tx, device.0, now).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn retry_command(&self, device: DeviceId, id: i64) -> StoreResult<Option<QueuedCommand>> {
        let sql = format!(
            "update device_commands set state = 'queued', attempts = 0, error = null, return_code = null,
                    return_message = null, sent_at = null, acked_at = null, finished_at = null
             where id = $1 and device_id = $2 and state in ('failed', 'cancelled') returning {COLUMNS}"
        );
        let mut tx = self.write().await?;
        let row: Option<QueuedCommand> = Self::sql(&sql).bind(id).bind(device.0).fetch_optional(&mut tx).await?;
        if row.is_some() {
            tx.changed(StoreChange::Commands(device));
        }
        super::sync::refresh_rows::<D>(&mut tx, device.0, Utc::now()).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn has_open_commands(&self, device: DeviceId) -> StoreResult<bool> {
        Self::sql("select exists (select 1 from device_commands where device_id = $1 and state in ('queued', 'sent'))")
            .bind(device.0)
            .scalar(&mut *self.read().await?)
            .await
    }

    async fn set_capability(
        &self,
        device: DeviceId,
        capability: &str,
        supported: bool,
        code: Option<i64>,
    ) -> StoreResult<()> {
        Self::sql(
            "insert into device_capabilities (device_id, capability, supported, return_code, learned_at)
             values ($1, $2, $3, $4, $5)
             on conflict (device_id, capability) do update set supported = excluded.supported,
                return_code = excluded.return_code, learned_at = excluded.learned_at",
        )
        .bind(device.0)
        .bind(capability)
        .bind(supported)
        .bind(code)
        .bind(Utc::now())
        .run(&mut *self.write_once().await?)
        .await
    }

    async fn capabilities(&self, device: DeviceId) -> StoreResult<Vec<Capability>> {
        Self::sql(
            "select capability, supported, return_code from device_capabilities where device_id = $1
             order by capability",
        )
        .bind(device.0)
        .fetch_all(&mut *self.read().await?)
        .await
    }

    async fn forget_capabilities(&self, device: DeviceId) -> StoreResult<Vec<Capability>> {
        let mut forgotten: Vec<Capability> = Self::sql(
            "delete from device_capabilities where device_id = $1 returning capability, supported, return_code",
        )
        .bind(device.0)
        .fetch_all(&mut *self.write_once().await?)
        .await?;
        forgotten.sort_by(|a, b| a.capability.cmp(&b.capability));
        Ok(forgotten)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sql_list_of_interactive_kinds_matches_the_domain_constant() {
        let listed = crate::domain::command::INTERACTIVE_KINDS.map(|k| format!("'{k}'")).join(", ");
        assert_eq!(super::INTERACTIVE, format!("({listed})"));
    }
}
