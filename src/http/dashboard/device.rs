//! `/devices/{id}`: one device as an admin looks at it when something is wrong. Identity, the
//! counters the device last reported next to what ironclock expects, the sync progress (a live
//! bar), recent commands with their Return-code meanings, recent failures, and the safe actions
//! (sync all students, verify now, INFO / CHECK / LOG, reboot with an explicit confirmation).
//! The actions are in `device_actions`, the student sync table in `sync_page`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use chrono::{DateTime, Utc};

use super::layout::{FlashQuery, Layout};
use super::overview::{ago, ONLINE_SECS};
use super::page::{render, PageError};
use super::session::Session;
use super::{device_actions, sync_page};
use crate::domain::{CommandFilter, CommandState, Device, DeviceId, QueuedCommand};
use crate::http::State;
use crate::store::sync::{SyncProgress, SyncSummary};

/// Commands listed on the device page.
const RECENT_COMMANDS: i64 = 30;
/// Failed commands listed under "Recent errors".
const RECENT_FAILURES: i64 = 10;

/// Mounts the device page, its actions and its sync-status page.
pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/devices/{id}").route(web::get().to(page)))
        .service(web::resource("/devices/{id}/progress").route(web::get().to(device_actions::progress)))
        .service(web::resource("/devices/{id}/sync-all").route(web::post().to(device_actions::sync_all)))
        .service(web::resource("/devices/{id}/verify").route(web::post().to(device_actions::verify)))
        .service(web::resource("/devices/{id}/command").route(web::post().to(device_actions::command)))
        .service(
            web::resource("/devices/{id}/capabilities/reset").route(web::post().to(device_actions::reset_capabilities)),
        )
        .service(web::resource("/devices/{id}/path-token").route(web::post().to(super::device_secret::create)))
        .service(web::resource("/devices/{id}/sync").route(web::get().to(sync_page::page)))
        .service(web::resource("/devices/{id}/students/{student_id}/retry").route(web::post().to(sync_page::retry)))
        .service(web::resource("/sync/alerts/{id}/confirm").route(web::post().to(sync_page::confirm_alert)))
        .service(web::resource("/sync/alerts/{id}/dismiss").route(web::post().to(sync_page::dismiss_alert)));
}

/// The device, if it is in the admin's scope; another school's device is a 404 like a missing one.
pub(super) async fn scoped_device(ctx: &State, session: &Session, id: i64) -> Result<Device, PageError> {
    let missing = || PageError::NotFound("There is no such device.".into());
    ctx.store.get_device_record(session.caller.scope(), id).await?.ok_or_else(missing)?;
    ctx.store.get_device(DeviceId(id)).await?.ok_or_else(missing)
}

/// Whether the device holds students (approved device of a school): the sync actions need it.
pub(super) fn syncable(device: &Device) -> bool {
    crate::sync::student_school(device).is_some()
}

/// The progress bar's numbers as the page shows them before (and without) JavaScript.
pub struct ProgressLine {
    pub percent: f64,
    pub text: String,
}

impl ProgressLine {
    /// The same wording `static/app.js` writes when it refreshes the bar.
    pub fn new(p: &SyncProgress) -> Self {
        let mut text =
            format!("{}% — {} confirmed, {} delivered, {} queued", p.percent, p.confirmed, p.delivered, p.queued);
        if let Some(at) = p.estimated_finish {
            text.push_str(&format!(" — done by about {} UTC", at.format("%H:%M:%S")));
        }
        ProgressLine { percent: p.percent, text }
    }
}

/// One command row.
pub struct CommandLine {
    pub id: i64,
    pub kind: String,
    pub state: &'static str,
    /// Badge class of the state (`ok`, `wait`, `bad`, `none`).
    pub badge: &'static str,
    pub pin: String,
    pub attempts: i32,
    pub created: String,
    pub return_code: String,
    pub return_message: String,
    pub error: String,
}

impl CommandLine {
    fn new(c: QueuedCommand) -> Self {
        let badge = match c.state {
            CommandState::Acked => "ok",
            CommandState::Queued | CommandState::Sent => "wait",
            CommandState::Failed => "bad",
            CommandState::Cancelled => "none",
        };
        CommandLine {
            id: c.id,
            kind: c.kind,
            state: c.state.as_str(),
            badge,
            pin: c.pin.unwrap_or_default(),
            attempts: c.attempts,
            created: ago(Some(c.created_at)),
            return_code: c.return_code.map(|r| r.to_string()).unwrap_or_default(),
            return_message: c.return_message.unwrap_or_default(),
            error: c.error.unwrap_or_default(),
        }
    }
}

