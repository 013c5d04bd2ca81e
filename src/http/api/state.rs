//! `ApiState`: what the admin API keeps for the life of the server (keys, the login limiter,
//! the one-time setup token while no admin exists). Built once in `Application::build`.

use anyhow::Context;

use super::auth::password::hash_password;
use super::auth::tokens::{hash_token, new_token};
use super::auth::{AuthKeys, LoginLimiter, LoginLimits};
use crate::config::ServeArgs;
use crate::store::DynStore;

/// The settings key holding the SHA-256 of the current setup token.
pub const SETUP_TOKEN_SETTING: &str = "setup_token_sha256";

pub struct ApiState {
    pub keys: AuthKeys,
    pub limiter: LoginLimiter,
    /// A hash of a random password, verified when a login names an unknown email, so that
    /// unknown and known emails cost the same time.
    pub dummy_hash: String,
    setup_token: Option<String>,
}

impl ApiState {
    /// Resolves the JWT secret and, while no admin exists, issues a one-time setup token.
    pub async fn build(args: &ServeArgs, store: &DynStore) -> anyhow::Result<Self> {
        let keys = AuthKeys::resolve(args, store).await?;
        let dummy_hash = hash_password(&new_token()).map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        let setup_token = if store.count_admins().await? == 0 {
            let token = new_token();
            // Each start replaces the token: the link logged last (by any instance) is the one that works.
            store.put_setting(SETUP_TOKEN_SETTING, &hash_token(&token)).await.context("storing the setup token")?;
            // `Application::build` logs the link once it knows the address it listens on.
            Some(token)
        } else {
            None
        };
        Ok(Self { keys, limiter: LoginLimiter::new(LoginLimits::default()), dummy_hash, setup_token })
    }

    /// The setup token issued at start (when there was no admin); it may since have been used.
    pub fn setup_token(&self) -> Option<&str> {
        self.setup_token.as_deref()
    }
}
