//! The command queue on PostgreSQL. Safe for several instances: a device's batch is claimed
//! under `SELECT … FROM devices … FOR UPDATE SKIP LOCKED`, so two instances polled by the same
//! device at once never hand out the same command; the loser answers "nothing for you now".

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{Postgres, Row, Transaction};

use super::PgStore;
use crate::domain::{
    AckUpdate, BatchPolicy, Capability, ClaimedBatch, CommandFilter, CommandState, DeviceId, NewCommand, QueuedCommand,
};
use crate::store::commands::{pick_batch, CommandStore, OpenCommand, StoreChange};
use crate::store::{StoreError, StoreResult};

const COLUMNS: &str =
    "id, device_id, kind, verb, payload, ends_batch, state, attempts, max_attempts, created_at, sent_at,
    acked_at, finished_at, return_code, return_message, result, error, student_id, pin, depends_on, created_by";

/// NOTIFY channel telling every instance that a device has new commands (payload: device id).
pub const COMMANDS_CHANNEL: &str = "ironclock_commands";

fn command_from_row(r: &PgRow) -> StoreResult<QueuedCommand> {
    let state: String = r.get("state");
    Ok(QueuedCommand {
        id: r.get("id"),
        device_id: r.get("device_id"),
        kind: r.get("kind"),
        verb: r.get("verb"),
        payload: r.get("payload"),
        ends_batch: r.get("ends_batch"),
        state: CommandState::parse(&state).ok_or_else(|| StoreError::Corrupt(format!("command state {state}")))?,
        attempts: r.get("attempts"),
        max_attempts: r.get("max_attempts"),
        created_at: r.get("created_at"),
        sent_at: r.get("sent_at"),
        acked_at: r.get("acked_at"),
        finished_at: r.get("finished_at"),
        return_code: r.get("return_code"),
        return_message: r.get("return_message"),
        result: r.get("result"),
        error: r.get("error"),
        student_id: r.get("student_id"),
        pin: r.get("pin"),
        depends_on: r.get("depends_on"),
        created_by: r.get("created_by"),
    })
}

/// Fails commands whose attempts are used up and commands whose dependency failed.
async fn expire(
    tx: &mut Transaction<'_, Postgres>,
    device: i64,
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "update device_commands set state = 'failed', finished_at = $2,
                error = 'no acknowledgement after ' || attempts || ' deliveries'
         where device_id = $1 and state = 'sent' and attempts >= max_attempts
           and sent_at < $3",
    )
    .bind(device)
    .bind(now)
    .bind(cutoff)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "update device_commands c set state = 'failed', finished_at = $2,
                error = 'depends on command ' || d.id || ', which ' || d.state
         from device_commands d
         where c.device_id = $1 and c.state = 'queued' and d.id = c.depends_on and d.state in ('failed', 'cancelled')",
    )
    .bind(device)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// NOTIFY channel telling every instance that a device row changed (payload: device id).
pub const DEVICES_CHANNEL: &str = "ironclock_devices";

/// Forwards notifications to `tx` until the receiver is dropped. A lost connection is reported
/// as `Resync` (sqlx reconnects on the next receive; notifications in between are lost).
async fn forward_notifications(mut listener: sqlx::postgres::PgListener, tx: tokio::sync::mpsc::Sender<StoreChange>) {
    loop {
        let change = match listener.try_recv().await {
            Ok(Some(n)) => {
                let Ok(id) = n.payload().parse::<i64>() else { continue };
                if n.channel() == COMMANDS_CHANNEL {
                    StoreChange::Commands(DeviceId(id))
                } else {
                    StoreChange::Device(DeviceId(id))
                }
            }
            Ok(None) => StoreChange::Resync,
            Err(e) => {
                tracing::warn!(error = %e, "lost the PostgreSQL notification connection; reconnecting");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                StoreChange::Resync
            }
        };
        if tx.send(change).await.is_err() {
            return;
        }
    }
}

