//! `/attendance`: punches of the admin's scope by school-local date range (today by default),
//! newest first, with paging; today's list grows live through server-sent events
//! (`/attendance/stream`); `/attendance/export.csv` is the API's attendance export.

use std::time::{Duration, Instant};

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::layout::Layout;
use super::page::{render, PageError};
use super::session::Session;
use crate::http::api::attendance::{export, AttendanceQuery};
use crate::http::api::auth::Caller;
use crate::http::api::extract::ApiQuery;
use crate::http::State;
use crate::store::admin::{Page, PunchQuery, PunchRecord, PunchSort, SchoolScope, Sort, SortDir};

/// Punches per page.
pub const PER_PAGE: i64 = 50;
/// How often the stream looks for new punches.
const POLL_EVERY: Duration = Duration::from_secs(2);
/// A comment line after this much silence keeps proxies from closing the stream.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(15);
/// A stream ends after this long; the browser reconnects (with `Last-Event-ID`) and misses nothing.
const STREAM_FOR: Duration = Duration::from_secs(30 * 60);
/// New punches read per store query.
const STREAM_BATCH: i64 = 200;
/// Batches read per poll, at most (a larger burst is sent from its newest part; the page has all).
const STREAM_PAGES: usize = 10;

/// The admin's school's time zone (a super admin sees several schools: UTC).
pub async fn zone(ctx: &State, caller: &Caller) -> Tz {
    let zone = match caller.scope().school_id() {
        Some(id) => ctx.store.get_school_record(caller.scope(), id).await.ok().flatten().map(|s| s.timezone),
        None => None,
    };
    zone.and_then(|z| z.parse().ok()).unwrap_or(chrono_tz::UTC)
}

/// Today in `tz`.
pub fn today(tz: Tz) -> NaiveDate {
    Utc::now().with_timezone(&tz).date_naive()
}

pub struct Line {
    pub local_time: String,
    pub student: String,
    pub pin: String,
    pub device: String,
}

#[derive(Template)]
#[template(path = "attendance.html")]
struct AttendancePage {
    layout: Layout,
    from: String,
    until: String,
    /// `(field, message)` for a bad date.
    error: Option<(&'static str, String)>,
    lines: Vec<Line>,
    total: i64,
    page: i64,
    /// The stream URL when the range includes today (first page only).
    live: Option<String>,
    export: String,
    prev: Option<String>,
    next: Option<String>,
}

impl AttendancePage {
    fn error_for(&self, field: &str) -> Option<&str> {
        self.error.as_ref().filter(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }
}

#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    from: Option<String>,
    until: Option<String>,
    page: Option<String>,
    flash: Option<String>,
}

fn date(raw: Option<&str>) -> Result<Option<NaiveDate>, String> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| "must be a date like 2026-03-02".into())
        }
    }
}

fn url(path: &str, from: NaiveDate, until: NaiveDate, page: Option<i64>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.append_pair("from", &from.to_string()).append_pair("until", &until.to_string());
    if let Some(p) = page {
        s.append_pair("page", &p.to_string());
    }
    format!("{path}?{}", s.finish())
}

/// The punches of local dates `from..=until` in `scope`, newest first.
fn range_query(scope: SchoolScope, from: NaiveDate, until: NaiveDate) -> PunchQuery {
    let mut q = PunchQuery::new(scope);
    q.from_date = Some(from.to_string());
    q.until_date = until.checked_add_days(Days::new(1)).map(|d| d.to_string());
    q.sort = Sort { field: PunchSort::LocalTime, dir: SortDir::Desc };
    q
}

/// The id of the newest punch stored in `scope` (0 when none).
async fn newest_id(ctx: &State, scope: SchoolScope) -> Result<i64, PageError> {
    let mut newest = PunchQuery::new(scope);
    newest.sort = Sort { field: PunchSort::Id, dir: SortDir::Desc };
    newest.page = Page { limit: 1, offset: 0 };
    Ok(ctx.store.list_punch_records(&newest).await?.items.first().map_or(0, |p| p.id))
}

fn line(p: PunchRecord) -> Line {
    Line {
        local_time: p.local_time,
        student: p.student_name.unwrap_or_default(),
        pin: p.pin.0,
        device: p.serial_number,
    }
}

/// `GET /attendance`.
pub async fn page(
    ctx: web::Data<State>,
    session: Session,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    let caller = &session.caller;
    let today = today(zone(&ctx, caller).await);
    let mut error = None;
    let from = date(q.from.as_deref()).unwrap_or_else(|m| {
        error = Some(("from", m));
        None
    });
    let until = date(q.until.as_deref()).unwrap_or_else(|m| {
        error = Some(("until", m));
        None
    });
    let (mut from, mut until) = (from.unwrap_or(today), until.or(from).unwrap_or(today));
    if until < from {
        error = Some(("until", "must not be before the start date".into()));
        (from, until) = (today, today);
    }
    let page = q.page.as_deref().and_then(|p| p.parse::<i64>().ok()).unwrap_or(1).clamp(1, 1_000_000);
    let mut query = range_query(caller.scope(), from, until);
    query.page = Page { limit: PER_PAGE, offset: (page - 1) * PER_PAGE };
    let found = ctx.store.list_punch_records(&query).await?;
    let live = if page == 1 && (from..=until).contains(&today) {
        // Everything up to the newest punch now stored is on the page; the stream sends what follows.
        let after = newest_id(&ctx, caller.scope()).await?;
        Some(format!("/attendance/stream?after={after}"))
    } else {
        None
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let page_view = AttendancePage {
        layout: Layout::new(&session, "attendance", q.flash),
        from: from.to_string(),
        until: until.to_string(),
        error,
        total: found.total,
        lines: found.items.into_iter().map(line).collect(),
        page,
        live,
        export: url("/attendance/export.csv", from, until, None),
        prev: (page > 1).then(|| url("/attendance", from, until, Some(page - 1))),
        next: (found.total > page * PER_PAGE).then(|| url("/attendance", from, until, Some(page + 1))),
    };
    let mut res = render(&session, &page_view)?;
    *res.status_mut() = status;
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    from: Option<String>,
    until: Option<String>,
}

/// `GET /attendance/export.csv?from=&until=`: the API's CSV export (same columns), scoped.
pub async fn export_csv(
    ctx: web::Data<State>,
    session: Session,
    q: web::Query<ExportQuery>,
) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    let blank = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let query = AttendanceQuery {
        from: blank(q.from),
        to: blank(q.until),
        student_id: None,
        class_id: None,
        section_id: None,
        device_id: None,
        pin: None,
        page: None,
        per_page: None,
        sort: None,
    };
    Ok(export(ctx, session.caller, ApiQuery(query)).await?)
}

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    /// Send punches with a greater id (the page's newest); default: the newest now.
    after: Option<i64>,
}

