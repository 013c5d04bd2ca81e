//! Upload ingestion. Punch uploads are ONE statement (one round trip, one commit): the raw
//! message, its rejected lines, the punches and the stamp are written by data-modifying CTEs,
//! so either all of it is durable or none of it is, and the device is told `OK` only after.

use sqlx::{PgPool, Postgres, Row, Transaction};

use crate::domain::{Device, DeviceId, NewPunch, OperlogBatch, RejectedLine, StampTable};
use crate::store::types::{IngestReport, NewMessage};
use crate::store::StoreResult;

/// Inserts the raw message and its rejected lines inside `tx`; returns the message id.
pub async fn insert_message(
    tx: &mut Transaction<'_, Postgres>,
    m: &NewMessage,
    rejected: &[RejectedLine],
) -> StoreResult<i64> {
    let (line_nos, raws, errors) = rejected_columns(rejected);
    let id: i64 = sqlx::query_scalar(
        "with msg as (
            insert into device_messages (device_id, serial_number, path, query, body, tbl, status, records, rejected, note,
                                          body_sealed)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $14) returning id
         ), rej as (
            insert into rejected_lines (message_id, device_id, line_no, raw, error)
            select msg.id, $1, r.line_no, r.raw, r.error
            from msg, unnest($11::int[], $12::text[], $13::text[]) as r(line_no, raw, error)
         )
         select id from msg",
    )
    .bind(m.device_id.map(|d| d.0))
    .bind(&m.serial_number)
    .bind(&m.path)
    .bind(&m.query)
    .bind(&m.body)
    .bind(&m.table)
    .bind(m.status)
    .bind(m.records as i32)
    .bind(rejected.len() as i32)
    .bind(&m.note)
    .bind(line_nos)
    .bind(raws)
    .bind(errors)
    .bind(m.body_sealed)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

fn rejected_columns(rejected: &[RejectedLine]) -> (Vec<i32>, Vec<String>, Vec<String>) {
    (
        rejected.iter().map(|r| r.line_no as i32).collect(),
        rejected.iter().map(|r| r.raw.clone()).collect(),
        rejected.iter().map(|r| r.error.clone()).collect(),
    )
}

pub async fn ingest_punches(
    pool: &PgPool,
    device: &Device,
    m: &NewMessage,
    rejected: &[RejectedLine],
    punches: &[NewPunch],
) -> StoreResult<IngestReport> {
    let (line_nos, raws, errors) = rejected_columns(rejected);
    let row = sqlx::query(
        "with msg as (
            insert into device_messages (device_id, serial_number, path, query, body, tbl, status, records, rejected, note,
                                          body_sealed)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $23) returning id
         ), rej as (
            insert into rejected_lines (message_id, device_id, line_no, raw, error)
            select msg.id, $1, r.line_no, r.raw, r.error
            from msg, unnest($11::int[], $12::text[], $13::text[]) as r(line_no, raw, error)
         ), ins as (
            insert into attendance_logs (device_id, pin, student_id, local_time, punched_at, status, verify, workcode,
                                         source, clock_flag, raw, message_id)
            select $1, p.pin, s.id, p.local_time, p.punched_at, p.status, p.verify, p.workcode, 'attlog', p.clock_flag,
                   p.raw, msg.id
            from msg cross join unnest($14::text[], $15::text[], $16::timestamptz[], $17::int[], $18::int[], $19::text[],
                                       $20::text[], $21::text[])
                   as p(pin, local_time, punched_at, status, verify, workcode, clock_flag, raw)
            left join students s on $22::bigint is not null and s.school_id = $22 and s.pin = p.pin
            on conflict (device_id, pin, local_time) do nothing
            returning 1
         )
         select (select id from msg), (select count(*) from ins)",
    )
        .bind(device.id.0)
        .bind(&m.serial_number)
        .bind(&m.path)
        .bind(&m.query)
        .bind(&m.body)
        .bind(&m.table)
        .bind(m.status)
        .bind(m.records as i32)
        .bind(rejected.len() as i32)
        .bind(&m.note)
        .bind(line_nos)
        .bind(raws)
        .bind(errors)
        .bind(punches.iter().map(|p| p.pin.as_str()).collect::<Vec<_>>())
        .bind(punches.iter().map(|p| p.local_time.as_str()).collect::<Vec<_>>())
        .bind(punches.iter().map(|p| p.punched_at).collect::<Vec<_>>())
        .bind(punches.iter().map(|p| p.status).collect::<Vec<_>>())
        .bind(punches.iter().map(|p| p.verify).collect::<Vec<_>>())
        .bind(punches.iter().map(|p| p.workcode.as_deref()).collect::<Vec<_>>())
        .bind(punches.iter().map(|p| p.clock_flag.map(|f| f.as_str())).collect::<Vec<_>>())
        .bind(punches.iter().map(|p| p.raw.as_str()).collect::<Vec<_>>())
        .bind(device.school_id)
        .bind(m.body_sealed)
        .fetch_one(pool)
        .await?;
    let message_id: i64 = row.get(0);
    let inserted: i64 = row.get(1);
    let inserted = inserted as usize;
    Ok(IngestReport {
        message_id,
        inserted,
        duplicates: punches.len().saturating_sub(inserted),
        rejected: rejected.len(),
    })
}

