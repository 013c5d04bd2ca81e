//! The access-control (acc, push 3.x) device surface: `POST /iclock/registry`,
//! `GET|POST /iclock/push`, the registered device's `options=all` answer, `/iclock/querydata`
//! and `/iclock/rtdata` (push.md 2.4 "Reply, acc dialect", 2.9, 2.10; captures 04, 07, 16, 17).
//! Uploads (`rtlog`, `rtstate`, `tabledata`) are in `acc_upload`.
//!
//! Registration is stable: a device keeps the RegistryCode and SessionID it was first given
//! (the cookie token derives from them). Without a RegistryCode the firmware re-registers every
//! ~15 s and never sends data (capture 07), so pending devices get one too: like the att
//! handshake, registration is not approval, and their data is refused until an admin approves.

use actix_web::HttpResponse;
use rand::RngCore;

use super::{acc_upload, ok_text, require_approved, DeviceError, DeviceRequest, KnownDevice};
use crate::domain::{AckUpdate, CommandState, Device, Dialect};
use crate::http::State;
use crate::push::acc_token;
use crate::push::ack::CommandAck;
use crate::push::records::{options::parse_options, RejectedLine as PushRejected};
use crate::push::registry::{registry_code_reply, render_acc_push_config, AccPushConfig};
use crate::push::text::decode_body;
use crate::push::time::rtdata_time_reply;
use crate::push::upload::table_count_reply;
use crate::store::acc::QueryPacket;

/// Most packets one `DATA QUERY` answer may announce (`packcnt`); more is refused as malformed.
const MAX_PACKETS: i32 = 4096;

/// Records the dialect a request showed (ATTLOG ⇒ att; registry, push, rtlog ⇒ acc). Free when
/// it is the one already known; a change forgets the verbs learned as unsupported under the
/// other dialect and drops every instance's cached copy of the device.
pub async fn note_dialect(ctx: &State, device: &Device, dialect: Dialect) -> Result<(), DeviceError> {
    if device.dialect == dialect {
        return Ok(());
    }
    if let Some(previous) = ctx.store.set_dialect(device.id, dialect).await? {
        let forgotten = crate::queue::forget_unsupported(&ctx.store, device.id).await?;
        tracing::info!(serial = %device.serial_number, from = previous.as_str(), to = dialect.as_str(), forgotten,
            "device changed push dialect; verbs it refused before are allowed again");
        ctx.devices.invalidate(&device.serial_number);
    }
    Ok(())
}

