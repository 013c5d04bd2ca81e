//! Students on PostgreSQL. Every write locks its school row first (`for update`), so PIN
//! assignment and card checks are serialised per school across instances.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::Utc;
use sqlx::PgConnection;

use super::admin_audit::insert_audit;
use super::PgStore;
use crate::store::admin::import_plan::{first_free_pin, plan_import, PlannedFields, RosterSnapshot, SnapshotStudent};
use crate::store::admin::{
    contains_pattern, AdminError, AdminResult, ImportReport, ImportRow, NewAudit, NewStudentInput, Paged, SchoolScope,
    StudentFilter, StudentPatch, StudentRecord, StudentStore,
};
use crate::store::sync::{ReconcileOptions, SyncScope};
use crate::store::StoreResult;
use crate::sync::plan::SyncMode;

/// Queues the device side of a student change in the same transaction: USERINFO updates or
/// deletes for every approved push device of the school, and their sync rows.
/// `bulk` (CSV import) applies the per-device delete cap: an import that removes more students
/// than the cap allows queues none of those deletes, and the verifier raises the alert an admin
/// confirms (a broken roster file never wipes the gates).
async fn sync_students(conn: &mut PgConnection, school_id: i64, students: Vec<i64>, bulk: bool) -> StoreResult<()> {
    if students.is_empty() {
        return Ok(());
    }
    let scope = SyncScope { school_id, device_ids: None, student_ids: Some(students) };
    let opts = ReconcileOptions {
        cap_deletes: bulk,
        ..ReconcileOptions::new(if bulk { "student import" } else { "student change" })
    };
    super::sync::reconcile_in(conn, &scope, SyncMode::StudentChanged, &opts).await?;
    Ok(())
}

const COLUMNS: &str =
    "id, school_id, class_id, section_id, full_name, rfid_card_id, pin, is_active, created_at, updated_at";
const WHERE: &str = "where deleted_at is null and ($1::bigint is null or school_id = $1)
    and ($2::bigint is null or school_id = $2) and ($3::bigint is null or class_id = $3)
    and ($4::bigint is null or section_id = $4) and ($5::boolean is null or is_active = $5)
    and ($6::text is null or pin = $6) and ($7::text is null or rfid_card_id = $7)
    and ($8::text is null or lower(full_name) like lower($8) escape '\\')";

/// Locks the school row and returns its PIN counter; `None` when the school does not exist.
async fn lock_school(conn: &mut PgConnection, school_id: i64) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("select next_pin from schools where id = $1 for update")
        .bind(school_id)
        .fetch_optional(conn)
        .await
}

