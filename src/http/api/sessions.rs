//! `/auth/*` and `/setup`: login (rate-limited, same answer for unknown and known emails),
//! refresh-token rotation, logout, the current admin, and first-run setup.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::caller::client_ip;
use super::auth::password::{check_new_password, hash_password, verify_password, MAX_PASSWORD_LEN};
use super::auth::tokens::{hash_token, new_token};
use super::auth::Caller;
use super::envelope::{created, ok, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{truncate, ApiJson};
use super::state::SETUP_TOKEN_SETTING;
use super::validate;
use crate::http::State;
use crate::store::admin::{AdminRole, AdminUser, NewAdminUser, NewAudit, RefreshOutcome};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// A new access token and the refresh token to get the next one.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// JWT (HS256) to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Opaque, single use: `POST /api/v1/auth/refresh` exchanges it for a new pair.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetupRequest {
    /// The one-time token from the server log's setup link.
    pub token: String,
    pub email: String,
    pub password: String,
}

fn login_audit(action: &str, email: &str, user: Option<&AdminUser>, ip: Option<String>) -> NewAudit {
    NewAudit {
        actor_id: user.map(|u| u.id),
        actor_email: Some(truncate(email, 254)),
        action: action.into(),
        target_type: Some("admin_user".into()),
        target_id: user.map(|u| u.id),
        school_id: user.and_then(|u| u.school_id),
        ip,
        detail: serde_json::Value::Null,
    }
}

/// Issues an access token and a stored refresh token for `user`.
pub async fn issue_pair(ctx: &State, user: &AdminUser) -> Result<TokenPair, ApiError> {
    let (access_token, expires_in) = ctx.api.keys.issue(user)?;
    let refresh_token = new_token();
    let expires_at = Utc::now() + ctx.api.keys.refresh_ttl;
    ctx.store.insert_refresh_token(user.id, &hash_token(&refresh_token), expires_at).await?;
    Ok(TokenPair { access_token, refresh_token, expires_in, token_type: "Bearer".into() })
}

/// Log in with email and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "Logged in", body = Envelope<TokenPair>),
              (status = 401, description = "Wrong email or password (also for unknown or disabled accounts)", body = ErrorEnvelope),
              (status = 429, description = "Too many failures for this account or address", body = ErrorEnvelope)))]
pub async fn login(
    req: HttpRequest,
    ctx: web::Data<State>,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { email, password } = body.0;
    let user = check_login(&ctx, &email, password, client_ip(&req)).await?;
    let pair = issue_pair(&ctx, &user).await?;
    Ok(ok("logged in", pair))
}

/// Checks an email and password (rate-limited; unknown, disabled and wrong answer the same);
/// audits the attempt. Shared by the API and the dashboard's login form.
pub async fn check_login(
    ctx: &State,
    email: &str,
    password: String,
    ip: Option<String>,
) -> Result<AdminUser, ApiError> {
    let email = email.trim().to_string();
    // Counted before the password is checked, in the database: parallel guesses, on any
    // instance, get no more checks than the limit.
    let keys = &ctx.api.keys;
    let (account, address) = (keys.login_key("account", &email), ip.as_deref().map(|ip| keys.login_key("address", ip)));
    let now = ctx.core.clock.now();
    ctx.store
        .count_login_attempt(&ctx.api.login_limits, &account, address.as_deref(), now)
        .await?
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let oversized = email.len() > 254 || password.chars().count() > MAX_PASSWORD_LEN;
    let credentials = if oversized { None } else { ctx.store.find_credentials(&email).await? };
    let active = credentials.filter(|c| !c.user.disabled);
    // Unknown and disabled accounts are checked against a dummy hash: the same work, the same answer.
    let hash = active.as_ref().map_or_else(|| ctx.api.dummy_hash.clone(), |c| c.password_hash.clone());
    let matched = web::block(move || verify_password(&password, &hash))
        .await
        .map_err(|e| ApiError::Internal(format!("password check: {e}")))?;
    let user = match active {
        Some(c) if matched => c.user,
        other => {
            let user = other.map(|c| c.user);
            ctx.store.record_audit(&login_audit("auth.login_failed", &email, user.as_ref(), ip)).await?;
            return Err(ApiError::InvalidCredentials);
        }
    };
    ctx.store.login_succeeded(&account, address.as_deref()).await?;
    ctx.store.record_login(user.id, Utc::now()).await?;
    ctx.store.record_audit(&login_audit("auth.login", &user.email, Some(&user), ip)).await?;
    Ok(user)
}

/// Exchange a refresh token for a new token pair (the old refresh token stops working).
#[utoipa::path(post, path = "/api/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "New tokens", body = Envelope<TokenPair>),
              (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = ErrorEnvelope)))]
pub async fn refresh(
    req: HttpRequest,
    ctx: web::Data<State>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let pair = rotate(&ctx, &body.0.refresh_token, client_ip(&req)).await?;
    Ok(ok("token refreshed", pair))
}