/// One `punch` event's data.
#[derive(Debug, Serialize)]
struct PunchEvent<'a> {
    local_time: &'a str,
    student_name: &'a str,
    pin: &'a str,
    serial_number: &'a str,
}

struct Stream {
    ctx: web::Data<State>,
    caller: Caller,
    tz: Tz,
    after: i64,
    started: Instant,
    last_write: Instant,
    opened: bool,
}

impl Stream {
    /// Today's punches with an id above `after`, as events (oldest first).
    async fn poll(&mut self) -> Result<String, PageError> {
        let today = today(self.tz);
        let mut q = range_query(self.caller.scope(), today, today);
        q.sort = Sort { field: PunchSort::Id, dir: SortDir::Desc };
        q.page = Page { limit: STREAM_BATCH, offset: 0 };
        let mut fresh: Vec<PunchRecord> = Vec::new();
        // Newest first, back to the last one sent (a burst larger than a batch takes more pages).
        for _ in 0..STREAM_PAGES {
            let items = self.ctx.store.list_punch_records(&q).await?.items;
            let complete = (items.len() as i64) < STREAM_BATCH || items.iter().any(|p| p.id <= self.after);
            fresh.extend(items.into_iter().filter(|p| p.id > self.after));
            if complete {
                break;
            }
            q.page.offset += STREAM_BATCH;
        }
        fresh.reverse();
        let mut out = String::new();
        for p in &fresh {
            let data = PunchEvent {
                local_time: &p.local_time,
                student_name: p.student_name.as_deref().unwrap_or(""),
                pin: p.pin.as_str(),
                serial_number: &p.serial_number,
            };
            let json = serde_json::to_string(&data).map_err(|e| PageError::Internal(e.to_string()))?;
            out.push_str(&format!("id: {}\nevent: punch\ndata: {json}\n\n", p.id));
            self.after = self.after.max(p.id);
        }
        Ok(out)
    }

    /// Whether the stream's session still holds: the admin exists, is enabled and has not logged
    /// out or had their password or role changed since (the session version is unchanged). A
    /// storage failure keeps the stream (the next poll retries).
    async fn session_alive(&self) -> bool {
        let me = &self.caller.user;
        match self.ctx.store.get_admin(me.id).await {
            Ok(Some(now)) => !now.disabled && now.session_version == me.session_version,
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// The next chunk to send; `None` ends the stream.
    async fn next_chunk(&mut self) -> Option<String> {
        if !self.opened {
            self.opened = true;
            // The id makes a reconnecting browser send `Last-Event-ID` even before any punch.
            return Some(format!("retry: 5000\nid: {}\n\n", self.after));
        }
        loop {
            if self.started.elapsed() >= STREAM_FOR {
                return None;
            }
            tokio::time::sleep(POLL_EVERY).await;
            if !self.session_alive().await {
                return None;
            }
            match self.poll().await {
                Ok(events) if !events.is_empty() => {
                    self.last_write = Instant::now();
                    return Some(events);
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "attendance stream: reading punches failed; retrying"),
            }
            if self.last_write.elapsed() >= HEARTBEAT_EVERY {
                self.last_write = Instant::now();
                return Some(": heartbeat\n\n".into());
            }
        }
    }
}

/// `GET /attendance/stream`: `punch` events for the admin's scope, polled every 2 s, with a
/// heartbeat comment every 15 s; ends when the client goes away (the next write fails) and,
/// within one poll, when the session ends (logout, password or role change, disabling).
pub async fn stream(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    q: web::Query<StreamQuery>,
) -> Result<HttpResponse, PageError> {
    // A reconnecting EventSource says where it got to.
    let resumed = req.headers().get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let after = match resumed.or(q.after) {
        Some(id) => id,
        None => newest_id(&ctx, session.caller.scope()).await?,
    };
    let now = Instant::now();
    let tz = zone(&ctx, &session.caller).await;
    let state = Stream {
        ctx: ctx.clone(),
        caller: session.caller.clone(),
        tz,
        after,
        started: now,
        last_write: now,
        opened: false,
    };
    let body = futures::stream::unfold(state, |mut s| async move {
        let chunk = s.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(chunk)), s))
    });
    let mut res = HttpResponse::Ok();
    res.content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        // nginx: pass events through at once.
        .insert_header(("X-Accel-Buffering", "no"));
    for c in &session.cookies {
        res.cookie(c.clone());
    }
    Ok(res.streaming(body))
}

/// Mounts the attendance pages.
pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/attendance").route(web::get().to(page)))
        .service(web::resource("/attendance/stream").route(web::get().to(stream)))
        .service(web::resource("/attendance/export.csv").route(web::get().to(export_csv)));
}
