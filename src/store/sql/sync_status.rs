//! Reads of the sync state (`SyncStatusStore`): the per-device status page and summaries the API
//! and dashboard show, progress of a full sync, unknown device users, and what the verifier
//! decides on (device facts, school policies, online devices, open alerts). Nothing here writes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Dialect, List, SqlStore};
use crate::domain::DeviceId;
use crate::domain::SchoolId;
use crate::store::admin::{Page, Paged};
use crate::store::sync::{
    DeviceFacts, DeviceSyncSummary, SchoolSyncPolicy, StudentSyncRow, SyncAlert, SyncProgress, SyncStatusFilter,
    SyncStatusPage, SyncStatusStore, SyncSummary, UnknownDeviceUser, VerifyDevice,
};
use crate::store::StoreResult;

/// Columns of a [`SyncAlert`], in its field order.
pub(super) const ALERT_COLUMNS: &str =
    "id, school_id, device_id, kind, message, detail, created_at, resolved_at, resolved_by, resolution";

/// One device's counts over the active students of its school (`$1` school, `$2` device).
const SUMMARY: &str = "select count(*) as total,
        count(*) filter (where r.sync_status = 'synced') as synced,
        count(*) filter (where r.sync_status in ('pending', 'sent')) as pending,
        count(*) filter (where r.sync_status = 'failed') as failed,
        count(*) filter (where r.student_id is null or r.sync_status in ('deleting', 'deleted')) as not_synced,
        (select count(*) from device_user_sync_status x where x.device_id = $2 and x.desired = 'absent'
            and x.sync_status = 'deleting') as deleting
     from students s left join device_user_sync_status r on r.device_id = $2 and r.student_id = s.id
     where s.school_id = $1 and s.deleted_at is null and s.is_active";

/// The active students of the school with their row on the device, filtered as the status page
/// asks (`$1` school, `$2` device, `$3` status, `$4` class, `$5` section, `$6` search).
const STATUS_FILTER: &str = "from students s
     left join classes c on c.id = s.class_id
     left join sections se on se.id = s.section_id
     left join device_user_sync_status r on r.device_id = $2 and r.student_id = s.id and r.desired = 'present'
     where s.school_id = $1 and s.deleted_at is null and s.is_active
       and ($3 is null or coalesce(r.sync_status, 'not_synced') = $3 or ($3 = 'pending' and r.sync_status = 'sent'))
       and ($4 is null or s.class_id = $4) and ($5 is null or s.section_id = $5)
       and ($6 is null or lower(s.full_name) like '%' || lower($6) || '%' or s.pin = $6 or s.rfid_card_id = $6)";

/// Users on the device that are no student of its school (`$1` device), as reported while the
/// device was in its current school (a moved device's users stay with the school they were
/// reported for until the device reports them again).
const UNKNOWN_FILTER: &str = "from device_users u join devices d on d.id = u.device_id
     where u.device_id = $1 and u.school_id is not distinct from d.school_id and not exists (select 1 from students s where s.school_id = d.school_id and s.pin = u.pin)";

const POLICY_COLUMNS: &str = "id, timezone, quiet_hours, unknown_user_policy";

/// `UserCount` as a number when it is 1 to 9 digits (anything else, e.g. a firmware's garbage,
/// counts as unknown, as before).
fn parse_user_count(text: Option<&str>) -> Option<i64> {
    text.filter(|t| (1..=9).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())).and_then(|t| t.parse().ok())
}

/// The school of a device (none for a pending device, or an unknown one).
pub(super) async fn device_school<D: Dialect>(conn: &mut D::Connection, device: i64) -> StoreResult<Option<SchoolId>> {
    let school: Option<Option<SchoolId>> =
        SqlStore::<D>::sql("select school_id from devices where id = $1").bind(device).scalar_optional(conn).await?;
    Ok(school.flatten())
}

async fn summary<D: Dialect>(conn: &mut D::Connection, school: SchoolId, device: i64) -> StoreResult<SyncSummary> {
    SqlStore::<D>::sql(SUMMARY).bind(school).bind(device).fetch_one(conn).await
}

