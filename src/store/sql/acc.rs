//! `AccStore` over the dialect seam: registration codes, the detected dialect, query packets.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Dialect, SqlStore};
use crate::domain::{DeviceId, Dialect as PushDialect};
use crate::store::acc::{AccStore, QueryPacket};
use crate::store::{StoreChange, StoreResult};

#[async_trait]
impl<D: Dialect> AccStore for SqlStore<D> {
    async fn acc_registration(&self, device: DeviceId, code: &str, session: &str) -> StoreResult<(String, String)> {
        let mut tx = self.write().await?;
        let fresh = Self::sql(
            "update devices set registry_code = $2, session_id = coalesce(session_id, $3)
             where id = $1 and registry_code is null",
        )
        .bind(device.0)
        .bind(code)
        .bind(session)
        .execute(&mut tx)
        .await?;
        let pair: (Option<String>, Option<String>) =
            Self::sql("select registry_code, session_id from devices where id = $1")
                .bind(device.0)
                .fetch_one(&mut tx)
                .await?;
        if fresh > 0 {
            tx.changed(StoreChange::Device(device));
        }
        tx.commit().await?;
        Ok((pair.0.unwrap_or_else(|| code.to_owned()), pair.1.unwrap_or_else(|| session.to_owned())))
    }

    async fn set_dialect(&self, device: DeviceId, dialect: PushDialect) -> StoreResult<Option<PushDialect>> {
        let mut tx = self.write().await?;
        let previous: Option<String> =
            Self::sql("select dialect from devices where id = $1").bind(device.0).scalar_optional(&mut tx).await?;
        let Some(previous) = previous.as_deref().and_then(PushDialect::parse) else { return Ok(None) };
        if previous == dialect {
            return Ok(None);
        }
        Self::sql("update devices set dialect = $2 where id = $1")
            .bind(device.0)
            .bind(dialect.as_str())
            .run(&mut tx)
            .await?;
        tx.changed(StoreChange::Device(device));
        tx.commit().await?;
        Ok(Some(previous))
    }

    async fn forget_unsupported(&self, device: DeviceId) -> StoreResult<u64> {
        Self::sql("delete from device_capabilities where device_id = $1 and not supported")
            .bind(device.0)
            .execute(&mut *self.write_once().await?)
            .await
    }

    async fn add_query_packet(
        &self,
        device: DeviceId,
        p: &QueryPacket,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Vec<Vec<u8>>>> {
        let mut tx = self.write().await?;
        // Packets of answers that never completed and were never acked (the command failed on
        // its ack timeout instead) go after a day: they can no longer complete anything.
        Self::sql("delete from acc_query_packets where device_id = $1 and received_at < $2")
            .bind(device.0)
            .bind(now - chrono::Duration::days(1))
            .run(&mut tx)
            .await?;
        Self::sql(
            "insert into acc_query_packets (device_id, cmd_id, pack_idx, pack_cnt, tablename, body, received_at)
             values ($1, $2, $3, $4, $5, $6, $7)
             on conflict (device_id, cmd_id, pack_idx) do update set pack_cnt = excluded.pack_cnt,
                tablename = excluded.tablename, body = excluded.body, received_at = excluded.received_at",
        )
        .bind(device.0)
        .bind(p.cmd_id)
        .bind(p.pack_idx)
        .bind(p.pack_cnt)
        .bind(&p.tablename)
        .bind(&p.sealed_body)
        .bind(now)
        .run(&mut tx)
        .await?;
        // Packets numbered 1..=packcnt of this command; stray numbers never complete a set.
        let bodies: Vec<(i32, Vec<u8>)> = Self::sql(
            "select pack_idx, body from acc_query_packets
             where device_id = $1 and cmd_id = $2 and pack_idx between 1 and $3 order by pack_idx",
        )
        .bind(device.0)
        .bind(p.cmd_id)
        .bind(p.pack_cnt)
        .fetch_all(&mut tx)
        .await?;
        if bodies.len() < p.pack_cnt.max(1) as usize {
            tx.commit().await?;
            return Ok(None);
        }
        Self::sql("delete from acc_query_packets where device_id = $1 and cmd_id = $2")
            .bind(device.0)
            .bind(p.cmd_id)
            .run(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(Some(bodies.into_iter().map(|(_, body)| body).collect()))
    }

    async fn drop_query_packets(&self, device: DeviceId, cmd_id: i64) -> StoreResult<u64> {
        Self::sql("delete from acc_query_packets where device_id = $1 and cmd_id = $2")
            .bind(device.0)
            .bind(cmd_id)
            .execute(&mut *self.write_once().await?)
            .await
    }
}
