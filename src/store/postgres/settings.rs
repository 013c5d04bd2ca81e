//! Key/value settings (e.g. the generated JWT secret).

use sqlx::PgPool;

use crate::store::StoreResult;

pub async fn get(pool: &PgPool, key: &str) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar("select value from settings where key = $1").bind(key).fetch_optional(pool).await?)
}

pub async fn init(pool: &PgPool, key: &str, value: &str) -> StoreResult<String> {
    sqlx::query("insert into settings (key, value) values ($1, $2) on conflict (key) do nothing")
        .bind(key)
        .bind(value)
        .execute(pool)
        .await?;
    Ok(sqlx::query_scalar("select value from settings where key = $1").bind(key).fetch_one(pool).await?)
}
