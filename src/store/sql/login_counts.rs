//! The login throttle's counts (`login_counts`), shared by every instance on one database.
//! Each attempt reads and writes its account's and its address's rows in one transaction under
//! a row lock (PostgreSQL: the row is made to exist, then `FOR UPDATE`; SQLite: the writer lock),
//! so parallel attempts are counted one after another, on every instance. Rows are always
//! locked account first, then address: two attempts never wait for each other in a cycle.

use chrono::{DateTime, Utc};

use super::{Dialect, SqlStore};
use crate::domain::login_limits::{count_attempt, LoginCount, LoginLimits};
use crate::store::StoreResult;

type Row = (i32, DateTime<Utc>, DateTime<Utc>, Option<DateTime<Utc>>);

async fn locked<D: Dialect>(
    conn: &mut D::Connection,
    kind: &str,
    key: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<LoginCount>> {
    // A row of 0 attempts stands for "none yet": it exists so that it can be locked.
    SqlStore::<D>::sql(
        "insert into login_counts (kind, key, attempts, started_at, last_at) values ($1, $2, 0, $3, $3)
         on conflict (kind, key) do nothing",
    )
    .bind(kind)
    .bind(key)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let sql = format!(
        "select attempts, started_at, last_at, blocked_until from login_counts where kind = $1 and key = $2 {}",
        D::FOR_UPDATE
    );
    let row: Option<Row> = SqlStore::<D>::sql(&sql).bind(kind).bind(key).fetch_optional(&mut *conn).await?;
    Ok(row.filter(|r| r.0 > 0).map(|(attempts, started, last, blocked_until)| LoginCount {
        attempts: u32::try_from(attempts).unwrap_or(0),
        started,
        last,
        blocked_until,
    }))
}

async fn save<D: Dialect>(conn: &mut D::Connection, kind: &str, key: &str, c: &LoginCount) -> StoreResult<()> {
    SqlStore::<D>::sql(
        "update login_counts set attempts = $3, started_at = $4, last_at = $5, blocked_until = $6
         where kind = $1 and key = $2",
    )
    .bind(kind)
    .bind(key)
    .bind(i32::try_from(c.attempts).unwrap_or(i32::MAX))
    .bind(c.started)
    .bind(c.last)
    .bind(c.blocked_until)
    .execute(conn)
    .await?;
    Ok(())
}

/// See [`crate::store::admin::AccountStore::count_login_attempt`].
pub(super) async fn count<D: Dialect>(
    store: &SqlStore<D>,
    limits: &LoginLimits,
    account: &str,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<Result<(), u64>> {
    let mut tx = store.write().await?;
    let held = locked::<D>(&mut tx, "account", account, now).await?;
    let at = match address {
        Some(key) => Some(locked::<D>(&mut tx, "address", key, now).await?),
        None => None,
    };
    match count_attempt(limits, held, at, now) {
        Err(wait) => {
            tx.commit().await?;
            Ok(Err(wait))
        }
        Ok((account_count, address_count)) => {
            save::<D>(&mut tx, "account", account, &account_count).await?;
            if let (Some(key), Some(c)) = (address, address_count) {
                save::<D>(&mut tx, "address", key, &c).await?;
            }
            tx.commit().await?;
            Ok(Ok(()))
        }
    }
}

/// See [`crate::store::admin::AccountStore::login_succeeded`].
pub(super) async fn succeeded<D: Dialect>(
    store: &SqlStore<D>,
    account: &str,
    address: Option<&str>,
) -> StoreResult<()> {
    let mut tx = store.write().await?;
    SqlStore::<D>::sql("delete from login_counts where kind = 'account' and key = $1")
        .bind(account)
        .execute(&mut tx)
        .await?;
    if let Some(key) = address {
        SqlStore::<D>::sql(
            "update login_counts set attempts = attempts - 1 where kind = 'address' and key = $1 and attempts > 0",
        )
        .bind(key)
        .execute(&mut tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
