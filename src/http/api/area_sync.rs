//! Area sync on demand: `POST /areas/{id}/sync` (the area's pull devices in service and approved push
//! devices), `POST /devices/{id}/area-sync` (its area's sync, or a single-device sync from the
//! biometric store for a device in no area) and `POST /devices/sync {"ips": […]}` (registered pull
//! devices named by address). Thin: the work
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
use crate::sync::area::requests::{RequestStatus, Target};
use crate::sync::area::{self, AreaRun, AreaSyncOptions, AreaSyncResult};

fn options(ctx: &State, caller: &Caller) -> AreaSyncOptions {
    AreaSyncOptions {
        started_by: caller.user.email.clone(),
        concurrency: ctx.settings.area_sync_concurrency,
        ..AreaSyncOptions::default()
    }
}

async fn audited(ctx: &State, caller: &Caller, target: Option<i64>, school: SchoolId, r: &AreaSyncResult) {
    let kind = if r.device_id.is_some() { "device" } else { "area" };
    let mut entry = caller.audit("area.sync", kind, target, Some(school));
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
    run_target(&ctx, &caller, area.school_id, Target::Area(area.id)).await
}

/// Runs an area's sync (or a device's single-device sync) here, or hands it to the instance
/// running the pull service when this one runs without (202: the `GET` of the same path follows it).
async fn run_target(ctx: &State, caller: &Caller, school: SchoolId, target: Target) -> Result<HttpResponse, ApiError> {
    let (kind, id, follow) = match target {
        Target::Area(a) => ("area", a, format!("GET /api/v1/areas/{a}/sync")),
        Target::Device(d) => ("device", d.0, format!("GET /api/v1/devices/{}/area-sync", d.0)),
    };
    if ctx.config.pull_service == "off" {
        area::requests::hand_off(&ctx.core, school, target, &caller.user.email).await?;
        let mut entry = caller.audit("area.sync_requested", kind, Some(id), Some(school));
        entry.detail = serde_json::json!({ "handed_off": true });
        ctx.store.record_audit(&entry).await?;
        let message = format!(
            "sync handed to the instance running the pull service (this one runs without); it starts within \
             seconds, or expires in {} minutes if no instance runs the pull service: follow {follow}",
            area::requests::REQUEST_TTL.num_minutes()
        );
        let data = match target {
            Target::Area(a) => serde_json::json!({ "handed_off": true, "area_id": a }),
            Target::Device(d) => serde_json::json!({ "handed_off": true, "device_id": d.0 }),
        };
        return Ok(accepted(message, data));
    }
    let result = match target {
        Target::Area(a) => area::sync_area(&ctx.core, school, a, &options(ctx, caller)).await?,
        Target::Device(d) => area::sync_device(&ctx.core, school, d, &options(ctx, caller)).await?,
    };
    audited(ctx, caller, Some(id), school, &result).await;
    Ok(ok(format!("{kind} sync finished"), result))
}

/// A device's "Sync": its area's sync (as `POST /areas/{id}/sync`); for a device in no area, a
/// single-device sync: the school's active students and their fingerprints, faces and photos from
/// the biometric store (the primary, `"store"`), written where the device lacks them or holds them
/// differently, deleted or deactivated students removed.
#[utoipa::path(post, path = "/api/v1/devices/{id}/area-sync", tag = "devices", params(("id" = i64, Path,
    description = "Device id")), security(("bearer" = [])),
    responses((status = 200, description = "The area's run, or the device's single-device run", body = Envelope<AreaSyncResult>),
              (status = 202, description = "Handed to the instance running the pull service: `{handed_off: true, \
                area_id}` or `{handed_off: true, device_id}`"),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope),
              (status = 422, description = "The device is in no school, or (no area) not in service", body = ErrorEnvelope)))]
pub async fn sync_device(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let record = ctx
        .store
        .get_device_record(caller.scope(), id.0)
        .await?
        .ok_or_else(|| ApiError::NotFound("device not found".into()))?;
    let Some(school) = record.school_id else {
        return Err(ApiError::invalid("school_id", "the device belongs to no school: assign it to one first"));
    };
    if let Some(area) = record.area_id {
        return run_target(&ctx, &caller, school, Target::Area(area)).await;
    }
    let in_service = match record.mode {
        DeviceMode::Pull => ctx.store.pull_device(DeviceId(record.id)).await?.is_some_and(|d| d.in_service()),
        DeviceMode::Push => record.approval == "approved",
    };
    if !in_service {
        return Err(ApiError::invalid(
            "id",
            "the device is not in service (approved and, for a pull device, enabled): it cannot be synced",
        ));
    }
    run_target(&ctx, &caller, school, Target::Device(DeviceId(record.id))).await
}

