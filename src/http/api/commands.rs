//! `/devices/{id}/commands` (and `/device/{id}/commands`): see what happened to every command
//! sent to a device, queue a safe command, cancel a queued one, retry a failed one.
//!
//! `SHELL` and `UPGRADE` cannot be expressed here at all: the request body only knows the safe
//! kinds, so an unknown `kind` is a 400 listing the accepted ones.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::envelope::{created, ok, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{parse_id, ApiJson, ApiQuery, PathId};
use super::params;
use crate::domain::{CommandFilter, CommandState, Device, DeviceId, QueuedCommand};
use crate::http::State;
use crate::push::command::Command;
use crate::queue::{EnqueueOptions, QueueError};

/// A command as admins see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommandView {
    /// The CmdID sent to the device.
    pub id: i64,
    pub kind: String,
    /// `queued`, `sent`, `acked`, `failed` or `cancelled`.
    pub state: String,
    /// The command text as delivered (after `C:<id>:`); template and photo data shortened.
    pub command: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub acked_at: Option<DateTime<Utc>>,
    /// The device's `Return` code.
    pub return_code: Option<i64>,
    /// What the code means.
    pub return_message: Option<String>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// What the device answered beyond the code (INFO dump, counts), as JSON text.
    pub result: Option<String>,
    pub student_id: Option<i64>,
    pub pin: Option<String>,
    pub depends_on: Option<i64>,
    pub created_by: Option<String>,
}

