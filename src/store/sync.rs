//! `SyncStore`: the per-device, per-student sync status table and the set-based work around it.
//!
//! Contract (both backends, `tests/server/sync/`):
//! - `reconcile` reads the pairs in scope with one query, plans with `domain::sync::plan` and writes the
//!   commands and rows in one transaction (a handful of statements, never one per student);
//! - student writes call the same reconcile inside their own transaction (see `sql/students.rs`);
//! - a row follows its command (`refresh` runs inside claim, ack, cancel and retry);
//! - a row is `synced` only on evidence from the device (`observe_users`), or, on firmware that
//!   cannot be read back, on an ack plus a matching `UserCount` (`confirm_by_ack`).

use crate::domain::SchoolId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use std::collections::HashMap;

use super::StoreResult;
pub use crate::domain::sync::ObservedUser;
use crate::domain::sync::{CommandAction, PlannedSync, SyncMode};
use crate::domain::DeviceId;

/// Which pairs a reconcile looks at: approved devices of one school × its students.
#[derive(Debug, Clone, Default)]
pub struct SyncScope {
    pub school_id: SchoolId,
    /// Only these devices (all approved devices of the school when `None`).
    pub device_ids: Option<Vec<i64>>,
    /// Only these students (every student of the school ever synced or live when `None`).
    pub student_ids: Option<Vec<i64>>,
}

/// How a reconcile writes.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    pub now: DateTime<Utc>,
    /// Bulk work in quiet hours: commands wait until then.
    pub not_before: Option<DateTime<Utc>>,
    /// Apply the per-device delete cap (the verifier); a capped device queues no deletes.
    pub cap_deletes: bool,
    pub max_attempts: i32,
    pub created_by: String,
}

impl ReconcileOptions {
    pub fn new(created_by: impl Into<String>) -> Self {
        Self { now: Utc::now(), not_before: None, cap_deletes: false, max_attempts: 3, created_by: created_by.into() }
    }
}

/// What a reconcile did on one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeviceReconcile {
    pub device_id: i64,
    /// Adds and updates queued (new commands or coalesced rewrites).
    pub added: usize,
    /// Deletes queued.
    pub deleted: usize,
    /// Of those, rows that had failed and were re-sent.
    pub retried: usize,
    /// Commands rewritten in place instead of queued again.
    pub coalesced: usize,
    /// Deletes refused by the cap (nothing was deleted on this device).
    pub deletes_capped: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub devices: Vec<DeviceReconcile>,
    /// Devices that got new commands (to wake their queue hints).
    pub woken: Vec<i64>,
}

impl ReconcileReport {
    pub fn commands(&self) -> usize {
        self.devices.iter().map(|d| d.added + d.deleted).sum()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObserveReport {
    pub confirmed: usize,
    pub drift: usize,
    /// PINs that are no student of the school.
    pub unknown: usize,
    pub report: ReconcileReport,
}

/// Counts of one device's sync rows (the dashboard badges and the API summary).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SyncSummary {
    /// Active students of the school.
    pub total: i64,
    pub synced: i64,
    /// Queued or delivered, not yet confirmed.
    pub pending: i64,
    pub failed: i64,
    /// Active students with no sync row on this device yet.
    pub not_synced: i64,
    /// Removed students whose delete is still on its way.
    pub deleting: i64,
}

/// Progress of the device's sync commands (a full sync shows these moving).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SyncProgress {
    /// Rows waiting for delivery.
    pub queued: i64,
    /// Delivered, waiting for the device's evidence.
    pub delivered: i64,
    /// Confirmed on the device.
    pub confirmed: i64,
    pub percent: f64,
    /// Sync commands the device acknowledged per minute over the last 10 minutes.
    pub rate_per_minute: f64,
    /// When the rows still waiting should be done at that rate; `None` when idle or no rate yet.
    pub estimated_finish: Option<DateTime<Utc>>,
}

