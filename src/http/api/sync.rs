//! `/devices/{id}/sync-students`, `/devices/{id}/sync-status`, `/devices/{id}/students/{student_id}/retry`
//! (and the `/device/{id}/…` aliases): a device's student sync as admins drive and watch it.
//! Thin handlers over `crate::sync` and `SyncStore`; a device or student of another school is a
//! 404, exactly like a missing one. School-wide sync (summary, verifier, alerts) is in `sync_school`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::commands::scoped_device;
use super::envelope::{ok, Envelope, ErrorEnvelope};
use super::error::{field, ApiError};
use super::extract::{parse_id, ApiQuery, PathId};
use super::params;
use crate::http::State;
use crate::queue::QueueError;
use crate::store::admin::SchoolScope;
use crate::store::sync::{StudentSyncRow, SyncProgress, SyncStatusFilter, SyncSummary, UnknownDeviceUser};
use crate::sync::{FullSyncReport, SyncError};

/// The `status` filter values of the sync-status list.
const STATUSES: [&str; 5] = ["synced", "pending", "sent", "failed", "not_synced"];
/// Unknown device users listed with the sync status (the total is always given).
const UNKNOWN_USERS_SHOWN: i64 = 50;

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::NotSyncable(serial) => ApiError::Conflict(field(
                "device",
                format!("device {serial} cannot be synced: only approved devices assigned to a school hold students"),
            )),
            SyncError::NotAStudent(_) => ApiError::NotFound("student not found".into()),
            SyncError::Store(e) | SyncError::Queue(QueueError::Store(e)) => ApiError::Storage(e),
            SyncError::Queue(QueueError::NotApproved(serial)) => {
                ApiError::Conflict(field("device", format!("device {serial} is not approved yet")))
            }
            SyncError::Queue(QueueError::Unsupported { verb, code, .. }) => ApiError::Conflict(field(
                "device",
                format!("the device does not support {verb} (it answered {code}); students cannot be written to it"),
            )),
            SyncError::Queue(e) => ApiError::Internal(format!("queueing sync commands: {e}")),
        }
    }
}

/// Queue every active student of the device's school (and the deletes of removed ones) for the
/// device. Students whose command is still on its way are not queued again. Audited.
#[utoipa::path(post, path = "/api/v1/devices/{id}/sync-students", tag = "sync",
    params(("id" = i64, Path, description = "Device id")), security(("bearer" = [])),
    responses((status = 200, description = "What was queued, and the device's sync progress", body = Envelope<FullSyncReport>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope),
              (status = 409, description = "Not an approved device of a school", body = ErrorEnvelope)))]
pub async fn sync_students(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let device = scoped_device(&ctx, &caller, id.0).await?;
    let report = crate::sync::full_sync(&ctx, &device, &caller.user.email).await?;
    let mut entry = caller.audit("device.sync_students", "device", Some(device.id.0), device.school_id);
    entry.detail = serde_json::json!({
        "serial_number": device.serial_number,
        "commands_queued": report.commands_queued,
        "deferred_until": report.deferred_until,
    });
    ctx.store.record_audit(&entry).await?;
    Ok(ok(report.message.clone(), report))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SyncStatusQuery {
    /// `synced`, `pending` (also matches `sent`), `sent`, `failed` or `not_synced`.
    pub status: Option<String>,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    /// Part of the name (case-insensitive), or an exact PIN or card number.
    pub search: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Users on the device that are no student of the school.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnknownUsers {
    pub total: i64,
    /// The first 50, by PIN.
    pub users: Vec<UnknownDeviceUser>,
}

/// A device's sync status: counts, progress, one page of students, users it should not hold.
#[derive(Debug, Serialize, ToSchema)]
pub struct SyncStatusView {
    pub summary: SyncSummary,
    pub progress: SyncProgress,
    pub students: Vec<StudentSyncRow>,
    pub unknown_users: UnknownUsers,
    /// 1-based page of `students`.
    pub page: i64,
    pub per_page: i64,
    /// Students matching the filter across all pages.
    pub total: i64,
}

/// The device's sync status. `summary` counts every active student of the school; `students`
/// is one page of them filtered. A row is `synced` only once the device showed the user.
#[utoipa::path(get, path = "/api/v1/devices/{id}/sync-status", tag = "sync",
    params(("id" = i64, Path, description = "Device id"), SyncStatusQuery), security(("bearer" = [])),
    responses((status = 200, description = "Summary, progress, students and unknown users", body = Envelope<SyncStatusView>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn sync_status(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    q: ApiQuery<SyncStatusQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let page = params::page(q.page, q.per_page)?;
    if let Some(status) = q.status.as_deref().filter(|s| !STATUSES.contains(s)) {
        return Err(ApiError::parameter("status", format!("{status:?} is not one of {}", STATUSES.join(", "))));
    }
    let device = scoped_device(&ctx, &caller, id.0).await?;
    let filter = SyncStatusFilter {
        status: q.status,
        class_id: q.class_id,
        section_id: q.section_id,
        search: q.search.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
        limit: page.limit,
        offset: page.offset,
    };
    let status = ctx.store.sync_status(device.id, &filter).await?;
    let progress = ctx.store.sync_progress(device.id, chrono::Utc::now()).await?;
    let (total, users) = ctx.store.unknown_device_users(device.id, UNKNOWN_USERS_SHOWN).await?;
    let view = SyncStatusView {
        summary: status.summary,
        progress,
        students: status.students,
        unknown_users: UnknownUsers { total, users },
        page: page.offset / page.limit + 1,
        per_page: page.limit,
        total: status.matched,
    };
    Ok(ok("sync status", view))
}

/// What a manual retry queued.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetryReport {
    pub device_id: i64,
    pub student_id: i64,
    /// 0 when the student is confirmed on the device or its command is still on its way.
    pub commands_queued: usize,
}

/// Send one student to the device again now (a manual retry ignores the back-off of failed rows).
#[utoipa::path(post, path = "/api/v1/devices/{id}/students/{student_id}/retry", tag = "sync",
    params(("id" = i64, Path, description = "Device id"), ("student_id" = i64, Path, description = "Student id")),
    security(("bearer" = [])),
    responses((status = 200, description = "Commands queued", body = Envelope<RetryReport>),
              (status = 404, description = "No such device, or no such student of its school, in your scope", body = ErrorEnvelope),
              (status = 409, description = "Not an approved device of a school", body = ErrorEnvelope)))]
pub async fn retry_student(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let student_id = parse_id("student_id", req.match_info().get("student_id").unwrap_or(""))?;
    let device = scoped_device(&ctx, &caller, id.0).await?;
    // A device without a school has no students: the core answers 409 for it below.
    if let Some(school) = device.school_id {
        ctx.store
            .get_student(SchoolScope::school(school), student_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("student not found".into()))?;
    }
    let queued = crate::sync::retry_student(&ctx, &device, student_id, &caller.user.email).await?;
    let message = match queued {
        0 => "nothing queued: the student is confirmed on the device or a command is on its way".to_string(),
        n => format!("{n} commands queued"),
    };
    Ok(ok(message, RetryReport { device_id: device.id.0, student_id, commands_queued: queued }))
}
