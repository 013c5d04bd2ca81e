//! The areas page: per area, its pull devices with their user/fingerprint/face counts (as the
//! last run read them back), the last run with its skips and errors, and its live progress while
//! it runs (the page refreshes itself meanwhile); buttons "Sync this area", "Sync All Devices"
//! and each device's "Sync"; below, the devices in no area, each with a "Sync" that runs its
//! single-device sync from the biometric store (`sync::area::single`). A sync asked for here runs in the background on this instance when
//! it runs the pull service, else it is handed to the instance that does (`sync::area::requests`);
//! a hand-off not claimed yet shows as pending, or expired when no instance runs the pull
//! service. Another school's area or device is a 404.

use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::layout::{FlashQuery, Layout};
use super::login::CsrfForm;
use super::page::{redirect, render, PageError};
use super::session::Session;
use crate::domain::{DeviceId, SchoolId};
use crate::http::State;
use crate::store::admin::{GroupFilter, GroupKind, Page};
use crate::sync::area::requests::{RequestState, RequestStatus, Target};
use crate::sync::area::{self, AreaProgress, AreaRun, AreaSyncOptions};

pub fn mount(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/areas").route(web::get().to(page)))
        .service(web::resource("/areas/sync-all").route(web::post().to(sync_all)))
        .service(web::resource("/areas/{id}/sync").route(web::post().to(sync_one)))
        .service(web::resource("/devices/{id}/area-sync").route(web::post().to(sync_device)));
}

/// One device of an area as the page shows it.
pub struct DeviceRow {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub in_service: bool,
    /// (users, fingerprints, faces) as the last run read them back; `None` before any run.
    pub counts: Option<(i64, i64, i64)>,
}

/// One area on the page.
pub struct AreaBlock {
    pub id: i64,
    pub name: String,
    pub devices: Vec<DeviceRow>,
    pub run: Option<AreaRun>,
    /// A hand-off not claimed yet (pending or expired).
    pub request: Option<RequestStatus>,
}

/// A device in no area: its Sync is a single-device sync from the biometric store.
pub struct LoneDevice {
    pub id: i64,
    pub name: String,
    /// `pull` or `push`.
    pub mode: &'static str,
    pub run: Option<AreaRun>,
    pub request: Option<RequestStatus>,
}

impl AreaBlock {
    fn running(&self) -> Option<&AreaProgress> {
        self.run.as_ref().filter(|r| r.status == "running").and_then(|r| r.progress.as_ref())
    }
}

#[derive(Template)]
#[template(path = "areas.html")]
struct AreasPage {
    layout: Layout,
    areas: Vec<AreaBlock>,
    lone: Vec<LoneDevice>,
    /// Whether any area is syncing (the page refreshes itself).
    any_running: bool,
}

impl AreasPage {
    /// What the page says of a phase.
    fn phase(&self, p: &AreaProgress) -> String {
        serde_json::to_value(p.phase).ok().and_then(|v| v.as_str().map(|s| s.replace('_', " "))).unwrap_or_default()
    }
}

async fn blocks(ctx: &State, session: &Session) -> Result<Vec<AreaBlock>, PageError> {
    let filter = GroupFilter {
        scope: session.caller.scope(),
        school_id: None,
        class_id: None,
        name: None,
        sort: Default::default(),
        page: Page { limit: 500, offset: 0 },
    };
    let groups = ctx.store.list_groups(GroupKind::Area, &filter).await?.items;
    let devices = ctx.store.pull_devices().await?;
    let mut out = Vec::new();
    for g in groups {
        let run = area::latest_run(&ctx.store, g.school_id, g.id).await?;
        let lines = run.as_ref().and_then(|r| r.result.as_ref()).map(|r| r.devices.clone()).unwrap_or_default();
        let rows = devices
            .iter()
            .filter(|d| d.area_id == Some(g.id) && d.school_id == Some(g.school_id))
            .map(|d| DeviceRow {
                id: d.id.0,
                name: d.name.clone().unwrap_or_else(|| d.serial_number.clone()),
                address: format!("{}:{}", d.host, d.port),
                in_service: d.in_service(),
                counts: lines
                    .iter()
                    .find(|l| l.device_id == d.id.0)
                    .map(|l| (l.users_after, l.fingerprints_after, l.faces_after)),
            })
            .collect();
        let request = area::requests::status(&ctx.core, Target::Area(g.id)).await?;
        out.push(AreaBlock { id: g.id, name: g.name, devices: rows, run, request });
    }
    Ok(out)
}

