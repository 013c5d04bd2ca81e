//! Student sync for push devices: every device of a school holds exactly the school's active
//! students, and the status table says so with evidence from the device.
//!
//! - `plan` (pure) decides commands and row changes; the store applies them set-based;
//! - student writes reconcile inside their own transaction (`core::students`); the store
//!   announces the devices that got commands, which wakes their queue hints on every instance;
//! - deliveries and acks move rows (store `refresh_rows`); after a device's last user write is
//!   acked, [`after_acks`] reads the users back (`DATA QUERY USERINFO`), and uploads of user
//!   records ([`after_upload`]) confirm rows or reveal drift;
//! - [`verifier`] runs every two hours; [`full_sync`] and [`retry_student`] are the manual paths.

mod acc;
pub mod area;
pub mod errorlog;
pub mod face_uploads;
pub mod progress;
pub mod quiet;
pub mod verifier;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::core::Core;
use crate::domain::sync::SyncMode;
use crate::domain::Pin;
use crate::domain::SchoolId;
use crate::domain::{CommandFilter, CommandState, Device, DeviceId, Dialect, OperlogBatch, QueuedCommand};
use crate::push::command::Command;
use crate::queue::{EnqueueOptions, Planned, QueueError};
use crate::store::sync::{ObservedUser, ReconcileOptions, SyncProgress, SyncScope};
use crate::store::StoreError;

/// At most this many users are read back one PIN at a time; more get one full user-list query.
const PER_PIN_READBACK_LIMIT: usize = 20;
const QUERY_VERB: &str = "DATA QUERY USERINFO";
const ACC_QUERY_VERB: &str = "DATA QUERY user";

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("device {0} is not an approved device of a school")]
    NotSyncable(String),
    #[error("student {0} is not an active student of this device's school")]
    NotAStudent(i64),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn options(core: &Core, by: &str) -> ReconcileOptions {
    ReconcileOptions { max_attempts: core.max_attempts(), ..ReconcileOptions::new(by) }
}

/// End of the school's current quiet window, if `now` is in one.
pub async fn quiet_until(
    core: &Core,
    school_id: SchoolId,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let Some(policy) = core.store.school_policy(school_id).await? else { return Ok(None) };
    let tz = policy.timezone.parse().unwrap_or(chrono_tz::UTC);
    Ok(quiet::quiet_until(&policy.quiet_hours, tz, now))
}

/// The school whose students the device holds: approved devices of a school, push or pull (a
/// pull device's pull service carries out the same commands; a disabled one gets them when it
/// is enabled again); pending and blocked devices get nothing.
pub fn student_school(device: &Device) -> Option<SchoolId> {
    device.school_id.filter(|_| device.approval == crate::domain::Approval::Approved)
}

fn syncable(device: &Device) -> Result<SchoolId, SyncError> {
    student_school(device).ok_or_else(|| SyncError::NotSyncable(device.serial_number.clone()))
}

/// What a manual full sync queued.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FullSyncReport {
    pub device_id: i64,
    /// Active students of the school.
    pub total_students: i64,
    /// Commands queued now (students with a command already in flight are not queued again).
    pub commands_queued: usize,
    /// Set when quiet hours defer delivery.
    pub deferred_until: Option<DateTime<Utc>>,
    pub message: String,
    pub progress: SyncProgress,
}

/// Queues every active student of the school (and deletes of removed ones) for the device.
/// Repeated calls do not duplicate commands still in flight.
pub async fn full_sync(core: &Core, device: &Device, by: &str) -> Result<FullSyncReport, SyncError> {
    let school = syncable(device)?;
    let now = core.clock.now();
    let deferred_until = quiet_until(core, school, now).await?;
    let opts = ReconcileOptions { not_before: deferred_until, ..options(core, &format!("full sync by {by}")) };
    let scope = SyncScope { school_id: school, device_ids: Some(vec![device.id.0]), student_ids: None };
    let report = core.store.reconcile(&scope, SyncMode::Force, &opts).await?;
    let summary = core.store.sync_status(device.id, &Default::default()).await?.summary;
    let progress = core.store.sync_progress(device.id, now).await?;
    let queued = report.commands();
    let message = match (queued, deferred_until) {
        (0, _) => "every student already has a command on its way or is confirmed; nothing new queued".to_string(),
        (n, Some(at)) => format!("{n} commands queued; quiet hours: delivery starts at {}", at.to_rfc3339()),
        (n, None) => format!("{n} commands queued; the device picks them up on its next poll"),
    };
    Ok(FullSyncReport {
        device_id: device.id.0,
        total_students: summary.total,
        commands_queued: queued,
        deferred_until,
        message,
        progress,
    })
}

/// Re-queues one student on one device now (a manual retry ignores the back-off).
pub async fn retry_student(core: &Core, device: &Device, student_id: i64, by: &str) -> Result<usize, SyncError> {
    let school = syncable(device)?;
    let scope =
        SyncScope { school_id: school, device_ids: Some(vec![device.id.0]), student_ids: Some(vec![student_id]) };
    let report = core.store.reconcile(&scope, SyncMode::Force, &options(core, &format!("retry by {by}"))).await?;
    Ok(report.commands())
}

