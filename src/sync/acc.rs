//! Student sync on access-control (acc) devices: a user written with `DATA UPDATE user` can open
//! no door until it also has `DATA UPDATE userauthorize` (push.md 2.7.2). Once the device acked
//! the user row, its door access follows; the acked user row alone drives the sync status.

use crate::core::Core;
use crate::domain::{CommandState, Device, Dialect, NewCommand, QueuedCommand};
use crate::push::command::acc::user_authorize;

use super::SyncError;

/// Lock 1: the one door of a face terminal (`AuthorizeDoorId` is a bitmask of locks).
const DOORS: u8 = 1;

/// Queues `DATA UPDATE userauthorize` for every user row the acc device just acked.
pub async fn authorize_doors(core: &Core, device: &Device, updated: &[QueuedCommand]) -> Result<(), SyncError> {
    if device.dialect != Dialect::Acc {
        return Ok(());
    }
    let commands: Vec<NewCommand> = updated
        .iter()
        .filter(|c| c.kind == "user_update" && c.state == CommandState::Acked)
        .filter_map(|c| {
            let pin = c.pin.as_deref()?;
            let grant = user_authorize(pin, DOORS)
                .inspect_err(
                    |e| tracing::warn!(serial = %device.serial_number, pin, error = %e, "no door access queued"),
                )
                .ok()?;
            Some(NewCommand {
                device_id: device.id,
                kind: "user_authorize".into(),
                verb: grant.verb.into(),
                payload: grant.payload,
                ends_batch: false,
                max_attempts: core.max_attempts(),
                student_id: None,
                pin: Some(pin.to_string()),
                depends_on_index: None,
                depends_on: None,
                created_by: Some(format!("door access after command {}", c.id)),
            })
        })
        .collect();
    if !commands.is_empty() {
        core.store.enqueue_commands(&commands).await?;
    }
    Ok(())
}
