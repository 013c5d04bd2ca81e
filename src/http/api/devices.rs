//! `/devices` (and the same routes under `/device/{id}`): list with status and `online`,
//! approve, block, assign school/area/zone, rename, delete, and add pull-mode devices.
//!
//! Tenancy: a school admin sees only devices of their school. Pending devices belong to no
//! school yet, so only super admins see and approve them: letting any school admin claim an
//! unassigned device would let one school take over another's new terminal. A school admin
//! may re-approve (unblock) or block devices of their own school. Every change drops the
//! device from the device surface's cache at once.

use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::envelope::{created, ok, page, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, PathId};
use super::params;
use super::validate::{self, nullable};
use crate::domain::{Approval, DeviceId};
use crate::domain::{DeviceMode, SchoolId};
use crate::http::State;
use crate::store::admin::{DeviceFilter, DeviceRecord, Paged, PullStatus};
use crate::store::DeviceUpdate;

/// A device as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    pub id: i64,
    pub serial_number: String,
    pub name: Option<String>,
    /// `pending`, `approved` or `blocked`.
    pub status: String,
    /// Seen within three poll intervals.
    pub online: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub school_id: Option<SchoolId>,
    pub area_id: Option<i64>,
    pub mode: DeviceMode,
    pub dialect: String,
    /// Set (single-device reads) when the device's latest commands keep failing with -629/-1004:
    /// it is set to the other push dialect than its commands are written in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect_warning: Option<String>,
    pub push_version: Option<String>,
    pub firmware: Option<String>,
    pub platform: Option<String>,
    /// The device's own IANA zone; `null` means the school's.
    pub timezone: Option<String>,
    pub last_ip: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    /// Pull devices: where the server connects.
    pub host: Option<String>,
    pub port: Option<i32>,
    /// Pull devices: `tcp`, `udp` or `auto`.
    pub transport: Option<String>,
    /// Pull devices: switches, what the last contact taught (serial, versions, counters), the
    /// last poll and the realtime session's state (and why it is off).
    pub pull: Option<PullStatus>,
    /// The address the device is pinned to (the one it was approved from, unless an admin set
    /// another) and the pinned subnet width (`null`: the address only).
    pub pinned_ip: Option<String>,
    pub pin_prefix: Option<i32>,
    /// Whether the device must call under its secret path (`/<token>/iclock/…`).
    pub has_path_token: bool,
    /// A new secret path token: in this reply only (it is stored hashed and never shown again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_token: Option<String>,
}

