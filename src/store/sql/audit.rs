//! The audit log and the job history.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Dialect, Json, SqlStore};
use crate::domain::SchoolId;
use crate::store::admin::SchoolScope;
use crate::store::admin::{AuditFilter, AuditRecord, AuditStore, JobFilter, JobRecord, JobStatus, NewAudit, Paged};
use crate::store::StoreResult;

/// Writes an audit entry inside the caller's transaction (so it commits with the action).
pub(super) async fn insert_audit<D: Dialect>(conn: &mut D::Connection, a: &NewAudit) -> StoreResult<()> {
    let empty = Value::Object(Default::default());
    let detail = if a.detail.is_null() { &empty } else { &a.detail };
    SqlStore::<D>::sql(
        "insert into audit_log (actor_id, actor_email, action, target_type, target_id, school_id, ip, detail, at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(a.actor_id)
    .bind(&a.actor_email)
    .bind(&a.action)
    .bind(&a.target_type)
    .bind(a.target_id)
    .bind(a.school_id)
    .bind(&a.ip)
    .bind(Json(detail))
    .bind(Utc::now())
    .run(conn)
    .await
}

const AUDIT_WHERE: &str = "where ($1 is null or action = $1) and ($2 is null or actor_id = $2)
    and ($3 is null or school_id = $3) and ($4 is null or at >= $4) and ($5 is null or at < $5)";

const JOB_COLUMNS: &str = "id, job, school_id, started_at, finished_at, status, summary, error, instance";
const JOB_WHERE: &str =
    "where ($1 is null or school_id = $1) and ($2 is null or job = $2) and ($3 is null or status = $3)";

#[async_trait]
impl<D: Dialect> AuditStore for SqlStore<D> {
    async fn record_audit(&self, entry: &NewAudit) -> StoreResult<()> {
        insert_audit::<D>(&mut *self.write_once().await?, entry).await
    }

    async fn list_audit(&self, f: &AuditFilter) -> StoreResult<Paged<AuditRecord>> {
        let sql = format!(
            "select id, at, actor_id, actor_email, action, target_type, target_id, school_id, ip, detail
             from audit_log {AUDIT_WHERE} order by at desc, id desc limit $6 offset $7"
        );
        let count = format!("select count(*) from audit_log {AUDIT_WHERE}");
        Self::paged(&mut *self.read().await?, &sql, &count, f.page, |q| {
            q.bind(&f.action).bind(f.actor_id).bind(f.school_id).bind(f.from).bind(f.to)
        })
        .await
    }

    async fn start_job(
        &self,
        job: &str,
        school_id: Option<SchoolId>,
        instance: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<i64> {
        Self::sql(
            "insert into job_executions (job, school_id, instance, started_at) values ($1, $2, $3, $4) returning id",
        )
        .bind(job)
        .bind(school_id)
        .bind(instance)
        .bind(now)
        .scalar(&mut *self.write_once().await?)
        .await
    }

    async fn finish_job(&self, id: i64, status: JobStatus, summary: &Value, error: Option<&str>) -> StoreResult<()> {
        Self::sql("update job_executions set finished_at = $5, status = $2, summary = $3, error = $4 where id = $1")
            .bind(id)
            .bind(status.as_str())
            .bind(Json(summary))
            .bind(error)
            .bind(Utc::now())
            .run(&mut *self.write_once().await?)
            .await
    }

    async fn job_progress(&self, id: i64, summary: &Value) -> StoreResult<()> {
        Self::sql("update job_executions set summary = $2 where id = $1 and status = 'running'")
            .bind(id)
            .bind(Json(summary))
            .run(&mut *self.write_once().await?)
            .await
    }

    async fn abandon_jobs(
        &self,
        started_before: DateTime<Utc>,
        except: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        Self::sql(
            "update job_executions set status = 'failed', finished_at = $3,
                error = 'abandoned: still marked running long after it started (its instance stopped, or could not record the end)'
             where status = 'running' and started_at < $1 and ($2 is null or id <> $2)",
        )
        .bind(started_before)
        .bind(except)
        .bind(now)
        .execute(&mut *self.write_once().await?)
        .await
    }

    async fn list_jobs(&self, f: &JobFilter) -> StoreResult<Paged<JobRecord>> {
        let sql = format!(
            "select {JOB_COLUMNS} from job_executions {JOB_WHERE} order by started_at desc, id desc limit $4 offset $5"
        );
        let count = format!("select count(*) from job_executions {JOB_WHERE}");
        Self::paged(&mut *self.read().await?, &sql, &count, f.page, |q| {
            q.bind(f.scope.school_id()).bind(&f.job).bind(f.status.map(JobStatus::as_str))
        })
        .await
    }

    async fn get_job(&self, scope: SchoolScope, id: i64) -> StoreResult<Option<JobRecord>> {
        let sql = format!("select {JOB_COLUMNS} from job_executions where id = $1 and ($2 is null or school_id = $2)");
        Self::in_scope(&mut *self.read().await?, &sql, id, scope).await
    }
}
