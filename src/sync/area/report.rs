//! The result of an area sync, as the API answers it and `job_executions` keeps it.

use serde::{Deserialize, Serialize};

use super::plan::{Adoptable, Conflict, Skip};

/// The device whose copies win conflicts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PrimaryDevice {
    pub id: i64,
    pub name: String,
    pub users: i64,
    pub templates: i64,
}

/// A device that could not take part or failed mid-sync (retried on the next run).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeviceFailure {
    pub device_id: i64,
    pub device: String,
    pub error: String,
}

/// Something written that the device's read-back does not show (or a write it refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotTaken {
    pub device_id: i64,
    pub device: String,
    /// `user`, `fingerprint 3`, `face`, `photo`, `delete`.
    pub what: String,
    pub pin: String,
    pub reason: String,
}

/// One device's figures: before, written, after (read back).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeviceLine {
    pub device_id: i64,
    pub device: String,
    pub users_before: i64,
    pub fingerprints_before: i64,
    pub faces_before: i64,
    pub users_written: usize,
    pub users_removed: usize,
    pub fingerprints_written: usize,
    pub faces_written: usize,
    pub photos_written: usize,
    pub users_after: i64,
    pub fingerprints_after: i64,
    pub faces_after: i64,
    /// A push device: its `*_written` were QUEUED as commands (not confirmed at sync time;
    /// evidence confirms them later) and its `*_after` are what ironclock then knows of it,
    /// writes on their way included.
    pub queued: bool,
}

/// `POST /api/v1/areas/{id}/sync`, `POST /api/v1/devices/sync`, and the run's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AreaSyncResult {
    /// Every device reached, written and read back without a device failure.
    pub success: bool,
    /// Why not, when `success` is false.
    pub error: Option<String>,
    /// Devices that took part to the end.
    pub synced_devices: usize,
    pub total_users_synced: usize,
    pub total_templates_synced: usize,
    pub face_templates_synced: usize,
    pub photos_synced: usize,
    /// Deleted or deactivated students removed from devices.
    pub users_removed: usize,
    /// Writes queued as commands for push devices (not in the `total_*` figures, which count
    /// writes read back): users, fingerprints, face sets, photos, removals.
    pub users_queued: usize,
    pub templates_queued: usize,
    /// Face sets queued (one person's records each, as `DATA UPDATE FACE` lines).
    #[serde(default)]
    pub faces_queued: usize,
    pub photos_queued: usize,
    pub removals_queued: usize,
    pub primary_device: Option<PrimaryDevice>,
    pub skipped: Vec<Skip>,
    pub errors: Vec<DeviceFailure>,
    pub conflicts: Vec<Conflict>,
    /// Device users who are no student of the school (unioned; adopt or delete them).
    pub adoptable: Vec<Adoptable>,
    pub not_taken: Vec<NotTaken>,
    pub devices: Vec<DeviceLine>,
    /// Master copies the biometric store learned or changed.
    pub biometrics_stored: usize,
    /// The `job_executions` row of this run.
    pub job_id: Option<i64>,
    /// The area synced (`None` for devices named by address).
    pub area_id: Option<i64>,
    /// The device of a single-device sync (a device in no area, synced from the store).
    #[serde(default)]
    pub device_id: Option<i64>,
    pub duration_ms: u64,
}
