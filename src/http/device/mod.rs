//! `/iclock/*`: the device surface. Thin adapters: parse with `push`, convert to `domain`,
//! call `store`, render with `push`. Never JWT: devices are identified by serial and approval.

pub mod acc;
mod acc_upload;
mod ack;
pub mod activity;
mod body;
pub mod directory;
mod endpoint;
mod first_contact;
pub mod guard;
mod handshake;
mod ingest;
pub mod media;
mod poll;
mod reply;
mod upload;

use std::sync::Arc;

use actix_web::{web, HttpRequest, HttpResponse};

use crate::domain::{Approval, DeviceSerial, Dialect};
use crate::http::State;
use crate::push::query::DeviceQuery;
pub use directory::{DeviceDirectory, FirstContact, KnownDevice};
pub use endpoint::Endpoint;
pub use reply::{ok_bytes, ok_text, DeviceError};

/// Everything a device handler needs about one request.
pub struct DeviceRequest {
    pub endpoint: Endpoint,
    pub method: String,
    pub path: String,
    pub raw_query: String,
    pub query: DeviceQuery,
    pub serial: DeviceSerial,
    pub ip: Option<String>,
    pub known: Arc<KnownDevice>,
    /// The request comes from outside the device's pinned address and the school only alerts:
    /// it is served, but no command is delivered and no command result is taken from it.
    pub off_pin: bool,
}

/// The device surface, installed as the app's default service: every path containing
/// `/iclock/` (any case, any prefix), GET and POST alike; anything else is a 404.
pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    ctx: web::Data<State>,
) -> Result<HttpResponse, DeviceError> {
    let Some(endpoint) = Endpoint::from_path(req.path()) else {
        return Err(DeviceError::NotFound);
    };
    let query = DeviceQuery::parse(req.query_string());
    let serial = match query.serial.as_deref() {
        Some(sn) => DeviceSerial::parse(sn).map_err(DeviceError::BadRequest)?,
        None if endpoint == Endpoint::Other => {
            tracing::info!(path = %guard::device_path(req.path()), "device request without SN on an unknown path");
            return Ok(ok_text("OK"));
        }
        None => return Err(DeviceError::BadRequest("missing device serial number (SN)".into())),
    };
    let ip = crate::http::client_addr::client_ip(&req);
    let contact = FirstContact {
        ip: ip.clone(),
        pushver: query.pushver.clone(),
        language: query.language.clone(),
        dialect: match endpoint {
            // Only the access-control dialect registers (push.md 2.1, "Detecting the dialect").
            Endpoint::Registry | Endpoint::Push => Some(Dialect::Acc),
            _ => query.device_type.as_deref().and_then(Dialect::parse),
        },
    };
    let known = ctx.devices.resolve(&serial, contact).await?;
    if known.device.mode == crate::domain::DeviceMode::Pull {
        // Before anything is noted or stored: the request is not from the device.
        tracing::warn!(serial = %serial, ip = ?ip, path = %guard::device_path(req.path()), "refused: a push request with a pull device's serial");
        return Err(DeviceError::PullDevice(serial.to_string()));
    }
    // Before anything is noted or stored: the secret path, then the pinned address.
    guard::check_path_token(&known, req.path()).inspect_err(|_| {
        tracing::warn!(serial = %serial, ip = ?ip, "refused: the device's secret path is missing or wrong");
    })?;
    let cookie = req.headers().get(actix_web::http::header::COOKIE).and_then(|v| v.to_str().ok());
    acc::check_token(&known, cookie).inspect_err(|_| {
        tracing::warn!(serial = %serial, ip = ?ip, "refused: the acc cookie token does not match the registration");
    })?;
    let off_pin = guard::off_pin(&known, ip.as_deref());
    if let Some(off) = &off_pin {
        alert_off_pin(&ctx, &known, off).await;
        if known.pinning == guard::Pinning::Refuse {
            return Err(DeviceError::OffPin {
                serial: serial.to_string(),
                ip: off.ip.clone(),
                pinned: off.pinned.clone(),
            });
        }
    }
    let previous = ctx.activity.last_seen(known.device.id).or(known.device.last_seen_at);
    ctx.activity.note_seen(known.device.id, ip.clone());
    catch_up_after_gap(&ctx, &known, previous).await;
    if known.device.approval == Approval::Blocked {
        if endpoint == Endpoint::Registry {
            // Registration refused: 406 and no RegistryCode (capture 04, 17).
            return Err(DeviceError::RegistryRefused(serial.to_string()));
        }
        return Err(DeviceError::Blocked(serial.to_string()));
    }
    // Read only now, once the device is known and allowed: an unknown serial cannot make the
    // server read a large body. Only an approved device's oversized upload is drained and acknowledged.
    let approved = known.device.approval == Approval::Approved;
    let body = match body::read(&req, payload, ctx.config.max_upload_bytes, approved).await? {
        body::Body::Complete(bytes) => bytes,
        body::Body::Oversize { bytes } if approved => return Ok(oversize(&ctx, &known, &req, bytes).await),
        body::Body::Oversize { .. } => return Err(DeviceError::PendingFull(serial.to_string())),
    };
    let request = DeviceRequest {
        endpoint,
        method: req.method().to_string(),
        path: guard::device_path(req.path()).to_string(),
        raw_query: req.query_string().to_string(),
        query,
        serial,
        ip,
        known,
        off_pin: off_pin.is_some(),
    };
    match request.endpoint {
        Endpoint::CData | Endpoint::FData => upload::cdata(&ctx, request, body).await,
        Endpoint::GetRequest => poll::getrequest(&ctx, request).await,
        Endpoint::DeviceCmd => ack::devicecmd(&ctx, request, body).await,
        Endpoint::Ping => Ok(ok_text("OK")),
        Endpoint::Registry => acc::registry(&ctx, &request, &body).await,
        // Acc firmware may poll /iclock/push for commands too (push.md 2.7.2): a POST with a
        // body is still a config request; commands are served on getrequest.
        Endpoint::Push => acc::push(&ctx, &request).await,
        Endpoint::QueryData => acc::querydata(&ctx, &request, &body).await,
        Endpoint::RtData => Ok(acc::rtdata(&request)),
        Endpoint::Other => {
            tracing::info!(serial = %request.serial, path = %request.path, bytes = body.len(), "unhandled device endpoint");
            Ok(ok_text("OK"))
        }
    }
}