/// A counter the device reports, next to what ironclock holds for it.
pub struct Counter {
    pub key: &'static str,
    pub label: &'static str,
    pub device: String,
    pub expected: String,
}

/// Quiet hours of the device's school, and when a full sync queued now would be delivered.
pub struct Quiet {
    pub hours: String,
    pub timezone: String,
    /// Set while the school is in a quiet window.
    pub until: Option<String>,
}

/// The device page.
#[derive(Template)]
#[template(path = "device.html")]
pub(super) struct DevicePage {
    pub layout: Layout,
    pub id: i64,
    pub label: String,
    pub serial: String,
    pub name: String,
    pub model: String,
    pub firmware: String,
    pub push_version: String,
    pub dialect: &'static str,
    /// Commands keep failing with -629/-1004 (see `queue::wrong_dialect`).
    pub dialect_warning: Option<String>,
    pub mode: &'static str,
    pub approval: &'static str,
    pub school: String,
    pub online: bool,
    pub last_seen: String,
    pub ip: String,
    pub syncable: bool,
    pub counters: Vec<Counter>,
    /// When the counters were reported (the INFO answer they come from).
    pub counters_at: Option<String>,
    pub summary: SyncSummary,
    pub progress: ProgressLine,
    pub quiet: Option<Quiet>,
    pub commands: Vec<CommandLine>,
    pub failures: Vec<CommandLine>,
    /// The device's own error log (ERRORLOG uploads), newest first.
    pub device_errors: Vec<DeviceErrorLine>,
    /// What the device refused (verbs, option keys, template versions) with its Return code;
    /// the reset button forgets it (and what it accepted).
    pub refused: Vec<(String, String)>,
    /// Whether anything was learned at all (the reset button is shown then).
    pub learned_any: bool,
    /// A refused command form (the reboot confirmation), shown next to the form.
    pub command_error: Option<String>,
    /// Pull devices: address, switches, polls and the realtime session.
    pub pull: Option<PullView>,
    /// The pinned address (`10.0.0.5` or `10.0.0.0/24`; empty: not pinned), the school's
    /// pinning policy, and whether the device has a secret path.
    pub pinned: String,
    pub pinning: String,
    pub has_path_token: bool,
}

