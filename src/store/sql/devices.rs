//! Devices as the device side meets them: registration, handshake facts, options, coalesced
//! last-seen. None of these writes changes what other instances cache (approval, school, zone…),
//! so none announces a change; admin changes are in `device_admin.rs`.
//!
//! Each is ONE statement, and each commits without waiting for its own flush (`Dialect::RELAX`):
//! the device tells these facts again on its next contact, and the WAL is written in order, so
//! any later ordinary commit (the punches that need the device row) flushes them too; nothing
//! acknowledged can depend on a fact a crash lost. Under a burst of first contacts (every
//! device of a district reconnecting) each handshake thus costs a few round trips and no fsync
//! wait, and the pool stays free for the uploads.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;

use super::{Dialect, Json, List, Rows, SqlStore};
use crate::domain::{Device, DeviceId, DeviceSeen, Dialect as PushDialect, HandshakeFacts, NewDevice};
use crate::store::types::LiftedOptions;
use crate::store::{DeviceStore, StoreError, StoreResult};

const DEVICE_COLUMNS: &str = "id, serial_number, name, school_id, area_id, mode, approval, dialect, pushver,
    push_version, firmware, platform, language, timezone, attlog_stamp, operlog_stamp, attphoto_stamp, biodata_stamp,
    errorlog_stamp, idcard_stamp, first_seen_at, last_seen_at, last_ip, pinned_ip, pin_prefix, path_token_hash,
    registry_code, session_id";

/// Devices whose last-seen time one statement writes at most.
const TOUCH_CHUNK: usize = 500;

/// The device with this serial number.
async fn by_serial<D: Dialect>(conn: &mut D::Connection, serial: &str) -> StoreResult<Option<Device>> {
    let sql = format!("select {DEVICE_COLUMNS} from devices where serial_number = $1");
    SqlStore::<D>::sql(&sql).bind(serial).fetch_optional(conn).await
}

#[async_trait]
impl<D: Dialect> DeviceStore for SqlStore<D> {
    async fn find_device(&self, serial: &str) -> StoreResult<Option<Device>> {
        by_serial::<D>(&mut *self.read().await?, serial).await
    }

    async fn find_devices(&self, serials: &[String]) -> StoreResult<Vec<Device>> {
        if serials.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("select {DEVICE_COLUMNS} from devices where {}", D::in_list("serial_number", 1));
        Self::sql(&sql).bind(List::of(serials)).fetch_all(&mut *self.read().await?).await
    }

    async fn get_device(&self, id: DeviceId) -> StoreResult<Option<Device>> {
        let sql = format!("select {DEVICE_COLUMNS} from devices where id = $1");
        Self::sql(&sql).bind(id.0).fetch_optional(&mut *self.read().await?).await
    }

    async fn list_devices(&self) -> StoreResult<Vec<Device>> {
        let sql = format!("select {DEVICE_COLUMNS} from devices order by id");
        Self::sql(&sql).fetch_all(&mut *self.read().await?).await
    }

    async fn register_device(&self, d: &NewDevice) -> StoreResult<Device> {
        let mut rows = self.register_devices(std::slice::from_ref(d)).await?;
        rows.pop().ok_or_else(|| StoreError::Conflict(format!("device {} was not registered", d.serial_number)))
    }

    async fn register_devices(&self, devices: &[NewDevice]) -> StoreResult<Vec<Device>> {
        insert_devices::<D>(&mut *self.write_once().await?, devices).await
    }

