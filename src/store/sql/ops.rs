//! Readiness, the figures `/metrics` reports, and backups. The retention purge is in `retention.rs`.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Dialect, SqlStore};
use crate::store::ops::{OpsStore, PoolStats, PurgeTable};
use crate::store::{StoreError, StoreResult};

/// How long readiness waits for the database before it reports it as not answering.
const READY_WAIT: Duration = Duration::from_secs(2);

#[async_trait]
impl<D: Dialect> OpsStore for SqlStore<D> {
    async fn readiness(&self) -> Result<(), String> {
        let check = async {
            let mut conn = self.read().await?;
            Self::sql("select version from _sqlx_migrations where success").scalars::<i64>(&mut conn).await
        };
        let applied = match tokio::time::timeout(READY_WAIT, check).await {
            Err(_) => return Err(format!("the database did not answer within {} s", READY_WAIT.as_secs())),
            Ok(Err(e)) => return Err(format!("the database does not answer: {e}")),
            Ok(Ok(applied)) => applied,
        };
        let missing: Vec<String> = D::migrator()
            .iter()
            .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
            .map(|m| format!("{} {}", m.version, m.description))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("migrations not applied: {} (run `ironclock migrate`)", missing.join(", ")))
        }
    }

    async fn command_counts(&self) -> StoreResult<Vec<(String, i64)>> {
        Self::sql("select state, count(*) from device_commands group by state")
            .fetch_all::<(String, i64)>(&mut *self.read().await?)
            .await
    }

    async fn devices_seen_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<(String, i64)>> {
        Self::sql("select mode, count(*) from devices where approval = 'approved' and last_seen_at >= $1 group by mode")
            .bind(since)
            .fetch_all::<(String, i64)>(&mut *self.read().await?)
            .await
    }

    fn pool_stats(&self) -> PoolStats {
        let size = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX).min(size);
        PoolStats { idle, in_use: size - idle, max: self.pool.options().get_max_connections() }
    }

    async fn purge_batch(&self, table: PurgeTable, before: DateTime<Utc>, limit: i64) -> StoreResult<u64> {
        super::retention::purge_batch::<D>(self, table, before, limit).await
    }

    async fn backup_to(&self, path: &Path) -> StoreResult<()> {
        let statement = D::BACKUP_INTO.map_err(|how| StoreError::Config(how.to_string()))?;
        if path.exists() {
            return Err(StoreError::Config(format!("{} exists: a backup never overwrites a file", path.display())));
        }
        let target = path.to_str().ok_or_else(|| StoreError::Config("the backup path is not UTF-8".into()))?;
        // A reader's snapshot: writers go on while the copy is made.
        Self::sql(statement).bind(target).run(&mut *self.read().await?).await
    }
}
