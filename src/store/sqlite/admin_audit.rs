//! Audit log and job history on SQLite.

use async_trait::async_trait;
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};

use super::SqliteStore;
use crate::store::admin::{
    AuditFilter, AuditRecord, AuditStore, JobFilter, JobRecord, JobStatus, NewAudit, Paged, SchoolScope,
};
use crate::store::{StoreError, StoreResult};

/// Writes an audit entry inside the caller's transaction (so it commits with the action).
pub(super) async fn insert_audit(conn: &mut SqliteConnection, a: &NewAudit) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into audit_log (actor_id, actor_email, action, target_type, target_id, school_id, ip, detail)
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .bind(a.actor_id)
    .bind(&a.actor_email)
    .bind(&a.action)
    .bind(&a.target_type)
    .bind(a.target_id)
    .bind(a.school_id)
    .bind(&a.ip)
    .bind(if a.detail.is_null() { "{}".to_string() } else { a.detail.to_string() })
    .execute(conn)
    .await?;
    Ok(())
}

/// JSON kept as text; a value that does not parse is shown as the string it is.
fn json_column(r: &SqliteRow, column: &str) -> Value {
    let text: String = r.get(column);
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

fn audit_from_row(r: &SqliteRow) -> AuditRecord {
    AuditRecord {
        id: r.get("id"),
        at: r.get("at"),
        actor_id: r.get("actor_id"),
        actor_email: r.get("actor_email"),
        action: r.get("action"),
        target_type: r.get("target_type"),
        target_id: r.get("target_id"),
        school_id: r.get("school_id"),
        ip: r.get("ip"),
        detail: json_column(r, "detail"),
    }
}

fn job_from_row(r: &SqliteRow) -> StoreResult<JobRecord> {
    let status: String = r.get("status");
    Ok(JobRecord {
        id: r.get("id"),
        job: r.get("job"),
        school_id: r.get("school_id"),
        started_at: r.get("started_at"),
        finished_at: r.get("finished_at"),
        status: JobStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("job status {status}")))?,
        summary: json_column(r, "summary"),
        error: r.get("error"),
        instance: r.get("instance"),
    })
}

const AUDIT_WHERE: &str = "where (?1 is null or action = ?1) and (?2 is null or actor_id = ?2)
    and (?3 is null or school_id = ?3) and (?4 is null or at >= ?4)
    and (?5 is null or at < ?5)";

const JOB_COLUMNS: &str = "id, job, school_id, started_at, finished_at, status, summary, error, instance";
const JOB_WHERE: &str = "where (?1 is null or school_id = ?1) and (?2 is null or job = ?2)
    and (?3 is null or status = ?3)";

#[async_trait]
impl AuditStore for SqliteStore {
    async fn record_audit(&self, entry: &NewAudit) -> StoreResult<()> {
        let _w = self.writer.lock().await;
        let mut conn = self.pool.acquire().await?;
        insert_audit(&mut conn, entry).await?;
        Ok(())
    }

    async fn list_audit(&self, f: &AuditFilter) -> StoreResult<Paged<AuditRecord>> {
        let sql = format!(
            "select id, at, actor_id, actor_email, action, target_type, target_id, school_id, ip, detail
             from audit_log {AUDIT_WHERE} order by at desc, id desc limit ?6 offset ?7"
        );
        let rows = sqlx::query(&sql)
            .bind(&f.action)
            .bind(f.actor_id)
            .bind(f.school_id)
            .bind(f.from)
            .bind(f.to)
            .bind(f.page.limit)
            .bind(f.page.offset)
            .fetch_all(&self.pool)
            .await?;
        let total = sqlx::query_scalar(&format!("select count(*) from audit_log {AUDIT_WHERE}"))
            .bind(&f.action)
            .bind(f.actor_id)
            .bind(f.school_id)
            .bind(f.from)
            .bind(f.to)
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items: rows.iter().map(audit_from_row).collect(), total })
    }

    async fn start_job(&self, job: &str, school_id: Option<i64>, instance: Option<&str>) -> StoreResult<i64> {
        let _w = self.writer.lock().await;
        Ok(sqlx::query_scalar("insert into job_executions (job, school_id, instance) values (?1, ?2, ?3) returning id")
            .bind(job)
            .bind(school_id)
            .bind(instance)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn finish_job(&self, id: i64, status: JobStatus, summary: &Value, error: Option<&str>) -> StoreResult<()> {
        let _w = self.writer.lock().await;
        sqlx::query("update job_executions set finished_at = strftime('%Y-%m-%dT%H:%M:%f+00:00','now'), status = ?2, summary = ?3, error = ?4 where id = ?1")
            .bind(id)
            .bind(status.as_str())
            .bind(summary.to_string())
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn list_jobs(&self, f: &JobFilter) -> StoreResult<Paged<JobRecord>> {
        let sql = format!(
            "select {JOB_COLUMNS} from job_executions {JOB_WHERE} order by started_at desc, id desc limit ?4 offset ?5"
        );
        let rows = sqlx::query(&sql)
            .bind(f.scope.school_id())
            .bind(&f.job)
            .bind(f.status.map(JobStatus::as_str))
            .bind(f.page.limit)
            .bind(f.page.offset)
            .fetch_all(&self.pool)
            .await?;
        let total = sqlx::query_scalar(&format!("select count(*) from job_executions {JOB_WHERE}"))
            .bind(f.scope.school_id())
            .bind(&f.job)
            .bind(f.status.map(JobStatus::as_str))
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items: rows.iter().map(job_from_row).collect::<StoreResult<_>>()?, total })
    }

    async fn get_job(&self, scope: SchoolScope, id: i64) -> StoreResult<Option<JobRecord>> {
        let sql = format!("select {JOB_COLUMNS} from job_executions where id = ?1 and (?2 is null or school_id = ?2)");
        sqlx::query(&sql)
            .bind(id)
            .bind(scope.school_id())
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(job_from_row)
            .transpose()
    }
}