/// A device that may be in no area: id, school, area, name, mode.
type Candidate = (DeviceId, Option<SchoolId>, Option<i64>, String, &'static str);

/// The devices in scope in a school but in no area, in service (pull: enabled and approved; push:
/// approved), with their last single-device sync.
async fn lone_devices(ctx: &State, session: &Session) -> Result<Vec<LoneDevice>, PageError> {
    let scope = session.caller.scope();
    let mut out = Vec::new();
    let pull: Vec<_> = ctx.store.pull_devices().await?.into_iter().filter(|d| d.in_service()).collect();
    let push = ctx
        .store
        .list_devices()
        .await?
        .into_iter()
        .filter(|d| d.mode == crate::domain::DeviceMode::Push && d.approval == crate::domain::Approval::Approved);
    let mut devices: Vec<Candidate> =
        pull.into_iter().map(|d| (d.id, d.school_id, d.area_id, d.name.unwrap_or(d.serial_number), "pull")).collect();
    devices.extend(push.map(|d| (d.id, d.school_id, d.area_id, d.name.unwrap_or(d.serial_number), "push")));
    devices.sort_by_key(|d| d.0);
    for (id, school, area_id, name, mode) in devices {
        let (Some(school), None) = (school, area_id) else { continue };
        if !scope.allows(Some(school)) {
            continue;
        }
        let run = area::latest_device_run(&ctx.store, school, id.0).await?;
        let request = area::requests::status(&ctx.core, Target::Device(id)).await?;
        out.push(LoneDevice { id: id.0, name, mode, run, request });
    }
    Ok(out)
}

/// `GET /areas`.
pub async fn page(
    ctx: web::Data<State>,
    session: Session,
    q: web::Query<FlashQuery>,
) -> Result<HttpResponse, PageError> {
    let areas = blocks(&ctx, &session).await?;
    let lone = lone_devices(&ctx, &session).await?;
    let any_running = areas.iter().any(|a| a.running().is_some())
        || lone.iter().any(|d| d.run.as_ref().is_some_and(|r| r.status == "running"));
    let layout = Layout::new(&session, "areas", q.into_inner().flash);
    render(&session, &AreasPage { layout, areas, lone, any_running })
}

/// Starts an area's sync (or a device's single-device sync) in the background here, or hands it
/// off; the flash message says which.
async fn start(
    ctx: &State,
    session: &Session,
    school: SchoolId,
    target: Target,
    name: &str,
) -> Result<String, PageError> {
    let by = session.caller.user.email.clone();
    let (kind, id) = match target {
        Target::Area(a) => ("area", a),
        Target::Device(d) => ("device", d.0),
    };
    let mut audit = session.caller.audit("area.sync_requested", kind, Some(id), Some(school));
    if ctx.config.pull_service == "off" {
        area::requests::hand_off(&ctx.core, school, target, &by).await?;
        audit.detail = serde_json::json!({ "handed_off": true, "via": "dashboard" });
        ctx.store.record_audit(&audit).await?;
        return Ok(format!(
            "{name}: handed to the server running the pull service (this one runs without); it starts within \
             seconds, or shows as expired if no server runs the pull service."
        ));
    }
    audit.detail = serde_json::json!({ "handed_off": false, "via": "dashboard" });
    ctx.store.record_audit(&audit).await?;
    let core = ctx.core.clone();
    let opts = AreaSyncOptions {
        started_by: by,
        concurrency: ctx.core.settings.area_sync_concurrency,
        ..AreaSyncOptions::default()
    };
    tokio::spawn(async move {
        let run = match target {
            Target::Area(a) => area::sync_area(&core, school, a, &opts).await,
            Target::Device(d) => area::sync_device(&core, school, d, &opts).await,
        };
        if let Err(error) = run {
            tracing::error!(?target, %error, "area sync from the dashboard could not run");
        }
    });
    Ok(format!("{name}: sync started; its progress is below."))
}

/// `POST /areas/{id}/sync`: "Sync this area".
pub async fn sync_one(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let g = ctx
        .store
        .get_group(GroupKind::Area, session.caller.scope(), path.into_inner())
        .await?
        .ok_or_else(|| PageError::NotFound("There is no such area.".into()))?;
    let message = start(&ctx, &session, g.school_id, Target::Area(g.id), &g.name).await?;
    Ok(redirect(&session, "/areas", &message))
}

/// `POST /areas/sync-all`: "Sync All Devices": every area in scope with two or more devices.
pub async fn sync_all(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let mut started = Vec::new();
    for b in
        blocks(&ctx, &session).await?.into_iter().filter(|b| b.devices.iter().filter(|d| d.in_service).count() >= 2)
    {
        let g = ctx.store.get_group(GroupKind::Area, session.caller.scope(), b.id).await?;
        if let Some(g) = g {
            start(&ctx, &session, g.school_id, Target::Area(g.id), &g.name).await?;
            started.push(g.name);
        }
    }
    let message = if started.is_empty() {
        "No area has two or more pull devices in service to sync.".to_string()
    } else {
        format!("Sync started for {} area(s): {}.", started.len(), started.join(", "))
    };
    Ok(redirect(&session, "/areas", &message))
}

/// `POST /devices/{id}/area-sync`: a device's "Sync" runs its area's sync, or for a device in no
/// area its single-device sync from the biometric store.
pub async fn sync_device(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let record = ctx
        .store
        .get_device_record(session.caller.scope(), path.into_inner())
        .await?
        .ok_or_else(|| PageError::NotFound("There is no such device.".into()))?;
    let Some(school) = record.school_id else {
        return Err(PageError::BadRequest("This device belongs to no school: assign it to one first.".into()));
    };
    let Some(area_id) = record.area_id else {
        let name = record.name.clone().unwrap_or_else(|| record.serial_number.clone());
        let message = start(&ctx, &session, school, Target::Device(DeviceId(record.id)), &name).await?;
        return Ok(redirect(&session, "/areas", &message));
    };
    let name = match ctx.store.get_group(GroupKind::Area, session.caller.scope(), area_id).await? {
        Some(g) => g.name,
        None => format!("area {area_id}"),
    };
    let message = start(&ctx, &session, school, Target::Area(area_id), &name).await?;
    Ok(redirect(&session, "/areas", &message))
}