#[async_trait]
impl<D: Dialect> SyncStatusStore for SqlStore<D> {
    async fn sync_status(&self, device: DeviceId, f: &SyncStatusFilter) -> StoreResult<SyncStatusPage> {
        let mut db = self.read().await?;
        let Some(school) = device_school::<D>(&mut db, device.0).await? else {
            return Ok(SyncStatusPage { summary: SyncSummary::default(), students: vec![], matched: 0 });
        };
        let summary = summary::<D>(&mut db, school, device.0).await?;
        let sql = format!(
            "select s.id, s.full_name, s.rfid_card_id, c.name as class_name, se.name as section_name,
                    coalesce(r.sync_status, 'not_synced') as sync_status, r.last_sync_success,
                    coalesce(r.sync_retries, 0) as sync_retries, s.pin as device_pin, r.error_message
             {STATUS_FILTER} order by lower(s.full_name), s.id limit $7 offset $8"
        );
        // The search is a plain substring: pattern characters are dropped, not interpreted.
        let search = f.search.as_deref().map(|s| s.replace(['%', '_', '\\'], ""));
        let count = format!("select count(*) {STATUS_FILTER}");
        let page = Page { limit: f.limit, offset: f.offset };
        let students: Paged<StudentSyncRow> = Self::paged(&mut db, &sql, &count, page, |q| {
            q.bind(school).bind(device.0).bind(&f.status).bind(f.class_id).bind(f.section_id).bind(&search)
        })
        .await?;
        Ok(SyncStatusPage { summary, students: students.items, matched: students.total })
    }

    async fn sync_progress(&self, device: DeviceId, now: DateTime<Utc>) -> StoreResult<SyncProgress> {
        let mut db = self.read().await?;
        let (queued, delivered, confirmed): (i64, i64, i64) = Self::sql(
            "select count(*) filter (where sync_status in ('pending', 'deleting')),
                    count(*) filter (where sync_status = 'sent'),
                    count(*) filter (where sync_status in ('synced', 'deleted'))
             from device_user_sync_status where device_id = $1",
        )
        .bind(device.0)
        .fetch_one(&mut db)
        .await?;
        let recent: i64 = Self::sql(
            "select count(*) from device_commands where device_id = $1 and kind in ('user_update', 'user_delete')
               and state = 'acked' and acked_at > $2",
        )
        .bind(device.0)
        .bind(now - chrono::Duration::minutes(10))
        .scalar(&mut db)
        .await?;
        Ok(crate::sync::progress::progress(queued, delivered, confirmed, recent, now))
    }

    async fn school_sync_summary(&self, school_id: SchoolId) -> StoreResult<Vec<DeviceSyncSummary>> {
        let mut db = self.read().await?;
        let devices: Vec<(i64, String, Option<String>, Option<DateTime<Utc>>)> = Self::sql(
            "select id, serial_number, name, last_seen_at from devices
             where school_id = $1 and approval = 'approved' and (mode = 'push' or enabled) order by id",
        )
        .bind(school_id)
        .fetch_all(&mut db)
        .await?;
        let mut out = Vec::with_capacity(devices.len());
        for (device_id, serial_number, name, last_seen_at) in devices {
            let summary = summary::<D>(&mut db, school_id, device_id).await?;
            out.push(DeviceSyncSummary { device_id, serial_number, name, last_seen_at, summary });
        }
        Ok(out)
    }

    async fn unknown_device_users(&self, device: DeviceId, limit: i64) -> StoreResult<(i64, Vec<UnknownDeviceUser>)> {
        let mut db = self.read().await?;
        let count = format!("select count(*) {UNKNOWN_FILTER}");
        let total: i64 = Self::sql(&count).bind(device.0).scalar(&mut db).await?;
        let sql = format!(
            "select u.pin, u.name, u.card, u.reported_at {UNKNOWN_FILTER} order by length(u.pin), u.pin limit $2"
        );
        let users = Self::sql(&sql).bind(device.0).bind(limit).fetch_all(&mut db).await?;
        Ok((total, users))
    }

    async fn verify_facts(&self, school_id: SchoolId, devices: &[i64]) -> StoreResult<Vec<DeviceFacts>> {
        let mut db = self.read().await?;
        let sql = format!(
            "select d.id as device_id,
                    exists (select 1 from device_capabilities c where c.device_id = d.id
                            and c.capability in ('DATA QUERY USERINFO', 'DATA QUERY user') and not c.supported)
                        as readback_unsupported,
                    exists (select 1 from device_commands q where q.device_id = d.id and q.state in ('queued', 'sent')
                            and q.kind = 'user_query' and q.pin is null) as readback_open,
                    cast(0 as bigint) as unknown_users
             from devices d where {} order by d.id",
            D::in_list("d.id", 1)
        );
        let mut facts: Vec<DeviceFacts> = Self::sql(&sql).bind(List::of(devices)).fetch_all(&mut db).await?;
        // One anti-join for every device's users (hashing the school's PINs once).
        let sql = format!(
            "select u.device_id, count(*) from device_users u
             left join students s on s.school_id = $1 and s.pin = u.pin
             where {} and s.id is null group by u.device_id",
            D::in_list("u.device_id", 2)
        );
        let unknown: Vec<(i64, i64)> =
            Self::sql(&sql).bind(school_id).bind(List::of(devices)).fetch_all(&mut db).await?;
        for (device, n) in unknown {
            if let Some(f) = facts.iter_mut().find(|f| f.device_id == device) {
                f.unknown_users = n;
            }
        }
        Ok(facts)
    }