/// After acks: once the device has no user write left in its queue, ask it for the users it
/// was sent (one PIN at a time for a few, one full list for many) so that they can be confirmed.
pub async fn after_acks(core: &Core, device: &Device, updated: &[QueuedCommand]) -> Result<(), SyncError> {
    acc::authorize_doors(core, device, updated).await?;
    let wrote_users = updated.iter().any(|c| c.kind == "user_update" && c.state == CommandState::Acked);
    if !wrote_users || device.school_id.is_none() {
        return Ok(());
    }
    for kind in ["user_update", "user_delete"] {
        for state in [CommandState::Queued, CommandState::Sent] {
            let filter =
                CommandFilter { kind: Some(kind.into()), state: Some(state), limit: Some(1), ..Default::default() };
            if !core.queue.list(device.id, &filter).await?.is_empty() {
                return Ok(());
            }
        }
    }
    read_back(core, device, core.clock.now()).await
}

/// Queues the read-back of the users awaiting confirmation; on firmware that cannot be read back
/// the ack is the best evidence there is, and the rows are confirmed on it.
pub async fn read_back(core: &Core, device: &Device, now: DateTime<Utc>) -> Result<(), SyncError> {
    let Some(school) = device.school_id else { return Ok(()) };
    let waiting = core.store.awaiting_confirmation(device.id).await?;
    if waiting.is_empty() {
        return Ok(());
    }
    let caps = core.store.capabilities(device.id).await?;
    let query_verb = if device.dialect == Dialect::Acc { ACC_QUERY_VERB } else { QUERY_VERB };
    if caps.iter().any(|c| !c.supported && c.capability == query_verb) {
        let n = core.store.confirm_by_ack(device.id, now).await?;
        tracing::debug!(serial = %device.serial_number, confirmed = n, "read-back unsupported: confirmed on ack");
        return Ok(());
    }
    if quiet_until(core, school, now).await?.is_some() {
        return Ok(()); // Deferred: the verifier reads back outside quiet hours.
    }
    let open = open_queries(core, device.id).await?;
    // Acc devices are asked for the whole user table: the per-PIN `filter=` form is unverified.
    let planned: Vec<Planned> = if waiting.len() <= PER_PIN_READBACK_LIMIT && device.dialect == Dialect::Att {
        waiting
            .into_iter()
            .filter(|(_, pin)| !open.iter().any(|q| q.pin.as_deref() == Some(pin.as_str())))
            .map(|(student, pin)| readback(Some(pin), Some(student)))
            .collect()
    } else if open.iter().any(|q| q.pin.is_none()) {
        vec![]
    } else {
        vec![readback(None, None)]
    };
    if !planned.is_empty() {
        core.queue.enqueue_all(device, planned).await?;
    }
    Ok(())
}

fn readback(pin: Option<String>, student_id: Option<i64>) -> Planned {
    Planned {
        command: Command::UserQuery { pin },
        options: EnqueueOptions { student_id, created_by: Some("sync read-back".into()), ..Default::default() },
        after: None,
    }
}

/// Read-back queries of the device still queued or sent.
pub async fn open_queries(core: &Core, device: DeviceId) -> Result<Vec<QueuedCommand>, StoreError> {
    let mut open = Vec::new();
    for state in [CommandState::Queued, CommandState::Sent] {
        let filter = CommandFilter { kind: Some("user_query".into()), state: Some(state), ..Default::default() };
        open.extend(core.queue.list(device, &filter).await?);
    }
    Ok(open)
}

/// Evidence in an upload: user records confirm or reveal drift; OPLOG 9 is a keypad delete;
/// ERRORLOG lines fail the commands they name ([`errorlog`]).
pub async fn after_upload(core: &Core, device: &Device, batch: &OperlogBatch) -> Result<(), SyncError> {
    errorlog::correlate(core, device, batch).await?;
    if device.school_id.is_none() {
        return Ok(());
    }
    if let Err(error) = face_uploads::learn(core, device, batch).await {
        // The upload's rows are kept: the next upload or area sync (which reads them) learns it.
        tracing::warn!(serial = %device.serial_number, %error, "uploaded faces not learned as master copies");
    }
    let opts = options(core, "drift repair");
    if !batch.users.is_empty() {
        let users: Vec<ObservedUser> = batch
            .users
            .iter()
            .map(|u| ObservedUser {
                pin: Pin(u.pin.clone()),
                name: u.name.clone().unwrap_or_default(),
                card: u.card.clone(),
            })
            .collect();
        let report = core.store.observe_users(device.id, &users, &opts).await?;
        if report.drift > 0 || report.unknown > 0 {
            tracing::info!(serial = %device.serial_number, confirmed = report.confirmed, drift = report.drift,
                unknown = report.unknown, "device users compared with the roster");
        }
    }
    let deleted: Vec<String> = batch
        .events
        .iter()
        .filter(|e| e.kind == "oplog" && e.code.trim() == "9")
        .filter_map(|e| e.detail["values"].get(0).and_then(|v| v.as_str()).map(|s| s.trim().to_string()))
        .filter(|pin| !pin.is_empty() && pin != "0")
        .collect();
    if !deleted.is_empty() {
        let report = core.store.observe_keypad_deletes(device.id, &deleted, &opts).await?;
        tracing::warn!(serial = %device.serial_number, pins = ?deleted, requeued = report.commands(),
            "users deleted at the device keypad");
    }
    Ok(())
}
