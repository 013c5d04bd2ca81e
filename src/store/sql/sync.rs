//! Student sync, the set-based core: reconcile (read the pairs in scope with one query, plan with
//! `domain::sync::plan`, write the plan with a handful of set-based statements whatever its size)
//! and the refresh that makes a row follow its command. Both run inside the caller's transaction:
//! student writes call [`reconcile_in`], the command queue calls [`refresh_rows`] (claim, ack,
//! cancel, retry). The `SyncStore` methods and what the device showed are in `sync_evidence.rs`;
//! the read-only views are in `sync_status.rs`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Dialect, List, Rows, SqlStore, WriteTx};
use crate::domain::sync::{
    delete_cap, plan, refresh, retry_backoff, CommandAction, PlannedSync, RecordedRow, RowWithCommand, SyncMode,
    SyncTarget,
};
use crate::domain::DeviceId;
use crate::domain::Pin;
use crate::store::sync::{summarise, ReconcileOptions, ReconcileReport, SyncScope};
use crate::store::{StoreChange, StoreError, StoreResult};

/// One (device, student) pair with its row and the state of the row's last command, as read.
#[derive(sqlx::FromRow)]
struct TargetRow {
    device_id: i64,
    student_id: i64,
    pin: Pin,
    full_name: String,
    rfid_card_id: Option<String>,
    live: bool,
    desired: Option<String>,
    sync_status: Option<String>,
    want_name: Option<String>,
    want_card: Option<String>,
    last_command_id: Option<i64>,
    command_state: Option<String>,
    sync_retries: Option<i32>,
    next_retry_at: Option<DateTime<Utc>>,
    dialect: String,
}

impl TargetRow {
    fn into_target(self) -> StoreResult<SyncTarget> {
        let row = match self.desired {
            None => None,
            Some(desired) => Some(RecordedRow {
                desired_present: desired == "present",
                status: self.sync_status.ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "sync row of device {} student {}: no sync_status",
                        self.device_id, self.student_id
                    ))
                })?,
                want_name: self.want_name,
                want_card: self.want_card,
                last_command_id: self.last_command_id,
                command_state: self.command_state,
                sync_retries: self.sync_retries.unwrap_or_default(),
                next_retry_at: self.next_retry_at,
            }),
        };
        Ok(SyncTarget {
            device_id: self.device_id,
            student_id: self.student_id,
            pin: self.pin,
            full_name: self.full_name,
            rfid_card_id: self.rfid_card_id,
            should_hold: self.live,
            row,
            dialect: crate::domain::Dialect::parse(&self.dialect).unwrap_or(crate::domain::Dialect::Att),
        })
    }
}

/// The pairs of `scope`. In `Verify` mode pairs that are plainly in line (confirmed or delivered
/// with the same name and card) are filtered out in SQL, so a steady-state pass reads almost nothing.
async fn load_targets<D: Dialect>(
    conn: &mut D::Connection,
    scope: &SyncScope,
    mode: SyncMode,
) -> StoreResult<Vec<SyncTarget>> {
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
             select id, dialect from devices where school_id = $1 and approval = 'approved' and (mode = 'push' or enabled)
               and ($2 is null or {})
         ), studs as (
             select id, pin, full_name, rfid_card_id, (deleted_at is null and is_active) as live
             from students where school_id = $1 and ($3 is null or {})
         )
         select d.id as device_id, s.id as student_id, s.pin, s.full_name, s.rfid_card_id, s.live,
                r.desired, r.sync_status, r.want_name, r.want_card, r.last_command_id, c.state as command_state,
                r.sync_retries, r.next_retry_at, d.dialect
         from devs d cross join studs s
         left join device_user_sync_status r on r.device_id = d.id and r.student_id = s.id
         left join device_commands c on c.id = r.last_command_id
         where (s.live or r.student_id is not null) {steady_filter}",
        D::in_list("id", 2),
        D::in_list("id", 3),
    );
    let rows: Vec<TargetRow> = SqlStore::<D>::sql(&sql)
        .bind(scope.school_id)
        .bind(List(scope.device_ids.as_deref()))
        .bind(List(scope.student_ids.as_deref()))
        .fetch_all(conn)
        .await?;
    rows.into_iter().map(TargetRow::into_target).collect()
}

/// Drops the deletes of devices where they exceed the cap; returns the capped counts.
async fn apply_delete_cap<D: Dialect>(
    conn: &mut D::Connection,
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
        let held: i64 = SqlStore::<D>::sql(
            "select count(*) from device_user_sync_status where device_id = $1 and desired = 'present'",
        )
        .bind(device)
        .scalar(&mut *conn)
        .await?;
        if count > delete_cap(usize::try_from(held).unwrap_or_default()) {
            capped.insert(device, count);
        }
    }
    planned.retain(|p| p.present || !capped.contains_key(&p.device_id));
    Ok(capped)
}

/// The pair's command cannot be rendered: nothing is queued for it.
fn is_refused(p: &PlannedSync) -> bool {
    matches!(p.action, CommandAction::Refused { .. })
}

