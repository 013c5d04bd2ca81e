//! `CommandQueue`: the service every add, delete, query or setting change goes through.
//!
//! - `enqueue` validates and renders a typed command, refuses verbs the device has shown it
//!   does not support and stores it; the store announces it, which wakes the device's hint here
//!   and on every other instance;
//! - `poll` answers `GET /iclock/getrequest`: idle devices cost no database round trip, others
//!   get their next batch (FIFO, dependencies, caps, terminators) as `C:<id>:<cmd>` lines;
//! - `acknowledge` applies `devicecmd` results: state, Return-code meaning, result body, and
//!   what the device taught us (unsupported verbs, version mismatches, missing users).

mod catchup;
pub mod hints;
mod learning;
pub mod wrong_dialect;

use std::collections::HashSet;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

pub use catchup::CatchUp;
use hints::{PollDecision, QueueHints};
pub use learning::{forget_unsupported, Lesson};

use crate::domain::command::wire::encode;
use crate::domain::{Approval, BatchPolicy, CommandFilter, Device, DeviceId, NewCommand, QueuedCommand};
use crate::push::ack::CommandAck;
use crate::push::command::acc::EncodeError;
use crate::push::command::options::advance_time_sync;
use crate::push::command::{Command, CommandError};
use crate::push::text::encode_for_device;
use crate::store::{ChangeHook, DynStore, StoreChange, StoreError};

