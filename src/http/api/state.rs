//! `ApiState`: what the admin API keeps for the life of the server (keys, the login limits,
//! the one-time setup token while no admin exists). Built once in `Application::build`.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;

use super::auth::password::hash_password;
use super::auth::tokens::{hash_token, new_token};
use super::auth::AuthKeys;
use crate::config::ServeArgs;
use crate::crypto::DataCipher;
use crate::domain::login_limits::LoginLimits;
use crate::store::{DynStore, StoreResult};

/// The settings key holding the SHA-256 of the current setup token.
pub const SETUP_TOKEN_SETTING: &str = "setup_token_sha256";

pub struct ApiState {
    pub keys: AuthKeys,
    /// The login throttle's limits (its counts are in the database: `login_counts`).
    pub login_limits: LoginLimits,
    /// A hash of a random password, verified when a login names an unknown email, so that
    /// unknown and known emails cost the same time.
    pub dummy_hash: String,
    setup_token: Option<String>,
    /// Set once an admin is known to exist: setup then answers at once, without a query.
    setup_closed: AtomicBool,
    /// One setup at a time, so a burst of setup requests hashes one password at a time.
    pub setup_turn: tokio::sync::Mutex<()>,
}

impl ApiState {
    /// Resolves the JWT secret (derived from the data key unless configured) and, while no admin
    /// exists, issues a one-time setup token.
    pub async fn build(args: &ServeArgs, store: &DynStore, cipher: &DataCipher) -> anyhow::Result<Self> {
        let keys = AuthKeys::resolve(args, store, cipher).await?;
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
        Ok(Self {
            keys,
            login_limits: LoginLimits::default(),
            dummy_hash,
            setup_closed: AtomicBool::new(setup_token.is_none()),
            setup_token,
            setup_turn: tokio::sync::Mutex::new(()),
        })
    }

    /// Whether first-run setup is over (an admin exists). Once true it stays true without
    /// asking the database again (the last super admin cannot be deleted).
    pub async fn setup_closed(&self, store: &DynStore) -> StoreResult<bool> {
        if self.setup_closed.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let closed = store.count_admins().await? > 0;
        if closed {
            self.setup_closed.store(true, Ordering::Relaxed);
        }
        Ok(closed)
    }

    /// The setup token issued at start (when there was no admin); it may since have been used.
    pub fn setup_token(&self) -> Option<&str> {
        self.setup_token.as_deref()
    }
}