/// Commands as `returning id, device_id, student_id` reads them, keyed by (device, student).
fn by_pair(commands: Vec<(i64, i64, Option<i64>)>) -> impl Iterator<Item = ((i64, i64), i64)> {
    commands.into_iter().filter_map(|(id, device, student)| Some(((device, student?), id)))
}

/// Writes a plan: rewrites still-queued commands (coalescing), inserts the others, upserts the
/// rows. Four set-based statements whatever the size of the plan. A refused pair (its command
/// cannot be rendered) queues nothing: its row fails with the reason. Returns the devices that
/// got commands.
async fn apply_plan<D: Dialect>(
    conn: &mut D::Connection,
    planned: &[PlannedSync],
    opts: &ReconcileOptions,
) -> StoreResult<Vec<i64>> {
    if planned.is_empty() {
        return Ok(Vec::new());
    }
    let mut command_ids: HashMap<(i64, i64), i64> = HashMap::new();
    let rewrites: Vec<(i64, &PlannedSync)> = planned
        .iter()
        .filter_map(|p| match p.action {
            CommandAction::Rewrite { id } => Some((id, p)),
            _ => None,
        })
        .collect();
    if !rewrites.is_empty() {
        // Lock the devices first (as delivery does) so a rewrite cannot race a claim of the command.
        let mut devices: Vec<i64> = rewrites.iter().map(|(_, p)| p.device_id).collect();
        devices.sort_unstable();
        devices.dedup();
        let lock = format!("select id from devices where {} order by id {}", D::in_list("id", 1), D::FOR_UPDATE);
        SqlStore::<D>::sql(&lock).bind(List::of(&devices)).scalars::<i64>(&mut *conn).await?;
        // Row-set columns are named apart from the table's, so `returning` is unambiguous.
        let rows = Rows::new()
            .bigint("command_id", rewrites.iter().map(|(id, _)| *id))
            .text("new_kind", rewrites.iter().map(|(_, p)| p.command.kind()))
            .text("new_verb", rewrites.iter().map(|(_, p)| p.verb))
            .text("new_payload", rewrites.iter().map(|(_, p)| p.payload.as_str()));
        let sql = format!(
            "update device_commands as c set kind = u.new_kind, verb = u.new_verb, payload = u.new_payload,
                    created_by = $5, not_before = $6
             from {} where c.id = u.command_id and c.state = 'queued'
             returning id, device_id, student_id",
            D::rows(&rows, 1, "u")
        );
        let done: Vec<(i64, i64, Option<i64>)> = SqlStore::<D>::sql(&sql)
            .bind_rows(&rows)
            .bind(&opts.created_by)
            .bind(opts.not_before)
            .fetch_all(&mut *conn)
            .await?;
        command_ids.extend(by_pair(done));
    }
    // New commands: plain inserts, and rewrites whose command was delivered in the meantime.
    let inserts: Vec<&PlannedSync> =
        planned.iter().filter(|p| !is_refused(p) && !command_ids.contains_key(&(p.device_id, p.student_id))).collect();
    if !inserts.is_empty() {
        let rows = Rows::new()
            .bigint("device_id", inserts.iter().map(|p| p.device_id))
            .bigint("student_id", inserts.iter().map(|p| p.student_id))
            .text("kind", inserts.iter().map(|p| p.command.kind()))
            .text("verb", inserts.iter().map(|p| p.verb))
            .text("payload", inserts.iter().map(|p| p.payload.as_str()))
            .text("pin", inserts.iter().map(|p| p.pin.as_str()));
        let sql = format!(
            "insert into device_commands (device_id, student_id, kind, verb, payload, pin, max_attempts, created_by,
                                          not_before, created_at, school_id)
             select u.device_id, u.student_id, u.kind, u.verb, u.payload, u.pin, $7, $8, $9, $10,
                    (select d.school_id from devices d where d.id = u.device_id)
             from {}
             returning id, device_id, student_id",
            D::rows(&rows, 1, "u")
        );
        let made: Vec<(i64, i64, Option<i64>)> = SqlStore::<D>::sql(&sql)
            .bind_rows(&rows)
            .bind(opts.max_attempts)
            .bind(&opts.created_by)
            .bind(opts.not_before)
            .bind(opts.now)
            .fetch_all(&mut *conn)
            .await?;
        command_ids.extend(by_pair(made));
    }
    let command = |p: &PlannedSync| command_ids.get(&(p.device_id, p.student_id)).copied();
    let rows = Rows::new()
        .bigint("d", planned.iter().map(|p| p.device_id))
        .bigint("s", planned.iter().map(|p| p.student_id))
        .text("pin", planned.iter().map(|p| p.pin.as_str()))
        .text("desired", planned.iter().map(|p| if p.present { "present" } else { "absent" }))
        .text("status", planned.iter().map(PlannedSync::status))
        .text("name", planned.iter().map(|p| p.want_name.as_deref()))
        .text("card", planned.iter().map(|p| p.want_card.as_deref()))
        .bigint("cmd", planned.iter().map(command))
        .text("state", planned.iter().map(|p| (!is_refused(p)).then_some("queued")))
        .text(
            "error",
            planned.iter().map(|p| match &p.action {
                CommandAction::Refused { reason } => Some(reason.as_str()),
                _ => None,
            }),
        )
        .int("retries", planned.iter().map(|p| p.retries))
        // A refused row is retried by the verifier after its back-off, like any failed row.
        .time("retry_at", planned.iter().map(|p| is_refused(p).then(|| opts.now + retry_backoff(p.retries))));
    // `where true`: SQLite cannot otherwise tell the upsert's `on` from a join's.
    let sql = format!(
        "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status, want_name,
                 want_card, last_command_id, command_state, error_message, sync_retries, next_retry_at, updated_at)
         select u.d, u.s, u.pin, u.desired, u.status, u.name, u.card, u.cmd, u.state, u.error, u.retries, u.retry_at,
                $13
         from {} where true
         on conflict (device_id, student_id) do update set device_pin = excluded.device_pin,
             desired = excluded.desired, sync_status = excluded.sync_status, want_name = excluded.want_name,
             want_card = excluded.want_card, last_command_id = excluded.last_command_id,
             command_state = excluded.command_state, sync_retries = excluded.sync_retries,
             error_message = excluded.error_message, next_retry_at = excluded.next_retry_at,
             updated_at = excluded.updated_at",
        D::rows(&rows, 1, "u")
    );
    SqlStore::<D>::sql(&sql).bind_rows(&rows).bind(opts.now).execute(&mut *conn).await?;
    let mut woken: Vec<i64> = planned.iter().filter(|p| !is_refused(p)).map(|p| p.device_id).collect();
    woken.sort_unstable();
    woken.dedup();
    Ok(woken)
}

