//! [`Sql`]: one statement with its bound parameters, run on either backend.
//!
//! Shared SQL uses `$N` placeholders (both sqlx drivers accept them), binds `now` from Rust
//! (never `now()`), and spells the few things that differ through the [`Dialect`].

use sqlx::error::BoxDynError;
use sqlx::Database;

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

    /// Runs the statement; returns the rows it changed.
    pub async fn execute(self, conn: &mut D::Connection) -> StoreResult<u64> {
        Ok(D::execute(self, conn).await?)
    }

    pub async fn fetch_all<T: Record>(self, conn: &mut D::Connection) -> StoreResult<Vec<T>> {
        Ok(D::fetch_all(self, conn).await?)
    }

    pub async fn fetch_optional<T: Record>(self, conn: &mut D::Connection) -> StoreResult<Option<T>> {
        Ok(D::fetch_optional(self, conn).await?)
    }

    /// The one row the statement returns (an error when there is none).
    pub async fn fetch_one<T: Record>(self, conn: &mut D::Connection) -> StoreResult<T> {
        D::fetch_optional(self, conn).await?.ok_or_else(|| sqlx::Error::RowNotFound.into())
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