/// Long base64 payloads (templates, photos) are cut for display.
fn shorten(payload: &str) -> String {
    payload
        .split('\t')
        .map(|field| match field.split_once('=') {
            Some((k, v)) if v.len() > 64 => format!("{k}={}… ({} chars)", &v[..32], v.len()),
            _ => field.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\t")
}

fn view(c: QueuedCommand) -> CommandView {
    CommandView {
        id: c.id,
        kind: c.kind,
        state: c.state.as_str().to_string(),
        command: shorten(&c.payload),
        attempts: c.attempts,
        created_at: c.created_at,
        sent_at: c.sent_at,
        acked_at: c.acked_at,
        return_code: c.return_code,
        return_message: c.return_message,
        error: c.error,
        result: c.result,
        student_id: c.student_id,
        pin: c.pin,
        depends_on: c.depends_on,
        created_by: c.created_by,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CommandQuery {
    /// `queued`, `sent`, `acked`, `failed` or `cancelled`.
    pub state: Option<String>,
    /// e.g. `user_update`, `attlog_query`, `info`.
    pub kind: Option<String>,
    pub student_id: Option<i64>,
    pub pin: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// A command to queue. `kind` selects the command; the other fields are its parameters.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NewCommandRequest {
    /// Device information and counters (answered with an INFO dump).
    Info,
    /// Re-read the server options; tables whose stamp is 0 are uploaded again.
    Check,
    /// Upload new records now.
    Log,
    ReloadOptions,
    /// Read the device's users back (all, or one PIN).
    UserQuery {
        pin: Option<String>,
    },
    /// Remove a user (with templates and photo) from the device.
    UserDelete {
        pin: String,
    },
    /// Ask for the attendance records of a time range (device-local `YYYY-MM-DD hh:mm:ss`).
    AttlogQuery {
        start: String,
        end: String,
    },
    /// Ask how many attendance records the device holds in a time range.
    VerifySum {
        start: String,
        end: String,
    },
    /// Set one device option: `Delay`, `ErrorDelay`, `TransInterval`, `TransTimes`, `Realtime`
    /// or `TimeZone` (anything else is refused).
    SetOption {
        key: String,
        value: String,
    },
    /// Set the device clock to the server's time in the device's zone (`SET OPTION DateTime`,
    /// OldEncodeTime, advanced to the moment of delivery). Firmware without it answers -1002.
    SyncTime,
    ClearLog,
    ClearPhoto,
    /// Erase users, templates and records on the device.
    ClearData,
    Reboot,
    /// Start fingerprint enrolment for a user at the device.
    EnrollFp {
        pin: String,
        finger: u8,
        retry: Option<u8>,
        overwrite: Option<bool>,
    },
    /// Start face/palm enrolment (type 9 = visible-light face) at the device.
    EnrollBio {
        pin: String,
        bio_type: u8,
        retry: Option<u8>,
        overwrite: Option<bool>,
    },
    /// Open the door relay.
    Unlock,
}

fn local_time(field: &str, raw: &str) -> Result<NaiveDateTime, ApiError> {
    NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%d %H:%M:%S")
        .map_err(|_| ApiError::invalid(field, "must be a device-local time YYYY-MM-DD hh:mm:ss"))
}

impl NewCommandRequest {
    /// The typed command; `device_now` is the device-local time for a time sync.
    fn into_command(self, device_now: NaiveDateTime) -> Result<Command, ApiError> {
        Ok(match self {
            NewCommandRequest::Info => Command::Info,
            NewCommandRequest::Check => Command::Check,
            NewCommandRequest::Log => Command::Log,
            NewCommandRequest::ReloadOptions => Command::ReloadOptions,
            NewCommandRequest::UserQuery { pin } => Command::UserQuery { pin },
            NewCommandRequest::UserDelete { pin } => Command::UserDelete { pin },
            NewCommandRequest::AttlogQuery { start, end } => {
                Command::AttLogQuery { start: local_time("start", &start)?, end: local_time("end", &end)? }
            }
            NewCommandRequest::VerifySum { start, end } => {
                Command::VerifySum { start: local_time("start", &start)?, end: local_time("end", &end)? }
            }
            NewCommandRequest::SetOption { key, value } => Command::SetOption { key, value },
            NewCommandRequest::SyncTime => Command::SetTime { local: device_now },
            NewCommandRequest::ClearLog => Command::ClearLog,
            NewCommandRequest::ClearPhoto => Command::ClearPhoto,
            NewCommandRequest::ClearData => Command::ClearData,
            NewCommandRequest::Reboot => Command::Reboot,
            NewCommandRequest::EnrollFp { pin, finger, retry, overwrite } => {
                if finger > 9 {
                    return Err(ApiError::invalid("finger", "must be 0..=9"));
                }
                Command::EnrollFingerprint {
                    pin,
                    fid: finger,
                    retry: retry.unwrap_or(3),
                    overwrite: overwrite.unwrap_or(true),
                }
            }
            NewCommandRequest::EnrollBio { pin, bio_type, retry, overwrite } => Command::EnrollBio {
                bio_type,
                pin,
                card: String::new(),
                retry: retry.unwrap_or(3),
                overwrite: overwrite.unwrap_or(true),
            },
            NewCommandRequest::Unlock => Command::Unlock,
        })
    }
}

/// The device, if it is in the caller's scope (404 otherwise, also for other schools' devices).
pub(super) async fn scoped_device(ctx: &State, caller: &Caller, id: i64) -> Result<Device, ApiError> {
    ctx.store
        .get_device_record(caller.scope(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound("device not found".into()))?;
    ctx.store.get_device(DeviceId(id)).await?.ok_or_else(|| ApiError::NotFound("device not found".into()))
}

fn command_id(req: &HttpRequest) -> Result<i64, ApiError> {
    parse_id("command_id", req.match_info().get("command_id").unwrap_or(""))
}

fn queue_error(e: QueueError) -> ApiError {
    match e {
        QueueError::Invalid(e) => ApiError::invalid("command", e.to_string()),
        QueueError::NotApproved(_) => ApiError::Conflict(super::error::field("device", "is not approved yet")),
        QueueError::Unsupported { verb, code, .. } => ApiError::Conflict(super::error::field(
            "kind",
            format!("the device does not support {verb} (it answered {code}); it is not queued again"),
        )),
        QueueError::NotAllowed(kind) => ApiError::Forbidden(format!("{kind} commands are not available")),
        QueueError::NotForDevice { reason, .. } => ApiError::Conflict(super::error::field("kind", reason)),
        QueueError::Store(e) => ApiError::Storage(e),
    }
}

/// Commands sent to a device, newest first, with their states and Return-code meanings.
#[utoipa::path(get, path = "/api/v1/devices/{id}/commands", tag = "devices",
    params(("id" = i64, Path, description = "Device id"), CommandQuery), security(("bearer" = [])),
    responses((status = 200, description = "Commands, newest first", body = Envelope<Vec<CommandView>>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn list(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    q: ApiQuery<CommandQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let page = params::page(q.page, q.per_page)?;
    let state = match q.state.as_deref() {
        Some(s) => Some(
            CommandState::parse(s)
                .ok_or_else(|| ApiError::parameter("state", "must be queued, sent, acked, failed or cancelled"))?,
        ),
        None => None,
    };
    let device = scoped_device(&ctx, &caller, id.0).await?;
    let filter = CommandFilter {
        state,
        kind: q.kind,
        student_id: q.student_id,
        pin: q.pin,
        limit: Some(page.limit),
        offset: Some(page.offset),
        school_id: device.school_id,
    };
    let commands = ctx.queue.list(device.id, &filter).await?;
    Ok(ok("commands", commands.into_iter().map(view).collect::<Vec<_>>()))
}

/// Queue a command for the device (delivered on its next poll).
#[utoipa::path(post, path = "/api/v1/devices/{id}/commands", tag = "devices",
    params(("id" = i64, Path, description = "Device id")), request_body = NewCommandRequest, security(("bearer" = [])),
    responses((status = 201, description = "The queued command", body = Envelope<CommandView>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope),
              (status = 409, description = "Device not approved, or it does not support this command", body = ErrorEnvelope),
              (status = 422, description = "Invalid parameter", body = ErrorEnvelope)))]
pub async fn create(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    body: ApiJson<NewCommandRequest>,
) -> Result<HttpResponse, ApiError> {
    let device = scoped_device(&ctx, &caller, id.0).await?;
    let device_now = match body.0 {
        NewCommandRequest::SyncTime => {
            let tz = ctx.devices.refresh(device.clone()).await?.tz;
            ctx.clock.now().with_timezone(&tz).naive_local()
        }
        _ => ctx.clock.now().naive_utc(),
    };
    let command = body.0.into_command(device_now)?;
    let destructive = matches!(
        command,
        Command::ClearData | Command::ClearLog | Command::ClearPhoto | Command::Reboot | Command::UserDelete { .. }
    );
    let kind = command.kind();
    let options = EnqueueOptions { created_by: Some(caller.user.email.clone()), ..Default::default() };
    let cmd_id = ctx.queue.enqueue(&device, command, options).await.map_err(queue_error)?;
    if destructive {
        let mut entry = caller.audit(&format!("device.command.{kind}"), "device", Some(device.id.0), device.school_id);
        entry.detail = serde_json::json!({ "serial_number": device.serial_number, "command_id": cmd_id });
        ctx.store.record_audit(&entry).await?;
    }
    let stored = ctx
        .store
        .get_command(device.id, cmd_id)
        .await?
        .ok_or_else(|| ApiError::Internal("queued command vanished".into()))?;
    Ok(created("command queued", view(stored)))
}

/// Cancel a command that has not been delivered yet.
#[utoipa::path(post, path = "/api/v1/devices/{id}/commands/{command_id}/cancel", tag = "devices",
    params(("id" = i64, Path, description = "Device id"), ("command_id" = i64, Path, description = "Command id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The cancelled command", body = Envelope<CommandView>),
              (status = 404, description = "No such device or command in your scope", body = ErrorEnvelope),
              (status = 409, description = "Already delivered or finished", body = ErrorEnvelope)))]
pub async fn cancel(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(&ctx, &caller, id, &req, Transition::Cancel).await
}

/// Put a failed or cancelled command back in the queue.
#[utoipa::path(post, path = "/api/v1/devices/{id}/commands/{command_id}/retry", tag = "devices",
    params(("id" = i64, Path, description = "Device id"), ("command_id" = i64, Path, description = "Command id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The re-queued command", body = Envelope<CommandView>),
              (status = 404, description = "No such device or command in your scope", body = ErrorEnvelope),
              (status = 409, description = "Not failed or cancelled", body = ErrorEnvelope)))]
pub async fn retry(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    transition(&ctx, &caller, id, &req, Transition::Retry).await
}

#[derive(Clone, Copy)]
enum Transition {
    Cancel,
    Retry,
}

/// Cancels or retries one command of a device in the caller's scope; a command in the wrong
/// state is a 409 that names its state.
async fn transition(
    ctx: &State,
    caller: &Caller,
    id: PathId,
    req: &HttpRequest,
    op: Transition,
) -> Result<HttpResponse, ApiError> {
    let device = scoped_device(ctx, caller, id.0).await?;
    let cmd = command_id(req)?;
    // A command written for another school (before the device moved) is not this school's.
    let existing = ctx
        .store
        .get_command(device.id, cmd)
        .await?
        .filter(|c| c.school_id == device.school_id)
        .ok_or_else(|| ApiError::NotFound("command not found".into()))?;
    let (changed, done, allowed) = match op {
        Transition::Cancel => {
            (ctx.queue.cancel(device.id, cmd, &caller.user.email).await?, "command cancelled", "queued")
        }
        Transition::Retry => (ctx.queue.retry(device.id, cmd).await?, "command re-queued", "failed or cancelled"),
    };
    match changed {
        Some(c) => Ok(ok(done, view(c))),
        None => Err(ApiError::Conflict(super::error::field(
            "state",
            format!("only {allowed} commands can be changed this way; this one is {}", existing.state.as_str()),
        ))),
    }
}
