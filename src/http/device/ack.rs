//! `POST /iclock/devicecmd`: command results. Every body format of push.md 2.8 is parsed;
//! INFO dumps update the device's facts; the raw body is kept. Always answers `OK`, also for
//! IDs the server did not issue (logged), so a device never loops on an acknowledgement.

use actix_web::{web, HttpResponse};

use super::{ok_text, DeviceError, DeviceRequest};
use crate::domain::RejectedLine;
use crate::http::State;
use crate::push::ack::parse_devicecmd_body;
use crate::store::NewMessage;

pub async fn devicecmd(ctx: &State, request: DeviceRequest, body: web::Bytes) -> Result<HttpResponse, DeviceError> {
    let parsed = parse_devicecmd_body(&body);
    let rejected: Vec<RejectedLine> =
        parsed.rejected.into_iter().map(|r| RejectedLine { line_no: r.line_no, raw: r.raw, error: r.error }).collect();
    let message = NewMessage {
        device_id: Some(request.known.device.id),
        serial_number: request.serial.to_string(),
        path: request.path.clone(),
        query: request.raw_query.clone(),
        body: body.to_vec(),
        body_sealed: false,
        table: Some("devicecmd".into()),
        status: "processed",
        records: parsed.acks.len(),
        note: None,
    };
    ctx.store.store_message(&message, &rejected).await?;
    let updated =
        ctx.queue.acknowledge(&request.known.device, &parsed.acks, ctx.clock.now()).await.map_err(|e| match e {
            crate::queue::QueueError::Store(e) => DeviceError::Storage(e),
            other => DeviceError::BadRequest(other.to_string()),
        })?;
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
