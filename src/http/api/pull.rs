//! Pull devices' own actions: `POST /devices/{id}/test-connection`, `POST
//! /devices/{id}/sync-attendance` and `POST /attendance/sync-all`. Thin handlers over
//! `pull_service::requests`, which reaches a device through the instance holding its session.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::commands::scoped_device;
use super::envelope::{ok, Envelope, ErrorEnvelope};
use super::error::{field, ApiError};
use super::extract::PathId;
use crate::domain::{DeviceMode, PullTransport, SchoolId};
use crate::http::State;
use crate::pull_service::requests::{self, ConnectionTest, RequestError, COLLECT_WAIT, TEST_BUDGET};
use crate::store::admin::NewPullDevice;

use crate::store::PullSettingsUpdate;

/// The pull fields of `PATCH /api/v1/devices/{id}`, as read from its body.
#[derive(Debug, Default)]
pub struct PullFields {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub transport: Option<String>,
    /// A new comm key, or `Some(None)` to remove it.
    pub comm_key: Option<Option<u32>>,
    pub enabled: Option<bool>,
    pub realtime_enabled: Option<bool>,
    pub clear_log_after_collect: Option<bool>,
}

impl PullFields {
    /// Checked and sealed for the store.
    pub async fn into_update(self, ctx: &State) -> Result<PullSettingsUpdate, ApiError> {
        Ok(PullSettingsUpdate {
            host: match self.host {
                Some(h) => Some(host(&h).await?),
                None => None,
            },
            port: self.port.map(port).transpose()?,
            transport: transport(self.transport.as_deref())?,
            comm_key_enc: self.comm_key.map(|k| comm_key(ctx, k)).transpose()?,
            enabled: self.enabled,
            realtime_enabled: self.realtime_enabled,
            clear_log_after_collect: self.clear_log_after_collect,
        })
    }
}

/// A pull device to add, as the API body or the dashboard form gave it.
#[derive(Debug)]
pub struct NewPullInput {
    pub school_id: SchoolId,
    pub area_id: Option<i64>,
    pub name: Option<String>,
    pub host: String,
    pub port: u16,
    pub transport: Option<String>,
    pub comm_key: Option<u32>,
    pub enabled: bool,
    pub realtime_enabled: bool,
    pub clear_log_after_collect: bool,
}

impl NewPullInput {
    /// Checked field by field (the first bad field is the error) and sealed for the store. The
    /// serial is a placeholder until the first contact teaches the real one.
    pub async fn into_new(self, ctx: &State) -> Result<NewPullDevice, ApiError> {
        Ok(NewPullDevice {
            serial_number: format!("pull:{}", uuid::Uuid::new_v4().simple()),
            school_id: self.school_id,
            area_id: self.area_id,
            name: self.name.as_deref().map(|n| super::validate::name("name", n, 100)).transpose()?,
            host: host(&self.host).await?,
            port: port(self.port)?,
            transport: transport(self.transport.as_deref())?.unwrap_or_default(),
            comm_key_enc: comm_key(ctx, self.comm_key)?,
            enabled: self.enabled,
            realtime_enabled: self.realtime_enabled,
            clear_log_after_collect: self.clear_log_after_collect,
        })
    }
}

/// An IP address, or a host name that resolves (checked now: a typo is caught when it is made).
/// Anything else is a 400 naming `host`.
pub async fn host(raw: &str) -> Result<String, ApiError> {
    let host = raw.trim().trim_start_matches('[').trim_end_matches(']').to_string();
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok(host);
    }
    let name_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !name_ok {
        return Err(ApiError::parameter("host", "must be an IP address or a host name"));
    }
    let resolves =
        match tokio::time::timeout(Duration::from_secs(3), tokio::net::lookup_host((host.as_str(), 4370))).await {
            Ok(Ok(mut addrs)) => addrs.next().is_some(),
            _ => false,
        };
    if !resolves {
        return Err(ApiError::parameter("host", format!("{host:?} does not resolve: use the device's IP address")));
    }
    Ok(host)
}

/// 1–65535 (a number beyond 65535 is refused when the body is read).
pub fn port(port: u16) -> Result<u16, ApiError> {
    if port == 0 {
        return Err(ApiError::parameter("port", "must be between 1 and 65535 (devices listen on 4370)"));
    }
    Ok(port)
}

pub fn transport(raw: Option<&str>) -> Result<Option<PullTransport>, ApiError> {
    raw.map(|t| {
        PullTransport::parse(t.trim()).ok_or_else(|| ApiError::parameter("transport", "must be tcp, udp or auto"))
    })
    .transpose()
}

