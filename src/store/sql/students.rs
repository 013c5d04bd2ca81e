//! Students: the roster with its stable PINs, and CSV imports. Every write locks its school row
//! first (`for update` on PostgreSQL; SQLite's one writer already serialises), so PIN assignment
//! and card checks are serialised per school across instances. Every write also queues the
//! device side of the change (student sync) inside its own transaction.
//!
//! Import planning is pure and lives in `domain::roster_import`; here the snapshot is read
//! and the plan applied, set-based, in one transaction.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::audit::insert_audit;
use super::roster::check_class;
use super::{Dialect, List, Rows, SqlStore, WriteTx};
use crate::domain::roster_import::{first_free_pin, plan_import, PlannedFields, RosterSnapshot};
use crate::domain::sync::SyncMode;
use crate::domain::{ImportRow, SchoolId};
use crate::store::admin::{
    contains_pattern, AdminError, AdminResult, ImportReport, NewAudit, NewStudentInput, Paged, SchoolScope,
    StudentFilter, StudentPatch, StudentRecord, StudentStore,
};
use crate::store::sync::{ReconcileOptions, SyncScope};
use crate::store::StoreResult;

/// Queues the device side of a student change in the same transaction: USERINFO updates or
/// deletes for every approved device of the school, and their sync rows.
/// `bulk` (CSV import) applies the per-device delete cap: an import that removes more students
/// than the cap allows queues none of those deletes, and the verifier raises the alert an admin
/// confirms (a broken roster file never wipes the gates).
async fn sync_students<D: Dialect>(
    tx: &mut WriteTx<D>,
    school_id: SchoolId,
    students: Vec<i64>,
    bulk: bool,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if students.is_empty() {
        return Ok(());
    }
    let scope = SyncScope { school_id, device_ids: None, student_ids: Some(students) };
    let opts = ReconcileOptions {
        now,
        cap_deletes: bulk,
        ..ReconcileOptions::new(if bulk { "student import" } else { "student change" })
    };
    super::sync::reconcile_in::<D>(tx, &scope, SyncMode::StudentChanged, &opts).await?;
    Ok(())
}

const COLUMNS: &str =
    "id, school_id, class_id, section_id, full_name, rfid_card_id, pin, is_active, created_at, updated_at";
const WHERE: &str = "where deleted_at is null and ($1 is null or school_id = $1)
    and ($2 is null or school_id = $2) and ($3 is null or class_id = $3)
    and ($4 is null or section_id = $4) and ($5 is null or is_active = $5)
    and ($6 is null or pin = $6) and ($7 is null or rfid_card_id = $7)
    and ($8 is null or lower(full_name) like lower($8) escape '\\')";

/// Locks the school row and returns its PIN counter; `None` when the school does not exist.
async fn lock_school<D: Dialect>(conn: &mut D::Connection, school_id: SchoolId) -> StoreResult<Option<i64>> {
    let sql = format!("select next_pin from schools where id = $1 {}", D::FOR_UPDATE);
    SqlStore::<D>::sql(&sql).bind(school_id).scalar_optional(conn).await
}

