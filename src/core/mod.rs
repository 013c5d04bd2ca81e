//! The service core: what every surface (device endpoints, admin API, dashboard, CLI,
//! scheduled jobs) shares, and nothing of the web layer. `sync`, `queue`, `scheduler`, `store`
//! and `domain` depend on this and never on `http` or `app`; `http::State` wraps a `Core`.

mod actor;
pub mod batch;
mod clock;
pub mod group_commit;
pub mod sessions;
pub mod students;

use std::sync::Arc;

pub use actor::Actor;
pub use clock::{Clock, OffsetClock, SystemClock};
pub use group_commit::PunchCommitter;

use crate::crypto::DataCipher;
use crate::metrics::Metrics;
use crate::queue::{CommandQueue, QueueConfig};
use crate::store::{DynStore, StoreResult};

/// Settings the services need (from the configuration; the web layer keeps its own).
#[derive(Debug, Clone)]
pub struct Settings {
    pub queue: QueueConfig,
    /// Cron of the verifier (`off` disables it).
    pub verify_cron: String,
    /// Devices seen within this window count as online for the verifier.
    pub verify_online: chrono::Duration,
    /// Cron of the pull devices' attendance collection (`off` disables it).
    pub pull_poll_cron: String,
    /// Cron of the area sync (`off` disables it).
    pub area_sync_cron: String,
    /// Devices an area sync reads or writes at once.
    pub area_sync_concurrency: usize,
    /// Tasks committing punch uploads in groups (1 on SQLite, whose writes are serial anyway).
    pub punch_committers: usize,
    /// How long old rows are kept, and when they are purged.
    pub retention: crate::retention::RetentionPolicy,
}

impl Default for Settings {
    /// The server's defaults (50 commands or 40 KB per reply, 60 s ack timeout, 3 attempts,
    /// the verifier every two hours over devices seen in the last 15 minutes).
    fn default() -> Self {
        Self {
            queue: QueueConfig {
                policy: crate::domain::BatchPolicy {
                    max_count: 50,
                    max_bytes: 40 * 1024,
                    ack_timeout: chrono::Duration::seconds(60),
                },
                max_attempts: 3,
            },
            verify_cron: "0 0 */2 * * *".into(),
            verify_online: chrono::Duration::minutes(15),
            pull_poll_cron: "0 */5 * * * *".into(),
            area_sync_cron: "0 0 * * * *".into(),
            area_sync_concurrency: 2,
            punch_committers: 1,
            retention: crate::retention::RetentionPolicy::default(),
        }
    }
}

/// The store, the command queue, the punch committer, the data cipher, the clock, the settings
/// and this instance's metrics.
pub struct Core {
    pub store: DynStore,
    pub queue: CommandQueue,
    pub punches: PunchCommitter,
    pub cipher: DataCipher,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
    /// Pull sessions lent by their owner (area sync borrows them; see [`sessions`]).
    pub sessions: sessions::SessionDesk,
}

impl Core {
    /// Builds the core and subscribes the queue's idle view to the store's changes. Returns
    /// whether other instances' changes are heard too (PostgreSQL).
    pub async fn open(
        store: DynStore,
        cipher: DataCipher,
        clock: Arc<dyn Clock>,
        settings: Settings,
    ) -> StoreResult<(Arc<Self>, bool)> {
        let queue = CommandQueue::new(store.clone(), settings.queue);
        let hears_others = store.subscribe(queue.change_hook()).await?;
        // Loaded after subscribing, so no change falls between the two.
        queue.warm().await?;
        let punches = PunchCommitter::start(store.clone(), settings.punch_committers);
        let sessions = sessions::SessionDesk::default();
        Ok((
            Arc::new(Self { store, queue, punches, cipher, clock, settings, metrics: Metrics::new(), sessions }),
            hears_others,
        ))
    }

    /// Attempts a sync command gets before it fails.
    pub fn max_attempts(&self) -> i32 {
        self.settings.queue.max_attempts
    }
}
