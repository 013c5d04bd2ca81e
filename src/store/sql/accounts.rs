//! Admin accounts: users, refresh tokens, first-run setup. (Plain settings are in `settings.rs`.)
//! Nothing here is cached by other instances, so no write announces a change.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::audit::insert_audit;
use super::roster::check_school;
use super::{Dialect, SqlStore};
use crate::domain::login_limits::LoginLimits;
use crate::domain::SchoolId;
use crate::store::admin::{
    conflict_on_unique, AccountStore, AdminError, AdminResult, AdminRole, AdminUser, AdminUserPatch, Credentials,
    NewAdminUser, NewAudit, Page, Paged, RefreshOutcome,
};
use crate::store::StoreResult;

const COLUMNS: &str = "id, email, role, school_id, disabled, created_at, updated_at, last_login_at, session_version";
const SCHOOL_WHERE: &str = "where ($1 is null or school_id = $1)";

fn email_taken(email: &str) -> impl FnOnce() -> String + '_ {
    move || format!("an admin with the email {email} already exists")
}

async fn insert_admin<D: Dialect>(conn: &mut D::Connection, a: &NewAdminUser) -> AdminResult<AdminUser> {
    if let Some(school) = a.school_id {
        check_school::<D>(&mut *conn, school).await?;
    }
    let sql = format!(
        "insert into admin_users (email, password_hash, role, school_id, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $5) returning {COLUMNS}"
    );
    SqlStore::<D>::sql(&sql)
        .bind(&a.email)
        .bind(&a.password_hash)
        .bind(a.role.as_str())
        .bind(a.school_id)
        .bind(Utc::now())
        .fetch_one(conn)
        .await
        .map_err(|e| conflict_on_unique(e, "email", email_taken(&a.email)))
}

/// Enabled super admins other than `id`: the last one may not be removed, demoted or disabled.
async fn other_super_admins<D: Dialect>(conn: &mut D::Connection, id: i64) -> StoreResult<i64> {
    SqlStore::<D>::sql("select count(*) from admin_users where role = 'super_admin' and not disabled and id <> $1")
        .bind(id)
        .scalar(conn)
        .await
}

async fn admin<D: Dialect>(conn: &mut D::Connection, id: i64) -> StoreResult<Option<AdminUser>> {
    let sql = format!("select {COLUMNS} from admin_users where id = $1");
    SqlStore::<D>::sql(&sql).bind(id).fetch_optional(conn).await
}

async fn lock_admin<D: Dialect>(conn: &mut D::Connection, id: i64) -> AdminResult<AdminUser> {
    // Serialises changes that check "is this the last super admin" across concurrent requests
    // (an advisory lock on PostgreSQL; SQLite's writer lock, held by the caller, already does).
    D::serialise(&mut *conn, "ironclock.admin_users").await?;
    admin::<D>(conn, id).await?.ok_or(AdminError::NotFound("admin"))
}

/// Revokes every live refresh token of the admin.
async fn revoke_all<D: Dialect>(conn: &mut D::Connection, admin_id: i64, now: DateTime<Utc>) -> StoreResult<()> {
    SqlStore::<D>::sql("update refresh_tokens set revoked_at = $2 where admin_id = $1 and revoked_at is null")
        .bind(admin_id)
        .bind(now)
        .run(conn)
        .await
}

