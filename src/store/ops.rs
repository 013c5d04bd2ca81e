//! `OpsStore`: what running the server needs from storage: readiness, the figures `/metrics`
//! reports (command states, devices online, pool connections), the retention purge and backups.

use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;

/// Rows the retention job purges, each with its own age limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeTable {
    /// Raw device uploads that were processed cleanly (no rejected line).
    Messages,
    /// Quarantined lines, and raw uploads that were refused, kept unparsed or had rejected lines.
    Quarantine,
    /// Commands that are finished (acknowledged, failed or cancelled).
    Commands,
    /// Finished job runs.
    Jobs,
    /// Punches (only when an age limit is configured; by default they are kept forever).
    Punches,
    /// Photo URLs handed to devices (`/iclock/doc/…`) whose expiry passed and whose command
    /// failed, was cancelled or is gone, or that a newer delivered one superseded (the newest
    /// delivered URL is area sync's record of what the device holds, kept with its command):
    /// each holds a sealed photo. Purged by expiry, not by a configured age.
    MediaTokens,
    /// Login throttle counts a day after their last attempt (the longest window is 15 minutes).
    LoginCounts,
}

impl PurgeTable {
    /// Every table, in purge order.
    pub const ALL: [PurgeTable; 7] = [
        PurgeTable::Messages,
        PurgeTable::Quarantine,
        PurgeTable::Commands,
        PurgeTable::Jobs,
        PurgeTable::Punches,
        PurgeTable::MediaTokens,
        PurgeTable::LoginCounts,
    ];

    /// The name used in job summaries and flags.
    pub fn as_str(self) -> &'static str {
        match self {
            PurgeTable::Messages => "messages",
            PurgeTable::Quarantine => "quarantine",
            PurgeTable::Commands => "commands",
            PurgeTable::Jobs => "jobs",
            PurgeTable::Punches => "punches",
            PurgeTable::MediaTokens => "media_tokens",
            PurgeTable::LoginCounts => "login_counts",
        }
    }
}

/// Connections of the database pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub idle: u32,
    pub in_use: u32,
    pub max: u32,
}

#[async_trait]
pub trait OpsStore: Send + Sync {
    /// `Ok` when the database answers and every migration this build knows is applied;
    /// otherwise the reason, in words an operator can act on.
    async fn readiness(&self) -> Result<(), String>;
    /// Commands per state (`queued`, `sent`, `acked`, `failed`, `cancelled`), states with none omitted.
    async fn command_counts(&self) -> StoreResult<Vec<(String, i64)>>;
    /// Approved devices last seen at or after `since`, per mode (`push`, `pull`).
    async fn devices_seen_since(&self, since: DateTime<Utc>) -> StoreResult<Vec<(String, i64)>>;
    /// The pool's connections now (no database trip).
    fn pool_stats(&self) -> PoolStats;
    /// Deletes at most `limit` rows of `table` older than `before`, in one short transaction;
    /// returns how many. Callers loop until fewer than `limit` come back.
    async fn purge_batch(&self, table: PurgeTable, before: DateTime<Utc>, limit: i64) -> StoreResult<u64>;
    /// Writes a consistent copy of the live database to `path` (SQLite: `VACUUM INTO`). On
    /// PostgreSQL this is an error naming the `pg_dump` command to use instead.
    async fn backup_to(&self, path: &Path) -> StoreResult<()>;
}