/// Exchanges a refresh token for a new pair; a reused token revokes every session of its admin.
/// Shared by the API and the dashboard's session cookie.
pub async fn rotate(ctx: &State, refresh_token: &str, ip: Option<String>) -> Result<TokenPair, ApiError> {
    let next = new_token();
    let now = Utc::now();
    let outcome = ctx
        .store
        .rotate_refresh_token(&hash_token(refresh_token), &hash_token(&next), now + ctx.api.keys.refresh_ttl, now)
        .await?;
    match outcome {
        RefreshOutcome::Rotated(user) => {
            let (access_token, expires_in) = ctx.api.keys.issue(&user)?;
            Ok(TokenPair { access_token, refresh_token: next, expires_in, token_type: "Bearer".into() })
        }
        RefreshOutcome::Reused { admin_id } => {
            tracing::warn!(admin_id, "a used refresh token was presented again: every session of the admin is revoked");
            let audit = NewAudit {
                actor_id: Some(admin_id),
                action: "auth.refresh_reused".into(),
                target_type: Some("admin_user".into()),
                target_id: Some(admin_id),
                ip,
                ..Default::default()
            };
            ctx.store.record_audit(&audit).await?;
            Err(ApiError::Unauthorized("the refresh token was already used; log in again".into()))
        }
        RefreshOutcome::Invalid => Err(ApiError::Unauthorized("the refresh token is invalid or expired".into())),
    }
}

/// Revoke a refresh token (log out). Succeeds whether or not the token was still valid.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "Logged out", body = Envelope<LogoutResult>)))]
pub async fn logout(ctx: web::Data<State>, body: ApiJson<RefreshRequest>) -> Result<HttpResponse, ApiError> {
    let revoked = ctx.store.revoke_refresh_token(&hash_token(&body.0.refresh_token)).await?;
    Ok(ok("logged out", LogoutResult { revoked }))
}

/// What logging out did.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogoutResult {
    /// False when the token was unknown, expired or already revoked.
    pub revoked: bool,
}

/// The admin the access token belongs to.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The current admin", body = Envelope<AdminUser>),
              (status = 401, description = "Missing, invalid or expired token", body = ErrorEnvelope)))]
pub async fn me(caller: Caller) -> HttpResponse {
    ok("current admin", caller.user)
}

/// Create the first super admin with the one-time setup token (works while no admin exists;
/// afterwards the endpoint answers 404 without doing anything).
#[utoipa::path(post, path = "/api/v1/setup", tag = "auth", request_body = SetupRequest,
    responses((status = 201, description = "The first super admin", body = Envelope<AdminUser>),
              (status = 401, description = "Wrong or used token", body = ErrorEnvelope),
              (status = 404, description = "Setup is over: an admin exists", body = ErrorEnvelope),
              (status = 422, description = "Invalid email or password", body = ErrorEnvelope)))]
pub async fn setup(
    req: HttpRequest,
    ctx: web::Data<State>,
    body: ApiJson<SetupRequest>,
) -> Result<HttpResponse, ApiError> {
    let SetupRequest { token, email, password } = body.0;
    let user = complete_setup(&ctx, &token, &email, password, client_ip(&req)).await?;
    Ok(created("first super admin created; log in with POST /api/v1/auth/login", user))
}

/// Creates the first super admin with the one-time setup token; audited. In this order, so that
/// no request does expensive work it should not: once an admin exists, `NotFound` at once (no
/// query after the first); then one request at a time; then the token (`Unauthorized` when
/// wrong or used); then the email and password rules; only then the password is hashed.
/// Shared by `POST /api/v1/setup` and the dashboard's `/setup` page.
pub async fn complete_setup(
    ctx: &State,
    token: &str,
    email: &str,
    password: String,
    ip: Option<String>,
) -> Result<AdminUser, ApiError> {
    let closed = || ApiError::NotFound("setup is complete: an admin exists; log in instead".into());
    if ctx.api.setup_closed(&ctx.store).await? {
        return Err(closed());
    }
    let _turn = ctx.api.setup_turn.lock().await;
    if ctx.api.setup_closed(&ctx.store).await? {
        return Err(closed());
    }
    let stored = ctx.store.get_setting(SETUP_TOKEN_SETTING).await?;
    if !stored.is_some_and(|stored| same_text(&stored, &hash_token(token))) {
        return Err(ApiError::Unauthorized("the setup token is invalid or was already used".into()));
    }
    let email = validate::email(email)?;
    check_new_password(&password).map_err(|m| ApiError::invalid("password", m))?;
    let password_hash = web::block(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)?;
    let admin = NewAdminUser { email: email.clone(), password_hash, role: AdminRole::SuperAdmin, school_id: None };
    let audit = NewAudit {
        actor_email: Some(email),
        action: "auth.setup".into(),
        target_type: Some("admin_user".into()),
        ip,
        ..Default::default()
    };
    // The store consumes the token and checks for admins again in one transaction (another
    // instance may have finished setup meanwhile).
    match ctx.store.complete_setup(SETUP_TOKEN_SETTING, &hash_token(token), &admin, &audit).await? {
        Some(user) => Ok(user),
        None => Err(ApiError::Unauthorized("the setup token is invalid or was already used".into())),
    }
}

/// Equal strings, compared in constant time.
fn same_text(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
