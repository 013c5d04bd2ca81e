//! `CommandStore`: the device command queue and learned device capabilities.
//!
//! Contract (both backends, `tests/store_commands_contract.rs`):
//! - `claim_batch` never hands the same command to two concurrent callers: the device row is
//!   claimed first (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer) and a caller
//!   that finds it taken gets `busy` and nothing else;
//! - FIFO per device; a command waits for its dependency unless the dependency is acked or
//!   earlier in the same batch; dependents of failed/cancelled commands fail;
//! - `sent` commands past the ack timeout are re-sent while attempts remain, then fail;
//! - enqueueing, retrying and acks that may unblock dependents announce `StoreChange::Commands`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::{
    AckUpdate, BatchPolicy, Capability, ClaimedBatch, CommandFilter, DeviceId, NewCommand, QueuedCommand,
};

#[async_trait]
pub trait CommandStore: Send + Sync {
    /// Devices with `queued` or `sent` commands (warms the idle view at start-up).
    async fn devices_with_open_commands(&self) -> StoreResult<Vec<DeviceId>>;
    /// Stores commands in order (one transaction); returns their ids (the CmdIDs).
    async fn enqueue_commands(&self, commands: &[NewCommand]) -> StoreResult<Vec<i64>>;
    /// Claims the device's next batch and marks it `sent` at `now`.
    async fn claim_batch(
        &self,
        device: DeviceId,
        policy: &BatchPolicy,
        now: DateTime<Utc>,
    ) -> StoreResult<ClaimedBatch>;
    /// Applies acknowledgements of this device's commands; returns the updated commands (ids not
    /// found for this device, or already final, are left out).
    async fn apply_acks(
        &self,
        device: DeviceId,
        acks: &[AckUpdate],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<QueuedCommand>>;
    async fn get_command(&self, device: DeviceId, id: i64) -> StoreResult<Option<QueuedCommand>>;
    async fn list_commands(&self, device: DeviceId, filter: &CommandFilter) -> StoreResult<Vec<QueuedCommand>>;
    /// `queued` → `cancelled`; returns the command when it changed.
    async fn cancel_command(
        &self,
        device: DeviceId,
        id: i64,
        reason: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<QueuedCommand>>;
    /// `failed` or `cancelled` → `queued` with attempts reset; returns the command when it changed.
    async fn retry_command(&self, device: DeviceId, id: i64) -> StoreResult<Option<QueuedCommand>>;
    /// Whether the device has commands in `queued` or `sent`.
    async fn has_open_commands(&self, device: DeviceId) -> StoreResult<bool>;
    async fn set_capability(
        &self,
        device: DeviceId,
        capability: &str,
        supported: bool,
        code: Option<i64>,
    ) -> StoreResult<()>;
    async fn capabilities(&self, device: DeviceId) -> StoreResult<Vec<Capability>>;
}

/// An open (`queued` or timed-out `sent`) command as the batch picker sees it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct OpenCommand {
    pub id: i64,
    pub payload: String,
    pub ends_batch: bool,
    pub depends_on: Option<i64>,
    /// State of the dependency, when there is one.
    pub dependency_state: Option<String>,
}

/// Picks the deliverable prefix of a device's open commands, in id order.
///
/// A command is
/// deliverable when it has no dependency, its dependency is acked, or its dependency is in this
/// batch. Stops at the count or byte cap (one command always fits) or after a batch terminator.
pub(crate) fn pick_batch(open: &[OpenCommand], policy: &BatchPolicy) -> (Vec<crate::domain::ClaimedCommand>, bool) {
    let mut picked: Vec<crate::domain::ClaimedCommand> = Vec::new();
    let mut bytes = 0usize;
    for c in open {
        let ready = match c.depends_on {
            None => true,
            Some(dep) => {
                let state = c.dependency_state.as_deref();
                state == Some("acked") || state.is_none() || picked.iter().any(|p| p.id == dep)
            }
        };
        if !ready {
            continue;
        }
        let line = format!("C:{}:{}\n", c.id, c.payload).len();
        if !picked.is_empty() && (picked.len() >= policy.max_count || bytes + line > policy.max_bytes) {
            return (picked, true);
        }
        bytes += line;
        picked.push(crate::domain::ClaimedCommand { id: c.id, payload: c.payload.clone() });
        if c.ends_batch {
            let more = open.len() > picked.len();
            return (picked, more);
        }
    }
    (picked, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(count: usize, bytes: usize) -> BatchPolicy {
        BatchPolicy { max_count: count, max_bytes: bytes, ack_timeout: chrono::Duration::seconds(60) }
    }

    fn row(id: i64, payload: &str, ends: bool, dep: Option<(i64, &str)>) -> OpenCommand {
        OpenCommand {
            id,
            payload: payload.into(),
            ends_batch: ends,
            depends_on: dep.map(|d| d.0),
            dependency_state: dep.map(|d| d.1.to_string()),
        }
    }

    #[test]
    fn a_batch_stops_after_reboot_and_reports_more_waiting() {
        let open = vec![row(1, "INFO", false, None), row(2, "REBOOT", true, None), row(3, "INFO", false, None)];
        let (picked, more) = pick_batch(&open, &policy(50, 40_000));
        assert_eq!(picked.iter().map(|c| c.id).collect::<Vec<_>>(), vec![1, 2]);
        assert!(more);
    }

    #[test]
    fn count_and_byte_caps_are_respected_but_one_command_always_fits() {
        let open: Vec<_> = (1..=10).map(|i| row(i, "DATA UPDATE USERINFO PIN=1\tName=x", false, None)).collect();
        assert_eq!(pick_batch(&open, &policy(3, 40_000)).0.len(), 3);
        let line = "C:1:DATA UPDATE USERINFO PIN=1\tName=x\n".len();
        assert_eq!(pick_batch(&open, &policy(50, line * 2)).0.len(), 2);
        assert_eq!(pick_batch(&open, &policy(50, 1)).0.len(), 1, "an oversized first command still goes");
    }

    #[test]
    fn a_dependent_waits_unless_its_dependency_is_acked_or_in_the_same_batch() {
        let open = vec![row(5, "template", false, Some((4, "sent"))), row(6, "other", false, None)];
        let (picked, _) = pick_batch(&open, &policy(50, 40_000));
        assert_eq!(picked.iter().map(|c| c.id).collect::<Vec<_>>(), vec![6], "4 is sent but not acked");
        let open = vec![row(4, "user", false, None), row(5, "template", false, Some((4, "queued")))];
        assert_eq!(pick_batch(&open, &policy(50, 40_000)).0.len(), 2, "user and template travel together");
        let open = vec![row(5, "template", false, Some((4, "acked")))];
        assert_eq!(pick_batch(&open, &policy(50, 40_000)).0.len(), 1);
    }
}