#[async_trait]
impl CommandStore for PgStore {
    async fn subscribe(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<StoreChange>>> {
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen_all([COMMANDS_CHANNEL, DEVICES_CHANNEL]).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(4096);
        tokio::spawn(forward_notifications(listener, tx));
        Ok(Some(rx))
    }

    async fn devices_with_open_commands(&self) -> StoreResult<Vec<DeviceId>> {
        let ids: Vec<i64> =
            sqlx::query_scalar("select distinct device_id from device_commands where state in ('queued', 'sent')")
                .fetch_all(&self.pool)
                .await?;
        Ok(ids.into_iter().map(DeviceId).collect())
    }

    async fn enqueue_commands(&self, commands: &[NewCommand]) -> StoreResult<Vec<i64>> {
        let mut tx = self.pool.begin().await?;
        let mut ids: Vec<i64> = Vec::with_capacity(commands.len());
        let mut devices: Vec<i64> = Vec::new();
        for c in commands {
            let depends_on = c.depends_on_index.and_then(|i| ids.get(i).copied()).or(c.depends_on);
            let id: i64 = sqlx::query_scalar(
                "insert into device_commands (device_id, kind, verb, payload, ends_batch, max_attempts, student_id, pin,
                                              depends_on, created_by)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id",
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
            .fetch_one(&mut *tx)
            .await?;
            ids.push(id);
            if !devices.contains(&c.device_id.0) {
                devices.push(c.device_id.0);
            }
        }
        for device in devices {
            // Delivered to listeners when the transaction commits, never before.
            sqlx::query("select pg_notify($1, $2)")
                .bind(COMMANDS_CHANNEL)
                .bind(device.to_string())
                .execute(&mut *tx)
                .await?;
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
        let fetch_limit = (policy.max_count * 4 + 16) as i64;
        let mut tx = self.pool.begin().await?;
        let claimed: Option<i64> = sqlx::query_scalar("select id from devices where id = $1 for update skip locked")
            .bind(device.0)
            .fetch_optional(&mut *tx)
            .await?;
        if claimed.is_none() {
            return Ok(ClaimedBatch { busy: true, ..Default::default() });
        }
        expire(&mut tx, device.0, now, cutoff).await?;
        let rows = sqlx::query(
            "select c.id, c.payload, c.ends_batch, c.depends_on, d.state as dep_state
             from device_commands c left join device_commands d on d.id = c.depends_on
             where c.device_id = $1
               and (c.state = 'queued' or (c.state = 'sent' and c.sent_at < $2))
               and (c.not_before is null or c.not_before <= $4)
             order by c.id
             limit $3",
        )
        .bind(device.0)
        .bind(cutoff)
        .bind(fetch_limit)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let open: Vec<_> = rows
            .iter()
            .map(|r| OpenCommand {
                id: r.get(0),
                payload: r.get(1),
                ends_batch: r.get(2),
                depends_on: r.get(3),
                dependency_state: r.get(4),
            })
            .collect();
        let (commands, more_waiting) = pick_batch(&open, policy);
        let ids: Vec<i64> = commands.iter().map(|c| c.id).collect();
        if !ids.is_empty() {
            sqlx::query(
                "update device_commands set state = 'sent', sent_at = $2, attempts = attempts + 1 where id = any($1)",
            )
            .bind(&ids)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // Look again when the oldest delivery times out or a deferred (quiet hours) command is due.
        let (oldest_sent, deferred): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = sqlx::query_as(
            "select min(sent_at) filter (where state = 'sent'), min(not_before) filter (where state = 'queued')
             from device_commands where device_id = $1 and state in ('queued', 'sent')",
        )
        .bind(device.0)
        .fetch_one(&mut *tx)
        .await?;
        super::sync::refresh_rows(&mut tx, device.0, now).await?;
        tx.commit().await?;
        let timeout = oldest_sent.map(|t| t + policy.ack_timeout);
        let recheck_at = match (timeout, deferred.filter(|d| *d > now)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(ClaimedBatch {
            commands,
            more_waiting: more_waiting || rows.len() as i64 == fetch_limit,
            recheck_at,
            busy: false,
        })
    }

    async fn apply_acks(
        &self,
        device: DeviceId,
        acks: &[AckUpdate],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<QueuedCommand>> {
        let mut tx = self.pool.begin().await?;
        let mut updated = Vec::new();
        for a in acks {
            let sql = format!(
                "update device_commands set state = $3, return_code = $4, return_message = $5, result = coalesce($6, result),
                        error = $7, acked_at = $8, finished_at = $8
                 where id = $1 and device_id = $2 and state not in ('acked', 'cancelled')
                 returning {COLUMNS}"
            );
            let row = sqlx::query(&sql)
                .bind(a.id)
                .bind(device.0)
                .bind(a.state.as_str())
                .bind(a.return_code)
                .bind(&a.return_message)
                .bind(&a.result)
                .bind(&a.error)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = row {
                updated.push(command_from_row(&row)?);
            }
        }
        super::sync::refresh_rows(&mut tx, device.0, now).await?;
        tx.commit().await?;
        Ok(updated)
    }

    async fn get_command(&self, device: DeviceId, id: i64) -> StoreResult<Option<QueuedCommand>> {
        let sql = format!("select {COLUMNS} from device_commands where id = $1 and device_id = $2");
        sqlx::query(&sql)
            .bind(id)
            .bind(device.0)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(command_from_row)
            .transpose()
    }

    async fn list_commands(&self, device: DeviceId, f: &CommandFilter) -> StoreResult<Vec<QueuedCommand>> {
        let sql = format!(
            "select {COLUMNS} from device_commands
             where device_id = $1 and ($2::text is null or state = $2) and ($3::text is null or kind = $3)
               and ($4::bigint is null or student_id = $4) and ($7::text is null or pin = $7)
             order by id desc limit $5 offset $6"
        );
        sqlx::query(&sql)
            .bind(device.0)
            .bind(f.state.map(CommandState::as_str))
            .bind(&f.kind)
            .bind(f.student_id)
            .bind(f.limit.unwrap_or(100))
            .bind(f.offset.unwrap_or(0))
            .bind(&f.pin)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(command_from_row)
            .collect()
    }

    async fn cancel_command(
        &self,
        device: DeviceId,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<QueuedCommand>> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "update device_commands set state = 'cancelled', error = $3, finished_at = $4
             where id = $1 and device_id = $2 and state = 'queued' returning {COLUMNS}"
        );
        let row = sqlx::query(&sql).bind(id).bind(device.0).bind(reason).bind(now).fetch_optional(&mut *tx).await?;
        super::sync::refresh_rows(&mut tx, device.0, now).await?;
        tx.commit().await?;
        row.as_ref().map(command_from_row).transpose()
    }

    async fn retry_command(&self, device: DeviceId, id: i64) -> StoreResult<Option<QueuedCommand>> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "update device_commands set state = 'queued', attempts = 0, error = null, return_code = null,
                    return_message = null, sent_at = null, acked_at = null, finished_at = null
             where id = $1 and device_id = $2 and state in ('failed', 'cancelled') returning {COLUMNS}"
        );
        let row = sqlx::query(&sql).bind(id).bind(device.0).fetch_optional(&mut *tx).await?;
        if row.is_some() {
            sqlx::query("select pg_notify($1, $2)")
                .bind(COMMANDS_CHANNEL)
                .bind(device.0.to_string())
                .execute(&mut *tx)
                .await?;
        }
        super::sync::refresh_rows(&mut tx, device.0, Utc::now()).await?;
        tx.commit().await?;
        row.as_ref().map(command_from_row).transpose()
    }

    async fn has_open_commands(&self, device: DeviceId) -> StoreResult<bool> {
        Ok(sqlx::query_scalar(
            "select exists (select 1 from device_commands where device_id = $1 and state in ('queued', 'sent'))",
        )
        .bind(device.0)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn set_capability(
        &self,
        device: DeviceId,
        capability: &str,
        supported: bool,
        code: Option<i64>,
    ) -> StoreResult<()> {
        sqlx::query(
            "insert into device_capabilities (device_id, capability, supported, return_code, learned_at)
             values ($1, $2, $3, $4, now())
             on conflict (device_id, capability) do update set supported = excluded.supported,
                return_code = excluded.return_code, learned_at = excluded.learned_at",
        )
        .bind(device.0)
        .bind(capability)
        .bind(supported)
        .bind(code)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn capabilities(&self, device: DeviceId) -> StoreResult<Vec<Capability>> {
        let rows = sqlx::query("select capability, supported, return_code from device_capabilities where device_id = $1 order by capability")
            .bind(device.0)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Capability { capability: r.get(0), supported: r.get(1), return_code: r.get(2) })
            .collect())
    }
}
