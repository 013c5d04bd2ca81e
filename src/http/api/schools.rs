//! `/schools`: super admins see and manage every school; a school admin sees and edits only
//! their own (another school is a 404) and cannot create or delete schools (403).

use crate::domain::SchoolId;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::{Caller, SuperAdmin};
use super::envelope::{created, ok, page, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, PathId};
use super::{params, validate};
use crate::http::State;
use crate::store::admin::{NewSchool, SchoolFilter, SchoolPatch, SchoolRecord};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SchoolQuery {
    /// Case-insensitive part of the name.
    pub name: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// `id`, `name`, `created_at`; prefix `-` for descending.
    pub sort: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSchool {
    pub name: String,
    /// IANA time zone, e.g. `Africa/Nairobi`.
    pub timezone: String,
    /// First automatic student PIN (default 1000).
    pub pin_start: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSchool {
    pub name: Option<String>,
    pub timezone: Option<String>,
    /// Raising it moves the PIN counter up; lowering it never reuses PINs.
    pub pin_start: Option<i64>,
    /// Quiet hours in the school's local time, e.g. `07:00-08:30,14:30-15:30` (a window may
    /// cross midnight); `""` clears them. Bulk sync work waits until a window ends.
    pub quiet_hours: Option<String>,
    /// What the verifier does with users on a device that are no student of the school:
    /// `report` (default) or `delete`.
    pub unknown_user_policy: Option<String>,
    /// When an approved device calls from outside its pinned address (the one it was approved
    /// from, or its subnet): `off` (default), `alert` (a device event the admin sees) or `refuse`
    /// (403, nothing stored).
    pub device_pinning: Option<String>,
}

/// List schools (a school admin sees their own only).
#[utoipa::path(get, path = "/api/v1/schools", tag = "schools", params(SchoolQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of schools", body = Envelope<Vec<SchoolRecord>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, caller: Caller, q: ApiQuery<SchoolQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let page_of = params::page(q.page, q.per_page)?;
    let sort = params::sort(q.sort.as_deref())?;
    let filter = SchoolFilter { name: q.name, sort, page: page_of };
    Ok(page("schools", ctx.store.list_schools(caller.scope(), &filter).await?, page_of))
}

/// Create a school (super admin).
#[utoipa::path(post, path = "/api/v1/schools", tag = "schools", request_body = CreateSchool, security(("bearer" = [])),
    responses((status = 201, description = "The new school", body = Envelope<SchoolRecord>),
              (status = 403, description = "Not a super admin", body = ErrorEnvelope),
              (status = 422, description = "Invalid field", body = ErrorEnvelope)))]
pub async fn create(
    ctx: web::Data<State>,
    _: SuperAdmin,
    body: ApiJson<CreateSchool>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let school = NewSchool {
        name: validate::name("name", &body.name, 200)?,
        timezone: validate::timezone("timezone", &body.timezone)?,
        pin_start: body.pin_start.map(validate::pin_start).transpose()?,
    };
    Ok(created("school created", ctx.store.add_school(&school).await?))
}

/// One school.
#[utoipa::path(get, path = "/api/v1/schools/{id}", tag = "schools", params(("id" = i64, Path, description = "School id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The school", body = Envelope<SchoolRecord>),
              (status = 404, description = "No such school in your scope", body = ErrorEnvelope)))]
pub async fn get(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let school = ctx.store.get_school_record(caller.scope(), SchoolId(id.0)).await?;
    Ok(ok("school", school.ok_or_else(|| ApiError::NotFound("school not found".into()))?))
}

/// Change a school's name, time zone, first automatic PIN or sync policy (quiet hours, unknown users).
#[utoipa::path(patch, path = "/api/v1/schools/{id}", tag = "schools", params(("id" = i64, Path, description = "School id")),
    request_body = UpdateSchool, security(("bearer" = [])),
    responses((status = 200, description = "The school", body = Envelope<SchoolRecord>),
              (status = 400, description = "Bad quiet_hours or unknown_user_policy", body = ErrorEnvelope),
              (status = 404, description = "No such school in your scope", body = ErrorEnvelope),
              (status = 422, description = "Invalid field", body = ErrorEnvelope)))]
pub async fn update(
    ctx: web::Data<State>,
    caller: Caller,
    id: PathId,
    body: ApiJson<UpdateSchool>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let patch = SchoolPatch {
        name: body.name.as_deref().map(|n| validate::name("name", n, 200)).transpose()?,
        timezone: body.timezone.as_deref().map(|tz| validate::timezone("timezone", tz)).transpose()?,
        pin_start: body.pin_start.map(validate::pin_start).transpose()?,
        quiet_hours: body.quiet_hours.as_deref().map(quiet_hours).transpose()?,
        unknown_user_policy: body.unknown_user_policy.as_deref().map(unknown_user_policy).transpose()?,
        device_pinning: body.device_pinning.as_deref().map(device_pinning).transpose()?,
    };
    // The store announces the change: every instance drops the school's cached devices.
    let school = ctx.store.update_school(caller.scope(), SchoolId(id.0), &patch).await?;
    Ok(ok("school updated", school))
}

/// Delete a school and everything it owns (super admin; audited). Its devices go back to pending.
#[utoipa::path(delete, path = "/api/v1/schools/{id}", tag = "schools", params(("id" = i64, Path, description = "School id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The deleted school", body = Envelope<SchoolRecord>),
              (status = 403, description = "Not a super admin", body = ErrorEnvelope),
              (status = 404, description = "No such school", body = ErrorEnvelope)))]
pub async fn delete(
    ctx: web::Data<State>,
    SuperAdmin(caller): SuperAdmin,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let school = ctx
        .store
        .delete_school(SchoolId(id.0), &caller.audit("school.delete", "school", Some(id.0), Some(SchoolId(id.0))))
        .await?;
    Ok(ok("school deleted", school))
}

/// Quiet hours in their canonical form (`07:00-08:30,14:30-15:30`); a bad window is a 400 naming it.
fn quiet_hours(raw: &str) -> Result<String, ApiError> {
    let windows = crate::sync::quiet::parse(raw).map_err(|e| ApiError::parameter("quiet_hours", e))?;
    Ok(windows
        .iter()
        .map(|w| format!("{}-{}", w.start.format("%H:%M"), w.end.format("%H:%M")))
        .collect::<Vec<_>>()
        .join(","))
}

fn device_pinning(raw: &str) -> Result<String, ApiError> {
    match raw.trim() {
        p @ ("off" | "alert" | "refuse") => Ok(p.to_string()),
        _ => Err(ApiError::parameter("device_pinning", "must be off, alert or refuse")),
    }
}

fn unknown_user_policy(raw: &str) -> Result<String, ApiError> {
    match raw.trim() {
        policy @ ("report" | "delete") => Ok(policy.to_string()),
        _ => Err(ApiError::parameter("unknown_user_policy", "must be report or delete")),
    }
}
