//! `GET /iclock/getrequest`: the command poll. Records the `INFO=` counters when they change and
//! answers with the device's next command batch, or `OK`. An idle poll costs no database round
//! trip, even when its `INFO=` counters changed (they are written by the activity flush).

use super::{ok_text, DeviceError, DeviceRequest};
use crate::http::State;
use crate::push::info::parse_poll_info;

pub async fn getrequest(ctx: &State, request: DeviceRequest) -> Result<actix_web::HttpResponse, DeviceError> {
    if let Some(info) = request.query.info.as_deref() {
        let id = request.known.device.id;
        if ctx.activity.info_changed(id, info) {
            // Written by the activity flush (every few seconds, many devices a statement).
            ctx.activity.note_poll_info(id, info, chrono::Utc::now());
        }
    }
    if request.off_pin {
        // Pinning is on and the device calls from elsewhere: nothing it was sent may reach a
        // stranger (commands carry children's names, cards and templates).
        return Ok(ok_text("OK"));
    }
    match ctx.queue.poll(&request.known.device, ctx.clock.now()).await? {
        Some(commands) => Ok(super::ok_bytes(commands)),
        None => Ok(ok_text("OK")),
    }
}

/// The stored form of a poll's `INFO=` counters (`devices.poll_info`).
pub(super) fn info_json(raw: &str, at: chrono::DateTime<chrono::Utc>) -> serde_json::Value {
    let parsed = parse_poll_info(raw);
    serde_json::json!({
        "raw": raw,
        "firmware": parsed.firmware,
        "users": parsed.users,
        "fingerprints": parsed.fingerprints,
        "attlogs": parsed.attlogs,
        "ip": parsed.ip,
        "fp_version": parsed.fp_version,
        "face_version": parsed.face_version,
        "faces_per_enroll": parsed.faces_per_enroll,
        "faces": parsed.faces,
        "functions": parsed.functions,
        "at": at,
    })
}
