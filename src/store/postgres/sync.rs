//! Student sync on PostgreSQL: set-based reads (one query per scope), bulk writes with `unnest`.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Row};

use super::commands::COMMANDS_CHANNEL;
use super::PgStore;
use crate::domain::DeviceId;
use crate::store::sync::{
    summarise, DeviceFacts, DeviceSyncSummary, JobLock, ObserveReport, ObservedUser, ReconcileOptions, ReconcileReport,
    SchoolSyncPolicy, StudentSyncRow, SyncAlert, SyncProgress, SyncScope, SyncStatusFilter, SyncStatusPage, SyncStore,
    SyncSummary, UnknownDeviceUser, VerifyDevice,
};
use crate::store::StoreResult;
use crate::sync::plan::{self, delete_cap, CommandAction, PlannedSync, RecordedRow, SyncMode, SyncTarget};
use crate::sync::status::{observe, refresh, KnownPin, Observation, RowWithCommand};

/// The pairs of `scope`. In `Verify` mode pairs that are plainly in line (confirmed or delivered
/// with the same name and card) are filtered out in SQL, so a steady-state pass reads almost nothing.
async fn load_targets(conn: &mut PgConnection, scope: &SyncScope, mode: SyncMode) -> StoreResult<Vec<SyncTarget>> {
    let steady_filter = if mode == SyncMode::Verify {
        // A pair without a row (`r` all NULL) must stay: `not (NULL)` would drop it.
        "and (r.student_id is null or not (s.live and r.desired = 'present' and r.sync_status in ('synced', 'sent')
                  and coalesce(r.want_name = s.full_name, false) and r.want_card is not distinct from s.rfid_card_id))
         and (r.student_id is null or not (not s.live and r.desired = 'absent' and r.sync_status = 'deleted'))"
    } else {
        ""
    };
    let sql = format!(
        "with devs as (
             select id from devices where school_id = $1 and approval = 'approved' and mode = 'push'
               and ($2::bigint[] is null or id = any($2))
         ), studs as (
             select id, pin, full_name, rfid_card_id, (deleted_at is null and is_active) as live
             from students where school_id = $1 and ($3::bigint[] is null or id = any($3))
         )
         select d.id as device_id, s.id as student_id, s.pin, s.full_name, s.rfid_card_id, s.live,
                r.desired, r.sync_status, r.want_name, r.want_card, r.last_command_id, c.state as command_state,
                r.sync_retries, r.next_retry_at
         from devs d cross join studs s
         left join device_user_sync_status r on r.device_id = d.id and r.student_id = s.id
         left join device_commands c on c.id = r.last_command_id
         where (s.live or r.student_id is not null) {steady_filter}"
    );
    let rows = sqlx::query(&sql)
        .bind(scope.school_id)
        .bind(scope.device_ids.as_deref())
        .bind(scope.student_ids.as_deref())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let desired: Option<String> = r.get("desired");
            SyncTarget {
                device_id: r.get("device_id"),
                student_id: r.get("student_id"),
                pin: r.get("pin"),
                full_name: r.get("full_name"),
                rfid_card_id: r.get("rfid_card_id"),
                should_hold: r.get("live"),
                row: desired.map(|d| RecordedRow {
                    desired_present: d == "present",
                    status: r.get("sync_status"),
                    want_name: r.get("want_name"),
                    want_card: r.get("want_card"),
                    last_command_id: r.get("last_command_id"),
                    command_state: r.get("command_state"),
                    sync_retries: r.get("sync_retries"),
                    next_retry_at: r.get("next_retry_at"),
                }),
            }
        })
        .collect())
}

/// Drops the deletes of devices where they exceed the cap; returns the capped counts.
async fn apply_delete_cap(conn: &mut PgConnection, planned: &mut Vec<PlannedSync>) -> StoreResult<HashMap<i64, usize>> {
    let mut deletes: HashMap<i64, usize> = HashMap::new();
    for p in planned.iter().filter(|p| !p.present) {
        *deletes.entry(p.device_id).or_default() += 1;
    }
    let mut capped = HashMap::new();
    for (device, count) in deletes {
        if count <= delete_cap(0) {
            continue;
        }
        let held: i64 = sqlx::query_scalar(
            "select count(*) from device_user_sync_status where device_id = $1 and desired = 'present'",
        )
        .bind(device)
        .fetch_one(&mut *conn)
        .await?;
        if count > delete_cap(held as usize) {
            capped.insert(device, count);
        }
    }
    planned.retain(|p| p.present || !capped.contains_key(&p.device_id));
    Ok(capped)
}

