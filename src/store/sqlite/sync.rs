//! Student sync on SQLite: the same reads as PostgreSQL (id lists travel as JSON arrays through
//! `json_each`); writes are one prepared statement per row inside one transaction, which is
//! what SQLite is fast at (no network round trips).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, SqliteConnection};

use super::SqliteStore;
use crate::domain::DeviceId;
use crate::store::sync::{
    summarise, DeviceFacts, DeviceSyncSummary, JobLock, ObserveReport, ObservedUser, ReconcileOptions, ReconcileReport,
    SchoolSyncPolicy, StudentSyncRow, SyncAlert, SyncProgress, SyncScope, SyncStatusFilter, SyncStatusPage, SyncStore,
    SyncSummary, UnknownDeviceUser, VerifyDevice,
};
use crate::store::StoreResult;
use crate::sync::plan::{self, delete_cap, CommandAction, PlannedSync, RecordedRow, SyncMode, SyncTarget};
use crate::sync::status::{observe, refresh, KnownPin, Observation, RowWithCommand};

fn json_ids(ids: &[i64]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

fn json_strs(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

async fn load_targets(conn: &mut SqliteConnection, scope: &SyncScope, mode: SyncMode) -> StoreResult<Vec<SyncTarget>> {
    let steady_filter = if mode == SyncMode::Verify {
        // A pair without a row (`r` all NULL) must stay: `not (NULL)` would drop it.
        "and (r.student_id is null or not (s.live and r.desired = 'present' and r.sync_status in ('synced', 'sent')
                  and coalesce(r.want_name = s.full_name, false) and r.want_card is s.rfid_card_id))
         and (r.student_id is null or not (not s.live and r.desired = 'absent' and r.sync_status = 'deleted'))"
    } else {
        ""
    };
    let sql = format!(
        "with devs as (
             select id from devices where school_id = ?1 and approval = 'approved' and mode = 'push'
               and (?2 is null or id in (select value from json_each(?2)))
         ), studs as (
             select id, pin, full_name, rfid_card_id, (deleted_at is null and is_active) as live
             from students where school_id = ?1 and (?3 is null or id in (select value from json_each(?3)))
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
        .bind(scope.device_ids.as_deref().map(json_ids))
        .bind(scope.student_ids.as_deref().map(json_ids))
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

async fn apply_delete_cap(
    conn: &mut SqliteConnection,
    planned: &mut Vec<PlannedSync>,
) -> StoreResult<HashMap<i64, usize>> {
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
            "select count(*) from device_user_sync_status where device_id = ?1 and desired = 'present'",
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

async fn apply_plan(
    conn: &mut SqliteConnection,
    planned: &[PlannedSync],
    opts: &ReconcileOptions,
) -> StoreResult<Vec<i64>> {
    let mut woken: Vec<i64> = Vec::new();
    for p in planned {
        let payload = p.command.render().unwrap_or_default();
        let mut command_id: Option<i64> = None;
        if let CommandAction::Rewrite { id } = p.action {
            command_id = sqlx::query_scalar(
                "update device_commands set kind = ?2, verb = ?3, payload = ?4, created_by = ?5, not_before = ?6
                 where id = ?1 and state = 'queued' returning id",
            )
            .bind(id)
            .bind(p.command.kind())
            .bind(p.command.verb())
            .bind(&payload)
            .bind(&opts.created_by)
            .bind(opts.not_before)
            .fetch_optional(&mut *conn)
            .await?;
        }
        if command_id.is_none() {
            command_id = Some(
                sqlx::query_scalar(
                    "insert into device_commands (device_id, student_id, kind, verb, payload, pin, max_attempts,
                                                  created_by, not_before)
                     values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) returning id",
                )
                .bind(p.device_id)
                .bind(p.student_id)
                .bind(p.command.kind())
                .bind(p.command.verb())
                .bind(&payload)
                .bind(&p.pin)
                .bind(opts.max_attempts)
                .bind(&opts.created_by)
                .bind(opts.not_before)
                .fetch_one(&mut *conn)
                .await?,
            );
        }
        sqlx::query(
            "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status, want_name,
                     want_card, last_command_id, command_state, sync_retries, updated_at)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'queued', ?9, ?10)
             on conflict (device_id, student_id) do update set device_pin = excluded.device_pin,
                 desired = excluded.desired, sync_status = excluded.sync_status, want_name = excluded.want_name,
                 want_card = excluded.want_card, last_command_id = excluded.last_command_id, command_state = 'queued',
                 sync_retries = excluded.sync_retries, error_message = null, next_retry_at = null,
                 updated_at = excluded.updated_at",
        )
        .bind(p.device_id)
        .bind(p.student_id)
        .bind(&p.pin)
        .bind(if p.present { "present" } else { "absent" })
        .bind(p.status())
        .bind(&p.want_name)
        .bind(&p.want_card)
        .bind(command_id)
        .bind(p.retries)
        .bind(opts.now)
        .execute(&mut *conn)
        .await?;
        if !woken.contains(&p.device_id) {
            woken.push(p.device_id);
        }
    }
    woken.sort_unstable();
    Ok(woken)
}

