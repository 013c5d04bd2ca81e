//! A group of punch uploads stored with one statement per table, whatever the group's size.
//!
//! The group committer (`core::group_commit`) hands over every upload that queued while the
//! previous commit ran. Stored one chain per upload, a group of n costs n round trips and n
//! statements for the database to plan and run; here it costs four: fresh message ids, the raw
//! messages, the rejected lines, the punches. The message ids are drawn first
//! ([`Dialect::next_ids`]) so that the punches and rejected lines can name their message in the
//! same multi-row insert. The caller commits: all of it is durable or none of it is.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{Dialect, Rows, SqlStore};
use crate::store::{IngestReport, PunchUpload, StoreResult, REJECTED_SAMPLE};

/// Stores `uploads` on `conn` (inside the caller's transaction); one report per upload, in order.
pub(super) async fn insert_punch_group<D: Dialect>(
    conn: &mut D::Connection,
    uploads: &[PunchUpload],
    now: DateTime<Utc>,
) -> StoreResult<Vec<IngestReport>> {
    let ids: Vec<i64> =
        SqlStore::<D>::sql(&D::next_ids("device_messages")).bind(uploads.len() as i64).scalars(conn).await?;
    debug_assert_eq!(ids.len(), uploads.len());
    insert_messages::<D>(conn, uploads, &ids, now).await?;
    insert_rejected::<D>(conn, uploads, &ids, now).await?;
    let stored = insert_punches::<D>(conn, uploads, &ids, now).await?;
    Ok(uploads
        .iter()
        .zip(&ids)
        .map(|(u, id)| {
            let inserted = stored.get(id).copied().unwrap_or(0);
            IngestReport {
                message_id: *id,
                inserted,
                duplicates: u.punches.len().saturating_sub(inserted),
                rejected: rejected_total(u),
            }
        })
        .collect())
}

/// Lines rejected in an upload: the count its message declares, or the lines passed if more.
fn rejected_total(u: &PunchUpload) -> usize {
    u.message.rejected.max(u.rejected.len())
}

async fn insert_messages<D: Dialect>(
    conn: &mut D::Connection,
    uploads: &[PunchUpload],
    ids: &[i64],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let m = |f: fn(&PunchUpload) -> Option<String>| uploads.iter().map(f).collect::<Vec<_>>();
    let rows = Rows::new()
        .bigint("id", ids.iter().copied())
        .bigint("device_id", uploads.iter().map(|u| u.device.id.0))
        .text("serial_number", m(|u| Some(u.message.serial_number.clone())))
        .text("path", m(|u| Some(u.message.path.clone())))
        .text("query", m(|u| Some(u.message.query.clone())))
        .bytes("body", uploads.iter().map(|u| u.message.body.clone()))
        .text("tbl", m(|u| u.message.table.clone()))
        .text("status", uploads.iter().map(|u| u.message.status))
        .int("records", uploads.iter().map(|u| u.message.records as i32))
        .int("rejected", uploads.iter().map(|u| rejected_total(u) as i32))
        .text("note", m(|u| u.message.note.clone()))
        .flag("body_sealed", uploads.iter().map(|u| u.message.body_sealed));
    let now_at = rows.params() + 1;
    let sql = format!(
        "insert into device_messages (id, device_id, serial_number, path, query, body, tbl, status, records, rejected,
                                      note, body_sealed, received_at)
         select m.id, m.device_id, m.serial_number, m.path, m.query, m.body, m.tbl, m.status, m.records, m.rejected,
                m.note, m.body_sealed, ${now_at}
         from {}",
        D::rows(&rows, 1, "m")
    );
    SqlStore::<D>::sql(&sql).bind_rows(&rows).bind(now).run(conn).await
}