    async fn count_confirmed(&self, device: DeviceId) -> StoreResult<i64> {
        Self::sql(
            "select count(*) from device_user_sync_status where device_id = $1 and desired = 'present'
               and sync_status = 'synced'",
        )
        .bind(device.0)
        .scalar(&mut *self.read().await?)
        .await
    }

    async fn sync_schools(&self) -> StoreResult<Vec<SchoolSyncPolicy>> {
        let sql = format!(
            "select {POLICY_COLUMNS} from schools s
             where exists (select 1 from devices d where d.school_id = s.id and d.approval = 'approved' and (d.mode = 'push' or d.enabled))
             order by id"
        );
        Self::sql(&sql).fetch_all(&mut *self.read().await?).await
    }

    async fn school_policy(&self, school_id: SchoolId) -> StoreResult<Option<SchoolSyncPolicy>> {
        let sql = format!("select {POLICY_COLUMNS} from schools where id = $1");
        Self::sql(&sql).bind(school_id).fetch_optional(&mut *self.read().await?).await
    }

    async fn online_devices(&self, school_id: SchoolId, seen_after: DateTime<Utc>) -> StoreResult<Vec<VerifyDevice>> {
        // `UserCount` is read raw and checked in Rust (`parse_user_count`): PostgreSQL has regexes,
        // SQLite globs.
        let rows: Vec<(i64, String, Option<DateTime<Utc>>, Option<String>, String)> = Self::sql(
            "select d.id, d.serial_number, d.last_seen_at, cast(d.options ->> 'UserCount' as text) as user_count,
                    d.dialect
             from devices d
             where d.school_id = $1 and d.approval = 'approved' and (d.mode = 'push' or d.enabled) and d.last_seen_at >= $2
             order by d.id",
        )
        .bind(school_id)
        .bind(seen_after)
        .fetch_all(&mut *self.read().await?)
        .await?;
        let device =
            |(id, serial_number, last_seen_at, count, dialect): (_, _, _, Option<String>, String)| VerifyDevice {
                id,
                serial_number,
                last_seen_at,
                user_count: parse_user_count(count.as_deref()),
                dialect: crate::domain::Dialect::parse(&dialect).unwrap_or(crate::domain::Dialect::Att),
            };
        Ok(rows.into_iter().map(device).collect())
    }

    async fn open_alert(&self, device_id: i64, kind: &str) -> StoreResult<Option<SyncAlert>> {
        let sql = format!(
            "select {ALERT_COLUMNS} from sync_alerts where device_id = $1 and kind = $2 and resolved_at is null
             order by id desc limit 1"
        );
        Self::sql(&sql).bind(device_id).bind(kind).fetch_optional(&mut *self.read().await?).await
    }

    async fn list_alerts(&self, school_id: Option<SchoolId>, open_only: bool) -> StoreResult<Vec<SyncAlert>> {
        let sql = format!(
            "select {ALERT_COLUMNS} from sync_alerts where ($1 is null or school_id = $1)
               and (not $2 or resolved_at is null) order by id desc limit 200"
        );
        Self::sql(&sql).bind(school_id).bind(open_only).fetch_all(&mut *self.read().await?).await
    }

    async fn get_alert(&self, id: i64) -> StoreResult<Option<SyncAlert>> {
        let sql = format!("select {ALERT_COLUMNS} from sync_alerts where id = $1");
        Self::sql(&sql).bind(id).fetch_optional(&mut *self.read().await?).await
    }
}

#[cfg(test)]
mod tests {
    use super::parse_user_count;

    #[test]
    fn a_user_count_is_one_to_nine_digits_or_unknown() {
        assert_eq!(parse_user_count(Some("0")), Some(0));
        assert_eq!(parse_user_count(Some("1234")), Some(1234));
        assert_eq!(parse_user_count(Some("999999999")), Some(999_999_999));
        assert_eq!(parse_user_count(Some("1234567890")), None, "ten digits");
        assert_eq!(parse_user_count(Some("12a")), None);
        assert_eq!(parse_user_count(Some(" 12")), None);
        assert_eq!(parse_user_count(Some("-1")), None);
        assert_eq!(parse_user_count(Some("")), None);
        assert_eq!(parse_user_count(None), None);
    }
}
