//! Upload ingestion in one transaction per upload (prepared statements in a loop: SQLite is
//! in-process, so per-row statements cost no round trips).

use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::domain::{Device, DeviceId, NewPunch, OperlogBatch, RejectedLine, StampTable};
use crate::store::types::{IngestReport, NewMessage};
use crate::store::StoreResult;

/// Inserts the raw message and its rejected lines inside `tx`; returns the message id.
pub async fn insert_message(
    tx: &mut Transaction<'_, Sqlite>,
    m: &NewMessage,
    rejected: &[RejectedLine],
) -> StoreResult<i64> {
    let id: i64 = sqlx::query_scalar(
        "insert into device_messages (device_id, serial_number, path, query, body, tbl, status, records, rejected, note,
                                      received_at, body_sealed)
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) returning id",
    )
    .bind(m.device_id.map(|d| d.0))
    .bind(&m.serial_number)
    .bind(&m.path)
    .bind(&m.query)
    .bind(&m.body)
    .bind(&m.table)
    .bind(m.status)
    .bind(m.records as i64)
    .bind(rejected.len() as i64)
    .bind(&m.note)
    .bind(chrono::Utc::now())
    .bind(m.body_sealed)
    .fetch_one(&mut **tx)
    .await?;
    for r in rejected {
        sqlx::query(
            "insert into rejected_lines (message_id, device_id, line_no, raw, error) values (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(id)
        .bind(m.device_id.map(|d| d.0))
        .bind(r.line_no as i64)
        .bind(&r.raw)
        .bind(&r.error)
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

pub async fn save_stamps(pool: &SqlitePool, stamps: &[(DeviceId, StampTable, String)]) -> StoreResult<()> {
    let mut tx = pool.begin().await?;
    for (id, table, value) in stamps {
        // The column name comes from a closed enum, never from input.
        let sql = format!("update devices set {0} = ?2 where id = ?1 and {0} is not ?2", table.column());
        sqlx::query(&sql).bind(id.0).bind(value).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn ingest_punches(
    pool: &SqlitePool,
    device: &Device,
    m: &NewMessage,
    rejected: &[RejectedLine],
    punches: &[NewPunch],
) -> StoreResult<IngestReport> {
    let mut tx = pool.begin().await?;
    let message_id = insert_message(&mut tx, m, rejected).await?;
    let mut inserted = 0usize;
    for p in punches {
        let result = sqlx::query(
            "insert into attendance_logs (device_id, pin, student_id, local_time, punched_at, status, verify, workcode,
                                          source, clock_flag, raw, message_id, received_at)
             values (?1, ?2, (select id from students where school_id = ?3 and pin = ?2), ?4, ?5, ?6, ?7, ?8, 'attlog',
                     ?9, ?10, ?11, ?12)
             on conflict (device_id, pin, local_time) do nothing",
        )
        .bind(device.id.0)
        .bind(&p.pin)
        .bind(device.school_id)
        .bind(&p.local_time)
        .bind(p.punched_at)
        .bind(p.status)
        .bind(p.verify)
        .bind(&p.workcode)
        .bind(p.clock_flag.map(|f| f.as_str()))
        .bind(&p.raw)
        .bind(message_id)
        .bind(chrono::Utc::now())
        .execute(&mut *tx)
        .await?;
        inserted += result.rows_affected() as usize;
    }
    tx.commit().await?;
    Ok(IngestReport { message_id, inserted, duplicates: punches.len() - inserted, rejected: rejected.len() })
}

pub async fn ingest_operlog(
    pool: &SqlitePool,
    device: &Device,
    m: &NewMessage,
    rejected: &[RejectedLine],
    batch: &OperlogBatch,
) -> StoreResult<IngestReport> {
    let now = chrono::Utc::now();
    let mut tx = pool.begin().await?;
    let message_id = insert_message(&mut tx, m, rejected).await?;
    let device_id = device.id.0;
    for u in &batch.users {
        sqlx::query(
            "insert into device_users (device_id, pin, name, privilege, card, group_id, verify, attributes, reported_at)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
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
        .bind(u.attributes.to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    for t in &batch.templates {
        sqlx::query(
            "insert into biometric_templates (device_id, pin, kind, bio_type, finger_no, template_index, major_ver,
                minor_ver, format, valid, duress, template_enc, reported_at)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
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
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    for p in &batch.photos {
        sqlx::query(
            "insert into device_photos (device_id, pin, kind, file_name, bio_type, image_enc, reported_at)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             on conflict (device_id, kind, file_name) do update set pin = excluded.pin, bio_type = excluded.bio_type,
                image_enc = excluded.image_enc, reported_at = excluded.reported_at",
        )
        .bind(device_id)
        .bind(&p.pin)
        .bind(p.kind)
        .bind(&p.file_name)
        .bind(p.bio_type)
        .bind(&p.sealed)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    for e in &batch.events {
        sqlx::query(
            "insert into device_events (device_id, kind, code, operator, time_raw, detail, raw, received_at)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .bind(device_id)
        .bind(e.kind)
        .bind(&e.code)
        .bind(&e.operator)
        .bind(&e.time_raw)
        .bind(e.detail.to_string())
        .bind(&e.raw)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(IngestReport { message_id, inserted: batch.len(), duplicates: 0, rejected: rejected.len() })
}