/// Why a command could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("invalid command: {0}")]
    Invalid(#[from] CommandError),
    #[error("device {0} is not approved")]
    NotApproved(String),
    #[error("device {serial} does not support {verb} (it answered {code} before)")]
    Unsupported { serial: String, verb: String, code: i64 },
    #[error("{0} commands are not available to school admins")]
    NotAllowed(&'static str),
    /// The command has no form in the device's dialect (an acc device is never sent an att command).
    #[error("device {serial}: {reason}")]
    NotForDevice { serial: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Options of one queued command.
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    pub student_id: Option<i64>,
    /// An already stored command this one must wait for.
    pub depends_on: Option<i64>,
    pub created_by: Option<String>,
}

/// One command in a multi-command enqueue; `after` names an earlier item of the same call.
#[derive(Debug, Clone)]
pub struct Planned {
    pub command: Command,
    pub options: EnqueueOptions,
    pub after: Option<usize>,
}

/// Queue settings (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct QueueConfig {
    pub policy: BatchPolicy,
    pub max_attempts: i32,
}

/// The enqueue path of the [`CommandQueue`] as a cheap cloneable handle.
#[derive(Clone)]
pub struct Enqueuer {
    store: DynStore,
    config: QueueConfig,
}

impl Enqueuer {
    /// Validates, encodes in the device's dialect and stores `planned` for one device in one
    /// transaction, in order (`after` indexes an earlier item); refuses verbs the device has
    /// shown it does not support. The store announces the commands, which wakes the device.
    pub async fn enqueue_all(&self, device: &Device, planned: Vec<Planned>) -> Result<Vec<i64>, QueueError> {
        if device.approval != Approval::Approved {
            return Err(QueueError::NotApproved(device.serial_number.clone()));
        }
        let unsupported = self.store.capabilities(device.id).await?;
        let mut rows = Vec::with_capacity(planned.len());
        for p in planned {
            let encoded = encode(device.dialect, &p.command).map_err(|e| match e {
                EncodeError::Invalid(e) => QueueError::Invalid(e),
                other => QueueError::NotForDevice { serial: device.serial_number.clone(), reason: other.to_string() },
            })?;
            let verb = encoded.verb;
            let payload = encoded.payload;
            let capability = learning::capability_of(verb, &payload);
            if let Some(cap) = unsupported.iter().find(|c| !c.supported && c.capability == capability) {
                return Err(QueueError::Unsupported {
                    serial: device.serial_number.clone(),
                    verb: capability,
                    code: cap.return_code.unwrap_or_default(),
                });
            }
            rows.push(NewCommand {
                device_id: device.id,
                kind: p.command.kind().to_string(),
                verb: verb.to_string(),
                payload,
                ends_batch: p.command.ends_batch(),
                max_attempts: self.config.max_attempts,
                student_id: p.options.student_id,
                pin: p.command.pin().map(str::to_string),
                depends_on_index: p.after,
                depends_on: p.options.depends_on,
                created_by: p.options.created_by,
            });
        }
        // The store announces the device's new commands at commit, which wakes its hint.
        Ok(self.store.enqueue_commands(&rows).await?)
    }
}

pub struct CommandQueue {
    store: DynStore,
    hints: std::sync::Arc<QueueHints>,
    config: QueueConfig,
    pub catchup: CatchUp,
    known_supported: Mutex<HashSet<(DeviceId, String)>>,
}

impl CommandQueue {
    pub fn new(store: DynStore, config: QueueConfig) -> Self {
        Self {
            store,
            hints: std::sync::Arc::default(),
            config,
            catchup: CatchUp::default(),
            known_supported: Mutex::default(),
        }
    }

    pub fn config(&self) -> QueueConfig {
        self.config
    }

    /// Queues one command for an approved device; returns its CmdID.
    pub async fn enqueue(&self, device: &Device, command: Command, options: EnqueueOptions) -> Result<i64, QueueError> {
        let planned = Planned { command, options, after: None };
        Ok(self.enqueue_all(device, vec![planned]).await?[0])
    }

    /// Queues several commands for one device in one transaction, in order.
    pub async fn enqueue_all(&self, device: &Device, planned: Vec<Planned>) -> Result<Vec<i64>, QueueError> {
        self.enqueuer().enqueue_all(device, planned).await
    }

    /// A handle that queues commands exactly as [`CommandQueue::enqueue_all`] does, for a service
    /// that outlives a borrow of the queue (an area sync's push devices).
    pub fn enqueuer(&self) -> Enqueuer {
        Enqueuer { store: self.store.clone(), config: self.config }
    }

    /// The reply body for a command poll, or `None` for the plain idle `OK`.
    pub async fn poll(&self, device: &Device, now: DateTime<Utc>) -> Result<Option<Vec<u8>>, StoreError> {
        let PollDecision::Check(version) = self.hints.decide(device.id, now) else {
            return Ok(None);
        };
        if device.approval != Approval::Approved {
            return Ok(None);
        }
        let batch = self.store.claim_batch(device.id, &self.config.policy, now).await?;
        if batch.busy {
            // Another instance is serving this device right now; it gets its commands there.
            return Ok(None);
        }
        self.hints.settle(device.id, version, !batch.more_waiting, batch.recheck_at);
        if batch.commands.is_empty() {
            return Ok(None);
        }
        let text: String = batch
            .commands
            .iter()
            .map(|c| {
                // A clock set carries the time of delivery, not of queueing.
                let advanced = advance_time_sync(&c.payload, now - c.queued_at);
                format!("C:{}:{}\n", c.id, advanced.as_deref().unwrap_or(&c.payload))
            })
            .collect();
        tracing::debug!(serial = %device.serial_number, commands = batch.commands.len(), bytes = text.len(), "commands delivered");
        Ok(Some(encode_for_device(&text, device.language.as_deref())))
    }

    /// Applies a `devicecmd` body's acks; unknown or foreign ids are logged and ignored.
    pub async fn acknowledge(
        &self,
        device: &Device,
        acks: &[CommandAck],
        now: DateTime<Utc>,
    ) -> Result<Vec<QueuedCommand>, QueueError> {
        let mut updates = Vec::new();
        let mut lessons = Vec::new();
        for ack in acks {
            let known = match ack.id.trim().parse::<i64>() {
                Ok(id) => self.store.get_command(device.id, id).await?,
                Err(_) => None,
            };
            let Some(command) = known else {
                tracing::warn!(serial = %device.serial_number, id = %ack.id, code = ?ack.return_code,
                    "acknowledgement for a command this server did not send to this device");
                continue;
            };
            let (update, learned) = learning::interpret(&command, ack, device.dialect);
            lessons.extend(learned.into_iter().map(|l| (command.clone(), l)));
            updates.push(update);
        }
        let updated = self.store.apply_acks(device.id, &updates, now).await?;
        for (command, lesson) in lessons {
            self.learn(device, &command, lesson).await?;
        }
        // Acks can unblock dependents: the store announced them, so the next poll looks again.
        Ok(updated)
    }

    async fn learn(&self, device: &Device, command: &QueuedCommand, lesson: Lesson) -> Result<(), QueueError> {
        match lesson {
            Lesson::Supported { verb } => {
                let first =
                    self.known_supported.lock().map(|mut s| s.insert((device.id, verb.clone()))).unwrap_or(false);
                if first {
                    self.store.set_capability(device.id, &verb, true, Some(0)).await?;
                }
            }
            Lesson::Unsupported { verb, code } => {
                tracing::warn!(serial = %device.serial_number, %verb, code, "device does not support this command; not queued again");
                if let Ok(mut s) = self.known_supported.lock() {
                    s.remove(&(device.id, verb.clone()));
                }
                self.store.set_capability(device.id, &verb, false, Some(code)).await?;
            }
            Lesson::TemplateVersionMismatch { bio_type } => {
                self.store.set_capability(device.id, &format!("template_version:{bio_type}"), false, Some(-30)).await?;
            }
            Lesson::UserMissing { pin } => self.requeue_user_then(device, command, &pin).await?,
        }
        Ok(())
    }

    /// -10 on a template write: queue the user's latest USERINFO again, then the template after it.
    async fn requeue_user_then(&self, device: &Device, template: &QueuedCommand, pin: &str) -> Result<(), QueueError> {
        let filter = CommandFilter {
            kind: Some("user_update".into()),
            pin: Some(pin.into()),
            limit: Some(1),
            ..Default::default()
        };
        let Some(user) = self.store.list_commands(device.id, &filter).await?.into_iter().next() else {
            tracing::warn!(serial = %device.serial_number, pin, "template refused (-10: no such user) and no user write to repeat");
            return Ok(());
        };
        let copy = |c: &QueuedCommand, after: Option<usize>| NewCommand {
            device_id: device.id,
            kind: c.kind.clone(),
            verb: c.verb.clone(),
            payload: c.payload.clone(),
            ends_batch: c.ends_batch,
            max_attempts: self.config.max_attempts,
            student_id: c.student_id,
            pin: c.pin.clone(),
            depends_on_index: after,
            depends_on: None,
            created_by: Some(format!("requeued after command {} answered -10", template.id)),
        };
        let ids = self.store.enqueue_commands(&[copy(&user, None), copy(template, Some(0))]).await?;
        tracing::info!(serial = %device.serial_number, pin, user = ids[0], template = ids[1], "user re-queued before its template");
        Ok(())
    }

    /// Forgets what the device taught (unsupported verbs and option keys, template-version
    /// mismatches) so its commands are offered again; returns what was forgotten.
    pub async fn forget_learned(&self, device: DeviceId) -> Result<Vec<crate::domain::Capability>, StoreError> {
        if let Ok(mut known) = self.known_supported.lock() {
            known.retain(|(id, _)| *id != device);
        }
        self.store.forget_capabilities(device).await
    }

    pub async fn list(&self, device: DeviceId, filter: &CommandFilter) -> Result<Vec<QueuedCommand>, StoreError> {
        self.store.list_commands(device, filter).await
    }

    /// Cancels a queued command (sent ones cannot be recalled from the device).
    pub async fn cancel(&self, device: DeviceId, id: i64, by: &str) -> Result<Option<QueuedCommand>, StoreError> {
        self.store.cancel_command(device, id, &format!("cancelled by {by}"), Utc::now()).await
    }

    /// Puts a failed or cancelled command back in the queue.
    pub async fn retry(&self, device: DeviceId, id: i64) -> Result<Option<QueuedCommand>, StoreError> {
        self.store.retry_command(device, id).await
    }

    /// Loads the devices that have open commands; every other device is idle until woken.
    pub async fn warm(&self) -> Result<(), StoreError> {
        let open = self.store.devices_with_open_commands().await?;
        self.hints.warm(&open);
        Ok(())
    }

    /// The hook that keeps the idle view right: a device with new or unblocked commands is
    /// checked on its next poll; after lost notifications every device is (each settles again
    /// after one check). `Core::open` subscribes it.
    pub fn change_hook(&self) -> ChangeHook {
        let hints = std::sync::Arc::downgrade(&self.hints);
        std::sync::Arc::new(move |change: &StoreChange| {
            let Some(hints) = hints.upgrade() else { return };
            match change {
                StoreChange::Commands(device) => hints.mark_busy(*device),
                StoreChange::Resync => hints.reset(),
                StoreChange::Device(_) | StoreChange::School(_) | StoreChange::AreaSyncRequested => {}
            }
        })
    }
}
