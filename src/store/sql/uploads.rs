//! `UploadStore`: device uploads kept raw and what is derived from them, in one transaction per
//! upload; and the reads of what uploads left behind (quarantined lines, device tables, counts).
//!
//! Punch uploads are the hot path and ONE statement on PostgreSQL: the raw message, its rejected
//! lines and the punches are a [`Dialect::chain`] (data-modifying CTEs there, the same statements
//! in order on SQLite), so either all of it is durable or none of it is, and the device is told
//! `OK` only after. Every timestamp column is bound from one `now` per call (never a default).

use std::borrow::Cow;
use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Dialect, Json, Rows, Sql, SqlStore};
use crate::domain::biometric::{BiometricKind, BiometricSource, SealedBiometric};
use crate::domain::{Device, DeviceId, NewPunch, OperlogBatch, RejectedLine, StampTable};
use crate::store::{
    DeviceTable, IngestReport, NewMessage, PunchUpload, StoreResult, StoredDeviceEvent, StoredRejectedLine,
    UploadStore, REJECTED_SAMPLE,
};

/// The head of every upload chain: the raw message, `returning id`. Binds `$1..=$12`: `$1` is
/// the device id and `$12` is `now`, which the tails reuse; the tails' own parameters follow.
const MESSAGE: &str =
    "insert into device_messages (device_id, serial_number, path, query, body, tbl, status, records, rejected, note,
                                  body_sealed, received_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id";
/// Parameters [`MESSAGE`] takes; the first tail parameter is `MESSAGE_PARAMS + 1`.
const MESSAGE_PARAMS: usize = 12;

/// The message head, bound. Bind the tails' parameters after it, in order.
fn message<'q, D: Dialect>(
    device_id: Option<i64>,
    m: &'q NewMessage,
    rejected: usize,
    now: DateTime<Utc>,
) -> Sql<'q, D> {
    SqlStore::<D>::sql(MESSAGE)
        .bind(device_id)
        .bind(&m.serial_number)
        .bind(&m.path)
        .bind(&m.query)
        .bind(&m.body)
        .bind(&m.table)
        .bind(m.status)
        .bind(m.records as i32)
        .bind(rejected as i32)
        .bind(&m.note)
        .bind(m.body_sealed)
        .bind(now)
}

/// The rejected lines kept: at most [`REJECTED_SAMPLE`] per message (the message keeps the count).
fn rejected_rows(rejected: &[RejectedLine]) -> Rows {
    let kept = &rejected[..rejected.len().min(REJECTED_SAMPLE)];
    Rows::new()
        .int("line_no", kept.iter().map(|r| r.line_no as i32))
        .text("raw", kept.iter().map(|r| r.raw.as_str()))
        .text("error", kept.iter().map(|r| r.error.as_str()))
        .flag("raw_sealed", kept.iter().map(|r| r.raw_sealed))
}

/// Lines rejected in the whole message: the count it declares, or the lines passed if more.
fn rejected_total(m: &NewMessage, rejected: &[RejectedLine]) -> usize {
    m.rejected.max(rejected.len())
}

/// The chain tail that quarantines the rejected lines bound at `$first` under the message
/// `{head}`, with the message's device (`$1`) and `now` (`$12`).
fn rejected_tail<D: Dialect>(rows: &Rows, first: usize) -> String {
    format!(
        "insert into rejected_lines (message_id, device_id, line_no, raw, error, raw_sealed, created_at)
         select {{head}}, $1, r.line_no, r.raw, r.error, r.raw_sealed, $12 from {}",
        D::rows(rows, first, "r")
    )
}

/// Inserts the raw message and its rejected lines (one statement on PostgreSQL) on `conn`;
/// returns the message id.
async fn insert_message<D: Dialect>(
    conn: &mut D::Connection,
    device_id: Option<i64>,
    m: &NewMessage,
    rejected: &[RejectedLine],
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    let rows = rejected_rows(rejected);
    let tail = rejected_tail::<D>(&rows, MESSAGE_PARAMS + 1);
    let head = message::<D>(device_id, m, rejected_total(m, rejected), now).bind_rows(&rows);
    let (id, _) = D::chain(head, &[tail.as_str()], conn).await?;
    Ok(id)
}

pub(super) fn punch_rows(punches: &[NewPunch]) -> Rows {
    Rows::new()
        .text("pin", punches.iter().map(|p| p.pin.as_str()))
        .text("local_time", punches.iter().map(|p| p.local_time.as_str()))
        .time("punched_at", punches.iter().map(|p| p.punched_at))
        .int("status", punches.iter().map(|p| p.status))
        .int("verify", punches.iter().map(|p| p.verify))
        .text("workcode", punches.iter().map(|p| p.workcode.as_deref()))
        .text("clock_flag", punches.iter().map(|p| p.clock_flag.map(|f| f.as_str())))
        .text("raw", punches.iter().map(|p| p.raw.as_str()))
        .text("source", punches.iter().map(|p| p.source.as_str()))
        .bigint("event_index", punches.iter().map(|p| p.event_index))
}

