//! Devices as admins manage them: listing with filters, approval, assignment, pull devices.

use crate::domain::{DeviceMode, SchoolId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{AdminResult, NewAudit, Page, Paged, SchoolScope, Sort, SortKey, SortTable};
use crate::domain::Approval;
use crate::store::{DeviceUpdate, StoreResult};

/// A device row with what admins see and edit.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct DeviceRecord {
    pub id: i64,
    pub serial_number: String,
    pub name: Option<String>,
    pub school_id: Option<SchoolId>,
    pub area_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub mode: DeviceMode,
    /// `pending`, `approved` or `blocked`.
    pub approval: String,
    pub dialect: String,
    pub push_version: Option<String>,
    pub firmware: Option<String>,
    pub platform: Option<String>,
    pub timezone: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_ip: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    pub host: Option<String>,
    pub port: Option<i32>,
    pub transport: Option<String>,
    /// Pull devices: switches and how the pull service is doing with the device.
    #[sqlx(flatten)]
    pub pull: PullStatus,
    /// The address the device is pinned to (set at approval), and the pinned subnet width.
    pub pinned_ip: Option<String>,
    pub pin_prefix: Option<i32>,
    /// Whether the device must call under its secret path (`/<token>/iclock/…`).
    pub has_path_token: bool,
}

/// A pull device's switches, what the last contact taught, and how its polls and realtime
/// session are doing (meaningless for push devices).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct PullStatus {
    pub enabled: bool,
    pub realtime_enabled: bool,
    pub clear_log_after_collect: bool,
    pub fp_version: Option<String>,
    pub face_version: Option<String>,
    pub user_count: Option<i32>,
    pub fingerprint_count: Option<i32>,
    pub face_count: Option<i32>,
    pub record_count: Option<i32>,
    pub last_contact_at: Option<DateTime<Utc>>,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub last_poll_ok: Option<bool>,
    pub last_poll_error: Option<String>,
    /// `connected`, `retrying`, `off` (switched off after long failure) or `closed`.
    pub realtime_state: Option<String>,
    pub realtime_failures: i32,
    pub realtime_disabled_at: Option<DateTime<Utc>>,
    pub realtime_disabled_reason: Option<String>,
    pub realtime_error: Option<String>,
}

impl PullStatus {
    /// A pull device is online while its realtime session is connected, or when it answered
    /// within the last two collection periods (it is contacted every 5 minutes, so the push
    /// rule of "seen within three polls" would show it offline most of the time).
    pub fn online(&self, now: DateTime<Utc>) -> bool {
        const WINDOW_SECS: i64 = 11 * 60;
        self.realtime_state.as_deref() == Some("connected") && self.realtime_disabled_at.is_none()
            || self.last_contact_at.is_some_and(|t| (now - t).num_seconds() < WINDOW_SECS)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceSort {
    #[default]
    Id,
    SerialNumber,
    Name,
    LastSeenAt,
}

impl SortKey for DeviceSort {
    const TABLE: SortTable<Self> = &[
        ("id", DeviceSort::Id, &["id"]),
        ("serial_number", DeviceSort::SerialNumber, &["serial_number"]),
        ("name", DeviceSort::Name, &["lower(coalesce(name, ''))"]),
        ("last_seen_at", DeviceSort::LastSeenAt, &["coalesce(last_seen_at, first_seen_at)"]),
    ];
}

/// Device query; all filters optional. Devices of no school (pending) are only in the `all` scope.
#[derive(Debug, Clone)]
pub struct DeviceFilter {
    pub scope: SchoolScope,
    pub approval: Option<Approval>,
    pub school_id: Option<SchoolId>,
    pub area_id: Option<i64>,
    pub mode: Option<DeviceMode>,
    /// Case-insensitive substring of the serial number or name.
    pub search: Option<String>,
    pub sort: Sort<DeviceSort>,
    pub page: Page,
}

/// A pull-mode device an admin adds by address (the server connects to it).
#[derive(Debug, Clone)]
pub struct NewPullDevice {
    /// Placeholder until the device reports its own serial (unique).
    pub serial_number: String,
    pub school_id: SchoolId,
    pub area_id: Option<i64>,
    pub name: Option<String>,
    pub host: String,
    pub port: u16,
    pub transport: crate::domain::PullTransport,
    /// The comm key sealed with the data cipher.
    pub comm_key_enc: Option<Vec<u8>>,
    pub enabled: bool,
    pub realtime_enabled: bool,
    pub clear_log_after_collect: bool,
}

#[async_trait]
pub trait DeviceAdminStore: Send + Sync {
    async fn list_device_records(&self, filter: &DeviceFilter) -> StoreResult<Paged<DeviceRecord>>;
    async fn get_device_record(&self, scope: SchoolScope, id: i64) -> StoreResult<Option<DeviceRecord>>;
    /// Adds an approved pull device. `Invalid` on `school_id`/`area_id`; `Conflict` on `host`
    /// when a device with the same address exists.
    async fn add_pull_device(&self, device: &NewPullDevice, audit: &NewAudit) -> AdminResult<DeviceRecord>;
    /// Changes a device in scope, in one transaction with its audit entry. The resulting area
    /// must belong to the resulting school (`Invalid` on `area_id`), the school must exist
    /// (`Invalid` on `school_id`), and an approved device must have a school.
    async fn change_device(
        &self,
        scope: SchoolScope,
        id: i64,
        update: &DeviceUpdate,
        audit: Option<&NewAudit>,
    ) -> AdminResult<DeviceRecord>;
    /// Deletes a device in scope. With punches stored and `purge` false: `Conflict` on `purge`
    /// (deleting a device deletes its punches).
    async fn delete_device(
        &self,
        scope: SchoolScope,
        id: i64,
        purge: bool,
        audit: &NewAudit,
    ) -> AdminResult<DeviceRecord>;
}
