//! [`Sql`]: one statement with its bound parameters, run on either backend.
//!
//! Shared SQL uses `$N` placeholders (both sqlx drivers accept them), binds `now` from Rust
//! (never `now()`), and spells the few things that differ through the [`Dialect`].

use sqlx::error::BoxDynError;
use sqlx::query::Query;
use sqlx::{Database, IntoArguments};

use super::arg::{Arg, Col, Record};
use super::dialect::Dialect;
use super::rows::Rows;
use crate::store::StoreResult;

/// A statement and its parameters. Binding errors are kept and returned when it runs.
pub struct Sql<'q, D: Dialect> {
    pub(super) text: &'q str,
    pub(super) args: <D as Database>::Arguments<'q>,
    pub(super) error: Option<BoxDynError>,
}

impl<'q, D: Dialect> Sql<'q, D> {
    pub fn new(text: &'q str) -> Self {
        Self { text, args: Default::default(), error: None }
    }

    /// Binds the next parameter.
    pub fn bind(mut self, value: impl Arg<'q>) -> Self {
        if self.error.is_none() {
            if let Err(e) = D::add(&mut self.args, value) {
                self.error = Some(e);
            }
        }
        self
    }

    /// Binds a row set: [`Rows::params`] parameters, read with `Dialect::rows`.
    pub fn bind_rows(mut self, rows: &Rows) -> Self {
        if self.error.is_none() {
            if let Err(e) = D::add_rows(&mut self.args, rows) {
                self.error = Some(e);
            }
        }
        self
    }

    /// The text and arguments, or the first binding error (reported as sqlx reports its own).
    pub(super) fn into_parts(self) -> sqlx::Result<(&'q str, <D as Database>::Arguments<'q>)> {
        match self.error {
            Some(e) => Err(sqlx::Error::Encode(e)),
            None => Ok((self.text, self.args)),
        }
    }

    /// The statement as sqlx runs it on any backend, or the first binding error.
    fn query(self) -> sqlx::Result<Query<'q, D, Args<'q, D>>> {
        let (text, args) = self.into_parts()?;
        Ok(sqlx::query_with(text, Args(args)))
    }

    /// Runs the statement; returns the rows it changed.
    pub async fn execute(self, conn: &mut D::Connection) -> StoreResult<u64> {
        Ok(D::rows_affected(self.query()?.execute(D::executor(conn)).await?))
    }

    /// Runs a statement whose count of changed rows does not matter.
    pub async fn run(self, conn: &mut D::Connection) -> StoreResult<()> {
        self.execute(conn).await.map(drop)
    }

    pub async fn fetch_all<T: Record>(self, conn: &mut D::Connection) -> StoreResult<Vec<T>> {
        Ok(self.query()?.try_map(D::decode).fetch_all(D::executor(conn)).await?)
    }

    pub async fn fetch_optional<T: Record>(self, conn: &mut D::Connection) -> StoreResult<Option<T>> {
        Ok(self.query()?.try_map(D::decode).fetch_optional(D::executor(conn)).await?)
    }

    /// The one row the statement returns (an error when there is none).
    pub async fn fetch_one<T: Record>(self, conn: &mut D::Connection) -> StoreResult<T> {
        self.fetch_optional(conn).await?.ok_or_else(|| sqlx::Error::RowNotFound.into())
    }

    /// The first column of the one row the statement returns.
    pub async fn scalar<T: Col>(self, conn: &mut D::Connection) -> StoreResult<T> {
        Ok(self.fetch_one::<(T,)>(conn).await?.0)
    }

    /// The first column of the first row, if any.
    pub async fn scalar_optional<T: Col>(self, conn: &mut D::Connection) -> StoreResult<Option<T>> {
        Ok(self.fetch_optional::<(T,)>(conn).await?.map(|r| r.0))
    }

    /// The first column of every row.
    pub async fn scalars<T: Col>(self, conn: &mut D::Connection) -> StoreResult<Vec<T>> {
        Ok(self.fetch_all::<(T,)>(conn).await?.into_iter().map(|r| r.0).collect())
    }
}

/// A statement's arguments as sqlx takes them on any backend (sqlx implements `IntoArguments` for
/// each driver's own type only, which generic code cannot name).
struct Args<'q, D: Database>(<D as Database>::Arguments<'q>);

impl<'q, D: Database> IntoArguments<'q, D> for Args<'q, D> {
    fn into_arguments(self) -> <D as Database>::Arguments<'q> {
        self.0
    }
}