pub async fn ingest_operlog(
    pool: &PgPool,
    device: &Device,
    m: &NewMessage,
    rejected: &[RejectedLine],
    batch: &OperlogBatch,
) -> StoreResult<IngestReport> {
    let mut tx = pool.begin().await?;
    let message_id = insert_message(&mut tx, m, rejected).await?;
    let device_id = device.id.0;
    for u in &batch.users {
        sqlx::query(
            "insert into device_users (device_id, pin, name, privilege, card, group_id, verify, attributes, reported_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, now())
             on conflict (device_id, pin) do update set name = excluded.name, privilege = excluded.privilege,
                card = excluded.card, group_id = excluded.group_id, verify = excluded.verify,
                attributes = excluded.attributes, reported_at = excluded.reported_at",
        )
        .bind(device_id)
        .bind(&u.pin)
        .bind(&u.name)
        .bind(u.privilege)
        .bind(&u.card)
        .bind(&u.group_id)
        .bind(u.verify)
        .bind(&u.attributes)
        .execute(&mut *tx)
        .await?;
    }
    for t in &batch.templates {
        sqlx::query(
            "insert into biometric_templates (device_id, pin, kind, bio_type, finger_no, template_index, major_ver,
                minor_ver, format, valid, duress, template_enc, reported_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())
             on conflict (device_id, pin, kind, bio_type, finger_no, template_index) do update set
                major_ver = excluded.major_ver, minor_ver = excluded.minor_ver, format = excluded.format,
                valid = excluded.valid, duress = excluded.duress, template_enc = excluded.template_enc,
                reported_at = excluded.reported_at",
        )
        .bind(device_id)
        .bind(&t.pin)
        .bind(t.kind)
        .bind(t.bio_type)
        .bind(t.finger_no)
        .bind(t.template_index)
        .bind(&t.major_ver)
        .bind(&t.minor_ver)
        .bind(t.format)
        .bind(t.valid)
        .bind(t.duress)
        .bind(&t.sealed)
        .execute(&mut *tx)
        .await?;
    }
    for p in &batch.photos {
        sqlx::query(
            "insert into device_photos (device_id, pin, kind, file_name, bio_type, image_enc, reported_at)
             values ($1, $2, $3, $4, $5, $6, now())
             on conflict (device_id, kind, file_name) do update set pin = excluded.pin, bio_type = excluded.bio_type,
                image_enc = excluded.image_enc, reported_at = excluded.reported_at",
        )
        .bind(device_id)
        .bind(&p.pin)
        .bind(p.kind)
        .bind(&p.file_name)
        .bind(p.bio_type)
        .bind(&p.sealed)
        .execute(&mut *tx)
        .await?;
    }
    for e in &batch.events {
        sqlx::query(
            "insert into device_events (device_id, kind, code, operator, time_raw, detail, raw)
             values ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(device_id)
        .bind(e.kind)
        .bind(&e.code)
        .bind(&e.operator)
        .bind(&e.time_raw)
        .bind(&e.detail)
        .bind(&e.raw)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(IngestReport { message_id, inserted: batch.len(), duplicates: 0, rejected: rejected.len() })
}

pub async fn save_stamps(pool: &PgPool, stamps: &[(DeviceId, StampTable, String)]) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    let mut sorted: Vec<_> = stamps.iter().collect();
    sorted.sort_by_key(|(id, _, _)| *id);
    for (id, table, value) in sorted {
        // The column name comes from a closed enum, never from input.
        let sql = format!("update devices set {0} = $2 where id = $1 and {0} is distinct from $2", table.column());
        sqlx::query(&sql).bind(id.0).bind(value).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
