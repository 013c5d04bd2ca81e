//! `/attendance`: punches of the caller's scope by date range, student, class, section or
//! device, with paging; the same as CSV; and the per-day summary per student.
//!
//! `from`/`to` take a date (`2026-03-02`: device-local days, `to` inclusive) or an RFC 3339
//! instant (compared with the punch's UTC time, `to` exclusive).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use chrono::Days;
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Caller;
use super::envelope::{page, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::ApiQuery;
use super::params::{self, Bound};
use super::student_csv::escape_formula;
use crate::http::State;
use crate::store::admin::{DailyAttendance, Page, PunchQuery, PunchRecord, PunchSort, Sort};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttendanceQuery {
    /// Start: a local date (inclusive) or an RFC 3339 instant (inclusive).
    pub from: Option<String>,
    /// End: a local date (inclusive) or an RFC 3339 instant (exclusive).
    pub to: Option<String>,
    pub student_id: Option<i64>,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub device_id: Option<i64>,
    pub pin: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// `local_time`, `punched_at`, `id`; prefix `-` for descending.
    pub sort: Option<String>,
}

fn query(caller: &Caller, q: AttendanceQuery) -> Result<PunchQuery, ApiError> {
    let mut out = PunchQuery::new(caller.scope());
    match params::bound("from", q.from.as_deref())? {
        Some(Bound::Date(d)) => out.from_date = Some(d.format("%Y-%m-%d").to_string()),
        Some(Bound::Instant(t)) => out.from = Some(t),
        None => {}
    }
    match params::bound("to", q.to.as_deref())? {
        Some(Bound::Date(d)) => {
            let next = d.checked_add_days(Days::new(1)).ok_or_else(|| ApiError::parameter("to", "is out of range"))?;
            out.until_date = Some(next.format("%Y-%m-%d").to_string());
        }
        Some(Bound::Instant(t)) => out.to = Some(t),
        None => {}
    }
    let dates_reversed = matches!((&out.from_date, &out.until_date), (Some(f), Some(u)) if f >= u);
    let instants_reversed = matches!((out.from, out.to), (Some(f), Some(t)) if f > t);
    if dates_reversed || instants_reversed {
        return Err(ApiError::parameter("to", "must not be before from"));
    }
    out.student_id = q.student_id;
    out.class_id = q.class_id;
    out.section_id = q.section_id;
    out.device_id = q.device_id;
    out.pin = q.pin;
    out.page = params::page(q.page, q.per_page)?;
    out.sort = params::sort(q.sort.as_deref())?;
    Ok(out)
}

/// Punches, one page at a time.
#[utoipa::path(get, path = "/api/v1/attendance", tag = "attendance", params(AttendanceQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of punches", body = Envelope<Vec<PunchRecord>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn list(
    ctx: web::Data<State>,
    caller: Caller,
    q: ApiQuery<AttendanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query(&caller, q.0)?;
    Ok(page("punches", ctx.store.list_punch_records(&query).await?, query.page))
}

/// Per student and local day: first punch in, last punch out, number of punches.
#[utoipa::path(get, path = "/api/v1/attendance/daily", tag = "attendance", params(AttendanceQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of student-days", body = Envelope<Vec<DailyAttendance>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn daily(
    ctx: web::Data<State>,
    caller: Caller,
    q: ApiQuery<AttendanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query(&caller, q.0)?;
    Ok(page("daily attendance", ctx.store.daily_attendance(&query).await?, query.page))
}

/// Rows fetched per round trip while exporting.
const EXPORT_BATCH: i64 = 5_000;
/// Most rows one export returns.
const EXPORT_MAX: i64 = 1_000_000;

/// Punches as CSV (same filters as the list; no paging), in the order they were stored.
#[utoipa::path(get, path = "/api/v1/attendance/export", tag = "attendance", params(AttendanceQuery), security(("bearer" = [])),
    responses((status = 200, description = "CSV file", content_type = "text/csv", body = String),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn export(
    ctx: web::Data<State>,
    caller: Caller,
    q: ApiQuery<AttendanceQuery>,
) -> Result<HttpResponse, ApiError> {
    let mut query = query(&caller, q.0)?;
    // Stored order (id): rows arriving during the export are appended, never shift a page.
    query.sort = Sort { field: PunchSort::Id, ..Sort::default() };
    query.page = Page { limit: EXPORT_BATCH, offset: 0 };
    // The first batch is read before answering, so a failing query is still a proper error reply.
    let first = ctx.store.list_punch_records(&query).await?.items;
    const COLUMNS: &str = "id,local_time,punched_at,pin,student_id,student_name,device_id,serial_number,status,verify,source,clock_flag\n";
    let state = ExportState { pending: Some(first), query, ctx: ctx.clone(), header_sent: false, done: false };
    let stream = futures::stream::unfold(state, |mut state| async move {
        if state.done {
            return None;
        }
        let rows = match state.pending.take() {
            Some(rows) => rows,
            None => match state.ctx.store.list_punch_records(&state.query).await {
                Ok(page) => page.items,
                Err(e) => {
                    tracing::error!(error = %e, "attendance export stopped part way");
                    return None;
                }
            },
        };
        if rows.is_empty() && state.header_sent {
            return None;
        }
        let mut chunk = if state.header_sent { String::new() } else { COLUMNS.to_string() };
        chunk.extend(rows.iter().map(csv_line));
        state.header_sent = true;
        state.query.page.offset += state.query.page.limit;
        state.done = (rows.len() as i64) < state.query.page.limit || state.query.page.offset >= EXPORT_MAX;
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(chunk)), state))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"attendance.csv\""))
        .streaming(stream))
}

struct ExportState {
    pending: Option<Vec<PunchRecord>>,
    query: PunchQuery,
    ctx: web::Data<State>,
    header_sent: bool,
    done: bool,
}

fn csv_line(p: &PunchRecord) -> String {
    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let record = [
        p.id.to_string(),
        escape_formula(&p.local_time),
        p.punched_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        escape_formula(p.pin.as_str()),
        opt(p.student_id),
        escape_formula(p.student_name.as_deref().unwrap_or("")),
        p.device_id.to_string(),
        escape_formula(&p.serial_number),
        opt(p.status.map(i64::from)),
        opt(p.verify.map(i64::from)),
        p.source.clone(),
        p.clock_flag.clone().unwrap_or_default(),
    ];
    // Writing to a Vec cannot fail; an impossible error yields an empty line rather than a panic.
    let _ = writer.write_record(&record);
    writer.into_inner().map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default()
}
