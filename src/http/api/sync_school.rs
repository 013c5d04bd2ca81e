//! `/sync/summary`, `/sync/verify`, `/sync/alerts…`: a school's student sync across its devices.
//! A school admin works on their own school (naming another is a 404); a super admin names the
//! school (required for the summary, optional elsewhere: all schools).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::envelope::{ok, Envelope, ErrorEnvelope};
use super::error::{field, ApiError};
use super::extract::{ApiQuery, PathId};
use crate::domain::SchoolId;
use crate::http::State;
use crate::store::sync::{DeviceSyncSummary, SyncAlert};
use crate::sync::verifier::{self, VerifyOptions, VerifyRun};

/// The alert kind the verifier raises when it refuses more deletes than the cap allows.

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SchoolQuery {
    /// The school (a school admin's own school when left out).
    pub school_id: Option<SchoolId>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `true` (default): unresolved alerts only; `false`: the latest 200, resolved ones too.
    pub open: Option<bool>,
    /// The school (a school admin's own school when left out; all schools for a super admin).
    pub school_id: Option<SchoolId>,
}

/// The school the request is about: a school admin's own (another is a 404), or the one a super
/// admin named (which must exist). `None` only for a super admin who named none.
async fn school_of(ctx: &State, caller: &Caller, requested: Option<SchoolId>) -> Result<Option<SchoolId>, ApiError> {
    let school = caller.school_filter(requested)?.or(caller.scope().school_id());
    if let Some(id) = school {
        ctx.store
            .get_school_record(caller.scope(), id)
            .await?
            .ok_or_else(|| ApiError::NotFound("school not found".into()))?;
    }
    Ok(school)
}

/// Sync counts of every approved device of a school.
#[utoipa::path(get, path = "/api/v1/sync/summary", tag = "sync", params(SchoolQuery), security(("bearer" = [])),
    responses((status = 200, description = "One line per device", body = Envelope<Vec<DeviceSyncSummary>>),
              (status = 400, description = "A super admin must give school_id", body = ErrorEnvelope),
              (status = 404, description = "No such school in your scope", body = ErrorEnvelope)))]
pub async fn summary(
    ctx: web::Data<State>,
    caller: Caller,
    q: ApiQuery<SchoolQuery>,
) -> Result<HttpResponse, ApiError> {
    let school = school_of(&ctx, &caller, q.0.school_id)
        .await?
        .ok_or_else(|| ApiError::parameter("school_id", "is required for a super admin"))?;
    Ok(ok("sync summary", ctx.store.school_sync_summary(school).await?))
}

/// Run the verifier now (it also runs every two hours): queue what the devices miss, read their
/// users back, raise delete-cap alerts. Schools in quiet hours are reported deferred. Audited.
#[utoipa::path(post, path = "/api/v1/sync/verify", tag = "sync", params(SchoolQuery), security(("bearer" = [])),
    responses((status = 200, description = "Findings per school and device (`skipped` when another instance is running it)",
                body = Envelope<VerifyRun>),
              (status = 404, description = "No such school in your scope", body = ErrorEnvelope)))]
pub async fn verify(ctx: web::Data<State>, caller: Caller, q: ApiQuery<SchoolQuery>) -> Result<HttpResponse, ApiError> {
    let school = school_of(&ctx, &caller, q.0.school_id).await?;
    let mut opts = VerifyOptions::new(&format!("api:{}", caller.user.email), ctx.clock.now());
    opts.school_id = school;
    let run = verifier::run(&ctx, opts).await?;
    let mut entry = caller.audit("sync.verify", "school", school.map(|s| s.0), school);
    entry.detail = serde_json::json!({ "job_id": run.job_id, "skipped": run.skipped });
    ctx.store.record_audit(&entry).await?;
    let message = if run.skipped { "the verifier is running on another instance; skipped" } else { "verifier run" };
    Ok(ok(message, run))
}

