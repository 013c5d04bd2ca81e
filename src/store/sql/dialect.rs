//! The dialect seam: everything that really differs between PostgreSQL and SQLite, and nothing
//! else. Shared store code is written once against it (`SqlStore<D: Dialect>`).
//!
//! What differs:
//! - binding values ([`super::arg::Arg`]), decoding rows and running statements (the driver types);
//! - lists and row sets: arrays with `= any`/`unnest` vs JSON with `json_each`;
//! - statement chains: data-modifying CTEs (one round trip) vs statements in order;
//! - locking: row locks and `SKIP LOCKED` vs the one SQLite writer (an in-process mutex);
//! - instance coordination: `LISTEN/NOTIFY` and advisory locks vs in-process hooks and mutexes;
//! - a few spellings (`greatest` vs `max`, `||` vs `json_patch` on JSON objects).

use std::future::Future;
use std::sync::Arc;

use sqlx::error::BoxDynError;
use sqlx::{Database, Executor, Pool};
use tokio::sync::OwnedMutexGuard;

use super::arg::{Arg, Record};
use super::query::Sql;
use super::rows::Rows;
use crate::store::instances::{ChangeHub, JobLock, StoreChange};
use crate::store::StoreResult;

pub trait Dialect: Database + Sized {
    /// `postgres` or `sqlite`.
    const BACKEND: &'static str;
    /// Appended to a `select` that reads rows it will change: `for update` on PostgreSQL; SQLite
    /// has one writer and needs nothing.
    const FOR_UPDATE: &'static str;
    /// Appended to a `select` that claims a row another instance may be serving: `for update
    /// skip locked` on PostgreSQL (the loser sees no row); nothing on SQLite.
    const SKIP_LOCKED: &'static str;
    /// A `with` item named `relax` (one row) that a one-statement write joins to commit without
    /// waiting for its own flush to disk: PostgreSQL sets `synchronous_commit = off` for the
    /// statement's transaction (`set_config(…, true)`, read at its commit); SQLite has no such
    /// setting and selects a constant. For facts a device tells again (see `devices.rs`).
    const RELAX: &'static str;

    /// A statement writing a consistent copy of the live database to the file named by `$1`
    /// (SQLite: `VACUUM INTO`); where the server cannot, the tool to use instead.
    const BACKUP_INTO: Result<&'static str, &'static str>;

    /// The migrations this build applies (readiness compares the database with them).
    fn migrator() -> &'static sqlx::migrate::Migrator;

    /// Backend state kept beside the pool (SQLite: the writer lock and job locks).
    type State: Send + Sync + 'static;

    /// Opens the pool and applies pending migrations.
    fn open(url: &str, max_connections: u32) -> impl Future<Output = StoreResult<(Pool<Self>, Self::State)>> + Send;

    /// Serialises writers where the database has one writer (SQLite); `None` where it has row locks.
    fn writer(state: &Self::State) -> impl Future<Output = Option<OwnedMutexGuard<()>>> + Send;

    fn add<'q>(args: &mut <Self as Database>::Arguments<'q>, value: impl Arg<'q>) -> Result<(), BoxDynError>;
    fn add_rows<'q>(args: &mut <Self as Database>::Arguments<'q>, rows: &Rows) -> Result<(), BoxDynError>;

    /// What generic code cannot name, so that statements run through one body (`query.rs`): the
    /// connection as a driver executor, a row decoded as a [`Record`], and the rows a statement changed.
    fn executor(conn: &mut Self::Connection) -> impl Executor<'_, Database = Self>;
    fn decode<T: Record>(row: Self::Row) -> sqlx::Result<T>;
    fn rows_affected(done: Self::QueryResult) -> u64;

    /// A condition that `expr` is in the list bound (as [`super::arg::List`]) at `$param`.
    fn in_list(expr: &str, param: usize) -> String;
    /// A `from` item named `alias` over the row set bound at `$first` (see [`Rows`]).
    fn rows(rows: &Rows, first: usize, alias: &str) -> String;
    /// The larger of two expressions (NULL when both are NULL, the other when one is).
    fn greatest(a: &str, b: &str) -> String;
    /// `target` (a JSON object column) with the keys of the object bound at `$param` set.
    fn json_merge(target: &str, param: usize) -> String;
    /// A JSON document from an expression holding its text (a text column of a [`Rows`] set).
    fn json_from_text(expr: &str) -> String;
    /// A query returning `$1` fresh ids for `table`'s `id` column, to insert rows with ids known
    /// beforehand (a group of uploads and the rows that point at them, in one statement per
    /// table). PostgreSQL draws them from the column's sequence; SQLite counts on from the
    /// highest id ever used, which holds only inside the write transaction that inserts them
    /// (its one writer). `table` is a name from the code, never input.
    fn next_ids(table: &str) -> String;

    /// A head statement that returns one `id`, and statements that use it (written `{head}`),
    /// all sharing one parameter list, committed together: PostgreSQL runs them as ONE statement
    /// of data-modifying CTEs; SQLite runs them in order in a transaction (a savepoint inside the
    /// caller's). Returns the id and the rows each tail statement wrote, one count per tail.
    fn chain<'e, 'q: 'e>(
        head: Sql<'q, Self>,
        tails: &'e [&'e str],
        conn: &'e mut Self::Connection,
    ) -> impl Future<Output = StoreResult<(i64, Vec<u64>)>> + Send + 'e;

    /// Serialises transactions that check-then-write across rows (e.g. "is this the last super
    /// admin?") on `name` until the transaction ends: a transaction-scoped advisory lock on
    /// PostgreSQL; nothing on SQLite, whose writer lock already serialises every write.
    fn serialise<'e>(
        conn: &'e mut Self::Connection,
        name: &'e str,
    ) -> impl Future<Output = StoreResult<()>> + Send + 'e;

    /// Announces `changes` to other instances, delivered only if the transaction commits.
    fn notify<'e>(
        conn: &'e mut Self::Connection,
        changes: &'e [StoreChange],
    ) -> impl Future<Output = StoreResult<()>> + Send + 'e;
    /// Starts delivering other instances' changes to `hub`; `false` when there are none to hear.
    fn listen(pool: &Pool<Self>, hub: Arc<ChangeHub>) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Takes the instance-wide lock `key` unless another instance (or task) holds it.
    fn try_job_lock(
        pool: &Pool<Self>,
        state: &Self::State,
        key: i64,
    ) -> impl Future<Output = StoreResult<Option<Box<dyn JobLock>>>> + Send;
}
