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

use tokio::sync::{mpsc, oneshot, Mutex};

use crate::store::{DynStore, IngestReport, PunchUpload, StoreError, StoreResult};

/// Most uploads in one transaction (bounds the transaction's size and its lock time).
const MAX_GROUP: usize = 256;
/// Uploads waiting for a committer before new ones wait to be queued.
const QUEUE: usize = 4096;

struct Job {
    upload: PunchUpload,
    reply: oneshot::Sender<StoreResult<IngestReport>>,
}

/// How many uploads and commits the committer has seen (for tests and metrics).
#[derive(Debug, Default)]
pub struct GroupCommitStats {
    pub uploads: AtomicU64,
    pub commits: AtomicU64,
    /// Groups that failed and were retried upload by upload.
    pub fallbacks: AtomicU64,
}

/// The punch-upload committer. `committers` tasks take turns: while one commits, the next
/// collects what arrives meanwhile.
pub struct PunchCommitter {
    jobs: mpsc::Sender<Job>,
    pub stats: Arc<GroupCommitStats>,
}

impl PunchCommitter {
    /// Starts `committers` (at least 1) committing tasks on the current runtime.
    pub fn start(store: DynStore, committers: usize) -> Self {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        let stats = Arc::new(GroupCommitStats::default());
        for _ in 0..committers.max(1) {
            tokio::spawn(committer(store.clone(), queue.clone(), stats.clone()));
        }
        Self { jobs, stats }
    }

    /// Stores one upload (with whatever else is waiting) and returns its report once durable.
    pub async fn ingest(&self, upload: PunchUpload) -> StoreResult<IngestReport> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Job { upload, reply }).await.map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

fn closed() -> StoreError {
    StoreError::Database(sqlx::Error::PoolClosed)
}

async fn committer(store: DynStore, queue: Arc<Mutex<mpsc::Receiver<Job>>>, stats: Arc<GroupCommitStats>) {
    loop {
        let group = {
            let mut queue = queue.lock().await;
            let Some(first) = queue.recv().await else { return };
            let mut group = vec![first];
            while group.len() < MAX_GROUP {
                match queue.try_recv() {
                    Ok(job) => group.push(job),
                    Err(_) => break,
                }
            }
            group
        };
        commit(&store, group, &stats).await;
    }
}

/// Commits `group` in one transaction; when that fails, each upload alone.
async fn commit(store: &DynStore, group: Vec<Job>, stats: &GroupCommitStats) {
    stats.uploads.fetch_add(group.len() as u64, Ordering::Relaxed);
    let (uploads, replies): (Vec<PunchUpload>, Vec<_>) = group.into_iter().map(|j| (j.upload, j.reply)).unzip();
    if uploads.len() > 1 {
        stats.commits.fetch_add(1, Ordering::Relaxed);
        match store.ingest_punch_group(&uploads).await {
            Ok(reports) => {
                for (reply, report) in replies.into_iter().zip(reports) {
                    let _ = reply.send(Ok(report));
                }
                return;
            }
            Err(error) => {
                stats.fallbacks.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(uploads = uploads.len(), %error, "a group of punch uploads failed; storing each alone");
            }
        }
    }
    for (upload, reply) in uploads.iter().zip(replies) {
        stats.commits.fetch_add(1, Ordering::Relaxed);
        let result = store.ingest_punches(&upload.device, &upload.message, &upload.rejected, &upload.punches).await;
        // The device may have hung up meanwhile: its punches are stored and a re-send is skipped.
        let _ = reply.send(result);
    }
}