/// Writes a plan: rewrites still-queued commands (coalescing), inserts the others, upserts the
/// rows and notifies other instances. Five statements whatever the size of the plan.
pub(super) async fn apply_plan(
    conn: &mut PgConnection,
    planned: &[PlannedSync],
    opts: &ReconcileOptions,
) -> StoreResult<Vec<i64>> {
    if planned.is_empty() {
        return Ok(Vec::new());
    }
    let render = |p: &PlannedSync| p.command.render().unwrap_or_default();
    let mut command_ids: HashMap<(i64, i64), i64> = HashMap::new();
    let rewrites: Vec<&PlannedSync> =
        planned.iter().filter(|p| matches!(p.action, CommandAction::Rewrite { .. })).collect();
    if !rewrites.is_empty() {
        // Lock the devices first (as delivery does) so a rewrite cannot race a claim of the command.
        let mut devices: Vec<i64> = rewrites.iter().map(|p| p.device_id).collect();
        devices.sort_unstable();
        devices.dedup();
        sqlx::query("select id from devices where id = any($1) order by id for update")
            .bind(&devices)
            .fetch_all(&mut *conn)
            .await?;
        let ids: Vec<i64> =
            rewrites.iter().map(|p| if let CommandAction::Rewrite { id } = p.action { id } else { 0 }).collect();
        let kinds: Vec<&str> = rewrites.iter().map(|p| p.command.kind()).collect();
        let verbs: Vec<&str> = rewrites.iter().map(|p| p.command.verb()).collect();
        let payloads: Vec<String> = rewrites.iter().map(|p| render(p)).collect();
        let done: Vec<(i64, i64, i64)> = sqlx::query_as(
            "update device_commands c set kind = u.kind, verb = u.verb, payload = u.payload, created_by = $5,
                    not_before = $6
             from unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) as u(id, kind, verb, payload)
             where c.id = u.id and c.state = 'queued'
             returning c.id, c.device_id, c.student_id",
        )
        .bind(&ids)
        .bind(&kinds)
        .bind(&verbs)
        .bind(&payloads)
        .bind(&opts.created_by)
        .bind(opts.not_before)
        .fetch_all(&mut *conn)
        .await?;
        for (id, device, student) in done {
            command_ids.insert((device, student), id);
        }
    }
    let inserts: Vec<&PlannedSync> =
        planned.iter().filter(|p| !command_ids.contains_key(&(p.device_id, p.student_id))).collect();
    if !inserts.is_empty() {
        let devices: Vec<i64> = inserts.iter().map(|p| p.device_id).collect();
        let students: Vec<i64> = inserts.iter().map(|p| p.student_id).collect();
        let kinds: Vec<&str> = inserts.iter().map(|p| p.command.kind()).collect();
        let verbs: Vec<&str> = inserts.iter().map(|p| p.command.verb()).collect();
        let payloads: Vec<String> = inserts.iter().map(|p| render(p)).collect();
        let pins: Vec<&str> = inserts.iter().map(|p| p.pin.as_str()).collect();
        let made: Vec<(i64, i64, i64)> = sqlx::query_as(
            "insert into device_commands (device_id, student_id, kind, verb, payload, pin, max_attempts, created_by,
                                          not_before)
             select u.device_id, u.student_id, u.kind, u.verb, u.payload, u.pin, $7, $8, $9
             from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[])
                  as u(device_id, student_id, kind, verb, payload, pin)
             returning id, device_id, student_id",
        )
        .bind(&devices)
        .bind(&students)
        .bind(&kinds)
        .bind(&verbs)
        .bind(&payloads)
        .bind(&pins)
        .bind(opts.max_attempts)
        .bind(&opts.created_by)
        .bind(opts.not_before)
        .fetch_all(&mut *conn)
        .await?;
        for (id, device, student) in made {
            command_ids.insert((device, student), id);
        }
    }
    let devices: Vec<i64> = planned.iter().map(|p| p.device_id).collect();
    let students: Vec<i64> = planned.iter().map(|p| p.student_id).collect();
    let pins: Vec<&str> = planned.iter().map(|p| p.pin.as_str()).collect();
    let desired: Vec<&str> = planned.iter().map(|p| if p.present { "present" } else { "absent" }).collect();
    let statuses: Vec<&str> = planned.iter().map(PlannedSync::status).collect();
    let names: Vec<Option<&str>> = planned.iter().map(|p| p.want_name.as_deref()).collect();
    let cards: Vec<Option<&str>> = planned.iter().map(|p| p.want_card.as_deref()).collect();
    let commands: Vec<Option<i64>> =
        planned.iter().map(|p| command_ids.get(&(p.device_id, p.student_id)).copied()).collect();
    let retries: Vec<i32> = planned.iter().map(|p| p.retries).collect();
    sqlx::query(
        "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status, want_name,
                 want_card, last_command_id, command_state, sync_retries, updated_at)
         select u.d, u.s, u.pin, u.desired, u.status, u.name, u.card, u.cmd, 'queued', u.retries, $10
         from unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                     $8::bigint[], $9::int[]) as u(d, s, pin, desired, status, name, card, cmd, retries)
         on conflict (device_id, student_id) do update set device_pin = excluded.device_pin,
             desired = excluded.desired, sync_status = excluded.sync_status, want_name = excluded.want_name,
             want_card = excluded.want_card, last_command_id = excluded.last_command_id, command_state = 'queued',
             sync_retries = excluded.sync_retries, error_message = null, next_retry_at = null,
             updated_at = excluded.updated_at",
    )
    .bind(&devices)
    .bind(&students)
    .bind(&pins)
    .bind(&desired)
    .bind(&statuses)
    .bind(&names)
    .bind(&cards)
    .bind(&commands)
    .bind(&retries)
    .bind(opts.now)
    .execute(&mut *conn)
    .await?;
    let mut woken: Vec<i64> = devices.clone();
    woken.sort_unstable();
    woken.dedup();
    sqlx::query("select pg_notify($1, d::text) from unnest($2::bigint[]) as d")
        .bind(COMMANDS_CHANNEL)
        .bind(&woken)
        .execute(&mut *conn)
        .await?;
    Ok(woken)
}

