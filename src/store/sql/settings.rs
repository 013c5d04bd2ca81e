//! Key/value settings.

use async_trait::async_trait;
use chrono::Utc;

use super::{Dialect, SqlStore};
use crate::store::instances::StoreChange;
use crate::store::{SettingStore, StoreResult};

/// Sets `$1` to `$2`, stamped `$3`.
const UPSERT: &str = "insert into settings (key, value, updated_at) values ($1, $2, $3)
     on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at";

#[async_trait]
impl<D: Dialect> SettingStore for SqlStore<D> {
    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        Self::sql("select value from settings where key = $1").bind(key).scalar_optional(&mut *self.read().await?).await
    }

    async fn init_setting(&self, key: &str, value: &str) -> StoreResult<String> {
        let mut tx = self.write().await?;
        Self::sql("insert into settings (key, value, updated_at) values ($1, $2, $3) on conflict (key) do nothing")
            .bind(key)
            .bind(value)
            .bind(Utc::now())
            .execute(&mut tx)
            .await?;
        let stored = Self::sql("select value from settings where key = $1").bind(key).scalar(&mut tx).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        Self::sql(UPSERT).bind(key).bind(value).bind(Utc::now()).run(&mut *self.write_once().await?).await
    }

    async fn put_setting_announced(&self, key: &str, value: &str, change: StoreChange) -> StoreResult<()> {
        let mut tx = self.write().await?;
        Self::sql(UPSERT).bind(key).bind(value).bind(Utc::now()).execute(&mut tx).await?;
        tx.changed(change);
        tx.commit().await
    }

    async fn replace_setting(&self, key: &str, old: &str, new: &str) -> StoreResult<bool> {
        let changed = Self::sql("update settings set value = $1, updated_at = $2 where key = $3 and value = $4")
            .bind(new)
            .bind(Utc::now())
            .bind(key)
            .bind(old)
            .execute(&mut *self.write_once().await?)
            .await?;
        Ok(changed > 0)
    }

    async fn delete_setting(&self, key: &str) -> StoreResult<bool> {
        let deleted =
            Self::sql("delete from settings where key = $1").bind(key).execute(&mut *self.write_once().await?).await?;
        Ok(deleted > 0)
    }

    async fn settings_with_prefix(&self, prefix: &str) -> StoreResult<Vec<(String, String)>> {
        let pattern = format!("{prefix}%");
        let rows: Vec<(String, String)> = Self::sql("select key, value from settings where key like $1 order by key")
            .bind(pattern)
            .fetch_all(&mut *self.read().await?)
            .await?;
        Ok(rows)
    }
}