/// Sync safety alerts (the verifier held back deletes beyond the cap), newest first.
#[utoipa::path(get, path = "/api/v1/sync/alerts", tag = "sync", params(AlertQuery), security(("bearer" = [])),
    responses((status = 200, description = "Alerts, newest first", body = Envelope<Vec<SyncAlert>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope),
              (status = 404, description = "No such school in your scope", body = ErrorEnvelope)))]
pub async fn alerts(ctx: web::Data<State>, caller: Caller, q: ApiQuery<AlertQuery>) -> Result<HttpResponse, ApiError> {
    let school = school_of(&ctx, &caller, q.0.school_id).await?;
    Ok(ok("sync alerts", ctx.store.list_alerts(school, q.0.open.unwrap_or(true)).await?))
}

/// A confirmed alert and the deletes it released.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmedAlert {
    pub alert: SyncAlert,
    /// Deletes queued for the device now (0 for alerts that hold nothing back).
    pub deletes_queued: usize,
}

/// The alert, if it is in the caller's scope and still open (404 / 409 otherwise).
async fn open_alert(ctx: &State, caller: &Caller, id: i64) -> Result<SyncAlert, ApiError> {
    let alert = ctx
        .store
        .get_alert(id)
        .await?
        .filter(|a| caller.scope().allows(a.school_id))
        .ok_or_else(|| ApiError::NotFound("alert not found".into()))?;
    match alert.resolved_at {
        Some(_) => Err(already(alert.resolution.as_deref().unwrap_or("resolved"))),
        None => Ok(alert),
    }
}

fn already(resolution: &str) -> ApiError {
    ApiError::Conflict(field("alert", format!("is already resolved ({resolution})")))
}

/// Resolves the alert (see `verifier::resolve_alert`; a concurrent resolution is a 409) and audits it.
async fn resolve(
    ctx: &State,
    caller: &Caller,
    alert: &SyncAlert,
    confirm: bool,
) -> Result<(SyncAlert, usize), ApiError> {
    let (resolved, deletes) = verifier::resolve_alert(ctx, alert, confirm, &caller.user.email)
        .await?
        .ok_or_else(|| already("by another request"))?;
    let action = if confirm { "sync.alert.confirmed" } else { "sync.alert.dismissed" };
    let mut entry = caller.audit(action, "sync_alert", Some(alert.id), alert.school_id);
    entry.detail = serde_json::json!({ "device_id": alert.device_id, "kind": alert.kind });
    ctx.store.record_audit(&entry).await?;
    Ok((resolved, deletes))
}

/// Confirm an alert: the deletes the verifier held back are queued for the device now. Audited.
#[utoipa::path(post, path = "/api/v1/sync/alerts/{id}/confirm", tag = "sync",
    params(("id" = i64, Path, description = "Alert id")), security(("bearer" = [])),
    responses((status = 200, description = "The resolved alert and the deletes queued", body = Envelope<ConfirmedAlert>),
              (status = 404, description = "No such alert in your scope", body = ErrorEnvelope),
              (status = 409, description = "Already resolved", body = ErrorEnvelope)))]
pub async fn confirm(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let alert = open_alert(&ctx, &caller, id.0).await?;
    let (alert, deletes_queued) = resolve(&ctx, &caller, &alert, true).await?;
    Ok(ok(format!("alert confirmed; {deletes_queued} deletes queued"), ConfirmedAlert { alert, deletes_queued }))
}

/// Dismiss an alert: nothing is deleted (the next verifier run raises it again if the roster
/// still says so). Audited.
#[utoipa::path(post, path = "/api/v1/sync/alerts/{id}/dismiss", tag = "sync",
    params(("id" = i64, Path, description = "Alert id")), security(("bearer" = [])),
    responses((status = 200, description = "The resolved alert", body = Envelope<SyncAlert>),
              (status = 404, description = "No such alert in your scope", body = ErrorEnvelope),
              (status = 409, description = "Already resolved", body = ErrorEnvelope)))]
pub async fn dismiss(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let alert = open_alert(&ctx, &caller, id.0).await?;
    Ok(ok("alert dismissed", resolve(&ctx, &caller, &alert, false).await?.0))
}