/// A pull device's connection as its page shows it.
pub struct PullView {
    pub address: String,
    pub in_service: bool,
    pub last_contact: String,
    pub last_poll: String,
    /// `ok`, `failed` or empty (never polled).
    pub last_poll_result: &'static str,
    pub last_poll_error: String,
    pub realtime_on: bool,
    /// One line: connected, retrying (and why), switched off (and why), or off.
    pub realtime: String,
    /// Badge class of the realtime line.
    pub realtime_badge: &'static str,
    pub clear_log: bool,
    pub fp_version: String,
    pub face_version: String,
    pub counters: Vec<(&'static str, String)>,
}

impl PullView {
    fn new(d: &crate::store::admin::DeviceRecord) -> Self {
        let p = &d.pull;
        let count = |n: Option<i32>| n.map(|n| n.to_string()).unwrap_or_else(|| "not read yet".into());
        let (realtime, realtime_badge) = if !p.realtime_enabled {
            ("off (switched off by an admin)".to_string(), "none")
        } else if let Some(at) = p.realtime_disabled_at {
            let why = p.realtime_disabled_reason.clone().unwrap_or_default();
            (format!("switched off {} after failing too long: {why}", ago(Some(at))), "bad")
        } else {
            match p.realtime_state.as_deref() {
                Some("connected") => ("connected: punches arrive as they happen".to_string(), "ok"),
                Some("retrying") => (
                    format!(
                        "reconnecting ({} failures in a row): {}",
                        p.realtime_failures,
                        p.realtime_error.clone().unwrap_or_default()
                    ),
                    "wait",
                ),
                _ => ("not connected yet".to_string(), "none"),
            }
        };
        PullView {
            address: format!(
                "{}:{} ({})",
                d.host.clone().unwrap_or_default(),
                d.port.unwrap_or_default(),
                d.transport.clone().unwrap_or_else(|| "auto".into())
            ),
            in_service: p.enabled,
            last_contact: ago(p.last_contact_at),
            last_poll: ago(p.last_poll_at),
            last_poll_result: match p.last_poll_ok {
                Some(true) => "ok",
                Some(false) => "failed",
                None => "",
            },
            last_poll_error: p.last_poll_error.clone().unwrap_or_default(),
            realtime_on: p.realtime_enabled,
            realtime,
            realtime_badge,
            clear_log: p.clear_log_after_collect,
            fp_version: p.fp_version.clone().unwrap_or_default(),
            face_version: p.face_version.clone().unwrap_or_default(),
            counters: vec![
                ("Users", count(p.user_count)),
                ("Fingerprints", count(p.fingerprint_count)),
                ("Faces", count(p.face_count)),
                ("Attendance records", count(p.record_count)),
            ],
        }
    }
}

/// `GET /devices/{id}`.
pub async fn page(
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    flash: web::Query<FlashQuery>,
) -> Result<HttpResponse, PageError> {
    let device = scoped_device(&ctx, &session, path.into_inner()).await?;
    let page = load(&ctx, &session, &device, flash.into_inner().flash, None).await?;
    render(&session, &page)
}

/// The page with an error next to the command form (status 422), keeping everything else.
pub(super) async fn with_command_error(
    ctx: &State,
    session: &Session,
    device: &Device,
    error: String,
) -> Result<HttpResponse, PageError> {
    let page = load(ctx, session, device, None, Some(error)).await?;
    let mut res = render(session, &page)?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

async fn load(
    ctx: &State,
    session: &Session,
    device: &Device,
    flash: Option<String>,
    command_error: Option<String>,
) -> Result<DevicePage, PageError> {
    let now = Utc::now();
    let scope = session.caller.scope();
    let school = match device.school_id {
        Some(id) => ctx.store.get_school_record(scope, id).await?,
        None => None,
    };
    let quiet = match &school {
        Some(s) if !s.quiet_hours.trim().is_empty() => Some(Quiet {
            hours: s.quiet_hours.clone(),
            timezone: s.timezone.clone(),
            until: crate::sync::quiet_until(ctx, s.id, now)
                .await?
                .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string()),
        }),
        _ => None,
    };
    let summary = ctx.store.sync_status(device.id, &Default::default()).await?.summary;
    let progress = ProgressLine::new(&ctx.store.sync_progress(device.id, now).await?);
    let own = device.school_id;
    let recent = CommandFilter { limit: Some(RECENT_COMMANDS), school_id: own, ..Default::default() };
    let commands = ctx.queue.list(device.id, &recent).await?.into_iter().map(CommandLine::new).collect();
    let failed = CommandFilter {
        state: Some(CommandState::Failed),
        limit: Some(RECENT_FAILURES),
        school_id: own,
        ..Default::default()
    };
    let failures = ctx.queue.list(device.id, &failed).await?.into_iter().map(CommandLine::new).collect();
    let (counters, counters_at) = counters(ctx, device, &summary).await?;
    let pull_record = match device.mode {
        crate::domain::DeviceMode::Pull => ctx.store.get_device_record(scope, device.id.0).await?,
        crate::domain::DeviceMode::Push => None,
    };
    let pull = pull_record.as_ref().map(PullView::new);
    // The device's own error log, and the server's address alerts (calls from outside its pinned
    // address, code `ADDRESS`), newest first.
    let mut events = ctx.store.recent_device_events(device.id, "errorlog", RECENT_FAILURES).await?;
    events.extend(ctx.store.recent_device_events(device.id, "pinning", RECENT_FAILURES).await?);
    events.extend(ctx.store.recent_device_events(device.id, "upload", RECENT_FAILURES).await?);
    events.sort_by_key(|e| std::cmp::Reverse(e.received_at));
    let device_errors = events.into_iter().map(DeviceErrorLine::new).collect();
    let learned = ctx.store.capabilities(device.id).await?;
    let refused = learned
        .iter()
        .filter(|c| !c.supported)
        .map(|c| (c.capability.clone(), c.return_code.map(|r| r.to_string()).unwrap_or_default()))
        .collect();
    Ok(DevicePage {
        layout: Layout::new(session, "overview", flash),
        id: device.id.0,
        label: device.name.clone().unwrap_or_else(|| device.serial_number.clone()),
        serial: device.serial_number.clone(),
        name: device.name.clone().unwrap_or_default(),
        model: device.platform.clone().unwrap_or_default(),
        firmware: device.firmware.clone().unwrap_or_default(),
        push_version: device.push_version.clone().or_else(|| device.pushver.clone()).unwrap_or_default(),
        dialect: device.dialect.as_str(),
        dialect_warning: crate::queue::wrong_dialect::wrong_dialect_warning(&ctx.queue, device).await?,
        mode: device.mode.as_str(),
        approval: device.approval.as_str(),
        pinning: school.as_ref().map(|s| s.device_pinning.clone()).unwrap_or_else(|| "off".into()),
        school: school.map(|s| s.name).unwrap_or_default(),
        pinned: match (&device.pinned_ip, device.pin_prefix) {
            (Some(ip), Some(prefix)) => format!("{ip}/{prefix}"),
            (Some(ip), None) => ip.clone(),
            (None, _) => String::new(),
        },
        has_path_token: device.path_token_hash.is_some(),
        online: match &pull_record {
            Some(d) => d.pull.online(now),
            None => device.last_seen_at.is_some_and(|t| (now - t).num_seconds() < ONLINE_SECS),
        },
        last_seen: ago(device.last_seen_at),
        ip: device.last_ip.clone().unwrap_or_default(),
        syncable: syncable(device),
        counters,
        counters_at,
        summary,
        progress,
        quiet,
        commands,
        failures,
        device_errors,
        refused,
        learned_any: !learned.is_empty(),
        command_error,
        pull,
    })
}

/// One ERRORLOG line as the page shows it.
pub struct DeviceErrorLine {
    pub code: String,
    pub when: String,
    pub message: String,
}

impl DeviceErrorLine {
    fn new(e: crate::store::StoredDeviceEvent) -> Self {
        let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
        let text = |k: &str| detail[k].as_str().unwrap_or_default().to_string();
        let mut message = text("message");
        if !text("cmd_id").is_empty() {
            message = format!("{message} (command {})", text("cmd_id"));
        }
        DeviceErrorLine { code: e.code, when: e.time_raw.unwrap_or_else(|| ago(Some(e.received_at))), message }
    }
}

/// The counters of the device's last INFO answer (the same fields the ack merged into the
/// device's options). `UserCount` falls back to the options when no INFO answer is on record
/// (a `table=options` upload also carries it).
async fn counters(
    ctx: &State,
    device: &Device,
    summary: &SyncSummary,
) -> Result<(Vec<Counter>, Option<String>), PageError> {
    let info = CommandFilter {
        kind: Some("info".into()),
        state: Some(CommandState::Acked),
        limit: Some(1),
        school_id: device.school_id,
        ..Default::default()
    };
    let last = ctx.queue.list(device.id, &info).await?.into_iter().next();
    let fields: serde_json::Map<String, serde_json::Value> =
        last.as_ref().and_then(|c| c.result.as_deref()).and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    let field = |key: &str| fields.get(key).and_then(|v| v.as_str()).map(|s| s.trim().to_string());
    let mut users = field("UserCount");
    if users.is_none() {
        if let Some(school) = device.school_id {
            users = ctx
                .store
                .online_devices(school, DateTime::<Utc>::UNIX_EPOCH)
                .await?
                .into_iter()
                .find(|d| d.id == device.id.0)
                .and_then(|d| d.user_count)
                .map(|n| n.to_string());
        }
    }
    let punches = ctx.store.count_punches(Some(device.id)).await?;
    let unknown = "not reported".to_string();
    let counters = vec![
        Counter {
            key: "UserCount",
            label: "Users",
            device: users.unwrap_or_else(|| unknown.clone()),
            expected: format!("{} confirmed of {} students", summary.synced, summary.total),
        },
        Counter {
            key: "FPCount",
            label: "Fingerprints",
            device: field("FPCount").unwrap_or_else(|| unknown.clone()),
            expected: "not tracked".into(),
        },
        Counter {
            key: "FaceCount",
            label: "Faces",
            device: field("FaceCount").unwrap_or_else(|| unknown.clone()),
            expected: "not tracked".into(),
        },
        Counter {
            key: "TransactionCount",
            label: "Attendance records",
            device: field("TransactionCount").unwrap_or_else(|| unknown.clone()),
            expected: format!("{punches} punches received"),
        },
    ];
    let at = last.map(|c| ago(c.acked_at.or(c.finished_at)));
    Ok((counters, at))
}