/// The device's stable `(RegistryCode, SessionID)`, made on first use.
async fn registration(ctx: &State, device: &Device) -> Result<(String, String), DeviceError> {
    if let (Some(code), Some(session)) = (&device.registry_code, &device.session_id) {
        return Ok((code.clone(), session.clone()));
    }
    // 10 random bytes as 20 hex characters (the spec allows up to 32); the session 32 hex.
    let (code, session) = (random_hex(10), random_hex(16));
    let pair = ctx.store.acc_registration(device.id, &code, &session).await?;
    ctx.devices.invalidate(&device.serial_number);
    Ok(pair)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// `POST /iclock/registry`: keeps the capability body as the device's options and answers
/// exactly `RegistryCode=<code>` (no newline). A blocked device never gets here (406 in
/// `dispatch`). A body with no `key=value` pair is quarantined with the reason; the device is
/// registered anyway, so it stops looping.
pub async fn registry(ctx: &State, request: &DeviceRequest, body: &[u8]) -> Result<HttpResponse, DeviceError> {
    let device = &request.known.device;
    note_dialect(ctx, device, Dialect::Acc).await?;
    store_registry_body(ctx, request, body).await?;
    let (code, _) = registration(ctx, device).await?;
    tracing::info!(serial = %request.serial, approval = ?device.approval, "acc device registered");
    Ok(ok_text(registry_code_reply(&code)))
}

async fn store_registry_body(ctx: &State, request: &DeviceRequest, body: &[u8]) -> Result<(), DeviceError> {
    if request.known.device.approval != crate::domain::Approval::Approved {
        let kept = ctx.store.bytes_kept(request.known.device.id).await?;
        if kept.saturating_add(body.len() as i64) > super::upload::PENDING_DEVICE_BYTES {
            tracing::warn!(serial = %request.serial, kept, "registry body of a pending device not kept: over its cap");
            return Ok(());
        }
    }
    let text = decode_body(body, Some("utf-8"));
    let pairs = parse_options(&text);
    let rejected = if pairs.is_empty() && !text.trim().is_empty() {
        let raw: String = text.chars().take(512).collect();
        vec![PushRejected { line_no: 1, raw, error: "registry body holds no key=value pair".into() }]
    } else {
        Vec::new()
    };
    let (total, rejected) = super::ingest::quarantine(super::ingest::rejected(rejected), &ctx.cipher);
    let mut message = super::upload::message(ctx, request, body, "registry", "processed", pairs.len());
    message.rejected = total;
    ctx.store.store_message(&message, &rejected).await?;
    if !pairs.is_empty() {
        ctx.store.merge_device_options(request.known.device.id, &pairs).await?;
        ctx.devices.invalidate(request.serial.as_str());
    }
    Ok(())
}

/// The config block of `/iclock/push` (and, with `registry=ok`, of a registered acc device's
/// `options=all`).
fn config(ctx: &State, code: Option<&str>, session: &str) -> String {
    let mut cfg = AccPushConfig::new(code, session);
    cfg.request_delay = ctx.config.device_poll_delay;
    render_acc_push_config(&cfg)
}

/// `GET|POST /iclock/push`: the config block with the device's stable SessionID. The SEC spec's
/// prose says GET, its example (capture 04) POSTs: the capture wins, both are answered.
/// Values are capture 17's (ServerVersion 3.1.2, PushProtVer, ErrorDelay 30), not the SEC doc
/// example's (3.0.1, ErrorDelay 60): live push 3.1.2 devices run on those; RequestDelay follows
/// `--device-poll-delay` like the att `Delay`.
pub async fn push(ctx: &State, request: &DeviceRequest) -> Result<HttpResponse, DeviceError> {
    let device = &request.known.device;
    note_dialect(ctx, device, Dialect::Acc).await?;
    let (_, session) = registration(ctx, device).await?;
    Ok(ok_text(config(ctx, None, &session)))
}

/// The `options=all` answer of an acc device: `OK` until it registered (the firmware then POSTs
/// `/iclock/registry`), then `registry=ok\nRegistryCode=…` and the config block (capture 17).
/// `None` for att devices.
pub fn handshake(ctx: &State, known: &KnownDevice) -> Option<HttpResponse> {
    let device = &known.device;
    if device.dialect != Dialect::Acc {
        return None;
    }
    Some(match (&device.registry_code, &device.session_id) {
        (Some(code), Some(session)) => ok_text(config(ctx, Some(code), session)),
        _ => ok_text("OK"),
    })
}

/// Refuses a request whose `Cookie: token=` is not the device's registration token. Devices
/// that send no token, or are not registered, are not checked (the token is optional).
pub fn check_token(known: &KnownDevice, cookie: Option<&str>) -> Result<(), DeviceError> {
    let device = &known.device;
    let (Some(code), Some(session)) = (&device.registry_code, &device.session_id) else { return Ok(()) };
    let Some(sent) = cookie.and_then(acc_token::cookie_token) else { return Ok(()) };
    if acc_token::token_matches(sent, code, &device.serial_number, session) {
        Ok(())
    } else {
        Err(DeviceError::BadToken(device.serial_number.clone()))
    }
}

/// `GET /iclock/rtdata?type=time`: `DateTime=<OldEncodeTime>,ServerTZ=<±hhmm>` (capture 04).
pub fn rtdata(request: &DeviceRequest) -> HttpResponse {
    ok_text(rtdata_time_reply(chrono::Utc::now(), request.known.tz))
}

/// `POST /iclock/querydata`: a `DATA QUERY` answer (`type=tabledata`, in packets correlated by
/// `cmdid`) or a `GET OPTIONS` answer (`type=options`). Answered `<tablename>=<rows>`.
pub async fn querydata(ctx: &State, request: &DeviceRequest, body: &[u8]) -> Result<HttpResponse, DeviceError> {
    require_approved(request)?;
    let q = &request.query;
    if q.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("options")) {
        let pairs = parse_options(&decode_body(body, Some("utf-8")));
        let message = super::upload::message(ctx, request, body, "options", "processed", pairs.len());
        ctx.store.store_message(&message, &[]).await?;
        ctx.store.merge_device_options(request.known.device.id, &pairs).await?;
        ctx.devices.invalidate(request.serial.as_str());
        return Ok(ok_text("OK"));
    }
    let tablename = q.tablename.clone().unwrap_or_else(|| "tabledata".into());
    let number = |key: &str| q.other_value(key).and_then(|v| v.parse::<i32>().ok());
    let cmd_id = q.cmd_id.as_deref().and_then(|c| c.parse::<i64>().ok());
    let (cnt, idx) = (number("packcnt").unwrap_or(1), number("packidx").unwrap_or(1));
    let Some(cmd_id) = cmd_id.filter(|_| (1..=MAX_PACKETS).contains(&cnt) && (1..=cnt).contains(&idx)) else {
        let reason = format!("querydata packet without a usable cmdid/packcnt/packidx ({})", request.raw_query);
        tracing::warn!(serial = %request.serial, %reason, "querydata packet quarantined");
        return quarantine_packet(ctx, request, body, &tablename, &reason).await;
    };
    let packet = QueryPacket {
        cmd_id,
        pack_idx: idx,
        pack_cnt: cnt,
        tablename: tablename.clone(),
        sealed_body: ctx.cipher.seal(body),
    };
    let rows_here = decode_body(body, Some("utf-8")).lines().filter(|l| !l.trim().is_empty()).count();
    let Some(sealed) = ctx.store.add_query_packet(request.known.device.id, &packet, ctx.clock.now()).await? else {
        return Ok(ok_text(table_count_reply(&tablename, rows_here)));
    };
    let mut whole = Vec::new();
    for part in sealed {
        whole.extend(ctx.cipher.open(&part).map_err(|e| DeviceError::BadRequest(format!("stored packet: {e}")))?);
    }
    acc_upload::store_table(ctx, request, &whole, &tablename, "querydata").await?;
    Ok(ok_text(table_count_reply(&tablename, rows_here)))
}

