//! Schools and the ways a school groups things: areas (devices that share users), classes and
//! sections (students).

use crate::domain::SchoolId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AdminResult, NewAudit, Page, Paged, SchoolScope, Sort, SortKey, SortTable};
use crate::store::StoreResult;

/// A school as the admin API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SchoolRecord {
    pub id: SchoolId,
    pub name: String,
    /// IANA time zone; devices without their own zone use it.
    pub timezone: String,
    /// First PIN handed out automatically to students of this school.
    pub pin_start: i64,
    /// The next automatic PIN (only ever grows: PINs are never reused).
    pub next_pin: i64,
    /// Quiet hours in the school's local time (`07:00-08:30,14:30-15:30`; empty = none): bulk
    /// sync work waits until they end.
    pub quiet_hours: String,
    /// Users found on a device that are no student of the school: `report` or `delete`.
    pub unknown_user_policy: String,
    /// What happens when an approved device calls from outside its pinned address: `off`,
    /// `alert` (recorded as a device event) or `refuse` (403, nothing stored).
    pub device_pinning: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewSchool {
    pub name: String,
    pub timezone: String,
    pub pin_start: Option<i64>,
}

/// Changes to a school; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct SchoolPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub pin_start: Option<i64>,
    /// Validated by the caller (`sync::quiet::parse`); `Some("")` clears them.
    pub quiet_hours: Option<String>,
    /// `report` or `delete` (the table refuses anything else).
    pub unknown_user_policy: Option<String>,
    /// `off`, `alert` or `refuse` (the table refuses anything else).
    pub device_pinning: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchoolSort {
    #[default]
    Id,
    Name,
    CreatedAt,
}

impl SortKey for SchoolSort {
    const TABLE: SortTable<Self> = &[
        ("id", SchoolSort::Id, &["id"]),
        ("name", SchoolSort::Name, &["lower(name)"]),
        ("created_at", SchoolSort::CreatedAt, &["created_at"]),
    ];
}

#[derive(Debug, Clone, Default)]
pub struct SchoolFilter {
    /// Case-insensitive substring of the name.
    pub name: Option<String>,
    pub sort: Sort<SchoolSort>,
    pub page: Page,
}

/// The three kinds of named groups inside a school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    /// Devices that share users and templates.
    Area,
    Class,
    /// Part of a class (or of the school when it has no class).
    Section,
}

impl GroupKind {
    /// The table (a closed set: safe to splice into SQL).
    pub fn table(self) -> &'static str {
        match self {
            GroupKind::Area => "areas",
            GroupKind::Class => "classes",
            GroupKind::Section => "sections",
        }
    }

    /// Singular name for messages (`area not found`).
    pub fn noun(self) -> &'static str {
        match self {
            GroupKind::Area => "area",
            GroupKind::Class => "class",
            GroupKind::Section => "section",
        }
    }
}

/// An area, class or section. `class_id` is only ever set for sections.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Group {
    pub id: i64,
    pub school_id: SchoolId,
    pub name: String,
    pub class_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewGroup {
    pub school_id: SchoolId,
    pub name: String,
    /// Sections only: the class it belongs to (must be of the same school).
    pub class_id: Option<i64>,
}

/// Changes to a group; `None` leaves a field as it is (`class_id: Some(None)` detaches a section).
#[derive(Debug, Clone, Default)]
pub struct GroupPatch {
    pub name: Option<String>,
    pub class_id: Option<Option<i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GroupSort {
    #[default]
    Id,
    Name,
}

impl SortKey for GroupSort {
    const TABLE: SortTable<Self> = &[("id", GroupSort::Id, &["id"]), ("name", GroupSort::Name, &["lower(name)"])];
}

#[derive(Debug, Clone)]
pub struct GroupFilter {
    pub scope: SchoolScope,
    /// Narrows a super admin's list to one school (ignored outside the scope: nothing matches).
    pub school_id: Option<SchoolId>,
    /// Sections only.
    pub class_id: Option<i64>,
    pub name: Option<String>,
    pub sort: Sort<GroupSort>,
    pub page: Page,
}

#[async_trait]
pub trait RosterStore: Send + Sync {
    async fn list_schools(&self, scope: SchoolScope, filter: &SchoolFilter) -> StoreResult<Paged<SchoolRecord>>;
    async fn get_school_record(&self, scope: SchoolScope, id: SchoolId) -> StoreResult<Option<SchoolRecord>>;
    async fn add_school(&self, school: &NewSchool) -> StoreResult<SchoolRecord>;
    async fn update_school(&self, scope: SchoolScope, id: SchoolId, patch: &SchoolPatch) -> AdminResult<SchoolRecord>;
    /// Deletes a school and everything it owns (areas, classes, students, its school admins);
    /// its devices are detached and go back to `pending`.
    async fn delete_school(&self, id: SchoolId, audit: &NewAudit) -> AdminResult<SchoolRecord>;

    async fn list_groups(&self, kind: GroupKind, filter: &GroupFilter) -> StoreResult<Paged<Group>>;
    async fn get_group(&self, kind: GroupKind, scope: SchoolScope, id: i64) -> StoreResult<Option<Group>>;
    /// `Invalid` on `school_id`/`class_id` when they do not exist (or the class is of another
    /// school); `Conflict` on `name` for a duplicate area or class name in the school.
    async fn add_group(&self, kind: GroupKind, group: &NewGroup) -> AdminResult<Group>;
    async fn update_group(
        &self,
        kind: GroupKind,
        scope: SchoolScope,
        id: i64,
        patch: &GroupPatch,
    ) -> AdminResult<Group>;
    async fn delete_group(&self, kind: GroupKind, scope: SchoolScope, id: i64, audit: &NewAudit) -> AdminResult<Group>;
}
