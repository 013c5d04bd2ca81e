//! `/devices/{id}/capabilities`: what a device has taught the server about itself (verbs and
//! option keys it rejected with -1002/-1004/-629/-22, template-version mismatches, verbs it
//! accepted), and the admin's reset of it: after a firmware upgrade or a wrong lesson the
//! refused commands can be queued again. The reset is audit-logged with what was forgotten.

use actix_web::{web, HttpResponse};

use super::auth::Caller;
use super::commands::scoped_device;
use super::envelope::{ok, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::PathId;
use crate::domain::Capability;
use crate::http::State;

/// What the device has shown it accepts (`supported`) or rejects, with the Return code it gave.
#[utoipa::path(get, path = "/api/v1/devices/{id}/capabilities", tag = "devices",
    params(("id" = i64, Path, description = "Device id")), security(("bearer" = [])),
    responses((status = 200, description = "Learned capabilities, by name", body = Envelope<Vec<Capability>>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let device = scoped_device(&ctx, &caller, id.0).await?;
    Ok(ok("capabilities", ctx.store.capabilities(device.id).await?))
}

/// Forget everything learned about the device; returns what was forgotten. Audit-logged.
#[utoipa::path(delete, path = "/api/v1/devices/{id}/capabilities", tag = "devices",
    params(("id" = i64, Path, description = "Device id")), security(("bearer" = [])),
    responses((status = 200, description = "What was forgotten", body = Envelope<Vec<Capability>>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn reset(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let device = scoped_device(&ctx, &caller, id.0).await?;
    let forgotten = forget(&ctx, &caller, &device, "api").await?;
    Ok(ok("learned capabilities reset", forgotten))
}

/// The one reset path (API and dashboard): forget, then audit what was forgotten.
pub(crate) async fn forget(
    ctx: &State,
    caller: &Caller,
    device: &crate::domain::Device,
    via: &str,
) -> Result<Vec<Capability>, ApiError> {
    let forgotten = ctx.queue.forget_learned(device.id).await?;
    let mut entry = caller.audit("device.capabilities_reset", "device", Some(device.id.0), device.school_id);
    entry.detail = serde_json::json!({
        "serial_number": device.serial_number,
        "forgotten": forgotten,
        "via": via,
    });
    ctx.store.record_audit(&entry).await?;
    tracing::info!(serial = %device.serial_number, forgotten = forgotten.len(), by = %caller.user.email,
        "learned device capabilities reset");
    Ok(forgotten)
}
