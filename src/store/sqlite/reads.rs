//! Read queries: punches, rejected lines, counts.

use sqlx::{Row, SqlitePool};

use crate::domain::{DeviceId, Punch};
use crate::store::types::{PunchFilter, StoredRejectedLine};
use crate::store::StoreResult;

pub async fn list_punches(pool: &SqlitePool, f: &PunchFilter) -> StoreResult<Vec<Punch>> {
    let rows = sqlx::query(
        "select id, device_id, pin, student_id, local_time, punched_at, status, verify, workcode, source, clock_flag, raw
         from attendance_logs
         where (?1 is null or device_id = ?1) and (?2 is null or pin = ?2)
           and (?3 is null or student_id = ?3)
           and (?4 is null or punched_at >= ?4) and (?5 is null or punched_at < ?5)
         order by punched_at is null, punched_at, id
         limit ?6 offset ?7",
    )
    .bind(f.device_id.map(|d| d.0))
    .bind(&f.pin)
    .bind(f.student_id)
    .bind(f.from)
    .bind(f.to)
    .bind(f.limit.unwrap_or(1000))
    .bind(f.offset.unwrap_or(0))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .iter()
        .map(|r| Punch {
            id: r.get(0),
            device_id: r.get(1),
            pin: r.get(2),
            student_id: r.get(3),
            local_time: r.get(4),
            punched_at: r.get(5),
            status: r.get(6),
            verify: r.get(7),
            workcode: r.get(8),
            source: r.get(9),
            clock_flag: r.get(10),
            raw: r.get(11),
        })
        .collect())
}

pub async fn rejected_lines(pool: &SqlitePool, device: DeviceId) -> StoreResult<Vec<StoredRejectedLine>> {
    let rows =
        sqlx::query("select message_id, line_no, raw, error from rejected_lines where device_id = ?1 order by id")
            .bind(device.0)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .iter()
        .map(|r| StoredRejectedLine {
            message_id: r.get(0),
            line_no: r.get::<i64, _>(1),
            raw: r.get(2),
            error: r.get(3),
        })
        .collect())
}
