//! Acc-dialect uploads (push.md 2.6 "Acc dialect uploads"; captures 04, 07, 17):
//! - `rtlog`: rows with a PIN other than `0` are punches, stored through the same group-commit
//!   path as ATTLOG (dedupe on (device, PIN, local time) and on (device, index, local time));
//!   `pin=0` rows and door-state rows are device events, never punches;
//! - `rtstate`: door/relay/alarm state, device events;
//! - `tabledata` (and complete `querydata` answers): `user`, `biodata`, `biophoto`, `userpic`
//!   rows stored through the OPERLOG batch path, then compared with the roster.
//!
//! Unparsable rows are quarantined with the reason and never fail the rest of the upload.

use actix_web::HttpResponse;
use serde_json::{Map, Value};

use super::{acc, ingest, ok_text, require_approved, DeviceError, DeviceRequest};
use crate::domain::punch::read_clock;
use crate::domain::{Dialect, NewPunch, Pin, PunchSource, RejectedLine};
use crate::http::State;
use crate::push::records::operlog::{parse_biodata_body, parse_operlog_body, parse_userinfo_body, OperLogRecord};
use crate::push::records::rtlog::{parse_rtlog_body, parse_rtstate_body, RtLogRecord};
use crate::push::records::ParsedBody;
use crate::push::text::decode_body;
use crate::push::upload::table_count_reply;
use crate::store::PunchUpload;

/// `verifytype` as a stored verify mode: a plain number (SEC-CN App.3). A push 3.1.2 bitmask
/// (`0000000000000010`, 16 characters) is not a number: it stays in the raw line only.
fn verify_mode(raw: Option<&str>) -> Option<i32> {
    raw.filter(|v| v.len() <= 4).and_then(|v| v.parse().ok())
}

fn fields_json(fields: &[(String, String)]) -> Value {
    Value::Object(fields.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>())
}

/// `POST /iclock/cdata?table=rtlog`: punches and device events; answered `OK` (capture 04).
pub async fn rtlog(ctx: &State, request: &DeviceRequest, body: &[u8]) -> Result<HttpResponse, DeviceError> {
    acc::note_dialect(ctx, &request.known.device, Dialect::Acc).await?;
    require_approved(request)?;
    let parsed = parse_rtlog_body(&decode_body(body, Some("utf-8")));
    let now = chrono::Utc::now();
    let (records, events): (Vec<RtLogRecord>, Vec<RtLogRecord>) =
        parsed.records.into_iter().partition(|r| r.is_punch());
    let punches: Vec<NewPunch> = records
        .into_iter()
        .map(|r| {
            let (punched_at, clock_flag) = read_clock(r.local_time, request.known.tz, now);
            NewPunch {
                pin: Pin(r.pin.clone().unwrap_or_default()),
                local_time: r.time_raw.clone(),
                punched_at,
                status: r.in_out_status,
                verify: verify_mode(r.verify_type.as_deref()),
                workcode: None,
                clock_flag,
                raw: r.raw,
                source: PunchSource::RtLog,
                event_index: r.index.and_then(|i| i64::try_from(i).ok()),
            }
        })
        .collect();
    let (total, rejected) = ingest::quarantine(ingest::rejected(parsed.rejected), &ctx.cipher);
    let mut message = super::upload::message(ctx, request, body, "rtlog", "processed", punches.len() + events.len());
    message.rejected = total;
    let upload = PunchUpload { device: request.known.device.clone(), message, rejected, punches };
    let report = ctx.punches.ingest(upload).await?;
    ctx.metrics.upload("rtlog", &report);
    for event in &events {
        // `pin=0`: start-up, door sensor, unregistered card…; no PIN at all: a door-state row.
        let code = match (&event.pin, event.event) {
            (None, _) => "door".to_string(),
            (_, Some(code)) => code.to_string(),
            (_, None) => "event".to_string(),
        };
        let detail = serde_json::json!({ "time": event.time_raw, "fields": fields_json(&event.fields) });
        ctx.store.record_device_event(request.known.device.id, "rtlog", &code, &detail).await?;
    }
    if total > 0 {
        tracing::warn!(serial = %request.serial, rejected = total, "rtlog rows quarantined (kept with their errors)");
    }
    tracing::debug!(serial = %request.serial, inserted = report.inserted, duplicates = report.duplicates,
        events = events.len(), "rtlog");
    Ok(ok_text("OK"))
}

