//! `CommandStore`: the device command queue and learned device capabilities.
//!
//! Contract (both backends, `tests/store/commands_contract.rs`):
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
    /// The device reported (ERRORLOG `CmdId`) that its command `id` failed, even after it was
    /// acknowledged (a BIOPHOTO is acked, then the face cannot be extracted): the command becomes
    /// `failed` with `error`, and, when it concerns a user (`pin`), the user's sync row on the
    /// device carries `error` too. Returns the command (`None`: not this device's, or cancelled).
    async fn fail_reported(
        &self,
        device: DeviceId,
        id: i64,
        error: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<QueuedCommand>>;
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
    /// Forgets everything learned about the device (unsupported verbs and option keys,
    /// template-version mismatches); returns what was forgotten. An admin's reset: the next
    /// commands are offered to the device again.
    async fn forget_capabilities(&self, device: DeviceId) -> StoreResult<Vec<Capability>>;
}