/// Load, plan, cap, write: the whole reconcile inside the caller's transaction.
pub(super) async fn reconcile_in(
    conn: &mut PgConnection,
    scope: &SyncScope,
    mode: SyncMode,
    opts: &ReconcileOptions,
) -> StoreResult<ReconcileReport> {
    let targets = load_targets(conn, scope, mode).await?;
    let mut planned = plan::plan(&targets, mode, opts.now);
    let capped = if opts.cap_deletes { apply_delete_cap(conn, &mut planned).await? } else { HashMap::new() };
    let woken = apply_plan(conn, &planned, opts).await?;
    Ok(summarise(&planned, &capped, woken))
}

/// Moves the device's rows whose command changed state (claim, ack, expiry, cancel, retry).
pub(super) async fn refresh_rows(conn: &mut PgConnection, device: i64, now: DateTime<Utc>) -> StoreResult<()> {
    let rows = sqlx::query(
        "select r.student_id, r.desired = 'present' as present, r.sync_status, r.sync_retries, c.state, c.sent_at,
                coalesce(c.error, c.return_message) as error
         from device_user_sync_status r join device_commands c on c.id = r.last_command_id
         where r.device_id = $1 and r.command_state is distinct from c.state",
    )
    .bind(device)
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let updates: Vec<_> = rows
        .iter()
        .map(|r| {
            refresh(
                &RowWithCommand {
                    device_id: device,
                    student_id: r.get(0),
                    desired_present: r.get(1),
                    status: r.get(2),
                    sync_retries: r.get(3),
                    command_state: r.get(4),
                    command_sent_at: r.get(5),
                    command_error: r.get(6),
                },
                now,
            )
        })
        .collect();
    let students: Vec<i64> = updates.iter().map(|u| u.student_id).collect();
    let statuses: Vec<&str> = updates.iter().map(|u| u.status).collect();
    let states: Vec<&str> = updates.iter().map(|u| u.command_state.as_str()).collect();
    let errors: Vec<Option<&str>> = updates.iter().map(|u| u.error_message.as_deref()).collect();
    let retry_at: Vec<Option<DateTime<Utc>>> = updates.iter().map(|u| u.next_retry_at).collect();
    let attempts: Vec<Option<DateTime<Utc>>> = updates.iter().map(|u| u.last_sync_attempt).collect();
    let success: Vec<Option<DateTime<Utc>>> = updates.iter().map(|u| u.succeeded_at).collect();
    sqlx::query(
        "update device_user_sync_status r set sync_status = u.status, command_state = u.state,
                error_message = coalesce(u.error, case when u.status in ('sent', 'deleted') then null else r.error_message end),
                next_retry_at = u.retry_at, last_sync_attempt = coalesce(u.attempt, r.last_sync_attempt),
                last_sync_success = coalesce(u.success, r.last_sync_success), updated_at = $9
         from unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[],
                     $8::timestamptz[]) as u(student_id, status, state, error, retry_at, attempt, success)
         where r.device_id = $1 and r.student_id = u.student_id",
    )
    .bind(device)
    .bind(&students)
    .bind(&statuses)
    .bind(&states)
    .bind(&errors)
    .bind(&retry_at)
    .bind(&attempts)
    .bind(&success)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn device_school(conn: &mut PgConnection, device: i64) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar::<_, Option<i64>>("select school_id from devices where id = $1")
        .bind(device)
        .fetch_optional(&mut *conn)
        .await?
        .flatten())
}

