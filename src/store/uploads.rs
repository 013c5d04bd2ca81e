//! `UploadStore`: device uploads kept raw and what is derived from them, in one transaction
//! per upload; and the reads of what uploads left behind (quarantined lines, device tables).

use async_trait::async_trait;

use super::{IngestReport, NewMessage, StoreResult, StoredDeviceEvent, StoredRejectedLine};
use crate::domain::{Device, DeviceId, NewPunch, OperlogBatch, RejectedLine, StampTable};

/// One punch upload as the device endpoint parsed it, ready to store.
#[derive(Debug, Clone)]
pub struct PunchUpload {
    pub device: Device,
    pub message: NewMessage,
    pub rejected: Vec<RejectedLine>,
    pub punches: Vec<NewPunch>,
}

#[async_trait]
pub trait UploadStore: Send + Sync {
    /// Stores the raw upload, its rejected lines and the punches (duplicates skipped), in one
    /// transaction.
    async fn ingest_punches(
        &self,
        device: &Device,
        message: &NewMessage,
        rejected: &[RejectedLine],
        punches: &[NewPunch],
    ) -> StoreResult<IngestReport>;
    /// Stores several uploads as [`UploadStore::ingest_punches`] would, all in ONE transaction
    /// (one commit, one fsync): every upload is durable when this returns `Ok`, and none is when
    /// it returns `Err` (the caller then stores them one by one: see `core::group_commit`).
    /// Reports are in the order of `uploads`.
    async fn ingest_punch_group(&self, uploads: &[PunchUpload]) -> StoreResult<Vec<IngestReport>>;
    /// Stores the raw upload, its rejected lines and what it reported about users, templates,
    /// photos and events, in one transaction.
    async fn ingest_operlog(
        &self,
        device: &Device,
        message: &NewMessage,
        rejected: &[RejectedLine],
        batch: &OperlogBatch,
    ) -> StoreResult<IngestReport>;
    /// Saves the last accepted upload stamp per (device, table); one statement per call.
    async fn save_stamps(&self, stamps: &[(DeviceId, StampTable, String)]) -> StoreResult<()>;
    /// Stores a raw message that has nothing else to derive (options, unknown tables, refused uploads).
    async fn store_message(&self, message: &NewMessage, rejected: &[RejectedLine]) -> StoreResult<i64>;

    /// Records an event the server observed about a device (e.g. `pinning`: a request from
    /// outside its pinned address), for its current school.
    async fn record_device_event(
        &self,
        device: DeviceId,
        kind: &str,
        code: &str,
        detail: &serde_json::Value,
    ) -> StoreResult<()>;

    async fn rejected_lines(&self, device: DeviceId) -> StoreResult<Vec<StoredRejectedLine>>;
    async fn count_messages(&self, device: Option<DeviceId>) -> StoreResult<i64>;
    async fn count_device_rows(&self, device: DeviceId, table: DeviceTable) -> StoreResult<i64>;
    /// The device's latest events of one kind (`errorlog`, `oplog`), newest first.
    async fn recent_device_events(
        &self,
        device: DeviceId,
        kind: &str,
        limit: i64,
    ) -> StoreResult<Vec<StoredDeviceEvent>>;
}

/// Per-device tables derived from OPERLOG uploads (counted by the store tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceTable {
    Users,
    Templates,
    Photos,
    Events,
}

impl DeviceTable {
    pub(crate) fn name(self) -> &'static str {
        match self {
            DeviceTable::Users => "device_users",
            DeviceTable::Templates => "biometric_templates",
            DeviceTable::Photos => "device_photos",
            DeviceTable::Events => "device_events",
        }
    }
}
