//! `GET /iclock/cdata?options=all` (the handshake) and `type=time` (legacy clock query).

use chrono::Utc;

use super::{ok_text, DeviceError, DeviceRequest};
use crate::domain::{Device, Dialect, HandshakeFacts, StampTable};
use crate::http::State;
use crate::push::handshake::{render_att_handshake, HandshakeConfig, TableStamps, TransFlagStyle};
use crate::push::time::{legacy_time_reply, timezone_option};

/// Answers the handshake with the option block for this device and records what the query
/// told us (pushver, language, DeviceType). Pending devices get the block too, so they push
/// their options and an admin sees what they are before approving them.
pub async fn options(ctx: &State, request: &DeviceRequest) -> Result<actix_web::HttpResponse, DeviceError> {
    let q = &request.query;
    let dialect = q.device_type.as_deref().and_then(Dialect::parse);
    // The dialect goes through `note_dialect`, which forgets what the other dialect taught.
    let facts = HandshakeFacts {
        pushver: q.pushver.clone(),
        language: q.language.clone(),
        device_type: q.device_type.clone(),
        dialect: None,
    };
    let id = request.known.device.id;
    // Stamps change with every upload: the device comes back fresh from this write (or from a
    // read a moment ago) rather than from an older cache entry, and again from the store if its
    // dialect changes. Concurrent handshakes share one statement.
    let mut known = ctx.devices.record_handshake(&request.known, facts).await?;
    if let Some(dialect) = dialect.filter(|d| *d != known.device.dialect) {
        super::acc::note_dialect(ctx, &known.device, dialect).await?;
        let device = ctx.store.get_device(id).await?.ok_or(DeviceError::NotFound)?;
        known = ctx.devices.refresh(device).await?;
    }
    if let Some(reply) = super::acc::handshake(ctx, &known) {
        return Ok(reply);
    }
    let mut cfg = HandshakeConfig::recommended(request.serial.as_str(), timezone_option(known.tz, Utc::now()));
    let d = &known.device;
    let newest = |table, stored: &Option<String>| ctx.activity.latest_stamp(id, table).or_else(|| stored.clone());
    cfg.stamps = TableStamps {
        attlog: newest(StampTable::AttLog, &d.attlog_stamp),
        operlog: newest(StampTable::OperLog, &d.operlog_stamp),
        attphoto: newest(StampTable::AttPhoto, &d.attphoto_stamp),
        biodata: newest(StampTable::BioData, &d.biodata_stamp),
        errorlog: newest(StampTable::ErrorLog, &d.errorlog_stamp),
        idcard: newest(StampTable::IdCard, &d.idcard_stamp),
    };
    cfg.delay = ctx.config.device_poll_delay;
    cfg.max_post_size = Some(ctx.config.max_upload_bytes);
    if wants_digit_transflag(&known.device) {
        cfg.trans_flag = TransFlagStyle::Digits;
    }
    tracing::info!(serial = %request.serial, pushver = ?q.pushver, approval = ?known.device.approval, "handshake");
    Ok(ok_text(render_att_handshake(&cfg)))
}

/// PushLite firmware (LX35 on Anyka AK37xx, FW `ZLM31-…`, push 3.0.1) reads `TransFlag` with
/// `strspn`: digits only (sboxhrm engine profiles, capture 12). Recognised by its firmware or
/// platform, never by the push version: other push 3.0.x firmware (SenseFace 2A ZAM70
/// `Ver 3.0.4S`, capture 07) reads the text form like every other device.
fn wants_digit_transflag(device: &Device) -> bool {
    let pushlite = |value: &Option<String>| {
        value.as_deref().is_some_and(|v| {
            let v = v.to_ascii_uppercase();
            v.contains("ZLM31") || v.contains("AK37")
        })
    };
    device.dialect == Dialect::Att && (pushlite(&device.firmware) || pushlite(&device.platform))
}

/// `GET /iclock/cdata?type=time`: `Time=<local ISO time with offset>` (PUSH SDK 3.2.0 §2.3).
pub fn time(request: &DeviceRequest) -> actix_web::HttpResponse {
    ok_text(legacy_time_reply(Utc::now(), request.known.tz))
}
