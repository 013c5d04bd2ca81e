//! PostgreSQL side of the seam: the production backend, safe for several `ironclock serve`
//! instances (row locks, `SKIP LOCKED`, advisory job locks, `LISTEN/NOTIFY`).

use std::str::FromStr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPoolOptions, PgQueryResult, PgRow};
use sqlx::{Arguments, Executor, FromRow, Pool, Postgres};
use tokio::sync::OwnedMutexGuard;

use super::arg::{Arg, Record};
use super::dialect::Dialect;
use super::query::Sql;
use super::rows::{Column, Rows};
use crate::store::instances::{ChangeHub, JobLock, StoreChange};
use crate::store::StoreResult;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The one NOTIFY channel; payloads are [`StoreChange::encode`]d, several joined by `,`.
pub const CHANGES_CHANNEL: &str = "ironclock_changes";
/// NOTIFY payloads are limited to 8000 bytes; stay well below.
const PAYLOAD_BYTES: usize = 4000;

impl Dialect for Postgres {
    const BACKEND: &'static str = "postgres";
    const FOR_UPDATE: &'static str = "for update";
    const SKIP_LOCKED: &'static str = "for update skip locked";
    const RELAX: &'static str = "relax as (select set_config('synchronous_commit', 'off', true) as relaxed)";
    const BACKUP_INTO: Result<&'static str, &'static str> =
        Err("PostgreSQL is backed up with its own tools, from a machine that can reach the database: \
         pg_dump --format=custom --file=ironclock.dump \"$IRONCLOCK_DATABASE_URL\" \
         (restore: pg_restore --clean --if-exists --no-owner --dbname=\"$IRONCLOCK_DATABASE_URL\" ironclock.dump)");
    type State = ();

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    /// `max_connections` 0 means [`pool_size`]'s default.
    async fn open(url: &str, max_connections: u32) -> StoreResult<(Pool<Self>, ())> {
        let options = PgConnectOptions::from_str(url)?.application_name("ironclock");
        let pool = PgPoolOptions::new()
            .max_connections(pool_size(max_connections))
            .acquire_timeout(Duration::from_secs(10))
            // One warning per slow acquire floods the log under load: `pool_watch` summarises.
            .acquire_slow_level(log::LevelFilter::Off)
            .connect_with(options)
            .await?;
        // Concurrent instances serialise on sqlx's migration lock.
        MIGRATOR.run(&pool).await?;
        Ok((pool, ()))
    }

    async fn writer(_: &()) -> Option<OwnedMutexGuard<()>> {
        None
    }