/// One student row of the sync-status API.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StudentSyncRow {
    pub id: i64,
    pub full_name: String,
    pub rfid_card_id: Option<String>,
    pub class_name: Option<String>,
    pub section_name: Option<String>,
    /// pending | sent | synced | failed | not_synced
    pub sync_status: String,
    pub last_sync_success: Option<DateTime<Utc>>,
    pub sync_retries: i32,
    pub device_pin: String,
    pub error_message: Option<String>,
}

/// Filter of the sync-status student list.
#[derive(Debug, Clone, Default)]
pub struct SyncStatusFilter {
    /// `pending` also matches `sent`.
    pub status: Option<String>,
    pub class_id: Option<i64>,
    pub section_id: Option<i64>,
    /// Case-insensitive substring of the name, or an exact PIN or card.
    pub search: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SyncStatusPage {
    pub summary: SyncSummary,
    pub students: Vec<StudentSyncRow>,
    /// Students matching the filter (for paging).
    pub matched: i64,
}

/// A user on the device that is no student of the school.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct UnknownDeviceUser {
    pub pin: String,
    pub name: Option<String>,
    pub card: Option<String>,
    pub reported_at: DateTime<Utc>,
}

/// Per-device line of the school summary.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeviceSyncSummary {
    pub device_id: i64,
    pub serial_number: String,
    pub name: Option<String>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub summary: SyncSummary,
}

/// A safety alert (the verifier refused to queue more deletes than the cap allows).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SyncAlert {
    pub id: i64,
    pub school_id: Option<SchoolId>,
    pub device_id: i64,
    pub kind: String,
    pub message: String,
    #[schema(value_type = Object)]
    #[sqlx(try_from = "crate::store::sql::JsonText")]
    pub detail: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

/// A device as the verifier sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerifyDevice {
    pub id: i64,
    pub serial_number: String,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// `UserCount` from the device's last INFO / options upload.
    pub user_count: Option<i64>,
    /// The grammar its commands are written in.
    pub dialect: crate::domain::Dialect,
}

/// What the verifier needs to know per device, read for all devices of a school at once.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct DeviceFacts {
    pub device_id: i64,
    /// The device answered `DATA QUERY USERINFO` with an unsupported code before.
    pub readback_unsupported: bool,
    /// A full read-back is queued or delivered and not answered yet.
    pub readback_open: bool,
    /// Users on the device that are no student of the school.
    pub unknown_users: i64,
}

/// A school's sync policy.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SchoolSyncPolicy {
    pub id: SchoolId,
    pub timezone: String,
    pub quiet_hours: String,
    pub unknown_user_policy: String,
}

#[async_trait]
pub trait SyncStore: Send + Sync {
    /// Plans and queues what the pairs in scope need, in one transaction.
    async fn reconcile(
        &self,
        scope: &SyncScope,
        mode: SyncMode,
        opts: &ReconcileOptions,
    ) -> StoreResult<ReconcileReport>;
    /// Applies user records shown by the device: confirms rows, resets drifted rows and queues
    /// their fix (one transaction).
    async fn observe_users(
        &self,
        device: DeviceId,
        users: &[ObservedUser],
        opts: &ReconcileOptions,
    ) -> StoreResult<ObserveReport>;
    /// Users deleted at the keypad (OPLOG 9): forgets them in `device_users` and re-queues the
    /// students that should be there.
    async fn observe_keypad_deletes(
        &self,
        device: DeviceId,
        pins: &[String],
        opts: &ReconcileOptions,
    ) -> StoreResult<ReconcileReport>;
    /// Rows delivered and acked but not yet confirmed, as (student, pin).
    async fn awaiting_confirmation(&self, device: DeviceId) -> StoreResult<Vec<(i64, String)>>;
    /// Marks acked rows synced on ack evidence (firmware without read-back); returns how many.
    async fn confirm_by_ack(&self, device: DeviceId, now: DateTime<Utc>) -> StoreResult<usize>;
    /// After a read-back acked before `cutoff`: rows that should have shown up but did not are
    /// reset to be re-sent. Returns how many per device.
    async fn mark_missing_after_readback(
        &self,
        devices: &[i64],
        cutoff: DateTime<Utc>,
    ) -> StoreResult<Vec<(i64, usize)>>;
    /// Resets every confirmed row of the device (its user count says users are missing and it
    /// cannot be read back): they are re-sent.
    async fn reset_confirmed(&self, device: DeviceId, reason: &str) -> StoreResult<usize>;
    async fn create_alert(
        &self,
        school_id: SchoolId,
        device_id: i64,
        kind: &str,
        message: &str,
        detail: &serde_json::Value,
    ) -> StoreResult<i64>;
    async fn resolve_alert(&self, id: i64, resolution: &str, by: &str) -> StoreResult<Option<SyncAlert>>;
}