/// The rejected lines kept: at most [`REJECTED_SAMPLE`] per upload (its message keeps the count).
async fn insert_rejected<D: Dialect>(
    conn: &mut D::Connection,
    uploads: &[PunchUpload],
    ids: &[i64],
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let kept: Vec<_> = uploads
        .iter()
        .zip(ids)
        .flat_map(|(u, id)| u.rejected.iter().take(REJECTED_SAMPLE).map(move |r| (u, *id, r)))
        .collect();
    if kept.is_empty() {
        return Ok(());
    }
    let rows = Rows::new()
        .bigint("message_id", kept.iter().map(|(_, id, _)| *id))
        .bigint("device_id", kept.iter().map(|(u, _, _)| u.device.id.0))
        .int("line_no", kept.iter().map(|(_, _, r)| r.line_no as i32))
        .text("raw", kept.iter().map(|(_, _, r)| r.raw.as_str()))
        .text("error", kept.iter().map(|(_, _, r)| r.error.as_str()))
        .flag("raw_sealed", kept.iter().map(|(_, _, r)| r.raw_sealed));
    let now_at = rows.params() + 1;
    let sql = format!(
        "insert into rejected_lines (message_id, device_id, line_no, raw, error, raw_sealed, created_at)
         select r.message_id, r.device_id, r.line_no, r.raw, r.error, r.raw_sealed, ${now_at} from {}",
        D::rows(&rows, 1, "r")
    );
    SqlStore::<D>::sql(&sql).bind_rows(&rows).bind(now).run(conn).await
}

/// Inserts every upload's punches, duplicates skipped by the unique key; returns the punches
/// newly stored per message id.
async fn insert_punches<D: Dialect>(
    conn: &mut D::Connection,
    uploads: &[PunchUpload],
    ids: &[i64],
    now: DateTime<Utc>,
) -> StoreResult<HashMap<i64, usize>> {
    let all: Vec<_> = uploads.iter().zip(ids).flat_map(|(u, id)| u.punches.iter().map(move |p| (u, *id, p))).collect();
    if all.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = Rows::new()
        .bigint("message_id", all.iter().map(|(_, id, _)| *id))
        .bigint("device_id", all.iter().map(|(u, _, _)| u.device.id.0))
        .bigint("school_id", all.iter().map(|(u, _, _)| u.device.school_id.map(|s| s.0)))
        .text("pin", all.iter().map(|(_, _, p)| p.pin.as_str()))
        .text("local_time", all.iter().map(|(_, _, p)| p.local_time.as_str()))
        .time("punched_at", all.iter().map(|(_, _, p)| p.punched_at))
        .int("status", all.iter().map(|(_, _, p)| p.status))
        .int("verify", all.iter().map(|(_, _, p)| p.verify))
        .text("workcode", all.iter().map(|(_, _, p)| p.workcode.as_deref()))
        .text("clock_flag", all.iter().map(|(_, _, p)| p.clock_flag.map(|f| f.as_str())))
        .text("raw", all.iter().map(|(_, _, p)| p.raw.as_str()))
        .text("source", all.iter().map(|(_, _, p)| p.source.as_str()))
        .bigint("event_index", all.iter().map(|(_, _, p)| p.event_index));
    let now_at = rows.params() + 1;
    // `where true`: SQLite needs a WHERE before `on conflict` after a join (else `on` reads as a
    // join constraint). Duplicates are skipped by either unique key ((device, PIN, local time), and
    // (device, rtlog index, local time) for acc punches): a line re-sent within the group is
    // skipped like any other, and the
    // `order by` (message ids rise with the group's order) makes the earlier upload the one that
    // stored it, whatever join the planner picks.
    let sql = format!(
        "insert into attendance_logs (device_id, pin, student_id, local_time, punched_at, status, verify, workcode,
                                      source, clock_flag, raw, message_id, received_at, school_id, event_index)
         select p.device_id, p.pin, s.id, p.local_time, p.punched_at, p.status, p.verify, p.workcode, p.source,
                p.clock_flag, p.raw, p.message_id, ${now_at}, p.school_id, p.event_index
         from {} left join students s on p.school_id is not null and s.school_id = p.school_id and s.pin = p.pin
         where true
         order by p.message_id
         on conflict do nothing
         returning message_id",
        D::rows(&rows, 1, "p")
    );
    let stored: Vec<i64> = SqlStore::<D>::sql(&sql).bind_rows(&rows).bind(now).scalars(conn).await?;
    let mut per_message = HashMap::new();
    for id in stored {
        *per_message.entry(id).or_insert(0) += 1;
    }
    Ok(per_message)
}
