//! Admin accounts: users with a role, their refresh tokens, the one-time setup, plain settings.

use crate::domain::login_limits::LoginLimits;
use crate::domain::SchoolId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{AdminResult, NewAudit, Page, Paged};
use crate::store::StoreResult;

/// What an admin may do: everything (`super_admin`) or everything within one school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdminRole {
    SuperAdmin,
    SchoolAdmin,
}

impl AdminRole {
    /// The stored (and JSON) name.
    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::SuperAdmin => "super_admin",
            AdminRole::SchoolAdmin => "school_admin",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "super_admin" => Some(AdminRole::SuperAdmin),
            "school_admin" => Some(AdminRole::SchoolAdmin),
            _ => None,
        }
    }
}

impl TryFrom<String> for AdminRole {
    type Error = super::error::UnknownValue;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s).ok_or(super::error::UnknownValue(s))
    }
}

/// An admin user as the API shows it (never with the password hash).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct AdminUser {
    pub id: i64,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub role: AdminRole,
    /// The school of a school admin; `None` for a super admin.
    pub school_id: Option<SchoolId>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Bumped by logout, a password or role change and disabling: a session or access token
    /// issued under another version is refused. Never shown in the API.
    #[serde(skip)]
    pub session_version: i64,
}

/// An admin with the argon2id hash to check a login against.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: AdminUser,
    pub password_hash: String,
}

/// A new admin; `email` is stored as given and unique case-insensitively.
#[derive(Debug, Clone)]
pub struct NewAdminUser {
    pub email: String,
    pub password_hash: String,
    pub role: AdminRole,
    pub school_id: Option<SchoolId>,
}

/// Changes to an admin. `None` leaves a field as it is. Role and school change together.
#[derive(Debug, Clone, Default)]
pub struct AdminUserPatch {
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
    pub role: Option<(AdminRole, Option<SchoolId>)>,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone)]
pub enum RefreshOutcome {
    /// The token was valid: it is now revoked and the new one stored.
    Rotated(AdminUser),
    /// No such token, or expired, or its admin is disabled.
    Invalid,
    /// The token had already been used: every token of its admin is now revoked (theft signal).
    Reused { admin_id: i64 },
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Ends every dashboard session and access token of the admin (bumps its session version).
    async fn end_sessions(&self, admin_id: i64) -> StoreResult<()>;

    /// Number of admins (any role, disabled included).
    async fn count_admins(&self) -> StoreResult<i64>;

    /// Creates the first super admin if `setup_key` still holds `token_hash` and no admin exists,
    /// consuming the token, in one transaction. `Ok(None)`: wrong or already used token.
    async fn complete_setup(
        &self,
        setup_key: &str,
        token_hash: &str,
        admin: &NewAdminUser,
        audit: &NewAudit,
    ) -> AdminResult<Option<AdminUser>>;

    /// Creates an admin. `Conflict` on `email` when the address (any case) is taken;
    /// `Invalid` on `school_id` when that school does not exist.
    async fn create_admin(&self, admin: &NewAdminUser, audit: Option<&NewAudit>) -> AdminResult<AdminUser>;
    async fn get_admin(&self, id: i64) -> StoreResult<Option<AdminUser>>;
    /// The admin with this email (case-insensitive) and its password hash.
    async fn find_credentials(&self, email: &str) -> StoreResult<Option<Credentials>>;
    async fn list_admins(&self, school_id: Option<SchoolId>, page: Page) -> StoreResult<Paged<AdminUser>>;
    /// Applies `patch`; revokes the admin's refresh tokens when the password, role or
    /// disabled flag changes. `Conflict` when it would leave no enabled super admin.
    async fn update_admin(&self, id: i64, patch: &AdminUserPatch, audit: Option<&NewAudit>) -> AdminResult<AdminUser>;
    /// Deletes an admin (and its tokens). `Conflict` when it is the last enabled super admin.
    async fn delete_admin(&self, id: i64, audit: &NewAudit) -> AdminResult<AdminUser>;
    /// Stamps a successful login.
    async fn record_login(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()>;

    /// Stores a refresh token (by hash) for an admin.
    async fn insert_refresh_token(&self, admin_id: i64, token_hash: &str, expires_at: DateTime<Utc>)
        -> StoreResult<()>;
    /// Exchanges a refresh token for a new one (rotation with reuse detection), in one transaction.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<RefreshOutcome>;
    /// Revokes one refresh token; false when it was unknown or already revoked.
    async fn revoke_refresh_token(&self, token_hash: &str) -> StoreResult<bool>;

    /// Counts a login attempt for `account` and the client `address` (their keys,
    /// [`crate::domain::login_limits`]) under `limits`, before the password is checked, in one
    /// transaction with both rows locked: `Ok(Err(seconds))` when either must wait (nothing is
    /// counted then). Shared by every instance on the database.
    async fn count_login_attempt(
        &self,
        limits: &LoginLimits,
        account: &str,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(), u64>>;
    /// After a good login: the account starts afresh and the address gets its attempt back.
    async fn login_succeeded(&self, account: &str, address: Option<&str>) -> StoreResult<()>;
}
