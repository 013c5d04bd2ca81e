//! `/iclock/cdata` and `/iclock/fdata`: handshakes, clock queries and table uploads.
//!
//! Upload contract (push.md 2.6): the raw body, its rejected lines and everything parsed from it
//! commit in one transaction; only then does the device get `OK:<n>`. A storage failure is a
//! 503, so the device keeps the data and re-sends; duplicates of a re-send are skipped.

use actix_web::{web, HttpResponse};

use super::{handshake, ingest, ok_text, require_approved, DeviceError, DeviceRequest, Endpoint};
use crate::domain::{Dialect, OperlogBatch, StampTable};
use crate::http::State;
use crate::push::records::{attlog, operlog, options, photo};
use crate::push::text::decode_body;
use crate::push::upload::{ok_count_reply, UploadTable};
use crate::store::{NewMessage, PunchUpload};

pub async fn cdata(ctx: &State, request: DeviceRequest, body: web::Bytes) -> Result<HttpResponse, DeviceError> {
    let table = match request.query.table.as_deref() {
        Some(t) => UploadTable::parse(t),
        None if request.endpoint == Endpoint::FData => UploadTable::AttPhoto,
        None if request.query.options.is_some() => return handshake::options(ctx, &request).await,
        None if request.query.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case("time")) => {
            return Ok(handshake::time(&request))
        }
        None => {
            tracing::info!(serial = %request.serial, query = %request.raw_query, "cdata request without table or options");
            return Ok(ok_text("OK"));
        }
    };
    if table == UploadTable::Options {
        // Pending devices may describe themselves; their options are shown to the admin who approves them.
        return store_options(ctx, &request, &body).await;
    }
    if matches!(&table, UploadTable::Other(name) if name.eq_ignore_ascii_case("RemoteAtt")) {
        // The device asks about an unknown PIN typed at the keypad: an empty body means "unknown".
        return Ok(ok_text(""));
    }
    match table {
        UploadTable::RtLog => return super::acc_upload::rtlog(ctx, &request, &body).await,
        UploadTable::RtState => return super::acc_upload::rtstate(ctx, &request, &body).await,
        UploadTable::TableData => return super::acc_upload::tabledata(ctx, &request, &body).await,
        UploadTable::AttLog => super::acc::note_dialect(ctx, &request.known.device, Dialect::Att).await?,
        _ => {}
    }
    require_approved(&request)?;
    if request.query.content_type.as_deref().is_some_and(|c| c.eq_ignore_ascii_case("tgz")) {
        return store_unparsed(ctx, &request, &body, &table, "tgz packets are kept raw, not parsed").await;
    }
    let language = request.known.device.language.as_deref().or(request.query.language.as_deref());
    match table {
        UploadTable::AttLog => {
            let text = decode_body(&body, language);
            let parsed = attlog::parse_attlog_body(&text);
            let (punches, rejected) = ingest::punches(parsed, request.known.tz, chrono::Utc::now());
            let (total, rejected) = ingest::quarantine(rejected, &ctx.cipher);
            let mut message = message(ctx, &request, &body, table.as_str(), "processed", punches.len());
            message.rejected = total;
            let upload = PunchUpload { device: request.known.device.clone(), message, rejected, punches };
            // Shares a transaction with uploads arriving meanwhile; answered once durable.
            let report = ctx.punches.ingest(upload).await?;
            ctx.metrics.upload("ATTLOG", &report);
            note_stamp(ctx, &request, StampTable::AttLog);
            log_rejected(&request, total);
            tracing::debug!(serial = %request.serial, inserted = report.inserted, duplicates = report.duplicates, "ATTLOG");
            // Every line was processed: stored, skipped as a duplicate, or quarantined with its
            // error. Counting all of them tells the device not to re-send any.
            Ok(ok_text(ok_count_reply(report.inserted + report.duplicates + report.rejected)))
        }
        UploadTable::OperLog
        | UploadTable::BioData
        | UploadTable::UserInfo
        | UploadTable::ErrorLog
        | UploadTable::IdCard => {
            let text = decode_body(&body, language);
            let parsed = match table {
                UploadTable::BioData => ingest::from_biodata(operlog::parse_biodata_body(&text)),
                UploadTable::UserInfo => ingest::from_userinfo(operlog::parse_userinfo_body(&text)),
                _ => ingest::operlog_body(&text),
            };
            let (batch, rejected) = ingest::operlog_batch(parsed, &ctx.cipher);
            let (total, rejected) = ingest::quarantine(rejected, &ctx.cipher);
            let mut message = message(ctx, &request, &body, table.as_str(), "processed", batch.len());
            message.rejected = total;
            // Each table keeps its own stamp: an ERRORLOG or IDCARD upload must not move OPERLOGStamp.
            let stamp_table = match table {
                UploadTable::BioData => StampTable::BioData,
                UploadTable::ErrorLog => StampTable::ErrorLog,
                UploadTable::IdCard => StampTable::IdCard,
                _ => StampTable::OperLog,
            };
            let report = ctx.store.ingest_operlog(&request.known.device, &message, &rejected, &batch).await?;
            ctx.metrics.upload(table.as_str(), &report);
            // The upload is stored: what it says about the device's users is evidence for student
            // sync. A failure here is logged, not answered: the records are kept and the verifier
            // compares again.
            if let Err(error) = crate::sync::after_upload(ctx, &request.known.device, &batch).await {
                tracing::error!(serial = %request.serial, %error, "could not compare uploaded users with the roster");
            }
            note_stamp(ctx, &request, stamp_table);
            log_rejected(&request, total);
            // ERRORLOG gets a plain OK (spec 2.6); the other tables report their record count.
            Ok(ok_text(if table == UploadTable::ErrorLog {
                "OK".to_string()
            } else {
                ok_count_reply(report.inserted + report.rejected)
            }))
        }
        UploadTable::AttPhoto => match photo::parse_attphoto(&body) {
            Ok(parsed) => {
                let batch =
                    OperlogBatch { photos: vec![ingest::attendance_photo(parsed, &ctx.cipher)], ..Default::default() };
                let message = message(ctx, &request, &body, table.as_str(), "processed", 1);
                ctx.store.ingest_operlog(&request.known.device, &message, &[], &batch).await?;
                note_stamp(ctx, &request, StampTable::AttPhoto);
                Ok(ok_text("OK"))
            }
            Err(error) => {
                tracing::warn!(serial = %request.serial, %error, "unreadable ATTPHOTO upload kept raw");
                store_unparsed(ctx, &request, &body, &table, &format!("unreadable photo: {error}")).await
            }
        },
        other => {
            tracing::warn!(serial = %request.serial, table = %other.as_str(), bytes = body.len(),
                "upload of a table ironclock does not interpret: stored raw and acknowledged");
            store_unparsed(ctx, &request, &body, &other, "table not interpreted").await
        }
    }
}

