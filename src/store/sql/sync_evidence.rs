//! Student sync, the `SyncStore` methods: reconcile (its set-based core is in `sync.rs`), and
//! what the device showed: user records from a read-back or an upload confirm rows (or reveal
//! drift, which is reset and re-queued), keypad deletes re-queue the students that should be
//! there, a read-back that did not show a user sends it again, confirmation on ack evidence for
//! firmware that cannot be read back, and the safety alerts.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::sync::reconcile_in;
use super::sync_status::{device_school, ALERT_COLUMNS};
use super::{Dialect, Json, List, Rows, SqlStore};
use crate::domain::sync::{observe, KnownPin, Observation, SyncMode};
use crate::domain::DeviceId;
use crate::domain::SchoolId;
use crate::store::sync::{
    ObserveReport, ObservedUser, ReconcileOptions, ReconcileReport, SyncAlert, SyncScope, SyncStore,
};
use crate::store::StoreResult;

/// Resets rows so the next reconcile re-sends them: present rows forget what was queued,
/// absent rows go back to `deleting`. Clearing `last_command_id` marks "nothing in flight".
async fn reset_rows<D: Dialect>(
    conn: &mut D::Connection,
    device: i64,
    students: &[i64],
    reason: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = format!(
        "update device_user_sync_status set
             sync_status = case when desired = 'present' then 'pending' else 'deleting' end,
             want_name = null, last_command_id = null, command_state = null, error_message = $3, updated_at = $4
         where device_id = $1 and {}",
        D::in_list("student_id", 2)
    );
    SqlStore::<D>::sql(&sql).bind(device).bind(List::of(students)).bind(reason).bind(now).run(conn).await
}

/// After read-backs acked before `cutoff`: rows delivered or confirmed before the device was
/// asked, that it did not show, are reset to be re-sent. Returns how many per device.
async fn mark_missing<D: Dialect>(
    conn: &mut D::Connection,
    devices: &[i64],
    cutoff: DateTime<Utc>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<(i64, usize)>> {
    // Full read-backs cover every row of the device, per-PIN ones their PIN: two hash joins
    // (an OR in one join would make PostgreSQL compare every row with every query). The query
    // columns are named apart from the row's, so `returning device_id` is unambiguous.
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for per_pin in [false, true] {
        let (pin_filter, join) =
            if per_pin { ("pin is not null", "and q.qpin = r.device_pin") } else { ("pin is null", "") };
        // `sent_at is not null`: a query never sent proves nothing (the max would be NULL).
        let sql = format!(
            "with q as (
                 select device_id as qdevice, pin as qpin, max(sent_at) as asked from device_commands
                 where {} and kind = 'user_query' and {pin_filter} and state = 'acked'
                   and acked_at <= $2 and sent_at is not null
                 group by device_id, pin
             )
             update device_user_sync_status as r set sync_status = 'pending', want_name = null,
                    last_command_id = null, command_state = null,
                    error_message = 'not on the device when it was read back', updated_at = $3
             from q
             where r.device_id = q.qdevice {join} and r.desired = 'present'
               and r.sync_status in ('sent', 'synced')
               and (r.last_sync_attempt is null or r.last_sync_attempt < q.asked)
               and (r.verified_at is null or r.verified_at < q.asked)
             returning device_id",
            D::in_list("device_id", 1)
        );
        let reset: Vec<i64> =
            SqlStore::<D>::sql(&sql).bind(List::of(devices)).bind(cutoff).bind(now).scalars(&mut *conn).await?;
        for d in reset {
            *counts.entry(d).or_default() += 1;
        }
    }
    let mut out: Vec<(i64, usize)> = counts.into_iter().collect();
    out.sort_unstable();
    Ok(out)
}

