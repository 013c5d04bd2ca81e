//! Storage: the traits the rest of the server uses, and ONE SQL implementation of them over a
//! small dialect seam (`sql::SqlStore<D>`, for SQLite, the embedded default, and PostgreSQL,
//! production and multi-instance). All SQL lives below this module and nowhere else.
//!
//! Contract shared by both backends (tested by the store story in `tests/store` on both):
//! - an upload and everything derived from it commit in ONE transaction, or not at all;
//! - punches are unique on (device, PIN, local time): re-sent lines are counted as duplicates;
//! - timestamps are UTC (SQLite stores them in one fixed-width text form, so text order is time order);
//! - every write another instance caches announces a [`StoreChange`] (see [`instances`]).

pub mod acc;
pub mod admin;
pub mod biometrics;
pub mod commands;
mod devices;
mod error;
pub mod instances;
pub mod ops;
pub mod pull;
mod settings;
mod sql;
pub mod sync;
mod types;
mod uploads;

use std::sync::Arc;

use async_trait::async_trait;

pub use acc::AccStore;
pub use admin::{AccountStore, AdminStore, AttendanceStore, AuditStore, DeviceAdminStore, RosterStore, StudentStore};
pub use biometrics::BiometricStore;
pub use commands::CommandStore;
pub use devices::DeviceStore;
pub use error::{StoreError, StoreResult};
pub use instances::{ChangeHook, JobLock, StoreChange};
pub use ops::{OpsStore, PoolStats, PurgeTable};
pub use pull::PullStore;
pub use settings::SettingStore;
pub use sync::{SyncStatusStore, SyncStore};
pub use types::{
    DeviceUpdate, IngestReport, NewMessage, PullSettingsUpdate, PunchFilter, StoredDeviceEvent, StoredRejectedLine,
    REJECTED_SAMPLE,
};
pub use uploads::{DeviceTable, PunchUpload, UploadStore};

/// Shared handle to the configured backend.
pub type DynStore = Arc<dyn Store>;

/// Everything the server needs from storage: the concern traits, and instance coordination.
#[async_trait]
pub trait Store:
    SettingStore
    + DeviceStore
    + AccStore
    + UploadStore
    + AdminStore
    + CommandStore
    + SyncStore
    + SyncStatusStore
    + PullStore
    + BiometricStore
    + OpsStore
    + Send
    + Sync
    + 'static
{
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
    /// Calls `hook` for every [`StoreChange`]: this instance's at commit, and other instances'
    /// as they arrive. Returns whether other instances' changes arrive at all (PostgreSQL);
    /// without them, what is cached must expire on its own.
    async fn subscribe(&self, hook: ChangeHook) -> StoreResult<bool>;
    /// Tries to take the instance-wide lock of a job; `None` when another instance (or task) holds it.
    async fn try_job_lock(&self, key: i64) -> StoreResult<Option<Box<dyn JobLock>>>;
}

/// Opens the backend named by the URL scheme and applies pending migrations.
pub async fn connect(url: &str, max_connections: u32) -> StoreResult<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(sql::SqlStore::<sqlx::Postgres>::open(url, max_connections).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(sql::SqlStore::<sqlx::Sqlite>::open(url, max_connections).await?))
    } else {
        Err(StoreError::Config(format!(
            "unsupported database URL (expected sqlite://FILE or postgres://…): {}",
            crate::config::redact_url(url)
        )))
    }
}
