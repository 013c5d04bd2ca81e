//! Student writes: the one path every surface uses (API, dashboard, CSV import). Each is ONE
//! store call (one transaction) that also queues the devices' user commands; the store
//! announces the devices that got commands, so their queue hints wake on every instance.
//! Errors are `AdminError`s, which each surface maps to its own answer once.

use super::{Actor, Core};
use crate::domain::{ImportRow, RowError, SchoolId};
use crate::store::admin::{AdminError, AdminResult, ImportReport, NewStudentInput};
use crate::store::admin::{StudentPatch, StudentRecord};

/// Creates a student (the PIN is the next free one of the school unless given) in a school of
/// the actor's scope (another school is `NotFound`).
pub async fn create(core: &Core, actor: &Actor, student: NewStudentInput) -> AdminResult<StudentRecord> {
    if !actor.scope.allows(Some(student.school_id)) {
        return Err(AdminError::NotFound("school"));
    }
    core.store.add_student(&student).await
}

/// Changes a student of the actor's scope (PIN and school never change).
pub async fn update(core: &Core, actor: &Actor, id: i64, patch: StudentPatch) -> AdminResult<StudentRecord> {
    core.store.update_student(actor.scope, id, &patch).await
}

/// Deletes (soft) a student of the actor's scope: the PIN stays reserved; audited.
pub async fn delete(core: &Core, actor: &Actor, id: i64) -> AdminResult<StudentRecord> {
    let current = core.store.get_student(actor.scope, id).await?.ok_or(AdminError::NotFound("student"))?;
    let mut audit = actor.audit("student.delete", "student", Some(id), Some(current.school_id));
    audit.detail = serde_json::json!({ "pin": current.pin, "full_name": current.full_name });
    core.store.delete_student(actor.scope, id, &audit).await
}

/// Rows of a CSV file: those that parsed, and the problems of those that did not.
#[derive(Debug, Clone, Default)]
pub struct ParsedRows {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
}

/// Imports parsed rows into one school, all or nothing. When some rows failed to parse, the
/// others are still checked against the roster (dry run) so that one answer lists every problem.
pub async fn import(
    core: &Core,
    actor: &Actor,
    school_id: SchoolId,
    parsed: ParsedRows,
    dry_run: bool,
) -> AdminResult<ImportReport> {
    if !actor.scope.allows(Some(school_id)) {
        return Err(AdminError::NotFound("school"));
    }
    let mut audit = actor.audit("student.import", "school", Some(school_id.0), Some(school_id));
    audit.detail = serde_json::json!({ "rows": parsed.rows.len() });
    if parsed.errors.is_empty() {
        return core.store.import_students(school_id, &parsed.rows, dry_run, &audit).await;
    }
    let mut errors = parsed.errors;
    match core.store.import_students(school_id, &parsed.rows, true, &audit).await {
        Ok(_) => {}
        Err(AdminError::Rows(more)) => errors.extend(more),
        Err(other) => return Err(other),
    }
    errors.sort_by_key(|e| e.row);
    Err(AdminError::Rows(errors))
}