pub(super) async fn reconcile_in(
    conn: &mut SqliteConnection,
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

pub(super) async fn refresh_rows(conn: &mut SqliteConnection, device: i64, now: DateTime<Utc>) -> StoreResult<()> {
    let rows = sqlx::query(
        "select r.student_id, r.desired = 'present' as present, r.sync_status, r.sync_retries, c.state, c.sent_at,
                coalesce(c.error, c.return_message) as error
         from device_user_sync_status r join device_commands c on c.id = r.last_command_id
         where r.device_id = ?1 and r.command_state is not c.state",
    )
    .bind(device)
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        let u = refresh(
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
        );
        sqlx::query(
            "update device_user_sync_status set sync_status = ?3, command_state = ?4,
                    error_message = coalesce(?5, case when ?3 in ('sent', 'deleted') then null else error_message end),
                    next_retry_at = ?6, last_sync_attempt = coalesce(?7, last_sync_attempt),
                    last_sync_success = coalesce(?8, last_sync_success), updated_at = ?9
             where device_id = ?1 and student_id = ?2",
        )
        .bind(device)
        .bind(u.student_id)
        .bind(u.status)
        .bind(&u.command_state)
        .bind(&u.error_message)
        .bind(u.next_retry_at)
        .bind(u.last_sync_attempt)
        .bind(u.succeeded_at)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn device_school(conn: &mut SqliteConnection, device: i64) -> StoreResult<Option<i64>> {
    Ok(sqlx::query_scalar::<_, Option<i64>>("select school_id from devices where id = ?1")
        .bind(device)
        .fetch_optional(&mut *conn)
        .await?
        .flatten())
}

async fn reset_rows(
    conn: &mut SqliteConnection,
    device: i64,
    students: &[i64],
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    sqlx::query(
        "update device_user_sync_status set
             sync_status = case when desired = 'present' then 'pending' else 'deleting' end,
             want_name = null, last_command_id = null, command_state = null, error_message = ?3, updated_at = ?4
         where device_id = ?1 and student_id in (select value from json_each(?2))",
    )
    .bind(device)
    .bind(json_ids(students))
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn summary(conn: &mut SqliteConnection, school: i64, device: i64) -> StoreResult<SyncSummary> {
    let r = sqlx::query(
        "select count(*) as total,
                count(*) filter (where r.sync_status = 'synced') as synced,
                count(*) filter (where r.sync_status in ('pending', 'sent')) as pending,
                count(*) filter (where r.sync_status = 'failed') as failed,
                count(*) filter (where r.student_id is null or r.sync_status in ('deleting', 'deleted')) as not_synced,
                (select count(*) from device_user_sync_status x where x.device_id = ?2 and x.desired = 'absent'
                    and x.sync_status = 'deleting') as deleting
         from students s left join device_user_sync_status r on r.device_id = ?2 and r.student_id = s.id
         where s.school_id = ?1 and s.deleted_at is null and s.is_active",
    )
    .bind(school)
    .bind(device)
    .fetch_one(&mut *conn)
    .await?;
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

fn alert_from_row(r: &sqlx::sqlite::SqliteRow) -> SyncAlert {
    let detail: String = r.get("detail");
    SyncAlert {
        id: r.get("id"),
        school_id: r.get("school_id"),
        device_id: r.get("device_id"),
        kind: r.get("kind"),
        message: r.get("message"),
        detail: serde_json::from_str(&detail).unwrap_or_default(),
        created_at: r.get("created_at"),
        resolved_at: r.get("resolved_at"),
        resolved_by: r.get("resolved_by"),
        resolution: r.get("resolution"),
    }
}

/// One SQLite file has one `serve` process: an in-process lock is the instance lock.
struct SqliteJobLock(#[allow(dead_code)] tokio::sync::OwnedMutexGuard<()>);

#[async_trait]
impl JobLock for SqliteJobLock {
    async fn release(self: Box<Self>) {}
}

#[async_trait]
impl SyncStore for SqliteStore {
    async fn reconcile(
        &self,
        scope: &SyncScope,
        mode: SyncMode,
        opts: &ReconcileOptions,
    ) -> StoreResult<ReconcileReport> {
        let _w = self.writer.lock().await;
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
        let _w = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        let Some(school) = device_school(&mut tx, device.0).await? else {
            return Ok(ObserveReport { unknown: users.len(), ..Default::default() });
        };
        let pins: Vec<String> = users.iter().map(|u| u.pin.clone()).collect();
        let rows: Vec<KnownPin> = sqlx::query_as(
            "select s.pin, s.id as student_id, (s.deleted_at is null and s.is_active) as live, s.full_name,
                    s.rfid_card_id, r.desired, r.want_name, r.want_card, c.state as command_state
             from students s
             left join device_user_sync_status r on r.device_id = ?2 and r.student_id = s.id
             left join device_commands c on c.id = r.last_command_id
             where s.school_id = ?1 and s.pin in (select value from json_each(?3))",
        )
        .bind(school)
        .bind(device.0)
        .bind(json_strs(&pins))
        .fetch_all(&mut *tx)
        .await?;
        let Observation { confirmed, drifted, adopt_confirmed: adopt_present, adopt_reset, unknown } =
            observe(&rows, users);
        let mut report = ObserveReport { unknown, ..Default::default() };
        for (student, pin, name, card) in &adopt_present {
            sqlx::query(
                "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status,
                        want_name, want_card, updated_at)
                 values (?1, ?2, ?3, 'present', 'sent', ?4, ?5, ?6) on conflict do nothing",
            )
            .bind(device.0)
            .bind(student)
            .bind(pin)
            .bind(name)
            .bind(card)
            .bind(opts.now)
            .execute(&mut *tx)
            .await?;
        }
        if !adopt_reset.is_empty() {
            sqlx::query(
                "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status, updated_at)
                 select ?1, s.id, s.pin, case when s.deleted_at is null and s.is_active then 'present' else 'absent' end,
                        case when s.deleted_at is null and s.is_active then 'pending' else 'deleting' end, ?3
                 from students s where s.id in (select value from json_each(?2))
                 on conflict do nothing",
            )
            .bind(device.0)
            .bind(json_ids(&adopt_reset))
            .bind(opts.now)
            .execute(&mut *tx)
            .await?;
        }
        if !confirmed.is_empty() {
            sqlx::query(
                "update device_user_sync_status set sync_status = 'synced', verified_at = ?3, last_sync_success = ?3,
                        confirmed_by = 'device', error_message = null, next_retry_at = null, updated_at = ?3
                 where device_id = ?1 and student_id in (select value from json_each(?2))",
            )
            .bind(device.0)
            .bind(json_ids(&confirmed))
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
        let _w = self.writer.lock().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query("delete from device_users where device_id = ?1 and pin in (select value from json_each(?2))")
            .bind(device.0)
            .bind(json_strs(pins))
            .execute(&mut *tx)
            .await?;
        let Some(school) = device_school(&mut tx, device.0).await? else {
            tx.commit().await?;
            return Ok(ReconcileReport::default());
        };
        let students: Vec<i64> = sqlx::query_scalar(
            "select r.student_id from device_user_sync_status r join students s on s.id = r.student_id
             where r.device_id = ?1 and s.school_id = ?2 and s.pin in (select value from json_each(?3))
               and r.desired = 'present'",
        )
        .bind(device.0)
        .bind(school)
        .bind(json_strs(pins))
        .fetch_all(&mut *tx)
        .await?;
        sqlx::query(
            "update device_user_sync_status set sync_status = 'deleted', last_sync_success = ?3, updated_at = ?3
             where device_id = ?1 and desired = 'absent'
               and student_id in (select id from students where pin in (select value from json_each(?2))
                                  and school_id = (select school_id from devices where id = ?1))",
        )
        .bind(device.0)
        .bind(json_strs(pins))
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
             where device_id = ?1 and desired = 'present' and sync_status = 'sent' and command_state = 'acked'
             order by student_id",
        )
        .bind(device.0)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn confirm_by_ack(&self, device: DeviceId, now: DateTime<Utc>) -> StoreResult<usize> {
        let _w = self.writer.lock().await;
        let done = sqlx::query(
            "update device_user_sync_status set sync_status = 'synced', confirmed_by = 'ack', last_sync_success = ?2,
                    updated_at = ?2
             where device_id = ?1 and desired = 'present' and sync_status = 'sent' and command_state = 'acked'",
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
        let _w = self.writer.lock().await;
        let asked: Vec<(i64, Option<String>, DateTime<Utc>)> = sqlx::query_as(
            "select device_id, pin, max(sent_at) from device_commands
             where device_id in (select value from json_each(?1)) and kind = 'user_query'
               and state = 'acked' and acked_at <= ?2
             group by device_id, pin",
        )
        .bind(json_ids(devices))
        .bind(cutoff)
        .fetch_all(&self.pool)
        .await?;
        let mut counts: HashMap<i64, usize> = HashMap::new();
        for (device, pin, at) in asked {
            let done = sqlx::query(
                "update device_user_sync_status set sync_status = 'pending', want_name = null, last_command_id = null,
                        command_state = null, error_message = 'not on the device when it was read back',
                        updated_at = ?4
                 where device_id = ?1 and (?3 is null or device_pin = ?3) and desired = 'present'
                   and sync_status in ('sent', 'synced')
                   and coalesce(last_sync_attempt, '') < ?2 and coalesce(verified_at, '') < ?2",
            )
            .bind(device)
            .bind(at)
            .bind(&pin)
            .bind(Utc::now())
            .execute(&self.pool)
            .await?;
            if done.rows_affected() > 0 {
                *counts.entry(device).or_default() += done.rows_affected() as usize;
            }
        }
        let mut out: Vec<(i64, usize)> = counts.into_iter().collect();
        out.sort_unstable();
        Ok(out)
    }

    async fn reset_confirmed(&self, device: DeviceId, reason: &str) -> StoreResult<usize> {
        let _w = self.writer.lock().await;
        let done = sqlx::query(
            "update device_user_sync_status set sync_status = 'pending', want_name = null, last_command_id = null,
                    command_state = null, error_message = ?2, updated_at = ?3
             where device_id = ?1 and desired = 'present' and sync_status = 'synced'",
        )
        .bind(device.0)
        .bind(reason)
        .bind(Utc::now())
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
             left join device_user_sync_status r on r.device_id = ?2 and r.student_id = s.id and r.desired = 'present'
             where s.school_id = ?1 and s.deleted_at is null and s.is_active
               and (?3 is null or coalesce(r.sync_status, 'not_synced') = ?3 or (?3 = 'pending' and r.sync_status = 'sent'))
               and (?4 is null or s.class_id = ?4) and (?5 is null or s.section_id = ?5)
               and (?6 is null or lower(s.full_name) like '%' || lower(?6) || '%' or s.pin = ?6 or s.rfid_card_id = ?6)";
        let sql = format!(
            "select s.id, s.full_name, s.rfid_card_id, c.name as class_name, se.name as section_name,
                    coalesce(r.sync_status, 'not_synced') as sync_status, r.last_sync_success,
                    coalesce(r.sync_retries, 0) as sync_retries, s.pin as device_pin, r.error_message
             {filter} order by lower(s.full_name), s.id limit ?7 offset ?8"
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
             from device_user_sync_status where device_id = ?1",
        )
        .bind(device.0)
        .fetch_one(&self.pool)
        .await?;
        let recent: i64 = sqlx::query_scalar(
            "select count(*) from device_commands where device_id = ?1 and kind in ('user_update', 'user_delete')
               and state = 'acked' and acked_at > ?2",
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
             where school_id = ?1 and approval = 'approved' and mode = 'push' order by id",
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
             where u.device_id = ?1 and not exists (select 1 from students s where s.school_id = d.school_id and s.pin = u.pin)";
        let total: i64 =
            sqlx::query_scalar(&format!("select count(*) {filter}")).bind(device.0).fetch_one(&self.pool).await?;
        let users = sqlx::query_as(&format!(
            "select u.pin, u.name, u.card, u.reported_at {filter} order by length(u.pin), u.pin limit ?2"
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
        Ok(sqlx::query_as("select id, timezone, quiet_hours, unknown_user_policy from schools where id = ?1")
            .bind(school_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn online_devices(&self, school_id: i64, seen_after: DateTime<Utc>) -> StoreResult<Vec<VerifyDevice>> {
        Ok(sqlx::query_as(
            "select d.id, d.serial_number, d.last_seen_at,
                    case when json_extract(d.options, '$.UserCount') glob '[0-9]*'
                         then cast(json_extract(d.options, '$.UserCount') as integer) end as user_count
             from devices d
             where d.school_id = ?1 and d.approval = 'approved' and d.mode = 'push' and d.last_seen_at >= ?2
             order by d.id",
        )
        .bind(school_id)
        .bind(seen_after)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn verify_facts(&self, school_id: i64, devices: &[i64]) -> StoreResult<Vec<DeviceFacts>> {
        Ok(sqlx::query_as(
            "select d.id as device_id,
                    exists (select 1 from device_capabilities c where c.device_id = d.id
                            and c.capability = 'DATA QUERY USERINFO' and not c.supported) as readback_unsupported,
                    exists (select 1 from device_commands q where q.device_id = d.id and q.state in ('queued', 'sent')
                            and q.kind = 'user_query' and q.pin is null) as readback_open,
                    (select count(*) from device_users u where u.device_id = d.id and not exists
                        (select 1 from students s where s.school_id = ?1 and s.pin = u.pin)) as unknown_users
             from devices d where d.id in (select value from json_each(?2)) order by d.id",
        )
        .bind(school_id)
        .bind(json_ids(devices))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn count_confirmed(&self, device: DeviceId) -> StoreResult<i64> {
        Ok(sqlx::query_scalar(
            "select count(*) from device_user_sync_status where device_id = ?1 and desired = 'present'
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
        let _w = self.writer.lock().await;
        Ok(sqlx::query_scalar(
            "insert into sync_alerts (school_id, device_id, kind, message, detail) values (?1, ?2, ?3, ?4, ?5) returning id",
        )
        .bind(school_id)
        .bind(device_id)
        .bind(kind)
        .bind(message)
        .bind(detail.to_string())
        .fetch_one(&self.pool)
        .await?)
    }

    async fn open_alert(&self, device_id: i64, kind: &str) -> StoreResult<Option<SyncAlert>> {
        let row = sqlx::query(&format!(
            "select {ALERT_COLUMNS} from sync_alerts where device_id = ?1 and kind = ?2 and resolved_at is null
             order by id desc limit 1"
        ))
        .bind(device_id)
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(alert_from_row))
    }

    async fn list_alerts(&self, school_id: Option<i64>, open_only: bool) -> StoreResult<Vec<SyncAlert>> {
        let rows = sqlx::query(&format!(
            "select {ALERT_COLUMNS} from sync_alerts where (?1 is null or school_id = ?1)
               and (not ?2 or resolved_at is null) order by id desc limit 200"
        ))
        .bind(school_id)
        .bind(open_only)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(alert_from_row).collect())
    }

    async fn get_alert(&self, id: i64) -> StoreResult<Option<SyncAlert>> {
        let row = sqlx::query(&format!("select {ALERT_COLUMNS} from sync_alerts where id = ?1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(alert_from_row))
    }

    async fn resolve_alert(&self, id: i64, resolution: &str, by: &str) -> StoreResult<Option<SyncAlert>> {
        let _w = self.writer.lock().await;
        let row = sqlx::query(&format!(
            "update sync_alerts set resolved_at = ?4, resolution = ?2, resolved_by = ?3
             where id = ?1 and resolved_at is null returning {ALERT_COLUMNS}"
        ))
        .bind(id)
        .bind(resolution)
        .bind(by)
        .bind(Utc::now())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.as_ref().map(alert_from_row))
    }

    async fn try_job_lock(&self, _key: i64) -> StoreResult<Option<Box<dyn JobLock>>> {
        Ok(self.jobs.clone().try_lock_owned().ok().map(|g| Box::new(SqliteJobLock(g)) as Box<dyn JobLock>))
    }
}
