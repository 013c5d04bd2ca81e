//! `/devices/{id}/sync`: which students the device holds. The summary (the API's numbers), the
//! live progress bar, a filtered and paged table (status, class, section, search; 50 a page)
//! with a Retry button on failed rows, the users on the device that are no student, and the
//! device's open sync alerts with Confirm / Dismiss (same semantics as `api::sync_school`).

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::device::{scoped_device, syncable, ProgressLine};
use super::layout::Layout;
use super::login::CsrfForm;
use super::overview::ago;
use super::page::{redirect, render, urlencode, PageError};
use super::session::Session;
use crate::domain::SchoolId;
use crate::http::api::error::ApiError;
use crate::http::State;
use crate::store::admin::{Group, GroupFilter, GroupKind, GroupSort, Page, SchoolScope, Sort};
use crate::store::sync::{SyncAlert, SyncStatusFilter, SyncSummary};
use crate::sync::verifier;

/// Students per page.
pub const PER_PAGE: i64 = 50;
/// Unknown device users listed (the total is always shown).
const UNKNOWN_USERS_SHOWN: i64 = 50;
/// The alert kind whose confirmation queues the held-back deletes.
/// Status filter values and their labels.
const STATUSES: [(&str, &str); 5] = [
    ("synced", "Synced"),
    ("pending", "Pending (queued or delivered)"),
    ("sent", "Delivered, not confirmed"),
    ("failed", "Failed"),
    ("not_synced", "Not synced"),
];

/// The filters as typed (empty = any); kept in the paging links.
#[derive(Debug, Deserialize, Default)]
pub struct SyncQuery {
    status: Option<String>,
    class_id: Option<String>,
    section_id: Option<String>,
    search: Option<String>,
    page: Option<String>,
    flash: Option<String>,
}

fn id_param(name: &str, raw: &Option<String>) -> Result<Option<i64>, PageError> {
    match raw.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => s.parse().map(Some).map_err(|_| PageError::BadRequest(format!("{name} must be a number"))),
    }
}

/// One student row of the table.
pub struct Row {
    pub id: i64,
    pub name: String,
    pub pin: String,
    pub card: String,
    pub group: String,
    pub status: String,
    pub status_text: &'static str,
    pub badge: &'static str,
    pub last_synced: String,
    pub retries: i32,
    pub error: String,
}

/// One `<option>` of a filter select.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// An open sync alert of the device.
pub struct AlertLine {
    pub id: i64,
    pub kind: String,
    pub message: String,
    pub raised: String,
}

/// A user on the device that is no student of the school.
pub struct UnknownLine {
    pub pin: String,
    pub name: String,
    pub card: String,
    pub reported: String,
}

#[derive(Template)]
#[template(path = "sync.html")]
struct SyncPage {
    layout: Layout,
    id: i64,
    label: String,
    syncable: bool,
    summary: SyncSummary,
    progress: ProgressLine,
    statuses: Vec<Choice>,
    classes: Vec<Choice>,
    sections: Vec<Choice>,
    search: String,
    rows: Vec<Row>,
    matched: i64,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    unknown_total: i64,
    unknown: Vec<UnknownLine>,
    alerts: Vec<AlertLine>,
}

/// Every class or section of the school, for the filter selects.
async fn groups(ctx: &State, school: SchoolId, kind: GroupKind) -> Result<Vec<Group>, PageError> {
    let filter = GroupFilter {
        scope: SchoolScope::school(school),
        school_id: Some(school),
        class_id: None,
        name: None,
        sort: Sort { field: GroupSort::Name, dir: Default::default() },
        page: Page { limit: Page::MAX_LIMIT, offset: 0 },
    };
    Ok(ctx.store.list_groups(kind, &filter).await?.items)
}

fn choices(items: impl IntoIterator<Item = (String, String)>, selected: Option<&str>) -> Vec<Choice> {
    items
        .into_iter()
        .map(|(value, label)| Choice { selected: Some(value.as_str()) == selected, value, label })
        .collect()
}

