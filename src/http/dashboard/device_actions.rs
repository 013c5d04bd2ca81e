//! What an admin can do from the device page: sync all students, run the verifier for the
//! device's school, queue a safe command (INFO, CHECK, LOG, and REBOOT only with its
//! confirmation box ticked), and the JSON the live progress bar polls. Same service functions
//! and audit entries as the API (`api::sync`, `api::sync_school`, `api::commands`).

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};

use super::device::{scoped_device, with_command_error};
use super::login::CsrfForm;
use super::page::{redirect, PageError};
use super::session::Session;
use crate::http::api::error::ApiError;
use crate::http::State;
use crate::push::command::Command;
use crate::queue::{EnqueueOptions, QueueError};
use crate::sync::verifier::{self, DeviceFindings, VerifyOptions};
use crate::sync::SyncError;

/// What `static/app.js` reads from `GET /devices/{id}/progress`.
#[derive(Debug, Serialize)]
pub struct ProgressJson {
    pub queued: i64,
    pub delivered: i64,
    pub confirmed: i64,
    pub percent: f64,
    pub estimated_finish: Option<chrono::DateTime<chrono::Utc>>,
}

/// `GET /devices/{id}/progress`: the device's sync progress as JSON (same session and scoping
/// as the page; another school's device is the 404 page).
pub async fn progress(
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let device = scoped_device(&ctx, &session, path.into_inner()).await?;
    let p = ctx.store.sync_progress(device.id, chrono::Utc::now()).await?;
    let body = ProgressJson {
        queued: p.queued,
        delivered: p.delivered,
        confirmed: p.confirmed,
        percent: p.percent,
        estimated_finish: p.estimated_finish,
    };
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, "no-store"));
    for c in &session.cookies {
        res.cookie(c.clone());
    }
    Ok(res.json(body))
}

fn sync_error(e: SyncError) -> PageError {
    ApiError::from(e).into()
}

/// `POST /devices/{id}/sync-all`: queues every active student of the school for the device.
pub async fn sync_all(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let device = scoped_device(&ctx, &session, path.into_inner()).await?;
    let caller = &session.caller;
    let report = crate::sync::full_sync(&ctx, &device, &caller.user.email).await.map_err(sync_error)?;
    let mut entry = caller.audit("device.sync_students", "device", Some(device.id.0), device.school_id);
    entry.detail = serde_json::json!({
        "serial_number": device.serial_number,
        "commands_queued": report.commands_queued,
        "deferred_until": report.deferred_until,
        "via": "dashboard",
    });
    ctx.store.record_audit(&entry).await?;
    Ok(redirect(&session, &format!("/devices/{}", device.id.0), &report.message))
}

/// `POST /devices/{id}/verify`: runs the verifier for the device's school now; the flash says
/// what it found on this device.
pub async fn verify(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let device = scoped_device(&ctx, &session, path.into_inner()).await?;
    let Some(school) = device.school_id else {
        return Err(PageError::BadRequest("The device belongs to no school: there is nothing to verify.".into()));
    };
    let caller = &session.caller;
    let mut opts = VerifyOptions::new(&format!("dashboard:{}", caller.user.email), ctx.clock.now());
    opts.school_id = Some(school);
    let run = verifier::run(&ctx, opts).await.map_err(sync_error)?;
    let mut entry = caller.audit("sync.verify", "school", Some(school.0), Some(school));
    entry.detail = serde_json::json!({ "job_id": run.job_id, "skipped": run.skipped, "via": "dashboard" });
    ctx.store.record_audit(&entry).await?;
    let message = if run.skipped {
        "The verifier is already running on another instance; try again in a minute.".to_string()
    } else {
        let findings = run.schools.iter().find(|s| s.school_id == school);
        match findings {
            Some(s) if s.deferred_until.is_some() => format!(
                "Verifier: the school is in quiet hours; nothing was written, the next run after {} does it.",
                s.deferred_until.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
            ),
            Some(s) => match s.devices.iter().find(|d| d.device_id == device.id.0) {
                Some(d) => describe(d),
                None => "Verifier: the device was not checked (it has not been seen in the last 15 minutes).".into(),
            },
            None => "Verifier: the school has no devices to check.".into(),
        }
    };
    Ok(redirect(&session, &format!("/devices/{}", device.id.0), &message))
}

