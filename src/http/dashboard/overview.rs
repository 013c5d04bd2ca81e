//! `/`: the page an admin opens every morning. Devices online/offline with last seen, queue
//! depth, failed commands and sync badges; today's punches; devices waiting for approval (with
//! an approve button for super admins); the last verifier run and its findings.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::layout::Layout;
use super::page::{redirect, render, PageError};
use super::session::Session;
use crate::domain::SchoolId;
use crate::domain::{Approval, CommandFilter, CommandState, DeviceId, DeviceMode};
use crate::http::State;
use crate::store::admin::{DeviceFilter, JobFilter, Page, PullStatus, PunchQuery, SchoolFilter, SchoolScope};
use crate::store::sync::SyncSummary;
use crate::store::DeviceUpdate;

/// A device is shown online when it polled within this many seconds.
pub const ONLINE_SECS: i64 = 300;

pub struct DeviceLine {
    pub id: i64,
    pub label: String,
    pub serial: String,
    pub online: bool,
    pub last_seen: String,
    pub queued: usize,
    pub failed: usize,
    pub sync: SyncSummary,
    /// Pull devices: the last collection and the realtime session in a few words.
    pub pull_note: Option<String>,
}

pub struct PendingLine {
    pub id: i64,
    pub serial: String,
    pub first_seen: String,
    pub ip: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    layout: Layout,
    devices: Vec<DeviceLine>,
    online: usize,
    pending: Vec<PendingLine>,
    schools: Vec<(SchoolId, String)>,
    punches_today: i64,
    /// Whether any device in scope is a pull device ("Refresh all logs" is offered).
    has_pull: bool,
    last_run: Option<String>,
    last_run_findings: Vec<String>,
}

/// Devices in scope with this approval state.
pub fn devices_filter(scope: SchoolScope, approval: Approval, limit: i64) -> DeviceFilter {
    DeviceFilter {
        scope,
        approval: Some(approval),
        school_id: None,
        area_id: None,
        mode: None,
        search: None,
        sort: Default::default(),
        page: Page { limit, offset: 0 },
    }
}