/// Resets rows so the next reconcile re-sends them: present rows forget what was queued,
/// absent rows go back to `deleting`. Clearing `last_command_id` marks "nothing in flight".
async fn reset_rows(
    conn: &mut PgConnection,
    device: i64,
    students: &[i64],
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "update device_user_sync_status set
             sync_status = case when desired = 'present' then 'pending' else 'deleting' end,
             want_name = null, last_command_id = null, command_state = null, error_message = $3, updated_at = $4
         where device_id = $1 and student_id = any($2)",
    )
    .bind(device)
    .bind(students)
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn summary_sql() -> &'static str {
    "select count(*) as total,
            count(*) filter (where r.sync_status = 'synced') as synced,
            count(*) filter (where r.sync_status in ('pending', 'sent')) as pending,
            count(*) filter (where r.sync_status = 'failed') as failed,
            count(*) filter (where r.student_id is null or r.sync_status in ('deleting', 'deleted')) as not_synced,
            (select count(*) from device_user_sync_status x where x.device_id = $2 and x.desired = 'absent'
                and x.sync_status = 'deleting') as deleting
     from students s left join device_user_sync_status r on r.device_id = $2 and r.student_id = s.id
     where s.school_id = $1 and s.deleted_at is null and s.is_active"
}

async fn summary(conn: &mut PgConnection, school: i64, device: i64) -> StoreResult<SyncSummary> {
    let r = sqlx::query(summary_sql()).bind(school).bind(device).fetch_one(&mut *conn).await?;
    Ok(SyncSummary {
        total: r.get("total"),
        synced: r.get("synced"),
        pending: r.get("pending"),
        failed: r.get("failed"),
        not_synced: r.get("not_synced"),
        deleting: r.get("deleting"),
    })
}

const ALERT_COLUMNS: &str =
    "id, school_id, device_id, kind, message, detail, created_at, resolved_at, resolved_by, resolution";

/// An advisory lock held on its own connection for the length of a job. A lock that was not
/// released (panic, cancelled task) closes its connection, which frees it.
struct PgJobLock {
    conn: Option<PoolConnection<Postgres>>,
    key: i64,
}

#[async_trait]
impl JobLock for PgJobLock {
    async fn release(mut self: Box<Self>) {
        if let Some(mut conn) = self.conn.take() {
            let unlocked = sqlx::query("select pg_advisory_unlock($1)").bind(self.key).execute(&mut *conn).await;
            if unlocked.is_err() {
                drop(conn.detach());
            }
        }
    }
}

impl Drop for PgJobLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