    async fn register_pending_devices(
        &self,
        devices: &[NewDevice],
        max_pending: i64,
    ) -> StoreResult<(Vec<Device>, Vec<String>)> {
        let mut tx = self.write().await?;
        D::serialise(&mut tx, "device registrations").await?;
        let serials: Vec<String> = devices.iter().map(|d| d.serial_number.clone()).collect();
        // Serials already known take no place (another instance registered them meanwhile).
        let sql = format!("select serial_number from devices where {}", D::in_list("serial_number", 1));
        let known: Vec<(String,)> = Self::sql(&sql).bind(List::of(&serials)).fetch_all(&mut tx).await?;
        let known: HashSet<String> = known.into_iter().map(|(s,)| s).collect();
        let pending: i64 = Self::sql("select count(*) from devices where approval = 'pending'").scalar(&mut tx).await?;
        let mut room = usize::try_from((max_pending - pending).max(0)).unwrap_or(usize::MAX);
        let (mut admitted, mut refused) = (Vec::new(), Vec::new());
        let mut seen = HashSet::new();
        for d in devices {
            if !seen.insert(d.serial_number.as_str()) {
                continue;
            }
            if known.contains(&d.serial_number) {
                admitted.push(d.clone());
            } else if room > 0 {
                room -= 1;
                admitted.push(d.clone());
            } else {
                refused.push(d.serial_number.clone());
            }
        }
        let registered = insert_devices::<D>(&mut tx, &admitted).await?;
        tx.commit().await?;
        Ok((registered, refused))
    }

    async fn bytes_kept(&self, id: DeviceId) -> StoreResult<i64> {
        // `length` of a blob/bytea is its size in bytes on both backends; options are JSON text.
        Self::sql(
            "select coalesce((select sum(length(body)) from device_messages where device_id = $1), 0)
                  + coalesce((select length(cast(options as text)) from devices where id = $1), 0)",
        )
        .bind(id.0)
        .scalar(&mut *self.read().await?)
        .await
    }

    async fn record_handshake(&self, id: DeviceId, facts: &HandshakeFacts) -> StoreResult<Option<Device>> {
        Ok(self.record_handshakes(&[(id, facts.clone())]).await?.pop())
    }

    async fn record_handshakes(&self, facts: &[(DeviceId, HandshakeFacts)]) -> StoreResult<Vec<Device>> {
        // One entry per device (its last facts), sorted by id so that two instances writing at
        // once lock rows in the same order.
        let last: BTreeMap<DeviceId, &HandshakeFacts> = facts.iter().map(|(id, f)| (*id, f)).collect();
        if last.is_empty() {
            return Ok(Vec::new());
        }
        let rows = Rows::new()
            .bigint("h_id", last.keys().map(|id| id.0))
            .text("h_pushver", last.values().map(|f| f.pushver.as_deref()))
            .text("h_language", last.values().map(|f| f.language.as_deref()))
            .text("h_type", last.values().map(|f| f.device_type.as_deref()))
            .text("h_dialect", last.values().map(|f| f.dialect.map(PushDialect::as_str)));
        let sql = format!(
            "with {} update devices set pushver = coalesce(h_pushver, pushver), language = coalesce(h_language, language),
                    device_type = coalesce(h_type, device_type), dialect = coalesce(h_dialect, dialect)
             from relax, {} where id = h_id
             returning {DEVICE_COLUMNS}",
            D::RELAX,
            D::rows(&rows, 1, "h")
        );
        Self::sql(&sql).bind_rows(&rows).fetch_all(&mut *self.write_once().await?).await
    }

    async fn merge_device_options(&self, id: DeviceId, options: &[(String, String)]) -> StoreResult<()> {
        let lifted = LiftedOptions::from_pairs(options);
        let sql = format!(
            "with {} update devices set options = {},
                    firmware = coalesce($3, firmware), platform = coalesce($4, platform),
                    push_version = coalesce($5, push_version),
                    name = case when approval = 'approved' then coalesce(name, $6) else name end
             from relax where id = $1",
            D::RELAX,
            D::json_merge("options", 2)
        );
        Self::sql(&sql)
            .bind(id.0)
            .bind(Json(&lifted.json))
            .bind(&lifted.firmware)
            .bind(&lifted.platform)
            .bind(&lifted.push_version)
            .bind(&lifted.device_name)
            .run(&mut *self.write_once().await?)
            .await
    }