/// 0–999999 as the device's menu allows, sealed with the data key (0 or none: no key).
pub fn comm_key(ctx: &State, key: Option<u32>) -> Result<Option<Vec<u8>>, ApiError> {
    match key {
        Some(k) if k > 999_999 => Err(ApiError::parameter("comm_key", "must be between 0 and 999999")),
        Some(k) if k > 0 => Ok(Some(ctx.cipher.seal(k.to_string().as_bytes()))),
        _ => Ok(None),
    }
}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::NotFound(_) => ApiError::NotFound("device not found".into()),
            RequestError::NotPull(_) => ApiError::Conflict(field("device", e.to_string())),
            RequestError::NotInService(m) => ApiError::Conflict(field("device", m)),
            RequestError::Failed(m) => ApiError::Conflict(field("device", m)),
            RequestError::Store(e) => ApiError::Storage(e),
        }
    }
}

async fn pull_device(ctx: &State, caller: &Caller, id: i64) -> Result<crate::domain::Device, ApiError> {
    let device = scoped_device(ctx, caller, id).await?;
    if device.mode != DeviceMode::Pull {
        return Err(ApiError::Conflict(field("device", "only pull devices (port 4370) are called by the server")));
    }
    Ok(device)
}

/// Connects to the device and reads its identity and counters (within 10 s). A refused
/// connection, a timeout and a wrong comm key each have their own message; `success: false`
/// is still a 200 (the test ran).
#[utoipa::path(post, path = "/api/v1/devices/{id}/test-connection", tag = "devices",
    params(("id" = i64, Path, description = "Device id")), security(("bearer" = [])),
    responses((status = 200, description = "The test's outcome", body = Envelope<ConnectionTest>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope),
              (status = 409, description = "Not a pull device", body = ErrorEnvelope)))]
pub async fn test_connection(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let device = pull_device(&ctx, &caller, id.0).await?;
    let test = requests::test_connection(&ctx, device.id.0, &caller.user.email, TEST_BUDGET).await?;
    let message = if test.success { "device reachable" } else { "device not reachable" };
    Ok(ok(message, test))
}

/// `POST /api/v1/devices/{id}/sync-attendance`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceSync {
    pub success: bool,
    pub device_id: i64,
    pub device_name: Option<String>,
    pub logs_synced: usize,
    pub total_records: usize,
    pub duplicates: usize,
    pub error: Option<String>,
}

/// Collects the device's attendance now and answers with what was stored.
#[utoipa::path(post, path = "/api/v1/devices/{id}/sync-attendance", tag = "devices",
    params(("id" = i64, Path, description = "Device id")), security(("bearer" = [])),
    responses((status = 200, description = "What the collection stored (or why it failed)", body = Envelope<AttendanceSync>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope),
              (status = 409, description = "Not a pull device in service", body = ErrorEnvelope)))]
pub async fn sync_attendance(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let device = pull_device(&ctx, &caller, id.0).await?;
    let by = format!("api:{}", caller.user.email);
    let mut reply = AttendanceSync {
        success: false,
        device_id: device.id.0,
        device_name: device.name.clone(),
        logs_synced: 0,
        total_records: 0,
        duplicates: 0,
        error: None,
    };
    match requests::collect(&ctx, device.id.0, &by, COLLECT_WAIT).await {
        Ok(c) => {
            reply.success = true;
            reply.logs_synced = c.logs_synced;
            reply.total_records = c.total_records;
            reply.duplicates = c.duplicates;
        }
        Err(RequestError::Failed(m) | RequestError::NotInService(m)) => reply.error = Some(m),
        Err(e) => return Err(e.into()),
    }
    let message = if reply.success { "attendance collected" } else { "attendance not collected" };
    Ok(ok(message, reply))
}

/// `POST /api/v1/attendance/sync-all`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncAll {
    pub total_devices: usize,
    pub tasks_triggered: usize,
    pub device_ids: Vec<i64>,
}

/// Queues a collection on every pull device in service of the caller's school(s); each device's
/// session carries it out in the background (see each device's last poll for the outcome).
#[utoipa::path(post, path = "/api/v1/attendance/sync-all", tag = "attendance", security(("bearer" = [])),
    responses((status = 200, description = "The collections queued", body = Envelope<SyncAll>)))]
pub async fn sync_all(ctx: web::Data<State>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let (ids, queued) = requests::collect_all_in(&ctx, caller.scope(), &format!("api:{}", caller.user.email)).await?;
    let reply = SyncAll { total_devices: ids.len(), tasks_triggered: queued.len(), device_ids: queued };
    Ok(ok("attendance collection queued", reply))
}
