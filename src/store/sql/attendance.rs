//! Attendance reads: punches for admins (filters, paging, names), the per-day summary per
//! student, and punches as stored (device side, unscoped: tests and the device tools).

use async_trait::async_trait;

use super::{Dialect, Sql, SqlStore};
use crate::domain::{DeviceId, Punch};
use crate::store::admin::{AttendanceStore, DailyAttendance, Paged, PunchQuery, PunchRecord};
use crate::store::{PunchFilter, StoreResult};

const FROM: &str =
    "from attendance_logs a join devices d on d.id = a.device_id left join students s on s.id = a.student_id";
/// Binds `$1..=$10` (see [`bind_filter`]).
/// Scoped by the school each punch was taken for (`a.school_id`), never by the device's current
/// school: a moved device's punches stay with the school they belong to.
const WHERE: &str = "where ($1 is null or a.school_id = $1)
    and ($2 is null or a.punched_at >= $2) and ($3 is null or a.punched_at < $3)
    and ($4 is null or a.local_time >= $4) and ($5 is null or a.local_time < $5)
    and ($6 is null or a.student_id = $6) and ($7 is null or s.class_id = $7)
    and ($8 is null or s.section_id = $8) and ($9 is null or a.device_id = $9)
    and ($10 is null or a.pin = $10)";
const DAILY_GROUP: &str = "group by substr(a.local_time, 1, 10), s.id, s.full_name, s.pin, s.class_id, s.section_id";

/// Binds the filter of [`WHERE`] (`$1..=$10`).
fn bind_filter<'q, D: Dialect>(sql: Sql<'q, D>, q: &'q PunchQuery) -> Sql<'q, D> {
    sql.bind(q.scope.school_id())
        .bind(q.from)
        .bind(q.to)
        .bind(&q.from_date)
        .bind(&q.until_date)
        .bind(q.student_id)
        .bind(q.class_id)
        .bind(q.section_id)
        .bind(q.device_id)
        .bind(&q.pin)
}

#[async_trait]
impl<D: Dialect> AttendanceStore for SqlStore<D> {
    async fn list_punch_records(&self, q: &PunchQuery) -> StoreResult<Paged<PunchRecord>> {
        let sql = format!(
            "select a.id, a.device_id, d.serial_number, a.pin, a.student_id, s.full_name as student_name, a.local_time,
                    a.punched_at, a.status, a.verify, a.workcode, a.source, a.clock_flag
             {FROM} {WHERE} {} limit $11 offset $12",
            q.sort.order_by("a.id")
        );
        let count = format!("select count(*) {FROM} {WHERE}");
        Self::paged(&mut *self.read().await?, &sql, &count, q.page, |sql| bind_filter(sql, q)).await
    }

    async fn daily_attendance(&self, q: &PunchQuery) -> StoreResult<Paged<DailyAttendance>> {
        // Punches whose clock reading is flagged (unparsable, reset, future) have no trustworthy day.
        let sql = format!(
            "select substr(a.local_time, 1, 10) as date, s.id as student_id, s.full_name, s.pin, s.class_id, s.section_id,
                    min(a.local_time) as first_in,
                    case when count(*) > 1 then max(a.local_time) end as last_out, count(*) as punches
             {FROM} {WHERE} and s.id is not null and a.clock_flag is null {DAILY_GROUP}
             order by date, lower(s.full_name), s.id limit $11 offset $12"
        );
        let count = format!(
            "select count(*) from (select 1 {FROM} {WHERE} and s.id is not null and a.clock_flag is null {DAILY_GROUP}) days"
        );
        Self::paged(&mut *self.read().await?, &sql, &count, q.page, |sql| bind_filter(sql, q)).await
    }

    async fn list_punches(&self, f: &PunchFilter) -> StoreResult<Vec<Punch>> {
        Self::sql(
            "select id, device_id, pin, student_id, local_time, punched_at, status, verify, workcode, source, clock_flag,
                    raw
             from attendance_logs
             where ($1 is null or device_id = $1) and ($2 is null or pin = $2)
               and ($3 is null or student_id = $3)
               and ($4 is null or punched_at >= $4) and ($5 is null or punched_at < $5)
             order by punched_at nulls last, id
             limit $6 offset $7",
        )
        .bind(f.device_id.map(|d| d.0))
        .bind(&f.pin)
        .bind(f.student_id)
        .bind(f.from)
        .bind(f.to)
        .bind(f.limit.unwrap_or(1000))
        .bind(f.offset.unwrap_or(0))
        .fetch_all(&mut *self.read().await?)
        .await
    }

    async fn count_punches(&self, device: Option<DeviceId>) -> StoreResult<i64> {
        Self::sql("select count(*) from attendance_logs where ($1 is null or device_id = $1)")
            .bind(device.map(|d| d.0))
            .scalar(&mut *self.read().await?)
            .await
    }
}