/// `POST /iclock/cdata?table=rtstate`: door state rows as device events; answered `OK`.
pub async fn rtstate(ctx: &State, request: &DeviceRequest, body: &[u8]) -> Result<HttpResponse, DeviceError> {
    acc::note_dialect(ctx, &request.known.device, Dialect::Acc).await?;
    require_approved(request)?;
    let parsed = parse_rtstate_body(&decode_body(body, Some("utf-8")));
    let (total, rejected) = ingest::quarantine(ingest::rejected(parsed.rejected), &ctx.cipher);
    let mut message = super::upload::message(ctx, request, body, "rtstate", "processed", parsed.records.len());
    message.rejected = total;
    ctx.store.store_message(&message, &rejected).await?;
    for state in &parsed.records {
        let detail = serde_json::json!({ "time": state.time_raw, "fields": fields_json(&state.fields) });
        ctx.store.record_device_event(request.known.device.id, "rtstate", "state", &detail).await?;
    }
    Ok(ok_text("OK"))
}

/// `POST /iclock/cdata?table=tabledata&tablename=<t>`: answered `<t>=<rows>` (capture 04).
pub async fn tabledata(ctx: &State, request: &DeviceRequest, body: &[u8]) -> Result<HttpResponse, DeviceError> {
    acc::note_dialect(ctx, &request.known.device, Dialect::Acc).await?;
    require_approved(request)?;
    let tablename = request.query.tablename.clone().unwrap_or_else(|| "tabledata".into());
    let rows = store_table(ctx, request, body, &tablename, "tabledata").await?;
    Ok(ok_text(table_count_reply(&tablename, rows)))
}

/// The rows of an acc table as OPERLOG records; `None` for tables ironclock does not interpret.
fn table_records(tablename: &str, text: &str) -> Option<ParsedBody<OperLogRecord>> {
    Some(match tablename.to_ascii_lowercase().as_str() {
        "user" => ingest::from_userinfo(parse_userinfo_body(text)),
        "biodata" => ingest::from_biodata(parse_biodata_body(text)),
        // Rows are `biophoto pin=…` / `userpic pin=…`: the OPERLOG tags, read case-insensitively.
        "biophoto" | "userpic" => parse_operlog_body(text),
        _ => return None,
    })
}

/// Stores one acc table body (a `tabledata` upload or a whole `querydata` answer) through the
/// OPERLOG batch path and compares its users with the roster. Returns the rows it held
/// (stored and quarantined).
pub async fn store_table(
    ctx: &State,
    request: &DeviceRequest,
    body: &[u8],
    tablename: &str,
    kind: &str,
) -> Result<usize, DeviceError> {
    let text = decode_body(body, Some("utf-8"));
    let Some(parsed) = table_records(tablename, &text) else {
        let rows = text.lines().filter(|l| !l.trim().is_empty()).count();
        let mut message = super::upload::message(ctx, request, body, kind, "unparsed", rows);
        message.note = Some(format!("acc table {tablename} kept raw"));
        ctx.store.store_message(&message, &[]).await?;
        return Ok(rows);
    };
    let (batch, rejected): (_, Vec<RejectedLine>) = ingest::operlog_batch(parsed, &ctx.cipher);
    let (total, rejected) = ingest::quarantine(rejected, &ctx.cipher);
    let mut message = super::upload::message(ctx, request, body, kind, "processed", batch.len());
    message.rejected = total;
    let report = ctx.store.ingest_operlog(&request.known.device, &message, &rejected, &batch).await?;
    ctx.metrics.upload(kind, &report);
    if let Err(error) = crate::sync::after_upload(ctx, &request.known.device, &batch).await {
        tracing::error!(serial = %request.serial, %error, "could not compare uploaded users with the roster");
    }
    Ok(report.inserted + report.rejected)
}
