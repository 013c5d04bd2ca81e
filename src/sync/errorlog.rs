//! ERRORLOG results correlated to their command: a device that cannot carry out a command it
//! already acknowledged (a template or face it cannot store, a photo it cannot download or turn
//! into a face) says so later in an `ERRORLOG … DataOrigin=cmd CmdId=<id>` line. The command
//! becomes `failed` with the device's code and message, and the user's sync row on the device
//! shows it (push.md, ERRORLOG).

use crate::core::Core;
use crate::domain::{Device, OperlogBatch};
use crate::store::StoreError;

/// Fails the commands the batch's ERRORLOG lines name; returns how many.
pub async fn correlate(core: &Core, device: &Device, batch: &OperlogBatch) -> Result<usize, StoreError> {
    let mut failed = 0;
    for e in batch.events.iter().filter(|e| e.kind == "errorlog") {
        let origin = e.detail["origin"].as_str().unwrap_or_default();
        let Some(id) = e.detail["cmd_id"].as_str().and_then(|id| id.trim().parse::<i64>().ok()) else { continue };
        if !origin.is_empty() && !origin.eq_ignore_ascii_case("cmd") {
            continue;
        }
        let message = e.detail["message"].as_str().unwrap_or_default();
        let error = format!("the device reported ERRORLOG {} for command {id}: {message}", e.code).trim().to_string();
        match core.store.fail_reported(device.id, id, &error, core.clock.now()).await? {
            Some(command) => {
                failed += 1;
                tracing::warn!(serial = %device.serial_number, id, kind = %command.kind, code = %e.code, "command failed on the device (ERRORLOG)");
            }
            None => {
                tracing::info!(serial = %device.serial_number, id, "ERRORLOG names a command this server did not send to this device")
            }
        }
    }
    Ok(failed)
}