    fn add<'q>(args: &mut PgArguments, value: impl Arg<'q>) -> Result<(), BoxDynError> {
        value.add_pg(args)
    }

    fn add_rows(args: &mut PgArguments, rows: &Rows) -> Result<(), BoxDynError> {
        for (_, column) in &rows.columns {
            match column {
                Column::Int(v) => args.add(v.clone())?,
                Column::BigInt(v) => args.add(v.clone())?,
                Column::Text(v) => args.add(v.clone())?,
                Column::Time(v) => args.add(v.clone())?,
                Column::Flag(v) => args.add(v.clone())?,
                Column::Bytes(v) => args.add(v.clone())?,
            }
        }
        Ok(())
    }

    fn executor(conn: &mut PgConnection) -> impl Executor<'_, Database = Self> {
        conn
    }

    fn decode<T: Record>(row: PgRow) -> sqlx::Result<T> {
        FromRow::from_row(&row)
    }

    fn rows_affected(done: PgQueryResult) -> u64 {
        done.rows_affected()
    }

    fn in_list(expr: &str, param: usize) -> String {
        format!("{expr} = any(${param})")
    }

    fn rows(rows: &Rows, first: usize, alias: &str) -> String {
        let arrays: Vec<String> = rows
            .columns
            .iter()
            .enumerate()
            .map(|(i, (_, c))| format!("${}::{}", first + i, c.pg_array_type()))
            .collect();
        let names: Vec<&str> = rows.names().collect();
        format!("unnest({}) as {alias}({})", arrays.join(", "), names.join(", "))
    }

    fn greatest(a: &str, b: &str) -> String {
        format!("greatest({a}, {b})")
    }

    fn next_ids(table: &str) -> String {
        format!("select nextval(pg_get_serial_sequence('{table}', 'id')) from generate_series(1, $1)")
    }

    fn json_merge(target: &str, param: usize) -> String {
        format!("{target} || ${param}")
    }

    fn json_from_text(expr: &str) -> String {
        format!("cast({expr} as jsonb)")
    }

    async fn chain<'e, 'q: 'e>(
        head: Sql<'q, Self>,
        tails: &'e [&'e str],
        conn: &'e mut PgConnection,
    ) -> StoreResult<(i64, Vec<u64>)> {
        let (head_text, args) = head.into_parts()?;
        let mut text = format!("with head as ({head_text})");
        for (i, tail) in tails.iter().enumerate() {
            text.push_str(&format!(", t{i} as ({} returning 1)", tail.replace("{head}", "(select id from head)")));
        }
        text.push_str(" select (select id from head)");
        for i in 0..tails.len() {
            text.push_str(&format!(", (select count(*) from t{i})"));
        }
        let row: sqlx::postgres::PgRow = sqlx::query_with(&text, args).fetch_one(conn).await?;
        use sqlx::Row;
        let id: i64 = row.try_get(0)?;
        let counts =
            (0..tails.len()).map(|i| row.try_get::<i64, _>(i + 1).map(|n| n as u64)).collect::<Result<_, _>>()?;
        Ok((id, counts))
    }

    async fn serialise<'e>(conn: &'e mut PgConnection, name: &'e str) -> StoreResult<()> {
        sqlx::query("select pg_advisory_xact_lock(hashtext($1))").bind(name).execute(conn).await?;
        Ok(())
    }

    async fn notify<'e>(conn: &'e mut PgConnection, changes: &'e [StoreChange]) -> StoreResult<()> {
        let mut payload = String::new();
        for change in changes {
            let item = change.encode();
            if !payload.is_empty() && payload.len() + item.len() + 1 > PAYLOAD_BYTES {
                send(conn, &payload).await?;
                payload.clear();
            }
            if !payload.is_empty() {
                payload.push(',');
            }
            payload.push_str(&item);
        }
        if !payload.is_empty() {
            send(conn, &payload).await?;
        }
        Ok(())
    }

    async fn listen(pool: &Pool<Self>, hub: Arc<ChangeHub>) -> StoreResult<bool> {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(CHANGES_CHANNEL).await?;
        tokio::spawn(forward(listener, Arc::downgrade(&hub)));
        Ok(true)
    }

    async fn try_job_lock(pool: &Pool<Self>, _: &(), key: i64) -> StoreResult<Option<Box<dyn JobLock>>> {
        // Session-level advisory lock on a connection of its own, held until released.
        let mut conn = pool.acquire().await?;
        let got: bool = sqlx::query_scalar("select pg_try_advisory_lock($1)").bind(key).fetch_one(&mut *conn).await?;
        Ok(got.then(|| Box::new(PgJobLock { conn: Some(conn), key }) as Box<dyn JobLock>))
    }
}

async fn send(conn: &mut PgConnection, payload: &str) -> StoreResult<()> {
    sqlx::query("select pg_notify($1, $2)").bind(CHANGES_CHANNEL).bind(payload).execute(conn).await?;
    Ok(())
}

/// Delivers notifications to the hub until the store (and its hub) is gone. A lost connection
/// is announced as `Resync` (sqlx reconnects on the next receive; what came in between is lost).
async fn forward(mut listener: sqlx::postgres::PgListener, hub: Weak<ChangeHub>) {
    loop {
        let changes = match listener.try_recv().await {
            Ok(Some(n)) => n.payload().split(',').filter_map(StoreChange::decode).collect(),
            Ok(None) => vec![StoreChange::Resync],
            Err(e) => {
                tracing::warn!(error = %e, "lost the PostgreSQL notification connection; reconnecting");
                tokio::time::sleep(Duration::from_secs(1)).await;
                vec![StoreChange::Resync]
            }
        };
        let Some(hub) = hub.upgrade() else { return };
        hub.publish(&changes);
    }
}

struct PgJobLock {
    conn: Option<sqlx::pool::PoolConnection<Postgres>>,
    key: i64,
}

#[async_trait]
impl JobLock for PgJobLock {
    async fn release(mut self: Box<Self>) {
        if let Some(mut conn) = self.conn.take() {
            if let Err(e) = sqlx::query("select pg_advisory_unlock($1)").bind(self.key).execute(&mut *conn).await {
                // Closing the session frees the lock anyway.
                tracing::warn!(error = %e, "advisory unlock failed; closing the connection instead");
                let _ = conn.close().await;
            }
        }
    }
}

impl Drop for PgJobLock {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Not released: detach so the session (and the lock) ends instead of going back to the pool.
            drop(conn.detach());
        }
    }
}

/// The PostgreSQL pool size: `requested`, or by default 4 connections per core, at least 8 and at
/// most 64 (the database does the work; more connections than it has cores only queue there, a
/// few more than cores overlap the waits for fsync and the network).
fn pool_size(requested: u32) -> u32 {
    if requested > 0 {
        return requested.max(2);
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    (cores * 4).clamp(8, 64)
}
