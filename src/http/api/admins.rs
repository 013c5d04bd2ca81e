//! `/admin-users`: admin accounts (super admins only). Passwords are stored as argon2id
//! hashes; changing a password, role or disabling an account revokes its refresh tokens.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::auth::password::{check_new_password, hash_password};
use super::auth::SuperAdmin;
use super::envelope::{created, ok, page, Envelope, ErrorEnvelope};
use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, PathId};
use super::params;
use super::validate::{self, nullable};
use crate::domain::SchoolId;
use crate::http::State;
use crate::store::admin::{AdminRole, AdminUser, AdminUserPatch, NewAdminUser};

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminQuery {
    /// Only the admins of this school.
    pub school_id: Option<SchoolId>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAdmin {
    pub email: String,
    /// At least 10 characters.
    pub password: String,
    pub role: AdminRole,
    /// Required for a school admin, refused for a super admin.
    pub school_id: Option<SchoolId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAdmin {
    pub email: Option<String>,
    pub password: Option<String>,
    pub role: Option<AdminRole>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub school_id: Option<Option<SchoolId>>,
    pub disabled: Option<bool>,
}

/// Checks that the role and school go together.
fn role_and_school(role: AdminRole, school_id: Option<SchoolId>) -> Result<(AdminRole, Option<SchoolId>), ApiError> {
    match (role, school_id) {
        (AdminRole::SchoolAdmin, None) => Err(ApiError::invalid("school_id", "is required for a school admin")),
        (AdminRole::SuperAdmin, Some(_)) => Err(ApiError::invalid("school_id", "a super admin has no school")),
        pair => Ok(pair),
    }
}

async fn hash(password: String) -> Result<String, ApiError> {
    check_new_password(&password).map_err(|m| ApiError::invalid("password", m))?;
    web::block(move || hash_password(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::Internal)
}

/// Admin accounts.
#[utoipa::path(get, path = "/api/v1/admin-users", tag = "admin users", params(AdminQuery), security(("bearer" = [])),
    responses((status = 200, description = "One page of admins", body = Envelope<Vec<AdminUser>>),
              (status = 403, description = "Not a super admin", body = ErrorEnvelope)))]
pub async fn list(ctx: web::Data<State>, _: SuperAdmin, q: ApiQuery<AdminQuery>) -> Result<HttpResponse, ApiError> {
    let page_of = params::page(q.0.page, q.0.per_page)?;
    Ok(page("admin users", ctx.store.list_admins(q.0.school_id, page_of).await?, page_of))
}

/// Create an admin.
#[utoipa::path(post, path = "/api/v1/admin-users", tag = "admin users", request_body = CreateAdmin, security(("bearer" = [])),
    responses((status = 201, description = "The new admin", body = Envelope<AdminUser>),
              (status = 403, description = "Not a super admin", body = ErrorEnvelope),
              (status = 409, description = "Email already used", body = ErrorEnvelope),
              (status = 422, description = "Invalid field", body = ErrorEnvelope)))]
pub async fn create(
    ctx: web::Data<State>,
    SuperAdmin(caller): SuperAdmin,
    body: ApiJson<CreateAdmin>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let email = validate::email(&body.email)?;
    let (role, school_id) = role_and_school(body.role, body.school_id)?;
    let admin = NewAdminUser { email, password_hash: hash(body.password).await?, role, school_id };
    let audit = caller.audit("admin.create", "admin_user", None, school_id);
    Ok(created("admin created", ctx.store.create_admin(&admin, Some(&audit)).await?))
}

/// One admin.
#[utoipa::path(get, path = "/api/v1/admin-users/{id}", tag = "admin users", params(("id" = i64, Path, description = "Admin id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The admin", body = Envelope<AdminUser>),
              (status = 403, description = "Not a super admin", body = ErrorEnvelope),
              (status = 404, description = "No such admin", body = ErrorEnvelope)))]
pub async fn get(ctx: web::Data<State>, _: SuperAdmin, id: PathId) -> Result<HttpResponse, ApiError> {
    let admin = ctx.store.get_admin(id.0).await?.ok_or_else(|| ApiError::NotFound("admin not found".into()))?;
    Ok(ok("admin", admin))
}

/// Change an admin's email, password, role, school or disabled flag.
#[utoipa::path(patch, path = "/api/v1/admin-users/{id}", tag = "admin users", params(("id" = i64, Path, description = "Admin id")),
    request_body = UpdateAdmin, security(("bearer" = [])),
    responses((status = 200, description = "The admin", body = Envelope<AdminUser>),
              (status = 403, description = "Not a super admin", body = ErrorEnvelope),
              (status = 404, description = "No such admin", body = ErrorEnvelope),
              (status = 409, description = "Email taken, or the last enabled super admin", body = ErrorEnvelope)))]
pub async fn update(
    ctx: web::Data<State>,
    SuperAdmin(caller): SuperAdmin,
    id: PathId,
    body: ApiJson<UpdateAdmin>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let current = ctx.store.get_admin(id.0).await?.ok_or_else(|| ApiError::NotFound("admin not found".into()))?;
    let role = match (body.role, body.school_id) {
        (None, None) => None,
        (role, school) => Some(role_and_school(role.unwrap_or(current.role), school.unwrap_or(current.school_id))?),
    };
    let patch = AdminUserPatch {
        email: body.email.as_deref().map(validate::email).transpose()?,
        password_hash: match body.password {
            Some(p) => Some(hash(p).await?),
            None => None,
        },
        disabled: body.disabled,
        role,
    };
    let mut audit = caller.audit("admin.update", "admin_user", Some(id.0), current.school_id);
    audit.detail = serde_json::json!({
        "email": patch.email.is_some(), "password": patch.password_hash.is_some(),
        "role": patch.role.map(|(r, _)| r.as_str()), "disabled": patch.disabled,
    });
    Ok(ok("admin updated", ctx.store.update_admin(id.0, &patch, Some(&audit)).await?))
}

/// Delete an admin (not the last enabled super admin).
#[utoipa::path(delete, path = "/api/v1/admin-users/{id}", tag = "admin users", params(("id" = i64, Path, description = "Admin id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The deleted admin", body = Envelope<AdminUser>),
              (status = 403, description = "Not a super admin", body = ErrorEnvelope),
              (status = 404, description = "No such admin", body = ErrorEnvelope),
              (status = 409, description = "The last enabled super admin", body = ErrorEnvelope)))]
pub async fn delete(
    ctx: web::Data<State>,
    SuperAdmin(caller): SuperAdmin,
    id: PathId,
) -> Result<HttpResponse, ApiError> {
    let audit = caller.audit("admin.delete", "admin_user", Some(id.0), None);
    Ok(ok("admin deleted", ctx.store.delete_admin(id.0, &audit).await?))
}
