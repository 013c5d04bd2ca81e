//! Attendance reads: punches with filters and paging, and the per-day summary per student.

use crate::domain::Pin;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Page, Paged, SchoolScope, Sort, SortKey, SortTable};
use crate::domain::{DeviceId, Punch};
use crate::store::{PunchFilter, StoreResult};

/// A punch with the names an admin needs to read it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PunchRecord {
    pub id: i64,
    pub device_id: i64,
    pub serial_number: String,
    pub pin: Pin,
    pub student_id: Option<i64>,
    pub student_name: Option<String>,
    /// Device-local time exactly as the device sent it (`YYYY-MM-DD HH:MM:SS`).
    pub local_time: String,
    /// The same instant in UTC; `None` when the device clock reading was unusable.
    pub punched_at: Option<DateTime<Utc>>,
    pub status: Option<i32>,
    pub verify: Option<i32>,
    pub workcode: Option<String>,
    /// `attlog`, `rtlog` or `pull`.
    pub source: String,
    /// Why the clock reading is not trusted (`unparsable`, `too_old`, `future`), if so.
    pub clock_flag: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PunchSort {
    #[default]
    LocalTime,
    PunchedAt,
    Id,
}

impl SortKey for PunchSort {
    const TABLE: SortTable<Self> = &[
        ("local_time", PunchSort::LocalTime, &["a.local_time"]),
        ("punched_at", PunchSort::PunchedAt, &["a.punched_at is null", "a.punched_at"]),
        ("id", PunchSort::Id, &["a.id"]),
    ];
}

/// Punch query; all filters optional. Scope is by the school of the device that took the punch.
#[derive(Debug, Clone)]
pub struct PunchQuery {
    pub scope: SchoolScope,
    /// UTC instants: `from` inclusive, `to` exclusive.
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Device-local dates (`YYYY-MM-DD`): `from_date` inclusive, `until_date` exclusive.
    pub from_date: Option<String>,
    pub until_date: Option<String>,
    pub student_id: Option<i64>,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    pub device_id: Option<i64>,
    pub pin: Option<String>,
    pub sort: Sort<PunchSort>,
    pub page: Page,
}

impl PunchQuery {
    /// Every punch visible in `scope`, first page.
    pub fn new(scope: SchoolScope) -> Self {
        Self {
            scope,
            from: None,
            to: None,
            from_date: None,
            until_date: None,
            student_id: None,
            class_id: None,
            section_id: None,
            device_id: None,
            pin: None,
            sort: Sort::default(),
            page: Page::default(),
        }
    }
}

/// One student's day: first and last punch in device-local time.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DailyAttendance {
    /// `YYYY-MM-DD`, device-local.
    pub date: String,
    pub student_id: i64,
    pub full_name: String,
    pub pin: Pin,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    /// Earliest punch of the day (`YYYY-MM-DD HH:MM:SS`).
    pub first_in: String,
    /// Latest punch of the day; `None` when the student punched only once.
    pub last_out: Option<String>,
    pub punches: i64,
}

#[async_trait]
pub trait AttendanceStore: Send + Sync {
    async fn list_punch_records(&self, query: &PunchQuery) -> StoreResult<Paged<PunchRecord>>;
    /// Per student and device-local day, ordered by date then student name. Punches that
    /// matched no student are not included. `query.sort` is ignored.
    async fn daily_attendance(&self, query: &PunchQuery) -> StoreResult<Paged<DailyAttendance>>;
    /// Punches as stored (device side, unscoped): tests and the device tools.
    async fn list_punches(&self, filter: &PunchFilter) -> StoreResult<Vec<Punch>>;
    async fn count_punches(&self, device: Option<DeviceId>) -> StoreResult<i64>;
}
