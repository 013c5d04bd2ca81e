//! Group commit of punch uploads: uploads that arrive while the database is busy share one
//! transaction and one fsync, instead of one commit each. Nothing waits on purpose: a lone upload
//! is committed at once, and a batch is whatever queued up during the previous commit.
//!
//! Contract: a device is answered (`Ok`) only after its rows are durable; a failed group is
//! retried upload by upload, so one device's failing upload (say, its device row deleted a
//! moment ago) never fails another's; a storage failure is an `Err` for exactly the uploads that
//! were not stored, which the endpoint turns into a 5xx so the device re-sends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::batch::Batcher;
use crate::store::{DynStore, IngestReport, PunchUpload, StoreError, StoreResult};

/// Most uploads in one transaction (bounds the transaction's size and its lock time).
const MAX_GROUP: usize = 256;

/// How many uploads and commits the committer has seen (for tests and metrics).
#[derive(Debug, Default)]
pub struct GroupCommitStats {
    pub uploads: AtomicU64,
    pub commits: AtomicU64,
    /// Groups that failed and were retried upload by upload.
    pub fallbacks: AtomicU64,
}

/// The punch-upload committer. `committers` tasks take turns (`core::batch`): while one
/// commits, the next collects what arrives meanwhile.
pub struct PunchCommitter {
    jobs: Batcher<PunchUpload, StoreResult<IngestReport>>,
    pub stats: Arc<GroupCommitStats>,
}

impl PunchCommitter {
    /// Starts `committers` (at least 1) committing tasks on the current runtime.
    pub fn start(store: DynStore, committers: usize) -> Self {
        let stats = Arc::new(GroupCommitStats::default());
        let counted = stats.clone();
        let jobs = Batcher::start(committers, MAX_GROUP, move |group: Vec<PunchUpload>| {
            let (store, stats) = (store.clone(), counted.clone());
            async move { commit(&store, group, &stats).await }
        });
        Self { jobs, stats }
    }

    /// Stores one upload (with whatever else is waiting) and returns its report once durable.
    pub async fn ingest(&self, upload: PunchUpload) -> StoreResult<IngestReport> {
        self.jobs.call(upload).await.unwrap_or_else(|| Err(closed()))
    }
}

fn closed() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

/// Commits `uploads` in one transaction; when that fails, each upload alone. One answer per
/// upload, in order.
async fn commit(
    store: &DynStore,
    uploads: Vec<PunchUpload>,
    stats: &GroupCommitStats,
) -> Vec<StoreResult<IngestReport>> {
    stats.uploads.fetch_add(uploads.len() as u64, Ordering::Relaxed);
    if uploads.len() > 1 {
        stats.commits.fetch_add(1, Ordering::Relaxed);
        match store.ingest_punch_group(&uploads).await {
            Ok(reports) => return reports.into_iter().map(Ok).collect(),
            Err(error) => {
                stats.fallbacks.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(uploads = uploads.len(), %error, "a group of punch uploads failed; storing each alone");
            }
        }
    }
    let mut answers = Vec::with_capacity(uploads.len());
    for upload in &uploads {
        stats.commits.fetch_add(1, Ordering::Relaxed);
        // The device may have hung up meanwhile: its punches are stored and a re-send is skipped.
        answers.push(store.ingest_punches(&upload.device, &upload.message, &upload.rejected, &upload.punches).await);
    }
    answers
}