fn view(ctx: &State, d: DeviceRecord) -> DeviceView {
    // This instance's in-memory last-seen is fresher than the database (written every 5 s).
    let last_seen_at = match (d.last_seen_at, ctx.activity.last_seen(DeviceId(d.id))) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let window = chrono::Duration::seconds(3 * i64::from(ctx.config.device_poll_delay.max(1)));
    let online = match d.mode {
        DeviceMode::Pull => d.pull.online(Utc::now()),
        DeviceMode::Push => last_seen_at.is_some_and(|t| Utc::now() - t <= window),
    };
    DeviceView {
        id: d.id,
        serial_number: d.serial_number,
        name: d.name,
        status: d.approval,
        online,
        last_seen_at,
        school_id: d.school_id,
        area_id: d.area_id,
        mode: d.mode,
        dialect: d.dialect,
        dialect_warning: None,
        push_version: d.push_version,
        firmware: d.firmware,
        platform: d.platform,
        timezone: d.timezone,
        last_ip: d.last_ip,
        first_seen_at: d.first_seen_at,
        approved_at: d.approved_at,
        host: d.host,
        port: d.port,
        transport: d.transport,
        pull: (d.mode == DeviceMode::Pull).then_some(d.pull),
        pinned_ip: d.pinned_ip,
        pin_prefix: d.pin_prefix,
        has_path_token: d.has_path_token,
        path_token: None,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeviceQuery {
    /// `pending`, `approved` or `blocked`.
    pub status: Option<String>,
    pub school_id: Option<SchoolId>,
    pub area_id: Option<i64>,
    /// `push` or `pull`.
    pub mode: Option<String>,
    /// Case-insensitive part of the serial number or name.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// `id`, `serial_number`, `name`, `last_seen_at`; prefix `-` for descending.
    pub sort: Option<String>,
}

/// A pull-mode device to add (push devices register themselves when they first call in).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDevice {
    pub school_id: Option<SchoolId>,
    pub area_id: Option<i64>,
    /// Must be `pull`.
    pub mode: String,
    /// Address of the device (name or IP).
    pub host: String,
    /// Usually 4370.
    pub port: u16,
    pub name: Option<String>,
    /// The device's communication key (0..=999999), stored encrypted.
    pub comm_key: Option<u32>,
    /// `tcp`, `udp` or `auto` (TCP, then UDP; the default).
    pub transport: Option<String>,
    /// Whether the server keeps a session with it (default true).
    pub enabled: Option<bool>,
    /// Whether punches are received live, as they happen (default true).
    pub realtime_enabled: Option<bool>,
    /// Clear the device's attendance log after a collection that stored every record (default false).
    pub clear_log_after_collect: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateDevice {
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub school_id: Option<Option<SchoolId>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub area_id: Option<Option<i64>>,
    /// IANA zone of the device, or `null` to use the school's.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
    /// Pull devices: where the server connects.
    pub host: Option<String>,
    pub port: Option<u16>,
    /// Pull devices: `tcp`, `udp` or `auto`.
    pub transport: Option<String>,
    /// Pull devices: a new comm key, or `null` to remove it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<u32>)]
    pub comm_key: Option<Option<u32>>,
    /// Pull devices: whether the server keeps a session with it.
    pub enabled: Option<bool>,
    /// Pull devices: live punches on or off (on also forgets an earlier switch-off after failures).
    pub realtime_enabled: Option<bool>,
    /// Pull devices: clear the device's log after a complete collection.
    pub clear_log_after_collect: Option<bool>,
    /// The address requests must come from when the school's `device_pinning` is on (`null`
    /// unpins). Approval pins the address the device called from.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub pinned_ip: Option<Option<String>>,
    /// Width of the pinned subnet (`24`: the /24 around `pinned_ip`; `null`: the address only).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i32>)]
    pub pin_prefix: Option<Option<i32>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveDevice {
    /// The school the device serves (default: its current school; a school admin's own).
    pub school_id: Option<SchoolId>,
    pub area_id: Option<i64>,
    /// Also give the device a secret path token, shown once in the reply (`path_token`).
    pub path_token: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeleteQuery {
    /// Also delete the device's punches (required when it has any).
    pub purge: Option<bool>,
}

fn approval(raw: &str) -> Result<Approval, ApiError> {
    Approval::parse(raw).ok_or_else(|| ApiError::parameter("status", "must be pending, approved or blocked"))
}

async fn current(ctx: &State, caller: &Caller, id: i64) -> Result<DeviceRecord, ApiError> {
    ctx.store.get_device_record(caller.scope(), id).await?.ok_or_else(|| ApiError::NotFound("device not found".into()))
}

pub(super) async fn apply(
    ctx: &State,
    caller: &Caller,
    id: i64,
    update: DeviceUpdate,
    action: Option<&str>,
) -> Result<DeviceView, ApiError> {
    let before = current(ctx, caller, id).await?;
    let audit = action.map(|action| {
        let mut entry = caller.audit(action, "device", Some(id), update.school_id.flatten().or(before.school_id));
        entry.detail = serde_json::json!({ "serial_number": before.serial_number });
        entry
    });
    // The store announces the change: every instance drops its cached copy of the device.
    let device = ctx.store.change_device(caller.scope(), id, &update, audit.as_ref()).await?;
    Ok(view(ctx, device))
}

/// List devices (`?status=pending` for those waiting for approval; super admins only see those).
#[utoipa::path(get, path = "/api/v1/devices", tag = "devices", params(DeviceQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of devices", body = Envelope<Vec<DeviceView>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, caller: Caller, q: ApiQuery<DeviceQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let page_of = params::page(q.page, q.per_page)?;
    let mode = match q.mode.as_deref() {
        None => None,
        Some(raw) => Some(
            DeviceMode::parse(raw)
                .ok_or_else(|| ApiError::parameter("mode", format!("must be push or pull, got {raw:?}")))?,
        ),
    };
    let filter = DeviceFilter {
        scope: caller.scope(),
        approval: q.status.as_deref().map(approval).transpose()?,
        school_id: caller.school_filter(q.school_id)?,
        area_id: q.area_id,
        mode,
        search: q.q,
        sort: params::sort(q.sort.as_deref())?,
        page: page_of,
    };
    let paged = ctx.store.list_device_records(&filter).await?;
    let paged = Paged { items: paged.items.into_iter().map(|d| view(&ctx, d)).collect(), total: paged.total };
    Ok(page("devices", paged, page_of))
}

/// Add a pull-mode device by address (it is approved: an admin added it).
#[utoipa::path(post, path = "/api/v1/devices", tag = "devices", request_body = CreateDevice, security(("bearer" = [])),
    responses((status = 201, description = "The new device", body = Envelope<DeviceView>),
              (status = 400, description = "A bad host, port, transport or comm key (the field is named)", body = ErrorEnvelope),
              (status = 404, description = "The school is not in your scope", body = ErrorEnvelope),
              (status = 409, description = "A device with this address exists", body = ErrorEnvelope),
              (status = 422, description = "Invalid field", body = ErrorEnvelope)))]
pub async fn create(
    ctx: web::Data<State>,
    caller: Caller,
    body: ApiJson<CreateDevice>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    if body.mode != "pull" {
        return Err(ApiError::invalid("mode", "must be \"pull\": push devices register themselves when they call in"));
    }
    let school_id = caller.target_school(body.school_id)?;
    let device = super::pull::NewPullInput {
        school_id,
        area_id: body.area_id,
        name: body.name,
        host: body.host,
        port: body.port,
        transport: body.transport,
        comm_key: body.comm_key,
        enabled: body.enabled.unwrap_or(true),
        realtime_enabled: body.realtime_enabled.unwrap_or(true),
        clear_log_after_collect: body.clear_log_after_collect.unwrap_or(false),
    }
    .into_new(&ctx)
    .await?;
    let audit = caller.audit("device.create", "device", None, Some(school_id));
    let record = ctx.store.add_pull_device(&device, &audit).await?;
    Ok(created("device added", view(&ctx, record)))
}

/// One device.
#[utoipa::path(get, path = "/api/v1/devices/{id}", tag = "devices", params(("id" = i64, Path, description = "Device id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The device", body = Envelope<DeviceView>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn get(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let device = current(&ctx, &caller, id.0).await?;
    let mut shown = view(&ctx, device);
    if let Some(d) = ctx.store.get_device(DeviceId(shown.id)).await? {
        shown.dialect_warning = crate::queue::wrong_dialect::wrong_dialect_warning(&ctx.queue, &d).await?;
    }
    Ok(ok("device", shown))
}