async fn insert_token<D: Dialect>(
    conn: &mut D::Connection,
    admin_id: i64,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    SqlStore::<D>::sql(
        "insert into refresh_tokens (admin_id, token_hash, created_at, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(admin_id)
    .bind(token_hash)
    .bind(now)
    .bind(expires_at)
    .run(conn)
    .await
}

#[async_trait]
impl<D: Dialect> AccountStore for SqlStore<D> {
    async fn end_sessions(&self, admin_id: i64) -> StoreResult<()> {
        Self::sql("update admin_users set session_version = session_version + 1 where id = $1")
            .bind(admin_id)
            .run(&mut *self.write_once().await?)
            .await
    }

    async fn count_admins(&self) -> StoreResult<i64> {
        Self::sql("select count(*) from admin_users").scalar(&mut *self.read().await?).await
    }

    async fn complete_setup(
        &self,
        setup_key: &str,
        token_hash: &str,
        admin: &NewAdminUser,
        audit: &NewAudit,
    ) -> AdminResult<Option<AdminUser>> {
        let mut tx = self.write().await?;
        let consumed = Self::sql("delete from settings where key = $1 and value = $2")
            .bind(setup_key)
            .bind(token_hash)
            .execute(&mut tx)
            .await?;
        if consumed == 0 {
            return Ok(None);
        }
        let existing: i64 = Self::sql("select count(*) from admin_users").scalar(&mut tx).await?;
        if existing > 0 {
            return Ok(None);
        }
        let user = insert_admin::<D>(&mut tx, admin).await?;
        insert_audit::<D>(&mut tx, &NewAudit { actor_id: Some(user.id), target_id: Some(user.id), ..audit.clone() })
            .await?;
        tx.commit().await?;
        Ok(Some(user))
    }

    async fn create_admin(&self, admin: &NewAdminUser, audit: Option<&NewAudit>) -> AdminResult<AdminUser> {
        let mut tx = self.write().await?;
        let user = insert_admin::<D>(&mut tx, admin).await?;
        if let Some(audit) = audit {
            insert_audit::<D>(&mut tx, &NewAudit { target_id: Some(user.id), ..audit.clone() }).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    async fn get_admin(&self, id: i64) -> StoreResult<Option<AdminUser>> {
        admin::<D>(&mut *self.read().await?, id).await
    }

    async fn find_credentials(&self, email: &str) -> StoreResult<Option<Credentials>> {
        let mut db = self.read().await?;
        let sql = format!("select {COLUMNS} from admin_users where lower(email) = lower($1)");
        let Some(user) = Self::sql(&sql).bind(email).fetch_optional::<AdminUser>(&mut db).await? else {
            return Ok(None);
        };
        let password_hash: String =
            Self::sql("select password_hash from admin_users where id = $1").bind(user.id).scalar(&mut db).await?;
        Ok(Some(Credentials { user, password_hash }))
    }

    async fn list_admins(&self, school_id: Option<SchoolId>, page: Page) -> StoreResult<Paged<AdminUser>> {
        let sql = format!("select {COLUMNS} from admin_users {SCHOOL_WHERE} order by id limit $2 offset $3");
        let count = format!("select count(*) from admin_users {SCHOOL_WHERE}");
        Self::paged(&mut *self.read().await?, &sql, &count, page, |q| q.bind(school_id)).await
    }

    async fn update_admin(&self, id: i64, patch: &AdminUserPatch, audit: Option<&NewAudit>) -> AdminResult<AdminUser> {
        let mut tx = self.write().await?;
        let current = lock_admin::<D>(&mut tx, id).await?;
        let demoted = matches!(patch.role, Some((AdminRole::SchoolAdmin, _)));
        let disabled = patch.disabled == Some(true);
        if current.role == AdminRole::SuperAdmin
            && (demoted || disabled)
            && other_super_admins::<D>(&mut tx, id).await? == 0
        {
            return Err(AdminError::Conflict {
                field: if demoted { "role" } else { "disabled" },
                message: "this is the last enabled super admin".into(),
            });
        }
        if let Some((_, Some(school))) = patch.role {
            check_school::<D>(&mut tx, school).await?;
        }
        let now = Utc::now();
        let sql = format!(
            "update admin_users set email = coalesce($2, email), password_hash = coalesce($3, password_hash),
                disabled = coalesce($4, disabled), role = coalesce($5, role),
                school_id = case when $5 is null then school_id else $6 end, updated_at = $7,
                session_version = session_version + $8
             where id = $1 returning {COLUMNS}"
        );
        let email = patch.email.clone().unwrap_or_default();
        // A new password, role or school, or disabling, ends the admin's sessions.
        let ends_sessions = patch.password_hash.is_some() || patch.role.is_some() || disabled;
        let user: AdminUser = Self::sql(&sql)
            .bind(id)
            .bind(&patch.email)
            .bind(&patch.password_hash)
            .bind(patch.disabled)
            .bind(patch.role.map(|(r, _)| r.as_str()))
            .bind(patch.role.and_then(|(_, s)| s))
            .bind(now)
            .bind(i64::from(ends_sessions))
            .fetch_one(&mut tx)
            .await
            .map_err(|e| conflict_on_unique(e, "email", email_taken(&email)))?;
        if ends_sessions {
            revoke_all::<D>(&mut tx, id, now).await?;
        }
        if let Some(audit) = audit {
            insert_audit::<D>(&mut tx, audit).await?;
        }
        tx.commit().await?;
        Ok(user)
    }

    async fn delete_admin(&self, id: i64, audit: &NewAudit) -> AdminResult<AdminUser> {
        let mut tx = self.write().await?;
        let current = lock_admin::<D>(&mut tx, id).await?;
        if current.role == AdminRole::SuperAdmin
            && !current.disabled
            && other_super_admins::<D>(&mut tx, id).await? == 0
        {
            return Err(AdminError::Conflict { field: "id", message: "this is the last enabled super admin".into() });
        }
        Self::sql("delete from admin_users where id = $1").bind(id).execute(&mut tx).await?;
        insert_audit::<D>(&mut tx, audit).await?;
        tx.commit().await?;
        Ok(current)
    }

    async fn record_login(&self, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
        Self::sql("update admin_users set last_login_at = $2 where id = $1")
            .bind(id)
            .bind(at)
            .run(&mut *self.write_once().await?)
            .await
    }

    async fn insert_refresh_token(
        &self,
        admin_id: i64,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        insert_token::<D>(&mut *self.write_once().await?, admin_id, token_hash, Utc::now(), expires_at).await
    }

    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        new_expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<RefreshOutcome> {
        let mut tx = self.write().await?;
        let sql = format!(
            "select id, admin_id, expires_at, revoked_at from refresh_tokens where token_hash = $1 {}",
            D::FOR_UPDATE
        );
        let row: Option<(i64, i64, DateTime<Utc>, Option<DateTime<Utc>>)> =
            Self::sql(&sql).bind(old_hash).fetch_optional(&mut tx).await?;
        let Some((token_id, admin_id, expires_at, revoked_at)) = row else {
            return Ok(RefreshOutcome::Invalid);
        };
        if revoked_at.is_some() {
            revoke_all::<D>(&mut tx, admin_id, now).await?;
            tx.commit().await?;
            return Ok(RefreshOutcome::Reused { admin_id });
        }
        let user = admin::<D>(&mut tx, admin_id).await?;
        let Some(user) = user.filter(|u| !u.disabled && expires_at > now) else {
            return Ok(RefreshOutcome::Invalid);
        };
        Self::sql("update refresh_tokens set revoked_at = $2 where id = $1")
            .bind(token_id)
            .bind(now)
            .execute(&mut tx)
            .await?;
        insert_token::<D>(&mut tx, admin_id, new_hash, now, new_expires_at).await?;
        tx.commit().await?;
        Ok(RefreshOutcome::Rotated(user))
    }

    async fn count_login_attempt(
        &self,
        limits: &LoginLimits,
        account: &str,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> StoreResult<Result<(), u64>> {
        super::login_counts::count(self, limits, account, address, now).await
    }

    async fn login_succeeded(&self, account: &str, address: Option<&str>) -> StoreResult<()> {
        super::login_counts::succeeded(self, account, address).await
    }

    async fn revoke_refresh_token(&self, token_hash: &str) -> StoreResult<bool> {
        let revoked =
            Self::sql("update refresh_tokens set revoked_at = $2 where token_hash = $1 and revoked_at is null")
                .bind(token_hash)
                .bind(Utc::now())
                .execute(&mut *self.write_once().await?)
                .await?;
        Ok(revoked > 0)
    }
}
