//! `/jobs`: history of background job runs (verifier, sync) with their summaries and errors.
//! A school admin sees the runs for their school; runs over every school are super-admin only.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Caller;
use super::envelope::{ok, page, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{ApiQuery, PathId};
use super::params;
use crate::http::State;
use crate::store::admin::{JobFilter, JobRecord, JobStatus};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// Job name, e.g. `verifier`, `area_sync`.
    pub job: Option<String>,
    /// `running`, `succeeded` or `failed`.
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Job runs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of job runs", body = Envelope<Vec<JobRecord>>),
              (status = 400, description = "Bad query parameter", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, caller: Caller, q: ApiQuery<JobQuery>) -> Result<HttpResponse, ApiError> {
    let q = q.0;
    let status = match q.status.as_deref() {
        Some(s) => Some(
            JobStatus::parse(s).ok_or_else(|| ApiError::parameter("status", "must be running, succeeded or failed"))?,
        ),
        None => None,
    };
    let page_of = params::page(q.page, q.per_page)?;
    let filter = JobFilter { scope: caller.scope(), job: q.job, status, page: page_of };
    Ok(page("job runs", ctx.store.list_jobs(&filter).await?, page_of))
}

/// One job run.
#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "jobs", params(("id" = i64, Path, description = "Job run id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The job run", body = Envelope<JobRecord>),
              (status = 404, description = "No such job run in your scope", body = ErrorEnvelope)))]
pub async fn get(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let job = ctx.store.get_job(caller.scope(), id.0).await?;
    Ok(ok("job run", job.ok_or_else(|| ApiError::NotFound("job run not found".into()))?))
}