/// Rename a device or change its school, area or time zone; for a pull device also its address,
/// transport, comm key and switches.
#[utoipa::path(patch, path = "/api/v1/devices/{id}", tag = "devices", params(("id" = i64, Path, description = "Device id")),
    request_body = UpdateDevice, security(("bearer" = [])),
    responses((status = 200, description = "The device", body = Envelope<DeviceView>),
              (status = 400, description = "A bad host, port, transport or comm key (the field is named)", body = ErrorEnvelope),
              (status = 404, description = "No such device (or school) in your scope", body = ErrorEnvelope),
              (status = 409, description = "Another device of the school has this address", body = ErrorEnvelope),
              (status = 422, description = "Invalid field", body = ErrorEnvelope)))]
pub async fn update(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    body: ApiJson<UpdateDevice>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let name = match body.name {
        Some(Some(n)) => Some(Some(validate::name("name", &n, 100)?)),
        other => other,
    };
    let timezone = match body.timezone {
        Some(Some(tz)) => Some(Some(validate::timezone("timezone", &tz)?)),
        other => other,
    };
    let pull = super::pull::PullFields {
        host: body.host,
        port: body.port,
        transport: body.transport,
        comm_key: body.comm_key,
        enabled: body.enabled,
        realtime_enabled: body.realtime_enabled,
        clear_log_after_collect: body.clear_log_after_collect,
    }
    .into_update(&ctx)
    .await?;
    let (pinned_ip, pin_prefix) = super::device_pinning::pin_fields(body.pinned_ip, body.pin_prefix)?;
    let update = DeviceUpdate {
        school_id: body.school_id,
        area_id: body.area_id,
        timezone,
        name,
        pull,
        pinned_ip,
        pin_prefix,
        ..Default::default()
    };
    let action = update.school_id.is_some().then_some("device.assign");
    Ok(ok("device updated", apply(&ctx, &caller, id.0, update, action).await?))
}