#[async_trait]
impl<D: Dialect> SyncStore for SqlStore<D> {
    async fn reconcile(
        &self,
        scope: &SyncScope,
        mode: SyncMode,
        opts: &ReconcileOptions,
    ) -> StoreResult<ReconcileReport> {
        let mut tx = self.write().await?;
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
        let mut tx = self.write().await?;
        let Some(school) = device_school::<D>(&mut tx, device.0).await? else {
            return Ok(ObserveReport { unknown: users.len(), ..Default::default() });
        };
        let pins: Vec<String> = users.iter().map(|u| u.pin.to_string()).collect();
        let sql = format!(
            "select s.pin, s.id as student_id, (s.deleted_at is null and s.is_active) as live, s.full_name,
                    s.rfid_card_id, r.desired, r.want_name, r.want_card, c.state as command_state
             from students s
             left join device_user_sync_status r on r.device_id = $2 and r.student_id = s.id
             left join device_commands c on c.id = r.last_command_id
             where s.school_id = $1 and {}",
            D::in_list("s.pin", 3)
        );
        let known: Vec<KnownPin> =
            SqlStore::<D>::sql(&sql).bind(school).bind(device.0).bind(List::of(&pins)).fetch_all(&mut tx).await?;
        let Observation { confirmed, drifted, adopt_confirmed: adopt_present, adopt_reset, unknown } =
            observe(&known, users);
        let mut report = ObserveReport { unknown, ..Default::default() };
        if !adopt_present.is_empty() {
            let rows = Rows::new()
                .bigint("student_id", adopt_present.iter().map(|a| a.0))
                .text("pin", adopt_present.iter().map(|a| a.1.as_str()))
                .text("name", adopt_present.iter().map(|a| a.2.as_str()))
                .text("card", adopt_present.iter().map(|a| a.3.as_deref()));
            // `where true`: SQLite cannot otherwise tell the upsert's `on` from a join's.
            let sql = format!(
                "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status,
                        want_name, want_card, updated_at)
                 select $1, u.student_id, u.pin, 'present', 'sent', u.name, u.card, $6
                 from {} where true
                 on conflict do nothing",
                D::rows(&rows, 2, "u")
            );
            SqlStore::<D>::sql(&sql).bind(device.0).bind_rows(&rows).bind(opts.now).execute(&mut tx).await?;
        }
        if !adopt_reset.is_empty() {
            let sql = format!(
                "insert into device_user_sync_status (device_id, student_id, device_pin, desired, sync_status,
                        updated_at)
                 select $1, s.id, s.pin, case when s.deleted_at is null and s.is_active then 'present' else 'absent' end,
                        case when s.deleted_at is null and s.is_active then 'pending' else 'deleting' end, $3
                 from students s where {}
                 on conflict do nothing",
                D::in_list("s.id", 2)
            );
            SqlStore::<D>::sql(&sql)
                .bind(device.0)
                .bind(List::of(&adopt_reset))
                .bind(opts.now)
                .execute(&mut tx)
                .await?;
        }
        if !confirmed.is_empty() {
            let sql = format!(
                "update device_user_sync_status set sync_status = 'synced', verified_at = $3, last_sync_success = $3,
                        confirmed_by = 'device', error_message = null, next_retry_at = null, updated_at = $3
                 where device_id = $1 and {}",
                D::in_list("student_id", 2)
            );
            SqlStore::<D>::sql(&sql).bind(device.0).bind(List::of(&confirmed)).bind(opts.now).execute(&mut tx).await?;
        }
        if !drifted.is_empty() {
            reset_rows::<D>(&mut tx, device.0, &drifted, "the device showed a different user record", opts.now).await?;
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
        let mut tx = self.write().await?;
        let sql = format!("delete from device_users where device_id = $1 and {}", D::in_list("pin", 2));
        SqlStore::<D>::sql(&sql).bind(device.0).bind(List::of(pins)).execute(&mut tx).await?;
        let Some(school) = device_school::<D>(&mut tx, device.0).await? else {
            tx.commit().await?;
            return Ok(ReconcileReport::default());
        };
        let sql = format!(
            "select r.student_id from device_user_sync_status r join students s on s.id = r.student_id
             where r.device_id = $1 and s.school_id = $2 and {} and r.desired = 'present'",
            D::in_list("s.pin", 3)
        );
        let students: Vec<i64> =
            SqlStore::<D>::sql(&sql).bind(device.0).bind(school).bind(List::of(pins)).scalars(&mut tx).await?;
        let sql = format!(
            "update device_user_sync_status as r set sync_status = 'deleted', last_sync_success = $3, updated_at = $3
             from students s where s.id = r.student_id and r.device_id = $1 and {} and r.desired = 'absent'",
            D::in_list("s.pin", 2)
        );
        SqlStore::<D>::sql(&sql).bind(device.0).bind(List::of(pins)).bind(opts.now).execute(&mut tx).await?;
        let mut report = ReconcileReport::default();
        if !students.is_empty() {
            reset_rows::<D>(&mut tx, device.0, &students, "deleted at the device keypad", opts.now).await?;
            let scope = SyncScope { school_id: school, device_ids: Some(vec![device.0]), student_ids: Some(students) };
            report = reconcile_in(&mut tx, &scope, SyncMode::Verify, opts).await?;
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn awaiting_confirmation(&self, device: DeviceId) -> StoreResult<Vec<(i64, String)>> {
        Self::sql(
            "select student_id, device_pin from device_user_sync_status
             where device_id = $1 and desired = 'present' and sync_status = 'sent' and command_state = 'acked'
             order by student_id",
        )
        .bind(device.0)
        .fetch_all(&mut *self.read().await?)
        .await
    }

    async fn confirm_by_ack(&self, device: DeviceId, now: DateTime<Utc>) -> StoreResult<usize> {
        let done = Self::sql(
            "update device_user_sync_status set sync_status = 'synced', confirmed_by = 'ack', last_sync_success = $2,
                    updated_at = $2
             where device_id = $1 and desired = 'present' and sync_status = 'sent' and command_state = 'acked'",
        )
        .bind(device.0)
        .bind(now)
        .execute(&mut *self.write_once().await?)
        .await?;
        Ok(done as usize)
    }

    async fn mark_missing_after_readback(
        &self,
        devices: &[i64],
        cutoff: DateTime<Utc>,
    ) -> StoreResult<Vec<(i64, usize)>> {
        let mut tx = self.write().await?;
        let counts = mark_missing::<D>(&mut tx, devices, cutoff, Utc::now()).await?;
        tx.commit().await?;
        Ok(counts)
    }

    async fn reset_confirmed(&self, device: DeviceId, reason: &str) -> StoreResult<usize> {
        let done = Self::sql(
            "update device_user_sync_status set sync_status = 'pending', want_name = null, last_command_id = null,
                    command_state = null, error_message = $2, updated_at = $3
             where device_id = $1 and desired = 'present' and sync_status = 'synced'",
        )
        .bind(device.0)
        .bind(reason)
        .bind(Utc::now())
        .execute(&mut *self.write_once().await?)
        .await?;
        Ok(done as usize)
    }

    async fn create_alert(
        &self,
        school_id: SchoolId,
        device_id: i64,
        kind: &str,
        message: &str,
        detail: &serde_json::Value,
    ) -> StoreResult<i64> {
        Self::sql(
            "insert into sync_alerts (school_id, device_id, kind, message, detail, created_at)
             values ($1, $2, $3, $4, $5, $6) returning id",
        )
        .bind(school_id)
        .bind(device_id)
        .bind(kind)
        .bind(message)
        .bind(Json(detail))
        .bind(Utc::now())
        .scalar(&mut *self.write_once().await?)
        .await
    }

    async fn resolve_alert(&self, id: i64, resolution: &str, by: &str) -> StoreResult<Option<SyncAlert>> {
        let sql = format!(
            "update sync_alerts set resolved_at = $4, resolution = $2, resolved_by = $3
             where id = $1 and resolved_at is null returning {ALERT_COLUMNS}"
        );
        Self::sql(&sql)
            .bind(id)
            .bind(resolution)
            .bind(by)
            .bind(Utc::now())
            .fetch_optional(&mut *self.write_once().await?)
            .await
    }
}
