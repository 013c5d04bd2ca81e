//! Attendance reads on SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::store::admin::{AttendanceStore, DailyAttendance, Paged, PunchQuery, PunchRecord};
use crate::store::StoreResult;

const FROM: &str =
    "from attendance_logs a join devices d on d.id = a.device_id left join students s on s.id = a.student_id";
const WHERE: &str = "where (?1 is null or d.school_id = ?1)
    and (?2 is null or a.punched_at >= ?2) and (?3 is null or a.punched_at < ?3)
    and (?4 is null or a.local_time >= ?4) and (?5 is null or a.local_time < ?5)
    and (?6 is null or a.student_id = ?6) and (?7 is null or s.class_id = ?7)
    and (?8 is null or s.section_id = ?8) and (?9 is null or a.device_id = ?9)
    and (?10 is null or a.pin = ?10)";
const DAILY_GROUP: &str = "group by substr(a.local_time, 1, 10), s.id, s.full_name, s.pin, s.class_id, s.section_id";

macro_rules! bind_filter {
    ($query:expr, $q:expr) => {
        $query
            .bind($q.scope.school_id())
            .bind($q.from)
            .bind($q.to)
            .bind(&$q.from_date)
            .bind(&$q.until_date)
            .bind($q.student_id)
            .bind($q.class_id)
            .bind($q.section_id)
            .bind($q.device_id)
            .bind(&$q.pin)
    };
}

#[async_trait]
impl AttendanceStore for SqliteStore {
    async fn list_punch_records(&self, q: &PunchQuery) -> StoreResult<Paged<PunchRecord>> {
        let sql = format!(
            "select a.id, a.device_id, d.serial_number, a.pin, a.student_id, s.full_name as student_name, a.local_time,
                    a.punched_at, a.status, a.verify, a.workcode, a.source, a.clock_flag
             {FROM} {WHERE} {} limit ?11 offset ?12",
            q.sort.order_by("a.id")
        );
        let items =
            bind_filter!(sqlx::query_as(&sql), q).bind(q.page.limit).bind(q.page.offset).fetch_all(&self.pool).await?;
        let count = format!("select count(*) {FROM} {WHERE}");
        let total = bind_filter!(sqlx::query_scalar(&count), q).fetch_one(&self.pool).await?;
        Ok(Paged { items, total })
    }

    async fn daily_attendance(&self, q: &PunchQuery) -> StoreResult<Paged<DailyAttendance>> {
        // Punches whose clock reading is flagged (unparsable, reset, future) have no trustworthy day.
        let sql = format!(
            "select substr(a.local_time, 1, 10) as date, s.id as student_id, s.full_name, s.pin, s.class_id, s.section_id,
                    min(a.local_time) as first_in,
                    case when count(*) > 1 then max(a.local_time) end as last_out, count(*) as punches
             {FROM} {WHERE} and s.id is not null and a.clock_flag is null {DAILY_GROUP}
             order by date, lower(s.full_name), s.id limit ?11 offset ?12"
        );
        let items =
            bind_filter!(sqlx::query_as(&sql), q).bind(q.page.limit).bind(q.page.offset).fetch_all(&self.pool).await?;
        let count = format!(
            "select count(*) from (select 1 {FROM} {WHERE} and s.id is not null and a.clock_flag is null {DAILY_GROUP}) days"
        );
        let total = bind_filter!(sqlx::query_scalar(&count), q).fetch_one(&self.pool).await?;
        Ok(Paged { items, total })
    }
}
