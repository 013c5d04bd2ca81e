//! SQLite side of the seam: the zero-setup embedded default (`sqlite://ironclock.db`).
//!
//! WAL journal, foreign keys on, `synchronous=FULL` (an acknowledged punch survives a power cut,
//! not only a process crash). Writers are serialised by one async mutex instead of SQLite's
//! busy-retry loop: SQLite has one writer anyway, and queueing is fairer than spinning. One
//! serving process owns a file, so job locks are in-process mutexes (one per key) and change
//! notifications are the process's own hooks.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::error::BoxDynError;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Arguments, Connection, Executor, FromRow, Pool, Sqlite};
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::arg::{Arg, Record};
use super::dialect::Dialect;
use super::query::Sql;
use super::rows::Rows;
use crate::store::instances::{ChangeHub, JobLock, StoreChange};
use crate::store::StoreResult;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// The writer lock and the job locks of one database file.
#[derive(Default)]
pub struct SqliteState {
    writer: Arc<Mutex<()>>,
    jobs: StdMutex<HashMap<i64, Arc<Mutex<()>>>>,
}

impl Dialect for Sqlite {
    const BACKEND: &'static str = "sqlite";
    const FOR_UPDATE: &'static str = "";
    const SKIP_LOCKED: &'static str = "";
    const RELAX: &'static str = "relax as (select 1 as relaxed)";
    const BACKUP_INTO: Result<&'static str, &'static str> = Ok("vacuum into $1");
    type State = SqliteState;

    fn migrator() -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    async fn open(url: &str, _max_connections: u32) -> StoreResult<(Pool<Self>, SqliteState)> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(30));
        // 8 connections: readers run beside the one writer (WAL); more would only wait for it.
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_slow_level(log::LevelFilter::Off)
            // After a write fails on a full disk (SQLITE_FULL), SQLite may keep the transaction
            // open (it decides per error: "Response To Errors Within A Transaction"), e.g. a failed
            // RELEASE of a savepoint chain. A connection returned inside it would hold the write
            // lock while idle and every later write would time out as "database is locked" (the
            // full-disk drill in tests/server/ops/disk_full.rs). So every connection goes back
            // to the pool outside any transaction; on one that is not in one this is a no-op
            // error, microseconds in-process.
            .after_release(|conn, _| {
                Box::pin(async move {
                    let _ = conn.execute("rollback").await;
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok((pool, SqliteState::default()))
    }

    async fn writer(state: &SqliteState) -> Option<OwnedMutexGuard<()>> {
        Some(state.writer.clone().lock_owned().await)
    }

    fn add<'q>(args: &mut SqliteArguments<'q>, value: impl Arg<'q>) -> Result<(), BoxDynError> {
        value.add_sqlite(args)
    }

    fn add_rows<'q>(args: &mut SqliteArguments<'q>, rows: &Rows) -> Result<(), BoxDynError> {
        args.add(rows.to_json_rows())?;
        for _ in 1..rows.params() {
            args.add(None::<i64>)?;
        }
        Ok(())
    }

    fn executor(conn: &mut SqliteConnection) -> impl Executor<'_, Database = Self> {
        conn
    }

    fn decode<T: Record>(row: SqliteRow) -> sqlx::Result<T> {
        FromRow::from_row(&row)
    }

    fn rows_affected(done: SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    fn in_list(expr: &str, param: usize) -> String {
        format!("{expr} in (select value from json_each(${param}))")
    }

    fn rows(rows: &Rows, first: usize, alias: &str) -> String {
        let cells: Vec<String> = rows
            .names()
            .enumerate()
            .map(|(i, name)| match rows.is_bytes(i) {
                true => format!("unhex(value ->> {i}) as {name}"),
                false => format!("value ->> {i} as {name}"),
            })
            .collect();
        format!("(select {} from json_each(${first})) as {alias}", cells.join(", "))
    }

    fn greatest(a: &str, b: &str) -> String {
        // SQLite's two-argument max() is NULL when either is NULL; PostgreSQL's greatest() is not.
        format!("coalesce(max({a}, {b}), {a}, {b})")
    }

    fn next_ids(table: &str) -> String {
        // AUTOINCREMENT keeps the highest id ever used in sqlite_sequence: counting on from it
        // (not from max(id)) never hands out the id of a deleted row again.
        format!(
            "with recursive s(i) as (select 1 union all select i + 1 from s where i < $1)
             select i + max(coalesce((select seq from sqlite_sequence where name = '{table}'), 0),
                            coalesce((select max(id) from {table}), 0)) from s"
        )
    }

    fn json_merge(target: &str, param: usize) -> String {
        format!("json_patch({target}, ${param})")
    }

    fn json_from_text(expr: &str) -> String {
        format!("json({expr})")
    }

    async fn chain<'e, 'q: 'e>(
        head: Sql<'q, Self>,
        tails: &'e [&'e str],
        conn: &'e mut SqliteConnection,
    ) -> StoreResult<(i64, Vec<u64>)> {
        let (head_text, args) = head.into_parts()?;
        // The statements commit together, as PostgreSQL's one statement does: a transaction of
        // their own, or a savepoint when the caller already holds one.
        let mut tx = conn.begin().await?;
        let (id,): (i64,) = sqlx::query_as_with(head_text, args.clone()).fetch_one(&mut *tx).await?;
        let mut counts = Vec::with_capacity(tails.len());
        for tail in tails {
            // The id is an integer the database just returned: safe to write into the text.
            let text = tail.replace("{head}", &id.to_string());
            counts.push(sqlx::query_with(&text, args.clone()).execute(&mut *tx).await?.rows_affected());
        }
        tx.commit().await?;
        Ok((id, counts))
    }

    async fn serialise<'e>(_: &'e mut SqliteConnection, _: &'e str) -> StoreResult<()> {
        Ok(())
    }

    async fn notify<'e>(_: &'e mut SqliteConnection, _: &'e [StoreChange]) -> StoreResult<()> {
        Ok(())
    }

    async fn listen(_: &Pool<Self>, _: Arc<ChangeHub>) -> StoreResult<bool> {
        Ok(false)
    }

    async fn try_job_lock(_: &Pool<Self>, state: &SqliteState, key: i64) -> StoreResult<Option<Box<dyn JobLock>>> {
        let lock = match state.jobs.lock() {
            Ok(mut jobs) => jobs.entry(key).or_default().clone(),
            Err(_) => return Ok(None),
        };
        Ok(lock.try_lock_owned().ok().map(|guard| Box::new(SqliteJobLock(guard)) as Box<dyn JobLock>))
    }
}

/// Holds one key's mutex until released or dropped.
struct SqliteJobLock(#[allow(dead_code)] OwnedMutexGuard<()>);

#[async_trait]
impl JobLock for SqliteJobLock {
    async fn release(self: Box<Self>) {}
}
