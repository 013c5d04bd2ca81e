//! The retention purge: one short delete of at most `limit` old rows per call, so the job
//! interleaves with ingestion (the SQLite writer lock is held for one batch only).
//!
//! Rows are found by walking the primary key from the oldest, which follows time order in these
//! append-only tables: each batch reads only the rows it deletes, and a run reads each table's
//! young rows once, when its last batch finds fewer than `limit` (media tokens, a small table
//! of random keys, are found by their expiry). Nothing purged is cached by
//! other instances (finished commands, old uploads and job runs are read on demand), so these
//! deletes announce no change.

use chrono::{DateTime, Utc};

use super::{Dialect, SqlStore};
use crate::store::ops::PurgeTable;
use crate::store::StoreResult;

/// Uploads that need an admin's attention: refused, kept unparsed, or with rejected lines.
const QUARANTINED: &str = "(status <> 'processed' or rejected > 0)";

pub(super) async fn purge_batch<D: Dialect>(
    store: &SqlStore<D>,
    table: PurgeTable,
    before: DateTime<Utc>,
    limit: i64,
) -> StoreResult<u64> {
    let (name, key, condition) = match table {
        PurgeTable::Messages => ("device_messages", "id", format!("received_at < $1 and not {QUARANTINED}")),
        PurgeTable::Quarantine => ("device_messages", "id", format!("received_at < $1 and {QUARANTINED}")),
        // A command a photo URL points to stays with it (see MediaTokens).
        PurgeTable::Commands => (
            "device_commands",
            "id",
            "state in ('acked', 'failed', 'cancelled') and finished_at < $1
             and id not in (select command_id from media_tokens where command_id is not null)"
                .to_string(),
        ),
        PurgeTable::Jobs => ("job_executions", "id", "status <> 'running' and started_at < $1".to_string()),
        PurgeTable::Punches => ("attendance_logs", "id", "punched_at < $1".to_string()),
        // The newest URL of a device's photo of a person whose command is queued, sent or
        // acknowledged is the record of the photo the device holds (area sync reads it): kept,
        // with its command. The others are of no use once expired: undelivered, or superseded
        // by a newer delivered one.
        PurgeTable::MediaTokens => (
            "media_tokens",
            "token_hash",
            "expires_at < $1 and (command_id is null
                or command_id not in (select id from device_commands where state in ('queued', 'sent', 'acked'))
                or exists (select 1 from media_tokens n where n.device_id = media_tokens.device_id
                    and n.kind = media_tokens.kind and n.pin = media_tokens.pin and n.created_at > media_tokens.created_at
                    and n.command_id in (select id from device_commands where state in ('queued', 'sent', 'acked'))))"
                .to_string(),
        ),
        PurgeTable::LoginCounts => ("login_counts", "key", "last_at < $1".to_string()),
    };
    let sql = format!(
        "delete from {name} where {key} in (select {key} from {name} where {condition} order by {key} limit $2)"
    );
    // A message's rejected lines go with it (`on delete cascade`): every message with rejected
    // lines counts as quarantined, so its lines are kept exactly as long as the quarantine.
    SqlStore::<D>::sql(&sql).bind(before).bind(limit).execute(&mut *store.write_once().await?).await
}