/// A run and the request still waiting to be claimed (`--pull-service off` hand-offs).
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct SyncFollow {
    #[serde(flatten)]
    pub run: Option<AreaRun>,
    /// A hand-off not claimed yet: `pending`, or `expired` (no instance runs the pull service).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestStatus>,
}

fn follow(run: Option<AreaRun>, request: Option<RequestStatus>) -> Option<SyncFollow> {
    (run.is_some() || request.is_some()).then_some(SyncFollow { run, request })
}

/// A device's latest sync, as `GET /api/v1/areas/{id}/sync`: its single-device run, or for a
/// device in an area its area's run when that is newer.
#[utoipa::path(get, path = "/api/v1/devices/{id}/area-sync", tag = "devices", params(("id" = i64, Path,
    description = "Device id")), security(("bearer" = [])),
    responses((status = 200, description = "The latest single-device run (or, for a device in an area, its \
                area's run when newer) and any unclaimed request (`data` null when none)",
                body = Envelope<Option<SyncFollow>>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn device_sync_status(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let record = ctx
        .store
        .get_device_record(caller.scope(), id.0)
        .await?
        .ok_or_else(|| ApiError::NotFound("device not found".into()))?;
    let Some(school) = record.school_id else { return Ok(ok("latest device sync", None::<SyncFollow>)) };
    let mut run = area::latest_device_run(&ctx.store, school, record.id).await?;
    // A device in an area is synced by its area's run (its Sync runs that): the newer of the two.
    if let Some(area) = record.area_id {
        let area_run = area::latest_run(&ctx.store, school, area).await?;
        if area_run.as_ref().map(|r| r.started_at) > run.as_ref().map(|r| r.started_at) {
            run = area_run;
        }
    }
    let request = area::requests::status(&ctx.core, Target::Device(DeviceId(record.id))).await?;
    Ok(ok("latest device sync", follow(run, request)))
}

/// The area's latest sync: its live progress (phase, devices, items, ETA) while it runs, its
/// result once finished; read from the run's job row, so any instance answers it.
#[utoipa::path(get, path = "/api/v1/areas/{id}/sync", tag = "areas", params(("id" = i64, Path,
    description = "Area id")), security(("bearer" = [])),
    responses((status = 200, description = "The latest run, and a hand-off not claimed yet (`request`: \
                `pending`, or `expired` when no instance runs the pull service); `data` null when neither",
                body = Envelope<Option<SyncFollow>>),
              (status = 404, description = "No such area in your scope", body = ErrorEnvelope)))]
pub async fn sync_status(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let area = groups::get(&ctx, &caller, GroupKind::Area, id.0).await?;
    let run = area::latest_run(&ctx.store, area.school_id, area.id).await?;
    let request = area::requests::status(&ctx.core, Target::Area(area.id)).await?;
    Ok(ok("latest area sync", follow(run, request)))
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
              (status = 422, description = "An address of no registered pull device in your scope, an address \
                that names several (give host:port), devices of several schools, or fewer than two addresses",
                body = ErrorEnvelope)))]
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
    let mut ambiguous = Vec::new();
    for ip in &ips {
        // An address names one device, or it is refused: schools reuse the factory address
        // (192.168.1.201) and a gateway forwards several ports of one host; picking "the first"
        // would sync a device the admin did not mean.
        let found: Vec<&PullDevice> =
            known.iter().filter(|d| *ip == d.host || *ip == format!("{}:{}", d.host, d.port)).collect();
        match found.as_slice() {
            [] => unknown.push(ip.clone()),
            [d] if !devices.iter().any(|x| x.id == d.id) => devices.push((*d).clone()),
            [_] => {}
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|d| {
                        format!("{} ({}:{})", d.name.clone().unwrap_or_else(|| format!("#{}", d.id.0)), d.host, d.port)
                    })
                    .collect();
                ambiguous.push(format!("{ip} names {} devices: {}", many.len(), names.join(", ")));
            }
        }
    }
    if !unknown.is_empty() {
        return Err(ApiError::invalid("ips", format!("no registered pull device at {}", unknown.join(", "))));
    }
    if !ambiguous.is_empty() {
        let which = ambiguous.join("; ");
        return Err(ApiError::invalid("ips", format!("{which}; give host:port of one device each")));
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