/// One sentence of a device's verifier findings.
fn describe(d: &DeviceFindings) -> String {
    let mut text = format!(
        "Verifier: {} missing, {} extra, {} retried, {} not on the device, {} unknown users; read-back {}.",
        d.missing, d.extra, d.retried, d.not_on_device, d.unknown_users, d.read_back
    );
    if d.deletes_capped > 0 {
        text.push_str(&format!(
            " {} deletes held back: confirm or dismiss the alert on the sync page.",
            d.deletes_capped
        ));
    }
    text
}

/// The command buttons' form: `kind` is info, check, log or reboot.
#[derive(Debug, Deserialize)]
pub struct CommandForm {
    csrf: String,
    kind: String,
    /// The reboot confirmation checkbox.
    confirm_reboot: Option<String>,
}

/// `POST /devices/{id}/command`: queues INFO, CHECK, LOG or (confirmed) REBOOT.
pub async fn command(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CommandForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let device = scoped_device(&ctx, &session, path.into_inner()).await?;
    let (command, label) = match form.kind.as_str() {
        "info" => (Command::Info, "INFO (device information and counters)"),
        "check" => (Command::Check, "CHECK (re-read the server options)"),
        "log" => (Command::Log, "LOG (upload new records now)"),
        "reboot" if form.confirm_reboot.is_some() => (Command::Reboot, "REBOOT"),
        "reboot" => {
            let error = "Tick \u{201c}I understand the device restarts\u{201d} to reboot it.".to_string();
            return with_command_error(&ctx, &session, &device, error).await;
        }
        other => {
            let error = format!("{other:?} is not a command this page sends (info, check, log, reboot).");
            return with_command_error(&ctx, &session, &device, error).await;
        }
    };
    let destructive = matches!(command, Command::Reboot);
    let kind = command.kind();
    let caller = &session.caller;
    let options = EnqueueOptions { created_by: Some(caller.user.email.clone()), ..Default::default() };
    let id = match ctx.queue.enqueue(&device, command, options).await {
        Ok(id) => id,
        Err(QueueError::Store(e)) => return Err(e.into()),
        Err(QueueError::NotAllowed(kind)) => {
            return Err(PageError::Forbidden(format!("{kind} commands are not available")))
        }
        Err(e) => return with_command_error(&ctx, &session, &device, refusal(e)).await,
    };
    if destructive {
        let mut entry = caller.audit(&format!("device.command.{kind}"), "device", Some(device.id.0), device.school_id);
        entry.detail =
            serde_json::json!({ "serial_number": device.serial_number, "command_id": id, "via": "dashboard" });
        ctx.store.record_audit(&entry).await?;
    }
    let message = format!("{label} queued as command {id}; the device picks it up on its next poll");
    Ok(redirect(&session, &format!("/devices/{}", device.id.0), &message))
}

/// `POST /devices/{id}/capabilities/reset`: forgets what the device taught (the API's reset,
/// same audit entry with `via: dashboard`), so refused commands can be queued again.
pub async fn reset_capabilities(
    req: HttpRequest,
    ctx: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    session.check_csrf(&req, &form.csrf)?;
    let device = scoped_device(&ctx, &session, path.into_inner()).await?;
    let forgotten = crate::http::api::capabilities::forget(&ctx, &session.caller, &device, "dashboard").await?;
    let message = format!("Forgot {} learned capabilities; refused commands can be queued again.", forgotten.len());
    Ok(redirect(&session, &format!("/devices/{}", device.id.0), &message))
}

/// Why the queue refused a command, for the admin.
fn refusal(e: QueueError) -> String {
    match e {
        QueueError::NotApproved(_) => "The device is not approved yet: approve it on the overview first.".into(),
        QueueError::Unsupported { verb, code, .. } => {
            format!("The device does not support {verb} (it answered {code}); it is not queued again.")
        }
        other => format!("The command could not be queued: {other}"),
    }
}