/// Stores one punch upload on `conn`: the raw message, its rejected lines and the punches as
/// one [`Dialect::chain`] (one statement on PostgreSQL). Atomic on its own; inside a caller's
/// transaction it commits with it.
async fn insert_punch_upload<D: Dialect>(
    conn: &mut D::Connection,
    device: &Device,
    m: &NewMessage,
    rejected: &[RejectedLine],
    punches: &[NewPunch],
    now: DateTime<Utc>,
) -> StoreResult<IngestReport> {
    let rejected_set = rejected_rows(rejected);
    let punch_set = punch_rows(punches);
    let rejected_at = MESSAGE_PARAMS + 1;
    let punches_at = rejected_at + rejected_set.params();
    let school = punches_at + punch_set.params();
    // Duplicates (a device re-sending lines) are skipped by the unique keys ((device, PIN, local
    // time), and (device, rtlog index, local time) for acc punches), so the count the
    // chain reports for this tail is the punches newly stored, on both backends. `where true`:
    // SQLite needs a WHERE before `on conflict` after a join (else `on` reads as a join constraint).
    let insert_punches = format!(
        "insert into attendance_logs (device_id, pin, student_id, local_time, punched_at, status, verify, workcode,
                                      source, clock_flag, raw, message_id, received_at, school_id,
                                      event_index)
         select $1, p.pin, s.id, p.local_time, p.punched_at, p.status, p.verify, p.workcode, p.source, p.clock_flag,
                p.raw, {{head}}, $12, ${school}, p.event_index
         from {} left join students s on ${school} is not null and s.school_id = ${school} and s.pin = p.pin
         where true
         on conflict do nothing",
        D::rows(&punch_set, punches_at, "p")
    );
    let insert_rejected = rejected_tail::<D>(&rejected_set, rejected_at);
    let head = message::<D>(Some(device.id.0), m, rejected_total(m, rejected), now)
        .bind_rows(&rejected_set)
        .bind_rows(&punch_set)
        .bind(device.school_id);
    let tails = [insert_rejected.as_str(), insert_punches.as_str()];
    let (message_id, counts) = D::chain(head, &tails, conn).await?;
    // `chain` returns one count per tail: [rejected lines, punches inserted].
    let inserted = counts.get(1).copied().unwrap_or_default() as usize;
    Ok(IngestReport {
        message_id,
        inserted,
        duplicates: punches.len().saturating_sub(inserted),
        rejected: rejected_total(m, rejected),
    })
}

#[async_trait]
impl<D: Dialect> UploadStore for SqlStore<D> {
    async fn ingest_punches(
        &self,
        device: &Device,
        m: &NewMessage,
        rejected: &[RejectedLine],
        punches: &[NewPunch],
    ) -> StoreResult<IngestReport> {
        // One autocommit unit: the chain commits its statements together on both backends (ONE
        // statement and one round trip on PostgreSQL), and announces nothing.
        insert_punch_upload::<D>(&mut *self.write_once().await?, device, m, rejected, punches, Utc::now()).await
    }

    async fn ingest_punch_group(&self, uploads: &[PunchUpload]) -> StoreResult<Vec<IngestReport>> {
        // One transaction (one fsync) and one statement per table for the whole group.
        let mut tx = self.write().await?;
        let reports = super::upload_group::insert_punch_group::<D>(&mut tx, uploads, Utc::now()).await?;
        tx.commit().await?;
        Ok(reports)
    }