/// Class and section must be of the school; a section of a class must match the class given.
async fn check_refs<D: Dialect>(
    conn: &mut D::Connection,
    school_id: SchoolId,
    class_id: Option<i64>,
    section_id: Option<i64>,
) -> AdminResult<()> {
    if let Some(class_id) = class_id {
        check_class::<D>(&mut *conn, school_id, class_id).await?;
    }
    if let Some(section_id) = section_id {
        let found: Option<(i64, Option<i64>)> =
            SqlStore::<D>::sql("select id, class_id from sections where id = $1 and school_id = $2")
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
async fn check_card<D: Dialect>(
    conn: &mut D::Connection,
    school_id: SchoolId,
    card: &str,
    except: Option<i64>,
) -> AdminResult<()> {
    let holder: Option<(i64, String)> = SqlStore::<D>::sql(
        "select id, full_name from students
         where school_id = $1 and rfid_card_id = $2 and deleted_at is null and ($3 is null or id <> $3)",
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
async fn check_pin_free<D: Dialect>(conn: &mut D::Connection, school_id: SchoolId, pin: &str) -> AdminResult<()> {
    let holder: Option<(i64, String, bool)> = SqlStore::<D>::sql(
        "select id, full_name, deleted_at is not null from students where school_id = $1 and pin = $2",
    )
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
async fn next_free_pin<D: Dialect>(conn: &mut D::Connection, school_id: SchoolId, counter: i64) -> AdminResult<i64> {
    let taken: Option<i64> = SqlStore::<D>::sql("select id from students where school_id = $1 and pin = $2")
        .bind(school_id)
        .bind(counter.to_string())
        .scalar_optional(&mut *conn)
        .await?;
    if taken.is_none() {
        return Ok(counter);
    }
    let used: HashSet<String> = SqlStore::<D>::sql("select pin from students where school_id = $1")
        .bind(school_id)
        .scalars::<String>(conn)
        .await?
        .into_iter()
        .collect();
    first_free_pin(counter, &used)
        .ok_or_else(|| AdminError::Conflict { field: "pin", message: "this school has no free PIN left".into() })
}

/// Sets the school's PIN counter (the caller holds the school lock).
async fn set_next_pin<D: Dialect>(conn: &mut D::Connection, school_id: SchoolId, next_pin: i64) -> StoreResult<()> {
    SqlStore::<D>::sql("update schools set next_pin = $2 where id = $1").bind(school_id).bind(next_pin).run(conn).await
}

/// `rows` with the columns of the planned fields (parameters in this order: new_name, new_card,
/// new_class, new_section, new_active). They are named apart from the table's columns, so
/// `returning` is unambiguous.
fn with_fields<'a>(rows: Rows, fields: impl Iterator<Item = &'a PlannedFields> + Clone) -> Rows {
    rows.text("new_name", fields.clone().map(|f| &f.full_name))
        .text("new_card", fields.clone().map(|f| f.rfid_card_id.as_ref()))
        .bigint("new_class", fields.clone().map(|f| f.class_id))
        .bigint("new_section", fields.clone().map(|f| f.section_id))
        .flag("new_active", fields.map(|f| f.is_active))
}

/// Writes students, (id, fields) each, in one statement: the planned updates of an import, or
/// the one student `update_student` changes.
async fn write_students<D: Dialect>(
    conn: &mut D::Connection,
    updates: &[(i64, PlannedFields)],
    now: DateTime<Utc>,
) -> StoreResult<Vec<StudentRecord>> {
    if updates.is_empty() {
        return Ok(Vec::new());
    }
    let ids = updates.iter().map(|(id, _)| *id);
    let rows = with_fields(Rows::new().bigint("student_id", ids), updates.iter().map(|(_, f)| f));
    let sql = format!(
        "update students as s set full_name = v.new_name, rfid_card_id = v.new_card, class_id = v.new_class,
             section_id = v.new_section, is_active = v.new_active, updated_at = $7
         from {} where s.id = v.student_id returning {COLUMNS}",
        D::rows(&rows, 1, "v")
    );
    SqlStore::<D>::sql(&sql).bind_rows(&rows).bind(now).fetch_all(conn).await
}

/// Inserts new students, (PIN, fields) each, in one statement: the planned creates of an import,
/// or the one student `add_student` creates.
async fn insert_students<D: Dialect>(
    conn: &mut D::Connection,
    school_id: SchoolId,
    creates: &[(String, PlannedFields)],
    now: DateTime<Utc>,
) -> StoreResult<Vec<StudentRecord>> {
    if creates.is_empty() {
        return Ok(Vec::new());
    }
    let pins = creates.iter().map(|(pin, _)| pin);
    let rows = with_fields(Rows::new().text("new_pin", pins), creates.iter().map(|(_, f)| f));
    let sql = format!(
        "insert into students (school_id, class_id, section_id, full_name, rfid_card_id, pin, is_active, created_at, updated_at)
         select $7, v.new_class, v.new_section, v.new_name, v.new_card, v.new_pin, v.new_active, $8, $8
         from {} returning {COLUMNS}",
        D::rows(&rows, 1, "v")
    );
    SqlStore::<D>::sql(&sql).bind_rows(&rows).bind(school_id).bind(now).fetch_all(conn).await
}

async fn snapshot<D: Dialect>(
    conn: &mut D::Connection,
    school_id: SchoolId,
    next_pin: i64,
) -> StoreResult<RosterSnapshot> {
    let classes = SqlStore::<D>::sql("select id, name from classes where school_id = $1")
        .bind(school_id)
        .fetch_all(&mut *conn)
        .await?;
    let sections = SqlStore::<D>::sql("select id, class_id, name from sections where school_id = $1")
        .bind(school_id)
        .fetch_all(&mut *conn)
        .await?;
    let students = SqlStore::<D>::sql(
        "select id, pin, rfid_card_id, deleted_at is not null as deleted from students where school_id = $1",
    )
    .bind(school_id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(RosterSnapshot { next_pin, classes, sections, students })
}

#[async_trait]
impl<D: Dialect> StudentStore for SqlStore<D> {
    async fn list_students(&self, f: &StudentFilter) -> StoreResult<Paged<StudentRecord>> {
        let pattern = f.name.as_deref().map(contains_pattern);
        let sql = format!("select {COLUMNS} from students {WHERE} {} limit $9 offset $10", f.sort.order_by("id"));
        let count = format!("select count(*) from students {WHERE}");
        Self::paged(&mut *self.read().await?, &sql, &count, f.page, |q| {
            q.bind(f.scope.school_id())
                .bind(f.school_id)
                .bind(f.class_id)
                .bind(f.section_id)
                .bind(f.is_active)
                .bind(&f.pin)
                .bind(&f.rfid_card_id)
                .bind(&pattern)
        })
        .await
    }

    async fn get_student(&self, scope: SchoolScope, id: i64) -> StoreResult<Option<StudentRecord>> {
        let sql = format!(
            "select {COLUMNS} from students where id = $1 and deleted_at is null and ($2 is null or school_id = $2)"
        );
        Self::in_scope(&mut *self.read().await?, &sql, id, scope).await
    }

    async fn add_student(&self, s: &NewStudentInput) -> AdminResult<StudentRecord> {
        let now = Utc::now();
        let mut tx = self.write().await?;
        let counter = lock_school::<D>(&mut tx, s.school_id).await?.ok_or(AdminError::NotFound("school"))?;
        check_refs::<D>(&mut tx, s.school_id, s.class_id, s.section_id).await?;
        if let Some(card) = &s.rfid_card_id {
            check_card::<D>(&mut tx, s.school_id, card, None).await?;
        }
        let pin = match &s.pin {
            Some(pin) => {
                check_pin_free::<D>(&mut tx, s.school_id, pin).await?;
                pin.clone()
            }
            None => {
                let pin = next_free_pin::<D>(&mut tx, s.school_id, counter).await?;
                set_next_pin::<D>(&mut tx, s.school_id, pin + 1).await?;
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
        let student = insert_students::<D>(&mut tx, s.school_id, &[(pin, fields)], now)
            .await?
            .pop()
            .ok_or(sqlx::Error::RowNotFound)?;
        sync_students(&mut tx, s.school_id, vec![student.id], false, now).await?;
        tx.commit().await?;
        Ok(student)
    }

    async fn update_student(&self, scope: SchoolScope, id: i64, p: &StudentPatch) -> AdminResult<StudentRecord> {
        let now = Utc::now();
        let mut tx = self.write().await?;
        let school_id: SchoolId = Self::sql(
            "select school_id from students where id = $1 and deleted_at is null and ($2 is null or school_id = $2)",
        )
        .bind(id)
        .bind(scope.school_id())
        .scalar_optional(&mut tx)
        .await?
        .ok_or(AdminError::NotFound("student"))?;
        lock_school::<D>(&mut tx, school_id).await?;
        let sql = format!("select {COLUMNS} from students where id = $1 {}", D::FOR_UPDATE);
        let current: StudentRecord = Self::sql(&sql).bind(id).fetch_one(&mut tx).await?;
        let fields = PlannedFields {
            full_name: p.full_name.clone().unwrap_or(current.full_name.clone()),
            rfid_card_id: p.rfid_card_id.clone().unwrap_or(current.rfid_card_id.clone()),
            class_id: p.class_id.unwrap_or(current.class_id),
            section_id: p.section_id.unwrap_or(current.section_id),
            is_active: p.is_active.unwrap_or(current.is_active),
        };
        check_refs::<D>(&mut tx, school_id, fields.class_id, fields.section_id).await?;
        if let Some(card) = fields.rfid_card_id.as_deref().filter(|c| Some(*c) != current.rfid_card_id.as_deref()) {
            check_card::<D>(&mut tx, school_id, card, Some(id)).await?;
        }
        let student =
            write_students::<D>(&mut tx, &[(id, fields)], now).await?.pop().ok_or(sqlx::Error::RowNotFound)?;
        sync_students(&mut tx, school_id, vec![id], false, now).await?;
        tx.commit().await?;
        Ok(student)
    }

    async fn delete_student(&self, scope: SchoolScope, id: i64, audit: &NewAudit) -> AdminResult<StudentRecord> {
        let now = Utc::now();
        let mut tx = self.write().await?;
        let sql = format!(
            "update students set deleted_at = $3, is_active = false, updated_at = $3
             where id = $1 and deleted_at is null and ($2 is null or school_id = $2) returning {COLUMNS}"
        );
        let student: StudentRecord = Self::sql(&sql)
            .bind(id)
            .bind(scope.school_id())
            .bind(now)
            .fetch_optional(&mut tx)
            .await?
            .ok_or(AdminError::NotFound("student"))?;
        sync_students(&mut tx, student.school_id, vec![student.id], false, now).await?;
        insert_audit::<D>(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(student)
    }

    async fn import_students(
        &self,
        school_id: SchoolId,
        rows: &[ImportRow],
        dry_run: bool,
        audit: &NewAudit,
    ) -> AdminResult<ImportReport> {
        let now = Utc::now();
        let mut tx = self.write().await?;
        let counter = lock_school::<D>(&mut tx, school_id).await?.ok_or(AdminError::NotFound("school"))?;
        let roster = snapshot::<D>(&mut tx, school_id, counter).await?;
        let plan = plan_import(&roster, rows).map_err(AdminError::Rows)?;
        let report =
            ImportReport { rows: rows.len(), created: plan.creates.len(), updated: plan.updates.len(), dry_run };
        if dry_run {
            // Nothing was written: dropping the transaction rolls back and frees the writer.
            return Ok(report);
        }
        // Cards that change are cleared first, so a card can move between students in one file.
        if !plan.release_cards.is_empty() {
            let sql = format!("update students set rfid_card_id = null where {}", D::in_list("id", 1));
            Self::sql(&sql).bind(List::of(&plan.release_cards)).execute(&mut tx).await?;
        }
        write_students::<D>(&mut tx, &plan.updates, now).await?;
        let created = insert_students::<D>(&mut tx, school_id, &plan.creates, now).await?;
        let mut changed: Vec<i64> = plan.updates.iter().map(|(id, _)| *id).collect();
        changed.extend(created.iter().map(|s| s.id));
        changed.extend(plan.release_cards.iter().copied());
        sync_students(&mut tx, school_id, changed, true, now).await?;
        set_next_pin::<D>(&mut tx, school_id, plan.next_pin).await?;
        let detail = serde_json::json!({ "rows": report.rows, "created": report.created, "updated": report.updated });
        insert_audit::<D>(&mut tx, &NewAudit { detail, ..audit.clone() }).await?;
        tx.commit().await?;
        Ok(report)
    }
}
