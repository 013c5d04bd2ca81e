//! Pull devices as the pull service keeps them: their switches and standing, the punches it
//! collects (one set-based statement, deduplicated as uploads are), the user lists it reads,
//! and a lease per device.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Dialect, List, Rows, SqlStore};
use crate::domain::{DeviceId, NewPunch, SchoolId, UserReport};
use crate::store::pull::{PullDevice, PullFacts, PullStore, RealtimeReport, RealtimeStanding};
use crate::store::{IngestReport, StoreChange, StoreResult};

const COLUMNS: &str = "d.id, d.serial_number, d.name, d.school_id, d.area_id, d.approval, d.host, d.port,
    coalesce(d.transport, 'auto') as transport, d.comm_key_enc, d.enabled, d.realtime_enabled, d.clear_log_after_collect, d.timezone, s.timezone as school_timezone,
    d.realtime_failures, d.realtime_failing_since, d.realtime_disabled_at, d.realtime_disabled_reason, d.poll_failures,
    d.last_contact_at, d.last_poll_at";

#[async_trait]
impl<D: Dialect> PullStore for SqlStore<D> {
    async fn pull_devices(&self) -> StoreResult<Vec<PullDevice>> {
        let sql =
            format!("select {COLUMNS} from devices d left join schools s on s.id = d.school_id where d.mode = 'pull' order by d.id");
        Self::sql(&sql).fetch_all(&mut *self.read().await?).await
    }

    async fn pull_device(&self, id: DeviceId) -> StoreResult<Option<PullDevice>> {
        let sql = format!(
            "select {COLUMNS} from devices d left join schools s on s.id = d.school_id where d.id = $1 and d.mode = 'pull'"
        );
        Self::sql(&sql).bind(id.0).fetch_optional(&mut *self.read().await?).await
    }

