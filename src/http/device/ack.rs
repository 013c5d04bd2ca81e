//! `POST /iclock/devicecmd`: command results. Every body format of push.md 2.8 is parsed;
//! INFO dumps update the device's facts; the raw body is kept, sealed. Always answers `OK`, also
//! for IDs the server did not issue (logged), so a device never loops on an acknowledgement.
//! Only approved devices are heard: a pending or unknown serial was sent no command, and its
//! body is refused before anything is stored (issue 15, finding 3).

use actix_web::{web, HttpResponse};

use super::upload::message;
use super::{ingest, ok_text, require_approved, DeviceError, DeviceRequest};
use crate::http::State;
use crate::push::ack::parse_devicecmd_body;

pub async fn devicecmd(ctx: &State, request: DeviceRequest, body: web::Bytes) -> Result<HttpResponse, DeviceError> {
    require_approved(&request)?;
    if request.off_pin {
        // Commands go only to the pinned address, so results from elsewhere are forged or stale:
        // answered OK (the sender learns nothing), not stored, no command changes state.
        tracing::warn!(serial = %request.serial, ip = ?request.ip, "command results from outside the pinned address ignored");
        return Ok(ok_text("OK"));
    }
    let parsed = parse_devicecmd_body(&body);
    let (total, rejected) = ingest::quarantine(ingest::rejected(parsed.rejected), &ctx.cipher);
    let mut message = message(ctx, &request, &body, "devicecmd", "processed", parsed.acks.len());
    message.rejected = total;
    ctx.store.store_message(&message, &rejected).await?;
    // An acc query whose answer never arrived whole fails here; the rest are acknowledged.
    let incomplete = super::acc::incomplete_queries(ctx, &request.known.device, &parsed.acks).await?;
    let mut updated = Vec::new();
    if !incomplete.is_empty() {
        // Only then: an empty call would still cost every ack a write transaction.
        updated = ctx.store.apply_acks(request.known.device.id, &incomplete, ctx.clock.now()).await?;
    }
    let acks: Vec<_> =
        parsed.acks.iter().filter(|a| !incomplete.iter().any(|f| f.id.to_string() == a.id.trim())).cloned().collect();
    updated.extend(ctx.queue.acknowledge(&request.known.device, &acks, ctx.clock.now()).await.map_err(
        |e| match e {
            crate::queue::QueueError::Store(e) => DeviceError::Storage(e),
            other => DeviceError::BadRequest(other.to_string()),
        },
    )?);
    // Acks are stored; asking the device to show the users it was sent is follow-up work.
    if let Err(error) = crate::sync::after_acks(ctx, &request.known.device, &updated).await {
        tracing::error!(serial = %request.serial, %error, "could not queue the read-back of synced users");
    }
    for ack in &parsed.acks {
        tracing::info!(serial = %request.serial, id = %ack.id, code = ?ack.return_code, cmd = ?ack.cmd, "command result");
        if !ack.info.is_empty() {
            ctx.store.merge_device_options(request.known.device.id, &ack.info).await?;
            ctx.devices.invalidate(request.serial.as_str());
        }
    }
    Ok(ok_text("OK"))
}