#[async_trait]
impl SyncStore for PgStore {
    async fn reconcile(
        &self,
        scope: &SyncScope,
        mode: SyncMode,
        opts: &ReconcileOptions,
    ) -> StoreResult<ReconcileReport> {
        let mut tx = self.pool.begin().await?;
        let report = reconcile_in(&mut tx, scope, mode, opts).await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn observe_users(
        &self,
        device: DeviceId,
        users: &[ObservedUser],
        opts: &ReconcileOptions,
    ) -> StoreResult<ObserveReport> {
        let mut tx = self.pool.begin().await?;
        let Some(school) = device_school(&mut tx, device.0).await? else {
            return Ok(ObserveReport { unknown: users.len(), ..Default::default() });
        };
        let pins: Vec<&str> = users.iter().map(|u| u.pin.as_str()).collect();
        let rows: Vec<KnownPin> = sqlx::query_as(
            "select s.pin, s.id as student_id, (s.deleted_at is null and s.is_active) as live, s.full_name,
                    s.rfid_card_id, r.desired, r.want_name, r.want_card, c.state as command_state
             from students s
             left join device_user_sync_status r on r.device_id = $2 and r.student_id = s.id
             left join device_commands c on c.id = r.last_command_id
             where s.school_id = $1 and s.pin = any($3)",
        )
        .bind(school)
        .bind(device.0)
        .bind(&pins)
        .fetch_all(&mut *tx)
        .await?;
        let Observation { confirmed, drifted, adopt_confirmed: adopt_present, adopt_reset, unknown } =
            observe(&rows, users);
        let mut report = ObserveReport { unknown, ..Default::default() };
        if !adopt_present.is_empty() {
            let ids: Vec<i64> = adopt_present.iter().map(|a| a.0).collect();
            let pins: Vec<&str> = adopt_present.iter().map(|a| a.1.as_str()).collect();
            let names: Vec<&str> = adopt_present.iter().map(|a| a.2.as_str()).collect();
            let cards: Vec<Option<&str>> = adopt_present.iter().map(|a| a.3.as_deref()).collect();
            sqlx::query(
                "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status,
                        want_name, want_card, updated_at)
                 select $1, u.s, u.pin, 'present', 'sent', u.name, u.card, $6
                 from unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) as u(s, pin, name, card)
                 on conflict do nothing",
            )
            .bind(device.0)
            .bind(&ids)
            .bind(&pins)
            .bind(&names)
            .bind(&cards)
            .bind(opts.now)
            .execute(&mut *tx)
            .await?;
        }
        if !adopt_reset.is_empty() {
            sqlx::query(
                "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status, updated_at)
                 select $1, s.id, s.pin, case when s.deleted_at is null and s.is_active then 'present' else 'absent' end,
                        case when s.deleted_at is null and s.is_active then 'pending' else 'deleting' end, $3
                 from students s where s.id = any($2)
                 on conflict do nothing",
            )
            .bind(device.0)
            .bind(&adopt_reset)
            .bind(opts.now)
            .execute(&mut *tx)
            .await?;
        }
        if !confirmed.is_empty() {
            sqlx::query(
                "update device_user_sync_status set sync_status = 'synced', verified_at = $3, last_sync_success = $3,
                        confirmed_by = 'device', error_message = null, next_retry_at = null, updated_at = $3
                 where device_id = $1 and student_id = any($2)",
            )
            .bind(device.0)
            .bind(&confirmed)
            .bind(opts.now)
            .execute(&mut *tx)
            .await?;
        }
        if !drifted.is_empty() {
            reset_rows(&mut tx, device.0, &drifted, "the device showed a different user record", opts.now).await?;
            let scope =
                SyncScope { school_id: school, device_ids: Some(vec![device.0]), student_ids: Some(drifted.clone()) };
            report.report = reconcile_in(&mut tx, &scope, SyncMode::Verify, opts).await?;
        }
        tx.commit().await?;
        report.confirmed = confirmed.len();
        report.drift = drifted.len();
        Ok(report)
    }

    async fn observe_keypad_deletes(
        &self,
        device: DeviceId,
        pins: &[String],
        opts: &ReconcileOptions,
    ) -> StoreResult<ReconcileReport> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("delete from device_users where device_id = $1 and pin = any($2)")
            .bind(device.0)
            .bind(pins)
            .execute(&mut *tx)
            .await?;
        let Some(school) = device_school(&mut tx, device.0).await? else {
            tx.commit().await?;
            return Ok(ReconcileReport::default());
        };
        let students: Vec<i64> = sqlx::query_scalar(
            "select r.student_id from device_user_sync_status r join students s on s.id = r.student_id
             where r.device_id = $1 and s.school_id = $2 and s.pin = any($3) and r.desired = 'present'",
        )
        .bind(device.0)
        .bind(school)
        .bind(pins)
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "update device_user_sync_status r set sync_status = 'deleted', last_sync_success = $3, updated_at = $3
             from students s where s.id = r.student_id and r.device_id = $1 and s.pin = any($2) and r.desired = 'absent'",
        )
        .bind(device.0)
        .bind(pins)
        .bind(opts.now)
        .execute(&mut *tx)
        .await?;
        let mut report = ReconcileReport::default();
        if !students.is_empty() {
            reset_rows(&mut tx, device.0, &students, "deleted at the device keypad", opts.now).await?;
            let scope = SyncScope { school_id: school, device_ids: Some(vec![device.0]), student_ids: Some(students) };
            report = reconcile_in(&mut tx, &scope, SyncMode::Verify, opts).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn awaiting_confirmation(&self, device: DeviceId) -> StoreResult<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "select student_id, device_pin from device_user_sync_status
             where device_id = $1 and desired = 'present' and sync_status = 'sent' and command_state = 'acked'
             order by student_id",
        )
        .bind(device.0)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn confirm_by_ack(&self, device: DeviceId, now: DateTime<Utc>) -> StoreResult<usize> {
        let done = sqlx::query(
            "update device_user_sync_status set sync_status = 'synced', confirmed_by = 'ack', last_sync_success = $2,
                    updated_at = $2
             where device_id = $1 and desired = 'present' and sync_status = 'sent' and command_state = 'acked'",
        )
        .bind(device.0)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() as usize)
    }

    async fn mark_missing_after_readback(
        &self,
        devices: &[i64],
        cutoff: DateTime<Utc>,
    ) -> StoreResult<Vec<(i64, usize)>> {
        // Full read-backs cover every row of the device, per-PIN ones their PIN: two hash joins
        // (an OR in one join would make PostgreSQL compare every row with every query).
        let mut counts: HashMap<i64, usize> = HashMap::new();
        for per_pin in [false, true] {
            let (pin_filter, join) =
                if per_pin { ("pin is not null", "and q.pin = r.device_pin") } else { ("pin is null", "") };
            let sql = format!(
                "with q as (
                     select device_id, pin, max(sent_at) as asked from device_commands
                     where device_id = any($1) and kind = 'user_query' and {pin_filter} and state = 'acked'
                       and acked_at <= $2
                     group by device_id, pin
                 ), missing as (
                     update device_user_sync_status r set sync_status = 'pending', want_name = null,
                            last_command_id = null, command_state = null,
                            error_message = 'not on the device when it was read back', updated_at = now()
                     from q
                     where r.device_id = q.device_id {join} and r.desired = 'present'
                       and r.sync_status in ('sent', 'synced')
                       and coalesce(r.last_sync_attempt, '-infinity') < q.asked
                       and coalesce(r.verified_at, '-infinity') < q.asked
                     returning r.device_id
                 )
                 select device_id, count(*) from missing group by device_id"
            );
            let rows: Vec<(i64, i64)> = sqlx::query_as(&sql).bind(devices).bind(cutoff).fetch_all(&self.pool).await?;
            for (d, n) in rows {
                *counts.entry(d).or_default() += n as usize;
            }
        }
        let mut out: Vec<(i64, usize)> = counts.into_iter().collect();
        out.sort_unstable();
        Ok(out)
    }

    async fn reset_confirmed(&self, device: DeviceId, reason: &str) -> StoreResult<usize> {
        let done = sqlx::query(
            "update device_user_sync_status set sync_status = 'pending', want_name = null, last_command_id = null,
                    command_state = null, error_message = $2, updated_at = now()
             where device_id = $1 and desired = 'present' and sync_status = 'synced'",
        )
        .bind(device.0)
        .bind(reason)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() as usize)
    }

    async fn sync_status(&self, device: DeviceId, f: &SyncStatusFilter) -> StoreResult<SyncStatusPage> {
        let mut conn = self.pool.acquire().await?;
        let Some(school) = device_school(&mut conn, device.0).await? else {
            return Ok(SyncStatusPage { summary: SyncSummary::default(), students: vec![], matched: 0 });
        };
        let summary = summary(&mut conn, school, device.0).await?;
        let filter = "from students s
             left join classes c on c.id = s.class_id
             left join sections se on se.id = s.section_id
             left join device_user_sync_status r on r.device_id = $2 and r.student_id = s.id and r.desired = 'present'
             where s.school_id = $1 and s.deleted_at is null and s.is_active
               and ($3::text is null or coalesce(r.sync_status, 'not_synced') = $3
                    or ($3 = 'pending' and r.sync_status = 'sent'))
               and ($4::bigint is null or s.class_id = $4) and ($5::bigint is null or s.section_id = $5)
               and ($6::text is null or lower(s.full_name) like '%' || lower($6) || '%' or s.pin = $6
                    or s.rfid_card_id = $6)";
        let sql = format!(
            "select s.id, s.full_name, s.rfid_card_id, c.name as class_name, se.name as section_name,
                    coalesce(r.sync_status, 'not_synced') as sync_status, r.last_sync_success,
                    coalesce(r.sync_retries, 0) as sync_retries, s.pin as device_pin, r.error_message
             {filter} order by lower(s.full_name), s.id limit $7 offset $8"
        );
        let search = f.search.as_deref().map(|s| s.replace(['%', '_', '\\'], ""));
        let students: Vec<StudentSyncRow> = sqlx::query_as(&sql)
            .bind(school)
            .bind(device.0)
            .bind(&f.status)
            .bind(f.class_id)
            .bind(f.section_id)
            .bind(&search)
            .bind(f.limit)
            .bind(f.offset)
            .fetch_all(&mut *conn)
            .await?;
        let matched: i64 = sqlx::query_scalar(&format!("select count(*) {filter}"))
            .bind(school)
            .bind(device.0)
            .bind(&f.status)
            .bind(f.class_id)
            .bind(f.section_id)
            .bind(&search)
            .fetch_one(&mut *conn)
            .await?;
        Ok(SyncStatusPage { summary, students, matched })
    }

    async fn sync_progress(&self, device: DeviceId, now: DateTime<Utc>) -> StoreResult<SyncProgress> {
        let (queued, delivered, confirmed): (i64, i64, i64) = sqlx::query_as(
            "select count(*) filter (where sync_status in ('pending', 'deleting')),
                    count(*) filter (where sync_status = 'sent'),
                    count(*) filter (where sync_status in ('synced', 'deleted'))
             from device_user_sync_status where device_id = $1",
        )
        .bind(device.0)
        .fetch_one(&self.pool)
        .await?;
        let recent: i64 = sqlx::query_scalar(
            "select count(*) from device_commands where device_id = $1 and kind in ('user_update', 'user_delete')
               and state = 'acked' and acked_at > $2",
        )
        .bind(device.0)
        .bind(now - chrono::Duration::minutes(10))
        .fetch_one(&self.pool)
        .await?;
        Ok(crate::sync::progress::progress(queued, delivered, confirmed, recent, now))
    }

    async fn school_sync_summary(&self, school_id: i64) -> StoreResult<Vec<DeviceSyncSummary>> {
        let mut conn = self.pool.acquire().await?;
        let devices: Vec<(i64, String, Option<String>, Option<DateTime<Utc>>)> = sqlx::query_as(
            "select id, serial_number, name, last_seen_at from devices
             where school_id = $1 and approval = 'approved' and mode = 'push' order by id",
        )
        .bind(school_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(devices.len());
        for (device_id, serial_number, name, last_seen_at) in devices {
            let summary = summary(&mut conn, school_id, device_id).await?;
            out.push(DeviceSyncSummary { device_id, serial_number, name, last_seen_at, summary });
        }
        Ok(out)
    }

    async fn unknown_device_users(&self, device: DeviceId, limit: i64) -> StoreResult<(i64, Vec<UnknownDeviceUser>)> {
        let filter = "from device_users u join devices d on d.id = u.device_id
             where u.device_id = $1 and not exists (select 1 from students s where s.school_id = d.school_id and s.pin = u.pin)";
        let total: i64 =
            sqlx::query_scalar(&format!("select count(*) {filter}")).bind(device.0).fetch_one(&self.pool).await?;
        let users = sqlx::query_as(&format!(
            "select u.pin, u.name, u.card, u.reported_at {filter} order by length(u.pin), u.pin limit $2"
        ))
        .bind(device.0)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok((total, users))
    }

    async fn sync_schools(&self) -> StoreResult<Vec<SchoolSyncPolicy>> {
        Ok(sqlx::query_as(
            "select id, timezone, quiet_hours, unknown_user_policy from schools s
             where exists (select 1 from devices d where d.school_id = s.id and d.approval = 'approved' and d.mode = 'push')
             order by id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    async fn school_policy(&self, school_id: i64) -> StoreResult<Option<SchoolSyncPolicy>> {
        Ok(sqlx::query_as("select id, timezone, quiet_hours, unknown_user_policy from schools where id = $1")
            .bind(school_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn online_devices(&self, school_id: i64, seen_after: DateTime<Utc>) -> StoreResult<Vec<VerifyDevice>> {
        Ok(sqlx::query_as(
            "select d.id, d.serial_number, d.last_seen_at,
                    case when d.options->>'UserCount' ~ '^[0-9]{1,9}$' then (d.options->>'UserCount')::bigint end as user_count
             from devices d
             where d.school_id = $1 and d.approval = 'approved' and d.mode = 'push' and d.last_seen_at >= $2
             order by d.id",
        )
        .bind(school_id)
        .bind(seen_after)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn verify_facts(&self, school_id: i64, devices: &[i64]) -> StoreResult<Vec<DeviceFacts>> {
        let mut facts: Vec<DeviceFacts> = sqlx::query_as(
            "select d.id as device_id,
                    exists (select 1 from device_capabilities c where c.device_id = d.id
                            and c.capability = 'DATA QUERY USERINFO' and not c.supported) as readback_unsupported,
                    exists (select 1 from device_commands q where q.device_id = d.id and q.state in ('queued', 'sent')
                            and q.kind = 'user_query' and q.pin is null) as readback_open,
                    0::bigint as unknown_users
             from devices d where d.id = any($1) order by d.id",
        )
        .bind(devices)
        .fetch_all(&self.pool)
        .await?;
        // One anti-join for every device's users (hashing the school's PINs once).
        let unknown: Vec<(i64, i64)> = sqlx::query_as(
            "select u.device_id, count(*) from device_users u
             left join students s on s.school_id = $1 and s.pin = u.pin
             where u.device_id = any($2) and s.id is null group by u.device_id",
        )
        .bind(school_id)
        .bind(devices)
        .fetch_all(&self.pool)
        .await?;
        for (device, n) in unknown {
            if let Some(f) = facts.iter_mut().find(|f| f.device_id == device) {
                f.unknown_users = n;
            }
        }
        Ok(facts)
    }

    async fn count_confirmed(&self, device: DeviceId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "select count(*) from device_user_sync_status where device_id = $1 and desired = 'present'
               and sync_status = 'synced'",
        )
        .bind(device.0)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn create_alert(
        &self,
        school_id: i64,
        device_id: i64,
        kind: &str,
        message: &str,
        detail: &serde_json::Value,
    ) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "insert into sync_alerts (school_id, device_id, kind, message, detail) values ($1, $2, $3, $4, $5) returning id",
        )
        .bind(school_id)
        .bind(device_id)
        .bind(kind)
        .bind(message)
        .bind(detail)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn open_alert(&self, device_id: i64, kind: &str) -> StoreResult<Option<SyncAlert>> {
        Ok(sqlx::query_as(&format!(
            "select {ALERT_COLUMNS} from sync_alerts where device_id = $1 and kind = $2 and resolved_at is null
             order by id desc limit 1"
        ))
        .bind(device_id)
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn list_alerts(&self, school_id: Option<i64>, open_only: bool) -> StoreResult<Vec<SyncAlert>> {
        Ok(sqlx::query_as(&format!(
            "select {ALERT_COLUMNS} from sync_alerts where ($1::bigint is null or school_id = $1)
               and (not $2 or resolved_at is null) order by id desc limit 200"
        ))
        .bind(school_id)
        .bind(open_only)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn get_alert(&self, id: i64) -> StoreResult<Option<SyncAlert>> {
        Ok(sqlx::query_as(&format!("select {ALERT_COLUMNS} from sync_alerts where id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn resolve_alert(&self, id: i64, resolution: &str, by: &str) -> StoreResult<Option<SyncAlert>> {
        Ok(sqlx::query_as(&format!(
            "update sync_alerts set resolved_at = now(), resolution = $2, resolved_by = $3
             where id = $1 and resolved_at is null returning {ALERT_COLUMNS}"
        ))
        .bind(id)
        .bind(resolution)
        .bind(by)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn try_job_lock(&self, key: i64) -> StoreResult<Option<Box<dyn JobLock>>> {
        let mut conn = self.pool.acquire().await?;
        let got: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)").bind(key).fetch_one(&mut *conn).await?;
        Ok(got.then(|| Box::new(PgJobLock { conn: Some(conn), key }) as Box<dyn JobLock>))
    }
}