    async fn record_pull_contact(&self, id: DeviceId, f: &PullFacts, now: DateTime<Utc>) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let was_off: Option<Option<DateTime<Utc>>> =
            Self::sql(&format!("select realtime_disabled_at from devices where id = $1 {}", D::FOR_UPDATE))
                .bind(id.0)
                .scalar_optional(&mut tx)
                .await?;
        Self::sql(
            "update devices set
                serial_number = case when $2 is not null
                    and not exists (select 1 from devices o where o.serial_number = $2 and o.id <> $1) then $2
                    else serial_number end,
                firmware = coalesce($3, firmware), platform = coalesce($4, platform),
                fp_version = coalesce($5, fp_version), face_version = coalesce($6, face_version),
                user_count = $7, fingerprint_count = $8, face_count = $9, record_count = $10,
                last_contact_at = $11, last_seen_at = $11,
                realtime_failures = case when realtime_disabled_at is null then realtime_failures else 0 end,
                realtime_failing_since = case when realtime_disabled_at is null then realtime_failing_since end,
                realtime_disabled_at = null, realtime_disabled_reason = null
             where id = $1",
        )
        .bind(id.0)
        .bind(&f.serial_number)
        .bind(&f.firmware)
        .bind(&f.platform)
        .bind(&f.fp_version)
        .bind(&f.face_version)
        .bind(f.users)
        .bind(f.fingerprints)
        .bind(f.faces)
        .bind(f.records)
        .bind(now)
        .execute(&mut tx)
        .await?;
        if was_off.flatten().is_some() {
            // Realtime comes back on with a successful contact: the session holder restarts it.
            tx.changed(StoreChange::Device(id));
        }
        tx.commit().await
    }

    async fn record_pull_poll(&self, id: DeviceId, error: Option<&str>, now: DateTime<Utc>) -> StoreResult<i32> {
        Self::sql(
            "update devices set last_poll_at = $3, last_poll_ok = $4, last_poll_error = $2,
                poll_failures = case when $4 then 0 else poll_failures + 1 end
             where id = $1 returning poll_failures",
        )
        .bind(id.0)
        .bind(error)
        .bind(now)
        .bind(error.is_none())
        .scalar(&mut *self.write_once().await?)
        .await
    }

    async fn record_realtime(
        &self,
        id: DeviceId,
        report: &RealtimeReport,
        now: DateTime<Utc>,
    ) -> StoreResult<RealtimeStanding> {
        let mut db = self.write_once().await?;
        let sql = match report {
            RealtimeReport::Connected => {
                "update devices set realtime_state = 'connected', realtime_failures = 0, realtime_failing_since = null,
                    realtime_error = null, realtime_disabled_at = null, realtime_disabled_reason = null
                 where id = $1 returning realtime_failures, realtime_failing_since"
            }
            RealtimeReport::Closed => {
                "update devices set realtime_state = 'closed' where id = $1
                 returning realtime_failures, realtime_failing_since"
            }
            RealtimeReport::Failed { .. } => {
                "update devices set realtime_failures = realtime_failures + 1,
                    realtime_failing_since = coalesce(realtime_failing_since, $2), realtime_error = $3,
                    realtime_state = case when $4 is null then 'retrying' else 'off' end,
                    realtime_disabled_at = case when $4 is null then realtime_disabled_at else $2 end,
                    realtime_disabled_reason = coalesce($4, realtime_disabled_reason)
                 where id = $1 returning realtime_failures, realtime_failing_since"
            }
        };
        let (error, disable) = match report {
            RealtimeReport::Failed { error, disable } => (Some(error.as_str()), disable.as_deref()),
            _ => (None, None),
        };
        let (failures, failing_since): (i32, Option<DateTime<Utc>>) =
            Self::sql(sql).bind(id.0).bind(now).bind(error).bind(disable).fetch_one(&mut db).await?;
        Ok(RealtimeStanding { failures, failing_since })
    }

    async fn store_pulled_punches(
        &self,
        id: DeviceId,
        school: Option<SchoolId>,
        punches: &[NewPunch],
        now: DateTime<Utc>,
    ) -> StoreResult<IngestReport> {
        if punches.is_empty() {
            return Ok(IngestReport::default());
        }
        let rows = super::uploads::punch_rows(punches);
        // Duplicates (records read again, a live punch also read by the next poll) are skipped by
        // the unique key; `where true`: SQLite needs it before `on conflict` after a join.
        let sql = format!(
            "insert into attendance_logs (device_id, pin, student_id, local_time, punched_at, status, verify, workcode,
                                          source, clock_flag, raw, received_at, school_id)
             select $1, p.pin, s.id, p.local_time, p.punched_at, p.status, p.verify, p.workcode, 'pull', p.clock_flag,
                    p.raw, $2, $3
             from {} left join students s on $3 is not null and s.school_id = $3 and s.pin = p.pin
             where true
             on conflict (device_id, pin, local_time) do nothing",
            D::rows(&rows, 4, "p")
        );
        let inserted = Self::sql(&sql)
            .bind(id.0)
            .bind(now)
            .bind(school)
            .bind_rows(&rows)
            .execute(&mut *self.write_once().await?)
            .await? as usize;
        Ok(IngestReport { message_id: 0, inserted, duplicates: punches.len() - inserted, rejected: 0 })
    }

    async fn record_pulled_users(&self, id: DeviceId, users: &[UserReport], now: DateTime<Utc>) -> StoreResult<()> {
        let pins: Vec<String> = users.iter().map(|u| u.pin.clone()).collect();
        let mut tx = self.write().await?;
        let gone = format!("delete from device_users where device_id = $1 and not {}", D::in_list("pin", 2));
        Self::sql(&gone).bind(id.0).bind(List::of(&pins)).execute(&mut tx).await?;
        if !users.is_empty() {
            let rows = Rows::new()
                .text("pin", users.iter().map(|u| u.pin.as_str()))
                .text("name", users.iter().map(|u| u.name.as_deref()))
                .int("privilege", users.iter().map(|u| u.privilege))
                .text("card", users.iter().map(|u| u.card.as_deref()))
                .text("group_id", users.iter().map(|u| u.group_id.as_deref()));
            let upsert = format!(
                "insert into device_users (device_id, pin, name, privilege, card, group_id, reported_at, school_id)
                 select $1, u.pin, u.name, u.privilege, u.card, u.group_id, $2,
                        (select school_id from devices where id = $1) from {} where true
                 on conflict (device_id, pin) do update set name = excluded.name, privilege = excluded.privilege,
                    school_id = excluded.school_id,
                    card = excluded.card, group_id = excluded.group_id, reported_at = excluded.reported_at",
                D::rows(&rows, 3, "u")
            );
            Self::sql(&upsert).bind(id.0).bind(now).bind_rows(&rows).execute(&mut tx).await?;
        }
        tx.commit().await
    }

    async fn try_lease(
        &self,
        id: DeviceId,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> StoreResult<bool> {
        // Taken when free, expired, or already ours (a renewal); the loser gets no row back.
        let got: Option<String> = Self::sql(
            "insert into device_leases (device_id, holder, expires_at) values ($1, $2, $4)
             on conflict (device_id) do update set holder = excluded.holder, expires_at = excluded.expires_at
             where device_leases.holder = excluded.holder or device_leases.expires_at < $3
             returning holder",
        )
        .bind(id.0)
        .bind(holder)
        .bind(now)
        .bind(until)
        .scalar_optional(&mut *self.write_once().await?)
        .await?;
        Ok(got.is_some())
    }

    async fn lease_holder(&self, id: DeviceId, now: DateTime<Utc>) -> StoreResult<Option<String>> {
        Self::sql("select holder from device_leases where device_id = $1 and expires_at > $2")
            .bind(id.0)
            .bind(now)
            .scalar_optional(&mut *self.read().await?)
            .await
    }

    async fn release_lease(&self, id: DeviceId, holder: &str) -> StoreResult<()> {
        Self::sql("delete from device_leases where device_id = $1 and holder = $2")
            .bind(id.0)
            .bind(holder)
            .execute(&mut *self.write_once().await?)
            .await?;
        Ok(())
    }
}
