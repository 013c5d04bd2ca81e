//! Students: the roster, with PINs that are stable for life and never reused within a school.
//!
//! Every write is one store method doing one transaction, so later work (queueing device
//! commands for the change) can join that transaction.

use crate::domain::{ImportRow, Pin, SchoolId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AdminResult, NewAudit, Page, Paged, SchoolScope, Sort, SortKey, SortTable};
use crate::store::StoreResult;

/// A student as the admin API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StudentRecord {
    pub id: i64,
    pub school_id: SchoolId,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    /// The student's user id on every device of the school (digits, at most 9).
    pub pin: Pin,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A student to create. `pin: None` assigns the school's next free PIN.
#[derive(Debug, Clone)]
pub struct NewStudentInput {
    pub school_id: SchoolId,
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub is_active: bool,
    /// An explicit PIN, already validated as 1..=9 digits.
    pub pin: Option<String>,
}

/// Changes to a student; `None` leaves a field as it is, `Some(None)` clears it.
/// The PIN and the school never change.
#[derive(Debug, Clone, Default)]
pub struct StudentPatch {
    pub full_name: Option<String>,
    pub rfid_card_id: Option<Option<String>>,
    pub class_id: Option<Option<i64>>,
    pub section_id: Option<Option<i64>>,
    pub is_active: Option<bool>,
}

impl StudentPatch {
    /// True when the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.full_name.is_none()
            && self.rfid_card_id.is_none()
            && self.class_id.is_none()
            && self.section_id.is_none()
            && self.is_active.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StudentSort {
    #[default]
    Id,
    FullName,
    /// Numeric order (PINs are digits only).
    Pin,
    CreatedAt,
}

impl SortKey for StudentSort {
    const TABLE: SortTable<Self> = &[
        ("id", StudentSort::Id, &["id"]),
        ("full_name", StudentSort::FullName, &["lower(full_name)"]),
        ("pin", StudentSort::Pin, &["length(pin)", "pin"]),
        ("created_at", StudentSort::CreatedAt, &["created_at"]),
    ];
}

/// Student query over live (not deleted) students; all filters optional.
#[derive(Debug, Clone)]
pub struct StudentFilter {
    pub scope: SchoolScope,
    pub school_id: Option<SchoolId>,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub is_active: Option<bool>,
    pub pin: Option<String>,
    pub rfid_card_id: Option<String>,
    /// Case-insensitive substring of the full name.
    pub name: Option<String>,
    pub sort: Sort<StudentSort>,
    pub page: Page,
}

impl StudentFilter {
    /// Every live student visible in `scope`, first page.
    pub fn new(scope: SchoolScope) -> Self {
        Self {
            scope,
            school_id: None,
            class_id: None,
            section_id: None,
            is_active: None,
            pin: None,
            rfid_card_id: None,
            name: None,
            sort: Sort::default(),
            page: Page::default(),
        }
    }
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub rows: usize,
    pub created: usize,
    pub updated: usize,
    pub dry_run: bool,
}

#[async_trait]
pub trait StudentStore: Send + Sync {
    async fn list_students(&self, filter: &StudentFilter) -> StoreResult<Paged<StudentRecord>>;
    /// A live student in scope.
    async fn get_student(&self, scope: SchoolScope, id: i64) -> StoreResult<Option<StudentRecord>>;
    /// Creates a student, assigning the next free PIN when none is given, in one transaction.
    /// `NotFound("school")`; `Invalid` on `class_id`/`section_id` (not of this school);
    /// `Conflict` on `pin` (used now or before) or `rfid_card_id` (naming the other student).
    async fn add_student(&self, student: &NewStudentInput) -> AdminResult<StudentRecord>;
    /// Changes a live student in scope, in one transaction (same errors as `add_student`).
    async fn update_student(&self, scope: SchoolScope, id: i64, patch: &StudentPatch) -> AdminResult<StudentRecord>;
    /// Soft-deletes a live student in scope (the PIN stays reserved), with its audit entry.
    async fn delete_student(&self, scope: SchoolScope, id: i64, audit: &NewAudit) -> AdminResult<StudentRecord>;
    /// Validates every row against the school's roster, then (unless `dry_run`) applies all of
    /// them in one transaction. `Rows` lists every row-level problem; nothing is written then.
    async fn import_students(
        &self,
        school_id: SchoolId,
        rows: &[ImportRow],
        dry_run: bool,
        audit: &NewAudit,
    ) -> AdminResult<ImportReport>;
}