/// Approve a device into a school (and area): its data is accepted from now on.
#[utoipa::path(post, path = "/api/v1/devices/{id}/approve", tag = "devices", params(("id" = i64, Path, description = "Device id")),
    request_body = ApproveDevice, security(("bearer" = [])),
    responses((status = 200, description = "The approved device", body = Envelope<DeviceView>),
              (status = 404, description = "No such device (or school) in your scope", body = ErrorEnvelope),
              (status = 422, description = "No school given for a device without one, or an area of another school", body = ErrorEnvelope)))]
pub async fn approve(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    body: ApiJson<ApproveDevice>,
) -> Result<HttpResponse, ApiError> {
    let device = current(&ctx, &caller, id.0).await?;
    let school_id = match (caller.is_super(), body.0.school_id.or(device.school_id)) {
        (true, Some(school)) => school,
        (true, None) => {
            return Err(ApiError::invalid("school_id", "is required to approve a device that has no school"))
        }
        (false, requested) => caller.target_school(requested)?,
    };
    let token = body.0.path_token.unwrap_or(false).then(crate::http::device::guard::new_path_token);
    let update = DeviceUpdate {
        approval: Some(Approval::Approved),
        school_id: Some(Some(school_id)),
        area_id: body.0.area_id.map(Some),
        path_token_hash: token.as_deref().map(|t| Some(crate::http::device::guard::hash_token(t))),
        ..Default::default()
    };
    let mut device = apply(&ctx, &caller, id.0, update, Some("device.approve")).await?;
    device.path_token = token;
    Ok(ok("device approved", device))
}

/// Block a device: its requests are refused from now on.
#[utoipa::path(post, path = "/api/v1/devices/{id}/block", tag = "devices", params(("id" = i64, Path, description = "Device id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The blocked device", body = Envelope<DeviceView>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn block(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let update = DeviceUpdate { approval: Some(Approval::Blocked), ..Default::default() };
    Ok(ok("device blocked", apply(&ctx, &caller, id.0, update, Some("device.block")).await?))
}

/// Delete a device (audited). With punches stored, `?purge=true` is required: they are deleted too.
#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "devices",
    params(("id" = i64, Path, description = "Device id"), DeleteQuery), security(("bearer" = [])),
    responses((status = 200, description = "The deleted device", body = Envelope<DeviceView>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope),
              (status = 409, description = "The device has punches and purge was not given", body = ErrorEnvelope)))]
pub async fn delete(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    q: ApiQuery<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    let before = current(&ctx, &caller, id.0).await?;
    let audit = caller.audit("device.delete", "device", Some(id.0), before.school_id);
    let device = ctx.store.delete_device(caller.scope(), id.0, q.0.purge.unwrap_or(false), &audit).await?;
    Ok(ok("device deleted", view(&ctx, device)))
}
