//! Storage: one `Store` trait with two backends, embedded SQLite (the default) and PostgreSQL
//! (production, multi-instance). All SQL lives below this module and nowhere else.
//!
//! Contract shared by both backends (tested by `tests/store_contract.rs` on both):
//! - an upload and everything derived from it commit in ONE transaction, or not at all;
//! - punches are unique on (device, PIN, local time): re-sent lines are counted as duplicates;
//! - timestamps are UTC.

pub mod admin;
pub mod commands;
mod error;
pub mod postgres;
pub mod sqlite;
pub mod sync;
mod types;

use std::sync::Arc;

use async_trait::async_trait;

pub use admin::AdminStore;
pub use commands::{CommandStore, StoreChange};
pub use error::{StoreError, StoreResult};
pub use sync::SyncStore;
pub use types::{DeviceUpdate, IngestReport, NewMessage, PunchFilter, StoredDeviceEvent, StoredRejectedLine};

use crate::domain::{
    Device, DeviceId, DeviceSeen, HandshakeFacts, NewDevice, NewPunch, NewStudent, OperlogBatch, Punch, RejectedLine,
    School, StampTable, Student,
};

/// Shared handle to the configured backend.
pub type DynStore = Arc<dyn Store>;

#[async_trait]
pub trait Store: AdminStore + CommandStore + SyncStore + Send + Sync + 'static {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
    /// Cheap liveness check (one round trip).
    async fn ping(&self) -> StoreResult<()>;

    // ---- settings -------------------------------------------------------------------------
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` unless the key exists; returns the value now stored (first writer wins).
    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String>;

    // ---- schools and students ---------------------------------------------------------------
    async fn create_school(&self, name: &str, timezone: &str) -> StoreResult<School>;
    async fn get_school(&self, id: i64) -> StoreResult<Option<School>>;
    async fn create_student(&self, student: &NewStudent) -> StoreResult<Student>;

    // ---- devices ------------------------------------------------------------------------------
    async fn find_device(&self, serial: &str) -> StoreResult<Option<Device>>;
    async fn get_device(&self, id: DeviceId) -> StoreResult<Option<Device>>;
    /// Inserts a device seen for the first time; when the serial already exists (a race between
    /// two requests or two instances) returns the existing row unchanged.
    async fn register_device(&self, device: &NewDevice) -> StoreResult<Device>;
    async fn record_handshake(&self, id: DeviceId, facts: &HandshakeFacts) -> StoreResult<()>;
    /// Merges `options` (key/value facts from `table=options`, INFO dumps) into the device's
    /// options and lifts identity fields (firmware, platform, push version) into their columns.
    async fn merge_device_options(&self, id: DeviceId, options: &[(String, String)]) -> StoreResult<()>;
    async fn save_poll_info(&self, id: DeviceId, info: &serde_json::Value) -> StoreResult<()>;
    /// Applies coalesced last-seen observations (one statement for the whole batch).
    async fn touch_devices(&self, seen: &[DeviceSeen]) -> StoreResult<()>;
    async fn update_device(&self, id: DeviceId, update: &DeviceUpdate) -> StoreResult<Option<Device>>;
    async fn list_devices(&self) -> StoreResult<Vec<Device>>;

    // ---- uploads ------------------------------------------------------------------------------
    /// Stores the raw upload, its rejected lines and the punches (duplicates skipped), in one
    /// transaction.
    async fn ingest_punches(
        &self,
        device: &Device,
        message: &NewMessage,
        rejected: &[RejectedLine],
        punches: &[NewPunch],
    ) -> StoreResult<IngestReport>;
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

    // ---- reads --------------------------------------------------------------------------------
    async fn list_punches(&self, filter: &PunchFilter) -> StoreResult<Vec<Punch>>;
    async fn count_punches(&self, device: Option<DeviceId>) -> StoreResult<i64>;
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

/// Per-device tables derived from OPERLOG uploads (for counts in tests and the dashboard).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceTable {
    Users,
    Templates,
    Photos,
    Events,
}

impl DeviceTable {
    fn name(self) -> &'static str {
        match self {
            DeviceTable::Users => "device_users",
            DeviceTable::Templates => "biometric_templates",
            DeviceTable::Photos => "device_photos",
            DeviceTable::Events => "device_events",
        }
    }
}

/// Opens the backend named by the URL scheme and applies pending migrations.
pub async fn connect(url: &str, max_connections: u32) -> StoreResult<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url, max_connections).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else {
        Err(StoreError::Config(format!(
            "unsupported database URL (expected sqlite://FILE or postgres://…): {}",
            crate::config::redact_url(url)
        )))
    }
}
