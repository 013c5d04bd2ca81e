//! `AccStore`: what the access-control (acc, push 3.x) dialect needs kept beyond the att tables:
//! the device's stable registration (RegistryCode, SessionID), its dialect as last detected, and
//! the packets of `DATA QUERY` answers until their set is complete.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::{DeviceId, Dialect};

/// One `POST /iclock/querydata` packet (`cmdid`, `packidx` of `packcnt`), body sealed.
#[derive(Debug, Clone)]
pub struct QueryPacket {
    pub cmd_id: i64,
    /// 1-based.
    pub pack_idx: i32,
    pub pack_cnt: i32,
    pub tablename: String,
    pub sealed_body: Vec<u8>,
}

#[async_trait]
pub trait AccStore: Send + Sync {
    /// The device's `(RegistryCode, SessionID)`: the stored ones, or `code`/`session` stored now
    /// when it has none yet (first registration; two racing registrations agree on the first).
    async fn acc_registration(&self, device: DeviceId, code: &str, session: &str) -> StoreResult<(String, String)>;
    /// Records the dialect the device just showed. When it differs from the stored one, the
    /// change is announced (instances drop their cached copy) and `Some(previous)` returned.
    async fn set_dialect(&self, device: DeviceId, dialect: Dialect) -> StoreResult<Option<Dialect>>;
    /// Forgets every verb learned as unsupported on the device (after a dialect change the old
    /// dialect's refusals say nothing about the new one). Returns how many were forgotten.
    async fn forget_unsupported(&self, device: DeviceId) -> StoreResult<u64>;
    /// Keeps one packet (a re-sent packet replaces its copy) and returns the whole set's bodies
    /// in `packidx` order once all `packcnt` packets are in, deleting them; `None` while some
    /// are missing. The device's packets older than a day (answers never completed nor acked)
    /// are dropped on the way.
    async fn add_query_packet(
        &self,
        device: DeviceId,
        packet: &QueryPacket,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<Vec<u8>>>>;
    /// Drops the packets kept for a command and returns how many there were (an incomplete set
    /// when the command is answered or given up).
    async fn drop_query_packets(&self, device: DeviceId, cmd_id: i64) -> StoreResult<u64>;
}
