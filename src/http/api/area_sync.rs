//! Area sync on demand: `POST /areas/{id}/sync` (the area's pull devices in service and approved push
//! devices) and `POST /devices/sync {"ips": […]}` (registered pull devices named by address). Thin: the work
//! is `sync::area`; another school's area or device is a 404; each run is audit-logged and kept
//! in `job_executions`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::envelope::{accepted, ok, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{ApiJson, PathId};
use super::groups;
use crate::domain::{DeviceId, DeviceMode, SchoolId};
use crate::http::State;
use crate::store::admin::{DeviceFilter, GroupKind, Page, Sort};
use crate::store::pull::PullDevice;
use crate::sync::area::{self, AreaSyncOptions, AreaSyncResult};

fn options(ctx: &State, caller: &Caller) -> AreaSyncOptions {
    AreaSyncOptions {
        started_by: caller.user.email.clone(),
        concurrency: ctx.settings.area_sync_concurrency,
        ..AreaSyncOptions::default()
    }
}

async fn audited(ctx: &State, caller: &Caller, target: Option<i64>, school: SchoolId, r: &AreaSyncResult) {
    let mut entry = caller.audit("area.sync", "area", target, Some(school));
    entry.detail = serde_json::json!({ "job_id": r.job_id, "success": r.success, "devices": r.devices.len() });
    if let Err(e) = ctx.store.record_audit(&entry).await {
        tracing::warn!(error = %e, "area sync: audit entry not recorded");
    }
}

/// Sync the users, fingerprints, faces and photos of an area's devices (pull: written and read back; push: queued as commands).
#[utoipa::path(post, path = "/api/v1/areas/{id}/sync", tag = "areas", params(("id" = i64, Path,
    description = "Area id")), security(("bearer" = [])),
    responses((status = 200, description = "The run's result (`success` false with `error` when it could not \
                converge, e.g. fewer than two reachable devices)", body = Envelope<AreaSyncResult>),
              (status = 202, description = "Handed to the instance running the pull service (this one runs \
                with `--pull-service off`): `{handed_off: true, area_id}`; follow `GET /api/v1/areas/{id}/sync`"),
              (status = 404, description = "No such area in your scope", body = ErrorEnvelope)))]
pub async fn sync_area(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let area = groups::get(&ctx, &caller, GroupKind::Area, id.0).await?;
    run_area(&ctx, &caller, area.school_id, area.id).await
}

/// Runs an area's sync here, or hands it to the instance running the pull service when this one
/// runs without (202: `GET /api/v1/areas/{id}/sync` follows it).
async fn run_area(ctx: &State, caller: &Caller, school: SchoolId, area_id: i64) -> Result<HttpResponse, ApiError> {
    if ctx.config.pull_service == "off" {
        area::requests::hand_off(&ctx.core, school, area_id, &caller.user.email).await?;
        let mut entry = caller.audit("area.sync_requested", "area", Some(area_id), Some(school));
        entry.detail = serde_json::json!({ "handed_off": true });
        ctx.store.record_audit(&entry).await?;
        let message = "area sync handed to the instance running the pull service (this one runs without); \
                       it starts within a minute: follow GET /api/v1/areas/{id}/sync";
        return Ok(accepted(message, serde_json::json!({ "handed_off": true, "area_id": area_id })));
    }
    let result = area::sync_area(&ctx.core, school, area_id, &options(ctx, caller)).await?;
    audited(ctx, caller, Some(area_id), school, &result).await;
    Ok(ok("area sync finished", result))
}

/// A device's "Sync": its area's sync (as `POST /areas/{id}/sync`); a device in no area is a 422
/// (a single-device sync from the biometric store is not done yet: assign it to an area).
#[utoipa::path(post, path = "/api/v1/devices/{id}/area-sync", tag = "devices", params(("id" = i64, Path,
    description = "Device id")), security(("bearer" = [])),
    responses((status = 200, description = "The area's run", body = Envelope<AreaSyncResult>),
              (status = 202, description = "Handed to the instance running the pull service"),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope),
              (status = 422, description = "The device belongs to no area", body = ErrorEnvelope)))]
