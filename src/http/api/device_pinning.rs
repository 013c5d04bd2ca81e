//! A device's secret path token and its address alerts (issue 15, finding 2). The token is
//! generated here, shown once in the reply and stored as its SHA-256 only; a device with a token
//! must call `/<token>/iclock/…`. Address alerts are the `pinning` device events recorded when
//! an approved device calls from outside its pinned address.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::auth::caller::Caller;
use super::devices::{apply, DeviceView};
use super::envelope::{ok, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::PathId;
use crate::domain::DeviceId;
use crate::http::device::guard::{hash_token, new_path_token};
use crate::http::State;
use crate::store::DeviceUpdate;

/// Alerts shown per request (newest first).
const ALERTS_SHOWN: i64 = 50;

/// The validated `pinned_ip` / `pin_prefix` fields of a device update.
#[allow(clippy::type_complexity)]
pub(super) fn pin_fields(
    ip: Option<Option<String>>,
    prefix: Option<Option<i32>>,
) -> Result<(Option<Option<String>>, Option<Option<i32>>), ApiError> {
    let ip = match ip {
        Some(Some(raw)) => {
            let parsed: std::net::IpAddr =
                raw.trim().parse().map_err(|_| ApiError::invalid("pinned_ip", "must be an IPv4 or IPv6 address"))?;
            Some(Some(parsed.to_string()))
        }
        other => other,
    };
    if let Some(Some(p)) = prefix {
        if !(0..=128).contains(&p) {
            return Err(ApiError::invalid("pin_prefix", "must be 0 to 32 (IPv4) or 0 to 128 (IPv6)"));
        }
    }
    Ok((ip, prefix))
}

/// An address alert: a request from outside the pinned address.
#[derive(Debug, Serialize, ToSchema)]
pub struct AddressAlert {
    pub ip: Option<String>,
    pub pinned: Option<String>,
    /// `alert` (served without commands) or `refuse` (403).
    pub policy: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// Give a device a new secret path token (replacing any earlier one). The token is in this
/// reply only; set the device's server path to `/<token>` (its requests then go to
/// `/<token>/iclock/…`); plain `/iclock/…` requests of the device are refused from now on.
#[utoipa::path(post, path = "/api/v1/devices/{id}/path-token", tag = "devices", params(("id" = i64, Path, description = "Device id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The device with `path_token`, shown once", body = Envelope<DeviceView>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn create_path_token(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let token = new_path_token();
    let update = DeviceUpdate { path_token_hash: Some(Some(hash_token(&token))), ..Default::default() };
    let mut device = apply(&ctx, &caller, id.0, update, Some("device.path_token")).await?;
    device.path_token = Some(token);
    Ok(ok("secret path token created: shown once, set the device's server path to /<token>", device))
}

/// Remove a device's secret path token: it may call plain `/iclock/…` again.
#[utoipa::path(delete, path = "/api/v1/devices/{id}/path-token", tag = "devices", params(("id" = i64, Path, description = "Device id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The device", body = Envelope<DeviceView>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn delete_path_token(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    let update = DeviceUpdate { path_token_hash: Some(None), ..Default::default() };
    Ok(ok("secret path token removed", apply(&ctx, &caller, id.0, update, Some("device.path_token_removed")).await?))
}

/// Requests of the device from outside its pinned address (newest first).
#[utoipa::path(get, path = "/api/v1/devices/{id}/address-alerts", tag = "devices", params(("id" = i64, Path, description = "Device id")),
    security(("bearer" = [])),
    responses((status = 200, description = "Address alerts", body = Envelope<Vec<AddressAlert>>),
              (status = 404, description = "No such device in your scope", body = ErrorEnvelope)))]
pub async fn address_alerts(ctx: web::Data<State>, caller: Caller, id: PathId) -> Result<HttpResponse, ApiError> {
    ctx.store
        .get_device_record(caller.scope(), id.0)
        .await?
        .ok_or_else(|| ApiError::NotFound("device not found".into()))?;
    let events = ctx.store.recent_device_events(DeviceId(id.0), "pinning", ALERTS_SHOWN).await?;
    let alerts: Vec<AddressAlert> = events
        .into_iter()
        .map(|e| {
            let detail: serde_json::Value = serde_json::from_str(&e.detail).unwrap_or_default();
            let text = |k: &str| detail[k].as_str().map(str::to_string);
            AddressAlert { ip: text("ip"), pinned: text("pinned"), policy: text("policy"), at: e.received_at }
        })
        .collect();
    Ok(ok("address alerts", alerts))
}