/// Class and section must be of the school; a section of a class must match the class given.
async fn check_refs(
    conn: &mut PgConnection,
    school_id: i64,
    class_id: Option<i64>,
    section_id: Option<i64>,
) -> AdminResult<()> {
    if let Some(class_id) = class_id {
        let found: Option<i64> = sqlx::query_scalar("select id from classes where id = $1 and school_id = $2")
            .bind(class_id)
            .bind(school_id)
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            return Err(AdminError::Invalid {
                field: "class_id",
                message: format!("no class {class_id} in this school"),
            });
        }
    }
    if let Some(section_id) = section_id {
        let found: Option<(i64, Option<i64>)> =
            sqlx::query_as("select id, class_id from sections where id = $1 and school_id = $2")
                .bind(section_id)
                .bind(school_id)
                .fetch_optional(&mut *conn)
                .await?;
        match found {
            None => {
                return Err(AdminError::Invalid {
                    field: "section_id",
                    message: format!("no section {section_id} in this school"),
                })
            }
            Some((_, Some(section_class))) if class_id.is_some_and(|c| c != section_class) => {
                return Err(AdminError::Invalid {
                    field: "section_id",
                    message: format!("section {section_id} belongs to class {section_class}"),
                })
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A card may be held by one live student of a school.
async fn check_card(conn: &mut PgConnection, school_id: i64, card: &str, except: Option<i64>) -> AdminResult<()> {
    let holder: Option<(i64, String)> = sqlx::query_as(
        "select id, full_name from students
         where school_id = $1 and rfid_card_id = $2 and deleted_at is null and ($3::bigint is null or id <> $3)",
    )
    .bind(school_id)
    .bind(card)
    .bind(except)
    .fetch_optional(conn)
    .await?;
    match holder {
        Some((id, name)) => Err(AdminError::Conflict {
            field: "rfid_card_id",
            message: format!("card {card} is already assigned to student {id} ({name})"),
        }),
        None => Ok(()),
    }
}

/// Checks an explicit PIN is unused (by live or deleted students) in the school.
async fn check_pin_free(conn: &mut PgConnection, school_id: i64, pin: &str) -> AdminResult<()> {
    let holder: Option<(i64, String, bool)> =
        sqlx::query_as("select id, full_name, deleted_at is not null from students where school_id = $1 and pin = $2")
            .bind(school_id)
            .bind(pin)
            .fetch_optional(conn)
            .await?;
    match holder {
        None => Ok(()),
        Some((_, _, true)) => Err(AdminError::Conflict {
            field: "pin",
            message: format!("PIN {pin} belonged to a deleted student and stays reserved"),
        }),
        Some((id, name, false)) => Err(AdminError::Conflict {
            field: "pin",
            message: format!("PIN {pin} is already used by student {id} ({name})"),
        }),
    }
}

/// The next free automatic PIN from `counter`; the common case costs one lookup.
async fn next_free_pin(conn: &mut PgConnection, school_id: i64, counter: i64) -> AdminResult<i64> {
    let taken: Option<i64> = sqlx::query_scalar("select id from students where school_id = $1 and pin = $2")
        .bind(school_id)
        .bind(counter.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    if taken.is_none() {
        return Ok(counter);
    }
    let used: HashSet<String> = sqlx::query_scalar("select pin from students where school_id = $1")
        .bind(school_id)
        .fetch_all(conn)
        .await?
        .into_iter()
        .collect();
    first_free_pin(counter, &used)
        .ok_or_else(|| AdminError::Conflict { field: "pin", message: "this school has no free PIN left".into() })
}

async fn insert_student(
    conn: &mut PgConnection,
    school_id: i64,
    pin: &str,
    f: &PlannedFields,
) -> Result<StudentRecord, sqlx::Error> {
    let now = Utc::now();
    let sql = format!(
        "insert into students (school_id, class_id, section_id, full_name, rfid_card_id, pin, is_active, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $8) returning {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(school_id)
        .bind(f.class_id)
        .bind(f.section_id)
        .bind(&f.full_name)
        .bind(&f.rfid_card_id)
        .bind(pin)
        .bind(f.is_active)
        .bind(now)
        .fetch_one(conn)
        .await
}

async fn write_student(conn: &mut PgConnection, id: i64, f: &PlannedFields) -> Result<StudentRecord, sqlx::Error> {
    let sql = format!(
        "update students set full_name = $2, rfid_card_id = $3, class_id = $4, section_id = $5, is_active = $6, updated_at = $7
         where id = $1 returning {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(&f.full_name)
        .bind(&f.rfid_card_id)
        .bind(f.class_id)
        .bind(f.section_id)
        .bind(f.is_active)
        .bind(Utc::now())
        .fetch_one(conn)
        .await
}

async fn snapshot(conn: &mut PgConnection, school_id: i64, next_pin: i64) -> Result<RosterSnapshot, sqlx::Error> {
    let classes = sqlx::query_as("select id, name from classes where school_id = $1")
        .bind(school_id)
        .fetch_all(&mut *conn)
        .await?;
    let sections = sqlx::query_as("select id, class_id, name from sections where school_id = $1")
        .bind(school_id)
        .fetch_all(&mut *conn)
        .await?;
    let rows: Vec<(i64, String, Option<String>, bool)> =
        sqlx::query_as("select id, pin, rfid_card_id, deleted_at is not null from students where school_id = $1")
            .bind(school_id)
            .fetch_all(&mut *conn)
            .await?;
    let students = rows
        .into_iter()
        .map(|(id, pin, rfid_card_id, deleted)| SnapshotStudent { id, pin, rfid_card_id, deleted })
        .collect();
    Ok(RosterSnapshot { next_pin, classes, sections, students })
}

#[async_trait]
impl StudentStore for PgStore {
    async fn list_students(&self, f: &StudentFilter) -> StoreResult<Paged<StudentRecord>> {
        let pattern = f.name.as_deref().map(contains_pattern);
        let sql = format!("select {COLUMNS} from students {WHERE} {} limit $9 offset $10", f.sort.order_by("id"));
        let items = sqlx::query_as(&sql)
            .bind(f.scope.school_id())
            .bind(f.school_id)
            .bind(f.class_id)
            .bind(f.section_id)
            .bind(f.is_active)
            .bind(&f.pin)
            .bind(&f.rfid_card_id)
            .bind(&pattern)
            .bind(f.page.limit)
            .bind(f.page.offset)
            .fetch_all(&self.pool)
            .await?;
        let total = sqlx::query_scalar(&format!("select count(*) from students {WHERE}"))
            .bind(f.scope.school_id())
            .bind(f.school_id)
            .bind(f.class_id)
            .bind(f.section_id)
            .bind(f.is_active)
            .bind(&f.pin)
            .bind(&f.rfid_card_id)
            .bind(&pattern)
            .fetch_one(&self.pool)
            .await?;
        Ok(Paged { items, total })
    }

    async fn get_student(&self, scope: SchoolScope, id: i64) -> StoreResult<Option<StudentRecord>> {
        let sql = format!(
            "select {COLUMNS} from students where id = $1 and deleted_at is null and ($2::bigint is null or school_id = $2)"
        );
        Ok(sqlx::query_as(&sql).bind(id).bind(scope.school_id()).fetch_optional(&self.pool).await?)
    }

    async fn add_student(&self, s: &NewStudentInput) -> AdminResult<StudentRecord> {
        let mut tx = self.pool.begin().await?;
        let counter = lock_school(&mut tx, s.school_id).await?.ok_or(AdminError::NotFound("school"))?;
        check_refs(&mut tx, s.school_id, s.class_id, s.section_id).await?;
        if let Some(card) = &s.rfid_card_id {
            check_card(&mut tx, s.school_id, card, None).await?;
        }
        let pin = match &s.pin {
            Some(pin) => {
                check_pin_free(&mut tx, s.school_id, pin).await?;
                pin.clone()
            }
            None => {
                let pin = next_free_pin(&mut tx, s.school_id, counter).await?;
                sqlx::query("update schools set next_pin = $2 where id = $1")
                    .bind(s.school_id)
                    .bind(pin + 1)
                    .execute(&mut *tx)
                    .await?;
                pin.to_string()
            }
        };
        let fields = PlannedFields {
            full_name: s.full_name.clone(),
            rfid_card_id: s.rfid_card_id.clone(),
            class_id: s.class_id,
            section_id: s.section_id,
            is_active: s.is_active,
        };
        let student = insert_student(&mut tx, s.school_id, &pin, &fields).await?;
        sync_students(&mut tx, s.school_id, vec![student.id], false).await?;
        tx.commit().await?;
        Ok(student)
    }

    async fn update_student(&self, scope: SchoolScope, id: i64, p: &StudentPatch) -> AdminResult<StudentRecord> {
        let mut tx = self.pool.begin().await?;
        let school_id: i64 = sqlx::query_scalar(
            "select school_id from students where id = $1 and deleted_at is null and ($2::bigint is null or school_id = $2)",
        )
        .bind(id)
        .bind(scope.school_id())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AdminError::NotFound("student"))?;
        lock_school(&mut tx, school_id).await?;
        let sql = format!("select {COLUMNS} from students where id = $1 for update");
        let current: StudentRecord = sqlx::query_as(&sql).bind(id).fetch_one(&mut *tx).await?;
        let fields = PlannedFields {
            full_name: p.full_name.clone().unwrap_or(current.full_name.clone()),
            rfid_card_id: p.rfid_card_id.clone().unwrap_or(current.rfid_card_id.clone()),
            class_id: p.class_id.unwrap_or(current.class_id),
            section_id: p.section_id.unwrap_or(current.section_id),
            is_active: p.is_active.unwrap_or(current.is_active),
        };
        check_refs(&mut tx, school_id, fields.class_id, fields.section_id).await?;
        if let Some(card) = fields.rfid_card_id.as_deref().filter(|c| Some(*c) != current.rfid_card_id.as_deref()) {
            check_card(&mut tx, school_id, card, Some(id)).await?;
        }
        let student = write_student(&mut tx, id, &fields).await?;
        sync_students(&mut tx, school_id, vec![id], false).await?;
        tx.commit().await?;
        Ok(student)
    }

    async fn delete_student(&self, scope: SchoolScope, id: i64, audit: &NewAudit) -> AdminResult<StudentRecord> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "update students set deleted_at = $3, is_active = false, updated_at = $3
             where id = $1 and deleted_at is null and ($2::bigint is null or school_id = $2) returning {COLUMNS}"
        );
        let student: StudentRecord = sqlx::query_as(&sql)
            .bind(id)
            .bind(scope.school_id())
            .bind(Utc::now())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(AdminError::NotFound("student"))?;
        sync_students(&mut tx, student.school_id, vec![student.id], false).await?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(student)
    }

    async fn import_students(
        &self,
        school_id: i64,
        rows: &[ImportRow],
        dry_run: bool,
        audit: &NewAudit,
    ) -> AdminResult<ImportReport> {
        let mut tx = self.pool.begin().await?;
        let counter = lock_school(&mut tx, school_id).await?.ok_or(AdminError::NotFound("school"))?;
        let roster = snapshot(&mut tx, school_id, counter).await?;
        let plan = plan_import(&roster, rows).map_err(AdminError::Rows)?;
        let report =
            ImportReport { rows: rows.len(), created: plan.creates.len(), updated: plan.updates.len(), dry_run };
        if dry_run {
            return Ok(report);
        }
        if !plan.release_cards.is_empty() {
            sqlx::query("update students set rfid_card_id = null where id = any($1)")
                .bind(&plan.release_cards)
                .execute(&mut *tx)
                .await?;
        }
        let mut changed = Vec::with_capacity(rows.len());
        for (id, fields) in &plan.updates {
            changed.push(write_student(&mut tx, *id, fields).await?.id);
        }
        for (pin, fields) in &plan.creates {
            changed.push(insert_student(&mut tx, school_id, pin, fields).await?.id);
        }
        changed.extend(plan.release_cards.iter().copied());
        sync_students(&mut tx, school_id, changed, true).await?;
        sqlx::query("update schools set next_pin = $2 where id = $1")
            .bind(school_id)
            .bind(plan.next_pin)
            .execute(&mut *tx)
            .await?;
        let detail = serde_json::json!({ "rows": report.rows, "created": report.created, "updated": report.updated });
        insert_audit(&mut tx, &NewAudit { detail, ..audit.clone() }).await?;
        tx.commit().await?;
        Ok(report)
    }
}