/// `GET /devices/{id}/sync`.
pub async fn page(
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    query: web::Query<SyncQuery>,
) -> Result<HttpResponse, PageError> {
    let q = query.into_inner();
    let device = scoped_device(&ctx, &session, path.into_inner()).await?;
    let status = q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(s) = status.as_deref().filter(|s| !STATUSES.iter().any(|(v, _)| v == s)) {
        return Err(PageError::BadRequest(format!("{s:?} is not a sync status")));
    }
    let class_id = id_param("class", &q.class_id)?;
    let section_id = id_param("section", &q.section_id)?;
    let search = q.search.as_deref().map(str::trim).unwrap_or_default().to_string();
    let page = id_param("page", &q.page)?.unwrap_or(1).max(1);
    let filter = SyncStatusFilter {
        status: status.clone(),
        class_id,
        section_id,
        search: (!search.is_empty()).then(|| search.clone()),
        limit: PER_PAGE,
        offset: (page - 1) * PER_PAGE,
    };
    let result = ctx.store.sync_status(device.id, &filter).await?;
    let progress = ProgressLine::new(&ctx.store.sync_progress(device.id, chrono::Utc::now()).await?);
    let (unknown_total, unknown) = ctx.store.unknown_device_users(device.id, UNKNOWN_USERS_SHOWN).await?;
    let (classes, sections, alerts) = match device.school_id {
        Some(school) => {
            let classes = groups(&ctx, school, GroupKind::Class).await?;
            let sections = groups(&ctx, school, GroupKind::Section).await?;
            let class_name = |id: Option<i64>| classes.iter().find(|c| Some(c.id) == id).map(|c| c.name.clone());
            let sections: Vec<(String, String)> = sections
                .iter()
                .map(|s| {
                    let label = match class_name(s.class_id) {
                        Some(class) => format!("{class} - {}", s.name),
                        None => s.name.clone(),
                    };
                    (s.id.to_string(), label)
                })
                .collect();
            let classes: Vec<(String, String)> = classes.iter().map(|c| (c.id.to_string(), c.name.clone())).collect();
            let alerts = ctx.store.list_alerts(Some(school), true).await?;
            (classes, sections, alerts)
        }
        None => (Vec::new(), Vec::new(), Vec::new()),
    };
    let pages = ((result.matched + PER_PAGE - 1) / PER_PAGE).max(1);
    let link = |to: i64| {
        let mut parts = vec![format!("page={to}")];
        for (key, value) in [
            ("status", status.clone().unwrap_or_default()),
            ("class_id", class_id.map(|c| c.to_string()).unwrap_or_default()),
            ("section_id", section_id.map(|s| s.to_string()).unwrap_or_default()),
            ("search", search.clone()),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", urlencode(&value)));
            }
        }
        format!("/devices/{}/sync?{}", device.id.0, parts.join("&"))
    };
    let (prev, next) = ((page > 1).then(|| link(page - 1)), (page < pages).then(|| link(page + 1)));
    let rows = result.students.into_iter().map(row).collect();
    let statuses = choices(STATUSES.iter().map(|(v, l)| (v.to_string(), l.to_string())), status.as_deref());
    let class_selected = class_id.map(|c| c.to_string());
    let section_selected = section_id.map(|s| s.to_string());
    let view = SyncPage {
        layout: Layout::new(&session, "overview", q.flash),
        id: device.id.0,
        label: device.name.clone().unwrap_or_else(|| device.serial_number.clone()),
        syncable: syncable(&device),
        summary: result.summary,
        progress,
        statuses,
        classes: choices(classes, class_selected.as_deref()),
        sections: choices(sections, section_selected.as_deref()),
        search,
        rows,
        matched: result.matched,
        page,
        pages,
        prev,
        next,
        unknown_total,
        unknown: unknown
            .into_iter()
            .map(|u| UnknownLine {
                pin: u.pin,
                name: u.name.unwrap_or_default(),
                card: u.card.unwrap_or_default(),
                reported: ago(Some(u.reported_at)),
            })
            .collect(),
        alerts: alerts
            .into_iter()
            .filter(|a| a.device_id == device.id.0)
            .map(|a| AlertLine { id: a.id, kind: a.kind, message: a.message, raised: ago(Some(a.created_at)) })
            .collect(),
    };
    render(&session, &view)
}