/// "3 min ago" style, for people.
pub fn ago(at: Option<DateTime<Utc>>) -> String {
    let Some(at) = at else { return "never".into() };
    let secs = (Utc::now() - at).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs} s ago"),
        60..=3599 => format!("{} min ago", secs / 60),
        3600..=86_399 => format!("{} h ago", secs / 3600),
        _ => at.format("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

pub async fn page(
    ctx: web::Data<State>,
    session: Session,
    flash: web::Query<super::layout::FlashQuery>,
) -> Result<HttpResponse, PageError> {
    let scope = session.caller.scope();
    let filter = devices_filter(scope, Approval::Approved, 500);
    let records = ctx.store.list_device_records(&filter).await?.items;
    let mut devices = Vec::with_capacity(records.len());
    for d in records {
        let id = DeviceId(d.id);
        let open = |state| CommandFilter { state: Some(state), limit: Some(1000), ..Default::default() };
        let queued = ctx.queue.list(id, &open(CommandState::Queued)).await?.len()
            + ctx.queue.list(id, &open(CommandState::Sent)).await?.len();
        let failed = ctx.queue.list(id, &open(CommandState::Failed)).await?.len();
        let sync = ctx.store.sync_status(id, &Default::default()).await?.summary;
        let online = match d.mode {
            DeviceMode::Pull => d.pull.online(Utc::now()),
            DeviceMode::Push => d.last_seen_at.is_some_and(|t| (Utc::now() - t).num_seconds() < ONLINE_SECS),
        };
        let pull_note = (d.mode == DeviceMode::Pull).then(|| pull_note(&d.pull));
        devices.push(DeviceLine {
            id: d.id,
            label: d.name.clone().unwrap_or_else(|| d.serial_number.clone()),
            serial: d.serial_number,
            online,
            last_seen: ago(d.last_seen_at),
            queued,
            failed,
            sync,
            pull_note,
        });
    }
    let pending = if session.caller.is_super() {
        let f = devices_filter(scope, Approval::Pending, 100);
        ctx.store
            .list_device_records(&f)
            .await?
            .items
            .into_iter()
            .map(|d| PendingLine {
                id: d.id,
                serial: d.serial_number,
                first_seen: ago(Some(d.first_seen_at)),
                ip: d.last_ip.unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let schools = if session.caller.is_super() {
        let f = SchoolFilter { name: None, sort: Default::default(), page: Page { limit: 500, offset: 0 } };
        ctx.store.list_schools(scope, &f).await?.items.into_iter().map(|s| (s.id, s.name)).collect()
    } else {
        Vec::new()
    };
    let mut punches = PunchQuery::new(scope);
    punches.from_date = Some(Utc::now().format("%Y-%m-%d").to_string());
    punches.page = Page { limit: 1, offset: 0 };
    let punches_today = ctx.store.list_punch_records(&punches).await?.total;
    // Newest first.
    let jobs = JobFilter { scope, job: Some("verifier".into()), status: None, page: Page { limit: 1, offset: 0 } };
    let last = ctx.store.list_jobs(&jobs).await?.items.into_iter().next();
    let (last_run, last_run_findings) = match last {
        None => (None, Vec::new()),
        Some(job) => (Some(format!("{} ({})", ago(Some(job.started_at)), job.status.as_str())), findings(&job.summary)),
    };
    let online = devices.iter().filter(|d| d.online).count();
    let has_pull = devices.iter().any(|d| d.pull_note.is_some());
    let layout = Layout::new(&session, "overview", flash.into_inner().flash);
    render(
        &session,
        &OverviewPage {
            layout,
            devices,
            online,
            pending,
            schools,
            punches_today,
            has_pull,
            last_run,
            last_run_findings,
        },
    )
}

/// "pull · collected 3 min ago (failed: …) · realtime connected".
fn pull_note(p: &PullStatus) -> String {
    let poll = match (p.last_poll_at, p.last_poll_ok) {
        (None, _) => "not collected yet".to_string(),
        (Some(at), Some(false)) => {
            format!("collection failed {}: {}", ago(Some(at)), p.last_poll_error.clone().unwrap_or_default())
        }
        (Some(at), _) => format!("collected {}", ago(Some(at))),
    };
    let realtime = if !p.enabled {
        "not in service"
    } else if !p.realtime_enabled {
        "realtime off"
    } else if p.realtime_disabled_at.is_some() {
        "realtime switched off after failures"
    } else {
        match p.realtime_state.as_deref() {
            Some("connected") => "realtime connected",
            Some("retrying") => "realtime reconnecting",
            _ => "realtime not connected yet",
        }
    };
    format!("pull · {poll} · {realtime}")
}

/// One line per device of a verifier run's summary.
fn findings(summary: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for school in summary["schools"].as_array().into_iter().flatten() {
        if let Some(until) = school["deferred_until"].as_str() {
            out.push(format!("School {}: deferred (quiet hours) until {until}", school["school_id"]));
        }
        for d in school["devices"].as_array().into_iter().flatten() {
            out.push(format!(
                "{}: {} missing, {} extra, {} retried, {} not on device, {} unknown users{}",
                d["serial_number"].as_str().unwrap_or("?"),
                d["missing"],
                d["extra"],
                d["retried"],
                d["not_on_device"],
                d["unknown_users"],
                if d["deletes_capped"].as_u64().unwrap_or(0) > 0 { " — deletes held back, see alerts" } else { "" }
            ));
        }
    }
    out
}

#[derive(Debug, Deserialize)]
pub struct ApproveForm {
    csrf: String,
    school_id: Option<SchoolId>,
}

/// Approves a pending device into a school (super admins; school admins never see pending ones).
pub async fn approve(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<ApproveForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let id = path.into_inner();
    let caller = &session.caller;
    let device = ctx
        .store
        .get_device_record(caller.scope(), id)
        .await?
        .ok_or_else(|| PageError::NotFound("no such device".into()))?;
    let school = match (caller.is_super(), form.school_id.or(device.school_id)) {
        (true, Some(s)) => s,
        (true, None) => return Err(PageError::BadRequest("choose the school the device belongs to".into())),
        (false, s) => caller.target_school(s)?,
    };
    let update =
        DeviceUpdate { approval: Some(Approval::Approved), school_id: Some(Some(school)), ..Default::default() };
    let mut audit = caller.audit("device.approve", "device", Some(id), Some(school));
    audit.detail = serde_json::json!({ "serial_number": device.serial_number, "via": "dashboard" });
    let changed = ctx
        .store
        .change_device(caller.scope(), id, &update, Some(&audit))
        .await
        .map_err(|e| PageError::BadRequest(e.to_string()))?;
    Ok(redirect(&session, "/", &format!("Device {} approved", changed.serial_number)))
}