/// Load, plan, cap, write: the whole reconcile inside the caller's transaction. Every device that
/// got commands is announced (`StoreChange::Commands`) when the transaction commits.
pub(super) async fn reconcile_in<D: Dialect>(
    tx: &mut WriteTx<D>,
    scope: &SyncScope,
    mode: SyncMode,
    opts: &ReconcileOptions,
) -> StoreResult<ReconcileReport> {
    let targets = load_targets::<D>(tx, scope, mode).await?;
    let mut planned = plan(&targets, mode, opts.now);
    let capped = if opts.cap_deletes { apply_delete_cap::<D>(tx, &mut planned).await? } else { HashMap::new() };
    let woken = apply_plan::<D>(tx, &planned, opts).await?;
    for device in &woken {
        tx.changed(StoreChange::Commands(DeviceId(*device)));
    }
    Ok(summarise(&planned, &capped, woken))
}

/// A row whose last command changed state since the row last followed it.
#[derive(sqlx::FromRow)]
struct MovedCommand {
    student_id: i64,
    present: bool,
    sync_status: String,
    sync_retries: i32,
    state: String,
    sent_at: Option<DateTime<Utc>>,
    error: Option<String>,
}

/// Moves the device's rows whose command changed state (claim, ack, expiry, cancel, retry): one
/// read and one bulk update, whatever the number of rows.
pub(super) async fn refresh_rows<D: Dialect>(
    conn: &mut D::Connection,
    device: i64,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let moved: Vec<MovedCommand> = SqlStore::<D>::sql(
        "select r.student_id, r.desired = 'present' as present, r.sync_status, r.sync_retries, c.state, c.sent_at,
                coalesce(c.error, c.return_message) as error
         from device_user_sync_status r join device_commands c on c.id = r.last_command_id
         where r.device_id = $1 and r.command_state is distinct from c.state",
    )
    .bind(device)
    .fetch_all(&mut *conn)
    .await?;
    if moved.is_empty() {
        return Ok(());
    }
    let updates: Vec<_> = moved
        .into_iter()
        .map(|m| {
            refresh(
                &RowWithCommand {
                    device_id: device,
                    student_id: m.student_id,
                    desired_present: m.present,
                    status: m.sync_status,
                    sync_retries: m.sync_retries,
                    command_state: m.state,
                    command_sent_at: m.sent_at,
                    command_error: m.error,
                },
                now,
            )
        })
        .collect();
    let rows = Rows::new()
        .bigint("student_id", updates.iter().map(|u| u.student_id))
        .text("status", updates.iter().map(|u| u.status))
        .text("state", updates.iter().map(|u| u.command_state.as_str()))
        .text("error", updates.iter().map(|u| u.error_message.as_deref()))
        .time("retry_at", updates.iter().map(|u| u.next_retry_at))
        .time("attempt", updates.iter().map(|u| u.last_sync_attempt))
        .time("success", updates.iter().map(|u| u.succeeded_at));
    let sql = format!(
        "update device_user_sync_status as r set sync_status = u.status, command_state = u.state,
                error_message = coalesce(u.error, case when u.status in ('sent', 'deleted') then null else r.error_message end),
                next_retry_at = u.retry_at, last_sync_attempt = coalesce(u.attempt, r.last_sync_attempt),
                last_sync_success = coalesce(u.success, r.last_sync_success), updated_at = $9
         from {} where r.device_id = $1 and r.student_id = u.student_id",
        D::rows(&rows, 2, "u")
    );
    SqlStore::<D>::sql(&sql).bind(device).bind_rows(&rows).bind(now).run(conn).await
}
