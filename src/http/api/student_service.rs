//! The student operations, one function per write. Each does its store work in ONE store
//! call (one transaction), so work that must happen with a student change (queueing device
//! commands) is added here and in that store method, and nowhere else. The store queues the
//! devices' USERINFO commands inside the student's transaction; here the devices' queue hints
//! are woken so that the next poll picks them up.

use super::auth::Caller;
use super::error::ApiError;
use super::student_csv::ParsedImport;
use crate::app::AppContext;
use crate::store::admin::{AdminError, ImportReport, NewStudentInput, StudentPatch, StudentRecord};

/// Creates a student (the PIN is the next free one of the school unless given) in a school of
/// the caller's scope (another school is a 404).
pub async fn create_student(
    ctx: &AppContext,
    caller: &Caller,
    student: NewStudentInput,
) -> Result<StudentRecord, ApiError> {
    if !caller.scope().allows(Some(student.school_id)) {
        return Err(ApiError::NotFound("school not found".into()));
    }
    let created = ctx.store.add_student(&student).await?;
    crate::sync::wake_school(ctx, created.school_id).await;
    Ok(created)
}

/// Changes a student of the caller's scope (PIN and school never change).
pub async fn update_student(
    ctx: &AppContext,
    caller: &Caller,
    id: i64,
    patch: StudentPatch,
) -> Result<StudentRecord, ApiError> {
    let updated = ctx.store.update_student(caller.scope(), id, &patch).await?;
    crate::sync::wake_school(ctx, updated.school_id).await;
    Ok(updated)
}

/// Deletes (soft) a student of the caller's scope: the PIN stays reserved; audited.
pub async fn delete_student(ctx: &AppContext, caller: &Caller, id: i64) -> Result<StudentRecord, ApiError> {
    let current = ctx
        .store
        .get_student(caller.scope(), id)
        .await?
        .ok_or_else(|| ApiError::NotFound("student not found".into()))?;
    let mut audit = caller.audit("student.delete", "student", Some(id), Some(current.school_id));
    audit.detail = serde_json::json!({ "pin": current.pin, "full_name": current.full_name });
    let deleted = ctx.store.delete_student(caller.scope(), id, &audit).await?;
    crate::sync::wake_school(ctx, deleted.school_id).await;
    Ok(deleted)
}

/// Imports parsed CSV rows into one school, all or nothing. When some rows failed to parse,
/// the others are still checked against the roster (dry run) so that one reply lists every problem.
pub async fn import_students(
    ctx: &AppContext,
    caller: &Caller,
    school_id: i64,
    parsed: ParsedImport,
    dry_run: bool,
) -> Result<ImportReport, ApiError> {
    if !caller.scope().allows(Some(school_id)) {
        return Err(ApiError::NotFound("school not found".into()));
    }
    let mut audit = caller.audit("student.import", "school", Some(school_id), Some(school_id));
    audit.detail = serde_json::json!({ "rows": parsed.rows.len() });
    if parsed.errors.is_empty() {
        let report = ctx.store.import_students(school_id, &parsed.rows, dry_run, &audit).await?;
        crate::sync::wake_school(ctx, school_id).await;
        return Ok(report);
    }
    let mut errors = parsed.errors;
    match ctx.store.import_students(school_id, &parsed.rows, true, &audit).await {
        Ok(_) => {}
        Err(AdminError::Rows(more)) => errors.extend(more),
        Err(other) => return Err(other.into()),
    }
    errors.sort_by_key(|e| e.row);
    Err(ApiError::Rows(errors))
}