    async fn save_poll_infos(&self, infos: &[(DeviceId, serde_json::Value)]) -> StoreResult<()> {
        // The last value of a device given twice wins; sorted by id, in chunks (see touch_devices).
        let last: BTreeMap<DeviceId, String> = infos.iter().map(|(id, v)| (*id, v.to_string())).collect();
        let last: Vec<(DeviceId, String)> = last.into_iter().collect();
        let mut db = self.write_once().await?;
        for chunk in last.chunks(TOUCH_CHUNK) {
            let rows = Rows::new()
                .bigint("i_id", chunk.iter().map(|(id, _)| id.0))
                .text("i_info", chunk.iter().map(|(_, v)| v.as_str()));
            let sql = format!(
                "with {} update devices set poll_info = {} from relax, {} where id = i_id",
                D::RELAX,
                D::json_from_text("i_info"),
                D::rows(&rows, 1, "i")
            );
            Self::sql(&sql).bind_rows(&rows).run(&mut *db).await?;
        }
        Ok(())
    }

    async fn touch_devices(&self, seen: &[DeviceSeen]) -> StoreResult<()> {
        if seen.is_empty() {
            return Ok(());
        }
        // Sorted by id so that two instances flushing at once lock rows in the same order; in
        // chunks, each its own statement, so that no device row stays locked while thousands of
        // others are written (a handshake or an admin change of that device would wait for it).
        let mut seen = seen.to_vec();
        seen.sort_by_key(|s| s.id);
        let mut db = self.write_once().await?;
        for chunk in seen.chunks(TOUCH_CHUNK) {
            let rows = Rows::new()
                .bigint("id", chunk.iter().map(|s| s.id.0))
                .time("at", chunk.iter().map(|s| s.at))
                .text("ip", chunk.iter().map(|s| s.ip.as_deref()));
            let sql = format!(
                "with {} update devices as d set last_seen_at = {}, last_ip = coalesce(v.ip, d.last_ip)
                 from relax, {} where d.id = v.id",
                D::RELAX,
                D::greatest("d.last_seen_at", "v.at"),
                D::rows(&rows, 1, "v")
            );
            Self::sql(&sql).bind_rows(&rows).run(&mut *db).await?;
        }
        Ok(())
    }
}

/// Inserts new serials (one row per distinct serial; a serial that exists comes back as it is).
async fn insert_devices<D: Dialect>(conn: &mut D::Connection, devices: &[NewDevice]) -> StoreResult<Vec<Device>> {
    // PostgreSQL refuses to touch one row twice in a statement: one entry per serial.
    let mut seen = HashSet::new();
    let devices: Vec<&NewDevice> = devices.iter().filter(|d| seen.insert(d.serial_number.as_str())).collect();
    if devices.is_empty() {
        return Ok(Vec::new());
    }
    let rows = Rows::new()
        .text("r_serial", devices.iter().map(|d| d.serial_number.as_str()))
        .text("r_approval", devices.iter().map(|d| d.approval.as_str()))
        .text("r_dialect", devices.iter().map(|d| d.dialect.as_str()))
        .text("r_pushver", devices.iter().map(|d| d.pushver.as_deref()))
        .text("r_language", devices.iter().map(|d| d.language.as_deref()))
        .text("r_ip", devices.iter().map(|d| d.last_ip.as_deref()))
        .time("r_at", devices.iter().map(|d| d.seen_at));
    // One statement; a serial that exists already (two first contacts at once, or another
    // instance) comes back as it is: the no-op update only makes `returning` return it.
    let sql = format!(
        "with {} insert into devices (serial_number, approval, dialect, pushver, language, last_ip, first_seen_at,
                  last_seen_at, approved_at)
         select r_serial, r_approval, r_dialect, r_pushver, r_language, r_ip, r_at, r_at,
            case when r_approval = 'approved' then r_at end
         from relax, {} where true
         on conflict (serial_number) do update set serial_number = excluded.serial_number
         returning {DEVICE_COLUMNS}",
        D::RELAX,
        D::rows(&rows, 1, "r")
    );
    SqlStore::<D>::sql(&sql).bind_rows(&rows).fetch_all(conn).await
}