/// Bytes a device may keep (raw messages and options) while it waits for approval.
pub const PENDING_DEVICE_BYTES: i64 = 64 * 1024;

async fn store_options(ctx: &State, request: &DeviceRequest, body: &[u8]) -> Result<HttpResponse, DeviceError> {
    if request.known.device.approval != crate::domain::Approval::Approved {
        // Before approval the options are all an admin needs; an anonymous serial may not keep more.
        let kept = ctx.store.bytes_kept(request.known.device.id).await?;
        if kept.saturating_add(body.len() as i64) > PENDING_DEVICE_BYTES {
            tracing::warn!(serial = %request.serial, kept, bytes = body.len(), "options of a pending device refused: over its cap");
            return Err(DeviceError::PendingFull(request.serial.to_string()));
        }
    }
    let text = decode_body(body, request.known.device.language.as_deref());
    let pairs = options::parse_options(&text);
    let message = message(ctx, request, body, UploadTable::Options.as_str(), "processed", pairs.len());
    ctx.store.store_message(&message, &[]).await?;
    ctx.store.merge_device_options(request.known.device.id, &pairs).await?;
    ctx.devices.invalidate(request.serial.as_str());
    Ok(ok_text("OK"))
}

async fn store_unparsed(
    ctx: &State,
    request: &DeviceRequest,
    body: &[u8],
    table: &UploadTable,
    note: &str,
) -> Result<HttpResponse, DeviceError> {
    let mut message = message(ctx, request, body, table.as_str(), "unparsed", 0);
    message.note = Some(note.to_string());
    ctx.store.store_message(&message, &[]).await?;
    Ok(ok_text("OK"))
}

/// The raw message for an upload, its body sealed with the data cipher: any table may carry
/// biometrics or personal data (templates, photos, `USERINFO` with `Passwd=`, unknown tables).
/// Sealing costs one ChaCha20-Poly1305 pass over the body (see BENCHMARKS.md / docs/security.md).
pub(super) fn message(
    ctx: &State,
    request: &DeviceRequest,
    body: &[u8],
    table: &str,
    status: &'static str,
    records: usize,
) -> NewMessage {
    NewMessage {
        device_id: Some(request.known.device.id),
        serial_number: request.serial.to_string(),
        path: request.path.clone(),
        query: request.raw_query.clone(),
        body: ctx.cipher.seal(body),
        body_sealed: true,
        rejected: 0,
        table: Some(table.to_string()),
        status,
        records,
        note: None,
    }
}

/// Remembers the upload's stamp (only after the upload committed) for the next handshake.
fn note_stamp(ctx: &State, request: &DeviceRequest, table: StampTable) {
    if let Some(stamp) = request.query.stamp.as_deref().filter(|s| !s.is_empty()) {
        ctx.activity.note_stamp(request.known.device.id, table, stamp);
    }
}

fn log_rejected(request: &DeviceRequest, rejected: usize) {
    if rejected > 0 {
        tracing::warn!(serial = %request.serial, rejected, "upload lines quarantined (kept with their errors)");
    }
}
