//! The audit log of sensitive actions and the history of background jobs.

use crate::domain::SchoolId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{Page, Paged, SchoolScope};
use crate::store::StoreResult;

/// A sensitive action to record: who did what to which row, from where.
#[derive(Debug, Clone, Default)]
pub struct NewAudit {
    pub actor_id: Option<i64>,
    pub actor_email: Option<String>,
    /// Stable dotted name, e.g. `auth.login`, `student.delete`, `device.approve`.
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    pub school_id: Option<SchoolId>,
    pub ip: Option<String>,
    pub detail: Value,
}

/// A recorded audit entry.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor_email: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    pub school_id: Option<SchoolId>,
    pub ip: Option<String>,
    #[sqlx(try_from = "crate::store::sql::JsonText")]
    pub detail: Value,
}

/// Audit log query; all filters optional, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_id: Option<i64>,
    pub school_id: Option<SchoolId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub page: Page,
}

/// Where a job run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Succeeded,
    Failed,
}

impl JobStatus {
    /// The stored (and JSON) name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Succeeded => "succeeded",
            JobStatus::Failed => "failed",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "running" => Some(JobStatus::Running),
            "succeeded" => Some(JobStatus::Succeeded),
            "failed" => Some(JobStatus::Failed),
            _ => None,
        }
    }
}

impl TryFrom<String> for JobStatus {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown job status {s:?}"))
    }
}

/// One run of a background job (verifier, area sync, pull polling) with its outcome.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct JobRecord {
    pub id: i64,
    pub job: String,
    /// The school the run was for; `None` for runs over every school.
    pub school_id: Option<SchoolId>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    #[sqlx(try_from = "String")]
    pub status: JobStatus,
    #[sqlx(try_from = "crate::store::sql::JsonText")]
    pub summary: Value,
    pub error: Option<String>,
    pub instance: Option<String>,
}

/// Job history query, newest first. Runs over every school are visible to the `all` scope only.
#[derive(Debug, Clone)]
pub struct JobFilter {
    pub scope: SchoolScope,
    pub job: Option<String>,
    pub status: Option<JobStatus>,
    pub page: Page,
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn record_audit(&self, entry: &NewAudit) -> StoreResult<()>;
    async fn list_audit(&self, filter: &AuditFilter) -> StoreResult<Paged<AuditRecord>>;

    /// Records the start of a job run; returns its id.
    async fn start_job(
        &self,
        job: &str,
        school_id: Option<SchoolId>,
        instance: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<i64>;
    /// Records how a job run ended.
    async fn finish_job(&self, id: i64, status: JobStatus, summary: &Value, error: Option<&str>) -> StoreResult<()>;
    /// Replaces the summary of a run still `running` (its live progress, readable by every
    /// instance); a finished run is left as it is.
    async fn job_progress(&self, id: i64, summary: &Value) -> StoreResult<()>;
    /// Marks failed, as abandoned, the runs still `running` that started before `started_before`
    /// (except `except`); returns how many.
    async fn abandon_jobs(
        &self,
        started_before: DateTime<Utc>,
        except: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64>;
    async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Paged<JobRecord>>;
    async fn get_job(&self, scope: SchoolScope, id: i64) -> StoreResult<Option<JobRecord>>;
}