/// An upload over `--max-upload-bytes`: not stored, answered `OK` so the device does not post
/// it forever (see `body`), and recorded as an `upload` device event on its page.
async fn oversize(ctx: &State, known: &KnownDevice, req: &HttpRequest, bytes: usize) -> HttpResponse {
    let device = &known.device;
    let limit = ctx.config.max_upload_bytes;
    let query = DeviceQuery::parse(req.query_string());
    let table = query.table.as_deref().unwrap_or("-");
    tracing::error!(serial = %device.serial_number, table, bytes, limit,
        "device upload over the size limit NOT STORED; answered OK so the device does not re-send it forever");
    let detail = serde_json::json!({
        "message": format!(
            "an upload of {bytes} bytes (table {table}) was over the limit of {limit} bytes and was not stored; \
             fetch those records again in smaller pieces (e.g. DATA QUERY ATTLOG over a shorter time range)"
        ),
        "table": table, "bytes": bytes, "limit": limit,
    });
    if let Err(error) = ctx.store.record_device_event(device.id, "upload", "TOO_LARGE", &detail).await {
        tracing::error!(serial = %device.serial_number, %error, "could not record the oversized upload");
    }
    ok_text("OK")
}

/// Records (at most every 10 minutes per device and address) that a device called from outside
/// its pinned address: a `pinning` device event on its page and in the API. Never fails the request.
async fn alert_off_pin(ctx: &State, known: &KnownDevice, off: &guard::OffPin) {
    let device = &known.device;
    let policy = known.pinning.as_str();
    tracing::warn!(serial = %device.serial_number, ip = %off.ip, pinned = %off.pinned, policy, "device request from outside its pinned address");
    if !ctx.activity.should_alert_off_pin(device.id, &off.ip) {
        return;
    }
    let action = if known.pinning == guard::Pinning::Refuse { "refused" } else { "served without commands" };
    let detail = serde_json::json!({
        "message": format!("request from {} outside the pinned address {}: {action}", off.ip, off.pinned),
        "ip": off.ip, "pinned": off.pinned, "policy": policy,
    });
    if let Err(error) = ctx.store.record_device_event(device.id, "pinning", "ADDRESS", &detail).await {
        tracing::error!(serial = %device.serial_number, %error, "could not record the address alert");
    }
}

/// A device back from silence gets a bounded `DATA QUERY ATTLOG` for the gap (where it
/// supports it: a learned -1002 makes `enqueue` refuse). Never fails the request.
async fn catch_up_after_gap(ctx: &State, known: &KnownDevice, previous: Option<chrono::DateTime<chrono::Utc>>) {
    let device = &known.device;
    if device.approval != Approval::Approved || device.dialect != Dialect::Att {
        return;
    }
    let now = chrono::Utc::now();
    let Some(query) = ctx.queue.catchup.due(device.id, previous, now, ctx.config.device_poll_delay, known.tz) else {
        return;
    };
    let options =
        crate::queue::EnqueueOptions { created_by: Some("catch-up after a gap".into()), ..Default::default() };
    match ctx.queue.enqueue(device, query, options).await {
        Ok(id) => {
            tracing::info!(serial = %device.serial_number, command = id, "device back after a gap: attendance query queued")
        }
        Err(crate::queue::QueueError::Unsupported { .. }) => {}
        Err(e) => {
            tracing::warn!(serial = %device.serial_number, error = %e, "could not queue the gap attendance query")
        }
    }
}

/// Refuses data from a device that is not approved (pending devices keep and re-send their data).
pub(crate) fn require_approved(request: &DeviceRequest) -> Result<(), DeviceError> {
    match request.known.device.approval {
        Approval::Approved => Ok(()),
        Approval::Pending => Err(DeviceError::NotApproved(request.serial.to_string())),
        Approval::Blocked => Err(DeviceError::Blocked(request.serial.to_string())),
    }
}