async fn quarantine_packet(
    ctx: &State,
    request: &DeviceRequest,
    body: &[u8],
    tablename: &str,
    reason: &str,
) -> Result<HttpResponse, DeviceError> {
    let mut message = super::upload::message(ctx, request, body, "querydata", "rejected", 0);
    message.note = Some(reason.to_string());
    message.rejected = 1;
    let line = PushRejected {
        line_no: 1,
        raw: String::from_utf8_lossy(body).chars().take(512).collect(),
        error: reason.into(),
    };
    let (_, rejected) = super::ingest::quarantine(super::ingest::rejected(vec![line]), &ctx.cipher);
    ctx.store.store_message(&message, &rejected).await?;
    Ok(ok_text(table_count_reply(tablename, 0)))
}

/// For an acc device's acks: a `DATA QUERY` whose answer packets never all arrived fails with
/// the reason (its packets are dropped), instead of being acknowledged as a good read-back.
/// Returns those failures; the caller applies them and does not acknowledge those ids again.
pub async fn incomplete_queries(
    ctx: &State,
    device: &Device,
    acks: &[CommandAck],
) -> Result<Vec<AckUpdate>, DeviceError> {
    let mut failed = Vec::new();
    if device.dialect != Dialect::Acc {
        return Ok(failed);
    }
    for ack in acks.iter().filter(|a| a.cmd.as_deref().is_some_and(|c| c.to_ascii_uppercase().contains("QUERY"))) {
        let Ok(id) = ack.id.trim().parse::<i64>() else { continue };
        let dropped = ctx.store.drop_query_packets(device.id, id).await?;
        if dropped > 0 {
            let error = format!("the answer arrived incomplete: {dropped} packet(s) of it, never the whole set");
            tracing::warn!(serial = %device.serial_number, command = id, %error, "DATA QUERY answer incomplete");
            failed.push(AckUpdate {
                id,
                state: CommandState::Failed,
                return_code: ack.return_code,
                return_message: "incomplete query answer".into(),
                result: None,
                error: Some(error),
            });
        }
    }
    Ok(failed)
}
