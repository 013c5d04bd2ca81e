//! [`WriteTx`]: the only way shared store code writes. It holds the SQLite writer lock (none on
//! PostgreSQL) for its whole life, collects the [`StoreChange`]s of what it wrote, and announces
//! them on commit through the one notify path (see `store::instances`).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::Transaction;
use tokio::sync::OwnedMutexGuard;

use super::dialect::Dialect;
use crate::store::instances::{ChangeHub, StoreChange};
use crate::store::StoreResult;

pub struct WriteTx<D: Dialect> {
    // Field order is drop order: the transaction ends (rolls back) before the writer lock is freed.
    tx: Transaction<'static, D>,
    changes: Vec<StoreChange>,
    hub: Arc<ChangeHub>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl<D: Dialect> WriteTx<D> {
    pub(super) fn new(tx: Transaction<'static, D>, hub: Arc<ChangeHub>, writer: Option<OwnedMutexGuard<()>>) -> Self {
        Self { tx, changes: Vec::new(), hub, _writer: writer }
    }

    /// Records that this transaction changed something other instances cache.
    pub fn changed(&mut self, change: StoreChange) {
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }

    /// Commits, then tells this instance's hooks; other instances hear the NOTIFY sent inside
    /// the transaction (so they hear nothing when it fails).
    pub async fn commit(mut self) -> StoreResult<()> {
        if !self.changes.is_empty() {
            D::notify(&mut self.tx, &self.changes).await?;
        }
        let Self { tx, changes, hub, _writer } = self;
        tx.commit().await?;
        drop(_writer);
        hub.publish(&changes);
        Ok(())
    }
}

impl<D: Dialect> Deref for WriteTx<D> {
    type Target = D::Connection;
    fn deref(&self) -> &D::Connection {
        &self.tx
    }
}

impl<D: Dialect> DerefMut for WriteTx<D> {
    fn deref_mut(&mut self) -> &mut D::Connection {
        &mut self.tx
    }
}

/// A pooled connection with the SQLite writer lock, for ONE autocommit statement that other
/// instances need not hear about (one round trip on PostgreSQL instead of three).
pub struct WriteConn<D: Dialect> {
    conn: sqlx::pool::PoolConnection<D>,
    _writer: Option<OwnedMutexGuard<()>>,
}

impl<D: Dialect> WriteConn<D> {
    pub(super) fn new(conn: sqlx::pool::PoolConnection<D>, writer: Option<OwnedMutexGuard<()>>) -> Self {
        Self { conn, _writer: writer }
    }
}

impl<D: Dialect> Deref for WriteConn<D> {
    type Target = D::Connection;
    fn deref(&self) -> &D::Connection {
        &self.conn
    }
}

impl<D: Dialect> DerefMut for WriteConn<D> {
    fn deref_mut(&mut self) -> &mut D::Connection {
        &mut self.conn
    }
}