pub async fn sync_device(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let record = ctx
        .store
        .get_device_record(caller.scope(), id.0)
        .await?
        .ok_or_else(|| ApiError::NotFound("device not found".into()))?;
    match (record.area_id, record.school_id) {
        (Some(area), Some(school)) => run_area(&ctx, &caller, school, area).await,
        _ => Err(ApiError::invalid(
            "area_id",
            "the device belongs to no area: assign it to one to sync it with the area's other devices \
             (a single-device sync from the biometric store is not available yet)",
        )),
    }
}

/// The area's latest sync: its live progress (phase, devices, items, ETA) while it runs, its
/// result once finished; read from the run's job row, so any instance answers it.
#[utoipa::path(get, path = "/api/v1/areas/{id}/sync", tag = "areas", params(("id" = i64, Path,
    description = "Area id")), security(("bearer" = [])),
    responses((status = 200, description = "The latest run (`data` null when the area never ran)",
                body = Envelope<Option<area::AreaRun>>),
              (status = 404, description = "No such area in your scope", body = ErrorEnvelope)))]
pub async fn sync_status(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let area = groups::get(&ctx, &caller, GroupKind::Area, id.0).await?;
    let run = area::latest_run(&ctx.store, area.school_id, area.id).await?;
    Ok(ok("latest area sync", run))
}

/// Registered pull devices to sync with each other, by address.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncByAddress {
    /// `host` or `host:port` of registered pull devices of one school.
    pub ips: Vec<String>,
}

/// Sync registered pull devices named by address with each other.
#[utoipa::path(post, path = "/api/v1/devices/sync", tag = "devices", request_body = SyncByAddress,
    security(("bearer" = [])),
    responses((status = 200, description = "The run's result", body = Envelope<AreaSyncResult>),
              (status = 422, description = "An address of no registered pull device in your scope, devices of \
                several schools, or fewer than two addresses", body = ErrorEnvelope)))]
pub async fn sync_by_address(
    ctx: web::Data<State>,
    caller: Caller,
    body: ApiJson<SyncByAddress>,
) -> Result<HttpResponse, ApiError> {
    let ips: Vec<String> = body.0.ips.iter().map(|ip| ip.trim().to_string()).filter(|ip| !ip.is_empty()).collect();
    if ips.len() < 2 {
        return Err(ApiError::invalid("ips", "name at least two device addresses"));
    }
    let filter = DeviceFilter {
        scope: caller.scope(),
        approval: None,
        school_id: None,
        area_id: None,
        mode: Some(DeviceMode::Pull),
        search: None,
        sort: Sort::default(),
        page: Page::everything(),
    };
    let mut known: Vec<PullDevice> = Vec::new();
    for record in ctx.store.list_device_records(&filter).await?.items {
        if let Some(d) = ctx.store.pull_device(DeviceId(record.id)).await? {
            known.push(d);
        }
    }
    let mut devices: Vec<PullDevice> = Vec::new();
    let mut unknown = Vec::new();
    for ip in &ips {
        let found = known.iter().find(|d| *ip == d.host || *ip == format!("{}:{}", d.host, d.port));
        match found {
            Some(d) if !devices.iter().any(|x| x.id == d.id) => devices.push(d.clone()),
            Some(_) => {}
            None => unknown.push(ip.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::invalid("ips", format!("no registered pull device at {}", unknown.join(", "))));
    }
    let schools: std::collections::BTreeSet<Option<SchoolId>> = devices.iter().map(|d| d.school_id).collect();
    let school = match schools.into_iter().collect::<Vec<_>>().as_slice() {
        [Some(s)] => *s,
        _ => return Err(ApiError::invalid("ips", "the devices must all belong to one school")),
    };
    let result = area::sync_devices(&ctx.core, school, &devices, &options(&ctx, &caller)).await?;
    audited(&ctx, &caller, None, school, &result).await;
    Ok(ok("device sync finished", result))
}