    async fn ingest_operlog(
        &self,
        device: &Device,
        m: &NewMessage,
        rejected: &[RejectedLine],
        batch: &OperlogBatch,
    ) -> StoreResult<IngestReport> {
        let now = Utc::now();
        let mut tx = self.write().await?;
        let message_id = insert_message::<D>(&mut tx, m.device_id.map(|d| d.0), m, rejected, now).await?;
        let device_id = device.id.0;
        // Per-row statements, as on PostgreSQL before: templates and photos are binary (no row-set
        // column for them), and OPERLOG uploads are rare and small next to punches.
        for u in &batch.users {
            Self::sql(
                "insert into device_users (device_id, pin, name, privilege, card, group_id, verify, attributes,
                                           reported_at, school_id)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, (select school_id from devices where id = $1))
                 on conflict (device_id, pin) do update set name = excluded.name, privilege = excluded.privilege,
                    school_id = excluded.school_id,
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
            .bind(Json(&u.attributes))
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        for t in &batch.templates {
            Self::sql(
                "insert into biometric_templates (device_id, pin, kind, bio_type, finger_no, template_index, major_ver,
                    minor_ver, format, valid, duress, template_enc, reported_at)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
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
            .execute(&mut tx)
            .await?;
        }
        for p in &batch.photos {
            Self::sql(
                "insert into device_photos (device_id, pin, kind, file_name, bio_type, image_enc, reported_at)
                 values ($1, $2, $3, $4, $5, $6, $7)
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
            .execute(&mut tx)
            .await?;
        }
        let source = BiometricSource { device: Some(device.id), via: "push" };
        // A fingerprint that does not carry its version (FP lines) is of the version the device
        // declared (options, registry or heartbeat); `unknown` only when it never said.
        let declared = if batch.masters.iter().any(|c| c.kind == BiometricKind::Finger && c.version.is_none()) {
            let (options, poll) = super::push_holdings::profile::<D>(&mut tx, device_id).await?;
            crate::domain::bio_versions::finger_version(&options, &poll)
        } else {
            None
        };
        for copy in &batch.masters {
            let copy = match &declared {
                Some(v) if copy.kind == BiometricKind::Finger && copy.version.is_none() => {
                    Cow::Owned(SealedBiometric { version: Some(v.clone()), ..copy.clone() })
                }
                _ => Cow::Borrowed(copy),
            };
            super::biometrics::upsert_copy::<D>(&mut tx, None, source, &copy, now).await?;
        }
        for e in &batch.events {
            Self::sql(
                "insert into device_events (device_id, kind, code, operator, time_raw, detail, raw, received_at, school_id)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, (select school_id from devices where id = $1))",
            )
            .bind(device_id)
            .bind(e.kind)
            .bind(&e.code)
            .bind(&e.operator)
            .bind(&e.time_raw)
            .bind(Json(&e.detail))
            .bind(&e.raw)
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(IngestReport { message_id, inserted: batch.len(), duplicates: 0, rejected: rejected_total(m, rejected) })
    }

    async fn save_stamps(&self, stamps: &[(DeviceId, StampTable, String)]) -> StoreResult<()> {
        if stamps.is_empty() {
            return Ok(());
        }
        // One statement per table, rows sorted by id so that two instances flushing at once lock
        // rows in the same order; the last stamp of a device given twice wins.
        let mut by_table: BTreeMap<&'static str, BTreeMap<DeviceId, &str>> = BTreeMap::new();
        for (id, table, value) in stamps {
            by_table.entry(table.column()).or_default().insert(*id, value.as_str());
        }
        let mut tx = self.write().await?;
        for (column, stamps) in by_table {
            let rows =
                Rows::new().bigint("s_id", stamps.keys().map(|id| id.0)).text("s_value", stamps.values().copied());
            // The column name comes from a closed enum, never from input. An unchanged stamp is
            // not rewritten (no dead row version on PostgreSQL).
            let sql = format!(
                "update devices set {column} = s_value from {} where id = s_id and {column} is distinct from s_value",
                D::rows(&rows, 1, "s")
            );
            Self::sql(&sql).bind_rows(&rows).execute(&mut tx).await?;
        }
        tx.commit().await
    }

    async fn store_message(&self, m: &NewMessage, rejected: &[RejectedLine]) -> StoreResult<i64> {
        // The chain commits as one unit on both backends.
        let mut db = self.write_once().await?;
        insert_message::<D>(&mut db, m.device_id.map(|d| d.0), m, rejected, Utc::now()).await
    }

    async fn record_device_event(
        &self,
        device: DeviceId,
        kind: &str,
        code: &str,
        detail: &serde_json::Value,
    ) -> StoreResult<()> {
        Self::sql(
            "insert into device_events (device_id, kind, code, detail, raw, received_at, school_id)
             values ($1, $2, $3, $4, '', $5, (select school_id from devices where id = $1))",
        )
        .bind(device.0)
        .bind(kind)
        .bind(code)
        .bind(Json(detail))
        .bind(Utc::now())
        .run(&mut *self.write_once().await?)
        .await
    }

    async fn rejected_lines(&self, device: DeviceId) -> StoreResult<Vec<StoredRejectedLine>> {
        // `line_no` is an `integer` column: widened in SQL so both drivers decode it as i64.
        Self::sql(
            "select message_id, cast(line_no as bigint) as line_no, raw, error, raw_sealed from rejected_lines
             where device_id = $1
             order by id",
        )
        .bind(device.0)
        .fetch_all(&mut *self.read().await?)
        .await
    }

    async fn count_messages(&self, device: Option<DeviceId>) -> StoreResult<i64> {
        Self::sql("select count(*) from device_messages where ($1 is null or device_id = $1)")
            .bind(device.map(|d| d.0))
            .scalar(&mut *self.read().await?)
            .await
    }

    async fn count_device_rows(&self, device: DeviceId, table: DeviceTable) -> StoreResult<i64> {
        // `table.name()` is one of a closed set of table names, never input.
        let sql = format!("select count(*) from {} where device_id = $1", table.name());
        Self::sql(&sql).bind(device.0).scalar(&mut *self.read().await?).await
    }

    async fn recent_device_events(
        &self,
        device: DeviceId,
        kind: &str,
        limit: i64,
    ) -> StoreResult<Vec<StoredDeviceEvent>> {
        // `detail` is jsonb on PostgreSQL and text on SQLite; the cast reads it as text on both.
        Self::sql(
            // Only what the device reported for its current school (a moved device's history stays with
            // the school it was written for).
            "select kind, code, time_raw, cast(detail as text) as detail, received_at from device_events
             where device_id = $1 and kind = $2
               and school_id is not distinct from (select school_id from devices where id = $1)
             order by id desc limit $3",
        )
        .bind(device.0)
        .bind(kind)
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await
    }
}