fn row(s: crate::store::sync::StudentSyncRow) -> Row {
    let (status_text, badge) = match s.sync_status.as_str() {
        "synced" => ("synced", "ok"),
        "pending" => ("pending", "wait"),
        "sent" => ("delivered, not confirmed", "wait"),
        "failed" => ("failed", "bad"),
        _ => ("not synced", "none"),
    };
    let group = match (s.class_name, s.section_name) {
        (Some(c), Some(sec)) => format!("{c} - {sec}"),
        (Some(c), None) => c,
        (None, Some(sec)) => sec,
        (None, None) => String::new(),
    };
    Row {
        id: s.id,
        name: s.full_name,
        pin: s.device_pin,
        card: s.rfid_card_id.unwrap_or_default(),
        group,
        status: s.sync_status,
        status_text,
        badge,
        last_synced: s.last_sync_success.map(|t| ago(Some(t))).unwrap_or_else(|| "never".into()),
        retries: s.sync_retries,
        error: s.error_message.unwrap_or_default(),
    }
}

/// `POST /devices/{id}/students/{student_id}/retry`: sends the student to the device again now.
pub async fn retry(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<(i64, i64)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let (id, student_id) = path.into_inner();
    let device = scoped_device(&ctx, &session, id).await?;
    let missing = || PageError::NotFound("There is no such student.".into());
    let school = device.school_id.ok_or_else(missing)?;
    let student = ctx.store.get_student(SchoolScope::school(school), student_id).await?.ok_or_else(missing)?;
    let queued = crate::sync::retry_student(&ctx, &device, student_id, &session.caller.user.email)
        .await
        .map_err(|e| PageError::from(ApiError::from(e)))?;
    let message = match queued {
        0 => format!("{}: nothing queued (confirmed on the device, or a command is on its way)", student.full_name),
        n => format!("{}: {n} commands queued", student.full_name),
    };
    Ok(redirect(&session, &format!("/devices/{}/sync", device.id.0), &message))
}

/// The alert if it is in the admin's scope (404 otherwise).
async fn scoped_alert(ctx: &State, session: &Session, id: i64) -> Result<SyncAlert, PageError> {
    ctx.store
        .get_alert(id)
        .await?
        .filter(|a| session.caller.scope().allows(a.school_id))
        .ok_or_else(|| PageError::NotFound("There is no such alert.".into()))
}

/// Resolves an open alert (`verifier::resolve_alert`, audited like the API); `None` when it was
/// already resolved.
async fn resolve(
    ctx: &State,
    session: &Session,
    alert: &SyncAlert,
    confirm: bool,
) -> Result<Option<(SyncAlert, usize)>, PageError> {
    if alert.resolved_at.is_some() {
        return Ok(None);
    }
    let caller = &session.caller;
    let resolved = verifier::resolve_alert(ctx, alert, confirm, &caller.user.email)
        .await
        .map_err(|e| PageError::from(ApiError::from(e)))?;
    if resolved.is_some() {
        let action = if confirm { "sync.alert.confirmed" } else { "sync.alert.dismissed" };
        let mut entry = caller.audit(action, "sync_alert", Some(alert.id), alert.school_id);
        entry.detail = serde_json::json!({ "device_id": alert.device_id, "kind": alert.kind, "via": "dashboard" });
        ctx.store.record_audit(&entry).await?;
    }
    Ok(resolved)
}

fn already(session: &Session, alert: &SyncAlert) -> HttpResponse {
    redirect(session, &format!("/devices/{}/sync", alert.device_id), "That alert was already resolved.")
}

/// `POST /sync/alerts/{id}/confirm`: the held-back deletes are queued for the device now.
pub async fn confirm_alert(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let alert = scoped_alert(&ctx, &session, path.into_inner()).await?;
    let Some((alert, deletes)) = resolve(&ctx, &session, &alert, true).await? else {
        return Ok(already(&session, &alert));
    };
    let message = format!("Alert confirmed; {deletes} deletes queued");
    Ok(redirect(&session, &format!("/devices/{}/sync", alert.device_id), &message))
}

/// `POST /sync/alerts/{id}/dismiss`: nothing is deleted.
pub async fn dismiss_alert(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let alert = scoped_alert(&ctx, &session, path.into_inner()).await?;
    let Some((alert, _)) = resolve(&ctx, &session, &alert, false).await? else { return Ok(already(&session, &alert)) };
    Ok(redirect(&session, &format!("/devices/{}/sync", alert.device_id), "Alert dismissed; nothing was deleted"))
}