/// Reads of the sync state: what the API, the dashboard and the verifier show and decide on.
#[async_trait]
pub trait SyncStatusStore: Send + Sync {
    async fn sync_status(&self, device: DeviceId, filter: &SyncStatusFilter) -> StoreResult<SyncStatusPage>;
    async fn sync_progress(&self, device: DeviceId, now: DateTime<Utc>) -> StoreResult<SyncProgress>;
    async fn school_sync_summary(&self, school_id: SchoolId) -> StoreResult<Vec<DeviceSyncSummary>>;
    async fn unknown_device_users(&self, device: DeviceId, limit: i64) -> StoreResult<(i64, Vec<UnknownDeviceUser>)>;
    /// Facts of many devices in a few statements (not one per device).
    async fn verify_facts(&self, school_id: SchoolId, devices: &[i64]) -> StoreResult<Vec<DeviceFacts>>;
    /// Students confirmed on the device (`synced`).
    async fn count_confirmed(&self, device: DeviceId) -> StoreResult<i64>;
    /// Schools with approved devices.
    async fn sync_schools(&self) -> StoreResult<Vec<SchoolSyncPolicy>>;
    async fn school_policy(&self, school_id: SchoolId) -> StoreResult<Option<SchoolSyncPolicy>>;
    /// Approved push devices of the school seen since `seen_after`.
    async fn online_devices(&self, school_id: SchoolId, seen_after: DateTime<Utc>) -> StoreResult<Vec<VerifyDevice>>;
    /// Open alerts of the device of this kind (the verifier raises one, not one per run).
    async fn open_alert(&self, device_id: i64, kind: &str) -> StoreResult<Option<SyncAlert>>;
    async fn list_alerts(&self, school_id: Option<SchoolId>, open_only: bool) -> StoreResult<Vec<SyncAlert>>;
    async fn get_alert(&self, id: i64) -> StoreResult<Option<SyncAlert>>;
}

/// Per-device counts of a written plan (both backends).
pub(crate) fn summarise(planned: &[PlannedSync], capped: &HashMap<i64, usize>, woken: Vec<i64>) -> ReconcileReport {
    let mut by_device: HashMap<i64, DeviceReconcile> = HashMap::new();
    for p in planned.iter().filter(|p| !matches!(p.action, CommandAction::Refused { .. })) {
        let d = by_device
            .entry(p.device_id)
            .or_insert_with(|| DeviceReconcile { device_id: p.device_id, ..Default::default() });
        if p.present {
            d.added += 1;
        } else {
            d.deleted += 1;
        }
        if matches!(p.action, CommandAction::Rewrite { .. }) {
            d.coalesced += 1;
        }
        d.retried += usize::from(p.was_failed);
    }
    for (device, count) in capped {
        by_device
            .entry(*device)
            .or_insert_with(|| DeviceReconcile { device_id: *device, ..Default::default() })
            .deletes_capped = *count;
    }
    let mut devices: Vec<DeviceReconcile> = by_device.into_values().collect();
    devices.sort_by_key(|d| d.device_id);
    ReconcileReport { devices, woken }
}
