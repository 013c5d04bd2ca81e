//! The one SQL implementation of the storage traits, generic over the [`Dialect`] seam
//! (`SqlStore<Postgres>` and `SqlStore<Sqlite>`). Each concern lives in its own file and is
//! written once; only `postgres.rs` and `sqlite.rs` know which database they talk to.
//!
//! House rules for the shared SQL: `$N` placeholders; `now` bound from Rust; lists through
//! [`List`] and `D::in_list`, row sets through [`Rows`] and `D::rows`; every write inside a
//! [`WriteTx`] (`self.write()`), which records the [`StoreChange`]s other instances must hear,
//! or, for one statement that announces nothing, a [`WriteConn`] (`self.write_once()`); a list
//! page and its total through [`SqlStore::paged`], which binds the filter once for both.

mod arg;
mod dialect;
mod pool_watch;
mod postgres;
mod query;
mod rows;
mod sqlite;
mod write;

mod acc;
mod accounts;
mod attendance;
mod audit;
mod biometrics;
mod commands;
mod device_admin;
mod devices;
mod login_counts;
mod ops;
mod pull;
mod push_holdings;
mod retention;
mod roster;
mod settings;
mod students;
mod sync;
mod sync_evidence;
mod sync_status;
mod upload_group;
mod uploads;

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::Pool;
use tokio::sync::OnceCell;

pub use arg::{Json, JsonText, List};
pub use dialect::Dialect;
pub use query::Sql;
pub use rows::Rows;
pub use write::{WriteConn, WriteTx};

use arg::{Arg, Record};

use super::admin::{Page, Paged, SchoolScope};
use super::instances::{ChangeHook, ChangeHub, JobLock};
use super::{Store, StoreResult};

/// A pool on one database and what the backend keeps beside it.
pub struct SqlStore<D: Dialect> {
    pool: Pool<D>,
    acquires: pool_watch::AcquireWatch,
    state: D::State,
    hub: Arc<ChangeHub>,
    /// Whether other instances' changes reach the hub (set once the listener runs).
    listening: OnceCell<bool>,
}

impl<D: Dialect> SqlStore<D> {
    /// Connects and applies pending migrations.
    pub async fn open(url: &str, max_connections: u32) -> StoreResult<Self> {
        let (pool, state) = D::open(url, max_connections).await?;
        Ok(Self { pool, acquires: Default::default(), state, hub: Arc::default(), listening: OnceCell::new() })
    }

    /// A pooled connection for reads (no lock; SQLite readers never wait for the writer).
    async fn read(&self) -> StoreResult<PoolConnection<D>> {
        self.acquire().await
    }

    /// A write transaction: the SQLite writer lock, then `BEGIN`.
    async fn write(&self) -> StoreResult<WriteTx<D>> {
        let writer = D::writer(&self.state).await;
        let tx = sqlx::Transaction::begin(self.acquire().await?, None).await?;
        Ok(WriteTx::new(tx, self.hub.clone(), writer))
    }

    /// A connection for one autocommit write that announces nothing (see [`WriteConn`]).
    async fn write_once(&self) -> StoreResult<WriteConn<D>> {
        let writer = D::writer(&self.state).await;
        Ok(WriteConn::new(self.acquire().await?, writer))
    }

    /// A pooled connection; slow waits are summarised (see [`pool_watch`]).
    async fn acquire(&self) -> StoreResult<PoolConnection<D>> {
        let started = std::time::Instant::now();
        let conn = self.pool.acquire().await;
        self.acquires.observe(started.elapsed(), self.pool.options().get_max_connections());
        Ok(conn?)
    }

    /// Shorthand for a statement of this backend.
    fn sql(text: &str) -> Sql<'_, D> {
        Sql::new(text)
    }

    /// The row `sql` reads or writes by id (`$1`) within `scope` (`$2`, NULL for every school).
    async fn in_scope<'q, T: Record>(
        conn: &mut D::Connection,
        sql: &'q str,
        id: impl Arg<'q>,
        scope: SchoolScope,
    ) -> StoreResult<Option<T>> {
        Self::sql(sql).bind(id).bind(scope.school_id()).fetch_optional(conn).await
    }

    /// One page of a filtered list and the number of rows the filter matches. `items` and `count`
    /// share the filter's parameters, which `filter` binds for both; `items` takes `limit` and
    /// `offset` in the two parameters after them.
    async fn paged<'q, T: Record>(
        conn: &mut D::Connection,
        items: &'q str,
        count: &'q str,
        page: Page,
        filter: impl Fn(Sql<'q, D>) -> Sql<'q, D> + Send,
    ) -> StoreResult<Paged<T>> {
        let items = filter(Sql::new(items)).bind(page.limit).bind(page.offset).fetch_all(&mut *conn).await?;
        let total = filter(Sql::new(count)).scalar(conn).await?;
        Ok(Paged { items, total })
    }
}

#[async_trait]
impl<D: Dialect> Store for SqlStore<D> {
    fn backend(&self) -> &'static str {
        D::BACKEND
    }

    async fn subscribe(&self, hook: ChangeHook) -> StoreResult<bool> {
        self.hub.add(hook);
        let listening = self.listening.get_or_try_init(|| D::listen(&self.pool, self.hub.clone())).await?;
        Ok(*listening)
    }

    async fn try_job_lock(&self, key: i64) -> StoreResult<Option<Box<dyn JobLock>>> {
        D::try_job_lock(&self.pool, &self.state, key).await
    }
}
