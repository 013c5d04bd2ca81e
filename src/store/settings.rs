//! `SettingStore`: small key/value settings kept in the database (setup token hash, server-wide
//! preferences). Secrets that protect the data are never kept here.

use async_trait::async_trait;

use super::instances::StoreChange;
use super::StoreResult;

#[async_trait]
pub trait SettingStore: Send + Sync {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>>;
    /// Stores `value` unless the key exists; returns the value now stored (first writer wins).
    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String>;
    /// Stores `value` under `key`, replacing what was there.
    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Stores `value` under `key` (replacing what was there) and announces `change` through the
    /// notify path in the same transaction (other instances hear it once it is committed).
    async fn put_setting_announced(&self, key: &str, value: &str, change: StoreChange) -> StoreResult<()>;
    /// Replaces the value of `key` only while it is still `old`; whether it did.
    async fn replace_setting(&self, key: &str, old: &str, new: &str) -> StoreResult<bool>;
    /// Removes `key`; whether it was there.
    async fn delete_setting(&self, key: &str) -> StoreResult<bool>;
    /// Every (key, value) whose key starts with `prefix` (no `%` or `_` in it), by key.
    async fn settings_with_prefix(&self, prefix: &str) -> StoreResult<Vec<(String, String)>>;
}
